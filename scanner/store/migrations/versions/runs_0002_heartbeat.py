"""run.heartbeat_at: runs on other hosts are closed when their heartbeat stops

Revision ID: runs_0002
Revises: runs_0001
Create Date: 2026-12-06
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = 'runs_0002'
down_revision = 'runs_0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('run') as batch_op:
        batch_op.add_column(sa.Column('heartbeat_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('run') as batch_op:
        batch_op.drop_column('heartbeat_at')
