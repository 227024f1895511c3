"""calls.recording_paused: the spans an agent paused the recording (a card number being taken)

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-07 15:30:00
"""

from alembic import op
import sqlalchemy as sa


revision = '0021'
down_revision = '0020'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('calls') as table:
        table.add_column(sa.Column('recording_paused', sa.JSON(), nullable=False, server_default=sa.text("'[]'")))


def downgrade() -> None:
    with op.batch_alter_table('calls') as table:
        table.drop_column('recording_paused')
