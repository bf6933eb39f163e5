"""Alembic environment: runs on the connection `storage.engine.migrate` hands in."""

from alembic import context

from storage.models import metadata
from storage.search import is_search_table


def include_name(name, type_, parent_names):  # type: ignore[no-untyped-def]
    """The search index's tables are made by hand-written SQL, not by the models."""
    return not (type_ == "table" and is_search_table(name))


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
