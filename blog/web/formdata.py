"""Whole numbers from submitted forms and query strings, refused rather than crashing on."""

from __future__ import annotations

from typing import Any

from werkzeug.routing import IntegerConverter, Map

# Database integers are 64-bit signed: a larger id can name no row, and SQLite overflows on it.
MAX_ID = 2**63 - 1


def parse_int(value: str | None) -> int | None:
    """An ASCII whole number that fits a database integer, else None."""
    if not value or len(value) > 19 or not (value.isascii() and value.isdigit()):
        return None
    number = int(value)
    return number if number <= MAX_ID else None


class DatabaseIntConverter(IntegerConverter):
    """`<int:...>` in URLs, capped so that an absurd id is a 404, not an overflow."""

    def __init__(self, map: Map, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max", MAX_ID)
        super().__init__(map, *args, **kwargs)
