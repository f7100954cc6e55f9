"""patrol GPS imports: the export's own shift id and the minutes a point stands for, on patrol_shifts

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-03 09:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("patrol_shifts") as b:
        b.add_column(sa.Column("source_id", sa.String(length=128), nullable=True))
        b.add_column(sa.Column("point_minutes", sa.Float(), nullable=True))
        b.create_index("ix_patrol_shifts_team_source", ["team_id", "source_id"])


def downgrade() -> None:
    with op.batch_alter_table("patrol_shifts") as b:
        b.drop_index("ix_patrol_shifts_team_source")
        b.drop_column("point_minutes")
        b.drop_column("source_id")
