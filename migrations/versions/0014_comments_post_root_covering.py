"""the thread-page index also holds each comment's status and writer

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07 16:00:00.000000

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None

OLD = ['post_id', 'parent_id', 'created_at', 'id']
NEW = OLD + ['status', 'user_id']


def upgrade():
    # Counting a reader's pages (and a comment's page) tests each top-level comment's status
    # and writer; with both in the index the count never reads the table.
    op.drop_index('ix_comments_post_root', table_name='comments')
    op.create_index('ix_comments_post_root', 'comments', NEW, unique=False)


def downgrade():
    op.drop_index('ix_comments_post_root', table_name='comments')
    op.create_index('ix_comments_post_root', 'comments', OLD, unique=False)
