"""Every rule of the comment service, one test each, with the clock moved instead of slept on."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path

import pytest
import requests
from flask import Flask
from itsdangerous import URLSafeSerializer
from werkzeug.test import TestResponse

from blog.clock import FrozenClock
from blog.comments.form_timing import SALT
from blog.comments.service import DUPLICATE_MESSAGE
from blog.database import write_transaction
from blog.extensions import db
from blog.models import CommentStatus, User
from tests.conftest import NOW, sync
from tests.support.auth_helpers import comment_html, form_data, serve_site, textarea
from tests.support.comment_client import (
    ESSAY,
    assert_refused,
    comment_id,
    log_in,
    post_id,
    set_status,
    statuses,
)
from tests.support.databases import sql_statements
from tests.support.oauth_site import OAuthSite

APPROVED, PENDING, SPAM = CommentStatus.APPROVED, CommentStatus.PENDING, CommentStatus.SPAM
AWAITING = "Your comment is awaiting moderation."
SPAM_NOTICE = "Your comment was marked as spam, so it is not shown."
STALE_FORM = "This form was opened more than a day ago"
AUTHOR = ("google", "the-author")


@pytest.fixture
def site(essay: Path, make_app: Callable[..., Flask]) -> Callable[..., Flask]:
    """make_app, with the essay in posts/."""
    return make_app


# --- holds -----------------------------------------------------------------------------------


def test_hold_none_approves_at_once(site: Callable[..., Flask]) -> None:
    app = site(MODERATION_HOLD="none")
    assert comment_id(log_in(app).post("Straight through."))
    assert statuses(app) == [APPROVED]


def test_hold_all_holds_every_comment_but_a_moderators(site: Callable[..., Flask]) -> None:
    app = site(MODERATION_HOLD="all", MODERATORS=frozenset({AUTHOR}))
    alice = log_in(app)
    first = comment_id(alice.post("One."))
    set_status(app, first, APPROVED)
    comment_id(alice.post("Two, after an approval."))
    comment_id(log_in(app, AUTHOR[1], "The Author").post("The author speaks."))
    assert statuses(app) == [APPROVED, PENDING, APPROVED]


def test_hold_first_until_one_comment_is_approved(site: Callable[..., Flask]) -> None:
    app = site(MODERATION_HOLD="first")
    alice, bob = log_in(app), log_in(app, "bob", "Bob Reader")
    first = comment_id(alice.post("My very first words here."))
    assert statuses(app) == [PENDING]
    own_view = alice.page()
    assert f'id="comment-{first}"' in own_view and AWAITING in own_view
    assert f'id="comment-{first}"' not in bob.page()
    assert f'id="comment-{first}"' not in app.test_client().get(ESSAY).get_data(as_text=True)
    comment_id(alice.post("Still waiting for the first."))
    set_status(app, first, APPROVED)
    after = comment_id(alice.post("Once approved, straight through."))
    comment_id(bob.post("Bob's first comment."))
    assert statuses(app) == [APPROVED, PENDING, APPROVED, PENDING]
    assert f'id="comment-{after}"' in app.test_client().get(ESSAY).get_data(as_text=True)


@pytest.mark.parametrize(
    ("max_links", "links", "expected"),
    [(2, 2, APPROVED), (2, 3, PENDING), (0, 1, PENDING), (0, 0, APPROVED)],
)
def test_more_than_n_links_are_held(
    site: Callable[..., Flask], max_links: int, links: int, expected: CommentStatus
) -> None:
    app = site(MODERATION_MAX_LINKS=max_links)
    shapes = ["see https://a.example/1", "[b](HTTP://b.example/2)", "<https://c.example/3>"]
    body = "Links: " + " and ".join(shapes[:links]) if links else "No links at all."
    comment_id(log_in(app).post(body))
    assert statuses(app) == [expected]


# Where a listed word may hide: the text (any case, split by markup, in a link's target),
# the name and the email address.
WORD_PLACES = [
    pytest.param({"body": "Play at the CASINO tonight"}, id="text-any-case"),
    pytest.param({"body": "Play at the ca**sino** tonight"}, id="text-split-by-markup"),
    pytest.param({"body": "Play [here](https://casino.example/x)"}, id="link-target"),
    pytest.param({"name": "Casino Carl"}, id="name"),
    pytest.param({"email": "carl@CASINO.example"}, id="email"),
]


def _word_comment(app: Flask, place: dict[str, str]) -> TestResponse:
    reader = log_in(app, "carl", place.get("name", "Carl Reader"), place.get("email"))
    return reader.post(place.get("body", "An innocent remark."))


@pytest.mark.parametrize("place", WORD_PLACES)
def test_moderation_word_holds(site: Callable[..., Flask], place: dict[str, str]) -> None:
    app = site(MODERATION_WORDS=("Casino",))
    comment_id(_word_comment(app, place))
    assert statuses(app) == [PENDING]


@pytest.mark.parametrize("place", WORD_PLACES)
def test_disallowed_word_is_spam(site: Callable[..., Flask], place: dict[str, str]) -> None:
    app = site(DISALLOWED_WORDS=("casino",), MODERATION_WORDS=("casino",))
    response = _word_comment(app, place)
    assert response.status_code == 303
    assert response.headers["Location"].endswith(ESSAY + "#respond")
    assert statuses(app) == [SPAM]


def test_words_elsewhere_change_nothing(site: Callable[..., Flask]) -> None:
    app = site(DISALLOWED_WORDS=("casino",), MODERATION_WORDS=("lottery",))
    comment_id(log_in(app).post("A plain remark about networking."))
    assert statuses(app) == [APPROVED]


# --- spam traps ------------------------------------------------------------------------------


def test_filled_honeypot_is_spam_and_hidden_from_everyone(site: Callable[..., Flask]) -> None:
    app = site()
    alice = log_in(app)
    response = alice.post("Buy now", website="http://spam.example")
    assert response.status_code == 303
    assert response.headers["Location"].endswith(ESSAY + "#respond")
    assert statuses(app) == [SPAM]
    page = alice.client.get(ESSAY).get_data(as_text=True)
    # Told the truth: no moderator's queue holds it, so nothing is "awaiting moderation".
    assert SPAM_NOTICE in page and AWAITING not in page
    assert "Buy now" not in page
    assert SPAM_NOTICE not in alice.client.get(ESSAY).get_data(as_text=True)  # told once


def test_form_submitted_too_fast_is_held_for_a_moderator(
    site: Callable[..., Flask], clock: FrozenClock
) -> None:
    app = site(MIN_FORM_SECONDS=3)
    alice = log_in(app)
    form = alice.form()
    clock.advance(seconds=2.5)
    fast = comment_id(alice.post("Typed in two and a half seconds.", form=form))
    form = alice.form()
    clock.advance(seconds=3)
    comment_id(alice.post("Typed in three seconds.", form=form))
    assert statuses(app) == [PENDING, APPROVED]
    assert AWAITING in comment_html(alice.page(), fast)  # true: it is in the moderators' queue


@pytest.fixture
def timed_site(essay: Path, make_app: Callable[..., Flask]) -> Iterator[OAuthSite]:
    """The blog and the identity provider over real HTTP, with a 3-second minimum form time."""
    yield from serve_site(make_app, MIN_FORM_SECONDS=3)


@pytest.mark.parametrize("round_trip", [0.5, 1, 2.5])
@pytest.mark.parametrize("after_landing", [0, 0.5, 4])
def test_a_comment_written_before_logging_in_is_no_bot_however_soon_it_is_posted(
    timed_site: OAuthSite, clock: FrozenClock, round_trip: float, after_landing: float
) -> None:
    """The reader typed, chose a provider and came back: the login is a person's doing."""
    http, draft = requests.Session(), "Begun before logging in."
    consent_page = timed_site.start_login(http, "google", ESSAY, comment=draft)
    clock.advance(seconds=round_trip)
    landing = timed_site.consent(http, consent_page, "alice")
    assert textarea(landing.text) == draft
    clock.advance(seconds=after_landing)
    data = form_data(landing.text, "/comments/")
    response = http.post(timed_site.url + "/comments/", data=data, allow_redirects=False)
    assert response.status_code == 303
    assert "#comment-" in response.headers["Location"]
    assert statuses(timed_site.app) == [APPROVED]
    # The next comment, from a form shown after the login, is timed as any other.
    clock.advance(seconds=1)
    form = form_data(http.get(timed_site.url + ESSAY).text, "/comments/")
    form["comment"] = "A second thought, sent at once."
    http.post(timed_site.url + "/comments/", data=form, allow_redirects=False)
    assert statuses(timed_site.app) == [APPROVED, PENDING]


