"""comment drafts remember the reader they belong to, for the export and account deletion

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03 09:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('comment_drafts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('user_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_comment_drafts_user_id'), ['user_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_comment_drafts_user_id_users'), 'users', ['user_id'], ['id'], ondelete='CASCADE')


def downgrade():
    with op.batch_alter_table('comment_drafts', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_comment_drafts_user_id_users'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_comment_drafts_user_id'))
        batch_op.drop_column('user_id')
