"""sighting: contacts (WhatsApp numbers, P2P merchants) seen on platforms, the leads between them

Revision ID: leads_0001
Revises: discovery_0002
Create Date: 2026-12-06
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = 'leads_0001'
down_revision = 'discovery_0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'sighting',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column('value', sqlmodel.sql.sqltypes.AutoString(length=256), nullable=False),
        sa.Column('match_key', sqlmodel.sql.sqltypes.AutoString(length=256), nullable=False),
        sa.Column('platform', sqlmodel.sql.sqltypes.AutoString(length=512), nullable=False),
        sa.Column('url', sa.Text(), nullable=False),
        sa.Column('source', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column('detail', sqlmodel.sql.sqltypes.AutoString(length=256), nullable=False),
        sa.Column('capture_id', sa.Integer(), nullable=True),
        sa.Column('first_seen', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column('last_seen', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column('seen_count', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['capture_id'], ['capture.id'], name='fk_sighting_capture_id_capture'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('kind', 'match_key', 'platform', name='uq_sighting_kind_key_platform'),
    )
    op.create_index(op.f('ix_sighting_kind'), 'sighting', ['kind'], unique=False)
    op.create_index(op.f('ix_sighting_match_key'), 'sighting', ['match_key'], unique=False)
    op.create_index(op.f('ix_sighting_platform'), 'sighting', ['platform'], unique=False)


def downgrade() -> None:
    for column in ('platform', 'match_key', 'kind'):
        op.drop_index(op.f(f'ix_sighting_{column}'), table_name='sighting')
    op.drop_table('sighting')
