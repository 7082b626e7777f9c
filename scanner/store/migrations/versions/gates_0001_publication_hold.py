"""publicationhold: blocklist changes stopped by a publication gate, and their admin release

Revision ID: gates_0001
Revises: decide_0001
Create Date: 2026-11-30
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = 'gates_0001'
down_revision = 'decide_0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'publicationhold',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column('adds', sa.Integer(), nullable=False),
        sa.Column('removals', sa.Integer(), nullable=False),
        sa.Column('failures', sa.JSON(), nullable=False),
        sa.Column('closed_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column('released_by', sqlmodel.sql.sqltypes.AutoString(length=128), nullable=True),
        sa.Column('release_reason', sa.Text(), nullable=False),
        sa.Column('version', sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index(op.f('ix_publicationhold_status'), 'publicationhold', ['status'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_publicationhold_status'), table_name='publicationhold')
    op.drop_table('publicationhold')