@pytest.mark.parametrize("forgery", ["missing", "empty", "garbage", "other-key", "tampered"])
def test_missing_or_forged_form_start_is_held(
    site: Callable[..., Flask], clock: FrozenClock, forgery: str
) -> None:
    app = site(MIN_FORM_SECONDS=3)
    alice = log_in(app)
    form = alice.form()
    clock.advance(seconds=60)
    long_ago = (NOW - timedelta(hours=1)).timestamp()
    token = form["form_started"]
    form["form_started"] = {
        "missing": "",
        "empty": "",
        "garbage": "not-a-signed-value",
        "other-key": URLSafeSerializer("someone-elses-key", salt=SALT).dumps(long_ago),
        "tampered": URLSafeSerializer("x", salt=SALT).dumps(long_ago).split(".")[0]
        + "."
        + token.split(".")[-1],
    }[forgery]
    if forgery == "missing":
        del form["form_started"]
    alice.post("A comment from a bot, or an odd browser.", form=form)
    assert statuses(app) == [PENDING]


def test_an_old_form_start_is_a_stale_form_not_a_pass(
    site: Callable[..., Flask], clock: FrozenClock
) -> None:
    """A day-old start time proves nothing (it may be replayed): the form is shown again."""
    app = site(MIN_FORM_SECONDS=3)
    alice = log_in(app)
    old = alice.form()
    clock.advance(days=1, seconds=-1)
    comment_id(alice.post("Open all day, still in time.", form=old))
    clock.advance(seconds=2)
    body = "Open for more than a day."
    refused = alice.post(body, form=old)
    assert_refused(refused, 400, STALE_FORM, body)
    again = form_data(refused.get_data(as_text=True), "/comments/")
    assert again["form_started"] != old["form_started"]
    assert alice.post(body, form=old).status_code == 400  # replayed, refused again
    clock.advance(seconds=3)  # the shown-again form is timed from now
    comment_id(alice.post(body, form=again))
    assert statuses(app) == [APPROVED, APPROVED]


