"""nginx for the benchmark: the shipped config in front of the blog, beside a plain-file server."""

from __future__ import annotations

from pathlib import Path

from bench.nginx_local import find_nginx
from bench.procs import BenchError

PLAIN_NAME = "page.html"
# The ceiling for a page from nginx's cache: the same bytes as one file, with no maps, cache
# lookup, charset or added headers.
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


def plain_server(listen: str, root: Path) -> str:
    """A server block serving the files under `root` (nginx opens them per request)."""
    root.mkdir(parents=True, exist_ok=True)
    return PLAIN_SERVER.format(listen=listen, root=root.resolve())
