"""A private nginx on 127.0.0.1 around the shipped site config, for the tests and the benchmark.

The site config (deploy/nginx.conf, with the values of its marked lines replaced by site_conf)
is an http-context file; this module wraps it in a main context that sets only what a private
prefix needs. The pid file and temp folders are
compiled in as /run/nginx.pid and /var/lib/nginx/*, which neither may touch; as root the
workers would run as "nobody", who cannot read 0700 temporary folders, so they keep the
current user. The access log records, per request, the value of MARK_HEADER and whether nginx
asked the app ($upstream_addr) or answered from its cache ("-").
"""

from __future__ import annotations

import contextlib
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import TracebackType

from blog.config import PROJECT_ROOT

SITE_CONF = PROJECT_ROOT / "deploy" / "nginx.conf"
# `    directive VALUE ...;  # @name ...`: the value a deployment (or a test) sets.
MARKED_LINE = re.compile(
    r"^(?P<head>[ \t]*[a-z_]+[ \t]+)(?P<value>[^\s;]+)"
    r"(?P<tail>[^;\n]*;[ \t]*#[ \t]*@(?P<name>[a-z_]+)\b.*)$",
    re.MULTILINE,
)
ONE_TOKEN = re.compile(r"[^\s;{}\"'#$\\]+")
SEARCH_PATH = os.pathsep.join([os.environ.get("PATH", ""), "/usr/sbin", "/usr/local/sbin"])
HOST = "127.0.0.1"
MARK_HEADER = "X-Request-Mark"  # names a request in the access log; nginx routes on no header
START_TIMEOUT_S = 10.0
STOP_TIMEOUT_S = 10.0
LOG_WAIT_S = 5.0
MAIN_CONF = """\
{user}worker_processes 1;
pid {prefix}/nginx.pid;
error_log {prefix}/logs/error.log info;
events {{ worker_connections 256; }}
http {{
    log_format marked '$http_x_request_mark $request_method $request_uri $status $upstream_addr';
    access_log {prefix}/logs/access.log marked;
    client_body_temp_path {prefix}/temp/body; proxy_temp_path {prefix}/temp/proxy;
    fastcgi_temp_path {prefix}/temp/fcgi; uwsgi_temp_path {prefix}/temp/uwsgi;
    scgi_temp_path {prefix}/temp/scgi;
    include {prefix}/conf/site.conf;
}}
"""


class NginxError(RuntimeError):
    """nginx is missing, did not start, or did not log a request."""


def marked_values(text: str) -> dict[str, str]:
    """The value of each line marked `# @name` in a site config, by name."""
    return {m.group("name"): m.group("value") for m in MARKED_LINE.finditer(text)}


def site_conf(values: Mapping[str, str], text: str | None = None) -> str:
    """deploy/nginx.conf (or `text`) with the values of the lines marked `# @name` replaced."""
    text = SITE_CONF.read_text(encoding="utf-8") if text is None else text
    marked = [m.group("name") for m in MARKED_LINE.finditer(text)]
    unknown = sorted(set(values) - set(marked))
    if unknown or len(marked) != len(set(marked)):
        raise NginxError(f"marked lines {marked} in the site config; asked to set {unknown}")
    for name, value in values.items():
        if not ONE_TOKEN.fullmatch(value):
            raise NginxError(f"{name} cannot go into nginx.conf as is: {value!r}")

    def replace(match: re.Match[str]) -> str:
        value = values.get(match.group("name"), match.group("value"))
        return match.group("head") + value + match.group("tail")

    return MARKED_LINE.sub(replace, text)


def find_nginx() -> str | None:
    """nginx's path: on PATH, else in /usr/sbin or /usr/local/sbin (Debian); None when missing."""
    return shutil.which("nginx", path=SEARCH_PATH)


class LocalNginx:
    """nginx in the foreground under `prefix` with `site_conf`; a context manager that stops it."""

    def __init__(self, prefix: Path, site_conf: str, ports: Sequence[int]) -> None:
        self.prefix = prefix
        self.site_conf = site_conf
        self.ports = tuple(ports)
        self.access_log = prefix / "logs" / "access.log"
        self.error_log = prefix / "logs" / "error.log"
        self.process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> LocalNginx:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def start(self) -> None:
        """Write the configs and start nginx; return once every port in `ports` accepts."""
        binary = find_nginx()
        if binary is None:
            raise NginxError("nginx is not installed (Debian: apt-get install nginx-light)")
        for folder in ("conf", "logs", "temp"):
            (self.prefix / folder).mkdir(parents=True, exist_ok=True)
        (self.prefix / "conf" / "site.conf").write_text(self.site_conf, encoding="utf-8")
        user = f"user {pwd.getpwuid(os.geteuid()).pw_name};\n" if os.geteuid() == 0 else ""
        main = MAIN_CONF.format(user=user, prefix=self.prefix)
        (self.prefix / "conf" / "nginx.conf").write_text(main, encoding="utf-8")
        # -e: some builds log to /var/log/nginx at start, before reading the config.
        command = [binary, "-p", f"{self.prefix}/", "-c", f"{self.prefix}/conf/nginx.conf"]
        command += ["-e", str(self.error_log), "-g", "daemon off;"]
        # Own session: the master and its workers form one group that stop() can end.
        self.process = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            self._wait_ready()
        except BaseException:
            self.stop()
            raise

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT_S
        waiting = list(self.ports)
        while waiting and time.monotonic() < deadline:
            if self.process is None or self.process.poll() is not None:
                break
            with socket.socket() as probe:
                if probe.connect_ex((HOST, waiting[0])) == 0:
                    waiting.pop(0)
                    continue
            time.sleep(0.05)
        if waiting:
            raise NginxError(f"nginx did not start on {HOST}:{waiting[0]}:\n{self.error_tail()}")

    def error_tail(self, lines: int = 30) -> str:
        """The last lines of nginx's error log."""
        if not self.error_log.exists():
            return "(no error log)"
        text = self.error_log.read_text(encoding="utf-8", errors="replace")
        return "\n".join(text.splitlines()[-lines:])

    def upstream(self, mark: str) -> str:
        """Where nginx got its answer to the request marked so: the app's address, or '-'."""
        deadline = time.monotonic() + LOG_WAIT_S
        while time.monotonic() < deadline:  # nginx logs just after it answers: wait for it
            text = self.access_log.read_text() if self.access_log.exists() else ""
            found = [line.split()[-1] for line in text.splitlines() if line.split()[0] == mark]
            if found:
                return found[-1]
            time.sleep(0.02)
        raise NginxError(f"no request marked {mark!r} in nginx's access log")

    def stop(self) -> None:
        """SIGTERM the master (fast shutdown), then SIGKILL its process group if any lingers."""
        process, self.process = self.process, None
        if process is None:
            return
        if process.poll() is None:
            process.terminate()
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=STOP_TIMEOUT_S)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=STOP_TIMEOUT_S)
