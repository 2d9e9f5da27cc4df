"""Load-test clients on threads (http.client, 127.0.0.1 only) and the gunicorn worker watcher."""

from __future__ import annotations

import http.client
import os
import re
import signal
import threading
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, field

from bench.procs import HOST, children, proc_stat

ANONYMOUS = "anonymous read"
LOGGED_IN = "logged-in read"
COMMENT = "comment post"
KINDS = (ANONYMOUS, LOGGED_IN, COMMENT)
REQUEST_TIMEOUT_S = 15.0
# Every loop is bounded twice: by the deadline and by this many requests per thread.
MAX_REQUESTS_PER_THREAD = 1_000_000
ACCEPTED = re.compile(r"#comment-(\d+)$")


@dataclass(frozen=True)
class Outcome:
    """One request: when it ran, and the status it got or the connection error it met."""

    kind: str
    path: str
    started: float
    ended: float
    status: int | None = None
    location: str = ""
    error: str | None = None
    size: int = 0
    text: str = ""  # the comment's text, for a POST

    @property
    def ms(self) -> float:
        """Latency in milliseconds."""
        return (self.ended - self.started) * 1000.0

    @property
    def http_error(self) -> bool:
        """A response, but not a 2xx/3xx."""
        return self.status is not None and not 200 <= self.status < 400

    @property
    def comment_id(self) -> str | None:
        """The id of the stored comment, when the POST was answered 303 …#comment-N."""
        found = ACCEPTED.search(self.location) if self.status == 303 else None
        return found.group(1) if found else None


def send(
    port: int,
    kind: str,
    method: str,
    path: str,
    headers: dict[str, str],
    body: str | None = None,
    text: str = "",
) -> Outcome:
    """One request on a fresh connection (sync workers close it anyway); never raises."""
    started = time.monotonic()
    conn = http.client.HTTPConnection(HOST, port, timeout=REQUEST_TIMEOUT_S)
    try:
        conn.request(method, path, body=body, headers=headers)
        response = conn.getresponse()
        data = response.read()
        return Outcome(
            kind,
            path,
            started,
            time.monotonic(),
            status=response.status,
            location=response.getheader("Location") or "",
            size=len(data),
            text=text,
        )
    except (OSError, http.client.HTTPException) as exc:
        return Outcome(kind, path, started, time.monotonic(), error=type(exc).__name__, text=text)
    finally:
        conn.close()


@dataclass(frozen=True)
class Writer:
    """A logged-in user: session cookie value and the CSRF token of that session."""

    cookie: str
    csrf_token: str


@dataclass(frozen=True)
class Plan:
    """What the clients of one run do and until when."""

    port: int
    deadline: float
    anonymous_paths: tuple[str, ...]
    essay_path: str
    cookie_name: str
    post_id: int
    form_started: str
    label: str  # in every comment's text: this run's comments are told apart by it
    readers: int
    logged_in: int
    commenters: int
    writers: tuple[Writer, ...]


def _cookie(plan: Plan, writer: Writer) -> dict[str, str]:
    """The Cookie header that logs a request in as `writer`."""
    return {"Cookie": f"{plan.cookie_name}={writer.cookie}"}


def anonymous_reader(plan: Plan, number: int) -> list[Outcome]:
    """GET the home page, the essay and an archive in turn, without a cookie."""
    out: list[Outcome] = []
    paths = plan.anonymous_paths
    for n in range(MAX_REQUESTS_PER_THREAD):
        if time.monotonic() >= plan.deadline:
            break
        out.append(send(plan.port, ANONYMOUS, "GET", paths[(n + number) % len(paths)], {}))
    return out


def logged_in_reader(plan: Plan, number: int) -> list[Outcome]:
    """GET the essay with a writer's session cookie (never from the page cache)."""
    out: list[Outcome] = []
    writer = plan.writers[-1 - number % len(plan.writers)]
    for _n in range(MAX_REQUESTS_PER_THREAD):
        if time.monotonic() >= plan.deadline:
            break
        out.append(send(plan.port, LOGGED_IN, "GET", plan.essay_path, _cookie(plan, writer)))
    return out


