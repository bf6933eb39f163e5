"""xxgk-aggregator: the pipeline, 清单 taxonomy, statistics, CLI and web."""

__version__ = "0.1.0"
