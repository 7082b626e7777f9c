"""capture.vantage and pageanalysis.vantage: the vantage point (egress proxy) a capture was fetched through

Revision ID: vantage_0001
Revises: render_0001
Create Date: 2026-12-06
"""
from alembic import op
import sqlalchemy as sa


revision = 'vantage_0001'
down_revision = 'render_0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # NULL: fetched directly (every row written before vantage points existed).
    with op.batch_alter_table('capture', schema=None) as batch_op:
        batch_op.add_column(sa.Column('vantage', sa.String(length=64), nullable=True))
    with op.batch_alter_table('pageanalysis', schema=None) as batch_op:
        batch_op.add_column(sa.Column('vantage', sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('pageanalysis', schema=None) as batch_op:
        batch_op.drop_column('vantage')
    with op.batch_alter_table('capture', schema=None) as batch_op:
        batch_op.drop_column('vantage')
