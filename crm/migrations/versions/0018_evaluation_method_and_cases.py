"""qa_evaluations.method (监控方式: live, recording, floor_walk) and the case library (典型案例:
case_kind good or bad, case_note)

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-07 12:30:00
"""

from alembic import op
import sqlalchemy as sa


revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('qa_evaluations') as table:
        table.add_column(sa.Column('method', sa.String(length=16), nullable=False, server_default='recording'))
        table.add_column(sa.Column('case_kind', sa.String(length=8), nullable=True))
        table.add_column(sa.Column('case_note', sa.Text(), nullable=False, server_default=''))
        table.create_index('ix_qa_evaluations_case_kind', ['case_kind'])


def downgrade() -> None:
    with op.batch_alter_table('qa_evaluations') as table:
        table.drop_index('ix_qa_evaluations_case_kind')
        table.drop_column('case_note')
        table.drop_column('case_kind')
        table.drop_column('method')
