"""users.server: the Asterisk server an agent's phone is on, where a login with no other clue goes

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-07 11:30:00
"""

from alembic import op
import sqlalchemy as sa


revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('users', sa.Column('server', sa.String(length=40), nullable=True))


def downgrade() -> None:
    op.drop_column('users', 'server')
