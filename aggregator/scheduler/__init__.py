"""The scheduler service (issue: `xxgk serve` / `xxgk worker`) — not built yet; this is its room.

What goes here: one periodic tick that picks the channels due by their cron
`schedule` (Asia/Shanghai) and runs `aggregator.services.sync` for each, one
writer per channel (a lease the store holds), health states and alerts, and
the monthly export on the 1st (`aggregator.services.report.export_month`).
It is a face like the CLI and the web: it calls services; no core module imports it.
"""
