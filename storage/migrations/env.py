"""Alembic environment: runs on the connection `storage.engine.migrate` hands in."""

from alembic import context

from storage.models import include_in_comparison, metadata

include_name = include_in_comparison


connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=metadata,
    render_as_batch=connection.dialect.name == "sqlite",  # SQLite alters tables by copy
    compare_type=True,
    include_name=include_name,
)
with context.begin_transaction():
    context.run_migrations()
