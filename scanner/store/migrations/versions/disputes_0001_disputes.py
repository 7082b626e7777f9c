"""dispute: banks' and platform operators' disputes of published blocklist entries

Revision ID: disputes_0001
Revises: gates_0001
Create Date: 2026-12-06
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = 'disputes_0001'
down_revision = 'gates_0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'dispute',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('entry_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column('finding_id', sa.Integer(), nullable=False),
        sa.Column('source', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column('api_key_id', sa.Integer(), nullable=True),
        sa.Column('requester', sqlmodel.sql.sqltypes.AutoString(length=256), nullable=False),
        sa.Column('address', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column('reason', sa.Text(), nullable=False),
        sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column('opened_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column('due_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column('proposed_by', sqlmodel.sql.sqltypes.AutoString(length=128), nullable=True),
        sa.Column('proposed_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column('proposal_reason', sa.Text(), nullable=False),
        sa.Column('resolved_by', sqlmodel.sql.sqltypes.AutoString(length=128), nullable=True),
        sa.Column('resolved_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column('resolution_reason', sa.Text(), nullable=False),
        sa.Column('decision_id', sa.Integer(), nullable=True),
        sa.Column('version', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(['entry_id'], ['blocklistentry.entry_id'], ),
        sa.ForeignKeyConstraint(['finding_id'], ['finding.id'], ),
        sa.ForeignKeyConstraint(['api_key_id'], ['apikey.id'], ),
        sa.ForeignKeyConstraint(['decision_id'], ['decision.id'], ),
        sa.PrimaryKeyConstraint('id'),
    )
    with op.batch_alter_table('dispute', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_dispute_entry_id'), ['entry_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_dispute_finding_id'), ['finding_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_dispute_address'), ['address'], unique=False)
        batch_op.create_index(batch_op.f('ix_dispute_status'), ['status'], unique=False)
        batch_op.create_index(batch_op.f('ix_dispute_opened_at'), ['opened_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('dispute', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_dispute_opened_at'))
        batch_op.drop_index(batch_op.f('ix_dispute_status'))
        batch_op.drop_index(batch_op.f('ix_dispute_address'))
        batch_op.drop_index(batch_op.f('ix_dispute_finding_id'))
        batch_op.drop_index(batch_op.f('ix_dispute_entry_id'))
    op.drop_table('dispute')
