"""comment edits held for a moderator; deleted comments' placeholders keep nothing of their writer

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07 11:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('comment_edits',
    sa.Column('comment_id', sa.Integer(), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('body_html', sa.Text(), nullable=False),
    sa.Column('body_hash', sa.String(length=64), nullable=False),
    sa.Column('reason', sa.String(length=200), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['comment_id'], ['comments.id'], name=op.f('fk_comment_edits_comment_id_comments'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('comment_id', name=op.f('pk_comment_edits'))
    )
    with op.batch_alter_table('comment_edits', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_comment_edits_created_at'), ['created_at'], unique=False)

    # Placeholders kept before their writer's name, provider and address hash were dropped.
    comments = sa.table(
        'comments',
        sa.column('status', sa.String()),
        sa.column('author_name', sa.String()),
        sa.column('provider', sa.String()),
        sa.column('ip_hash', sa.String()),
    )
    op.execute(
        comments.update()
        .where(comments.c.status == 'deleted')
        .values(author_name='', provider=None, ip_hash=None)
    )


def downgrade():
    with op.batch_alter_table('comment_edits', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_comment_edits_created_at'))

    op.drop_table('comment_edits')
