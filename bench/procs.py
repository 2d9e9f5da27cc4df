"""Processes the benchmark starts: gunicorn servers and wrk runs, all on 127.0.0.1 and bounded."""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

from blog.config import PROJECT_ROOT

HOST = "127.0.0.1"
WORKERS = 2
WRK_THREADS = 2
WRK_CONNECTIONS = 16
START_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 10.0
_UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


class BenchError(RuntimeError):
    """Something the benchmark needs failed or is missing."""


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def clean_env(extra: dict[str, str]) -> dict[str, str]:
    """The current environment without any BLOG_* setting, plus `extra`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("BLOG_")}
    env.update(extra)
    return env


def require_tool(name: str) -> str:
    """The path of an executable on PATH, or a BenchError saying how to get it."""
    found = shutil.which(name)
    if found is None:
        raise BenchError(f"`{name}` is not installed (Debian: apt-get install {name})")
    return found


def fetch(
    url: str, timeout: float = 10.0, headers: dict[str, str] | None = None
) -> tuple[bytes, str]:
    """GET a URL; return (body, content type); raise on anything but 200."""
    request = urllib.request.Request(url, headers=headers or {})
    with urllib.request.urlopen(request, timeout=timeout) as response:
        if response.status != 200:
            raise BenchError(f"GET {url} answered {response.status}")
        return response.read(), response.headers.get("Content-Type", "")


class Gunicorn:
    """A gunicorn with sync workers on a free port of 127.0.0.1; a context manager that kills it."""

    def __init__(
        self, app: str, env: dict[str, str], log_dir: Path, name: str, config: Path | None = None
    ) -> None:
        self.app = app
        self.env = env
        # Without -c, gunicorn would read ./gunicorn.conf.py; an empty file makes "none" explicit.
        if config is None:
            config = log_dir / "gunicorn-none.conf.py"
            config.touch()
        self.config = config
        self.port = free_port()
        self.url = f"http://{HOST}:{self.port}"
        self.log_path = log_dir / f"{name}-{self.port}.log"
        self.process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> Gunicorn:
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def start(self, probe_path: str = "/") -> None:
        """Start the server and wait until `probe_path` answers."""
        args = [
            sys.executable,
            "-m",
            "gunicorn",
            "--config",
            str(self.config),
            "--workers",
            str(WORKERS),
            "--worker-class",
            "sync",
            "--bind",
            f"{HOST}:{self.port}",
            "--chdir",
            str(PROJECT_ROOT),
            "--log-level",
            "warning",
            self.app,
        ]
        with self.log_path.open("wb") as log:
            # Own session: the master and its workers form one group that stop() can end.
            self.process = subprocess.Popen(
                args,
                cwd=PROJECT_ROOT,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self._wait_ready(probe_path)

    def _wait_ready(self, probe_path: str) -> None:
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.process is None or self.process.poll() is not None:
                raise BenchError(f"gunicorn {self.app} exited early:\n{self.log_tail()}")
            try:
                fetch(self.url + probe_path, timeout=2.0)
                return
            except urllib.error.HTTPError as exc:
                raise BenchError(
                    f"gunicorn {self.app} answered {exc.code} on {probe_path}:\n{self.log_tail()}"
                ) from exc
            except OSError:
                time.sleep(0.1)
        raise BenchError(f"gunicorn {self.app} not ready in {START_TIMEOUT_S}s:\n{self.log_tail()}")

    def log_tail(self, lines: int = 30) -> str:
        """The last lines of the server's log."""
        if not self.log_path.exists():
            return ""
        text = self.log_path.read_text(encoding="utf-8", errors="replace")
        return "\n".join(text.splitlines()[-lines:])

    def stop(self) -> None:
        """SIGTERM the master (graceful), then SIGKILL its process group if anything lingers."""
        process, self.process = self.process, None
        if process is None:
            return
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=STOP_TIMEOUT_S)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=STOP_TIMEOUT_S)


@dataclass(frozen=True)
class WrkResult:
    """What one wrk run measured."""

    requests_per_s: float
    p50_ms: float
    p99_ms: float
    requests: int
    non_2xx: int
    socket_errors: int

    @property
    def clean(self) -> bool:
        """True when every response was a 2xx/3xx and no socket failed."""
        return self.non_2xx == 0 and self.socket_errors == 0


def _ms(value: str, unit: str) -> float:
    return float(value) * _UNITS_MS[unit]


def parse_wrk(output: str) -> WrkResult:
    """Parse wrk's `--latency` report."""
    rps = re.search(r"^Requests/sec:\s+([\d.]+)", output, re.M)
    p50 = re.search(r"^\s+50%\s+([\d.]+)(us|ms|s|m)\b", output, re.M)
    p99 = re.search(r"^\s+99%\s+([\d.]+)(us|ms|s|m)\b", output, re.M)
    total = re.search(r"^\s+(\d+) requests in", output, re.M)
    if not (rps and p50 and p99 and total):
        raise BenchError(f"cannot parse wrk output:\n{output}")
    non_2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    sockets = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    )
    return WrkResult(
        requests_per_s=float(rps.group(1)),
        p50_ms=_ms(*p50.groups()),
        p99_ms=_ms(*p99.groups()),
        requests=int(total.group(1)),
        non_2xx=int(non_2xx.group(1)) if non_2xx else 0,
        socket_errors=sum(int(n) for n in sockets.groups()) if sockets else 0,
    )


def run_wrk(
    url: str,
    duration_s: int,
    headers: dict[str, str] | None = None,
    script: Path | None = None,
) -> WrkResult:
    """One `wrk -t2 -c16 -d<duration>s --latency` run against a 127.0.0.1 URL."""
    if not url.startswith(f"http://{HOST}:"):
        raise BenchError(f"refusing to load anything but {HOST}: {url}")
    args = [
        require_tool("wrk"),
        f"-t{WRK_THREADS}",
        f"-c{WRK_CONNECTIONS}",
        f"-d{duration_s}s",
        "--timeout",
        "5s",
        "--latency",
    ]
    for name, value in (headers or {}).items():
        args += ["-H", f"{name}: {value}"]
    if script is not None:
        args += ["-s", str(script)]
    args.append(url)
    done = subprocess.run(
        args, capture_output=True, text=True, timeout=duration_s + 30, check=False
    )
    if done.returncode != 0:
        raise BenchError(f"wrk failed ({done.returncode}): {done.stderr or done.stdout}")
    return parse_wrk(done.stdout)


def proc_stat(pid: int) -> tuple[int, str] | None:
    """(parent pid, state) from /proc/<pid>/stat, None when the process is gone."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = raw.rsplit(")", 1)[1].split()  # the command name may hold spaces and brackets
    return int(fields[1]), fields[0]


def children(parent: int) -> list[int]:
    """Live (not zombie) child processes of `parent`, found by scanning /proc."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            stat = proc_stat(int(entry.name))
            if stat is not None and stat[0] == parent and stat[1] != "Z":
                found.append(int(entry.name))
    return sorted(found)


def rss_kib(pid: int) -> int | None:
    """VmRSS of a process in KiB, from /proc/<pid>/status."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        return None
    return None
