"""The load test's figures: per-kind statistics, the lost-comment check, the log, the tables."""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from bench.load_clients import ANONYMOUS, COMMENT, KINDS, LOGGED_IN, Outcome, WorkerWatch

# A request counts as cut off by the kill when it was in flight at that moment (± this slack).
KILL_SLACK_S = 0.05


def percentile(values: list[float], fraction: float) -> float:
    """Nearest-rank percentile; NaN for no values."""
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[max(0, math.ceil(fraction * len(ordered)) - 1)]


def cut_by_kill(outcome: Outcome, killed_at: float | None) -> bool:
    """A connection error on a request that was in flight when the worker was killed."""
    return (
        outcome.error is not None
        and killed_at is not None
        and outcome.started <= killed_at + KILL_SLACK_S
        and outcome.ended >= killed_at - KILL_SLACK_S
    )


@dataclass(frozen=True)
class KindStats:
    """One kind of request over one run."""

    label: str
    requests: int
    per_s: float
    p50_ms: float
    p99_ms: float
    http_errors: Counter[int]
    cut_at_kill: int
    other_conn_errors: Counter[str]

    @classmethod
    def of(
        cls, label: str, outcomes: list[Outcome], seconds: float, killed_at: float | None
    ) -> KindStats:
        """Count, rate and latency (of answered requests) for these outcomes."""
        answered = [o.ms for o in outcomes if o.status is not None]
        cut = [o for o in outcomes if cut_by_kill(o, killed_at)]
        return cls(
            label=label,
            requests=len(outcomes),
            per_s=len(outcomes) / seconds if seconds else 0.0,
            p50_ms=percentile(answered, 0.50),
            p99_ms=percentile(answered, 0.99),
            http_errors=Counter(o.status for o in outcomes if o.http_error and o.status),
            cut_at_kill=len(cut),
            other_conn_errors=Counter(
                o.error for o in outcomes if o.error and not cut_by_kill(o, killed_at)
            ),
        )


@dataclass
class CommentCheck:
    """Every comment answered 303 …#comment-N, looked for in the database and on the page."""

    accepted: dict[str, str] = field(default_factory=dict)  # id -> text
    missing_in_db: list[str] = field(default_factory=list)
    missing_on_page: list[str] = field(default_factory=list)
    missing_logged_in: list[str] = field(default_factory=list)
    stored_unconfirmed: list[str] = field(default_factory=list)
    duplicated_texts: list[str] = field(default_factory=list)
    page_bytes: int = 0
    page_comments: int = 0

    @property
    def lost(self) -> bool:
        """True when an accepted comment is not stored or not shown."""
        return bool(self.missing_in_db or self.missing_on_page or self.missing_logged_in)


def check_comments(
    outcomes: list[Outcome], label: str, stored: dict[str, str], page: str, logged_in_page: str
) -> CommentCheck:
    """Compare the 303s against the stored rows and both renderings of the essay."""
    check = CommentCheck(page_bytes=len(page.encode()), page_comments=page.count('id="comment-'))
    for outcome in outcomes:
        if outcome.comment_id is not None:
            check.accepted[outcome.comment_id] = outcome.text

    def shown(html: str, cid: str, text: str) -> bool:
        """The comment's anchor and its rendered text are both in the page."""
        return f'id="comment-{cid}"' in html and f"<p>{text}</p>" in html

    for cid, text in check.accepted.items():
        got = stored.get(cid)
        if got != text:
            check.missing_in_db.append(f"#{cid} {text!r} (database has {got!r})")
        if not shown(page, cid, text):
            check.missing_on_page.append(f"#{cid} {text!r}")
        if not shown(logged_in_page, cid, text):
            check.missing_logged_in.append(f"#{cid} {text!r}")
    ours = {cid: body for cid, body in stored.items() if label in body}
    check.stored_unconfirmed = [
        f"#{cid} {body!r}" for cid, body in ours.items() if cid not in check.accepted
    ]
    counts = Counter(ours.values())
    check.duplicated_texts = [f"{text!r} x{n}" for text, n in counts.items() if n > 1]
    return check


_LOG_PREFIX = re.compile(r"^\S+ \S+ \d+ ")
CRASH_LINES = 40


def log_findings(log: Path, victim: int | None) -> tuple[list[str], Counter[str], list[str]]:
    """(lines about the killed worker, other WARNING/ERROR/CRITICAL/Traceback lines by text,
    the first lines of each crash report that PYTHONFAULTHANDLER wrote)."""
    expected: list[str] = []
    other: Counter[str] = Counter()
    crashes: list[str] = []
    if not log.exists():
        return expected, other, crashes
    lines = log.read_text(encoding="utf-8", errors="replace").splitlines()
    for number, line in enumerate(lines):
        if line.startswith("Fatal Python error"):
            crashes.append("\n      ".join(lines[number : number + CRASH_LINES]))
        if not re.search(r"\b(WARNING|ERROR|CRITICAL)\b|Traceback", line):
            continue
        if victim is not None and f"pid:{victim})" in line:
            expected.append(line)
        else:
            other[_LOG_PREFIX.sub("", line)[:200]] += 1
    return expected, other, crashes


