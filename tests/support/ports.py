"""Free TCP ports on 127.0.0.1 that stay this test process's own, also under pytest-xdist.

A port taken with bind(("127.0.0.1", 0)) and released comes from the kernel's ephemeral range,
where any other process (another xdist worker's live server, a client's outgoing connection) may
be handed it before the test binds it again. A test that needs a port number before anything
listens on it (an SMTP server started late, nginx's `listen`) takes one from a block below the
ephemeral range that belongs to its xdist worker alone, and not the same one again until that
block has gone round.
"""

from __future__ import annotations

import itertools
import os
import socket
import threading

HOST = "127.0.0.1"
# Below Linux's default ephemeral range (32768-60999) and above the usual well-known services.
FIRST_PORT = 20_000
BLOCK = 600  # ports per worker: 20 workers fit below 32,000
_lock = threading.Lock()
_offsets = itertools.count()


def worker_number() -> int:
    """This process's xdist worker number (gw3 -> 3); 0 without xdist."""
    name = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
    digits = name.removeprefix("gw")
    return int(digits) if digits.isdigit() else 0


def worker_suffix() -> str:
    """A short tag naming this xdist worker ("gw1"), or "main" without xdist."""
    return os.environ.get("PYTEST_XDIST_WORKER", "main")


def _bindable(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind((HOST, port))
        except OSError:
            return False
        return True


def free_port() -> int:
    """A port of this worker's block that nothing listens on now; each call gives another one."""
    base = FIRST_PORT + worker_number() % 20 * BLOCK
    with _lock:
        for _ in range(BLOCK):
            port = base + next(_offsets) % BLOCK
            if _bindable(port):
                return port
    raise RuntimeError(f"no free port in {base}-{base + BLOCK - 1}")
