"""The request log as gunicorn.conf.py sets it up: one escaped line per request, cache hits too."""

from __future__ import annotations

import io
import logging
import os
import re
import runpy
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import IO, Any

import pytest
from flask import Flask

from blog.cache import page_cache
from blog.config import PROJECT_ROOT
from blog.web.request_log import LINE_FORMAT, log, log_request

LINE = re.compile(
    r"^(?P<time>\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}) (?P<pid>\d+) INFO blog\.requests "
    r"(?P<message>.*)$"
)
ESSAY = "/2019/06/10/making-true-connections/"


def shipped_logging() -> dict[str, Any]:
    """The logging settings of the project's gunicorn.conf.py."""
    settings = runpy.run_path(str(PROJECT_ROOT / "gunicorn.conf.py"))
    return settings["logconfig_dict"]


@contextmanager
def shipped_request_log(stream: IO[str]) -> Iterator[None]:
    """`blog.requests` set up as gunicorn.conf.py sets it, writing to `stream`; then restored.

    Entered inside a test: pytest hands its capturing handlers to a non-propagating logger
    when the test starts, and they would be replaced here.
    """
    config = shipped_logging()
    logger = config["loggers"]["blog.requests"]
    (name,) = logger["handlers"]
    handler_config = config["handlers"][name]
    assert handler_config["class"] == "logging.StreamHandler"
    line_format = config["formatters"][handler_config["formatter"]]["format"]
    assert line_format == LINE_FORMAT
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter(line_format))
    saved = (log.handlers[:], log.level, log.propagate)
    log.handlers[:] = [handler]
    log.setLevel(logger["level"])
    log.propagate = logger["propagate"]
    try:
        yield
    finally:
        log.handlers[:], log.level, log.propagate = saved[0], saved[1], saved[2]


def lines(stream: io.StringIO) -> list[re.Match[str]]:
    """Each line written so far, matched against the line format."""
    found = [LINE.match(line) for line in stream.getvalue().splitlines()]
    assert all(found), stream.getvalue()
    return found  # type: ignore[return-value]


def test_the_shipped_config_writes_one_line_per_request() -> None:
    stream = io.StringIO()
    with shipped_request_log(stream):
        log_request("192.0.2.1", "GET", "/about/", 200, 512, 1.25)
        log_request(None, "POST", "/comments/", 303, 0, 12.0)
    first, second = lines(stream)
    assert first["message"] == '192.0.2.1 "GET /about/" 200 512 1.2ms'
    assert second["message"] == '- "POST /comments/" 303 0 12.0ms'
    assert int(first["pid"]) == os.getpid()
    written = datetime.strptime(first["time"], "%Y-%m-%d %H:%M:%S,%f")
    assert abs((datetime.now() - written).total_seconds()) < 5


def test_what_is_not_printable_is_escaped_and_cannot_forge_a_line() -> None:
    stream = io.StringIO()
    with shipped_request_log(stream):
        log_request("a\tb", "GET", '/x\r\n10.0.0.1 "GET /admin/" 200 0 1.0ms\u2028', 404, 9, 0.5)
    (line,) = lines(stream)
    assert (
        line["message"]
        == 'a\\tb "GET /x\\r\\n10.0.0.1 "GET /admin/" 200 0 1.0ms\\u2028" 404 9 0.5ms'
    )


def test_no_line_below_the_configured_level() -> None:
    stream = io.StringIO()
    with shipped_request_log(stream):
        log.setLevel(logging.WARNING)
        log_request("192.0.2.1", "GET", "/", 200, 1, 0.1)
    assert stream.getvalue() == ""


@pytest.mark.sqlite_only
def test_every_request_and_cache_hit_writes_one_escaped_line(
    essay: Path, make_app: Callable[..., Flask]
) -> None:
    app = make_app(PAGE_CACHE=True)
    client = app.test_client()
    stream = io.StringIO()
    with shipped_request_log(stream):
        for _ in range(2):
            assert client.get(ESSAY).status_code == 200
        assert client.get("/%0D%0Aforged%E2%80%A8/").status_code == 404
    cache = page_cache(app)
    assert cache is not None and cache.hits == 1
    messages = [m["message"] for m in lines(stream)]
    assert len(messages) == 3, messages
    assert messages[0].startswith(f'127.0.0.1 "GET {ESSAY}" 200 ')
    assert messages[1].startswith(f'127.0.0.1 "GET {ESSAY}" 200 ')
    assert messages[2].startswith('127.0.0.1 "GET /\\r\\nforged\\u2028/" 404 ')
