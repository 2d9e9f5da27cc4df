"""Signed tokens in mail links: confirm an address, unsubscribe with one click."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from flask import current_app
from itsdangerous import BadSignature, URLSafeSerializer

from blog.models import Subscription

CONFIRM_SALT = "blog.mail.confirm"
UNSUBSCRIBE_SALT = "blog.mail.unsubscribe"
# A confirmation link is only good for a week: an old forwarded mail should not confirm anything.
CONFIRM_MAX_AGE = timedelta(days=7)
CONFIRM_PATH = "/mail/confirm/"
UNSUBSCRIBE_PATH = "/mail/unsubscribe/"


class InvalidToken(Exception):
    """A token that was not signed by this blog, or is malformed."""


class ExpiredToken(InvalidToken):
    """A well-signed confirmation token older than CONFIRM_MAX_AGE."""


@dataclass(frozen=True)
class ConfirmRequest:
    """What a confirmation token stands for."""

    subscription_ids: tuple[int, ...]
    email_digest: str
    issued_at: datetime


def _serializer(salt: str) -> URLSafeSerializer:
    # Not the timed serializer: its clock is time.time(); expiry is checked against ours.
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=salt)


def email_digest(email: str) -> str:
    """A short digest binding a token to one address, so a reused row id matches nothing."""
    return hashlib.sha256(email.strip().lower().encode()).hexdigest()[:16]


def _load(salt: str, token: str) -> dict[str, Any]:
    try:
        data = _serializer(salt).loads(token)
    except (BadSignature, UnicodeError, ValueError) as exc:
        raise InvalidToken(str(exc)) from exc
    if not isinstance(data, dict):
        raise InvalidToken("not a token payload")
    return data


def unsubscribe_token(subscription: Subscription) -> str:
    """A token for one subscription; it never expires, as old mails must still unsubscribe."""
    return str(
        _serializer(UNSUBSCRIBE_SALT).dumps(
            {"s": subscription.id, "h": email_digest(subscription.email)}
        )
    )


def read_unsubscribe(token: str) -> tuple[int, str]:
    """(subscription id, email digest) from an unsubscribe token, or InvalidToken."""
    data = _load(UNSUBSCRIBE_SALT, token)
    sub_id, digest = data.get("s"), data.get("h")
    if not isinstance(sub_id, int) or not isinstance(digest, str):
        raise InvalidToken("incomplete unsubscribe token")
    return sub_id, digest


def confirm_token(subscriptions: list[Subscription], email: str, now: datetime) -> str:
    """A token confirming these pending subscriptions of one address."""
    payload = {
        "s": sorted(s.id for s in subscriptions),
        "h": email_digest(email),
        "t": int(now.timestamp()),
    }
    return str(_serializer(CONFIRM_SALT).dumps(payload))


def read_confirm(token: str, now: datetime) -> ConfirmRequest:
    """What a confirmation token confirms; InvalidToken or ExpiredToken otherwise."""
    data = _load(CONFIRM_SALT, token)
    ids, digest, issued = data.get("s"), data.get("h"), data.get("t")
    if (
        not isinstance(ids, list)
        or not all(isinstance(i, int) for i in ids)
        or not isinstance(digest, str)
        or not isinstance(issued, int)
    ):
        raise InvalidToken("incomplete confirmation token")
    issued_at = datetime.fromtimestamp(issued, UTC)
    if now - issued_at > CONFIRM_MAX_AGE:
        raise ExpiredToken("confirmation link expired")
    return ConfirmRequest(tuple(ids), digest, issued_at)
