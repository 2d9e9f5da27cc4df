"""the post-and-status index also holds parent, writer and time, for counting thread pages

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07 18:30:00.000000

"""

from alembic import op


# revision identifiers, used by Alembic.
revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

OLD = ["post_id", "status"]
NEW = OLD + ["parent_id", "user_id", "created_at", "id"]


def upgrade():
    # A reader's page count adds two index ranges, their shown top-level comments and their own
    # held ones, so the held comments of everyone else are never walked. The prefix keeps the
    # old index's uses (a post's comments by status).
    op.drop_index("ix_comments_post_id_status", table_name="comments")
    op.create_index("ix_comments_post_status", "comments", NEW, unique=False)


def downgrade():
    op.drop_index("ix_comments_post_status", table_name="comments")
    op.create_index("ix_comments_post_id_status", "comments", OLD, unique=False)
