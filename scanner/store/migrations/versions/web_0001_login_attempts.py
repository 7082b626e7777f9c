"""loginattempt: review login attempts, recorded before the password check (atomic rate limit)

Revision ID: web_0001
Revises: review_0002
Create Date: 2026-11-30
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = 'web_0001'
down_revision = 'review_0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'loginattempt',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column('username', sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
        sa.Column('address', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column('outcome', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index(op.f('ix_loginattempt_at'), 'loginattempt', ['at'], unique=False)
    op.create_index(op.f('ix_loginattempt_username'), 'loginattempt', ['username'], unique=False)
    op.create_index(op.f('ix_loginattempt_address'), 'loginattempt', ['address'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_loginattempt_address'), table_name='loginattempt')
    op.drop_index(op.f('ix_loginattempt_username'), table_name='loginattempt')
    op.drop_index(op.f('ix_loginattempt_at'), table_name='loginattempt')
    op.drop_table('loginattempt')
