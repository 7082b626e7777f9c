"""candidate.attempts: discovery crawls that scheduled it, so a dead candidate leaves the frontier

Revision ID: discovery_0002
Revises: discovery_0001
Create Date: 2026-12-06
"""
from alembic import op
import sqlalchemy as sa


revision = 'discovery_0002'
down_revision = 'discovery_0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('candidate') as batch_op:
        batch_op.add_column(sa.Column('attempts', sa.Integer(), nullable=False, server_default='0'))


def downgrade() -> None:
    with op.batch_alter_table('candidate') as batch_op:
        batch_op.drop_column('attempts')
