"""`flask blog new|check|sync|list`: the author's commands."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from zoneinfo import ZoneInfo

import click
import pytest
from click.testing import CliRunner, Result
from flask import Flask
from flask.cli import FlaskGroup, run_command
from flask.testing import FlaskCliRunner
from PIL import Image

from blog.clock import FrozenClock
from blog.content.frontmatter import parse_post_file

# `new` and `check` work on files alone: running them again on PostgreSQL proves nothing more.
FILES_ONLY = pytest.mark.sqlite_only


@pytest.fixture
def make_app(make_app: Callable[..., Flask]) -> Callable[..., Flask]:
    """The shared factory, without the development identity provider the CLI never uses."""

    def make(**overrides: object) -> Flask:
        overrides.setdefault("DEV_IDP", False)
        return make_app(**overrides)

    return make


def blog(runner: FlaskCliRunner, *args: str):  # type: ignore[no-untyped-def]
    """Run `flask blog ...`."""
    return runner.invoke(args=["blog", *args])


FlaskCommand = Callable[..., Result]


@pytest.fixture
def flask_command(make_app: Callable[..., Flask], monkeypatch: pytest.MonkeyPatch) -> FlaskCommand:
    """Run `flask ...` as the `flask` command does: the factory builds the app for the command.

    `runner` invokes commands on an app built beforehand, so it never sees what the factory
    does when `flask` builds the app to run one.
    """
    # The group sets it (so that app.run does nothing); set first, the test leaves it unset.
    monkeypatch.setenv("FLASK_RUN_FROM_CLI", "true")

    def run(*args: str, **overrides: object) -> Result:
        group = FlaskGroup(create_app=lambda: make_app(**overrides), load_dotenv=False)
        return CliRunner().invoke(group, list(args))

    return run


# --- new ---------------------------------------------------------------------------------


@FILES_ONLY
def test_new_writes_a_draft_with_front_matter_and_prints_its_path(
    runner: FlaskCliRunner, posts_dir: Path
) -> None:
    result = blog(runner, "new", 'Hiring: the "Real" Story')
    assert result.exit_code == 0, result.output
    path = Path(result.stdout.strip())
    assert path == posts_dir / "hiring-the-real-story.md"
    text = path.read_text(encoding="utf-8")
    assert text.startswith("---\n")
    assert "\ndate: 2026-11-25 12:00\n" in text  # the injected clock, in the site's zone
    assert "\ndraft: true\n" in text
    source, problems = parse_post_file(path, ZoneInfo("UTC"))
    assert problems == []
    assert source is not None
    assert source.title == 'Hiring: the "Real" Story'
    assert source.slug == "hiring-the-real-story"
    assert re.fullmatch(r"20261125-[0-9a-f]{8}", source.uid)
    assert source.draft is True

    check = blog(runner, "check")
    assert check.exit_code == 0, check.output
    assert "1 post checked, 0 problems" in check.stdout


@FILES_ONLY
def test_new_uses_the_site_zone_and_never_overwrites(
    make_app: Callable[..., Flask], posts_dir: Path, clock: FrozenClock
) -> None:
    runner = make_app(TIMEZONE="America/New_York").test_cli_runner()
    first = Path(blog(runner, "new", "Same Title").stdout.strip())
    first.write_text(first.read_text() + "\nMy words.\n")
    clock.advance(days=1)
    second = Path(blog(runner, "new", "Same Title").stdout.strip())
    assert first.name == "same-title.md"
    assert second.name == "same-title-2.md"
    assert "My words." in first.read_text()
    assert "\ndate: 2026-11-26 07:00\n" in second.read_text()  # 12:00 UTC is 07:00 in New York
    ids = [parse_post_file(p, ZoneInfo("UTC"))[0] for p in (first, second)]
    assert ids[0] is not None and ids[1] is not None
    assert ids[0].uid != ids[1].uid
    assert ids[1].slug == "same-title-2"
    assert blog(runner, "check").exit_code == 0


@FILES_ONLY
def test_new_creates_the_posts_folder_and_copes_with_a_symbol_title(
    make_app: Callable[..., Flask], tmp_path: Path
) -> None:
    runner = make_app(POSTS_DIR=tmp_path / "fresh").test_cli_runner()
    path = Path(blog(runner, "new", "!!!").stdout.strip())
    assert path == tmp_path / "fresh" / "post.md"
    assert blog(runner, "check").exit_code == 0


# --- check -------------------------------------------------------------------------------


@FILES_ONLY
def test_check_on_a_clean_folder_exits_zero(
    write_post: Callable[..., Path], runner: FlaskCliRunner
) -> None:
    write_post("fine", title="Fine")
    write_post("also-fine", title="Also Fine", slug="other")
    result = blog(runner, "check")
    assert result.exit_code == 0
    assert result.stderr == ""
    assert "2 posts checked, 0 problems" in result.stdout


@FILES_ONLY
def test_check_lists_every_problem_and_exits_non_zero(
    write_post: Callable[..., Path], posts_dir: Path, make_app: Callable[..., Flask]
) -> None:
    Image.new("RGB", (3, 3)).save(posts_dir / "images" / "pic.png")
    write_post("good", title="Good")
    write_post("broken-yaml", raw="---\ntitle: [oops\n---\n")
    write_post("no-title", raw="---\ndate: 2024-01-01\n---\n\nText\n")
    write_post("bad-date", title="Bad Date", date="someday")
    write_post("extra", title="Extra", colour="blue")
    write_post("twin", title="Twin", slug="good")
    write_post("no-alt", title="No Alt", body="![](images/pic.png)")
    write_post("missing-image", title="Missing", body="![A chart](images/nope.png)")
    result = blog(make_app().test_cli_runner(), "check")
    assert result.exit_code == 1
    lines = result.stderr.splitlines()
    expected = [
        r"bad-date\.md: date: cannot parse 'someday'",
        r"broken-yaml\.md: front matter: broken YAML at line \d+",
        r"extra\.md: colour: unknown field",
        r"missing-image\.md: image: 'images/nope\.png' not found beside the posts",
        r"no-alt\.md: image: 'images/pic\.png' has no alt text",
        r"no-title\.md: title: required",
        r"twin\.md: slug: 'good' is already used by good\.md",
    ]
    assert len(lines) == len(expected), lines
    for pattern in expected:
        assert any(re.match(pattern, line) for line in lines), pattern
    assert "8 posts checked, 7 problems" in result.stdout


@FILES_ONLY
def test_check_prints_each_problem_once_and_counts_in_words(
    write_post: Callable[..., Path], flask_command: FlaskCommand, caplog: pytest.LogCaptureFixture
) -> None:
    write_post("good", title="Good")
    write_post("bad", raw="---\ntitle: Bad\n---\n")
    result = flask_command("blog", "check")
    assert result.exit_code == 1
    assert result.stderr.splitlines() == ["bad.md: date: required"]
    assert result.stdout == "2 posts checked, 1 problem\n"
    # A warning logged on the way reaches the same terminal: the problem would show twice.
    assert "bad.md" not in caplog.text
    (write_post("good", title="Good")).parent.joinpath("bad.md").unlink()
    assert flask_command("blog", "check").stdout == "1 post checked, 0 problems\n"


# --- sync --------------------------------------------------------------------------------


def test_sync_reports_what_changed(
    write_post: Callable[..., Path],
    posts_dir: Path,
    runner: FlaskCliRunner,
    caplog: pytest.LogCaptureFixture,
) -> None:
    write_post("one")
    write_post("two")
    # The app (built before the posts were written) synced an empty folder at start-up.
    first = blog(runner, "sync")
    assert first.exit_code == 0
    assert "2 added, 0 updated, 0 removed, 0 unchanged, 0 problems" in first.stdout
    again = blog(runner, "sync")
    assert "0 added, 0 updated, 0 removed, 2 unchanged, 0 problems" in again.stdout
    write_post("two", body="Changed.")
    write_post("three")
    (posts_dir / "one.md").unlink()
    write_post("bad", raw="---\ntitle: Bad\n---\n")
    second = blog(runner, "sync")
    assert second.exit_code == 0
    assert second.stdout.endswith("1 added, 1 updated, 1 removed, 0 unchanged, 1 problem\n")
    assert second.stderr.splitlines() == ["skipped: bad.md: date: required"]
    assert "bad.md" not in caplog.text  # a log line would show it twice in the terminal


def test_flask_db_upgrade_on_a_fresh_database_says_nothing_of_a_missing_schema(
    write_post: Callable[..., Path],
    fresh_url: str,
    flask_command: FlaskCommand,
    caplog: pytest.LogCaptureFixture,
) -> None:
    write_post("one")
    upgraded = flask_command("db", "upgrade", SQLALCHEMY_DATABASE_URI=fresh_url)
    assert upgraded.exit_code == 0, upgraded.output
    assert "no schema" not in upgraded.output + caplog.text
    # Upgraded, not synced: that is `flask blog sync`'s to do and to report.
    listed = flask_command("blog", "list", SQLALCHEMY_DATABASE_URI=fresh_url)
    assert (listed.exit_code, listed.stdout) == (0, "")


def test_the_first_sync_reports_what_it_added(
    write_post: Callable[..., Path], flask_command: FlaskCommand
) -> None:
    write_post("one")
    write_post("two")
    first = flask_command("blog", "sync")
    assert first.exit_code == 0, first.output
    assert first.stdout == "2 added, 0 updated, 0 removed, 0 unchanged, 0 problems\n"
    again = flask_command("blog", "sync")
    assert again.stdout == "0 added, 0 updated, 0 removed, 2 unchanged, 0 problems\n"


def test_the_app_flask_run_serves_syncs_at_start(
    write_post: Callable[..., Path], make_app: Callable[..., Flask]
) -> None:
    write_post("one")
    # `flask run` builds the app inside its own command, to serve it.
    with click.Context(run_command, info_name="run"):
        app = make_app()
    assert app.test_client().get("/2024/01/15/one/").status_code == 200


def test_sync_without_a_schema_says_how_to_fix_it(
    make_app: Callable[..., Flask], tmp_path: Path
) -> None:
    app = make_app(SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'empty.db'}")
    result = blog(app.test_cli_runner(), "sync")
    assert result.exit_code == 1
    assert "flask db upgrade" in result.output


# --- list --------------------------------------------------------------------------------


def test_list_shows_each_post_with_its_status(
    write_post: Callable[..., Path],
    posts_dir: Path,
    make_app: Callable[..., Flask],
    clock: FrozenClock,
) -> None:
    write_post("live", title="Live Post", date="2024-01-01")
    write_post("wip", title="Draft Post", date="2024-02-01", draft="true")
    write_post("soon", title="Scheduled Post", date="2026-12-01")
    write_post("about", title="About", date="2023-01-01", layout="page")
    write_post("gone", title="Gone Post", date="2022-01-01")
    app = make_app()
    (posts_dir / "gone.md").unlink()
    runner = app.test_cli_runner()
    assert blog(runner, "sync").exit_code == 0
    result = blog(runner, "list")
    assert result.exit_code == 0
    rows = [line.split(maxsplit=4) for line in result.stdout.splitlines()]
    assert [(status, kind, path) for status, kind, _day, path, _title in rows] == [
        ("scheduled", "post", "/2026/12/01/soon/"),
        ("draft", "post", "/2024/02/01/wip/"),
        ("published", "post", "/2024/01/01/live/"),
        ("published", "page", "/about/"),
        ("removed", "post", "/2022/01/01/gone/"),
    ]
    assert "2026-12-01  /2026/12/01/soon/  Scheduled Post" in result.stdout
    clock.set(clock.now().replace(year=2027))
    later = blog(runner, "list").stdout
    assert "published  post 2026-12-01  /2026/12/01/soon/" in later
