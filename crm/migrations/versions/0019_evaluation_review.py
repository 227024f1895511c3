"""qa_evaluations.review_state and reviewer_id: the routine 组长/主管复核 of a share of evaluations

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-07 12:40:00
"""

from alembic import op
import sqlalchemy as sa


revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('qa_evaluations') as table:
        table.add_column(sa.Column('review_state', sa.String(length=8), nullable=True))
        table.add_column(sa.Column('reviewer_id', sa.Integer(), nullable=True))
        table.create_index('ix_qa_evaluations_review_state', ['review_state'])
        table.create_foreign_key('fk_qa_evaluations_reviewer_id_users', 'users', ['reviewer_id'], ['id'], ondelete='SET NULL')


def downgrade() -> None:
    with op.batch_alter_table('qa_evaluations') as table:
        table.drop_constraint('fk_qa_evaluations_reviewer_id_users', type_='foreignkey')
        table.drop_index('ix_qa_evaluations_review_state')
        table.drop_column('reviewer_id')
        table.drop_column('review_state')
