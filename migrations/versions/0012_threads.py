"""the conversation: long threads in pages (top-level comments indexed by post, parent and
time); comments on a paragraph keep its anchor and words

Revision ID: 0012
Revises: 0010
Create Date: 2026-12-07 12:40:00.000000

"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = '0012'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('comments', schema=None) as batch_op:
        batch_op.create_index(
            'ix_comments_post_root', ['post_id', 'parent_id', 'created_at', 'id'], unique=False
        )
        batch_op.add_column(sa.Column('paragraph_id', sa.String(length=24), nullable=True))
        batch_op.add_column(sa.Column('paragraph_quote', sa.Text(), nullable=True))


def downgrade():
    with op.batch_alter_table('comments', schema=None) as batch_op:
        batch_op.drop_column('paragraph_quote')
        batch_op.drop_column('paragraph_id')
        batch_op.drop_index('ix_comments_post_root')
