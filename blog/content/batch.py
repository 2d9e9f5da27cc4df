"""Rendering many posts at once: on every core when there are enough of them.

Python-Markdown is pure Python, so rendering is most of a first sync of a large blog, and one
process keeps only one core busy. The posts are independent, so a pool of processes renders
them side by side; a handful of changed files is rendered in this process, where starting a
pool would cost more than it saves. Posts are handed over as they are read, so the pool starts
and renders while the rest of the files are still being parsed.
"""

from __future__ import annotations

import os
from concurrent.futures import Future, ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path
from types import TracebackType

from blog.content.images import image_resolver
from blog.content.render import RenderedPost, render_post

# Below this many posts the pool's start-up (a fresh interpreter per process) is not worth it.
PARALLEL_FROM = 64
MAX_PROCESSES = 8
CHUNK = 16


def _render_chunk(jobs: list[tuple[str, str]], posts_dir: str) -> list[RenderedPost]:
    resolver = image_resolver(Path(posts_dir))
    return [render_post(body, summary, resolver) for body, summary in jobs]


class RenderQueue:
    """Posts to render, (body, summary) pairs in order; a pool renders them once there are many.

    Use as a context manager, add() every post, then take results() before leaving.
    """

    def __init__(self, posts_dir: Path, parallel_from: int | None = None) -> None:
        self.posts_dir = posts_dir
        self.parallel_from = PARALLEL_FROM if parallel_from is None else parallel_from
        self.processes = min(os.cpu_count() or 1, MAX_PROCESSES)
        self.waiting: list[tuple[str, str]] = []
        self.pool: ProcessPoolExecutor | None = None
        self.futures: list[Future[list[RenderedPost]]] = []

    def __enter__(self) -> RenderQueue:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self.pool is not None:
            self.pool.shutdown(cancel_futures=True)

    def add(self, body: str, summary: str) -> None:
        """Queue one post; with enough of them the pool starts and renders as they come."""
        self.waiting.append((body, summary))
        if self.pool is None and len(self.waiting) >= self.parallel_from and self.processes > 1:
            # spawn, not fork: the app may run threads (the mail sender) holding locks.
            self.pool = ProcessPoolExecutor(self.processes, mp_context=get_context("spawn"))
        if self.pool is not None:
            while len(self.waiting) >= CHUNK:
                self._submit(self.waiting[:CHUNK])
                del self.waiting[:CHUNK]

    def results(self) -> list[RenderedPost]:
        """Every queued post rendered, in the order they were added."""
        if self.pool is None:
            jobs, self.waiting = self.waiting, []
            return _render_chunk(jobs, str(self.posts_dir))
        if self.waiting:
            self._submit(self.waiting)
            self.waiting = []
        return [post for future in self.futures for post in future.result()]

    def _submit(self, jobs: list[tuple[str, str]]) -> None:
        assert self.pool is not None
        self.futures.append(self.pool.submit(_render_chunk, list(jobs), str(self.posts_dir)))
