"""When the reader started the comment form: signed into the form, carried across a login."""

from __future__ import annotations

import functools
from datetime import UTC, datetime

from flask import current_app
from itsdangerous import BadSignature, URLSafeSerializer

SALT = "comment-form-started"


@functools.lru_cache(maxsize=4)
def _serializer_for(secret_key: str | bytes) -> URLSafeSerializer:
    return URLSafeSerializer(secret_key, salt=SALT)


def _serializer() -> URLSafeSerializer:
    # One per key: every logged-in post page signs a form, and every comment reads one.
    return _serializer_for(current_app.config["SECRET_KEY"])


def sign_started(when: datetime) -> str:
    """The hidden form value recording when the form was first shown."""
    return _serializer().dumps(when.timestamp())


def read_started(value: str | None) -> datetime | None:
    """The time a form was first shown, or None when missing or forged."""
    if not value:
        return None
    try:
        stamp = _serializer().loads(value)
    except BadSignature:
        return None
    if not isinstance(stamp, int | float):
        return None
    return datetime.fromtimestamp(stamp, UTC)
