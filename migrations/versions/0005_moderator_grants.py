"""moderator grants (`flask blog admin add`)

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01 19:51:30.687851

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('moderator_grants',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('provider', sa.String(length=40), nullable=True),
    sa.Column('subject', sa.String(length=255), nullable=True),
    sa.Column('email', sa.String(length=320), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('(provider IS NOT NULL AND subject IS NOT NULL AND email IS NULL) OR (provider IS NULL AND subject IS NULL AND email IS NOT NULL)', name=op.f('ck_moderator_grants_one_kind')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_moderator_grants')),
    sa.UniqueConstraint('email', name=op.f('uq_moderator_grants_email')),
    sa.UniqueConstraint('provider', 'subject', name=op.f('uq_moderator_grants_provider'))
    )


def downgrade():
    op.drop_table('moderator_grants')
