"""The scheduler service behind `xxgk serve` and `xxgk worker` (`service.Scheduler`).

One periodic tick picks the channels due by their cron `schedule`
(Asia/Shanghai) or their backoff and runs `aggregator.services.sync` for each
under its lease (one writer per channel); the monthly export on the 1st; the
weekly digest. It is a face like the CLI and the web: it calls services; no
core module imports it.
"""
