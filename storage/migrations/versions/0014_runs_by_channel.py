"""Each channel's runs in id order, for the scheduler's tick: the last finished run and the
failures since the last success are then read from the end of each channel's runs, whatever
the number of runs stored. Before it, a tick ranked every stored run (an hour of 2,000 channels
on a five-minute cron is 24,000 runs; a year of hourly syncs, 17 million). The runs still marked
running (a killed process's, closed by whoever reads the channels) get an index of their own.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_sync_runs_channel_id", "sync_runs", ["channel_id", "id"])
    running = sa.text("status = 'running'")
    op.create_index("ix_sync_runs_running", "sync_runs", ["channel_id"], sqlite_where=running,
                    postgresql_where=running)


def downgrade() -> None:
    op.drop_index("ix_sync_runs_running", table_name="sync_runs")
    op.drop_index("ix_sync_runs_channel_id", table_name="sync_runs")
