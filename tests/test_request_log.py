"""The request log as gunicorn.conf.py sets it up: one line per request, written directly."""

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
from typing import IO

import pytest
from flask import Flask

from blog.cache import page_cache
from blog.config import PROJECT_ROOT
from blog.web.request_log import (
    LINE_FORMAT,
    REQUEST_LINE,
    RequestLineHandler,
    direct_handler,
    log,
    log_request,
)

LINE = re.compile(
    r"^(?P<time>\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}) (?P<pid>\d+) INFO blog\.requests "
    r"(?P<message>.*)$"
)
ESSAY = "/2019/06/10/making-true-connections/"


def shipped_logging() -> dict[str, object]:
    """The logging settings of the project's gunicorn.conf.py."""
    settings = runpy.run_path(str(PROJECT_ROOT / "gunicorn.conf.py"))
    return settings["logconfig_dict"]


@contextmanager
def shipped_request_log(stream: IO[str]) -> Iterator[RequestLineHandler]:
    """`blog.requests` set up as gunicorn.conf.py sets it, writing to `stream`; then restored.

    Entered inside a test: pytest hands its capturing handlers to a non-propagating logger
    when the test starts, and those would turn the direct path off.
    """
    config = shipped_logging()
    logger = config["loggers"]["blog.requests"]  # type: ignore[index]
    handler_config = config["handlers"][logger["handlers"][0]]  # type: ignore[index]
    assert handler_config == {"class": "blog.web.request_log.RequestLineHandler"}
    saved = (log.handlers[:], log.level, log.propagate)
    handler = RequestLineHandler(stream)
    log.handlers[:] = [handler]
    log.setLevel(logger["level"])
    log.propagate = logger["propagate"]
    try:
        yield handler
    finally:
        log.handlers[:], log.level, log.propagate = saved[0], saved[1], saved[2]


def lines(stream: io.StringIO) -> list[re.Match[str]]:
    """Each line written so far, matched against the line format."""
    found = [LINE.match(line) for line in stream.getvalue().splitlines()]
    assert all(found), stream.getvalue()
    return found  # type: ignore[return-value]


def test_the_shipped_config_takes_the_direct_path() -> None:
    stream = io.StringIO()
    with shipped_request_log(stream) as handler:
        assert direct_handler() is handler
        log_request("192.0.2.1", "GET", "/about/", 200, 512, 1.25)
    (line,) = lines(stream)
    assert line["message"] == '192.0.2.1 "GET /about/" 200 512 1.2ms'
    assert int(line["pid"]) == os.getpid()
    written = datetime.strptime(line["time"], "%Y-%m-%d %H:%M:%S,%f")
    assert abs((datetime.now() - written).total_seconds()) < 5


def test_a_direct_line_reads_as_its_record_would() -> None:
    stream = io.StringIO()
    args = ("-", "POST", "/comments/", 303, 0, 12.0)
    with shipped_request_log(stream) as handler:
        log_request(None, *args[1:])
        handler.emit(log.makeRecord(log.name, logging.INFO, __file__, 0, REQUEST_LINE, args, None))
    direct, through_record = lines(stream)
    assert direct["message"] == through_record["message"] == '- "POST /comments/" 303 0 12.0ms'
    assert direct["pid"] == through_record["pid"]
    assert direct["time"][:19] <= through_record["time"][:19]


def test_level_filters_and_other_handlers_are_honoured() -> None:
    stream, second = io.StringIO(), io.StringIO()

    def drop(record: logging.LogRecord) -> bool:
        return False

    with shipped_request_log(stream):
        log.setLevel(logging.WARNING)
        log_request("192.0.2.1", "GET", "/", 200, 1, 0.1)
        assert stream.getvalue() == ""
        log.setLevel(logging.INFO)

        log.addFilter(drop)
        assert direct_handler() is None
        log_request("192.0.2.1", "GET", "/", 200, 1, 0.1)
        assert stream.getvalue() == ""
        log.removeFilter(drop)

        log.addHandler(logging.StreamHandler(second))
        assert direct_handler() is None
        log_request("192.0.2.1", "GET", "/", 200, 1, 0.1)
    assert (
        lines(stream)[0]["message"] == second.getvalue().strip() == '192.0.2.1 "GET /" 200 1 0.1ms'
    )


def test_the_handler_takes_no_other_format() -> None:
    handler = RequestLineHandler(io.StringIO())
    handler.setFormatter(logging.Formatter(LINE_FORMAT))
    with pytest.raises(ValueError, match="lines only"):
        handler.setFormatter(logging.Formatter("%(message)s"))
    with pytest.raises(ValueError, match="lines only"):
        handler.setFormatter(logging.Formatter(LINE_FORMAT, datefmt="%H:%M"))


def test_a_forked_worker_writes_its_own_process_id(tmp_path: Path) -> None:
    out = tmp_path / "requests.log"
    with out.open("w") as stream, shipped_request_log(stream):
        log_request("-", "GET", "/parent/", 200, 1, 0.1)
        child = os.fork()
        if child == 0:  # a worker, as gunicorn forks it after setting up the logging
            try:
                log_request("-", "GET", "/child/", 200, 1, 0.1)
            finally:
                os._exit(0)
        os.waitpid(child, 0)
    found = [LINE.match(line) for line in out.read_text().splitlines()]
    pids = {m["message"].split()[2].strip('"'): int(m["pid"]) for m in found if m}
    assert pids == {"/parent/": os.getpid(), "/child/": child}


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
