"""Rendering many posts at once: on every core when there are enough of them.

Python-Markdown is pure Python and takes milliseconds a post, so a first sync of a large blog
is bound by one core. The posts are independent, so a pool of processes renders them side by
side; a handful of changed files is rendered in this process, where starting a pool would cost
more than it saves.
"""

from __future__ import annotations

import os
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path

from blog.content.images import image_resolver
from blog.content.render import RenderedPost, render_post

# Below this many posts the pool's start-up (a fresh interpreter per process) is not worth it.
PARALLEL_FROM = 64
MAX_PROCESSES = 8
CHUNK = 16


def _render(job: tuple[str, str, str]) -> RenderedPost:
    body, summary, posts_dir = job
    return render_post(body, summary, image_resolver(Path(posts_dir)))


def render_many(
    jobs: list[tuple[str, str]], posts_dir: Path, parallel_from: int = PARALLEL_FROM
) -> list[RenderedPost]:
    """Render (body, summary) pairs in order, with a process per core for large batches."""
    work = [(body, summary, str(posts_dir)) for body, summary in jobs]
    processes = min(os.cpu_count() or 1, MAX_PROCESSES)
    if len(work) < parallel_from or processes < 2:
        return [_render(job) for job in work]
    # spawn, not fork: the app may run threads (mail sender, cache sweeper) holding locks.
    with ProcessPoolExecutor(processes, mp_context=get_context("spawn")) as pool:
        return list(pool.map(_render, work, chunksize=CHUNK))
