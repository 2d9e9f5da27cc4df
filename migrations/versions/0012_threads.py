"""the conversation: long threads in pages (top-level comments indexed by post, parent and
time); comments on a paragraph keep its anchor and words; private notes to the author

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07 12:40:00.000000

"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('comments', schema=None) as batch_op:
        batch_op.create_index(
            'ix_comments_post_root', ['post_id', 'parent_id', 'created_at', 'id'], unique=False
        )
        batch_op.add_column(sa.Column('paragraph_id', sa.String(length=24), nullable=True))
        batch_op.add_column(sa.Column('paragraph_quote', sa.Text(), nullable=True))
    op.create_table(
        'private_notes',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('post_id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('author_name', sa.String(length=200), nullable=False),
        sa.Column('body', sa.Text(), nullable=False),
        sa.Column('body_html', sa.Text(), nullable=False),
        sa.Column('ip_hash', sa.String(length=64), nullable=True),
        sa.Column('status', sa.Enum('new', 'answered', 'spam', name='notestatus', native_enum=False, length=20), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('answered_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['post_id'], ['posts.id'], name=op.f('fk_private_notes_post_id_posts'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_private_notes_user_id_users'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_private_notes')),
    )
    with op.batch_alter_table('private_notes', schema=None) as batch_op:
        batch_op.create_index('ix_private_notes_user_id_created_at', ['user_id', 'created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_private_notes_post_id'), ['post_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_private_notes_status'), ['status'], unique=False)
        batch_op.create_index(batch_op.f('ix_private_notes_created_at'), ['created_at'], unique=False)


def downgrade():
    op.drop_table('private_notes')
    with op.batch_alter_table('comments', schema=None) as batch_op:
        batch_op.drop_column('paragraph_quote')
        batch_op.drop_column('paragraph_id')
        batch_op.drop_index('ix_comments_post_root')
