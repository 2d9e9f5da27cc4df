"""Reports: a logged-in reader reports a comment with a reason; several readers hold it until a
moderator decides on the reports page; one report per reader; the comments' flood and ban
rules; exact through the page cache."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from blog.clock import FrozenClock
from blog.extensions import db
from blog.models import CommentReport, CommentStatus, ReportStatus, User
from tests.support.auth_helpers import form_data, textarea
from tests.support.moderation_helpers import (
    ESSAY,
    MODERATORS,
    add_comment,
    add_moderator,
    add_user,
    csrf_token,
    log_in,
    status_of,
)

DAY = 24 * 3600
BODY = "A comment some readers will not like."


@pytest.fixture
def app(essay: Path, make_app: Callable[..., Flask]) -> Flask:
    """The essay behind the page cache; two reports hold a comment; a 15-second flood rule."""
    return make_app(
        MODERATORS=MODERATORS,
        PAGE_CACHE=True,
        PAGE_CACHE_SECONDS=30 * DAY,
        REPORTS_TO_HOLD=2,
        FLOOD_SECONDS=15,
    )


def reader(app: Flask, name: str) -> FlaskClient:
    """A logged-in reader's client."""
    client = app.test_client()
    log_in(client, add_user(app, name))
    return client


def report(
    client: FlaskClient, comment_id: int, reason: str = "abuse", note: str = ""
) -> tuple[int, str]:
    """Open the report form, choose a reason, send it: the status and Location (or page)."""
    url = f"/comments/{comment_id}/report"
    page = client.get(url)
    assert page.status_code == 200, page.text[:500]
    data = {**form_data(page.text, url), "reason": reason, "note": note}
    response = client.post(url, data=data)
    return response.status_code, response.headers.get("Location") or response.text


def reports_of(app: Flask, comment_id: int) -> list[tuple[str, str, str]]:
    """The comment's reports as (reason, note, status)."""
    with app.app_context():
        rows = db.session.scalars(
            select(CommentReport)
            .where(CommentReport.comment_id == comment_id)
            .order_by(CommentReport.id)
        )
        return [(r.reason.value, r.note, r.status.value) for r in rows]


def anonymous_page(app: Flask) -> str:
    response = app.test_client().get(ESSAY)
    assert response.status_code == 200 and "Set-Cookie" not in response.headers
    return response.text


@pytest.fixture
def comment(app: Flask) -> int:
    """An approved comment by a writer."""
    return add_comment(app, add_user(app, "Writer"), BODY)


def test_a_report_is_stored_with_its_reason_and_thanks_the_reader(app: Flask, comment: int) -> None:
    alice = reader(app, "Alice")
    assert f'href="/comments/{comment}/report"' in alice.get(ESSAY).text
    assert f"/comments/{comment}/report" not in anonymous_page(app)

    assert report(alice, comment, "off-topic", " Not about hiring. ") == (
        303,
        f"{ESSAY}#comment-{comment}",
    )

    assert reports_of(app, comment) == [("off-topic", "Not about hiring.", "open")]
    assert "Thank you for your report" in alice.get(ESSAY).text
    assert status_of(app, comment) is CommentStatus.APPROVED


def test_bad_reports_are_refused_clearly_with_the_text_kept(app: Flask, comment: int) -> None:
    alice = reader(app, "Alice")
    status, page = report(alice, comment, "boring", "My <b>note</b>")
    assert status == 400 and "Choose one of the reasons listed." in page
    assert textarea(page, "note") == "My <b>note</b>"
    status, page = report(alice, comment, "other", "x" * 501)
    assert status == 400 and "the limit is 500" in page and textarea(page, "note") == "x" * 501
    assert reports_of(app, comment) == []
    assert alice.post(f"/comments/{comment}/report", data={"reason": "spam"}).status_code == 400


def test_one_report_per_reader_and_not_of_their_own_comment(app: Flask, clock: FrozenClock) -> None:
    alice_id = add_user(app, "Alice")
    alice = app.test_client()
    log_in(alice, alice_id)
    theirs = add_comment(app, add_user(app, "Writer"), BODY)
    own = add_comment(app, alice_id, "My own words.")
    assert report(alice, theirs)[0] == 303
    clock.advance(seconds=60)
    status, page = report(alice, theirs, "spam")
    assert status == 409 and "already reported" in page
    status, page = report(alice, own)
    assert status == 403 and "your own comment" in page
    assert reports_of(app, theirs) == [("abuse", "", "open")] and reports_of(app, own) == []


