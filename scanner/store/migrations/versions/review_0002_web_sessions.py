"""websession: server-side review workspace sessions (logout and expiry hold across web servers)

Revision ID: review_0002
Revises: 0001
Create Date: 2026-11-25
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = 'review_0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'websession',
        sa.Column('sid', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column('expires_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column('revoked_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column('address', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.ForeignKeyConstraint(['user_id'], ['user.id']),
        sa.PrimaryKeyConstraint('sid'),
    )
    op.create_index(op.f('ix_websession_user_id'), 'websession', ['user_id'], unique=False)
    op.create_index(op.f('ix_websession_expires_at'), 'websession', ['expires_at'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_websession_expires_at'), table_name='websession')
    op.drop_index(op.f('ix_websession_user_id'), table_name='websession')
    op.drop_table('websession')