def test_a_draft_begun_long_ago_is_timed_from_when_it_is_shown_again(
    site: Callable[..., Flask], clock: FrozenClock
) -> None:
    app = site(MIN_FORM_SECONDS=3)
    alice = log_in(app)
    assert alice.post("   ", form=alice.form()).status_code == 400  # kept as a draft
    clock.advance(days=2)
    form = alice.form()
    comment_id(alice.post("At once: too fast, held.", form=form))
    clock.advance(seconds=16)
    form = alice.form()
    clock.advance(seconds=3)
    comment_id(alice.post("After three seconds.", form=form))
    assert statuses(app) == [PENDING, APPROVED]


# --- duplicates and floods -------------------------------------------------------------------


@pytest.mark.parametrize("flood_seconds", [15, 0], ids=["inside-flood-window", "no-flood-rule"])
def test_duplicate_is_409_and_one_row_even_inside_the_flood_window(
    site: Callable[..., Flask], flood_seconds: int
) -> None:
    """Inside the flood window the rules ask; outside it the unique key refuses the row."""
    app = site(FLOOD_SECONDS=flood_seconds)
    alice = log_in(app)
    comment_id(alice.post("Same words, twice."))
    again = alice.post("  same   WORDS, twice. ")
    assert_refused(again, 409, DUPLICATE_MESSAGE, "  same   WORDS, twice. ")
    assert "Retry-After" not in again.headers
    assert statuses(app) == [APPROVED]


def test_same_text_elsewhere_is_not_a_duplicate(site: Callable[..., Flask]) -> None:
    app = site()
    alice = log_in(app)
    first = comment_id(alice.post("Agreed."))
    comment_id(alice.post("Agreed.", parent_id=first))
    comment_id(log_in(app, "bob", "Bob Reader").post("Agreed."))
    assert statuses(app) == [APPROVED] * 3


def test_flood_is_429_with_retry_after(site: Callable[..., Flask], clock: FrozenClock) -> None:
    app = site(FLOOD_SECONDS=15)
    alice = log_in(app)
    comment_id(alice.post("A first thought."))
    clock.advance(seconds=5)
    second = "A second thought, quickly."
    refused = alice.post(second)
    assert_refused(refused, 429, "You are posting comments too quickly", second)
    assert refused.headers["Retry-After"] == "10"
    assert statuses(app) == [APPROVED]
    clock.advance(seconds=10)
    comment_id(alice.post(second))
    assert statuses(app) == [APPROVED, APPROVED]


