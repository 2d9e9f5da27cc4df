"""nginx for the benchmark: the shipped config in front of the blog, beside a plain-file server."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from bench.nginx_local import find_nginx
from bench.procs import BenchError
from blog.config import PROJECT_ROOT

RENDER_TIMEOUT_S = 120
PLAIN_NAME = "page.html"
# The ceiling for a page from the static folder: the same bytes as one file, with no maps,
# try_files, charset or added headers.
PLAIN_SERVER = """
server {{
    listen {listen};
    location / {{
        root {root};
        types {{ text/html html; }}
    }}
}}
"""


def require_nginx() -> str:
    """nginx's path, or a BenchError saying how to get it."""
    found = find_nginx()
    if found is None:
        raise BenchError("`nginx` is not installed (Debian: apt-get install nginx-light)")
    return found


def site_config(env: dict[str, str], listen: str, upstream: str) -> str:
    """deploy/nginx.conf as `flask blog nginx-config` renders it with the blog server's settings."""
    command = [sys.executable, "-m", "flask", "--app", "wsgi:app", "blog", "nginx-config"]
    command += ["--listen", listen, "--upstream", upstream]
    done = subprocess.run(
        command,
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=RENDER_TIMEOUT_S,
        check=False,
    )
    if done.returncode != 0:
        raise BenchError(f"flask blog nginx-config failed:\n{done.stderr[-3000:]}")
    return done.stdout


def plain_server(listen: str, root: Path) -> str:
    """A server block serving the files under `root` (nginx opens them per request)."""
    root.mkdir(parents=True, exist_ok=True)
    return PLAIN_SERVER.format(listen=listen, root=root.resolve())
