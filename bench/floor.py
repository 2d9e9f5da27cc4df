"""The floor: a WSGI app that answers every request with one constant page (`bench.floor:app`).

BENCH_FLOOR_BODY names the file holding the page's bytes, BENCH_FLOOR_CONTENT_TYPE its type.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

_BODY = Path(os.environ["BENCH_FLOOR_BODY"]).read_bytes()
_HEADERS = [
    ("Content-Type", os.environ.get("BENCH_FLOOR_CONTENT_TYPE", "text/html; charset=utf-8")),
    ("Content-Length", str(len(_BODY))),
]


def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    """Return the constant page."""
    start_response("200 OK", list(_HEADERS))
    return [_BODY]