def test_the_flood_and_ban_rules_of_comments_apply(app: Flask, clock: FrozenClock) -> None:
    first = add_comment(app, add_user(app, "Writer"), "One.")
    second = add_comment(app, add_user(app, "Other writer"), "Two.")
    alice_id = add_user(app, "Alice")
    alice = app.test_client()
    log_in(alice, alice_id)
    assert report(alice, first)[0] == 303
    url = f"/comments/{second}/report"
    data = {**form_data(alice.get(url).text, url), "reason": "spam", "note": "kept"}
    response = alice.post(url, data=data)
    assert response.status_code == 429 and response.headers["Retry-After"] == "15"
    assert textarea(response.text, "note") == "kept"
    clock.advance(seconds=15)
    with app.app_context():
        user = db.session.get(User, alice_id)
        assert user is not None
        user.ban_permanent = True
        db.session.commit()
    status, page = report(alice, second)
    assert status == 403 and "banned from reporting" in page
    assert reports_of(app, second) == []


def test_a_stranger_is_sent_to_the_comment_box_and_cannot_post_a_report(
    app: Flask, comment: int
) -> None:
    stranger = app.test_client()
    response = stranger.get(f"/comments/{comment}/report")
    assert (response.status_code, response.headers["Location"]) == (303, f"{ESSAY}#respond")
    assert stranger.post(f"/comments/{comment}/report", data={"reason": "spam"}).status_code == 400
    assert reports_of(app, comment) == []
    assert app.test_client().get("/comments/999999/report").status_code == 404


def test_reports_by_several_readers_hold_the_comment_for_the_next_anonymous_reader(
    app: Flask, comment: int
) -> None:
    assert BODY in anonymous_page(app)
    assert BODY in anonymous_page(app)  # from the page cache
    status, location = report(reader(app, "Alice"), comment)
    assert status == 303 and BODY in anonymous_page(app)

    status, location = report(reader(app, "Bob"), comment, "spam")

    assert (status, location) == (303, f"{ESSAY}#comments")
    assert status_of(app, comment) is CommentStatus.PENDING
    assert BODY not in anonymous_page(app)


def moderator(app: Flask) -> FlaskClient:
    client = app.test_client()
    log_in(client, add_moderator(app))
    return client


@pytest.mark.parametrize(
    ("decision", "comment_status", "report_status"),
    [
        ("dismiss", CommentStatus.APPROVED, ReportStatus.DISMISSED),
        ("keep-held", CommentStatus.PENDING, ReportStatus.UPHELD),
        ("spam", CommentStatus.SPAM, ReportStatus.UPHELD),
        ("trash", CommentStatus.TRASH, ReportStatus.UPHELD),
    ],
)
def test_the_moderator_decides_on_the_reports_page(
    app: Flask,
    comment: int,
    decision: str,
    comment_status: CommentStatus,
    report_status: ReportStatus,
) -> None:
    report(reader(app, "Alice"), comment, "abuse", "Rude to <script>me</script>")
    report(reader(app, "Bob"), comment, "spam")
    assert BODY not in anonymous_page(app)
    client = moderator(app)
    dashboard = client.get("/admin/").text
    assert 'href="/admin/reports"' in dashboard and "1 reported comment</a>" in dashboard
    page = client.get("/admin/reports")
    assert page.status_code == 200 and page.headers["Cache-Control"] == "private, no-store"
    assert BODY in page.text and "2 readers" in page.text
    assert "Abusive, hateful or harassing" in page.text and "Spam or advertising" in page.text
    assert "Rude to &lt;script&gt;me&lt;/script&gt;" in page.text

    response = client.post(
        f"/admin/reports/{comment}/{decision}", data={"csrf_token": csrf_token(client)}
    )

    assert (response.status_code, response.headers["Location"]) == (303, "/admin/reports")
    assert status_of(app, comment) is comment_status
    assert {status for _r, _n, status in reports_of(app, comment)} == {report_status.value}
    assert (BODY in anonymous_page(app)) is (comment_status is CommentStatus.APPROVED)
    assert "No open reports." in client.get("/admin/reports").text
    again = client.post(
        f"/admin/reports/{comment}/{decision}", data={"csrf_token": csrf_token(client)}
    )
    assert again.status_code == 303
    assert "no open reports" in client.get("/admin/reports").text


def test_only_moderators_see_reports_and_a_wrong_decision_is_a_404(
    app: Flask, comment: int
) -> None:
    alice = reader(app, "Alice")
    report(alice, comment)
    assert alice.get("/admin/reports").status_code == 403
    client = moderator(app)
    token = {"csrf_token": csrf_token(client)}
    assert client.post(f"/admin/reports/{comment}/approve", data=token).status_code == 404
    assert client.post("/admin/reports/999999/dismiss", data=token).status_code == 404


def test_reports_are_in_the_export_and_go_with_the_account(app: Flask, comment: int) -> None:
    alice = reader(app, "Alice")
    report(alice, comment, "personal-info", "My phone number.")
    export = alice.get("/account/data.json").get_json()
    assert [(r["comment_id"], r["reason"], r["note"]) for r in export["reports"]] == [
        (comment, "personal-info", "My phone number.")
    ]
    data = {"csrf_token": csrf_token(alice), "confirm": "delete"}
    assert alice.post("/account/delete", data=data).status_code in (302, 303)
    assert reports_of(app, comment) == []
