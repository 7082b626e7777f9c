"""capture.screenshot_sha256: SHA-256 of a rendered capture's screenshot (chained when set)

Revision ID: render_0001
Revises: evidence_0002
Create Date: 2026-12-06
"""
from alembic import op
import sqlalchemy as sa


revision = 'render_0001'
down_revision = 'evidence_0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('capture', schema=None) as batch_op:
        batch_op.add_column(sa.Column('screenshot_sha256', sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('capture', schema=None) as batch_op:
        batch_op.drop_column('screenshot_sha256')