@dataclass
class RunResult:
    """Everything one database's run measured."""

    database: str
    seconds: float = 0.0
    outcomes: list[Outcome] = field(default_factory=list)
    watch: WorkerWatch | None = None
    began: float = 0.0  # monotonic start of the clients
    rss_kib: dict[int, int | None] = field(default_factory=dict)
    master_rss_kib: int | None = None
    check: CommentCheck | None = None
    kill_log: list[str] = field(default_factory=list)
    other_log: Counter[str] = field(default_factory=Counter)
    crashes: list[str] = field(default_factory=list)
    skipped: str = ""
    error: str = ""

    def stats(self) -> list[KindStats]:
        """One row per kind, plus one per page the anonymous readers asked for."""
        killed = self.watch.killed_at if self.watch else None
        rows = []
        for kind in KINDS:
            mine = [o for o in self.outcomes if o.kind == kind]
            rows.append(KindStats.of(kind, mine, self.seconds, killed))
            if kind == ANONYMOUS:
                for path in sorted({o.path for o in mine}):
                    here = [o for o in mine if o.path == path]
                    rows.append(KindStats.of(f"  {path}", here, self.seconds, killed))
        return rows

    def quarter_p50s(self, kind: str) -> list[float]:
        """p50 ms of one kind in each quarter of the run: how the cost grows with the page."""
        quarter = self.seconds / 4
        return [
            percentile(
                [
                    o.ms
                    for o in self.outcomes
                    if o.kind == kind
                    and o.status is not None
                    and q * quarter <= o.started - self.began < (q + 1) * quarter
                ],
                0.5,
            )
            for q in range(4)
        ]


def _fmt(value: float) -> str:
    """One decimal, or a dash for no value."""
    return "-" if math.isnan(value) else f"{value:.1f}"


def table(results: list[RunResult]) -> str:
    """The per-database, per-kind markdown table."""
    head = (
        "| database | request | requests | req/s | p50 ms | p99 ms | HTTP errors "
        "| conn. errors at kill | other conn. errors |"
    )
    lines = [head, "|" + "---|" * 9]
    for result in results:
        if result.skipped or not result.outcomes:
            continue
        for row in result.stats():
            http = sum(row.http_errors.values())
            statuses = ", ".join(f"{s}x{n}" for s, n in sorted(row.http_errors.items()))
            other = sum(row.other_conn_errors.values())
            kinds = ", ".join(f"{e}x{n}" for e, n in sorted(row.other_conn_errors.items()))
            lines.append(
                f"| {result.database} | {row.label} | {row.requests:,} | {row.per_s:.1f} "
                f"| {_fmt(row.p50_ms)} | {_fmt(row.p99_ms)} "
                f"| {http}{f' ({statuses})' if statuses else ''} | {row.cut_at_kill} "
                f"| {other}{f' ({kinds})' if kinds else ''} |"
            )
    return "\n".join(lines)


def _list(title: str, items: list[str], limit: int = 20) -> list[str]:
    """A titled, indented list of at most `limit` items (none when empty)."""
    if not items:
        return []
    more = f" (first {limit} of {len(items)})" if len(items) > limit else ""
    return [f"  {title}: {len(items)}{more}", *(f"    {item}" for item in items[:limit])]


def details(result: RunResult) -> str:
    """What happened besides the table: the kill, the comment check, memory, the log."""
    out = [f"[{result.database}]"]
    if result.skipped:
        return "\n".join([*out, f"  skipped: {result.skipped}"])
    if result.error:
        out.append(f"  FAILED: {result.error}")
    watch = result.watch
    if watch is not None:
        if watch.killed_at is None or watch.victim in (None, -1):
            out.append(f"  worker kill: did NOT happen ({watch.note or 'run too short'})")
        else:
            at = watch.killed_at - result.began
            restart = (
                f"master forked pid {watch.replacement} {watch.replaced_after_s:.2f}s later"
                if watch.replacement
                else "NO replacement worker appeared before the deadline"
            )
            out.append(
                f"  worker kill: SIGKILL pid {watch.victim} at {at:.1f}s ({watch.note}); {restart}"
            )
        pids = ", ".join(f"{pid}@{t:.1f}s" for pid, t in sorted(watch.seen.items()))
        out.append(f"  workers seen during the run (pid@first seen): {pids}")
    comments = [o for o in result.outcomes if o.kind == COMMENT]
    others = Counter(
        f"{o.status} {o.location or ''}".strip()
        for o in comments
        if o.status and o.comment_id is None
    )
    if others:
        out.append(f"  comment POSTs not accepted: {dict(others)}")
    check = result.check
    if check is not None:
        out.append(
            f"  comments accepted (303 #comment-N): {len(check.accepted):,}; essay page at the "
            f"end: {check.page_bytes / 1e6:.2f} MB, {check.page_comments:,} comments shown"
        )
        out += _list("MISSING from the database", check.missing_in_db)
        out += _list("MISSING from the essay page (anonymous)", check.missing_on_page)
        out += _list("MISSING from the essay page (logged in)", check.missing_logged_in)
        out += _list("stored without a 303 (request cut off)", check.stored_unconfirmed)
        out += _list("DUPLICATED in the database", check.duplicated_texts)
        if not check.lost:
            out.append("  every accepted comment is in the database and on the page: none lost")
    for kind in (ANONYMOUS, LOGGED_IN, COMMENT):
        quarters = ", ".join(_fmt(v) for v in result.quarter_p50s(kind))
        out.append(f"  p50 ms by quarter of the run, {kind}: {quarters}")
    rss = ", ".join(
        f"pid {pid}: {kib / 1024:.1f} MiB" if kib else f"pid {pid}: gone"
        for pid, kib in sorted(result.rss_kib.items())
    )
    master = f"{result.master_rss_kib / 1024:.1f} MiB" if result.master_rss_kib else "?"
    out.append(f"  worker RSS (VmRSS) at the end: {rss or 'no workers'}; master {master}")
    out += _list("gunicorn log about the killed worker", result.kill_log, 5)
    other_log = [f"{n}x {line}" for line, n in result.other_log.most_common()]
    out += _list("other warnings/errors in the gunicorn log", other_log, 10)
    out += _list("CRASHES (faulthandler) in the gunicorn log", result.crashes, 3)
    return "\n".join(out)
