"""capture.warc_sha256: SHA-256 of the exact stored WARC bytes of an exchange (chained)

Revision ID: evidence_0002
Revises: 0001
Create Date: 2026-11-25
"""
from alembic import op
import sqlalchemy as sa


revision = 'evidence_0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('capture', schema=None) as batch_op:
        batch_op.add_column(sa.Column('warc_sha256', sa.String(length=64), nullable=False, server_default=''))


def downgrade() -> None:
    with op.batch_alter_table('capture', schema=None) as batch_op:
        batch_op.drop_column('warc_sha256')
