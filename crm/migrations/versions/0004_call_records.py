"""call records

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-27 03:15:26.750097
"""

from alembic import op
import sqlalchemy as sa
import crm.db


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('call_records',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('call_id', sa.Integer(), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=True),
    sa.Column('contact', sa.String(length=100), nullable=False),
    sa.Column('summary', sa.Text(), nullable=False),
    sa.Column('handling', sa.String(length=32), nullable=True),
    sa.Column('transferred_to', sa.String(length=100), nullable=False),
    sa.Column('result', sa.Text(), nullable=False),
    sa.Column('reply_needed', sa.Boolean(), nullable=False),
    sa.Column('reply_deadline', crm.db.UtcDateTime(timezone=True), nullable=True),
    sa.Column('campaign', sa.String(length=100), nullable=False),
    sa.Column('call_type', sa.String(length=32), nullable=True),
    sa.Column('purpose', sa.String(length=200), nullable=False),
    sa.Column('connect_status', sa.String(length=32), nullable=True),
    sa.Column('feedback', sa.Text(), nullable=False),
    sa.Column('next_contact_at', crm.db.UtcDateTime(timezone=True), nullable=True),
    sa.Column('updated_by', sa.Integer(), nullable=True),
    sa.Column('created_at', crm.db.UtcDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', crm.db.UtcDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['call_id'], ['calls.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['updated_by'], ['users.id'], ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('call_id')
    )
    with op.batch_alter_table('call_records', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_call_records_customer_id'), ['customer_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('call_records', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_call_records_customer_id'))

    op.drop_table('call_records')
