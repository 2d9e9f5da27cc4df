"""comments indexed by writer and time, and by writer and status

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02 06:20:00.000000

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('comments', schema=None) as batch_op:
        batch_op.create_index('ix_comments_user_id_created_at', ['user_id', 'created_at'], unique=False)
        batch_op.create_index('ix_comments_user_id_status', ['user_id', 'status'], unique=False)
        batch_op.drop_index(batch_op.f('ix_comments_user_id'))


def downgrade():
    with op.batch_alter_table('comments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_comments_user_id'), ['user_id'], unique=False)
        batch_op.drop_index('ix_comments_user_id_status')
        batch_op.drop_index('ix_comments_user_id_created_at')