def test_with_the_flood_rule_off_a_comment_stored_a_moment_later_is_no_flood(
    site: Callable[..., Flask], clock: FrozenClock
) -> None:
    """Two workers: the second took its time before the first stored a comment dated after it.
    With the rule off (0 seconds) that is no flood, and no 429."""
    app = site(FLOOD_SECONDS=0)
    alice = log_in(app)
    comment_id(alice.post("Stored by the first worker."))
    clock.advance(seconds=-1)
    comment_id(alice.post("Stored by the second, whose clock read a second earlier."))
    assert statuses(app) == [APPROVED, APPROVED]


def test_moderators_are_exempt_from_the_flood_rule(site: Callable[..., Flask]) -> None:
    app = site(FLOOD_SECONDS=15, MODERATORS=frozenset({AUTHOR}))
    author = log_in(app, AUTHOR[1], "The Author")
    comment_id(author.post("Thanks for reading."))
    comment_id(author.post("And one more thing."))
    assert statuses(app) == [APPROVED, APPROVED]


def test_a_comment_asks_no_query_of_its_own_about_moderators(
    site: Callable[..., Flask],
) -> None:
    """Whether the writer moderates comes with their row, which the request loads anyway."""
    app = site(MODERATION_HOLD="none")
    alice = log_in(app, "alice", "Alice")
    form = alice.form()  # the page asks, for the header's Moderation link; the post must not
    with sql_statements(app) as seen:
        comment_id(alice.post("Nothing in here for any rule to stop.", form=form))
    assert statuses(app) == [APPROVED]
    assert any("INSERT INTO comments" in s for s in seen)
    about_moderators = [s for s in seen if "moderator_grants" in s]
    assert len(about_moderators) == 1, about_moderators
    assert about_moderators[0].startswith("SELECT users.id"), about_moderators


def test_a_writers_next_comment_reads_no_post_row(site: Callable[..., Flask]) -> None:
    """The post is known from the first comment until the content changes: the next one reads
    the writer's row (the session's check), then runs the rules' query and the insert in one
    transaction."""
    app = site(MODERATION_HOLD="none")
    alice = log_in(app, "alice", "Alice")
    comment_id(alice.post("The first, which reads the post and the writer."))
    form = alice.form()
    with sql_statements(app) as seen:
        comment_id(alice.post("The second, which needs no post row.", form=form))
    assert statuses(app) == [APPROVED, APPROVED]
    assert not any("FROM posts" in s for s in seen)
    inserted = next(i for i, s in enumerate(seen) if s.startswith("INSERT INTO comments"))
    # Before the insert: the writer's row by its key, then the write transaction's BEGIN
    # (SQLite; implicit on PostgreSQL) and the rules' one query.
    before = [s for s in seen[:inserted] if not s.startswith("BEGIN")]
    assert len(before) == 2, before
    assert "FROM users" in before[0] and "FROM comments" in before[1], before


# --- where comments may go -------------------------------------------------------------------


def test_a_post_closed_or_unpublished_by_a_sync_refuses_the_next_comment(
    site: Callable[..., Flask], write_post: Callable[..., Path]
) -> None:
    """What a comment knows of its post lasts only until the content changes."""
    write_post("changing-post", title="Changing post")
    app = site()
    alice = log_in(app)
    target = post_id(app, "changing-post")
    path = "/2024/01/15/changing-post/"
    form = alice.form(path)
    comment_id(alice.post("While it is open.", form=form))
    write_post("changing-post", title="Changing post", comments="closed")
    sync(app)
    assert alice.post("After it closed.", form=form).status_code == 403
    write_post("changing-post", title="Changing post", draft=True)
    sync(app)
    assert alice.post("After it was unpublished.", form=form).status_code == 404
    assert post_id(app, "changing-post") == target
    assert len(statuses(app)) == 1


def test_closed_in_the_front_matter(
    site: Callable[..., Flask], write_post: Callable[..., Path]
) -> None:
    write_post("quiet-post", title="Quiet post", comments="closed")
    app = site()
    alice = log_in(app)
    assert "Comments are closed." in alice.page("/2024/01/15/quiet-post/")
    refused = alice.post("Let me in anyway.", post_id=post_id(app, "quiet-post"))
    assert refused.status_code == 403
    assert "Comments are closed" in refused.get_data(as_text=True)
    assert statuses(app) == []


