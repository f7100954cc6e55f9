"""a station's own data: import batches and staged rows, source keys on the
event tables, the station's vocabulary, and columns wide enough for real names

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02 13:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

# (table, column, old type, new type, nullable): real exports carry long names.
WIDER = (
    ("communities", "code", sa.String(32), sa.String(64), False),
    ("communities", "name", sa.String(64), sa.String(128), False),
    ("grids", "code", sa.String(32), sa.String(64), False),
    ("grids", "name", sa.String(64), sa.String(128), False),
    ("departments", "name", sa.String(64), sa.String(128), False),
    ("departments", "kind", sa.String(32), sa.String(64), False),
    ("reports", "place", sa.String(128), sa.String(256), False),
    ("reports", "category", sa.String(16), sa.String(80), False),
    ("reports", "urgency", sa.String(8), sa.String(16), False),
    ("reports", "source", sa.String(16), sa.String(32), False),
    ("tasks", "category", sa.String(16), sa.String(80), False),
    ("tasks", "urgency", sa.String(8), sa.String(16), False),
    ("disputes", "kind", sa.String(16), sa.String(80), False),
    ("incidents", "category", sa.String(16), sa.String(80), False),
    ("incidents", "subtype", sa.String(32), sa.String(80), False),
    ("incidents", "place", sa.String(128), sa.String(256), False),
    ("incidents", "outcome", sa.String(32), sa.String(128), True),
)
SOURCED = ("reports", "disputes", "incidents")


def upgrade() -> None:
    for table in ("communities", "grids", "departments", "reports", "tasks", "disputes", "incidents"):
        with op.batch_alter_table(table) as b:
            for t, col, old, new, nullable in WIDER:
                if t == table:
                    if col == "urgency":  # real exports often have none: missing stays missing
                        b.alter_column(col, existing_type=old, type_=new, existing_nullable=False, nullable=True)
                    else:
                        b.alter_column(col, existing_type=old, type_=new, existing_nullable=nullable)
            if table == "tasks":
                b.add_column(sa.Column("deadline_rule", sa.String(length=64), nullable=True))
            if table in SOURCED:
                b.add_column(sa.Column("source_system", sa.String(length=32), nullable=True))
                b.add_column(sa.Column("source_id", sa.String(length=128), nullable=True))
                b.add_column(sa.Column("source_hash", sa.String(length=40), nullable=True))
                b.create_index(f"ix_{table}_source", ["source_system", "source_id"], unique=True)
    op.create_table(
        "import_batches",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("source_system", sa.String(length=32), nullable=False),
        sa.Column("file_name", sa.String(length=255), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("station_code", sa.String(length=64), nullable=True),
        sa.Column("mapping", sa.Text(), nullable=True),
        sa.Column("dry_run", sa.Boolean(), server_default="0", nullable=False),
        sa.Column("started_at", sa.DateTime(), nullable=False),
        sa.Column("finished_at", sa.DateTime(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        *(sa.Column(c, sa.Integer(), server_default="0", nullable=False) for c in ("rows_read", "inserted", "updated", "unchanged", "duplicate", "rejected", "outside", "unlocated")),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_import_batches")),
    )
    op.create_index("ix_import_batches_started", "import_batches", ["started_at"])
    op.create_table(
        "import_rows",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("batch_id", sa.Integer(), nullable=False),
        sa.Column("row_no", sa.Integer(), nullable=False),
        sa.Column("source_id", sa.String(length=128), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("raw", sa.Text(), nullable=False),
        sa.Column("errors", sa.Text(), nullable=True),
        sa.Column("at", sa.DateTime(), nullable=True),
        sa.Column("category", sa.String(length=80), nullable=True),
        sa.Column("lat", sa.Float(), nullable=True),
        sa.Column("lon", sa.Float(), nullable=True),
        sa.Column("target_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["batch_id"], ["import_batches.id"], name=op.f("fk_import_rows_batch_id_import_batches"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_import_rows")),
    )
    op.create_index("ix_import_rows_batch_row", "import_rows", ["batch_id", "row_no"])
    op.create_index("ix_import_rows_batch_source", "import_rows", ["batch_id", "source_id"])
    op.create_index("ix_import_rows_status_at", "import_rows", ["status", "at"])
    op.create_table(
        "vocabulary",
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("code", sa.String(length=80), nullable=False),
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.Column("sort_order", sa.Integer(), server_default="0", nullable=False),
        sa.Column("colour", sa.String(length=16), nullable=True),
        sa.Column("key_category", sa.Boolean(), server_default="0", nullable=False),
        sa.PrimaryKeyConstraint("kind", "code", name=op.f("pk_vocabulary")),
    )


def downgrade() -> None:
    op.drop_table("vocabulary")
    op.drop_index("ix_import_rows_status_at", table_name="import_rows")
    op.drop_index("ix_import_rows_batch_source", table_name="import_rows")
    op.drop_index("ix_import_rows_batch_row", table_name="import_rows")
    op.drop_table("import_rows")
    op.drop_index("ix_import_batches_started", table_name="import_batches")
    op.drop_table("import_batches")
    for table in ("incidents", "disputes", "tasks", "reports", "departments", "grids", "communities"):
        with op.batch_alter_table(table) as b:
            if table == "tasks":
                b.drop_column("deadline_rule")
            if table in SOURCED:
                b.drop_index(f"ix_{table}_source")
                for c in ("source_hash", "source_id", "source_system"):
                    b.drop_column(c)
            for t, col, old, new, nullable in WIDER:
                if t == table:
                    if col == "urgency":
                        b.alter_column(col, existing_type=new, type_=old, existing_nullable=True, nullable=False)
                    else:
                        b.alter_column(col, existing_type=new, type_=old, existing_nullable=nullable)
