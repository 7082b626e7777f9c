"""candidate: discovery source, reason, capture and frontier counts

Revision ID: discovery_0001
Revises: runs_0002
Create Date: 2026-12-06
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = 'discovery_0001'
down_revision = 'runs_0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('candidate') as batch_op:
        batch_op.add_column(sa.Column('source', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False, server_default='link'))
        batch_op.add_column(sa.Column('reason', sa.Text(), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('capture_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('last_seen', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('seen_count', sa.Integer(), nullable=False, server_default='1'))
        batch_op.add_column(sa.Column('sources', sa.JSON(), nullable=False, server_default='[]'))
        batch_op.create_foreign_key('fk_candidate_capture_id_capture', 'capture', ['capture_id'], ['id'])
        batch_op.create_index(batch_op.f('ix_candidate_source'), ['source'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('candidate') as batch_op:
        batch_op.drop_index(batch_op.f('ix_candidate_source'))
        batch_op.drop_constraint('fk_candidate_capture_id_capture', type_='foreignkey')
        for column in ('sources', 'seen_count', 'last_seen', 'capture_id', 'reason', 'source'):
            batch_op.drop_column(column)
