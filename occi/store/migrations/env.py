"""Alembic environment of the OCCI store.

It only runs online, on the connection that :meth:`occi.store.sql.SqlStore.migrate`
passes in ``config.attributes`` (so the product needs no alembic.ini and migrates in
the same transaction that holds its migration lock). ``schema`` (PostgreSQL) selects
the schema the tables and the version table live in; ``version_table`` keeps our
revision apart from those of other packages sharing the database.
"""
from __future__ import annotations

from alembic import context
from sqlalchemy.schema import CreateSchema

__all__: list[str] = []

config = context.config
connection = config.attributes.get("connection")
if connection is None or context.is_offline_mode():
    raise RuntimeError("the OCCI store migrates online only, through SqlStore.migrate()")

schema = config.attributes.get("schema")
if schema is not None and connection.dialect.name == "postgresql":
    connection.execute(CreateSchema(schema, if_not_exists=True))
    connection.exec_driver_sql(f"SET search_path TO {connection.dialect.identifier_preparer.quote(schema)}")

context.configure(
    connection=connection,
    target_metadata=None,
    version_table=config.attributes.get("version_table", "occi_alembic_version"),
    version_table_schema=schema,
    render_as_batch=True,        # ALTERs in later revisions must also work on SQLite
)
with context.begin_transaction():
    context.run_migrations()
