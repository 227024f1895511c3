"""calls.entry_queue: the queue a call first went to, where the KPIs count it

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-27 07:00:00
"""

from alembic import op
import sqlalchemy as sa


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('calls', sa.Column('entry_queue', sa.String(length=64), nullable=True))
    # Older rows kept only their last queue; before transfers were common it is the entry queue.
    op.execute("UPDATE calls SET entry_queue = queue")


def downgrade() -> None:
    op.drop_column('calls', 'entry_queue')
