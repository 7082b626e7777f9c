"""pageanalysis: brand, text digest and cross-platform canonical, for mirror grouping

Revision ID: crawl_0003
Revises: evidence_0002
Create Date: 2026-11-25
"""
from alembic import op
import sqlalchemy as sa


revision = 'crawl_0003'
down_revision = 'evidence_0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('pageanalysis', schema=None) as batch_op:
        batch_op.add_column(sa.Column('brand', sa.String(length=256), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('text_digest', sa.String(length=64), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('canonical_key', sa.String(length=512), nullable=True))
        batch_op.create_index(batch_op.f('ix_pageanalysis_text_digest'), ['text_digest'], unique=False)
        batch_op.create_index(batch_op.f('ix_pageanalysis_canonical_key'), ['canonical_key'], unique=False)
    # Finding "the current analysis of this URL" must not scan a big site's pages. PostgreSQL btree
    # entries are limited to ~2.7 kB (long URLs exist), so there a hash index on url does the job.
    if op.get_bind().dialect.name == 'postgresql':
        op.create_index('ix_pageanalysis_url', 'pageanalysis', ['url'], unique=False, postgresql_using='hash')
    else:
        op.create_index('ix_pageanalysis_platform_url', 'pageanalysis', ['platform_id', 'url'], unique=False)


def downgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        op.drop_index('ix_pageanalysis_url', table_name='pageanalysis')
    else:
        op.drop_index('ix_pageanalysis_platform_url', table_name='pageanalysis')
    with op.batch_alter_table('pageanalysis', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_pageanalysis_canonical_key'))
        batch_op.drop_index(batch_op.f('ix_pageanalysis_text_digest'))
        batch_op.drop_column('canonical_key')
        batch_op.drop_column('text_digest')
        batch_op.drop_column('brand')
