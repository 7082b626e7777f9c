"""stalefinding: platforms whose analyses were stored but whose finding was not re-judged yet

Revision ID: runs_0001
Revises: crawl_0003
Create Date: 2026-11-30
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = 'runs_0001'
down_revision = 'crawl_0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'stalefinding',
        sa.Column('platform_id', sa.Integer(), nullable=False),
        sa.Column('run_id', sa.Integer(), nullable=True),
        sa.Column('since', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(['platform_id'], ['platform.id']),
        sa.ForeignKeyConstraint(['run_id'], ['run.id']),
        sa.PrimaryKeyConstraint('platform_id'),
    )
    op.create_index(op.f('ix_stalefinding_run_id'), 'stalefinding', ['run_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_stalefinding_run_id'), table_name='stalefinding')
    op.drop_table('stalefinding')
