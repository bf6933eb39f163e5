"""The operations every face shares — the CLI, the web pages and the scheduler
call these and never re-implement them.

- `sync`: sync a set of channels, re-classify;
- `channels`: the channel overview (state, last run, next run, counts);
- `tags`: the office's manual 清单 tags;
- `search`: one query string plus filters, to the contract's JSON shape;
- `stats`: counts by month/channel/group/category/item/type over a period;
- `report`: 清单 coverage, the statistics workbook, the annual report draft;
- `export`: every post as JSON lines, CSV or XLSX.

Each module is imported by name (`from aggregator.services.stats import …`),
so a face loads only what its command needs.
"""
