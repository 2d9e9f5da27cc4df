"""Typed SQLAlchemy models, one module per area; import them from here."""

from blog.models.comments import Comment, CommentDraft, CommentStatus
from blog.models.mail import MailMessage, MailStatus, Subscription, SubscriptionKind
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

__all__ = [
    "Avatar",
    "Comment",
    "CommentDraft",
    "CommentStatus",
    "DeletionRequest",
    "Identity",
    "MailMessage",
    "MailStatus",
    "ModeratorGrant",
    "Post",
    "PostAlias",
    "PostLayout",
    "PostStatus",
    "Subscription",
    "SubscriptionKind",
    "Term",
    "TermKind",
    "User",
    "post_terms",
]