def test_closed_automatically_after_n_days(
    site: Callable[..., Flask], write_post: Callable[..., Path], clock: FrozenClock
) -> None:
    write_post("fresh-post", title="Fresh post", date="2026-10-27 12:00")  # 29 days before NOW
    app = site(COMMENTS_CLOSE_AFTER_DAYS=30)
    alice, path = log_in(app), "/2026/10/27/fresh-post/"
    comment_id(alice.post("Still open on day 29.", path=path))
    form = alice.form(path)
    clock.advance(days=1)
    refused = alice.post("Too late on day 30.", form=form)
    assert refused.status_code == 403
    assert "Comments are closed." in refused.get_data(as_text=True)
    assert "Comments are closed." in alice.page(path)
    assert "Comments are closed." in alice.page(ESSAY)  # years old: closed as well
    assert statuses(app) == [APPROVED]


@pytest.mark.parametrize(
    ("parent", "message"),
    [
        ("other-post", "The comment you are replying to is not on this post."),
        ("missing", "The comment you are replying to is not on this post."),
        ("deleted", "The comment you are replying to is not available."),
        ("pending", "The comment you are replying to is not available."),
        ("spam", "The comment you are replying to is not available."),
        ("trash", "The comment you are replying to is not available."),
    ],
)
def test_replies_to_unavailable_parents_are_refused(
    site: Callable[..., Flask], write_post: Callable[..., Path], parent: str, message: str
) -> None:
    write_post("other-post", title="Other post")
    app = site()
    alice = log_in(app)
    if parent == "missing":
        parent_id = 999_999
    elif parent == "other-post":
        parent_id = comment_id(alice.post("Over there.", path="/2024/01/15/other-post/"))
    else:
        parent_id = comment_id(alice.post("Up here."))
        set_status(app, parent_id, CommentStatus(parent))
    before = statuses(app)
    reply = "A reply that has nowhere to go."
    assert_refused(alice.post(reply, parent_id=parent_id), 400, message, reply)
    assert statuses(app) == before


def test_comment_on_a_missing_post_is_not_found(site: Callable[..., Flask]) -> None:
    app = site()
    response = log_in(app).post("Into the void.", post_id=999_999)
    assert response.status_code == 404
    assert "That page can\u2019t be found." in response.get_data(as_text=True)
    assert statuses(app) == []


@pytest.mark.parametrize(
    ("permanent", "message"),
    [
        (False, "You are banned from commenting until November 28, 2026 at 12:00 UTC."),
        (True, "You are banned from commenting on this blog."),
    ],
)
def test_banned_users_are_told_why_and_until_when(
    site: Callable[..., Flask], clock: FrozenClock, permanent: bool, message: str
) -> None:
    app = site()
    alice = log_in(app)
    with app.app_context(), write_transaction():
        user = db.session.get_one(User, alice.user_id)
        user.banned_until = None if permanent else NOW + timedelta(days=3)
        user.ban_permanent = permanent
        user.ban_reason = "Repeated spam links."
    body = "Let me back in."
    assert_refused(alice.post(body), 403, message + " Reason: Repeated spam links.", body)
    assert statuses(app) == []
    clock.advance(days=3)
    if permanent:
        assert alice.post(body).status_code == 403
        assert statuses(app) == []
    else:
        comment_id(alice.post(body))
        assert statuses(app) == [APPROVED]


# --- refusals outside the comment service itself ---------------------------------------------


def test_refusal_on_a_closed_post_gives_the_text_back(
    site: Callable[..., Flask], write_post: Callable[..., Path]
) -> None:
    write_post("quiet-post", title="Quiet post", comments="closed")
    app = site()
    body = "Words worth keeping."
    refused = log_in(app).post(body, post_id=post_id(app, "quiet-post"))
    assert_refused(refused, 403, "Comments are closed on this post.", body)


def test_posting_to_a_scheduled_post_does_not_reveal_it(
    site: Callable[..., Flask], write_post: Callable[..., Path]
) -> None:
    write_post("not-yet", title="Not yet", date="2027-01-01 09:00", body="The big secret.")
    app = site()
    response = log_in(app).post("First!", post_id=post_id(app, "not-yet"))
    assert response.status_code == 404
    assert "The big secret." not in response.get_data(as_text=True)


def test_form_time_survives_a_refusal(site: Callable[..., Flask], clock: FrozenClock) -> None:
    app = site(MIN_FORM_SECONDS=3)
    alice = log_in(app)
    form = alice.form()
    clock.advance(seconds=30)
    refused = alice.post("   ", form=form)
    assert refused.status_code == 400
    again = form_data(refused.get_data(as_text=True), "/comments/")
    clock.advance(seconds=1)
    comment_id(alice.post("Now with words in it.", form=again))
    assert statuses(app) == [APPROVED]
