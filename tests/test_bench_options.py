"""The benchmark's command line: --only runs the named scenarios and what they stand on."""

from __future__ import annotations

import pytest

from bench.run import parse_args
from bench.scenarios import SCENARIOS


def test_only_keeps_the_set_up_and_the_named_scenarios_in_their_order() -> None:
    _options, args = parse_args(["--only", "comment_posts_postgres, comments_page"])
    names = [scenario.__name__ for scenario in args.scenarios]
    assert names == [
        "generate",
        "cold_sync",
        "seed_comments",
        "comments_page",
        "comment_posts_postgres",
    ]
    _options, every = parse_args([])
    assert every.scenarios == SCENARIOS


def test_only_refuses_a_scenario_that_does_not_exist(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        parse_args(["--only", "comment_posts,no_such_page"])
    assert "no such scenario no_such_page" in capsys.readouterr().err