def commenter(plan: Plan, number: int) -> list[Outcome]:
    """POST comments as this thread's own writers in turn, each with its CSRF token."""
    out: list[Outcome] = []
    mine = plan.writers[number :: plan.commenters] or plan.writers
    for n in range(MAX_REQUESTS_PER_THREAD):
        if time.monotonic() >= plan.deadline:
            break
        writer = mine[n % len(mine)]
        text = f"Load comment {plan.label} c{number}-{n}"
        body = urllib.parse.urlencode(
            {
                "csrf_token": writer.csrf_token,
                "post_id": str(plan.post_id),
                "form_started": plan.form_started,
                "comment": text,
            }
        )
        headers = {"Content-Type": "application/x-www-form-urlencoded", **_cookie(plan, writer)}
        out.append(send(plan.port, COMMENT, "POST", "/comments/", headers, body, text))
    return out


def run_clients(plan: Plan) -> list[Outcome]:
    """Start every client thread at once; join them (they stop at the deadline)."""
    results: dict[tuple[str, int], list[Outcome]] = {}
    loops: list[tuple[Callable[[Plan, int], list[Outcome]], int]] = [
        (anonymous_reader, plan.readers),
        (logged_in_reader, plan.logged_in),
        (commenter, plan.commenters),
    ]

    def _run(loop: Callable[[Plan, int], list[Outcome]], number: int) -> None:
        """Run one client loop and keep what it recorded."""
        results[(loop.__name__, number)] = loop(plan, number)

    threads = [
        threading.Thread(target=_run, args=(loop, n), name=f"{loop.__name__}-{n}", daemon=True)
        for loop, count in loops
        for n in range(count)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=max(0.0, plan.deadline - time.monotonic()) + REQUEST_TIMEOUT_S + 5)
    # A copy: a thread that outlived its join would otherwise change the dict under us.
    return [outcome for outcomes in list(results.values()) for outcome in outcomes]


@dataclass
class WorkerWatch:
    """Samples the master's workers; SIGKILLs one of them at `kill_at` and times the restart."""

    master: int
    kill_at: float
    deadline: float
    started: float = field(default_factory=time.monotonic)
    seen: dict[int, float] = field(default_factory=dict)  # pid -> first seen (s into the run)
    victim: int | None = None
    killed_at: float | None = None  # monotonic
    replacement: int | None = None
    replaced_after_s: float | None = None
    note: str = ""
    before: set[int] = field(default_factory=set)  # the workers alive at the kill

    def run(self) -> None:
        """Sample every 50 ms until the deadline (a bounded loop)."""
        while time.monotonic() < self.deadline:
            now = time.monotonic()
            current = children(self.master)
            for pid in current:
                self.seen.setdefault(pid, now - self.started)
            if self.victim is None and now >= self.kill_at:
                self._kill(current)
            elif self.killed_at is not None and self.replacement is None:
                new = [p for p in current if p not in self.before]
                if new:
                    self.replacement = new[0]
                    self.replaced_after_s = now - self.killed_at
            time.sleep(0.05)

    def _kill(self, current: list[int]) -> None:
        """SIGKILL one live worker, preferring one that is running."""
        if not current:
            self.victim, self.note = -1, "no worker to kill"
            return
        # A worker that is running (state R) is most likely in the middle of a request.
        states = {pid: (proc_stat(pid) or (0, "?"))[1] for pid in current}
        victim = next((p for p in current if states[p] == "R"), current[0])
        self.before = set(current)
        os.kill(victim, signal.SIGKILL)
        self.victim, self.killed_at = victim, time.monotonic()
        self.note = f"worker state was {states[victim]}"

    def start(self) -> threading.Thread:
        """Run in a daemon thread."""
        thread = threading.Thread(target=self.run, name="worker-watch", daemon=True)
        thread.start()
        return thread
