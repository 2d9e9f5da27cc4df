"""Typed SQLAlchemy models, one module per area; import them from here."""

from blog.models.comments import Comment, CommentDraft, CommentEdit, CommentStatus
from blog.models.imports import ImportedComment, ImportedFile, OldLink
from blog.models.mail import MailMessage, MailStatus, Subscription, SubscriptionKind
from blog.models.notes import NoteStatus, PrivateNote
from blog.models.people import Avatar, DeletionRequest, Identity, ModeratorGrant, User
from blog.models.posts import (
    Post,
    PostAlias,
    PostLayout,
    PostStatus,
    Term,
    TermKind,
    post_terms,
)
from blog.models.reactions import (
    CommentReport,
    FeaturedComment,
    Like,
    ReportReason,
    ReportStatus,
)

# The newest migration, which these models match: the app serves no database at another one.
# Written down, not read from migrations/ (that needs Alembic); tests/test_migrations checks it.
SCHEMA_REVISION = "0015"

__all__ = [
    "SCHEMA_REVISION",
    "Avatar",
    "Comment",
    "CommentDraft",
    "CommentEdit",
    "CommentReport",
    "CommentStatus",
    "DeletionRequest",
    "FeaturedComment",
    "Identity",
    "ImportedComment",
    "ImportedFile",
    "Like",
    "MailMessage",
    "MailStatus",
    "ModeratorGrant",
    "NoteStatus",
    "OldLink",
    "Post",
    "PostAlias",
    "PostLayout",
    "PostStatus",
    "PrivateNote",
    "ReportReason",
    "ReportStatus",
    "Subscription",
    "SubscriptionKind",
    "Term",
    "TermKind",
    "User",
    "post_terms",
]
