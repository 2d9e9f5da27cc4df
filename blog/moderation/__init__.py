"""Moderation: the author's queue, actions on comments, bans and post previews."""
