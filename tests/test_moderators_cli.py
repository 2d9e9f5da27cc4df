"""`flask blog admin add|remove|list`: moderators added on the command line, for every server."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from click.testing import Result
from flask import Flask
from flask.testing import FlaskCliRunner
from sqlalchemy import inspect, select

from blog.auth.accounts import link_profile, login_profile
from blog.auth.providers import Profile
from blog.auth.roles import is_moderator, moderator_user_ids
from blog.clock import utcnow
from blog.config import parse_moderators
from blog.database import write_transaction
from blog.extensions import db
from blog.models import Identity, ModeratorGrant, User
from tests.support.databases import sql_statements
from tests.support.moderation_helpers import ESSAY, add_comment, add_user, log_in

ADMIN = "/admin/comments"
NOW_STAMP = "2026-11-25 12:00 UTC"  # tests.conftest.NOW, the frozen clock


def admin(runner: FlaskCliRunner, *args: str) -> Result:
    """Run `flask blog admin ...`."""
    return runner.invoke(args=["blog", "admin", *args])


def status(app: Flask, user_id: int, path: str = ADMIN) -> int:
    """The status a fresh logged-in client of this user gets for a page."""
    client = app.test_client()
    log_in(client, user_id)
    return client.get(path).status_code


def add_person(
    app: Flask, name: str, provider: str, subject: str, email: str | None, verified: bool
) -> int:
    """A user who logged in once with this provider account and email."""
    with app.app_context():
        profile = Profile(provider, subject, name, email, verified, None)
        return login_profile(profile, utcnow()).id


def assert_refused(result: Result, *messages: str) -> None:
    """A clear error: non-zero exit, the message, no traceback."""
    assert result.exit_code != 0, result.output
    assert isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output
    assert "Error:" in result.output
    for message in messages:
        assert message in result.output, result.output


def grant_queries(seen: list[str]) -> list[str]:
    """The statements among these that read the moderator grants."""
    return [statement for statement in seen if "moderator_grants" in statement]


# --- add and remove ------------------------------------------------------------------------


def test_add_lets_the_user_in_and_remove_shuts_them_out_again(app: Flask) -> None:
    alice = add_user(app, "Alice", "1234567890")
    bob = add_user(app, "Bob")
    runner = app.test_cli_runner()
    assert status(app, alice) == 403

    added = admin(runner, "add", "google:1234567890")
    assert added.exit_code == 0, added.output
    assert added.output == "added moderator google:1234567890 (Alice)\n"
    assert status(app, alice) == 200
    assert status(app, bob) == 403
    with app.app_context():
        grant = db.session.scalars(select(ModeratorGrant)).one()
        assert (grant.provider, grant.subject, grant.email) == ("google", "1234567890", None)
        assert grant.created_at == utcnow()  # stored as UTC and read back aware
        assert grant.created_at.utcoffset() is not None

    removed = admin(runner, "remove", "google:1234567890")
    assert removed.exit_code == 0, removed.output
    assert "removed moderator google:1234567890" in removed.output
    assert status(app, alice) == 403
    with app.app_context():
        assert db.session.scalars(select(ModeratorGrant)).all() == []


def test_a_moderator_added_before_their_first_login_is_one_when_they_arrive(app: Flask) -> None:
    added = admin(app.test_cli_runner(), "add", "x:42")
    assert added.exit_code == 0, added.output
    assert "takes effect when they log in" in added.output
    newcomer = add_user(app, "Newcomer", "42", provider="x")
    assert status(app, newcomer) == 200


def test_every_app_server_sees_a_change_at_once(make_app: Callable[..., Flask]) -> None:
    one, two = make_app(), make_app()  # two servers on one database
    alice = add_user(one, "Alice", "alice-sub")
    assert status(two, alice) == 403  # and `two` keeps that answer until a grant changes
    assert admin(one.test_cli_runner(), "add", "google:alice-sub").exit_code == 0
    assert status(two, alice) == 200
    assert admin(one.test_cli_runner(), "remove", "google:alice-sub").exit_code == 0
    assert status(two, alice) == 403


def test_linking_or_losing_a_granted_identity_shows_in_every_server_at_once(
    make_app: Callable[..., Flask],
) -> None:
    """A kept "not a moderator" ends when the user links the granted identity elsewhere, and
    a kept "moderator" when that identity goes."""
    one, two = make_app(), make_app()
    alice = add_user(one, "Alice", "alice-on-x", provider="x")
    assert admin(one.test_cli_runner(), "add", "google:alice-at-google").exit_code == 0
    assert status(two, alice) == 403  # kept by `two`
    with one.app_context():
        profile = Profile("google", "alice-at-google", "Alice", None, False, None)
        link_profile(alice, profile, utcnow())
    assert status(two, alice) == 200
    with one.app_context(), write_transaction():
        identity = db.session.scalars(select(Identity).filter_by(subject="alice-at-google")).one()
        db.session.delete(identity)
    assert status(two, alice) == 403


def test_an_email_counts_only_verified_and_from_a_trusted_provider(app: Flask) -> None:
    verified = add_person(app, "Verified", "google", "g-1", "Author@Example.com", True)
    unverified = add_person(app, "Unverified", "x", "x-1", "author@example.com", False)
    untrusted = add_person(app, "Untrusted", "oidc", "o-1", "author@example.com", True)
    other = add_person(app, "Other", "facebook", "f-1", "someone@example.com", True)

    added = admin(app.test_cli_runner(), "add", "--email", "AUTHOR@example.com")
    assert added.exit_code == 0, added.output
    assert added.output == "added moderator email:author@example.com (Verified)\n"
    assert status(app, verified) == 200
    for user_id in (unverified, untrusted, other):
        assert status(app, user_id) == 403
    with app.app_context():
        assert moderator_user_ids({verified, unverified, untrusted, other}) == {verified}

    assert admin(app.test_cli_runner(), "remove", "--email", "author@example.com").exit_code == 0
    assert status(app, verified) == 403


def test_the_author_badge_follows_the_added_moderators(essay: Path, app: Flask) -> None:
    alice = add_user(app, "Alice", "alice-sub")
    add_comment(app, alice, "A comment by the new moderator.")
    page = app.test_client().get(ESSAY).get_data(as_text=True)
    assert 'class="author-badge"' not in page
    assert admin(app.test_cli_runner(), "add", "google:alice-sub").exit_code == 0
    # The page cache forgets the page that showed the old list.
    page = app.test_client().get(ESSAY).get_data(as_text=True)
    assert 'class="author-badge"' in page
    with app.app_context():
        assert is_moderator(db.session.get(User, alice))


def test_one_query_and_none_for_anonymous_pages_or_while_nothing_changes(
    essay: Path, app: Flask
) -> None:
    """Whether a user moderates is asked once per request, never by an anonymous page, and a
    grant is seen by the next request."""
    alice = add_user(app, "Alice", "alice-sub")
    assert admin(app.test_cli_runner(), "add", "google:alice-sub").exit_code == 0
    client = app.test_client()
    log_in(client, alice)
    with sql_statements(app) as seen:
        assert app.test_client().get("/").status_code == 200
        assert app.test_client().get(ESSAY).status_code == 200  # no comments, no badges
        assert grant_queries(seen) == []
        # The admin user page asks twice (the guard, then the badge): one query.
        assert client.get(f"/admin/users/{alice}").status_code == 200
        assert len(grant_queries(seen)) == 1
        assert client.get(ADMIN).status_code == 200
        assert len(grant_queries(seen)) == 2  # asked again: nothing is kept between requests
    assert admin(app.test_cli_runner(), "remove", "google:alice-sub").exit_code == 0
    assert client.get(ADMIN).status_code == 403


# --- list ----------------------------------------------------------------------------------


def test_list_shows_configured_and_added_moderators(make_app: Callable[..., Flask]) -> None:
    app = make_app(MODERATORS=parse_moderators("google:cfg-1, email:Boss@Example.com"))
    add_user(app, "Configured Carol", "cfg-1")
    add_user(app, "Added Xavier", "42", provider="x")
    runner = app.test_cli_runner()
    assert admin(runner, "add", "x:42").exit_code == 0
    assert admin(runner, "add", "--email", "helper@example.com").exit_code == 0

    result = admin(runner, "list")
    assert result.exit_code == 0, result.output
    rows = [line.split(maxsplit=1) for line in result.output.splitlines()]
    assert [label for label, _rest in rows] == [
        "email:boss@example.com",
        "google:cfg-1",
        "x:42",
        "email:helper@example.com",
    ]
    described = dict(rows)
    assert described["google:cfg-1"].startswith("configured (BLOG_MODERATORS)")
    assert described["google:cfg-1"].endswith("Configured Carol")
    assert described["email:boss@example.com"].startswith("configured (BLOG_MODERATORS)")
    assert described["x:42"].startswith(f"added {NOW_STAMP}")
    assert described["x:42"].endswith("Added Xavier")
    assert described["email:helper@example.com"].split() == ["added", *NOW_STAMP.split(), "-"]


def test_list_with_no_moderators_says_how_to_add_one(runner: FlaskCliRunner) -> None:
    result = admin(runner, "list")
    assert result.exit_code == 0
    assert "no moderators" in result.output
    assert "flask blog admin add" in result.output


def test_the_local_identity_providers_author_is_one(make_app: Callable[..., Flask]) -> None:
    from blog.devidp import identity

    app = make_app(DEV_IDP=True)
    subject = identity("author").subject("google")
    author = add_user(app, "The Author", subject)
    assert status(app, author) == 200
    runner = app.test_cli_runner()
    listed = admin(runner, "list")
    assert f"google:{subject}" in listed.output
    assert "the local identity provider's author" in listed.output
    assert_refused(admin(runner, "remove", f"google:{subject}"), "cannot be removed")
    assert_refused(admin(runner, "add", f"google:{subject}"), "already a moderator")
    assert status(app, author) == 200


# --- refusals ------------------------------------------------------------------------------


def test_remove_of_a_configured_moderator_says_to_edit_blog_moderators(
    make_app: Callable[..., Flask],
) -> None:
    app = make_app(MODERATORS=parse_moderators("google:cfg-1"))
    carol = add_user(app, "Carol", "cfg-1")
    result = admin(app.test_cli_runner(), "remove", "google:cfg-1")
    assert_refused(result, "remove it from BLOG_MODERATORS instead")
    assert status(app, carol) == 200


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["myspace:123"], "Unknown provider 'myspace': use one of google, x, facebook, oidc"),
        (["google"], "'google' is not PROVIDER:SUBJECT (e.g. google:1234567890)"),
        (["google:"], "is not PROVIDER:SUBJECT"),
        ([":123"], "is not PROVIDER:SUBJECT"),
        (["google:two words"], "is not a google subject"),
        (["--email", "not-an-email"], "'not-an-email' is not an email address"),
        (["email:nobody@"], "is not an email address"),
        ([], "Give one moderator"),
        (["google:1", "--email", "a@example.com"], "Give one moderator"),
    ],
)
@pytest.mark.sqlite_only  # refused before the database is touched
def test_bad_input_is_refused_clearly(
    runner: FlaskCliRunner, args: list[str], message: str
) -> None:
    for command in ("add", "remove"):
        assert_refused(admin(runner, command, *args), message)
    assert "Usage:" not in admin(runner, "add", *args).output  # a message, not a usage dump


def test_duplicates_are_refused(make_app: Callable[..., Flask]) -> None:
    app = make_app(MODERATORS=parse_moderators("google:cfg-1, email:boss@example.com"))
    runner = app.test_cli_runner()
    assert admin(runner, "add", "google:new-1").exit_code == 0
    assert admin(runner, "add", "--email", "helper@example.com").exit_code == 0
    assert_refused(admin(runner, "add", "google:new-1"), f"already a moderator (added {NOW_STAMP})")
    assert_refused(admin(runner, "add", "--email", "Helper@Example.COM"), "already a moderator")
    assert_refused(admin(runner, "add", "google:cfg-1"), "listed in BLOG_MODERATORS")
    assert_refused(admin(runner, "add", "email:BOSS@example.com"), "listed in BLOG_MODERATORS")
    with app.app_context():
        assert len(db.session.scalars(select(ModeratorGrant)).all()) == 2


def test_removing_a_grant_the_configuration_repeats_says_they_stay(
    make_app: Callable[..., Flask],
) -> None:
    first = make_app()
    assert admin(first.test_cli_runner(), "add", "google:both-1").exit_code == 0
    later = make_app(MODERATORS=parse_moderators("google:both-1"))  # listed there since
    carol = add_user(later, "Carol", "both-1")
    result = admin(later.test_cli_runner(), "remove", "google:both-1")
    assert result.exit_code == 0, result.output
    assert "removed moderator google:both-1" in result.stdout
    assert "still a moderator through BLOG_MODERATORS" in result.stderr
    assert status(later, carol) == 200


def test_remove_of_someone_who_is_not_a_moderator_is_refused(runner: FlaskCliRunner) -> None:
    assert_refused(admin(runner, "remove", "google:nobody"), "is not a moderator")


def test_an_unmigrated_database_says_how_to_fix_it(
    make_app: Callable[..., Flask], tmp_path: Path
) -> None:
    app = make_app(SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'empty.db'}")
    for args in (["add", "google:1"], ["remove", "google:1"], ["list"]):
        assert_refused(admin(app.test_cli_runner(), *args), "flask db upgrade")


# --- the schema ----------------------------------------------------------------------------


def test_the_migration_matches_the_model(app: Flask) -> None:
    """Alembic's autogenerate would find nothing to change for the moderator table."""
    with app.app_context(), db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        diffs = [d for d in compare_metadata(context, db.metadata) if "moderator_grants" in str(d)]
        assert diffs == []
        found = inspect(connection)
        uniques = {
            u["name"]: u["column_names"] for u in found.get_unique_constraints("moderator_grants")
        }
        assert uniques == {
            "uq_moderator_grants_provider": ["provider", "subject"],
            "uq_moderator_grants_email": ["email"],
        }
        pk = found.get_pk_constraint("moderator_grants")
        assert (pk["name"], pk["constrained_columns"]) == ("pk_moderator_grants", ["id"])
        checks = {c["name"] for c in found.get_check_constraints("moderator_grants")}
        assert checks == {"ck_moderator_grants_one_kind"}
