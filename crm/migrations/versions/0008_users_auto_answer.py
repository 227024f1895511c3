"""users.auto_answer: the agent's browser phone answers a queue call by itself, after a short beep

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03 17:20:00
"""

from alembic import op
import sqlalchemy as sa


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('users', sa.Column('auto_answer', sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade() -> None:
    op.drop_column('users', 'auto_answer')
