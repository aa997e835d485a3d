"""The initial OCCI store schema.

Revision ID: 0001
Revises:
Create Date: 2025-01-01

Tables only (CREATE TABLE / CREATE INDEX), which SQLite runs as is; later revisions
that alter a table use ``op.batch_alter_table``. Types and names are spelled out here
rather than imported from :mod:`occi.store.sql`, so this revision never changes.
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

__all__ = ["upgrade", "downgrade"]

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

SEQ = sa.BigInteger().with_variant(sa.Integer(), "sqlite")   # SQLite: INTEGER PRIMARY KEY (the rowid)


def _timestamp(name: str) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now())


def _entity_fk() -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(["entity_seq"], ["occi_entity.seq"], ondelete="CASCADE")


def upgrade() -> None:
    op.create_table(
        "occi_entity",
        sa.Column("seq", SEQ, primary_key=True, autoincrement=True),
        sa.Column("location", sa.Text(), nullable=False),
        sa.Column("id", sa.Text(), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("owner", sa.Text()),
        sa.Column("version", sa.Integer(), nullable=False, server_default="1"),
        sa.Column("source", sa.Text()),
        sa.Column("target", sa.Text()),
        sa.Column("source_kind", sa.Text()),
        sa.Column("target_kind", sa.Text()),
        sa.Column("mixins", sa.Text(), nullable=False, server_default=""),   # space-separated type ids
        sa.Column("attributes", sa.Text(), nullable=False, server_default="{}"),
        _timestamp("created_at"),
        _timestamp("updated_at"),
        sa.UniqueConstraint("location", name="uq_occi_entity_location"),
        sa.UniqueConstraint("id", name="uq_occi_entity_id"),
    )
    # (column, seq): a filtered listing comes out of the index already in insertion order.
    op.create_index("ix_occi_entity_kind", "occi_entity", ["kind", "seq"])
    op.create_index("ix_occi_entity_owner", "occi_entity", ["owner", "seq"])
    # Partial: only links have a source and a target, so creating a resource skips these.
    for column in ("source", "target"):
        present = sa.text(f"{column} IS NOT NULL")
        op.create_index(f"ix_occi_entity_{column}", "occi_entity", [column],
                        sqlite_where=present, postgresql_where=present)

    op.create_table(
        "occi_entity_mixin",
        sa.Column("entity_seq", SEQ, nullable=False),
        sa.Column("mixin", sa.Text(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("entity_seq", "mixin", name="pk_occi_entity_mixin"),
        _entity_fk(),
        sqlite_with_rowid=False,      # the primary key is the table: one b-tree less to write
    )
    op.create_index("ix_occi_entity_mixin_mixin", "occi_entity_mixin", ["mixin", "entity_seq"])

    op.create_table(
        "occi_attribute_index",
        sa.Column("entity_seq", SEQ, nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("entity_seq", "name", name="pk_occi_attribute_index"),
        _entity_fk(),
        sqlite_with_rowid=False,
    )
    # entity_seq included: the filter is answered from the index alone.
    op.create_index("ix_occi_attribute_index_name_value", "occi_attribute_index",
                    ["name", "value", "entity_seq"])

    op.create_table(
        "occi_user_mixin",
        sa.Column("type_id", sa.Text(), primary_key=True),
        sa.Column("scheme", sa.Text(), nullable=False),
        sa.Column("term", sa.Text(), nullable=False),
        sa.Column("location", sa.Text(), nullable=False),
        sa.Column("title", sa.Text(), nullable=False, server_default=""),
        sa.Column("depends", sa.Text(), nullable=False, server_default="[]"),
        sa.Column("applies", sa.Text(), nullable=False, server_default="[]"),
        sa.Column("owner", sa.Text()),
        sa.UniqueConstraint("location", name="uq_occi_user_mixin_location"),
    )

    meta = op.create_table(
        "occi_meta",
        sa.Column("key", sa.Text(), primary_key=True),
        sa.Column("value", sa.Text(), nullable=False),
    )
    op.bulk_insert(meta, [{"key": "model_generation", "value": "0"}])


def downgrade() -> None:
    for table in ("occi_meta", "occi_user_mixin", "occi_attribute_index", "occi_entity_mixin", "occi_entity"):
        op.drop_table(table)
