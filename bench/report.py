"""The benchmark's verdict: a markdown table, the issue's targets with PASS/MISS, and JSON."""

from __future__ import annotations

import json
import os
import platform
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.procs import WORKERS, WRK_CONNECTIONS, WRK_THREADS
from bench.scenarios import Options, SizeResult

TARGET_POSTS = 10_000


@dataclass(frozen=True)
class Target:
    """A goal from the issue: what is measured, at which corpus size, and the bar."""

    name: str
    goal: str
    measure: Callable[[SizeResult], float | None]
    passes: Callable[[float], bool]
    fmt: str
    only_posts: int | None = None


def _post_ratio(size: SizeResult) -> float | None:
    return next((p.ratio for p in size.pages if p.page == "post"), None)


TARGETS = (
    Target(
        "cold sync", "≤ 30 s", lambda s: s.cold_sync_s, lambda v: v <= 30, "{:.2f} s", TARGET_POSTS
    ),
    Target(
        "warm start", "≤ 2 s", lambda s: s.warm_start_s, lambda v: v <= 2, "{:.2f} s", TARGET_POSTS
    ),
    Target("post page / floor", "≥ 35%", _post_ratio, lambda v: v >= 0.35, "{:.0%}"),
)


def verdicts(sizes: list[SizeResult]) -> list[dict[str, Any]]:
    """Each target at each size it applies to: the measured value and PASS, MISS or n/a."""
    rows: list[dict[str, Any]] = []
    for target in TARGETS:
        applicable = [s for s in sizes if target.only_posts in (None, s.posts)]
        if not applicable:
            rows.append(
                {
                    "target": target.name,
                    "posts": target.only_posts,
                    "goal": target.goal,
                    "value": None,
                    "measured": "not run",
                    "result": "n/a",
                }
            )
        for size in applicable:
            value = target.measure(size)
            rows.append(
                {
                    "target": target.name,
                    "posts": size.posts,
                    "goal": target.goal,
                    "value": value,
                    "measured": "—" if value is None else target.fmt.format(value),
                    "result": "n/a"
                    if value is None
                    else "PASS"
                    if target.passes(value)
                    else "MISS",
                }
            )
    return rows


def _result(target: Target, value: float | None) -> str:
    if value is None:
        return "n/a"
    return "PASS" if target.passes(value) else "MISS"


def _num(value: float | None, spec: str = ".2f") -> str:
    return "—" if value is None else format(value, spec)


def markdown_table(sizes: list[SizeResult], options: Options) -> str:
    """The figures and the targets as markdown tables."""
    lines = [
        f"gunicorn {WORKERS} sync workers; wrk -t{WRK_THREADS} -c{WRK_CONNECTIONS} "
        f"-d{options.duration_s}s --latency (after a {options.warmup_s}s warm-up); "
        f"{os.cpu_count()} CPUs; Python {platform.python_version()}",
        "",
        "| posts | cold sync s | warm start s | page | req/s | p99 ms "
        "| floor req/s | floor p99 ms | ratio |",
        "| ---: | ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for size in sizes:
        head = f"| {size.posts:,} | {_num(size.cold_sync_s)} | {_num(size.warm_start_s)} "
        if not size.pages:
            lines.append(head + "| — | — | — | — | — | — |")
        for page in size.pages:
            lines.append(
                head + f"| {page.page} | {page.blog.requests_per_s:,.0f} | {page.blog.p99_ms:.1f} "
                f"| {page.floor.requests_per_s:,.0f} | {page.floor.p99_ms:.1f} "
                f"| {page.ratio:.0%} |"
            )
    lines += [
        "",
        "| target | posts | goal | measured | result |",
        "| --- | ---: | --- | ---: | --- |",
    ]
    for row in verdicts(sizes):
        posts = "any" if row["posts"] is None else f"{row['posts']:,}"
        lines.append(
            f"| {row['target']} | {posts} | {row['goal']} | {row['measured']} | {row['result']} |"
        )
    return "\n".join(lines)


def write_json(sizes: list[SizeResult], options: Options, out_dir: Path) -> Path:
    """Write the run as JSON under out_dir (also as latest.json); return the file's path."""
    out_dir.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC)
    document = {
        "finished_at": stamp.isoformat(timespec="seconds"),
        "options": {**options.__dict__, "posts": list(options.posts)},
        "setup": {
            "gunicorn_workers": WORKERS,
            "worker_class": "sync",
            "wrk": {"threads": WRK_THREADS, "connections": WRK_CONNECTIONS},
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
        },
        "sizes": [s.as_dict() for s in sizes],
        "targets": verdicts(sizes),
        "table_markdown": markdown_table(sizes, options),
    }
    text = json.dumps(document, indent=2, ensure_ascii=False) + "\n"
    path = out_dir / f"bench-{stamp:%Y%m%dT%H%M%SZ}{'-smoke' if options.smoke else ''}.json"
    path.write_text(text, encoding="utf-8")
    (out_dir / "latest.json").write_text(text, encoding="utf-8")
    return path
