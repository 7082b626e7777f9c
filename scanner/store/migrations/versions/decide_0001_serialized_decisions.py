"""decision: per-finding sequence, recorded status, approvals naming their confirmation, CHECKs

Revision ID: decide_0001
Revises: crawl_0003
Create Date: 2026-11-30

Existing rows are numbered per finding in the order they were shown (time, then id) and keep
status_before NULL: they are the record of what happened and are not rewritten, even where a race
stored a decision the rules would refuse.
"""
from alembic import op
import sqlalchemy as sa


revision = 'decide_0001'
down_revision = 'crawl_0003'
branch_labels = None
depends_on = None

ACTIONS = "'confirm', 'dismiss', 'more-evidence', 'approve', 'revoke'"


def upgrade() -> None:
    with op.batch_alter_table('decision', schema=None) as batch_op:
        batch_op.add_column(sa.Column('seq', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('status_before', sa.String(length=24), nullable=True))
        batch_op.add_column(sa.Column('approves_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('confirmer', sa.String(length=128), nullable=True))
    op.execute(
        "UPDATE decision SET seq = (SELECT count(*) FROM decision AS earlier"
        " WHERE earlier.finding_id = decision.finding_id"
        " AND (earlier.at < decision.at OR (earlier.at = decision.at AND earlier.id <= decision.id)))"
    )
    # Two steps on SQLite (each recreates the table): the self-referencing foreign key needs the
    # unique key it points at to exist on the table it is copied from.
    with op.batch_alter_table('decision', schema=None) as batch_op:
        batch_op.alter_column('seq', existing_type=sa.Integer(), nullable=False)
        batch_op.create_unique_constraint('uq_decision_finding_seq', ['finding_id', 'seq'])
        batch_op.create_unique_constraint('uq_decision_approves', ['approves_id'])
        batch_op.create_unique_constraint('uq_decision_id_finding_by', ['id', 'finding_id', 'by_user'])
    with op.batch_alter_table('decision', schema=None) as batch_op:
        batch_op.create_foreign_key(
            'fk_decision_approves_confirmation', 'decision',
            ['approves_id', 'finding_id', 'confirmer'], ['id', 'finding_id', 'by_user'],
        )
        batch_op.create_check_constraint('ck_decision_action', f"action IN ({ACTIONS})")
        batch_op.create_check_constraint(
            'ck_decision_approval',
            "(action = 'approve' AND (status_before IS NULL OR"
            " (approves_id IS NOT NULL AND confirmer IS NOT NULL AND confirmer <> by_user)))"
            " OR (action <> 'approve' AND approves_id IS NULL AND confirmer IS NULL)",
        )
        batch_op.create_check_constraint(
            'ck_decision_transition',
            "status_before IS NULL"
            " OR (action = 'confirm' AND status_before NOT IN ('pending-approval', 'published'))"
            " OR (action = 'approve' AND status_before = 'pending-approval')"
            " OR (action = 'revoke' AND status_before = 'published')"
            " OR (action IN ('dismiss', 'more-evidence') AND status_before <> 'published')",
        )


def downgrade() -> None:
    with op.batch_alter_table('decision', schema=None) as batch_op:
        batch_op.drop_constraint('ck_decision_transition', type_='check')
        batch_op.drop_constraint('ck_decision_approval', type_='check')
        batch_op.drop_constraint('ck_decision_action', type_='check')
        batch_op.drop_constraint('fk_decision_approves_confirmation', type_='foreignkey')
    with op.batch_alter_table('decision', schema=None) as batch_op:
        batch_op.drop_constraint('uq_decision_id_finding_by', type_='unique')
        batch_op.drop_constraint('uq_decision_approves', type_='unique')
        batch_op.drop_constraint('uq_decision_finding_seq', type_='unique')
        batch_op.drop_column('confirmer')
        batch_op.drop_column('approves_id')
        batch_op.drop_column('status_before')
        batch_op.drop_column('seq')
