"""The pipeline: what a connector yields → normalised → classified → stored, one channel at a time.

`sync_channel` runs one channel's connector into the store; `normalize` holds
the pure functions (post key, clean text, content hash). Setting up a whole
sync of several channels is the `aggregator.services.sync` operation.
"""

from aggregator.pipeline.sync import (
    BATCH_SIZE,
    Progress,
    ProgressFn,
    RequestCounter,
    RunResult,
    make_http_client,
    sync_channel,
)

__all__ = ["BATCH_SIZE", "Progress", "ProgressFn", "RequestCounter", "RunResult", "make_http_client", "sync_channel"]
