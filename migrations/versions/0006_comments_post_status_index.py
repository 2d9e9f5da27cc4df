"""comments indexed by post and status

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 20:40:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('comments', schema=None) as batch_op:
        batch_op.create_index('ix_comments_post_id_status', ['post_id', 'status'], unique=False)
        batch_op.drop_index(batch_op.f('ix_comments_post_id'))


def downgrade():
    with op.batch_alter_table('comments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_comments_post_id'), ['post_id'], unique=False)
        batch_op.drop_index('ix_comments_post_id_status')
