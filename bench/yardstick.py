"""A fixed pure-Python workload, timed, so that figures from different machines can be compared.

The targets in absolute units (comment POSTs per second, p99 in ms) and the ratios of pages
that run a lot of Python to a floor that runs little both move with the machine's speed at
running Python: the same comment-posting code has measured 510 and 274 PostgreSQL comment
POSTs/s on two machines of the same kind. The bench times this workload in its own
interpreter (the one its servers run) before it starts and again when it ends, and prints both
beside the figures: a shared machine's speed also drifts during a run. The workload never
changes between commits, so a slower yardstick explains a slower figure that the code did not
cause.
"""

from __future__ import annotations

import statistics
import time
from typing import NamedTuple

RUNS = 5
# What the workload computes, checked on every run: a change to it would silently change the
# scale that earlier figures were read against.
CHECKSUM = 1_966_349_159


def workload() -> int:
    """The interpreter's everyday work: calls, integer arithmetic, dicts, strings, sorting."""
    total = 0
    table: dict[str, int] = {}
    for i in range(60_000):
        key = f"k{i % 997}"
        table[key] = table.get(key, 0) + _mix(i)
        total += len(key)
    words = sorted(f"{value:x}-{key}" for key, value in table.items())
    joined = ",".join(words)
    return (total + sum(table.values()) + len(joined)) % 2**32


def _mix(value: int) -> int:
    return (value * 2_654_435_761 ^ value >> 3) & 0xFFFF


def yardstick_ms(runs: int = RUNS) -> float:
    """The median time of the workload in ms, after one run to warm up; lower is faster."""
    if workload() != CHECKSUM:
        raise RuntimeError("the yardstick's workload changed: its figures would not compare")
    times = []
    for _ in range(runs):
        began = time.perf_counter()
        workload()
        times.append((time.perf_counter() - began) * 1000)
    return statistics.median(times)


class Yardsticks(NamedTuple):
    """The yardstick taken before a benchmark run and after it (ms)."""

    before_ms: float
    after_ms: float

    def describe(self) -> str:
        """The two times in words, for the table's heading."""
        return f"yardstick {self.before_ms:.1f} ms before the run, {self.after_ms:.1f} ms after"
