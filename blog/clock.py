"""One injectable clock: every time-dependent rule reads it, and tests move it."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

from flask import current_app


class Clock:
    """The real clock: aware UTC now."""

    def now(self) -> datetime:
        """Return the current time as an aware UTC datetime."""
        return datetime.now(UTC)


class FrozenClock(Clock):
    """A clock that stands still until a test moves it."""

    def __init__(self, start: datetime | None = None) -> None:
        self._now = start or datetime.now(UTC)
        self._lock = threading.Lock()

    def now(self) -> datetime:
        """Return the frozen time."""
        with self._lock:
            return self._now

    def set(self, when: datetime) -> None:
        """Jump to an aware datetime."""
        with self._lock:
            self._now = when

    def advance(self, **delta: float) -> datetime:
        """Move forward by a timedelta given as keyword arguments."""
        with self._lock:
            self._now += timedelta(**delta)
            return self._now


def utcnow() -> datetime:
    """Return now from the current app's clock."""
    clock: Clock = current_app.extensions["blog.clock"]
    return clock.now()
