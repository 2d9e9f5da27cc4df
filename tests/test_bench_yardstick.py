"""The benchmark's yardstick: a fixed workload whose time is reported beside the figures."""

from __future__ import annotations

import json
from pathlib import Path

from bench.measure import Options, SizeResult
from bench.report import markdown_table, write_json
from bench.yardstick import CHECKSUM, Yardsticks, workload, yardstick_ms


def test_the_workload_computes_what_earlier_runs_were_timed_on() -> None:
    assert workload() == CHECKSUM


def test_the_yardstick_is_a_time_in_ms() -> None:
    measured = yardstick_ms(runs=2)
    # The workload takes tens of ms on the machines the bench runs on; not 0, not seconds.
    assert 1 < measured < 5000


def test_the_table_and_the_json_carry_the_yardstick(tmp_path: Path) -> None:
    options = Options((200,), 1, 0, True)
    sizes = [SizeResult(posts=200)]
    yardsticks = Yardsticks(57.26, 80.04)
    heading = markdown_table(sizes, options, yardsticks).splitlines()[0]
    assert "yardstick 57.3 ms before the run, 80.0 ms after" in heading
    written = json.loads(write_json(sizes, options, tmp_path, yardsticks).read_text())
    assert written["setup"]["python_yardstick_ms"] == {"before_ms": 57.26, "after_ms": 80.04}
