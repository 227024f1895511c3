"""calls.surveyed_at and calls.satisfaction: the post-call satisfaction survey (满意度调查)

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-07 15:00:00
"""

from alembic import op
import sqlalchemy as sa

import crm.db


revision = '0020'
down_revision = '0019'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('calls') as table:
        table.add_column(sa.Column('surveyed_at', crm.db.UtcDateTime(timezone=True), nullable=True))
        table.add_column(sa.Column('satisfaction', sa.SmallInteger(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('calls') as table:
        table.drop_column('satisfaction')
        table.drop_column('surveyed_at')
