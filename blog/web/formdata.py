"""Whole numbers from URLs, submitted forms and query strings: ASCII digits, one spelling."""

from __future__ import annotations

from typing import Any

from werkzeug.routing import IntegerConverter, Map, ValidationError

# Ids are INTEGER columns, 32-bit signed on PostgreSQL (64 on SQLite): a larger number names
# no row, and PostgreSQL refuses to compare a column with it rather than answering "none".
MAX_ID = 2**31 - 1
_MAX_DIGITS = len(str(MAX_ID))


def parse_int(value: str | None) -> int | None:
    """An ASCII whole number that fits a database integer, else None."""
    if not value or len(value) > _MAX_DIGITS or not (value.isascii() and value.isdigit()):
        return None
    number = int(value)
    return number if number <= MAX_ID else None


class DatabaseIntConverter(IntegerConverter):
    """`<int:...>` in URLs, capped so that an absurd id is a 404, not an overflow."""

    # Werkzeug's \d+ matches any script's digits (Arabic-Indic `/page/\u0661/`); int() reads them.
    regex = r"[0-9]+"

    def __init__(self, map: Map, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max", MAX_ID)
        super().__init__(map, *args, **kwargs)

    def to_python(self, value: str) -> Any:
        """The number when the URL spells it as url_for would (no leading zeros), else a 404."""
        # Each other spelling (`/page/0001/`) would be a page of its own, cached on its own.
        number = parse_int(value)
        if number is None or value != self.to_url(number):
            raise ValidationError()
        return super().to_python(value)
