"""Who hears about what: the author of every new comment, subscribers of approved ones."""

from __future__ import annotations


def comment_created(comment_id: int) -> None:
    """Queue the mail a new comment causes (implemented with the mail outbox)."""
    return None
