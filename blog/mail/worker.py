"""The mail loop: announce newly live posts, then send what is due; as a worker or a thread."""

from __future__ import annotations

import logging
import signal
import threading

from flask import Flask

from blog.clock import utcnow
from blog.mail.notify import announce_posts
from blog.mail.sender import SendCounts, send_due
from blog.publishing.hooks import schema_ready

log = logging.getLogger(__name__)


def tick(app: Flask) -> SendCounts:
    """One round: announce posts whose time has come, then send the due mail."""
    with app.app_context():
        if not schema_ready():
            log.warning("mail: the database has no schema yet: run `flask db upgrade`")
            return SendCounts()
        announce_posts(utcnow())
    return send_due(app)


def run_loop(app: Flask, interval: float, stop: threading.Event) -> None:
    """Tick every `interval` seconds until `stop` is set; one failed tick never ends the loop."""
    while not stop.is_set():
        try:
            tick(app)
        except Exception:
            # A locked database or a bug in one message must not stop mail for good.
            log.exception("mail tick failed; trying again in %s s", interval)
        stop.wait(interval)


class BackgroundSender:
    """A daemon thread running the mail loop inside a development server."""

    def __init__(self, app: Flask, interval: float) -> None:
        self.stop_event = threading.Event()
        self.thread = threading.Thread(
            target=run_loop,
            args=(app, interval, self.stop_event),
            name="blog-mail-sender",
            daemon=True,
        )

    def start(self) -> BackgroundSender:
        """Start the thread; returns self."""
        self.thread.start()
        return self

    def stop(self, timeout: float = 5.0) -> None:
        """Ask the loop to end and wait for it."""
        self.stop_event.set()
        self.thread.join(timeout)


def start_background_sender(app: Flask, interval: float = 5.0) -> BackgroundSender:
    """Start the mail loop in a daemon thread of this process."""
    log.info("mail: background sender started (every %s s)", interval)
    return BackgroundSender(app, interval).start()


def run_worker(app: Flask, once: bool, interval: float) -> SendCounts | None:
    """`flask blog send-mail`: one tick with --once, else loop until Ctrl-C or SIGTERM."""
    if once:
        return tick(app)
    stop = threading.Event()
    if threading.current_thread() is threading.main_thread():
        # Finish the message in hand on SIGTERM instead of dying mid-send (which would mean a
        # resend after the claim's lease runs out).
        signal.signal(signal.SIGTERM, lambda _signum, _frame: stop.set())
    log.info("mail worker: polling every %s s", interval)
    try:
        run_loop(app, interval, stop)
    except KeyboardInterrupt:
        log.info("mail worker: stopped")
    return None
