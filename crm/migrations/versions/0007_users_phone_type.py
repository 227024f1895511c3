"""users.phone_type: what rings when the agent gets a call — a browser phone (webrtc), a desk SIP
phone (sip), or the sandbox's simulated phone (local)

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03 14:20:00
"""

from alembic import op
import sqlalchemy as sa


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('users', sa.Column('phone_type', sa.String(length=8), nullable=False, server_default='sip'))


def downgrade() -> None:
    op.drop_column('users', 'phone_type')
