"""A thread per process that keeps the static folder honest when nobody asks the app.

nginx serves the files without asking the app, so time alone must remove them: every second
the thread deletes the files whose pages have expired (a scheduled post went live, comments
closed, the cache lifetime ran out). With Redis, app servers on other machines publish the
tags they invalidate, and the thread deletes this machine's files for them too.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from typing import TYPE_CHECKING

from flask import Flask

if TYPE_CHECKING:
    from redis import Redis

    from blog.cache.pages import PageCache

log = logging.getLogger(__name__)
SWEEP_SECONDS = 1.0
CHANNEL_SUFFIX = "invalidated"


def channel(prefix: str) -> str:
    """The Redis channel on which invalidated tags are published."""
    return f"{prefix}{CHANNEL_SUFFIX}"


class Maintenance:
    """Sweeps expired files and applies other servers' invalidations to this machine's files."""

    def __init__(self, app: Flask, cache: PageCache, client: Redis | None, prefix: str) -> None:
        self.app = app
        self.cache = cache
        self.client = client
        self.channel = channel(prefix)
        self.stopping = threading.Event()
        self.thread: threading.Thread | None = None

    def start(self) -> None:
        """Run the loop in a daemon thread of this process."""
        self.thread = threading.Thread(target=self._run, name="page-cache", daemon=True)
        self.thread.start()

    def stop(self) -> None:
        """Stop the loop and wait for it."""
        self.stopping.set()
        if self.thread is not None and self.thread.is_alive():
            self.thread.join(timeout=5)

    def _run(self) -> None:
        static = self.cache.static
        pubsub = None
        next_sweep = 0.0
        while not self.stopping.is_set() and static is not None and static.root.is_dir():
            try:
                if self.client is not None and pubsub is None:
                    pubsub = self.client.pubsub(ignore_subscribe_messages=True)
                    pubsub.subscribe(self.channel)
                if pubsub is not None:
                    message = pubsub.get_message(timeout=SWEEP_SECONDS)
                    if message is not None and message.get("type") == "message":
                        tags = set(json.loads(message["data"]))
                        static.invalidate(tags, everything="site" in tags)
                else:
                    self.stopping.wait(SWEEP_SECONDS)
                if time.monotonic() >= next_sweep:
                    next_sweep = time.monotonic() + SWEEP_SECONDS
                    with self.app.app_context():
                        self.cache.sweep()
            except Exception:
                log.exception("page cache maintenance failed; retrying")
                if pubsub is not None:
                    pubsub.close()
                pubsub = None
                self.stopping.wait(SWEEP_SECONDS)
        if pubsub is not None:
            pubsub.close()


def start_maintenance(app: Flask, cache: PageCache, client: Redis | None, prefix: str) -> None:
    """Start the thread now and again in each forked child (gunicorn --preload)."""
    job = Maintenance(app, cache, client, prefix)
    cache.maintenance = job
    job.start()

    def _in_child() -> None:
        # Threads do not survive fork: the child needs its own (unless this one was stopped).
        if cache.maintenance is None or cache.maintenance.stopping.is_set():
            return
        fresh = Maintenance(app, cache, client, prefix)
        cache.maintenance = fresh
        fresh.start()

    os.register_at_fork(after_in_child=_in_child)
