"""initial schema

Revision ID: 0001
Revises: 
Create Date: 2026-11-26 23:32:16.781284
"""

from alembic import op
import sqlalchemy as sa
import crm.db


revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('customers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('company', sa.String(length=200), nullable=False),
    sa.Column('grade', sa.Enum('A', 'B', 'C', 'D', name='customer_grade', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('region', sa.String(length=100), nullable=False),
    sa.Column('key_account', sa.Boolean(), nullable=False),
    sa.Column('at_risk', sa.Boolean(), nullable=False),
    sa.Column('notes', sa.Text(), nullable=False),
    sa.Column('created_at', crm.db.UtcDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', crm.db.UtcDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('customers', schema=None) as batch_op:
        batch_op.create_index('ix_customers_name', ['name'], unique=False)

    op.create_table('queues',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('display_name', sa.String(length=128), nullable=False),
    sa.Column('service_level_s', sa.Integer(), nullable=False),
    sa.Column('service_level_target', sa.Float(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('name')
    )
    op.create_table('teams',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('created_at', crm.db.UtcDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('name')
    )
    op.create_table('customer_phones',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.String(length=40), nullable=False),
    sa.Column('normalized', sa.String(length=24), nullable=False),
    sa.Column('label', sa.String(length=40), nullable=False),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('customer_id', 'normalized')
    )
    with op.batch_alter_table('customer_phones', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_customer_phones_normalized'), ['normalized'], unique=False)

    op.create_table('users',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('username', sa.String(length=64), nullable=False),
    sa.Column('password_hash', sa.String(length=255), nullable=False),
    sa.Column('role', sa.Enum('agent', 'team_leader', 'supervisor', 'qa_inspector', 'admin', name='user_role', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('display_name', sa.String(length=128), nullable=False),
    sa.Column('extension', sa.String(length=16), nullable=True),
    sa.Column('team_id', sa.Integer(), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', crm.db.UtcDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['team_id'], ['teams.id'], ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('extension'),
    sa.UniqueConstraint('username')
    )
    op.create_table('calls',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('linkedid', sa.String(length=64), nullable=False),
    sa.Column('server', sa.String(length=64), nullable=False),
    sa.Column('direction', sa.Enum('inbound', 'outbound', name='call_direction', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('did', sa.String(length=40), nullable=True),
    sa.Column('caller_number', sa.String(length=40), nullable=True),
    sa.Column('caller_name', sa.String(length=200), nullable=True),
    sa.Column('called_number', sa.String(length=40), nullable=True),
    sa.Column('customer_id', sa.Integer(), nullable=True),
    sa.Column('queue', sa.String(length=64), nullable=True),
    sa.Column('agent_id', sa.Integer(), nullable=True),
    sa.Column('agent_interface', sa.String(length=128), nullable=True),
    sa.Column('started_at', crm.db.UtcDateTime(timezone=True), nullable=False),
    sa.Column('queued_at', crm.db.UtcDateTime(timezone=True), nullable=True),
    sa.Column('offered_at', crm.db.UtcDateTime(timezone=True), nullable=True),
    sa.Column('answered_at', crm.db.UtcDateTime(timezone=True), nullable=True),
    sa.Column('ended_at', crm.db.UtcDateTime(timezone=True), nullable=True),
    sa.Column('wait_s', sa.Float(), nullable=True),
    sa.Column('talk_s', sa.Float(), nullable=True),
    sa.Column('hold_s', sa.Float(), nullable=False),
    sa.Column('hold_count', sa.Integer(), nullable=False),
    sa.Column('wrapup_s', sa.Float(), nullable=True),
    sa.Column('disposition', sa.String(length=32), nullable=True),
    sa.Column('hangup_side', sa.String(length=16), nullable=True),
    sa.Column('transfers', sa.JSON(), nullable=False),
    sa.Column('recordings', sa.JSON(), nullable=False),
    sa.Column('disposition_code', sa.String(length=64), nullable=True),
    sa.Column('notes', sa.Text(), nullable=False),
    sa.Column('created_at', crm.db.UtcDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', crm.db.UtcDateTime(timezone=True), nullable=False),
    sa.CheckConstraint('wait_s IS NULL OR wait_s >= 0', name='ck_calls_wait_nonnegative'),
    sa.ForeignKeyConstraint(['agent_id'], ['users.id'], ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('linkedid')
    )
    with op.batch_alter_table('calls', schema=None) as batch_op:
        batch_op.create_index('ix_calls_agent_started', ['agent_id', 'started_at'], unique=False)
        batch_op.create_index('ix_calls_customer_started', ['customer_id', 'started_at'], unique=False)
        batch_op.create_index('ix_calls_started_at', ['started_at'], unique=False)

    op.create_table('queue_memberships',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('queue_id', sa.Integer(), nullable=False),
    sa.Column('penalty', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['queue_id'], ['queues.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id', 'queue_id')
    )


def downgrade() -> None:
    op.drop_table('queue_memberships')
    with op.batch_alter_table('calls', schema=None) as batch_op:
        batch_op.drop_index('ix_calls_started_at')
        batch_op.drop_index('ix_calls_customer_started')
        batch_op.drop_index('ix_calls_agent_started')

    op.drop_table('calls')
    op.drop_table('users')
    with op.batch_alter_table('customer_phones', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_customer_phones_normalized'))

    op.drop_table('customer_phones')
    op.drop_table('teams')
    op.drop_table('queues')
    with op.batch_alter_table('customers', schema=None) as batch_op:
        batch_op.drop_index('ix_customers_name')

    op.drop_table('customers')
