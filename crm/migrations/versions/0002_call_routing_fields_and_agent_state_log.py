"""call routing fields and agent state log

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27 00:01:46.697670
"""

from alembic import op
import sqlalchemy as sa
import crm.db


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('agent_state_log',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('event_key', sa.String(length=96), nullable=False),
    sa.Column('agent_extension', sa.String(length=16), nullable=False),
    sa.Column('agent_id', sa.Integer(), nullable=True),
    sa.Column('server', sa.String(length=64), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('previous', sa.String(length=16), nullable=True),
    sa.Column('reason', sa.String(length=32), nullable=True),
    sa.Column('call_linkedid', sa.String(length=64), nullable=True),
    sa.Column('at', crm.db.UtcDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['agent_id'], ['users.id'], ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('event_key')
    )
    with op.batch_alter_table('agent_state_log', schema=None) as batch_op:
        batch_op.create_index('ix_agent_state_log_agent_at', ['agent_extension', 'at'], unique=False)

    with op.batch_alter_table('calls', schema=None) as batch_op:
        batch_op.add_column(sa.Column('priority', sa.Integer(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('route', sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column('agent_extension', sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column('offers', sa.JSON(), nullable=False, server_default='[]'))

    with op.batch_alter_table('customers', schema=None) as batch_op:
        batch_op.add_column(sa.Column('preferred_queue', sa.String(length=64), nullable=True))



def downgrade() -> None:
    with op.batch_alter_table('customers', schema=None) as batch_op:
        batch_op.drop_column('preferred_queue')

    with op.batch_alter_table('calls', schema=None) as batch_op:
        batch_op.drop_column('offers')
        batch_op.drop_column('agent_extension')
        batch_op.drop_column('route')
        batch_op.drop_column('priority')

    with op.batch_alter_table('agent_state_log', schema=None) as batch_op:
        batch_op.drop_index('ix_agent_state_log_agent_at')

    op.drop_table('agent_state_log')
