"""The admin area over HTTP: who may enter, CSRF, the queue, its forms, bans and drafts."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from blog.clock import utcnow
from blog.comments.editing import delete_comment
from blog.extensions import db
from blog.models import Comment, CommentStatus, User
from tests.support.auth_helpers import comment_html, parse
from tests.support.moderation_helpers import (
    ESSAY,
    IP,
    MODERATORS,
    add_comment,
    add_moderator,
    add_user,
    csrf_token,
    log_in,
    page_csrf,
    status_of,
)

S = CommentStatus


@dataclass
class Admin:
    """The app, a moderator's client, and a reader with one pending comment."""

    app: Flask
    client: FlaskClient
    author: int
    alice: int
    pending: int

    def token(self) -> str:
        return csrf_token(self.client)


@pytest.fixture
def admin(essay: Path, make_app: Callable[..., Flask]) -> Admin:
    app = make_app(MODERATORS=MODERATORS, MODERATION_HOLD="first")
    author = add_moderator(app)
    alice = add_user(app, "Alice Verified")
    pending = add_comment(app, alice, "Is *anyone* reading this?")
    client = app.test_client()
    log_in(client, author)
    return Admin(app, client, author, alice, pending)


def routes(admin: Admin) -> list[tuple[str, str, dict[str, str]]]:
    """Every admin page (GET) and action (POST) with plausible form data."""
    c, u = admin.pending, admin.alice
    gets = ["/admin/", "/admin/comments", "/admin/comments?status=spam", f"/admin/users/{u}",
            f"/admin/comments/{c}/edit", f"/admin/comments/{c}/reply", "/admin/drafts"]  # fmt: skip
    posts: list[tuple[str, dict[str, str]]] = [
        (f"/admin/comments/{c}/{action}", {"status": "pending"})
        for action in ("approve", "unapprove", "spam", "not-spam", "trash", "restore", "delete")
    ]
    posts += [
        ("/admin/comments/bulk", {"do": f"approve:{c}", "status": "pending"}),
        ("/admin/comments/bulk", {"action": "delete", "ids": str(c)}),
        (f"/admin/comments/{c}/edit", {"comment": "Rewritten by an intruder."}),
        (f"/admin/comments/{c}/reply", {"comment": "A fake author reply."}),
        (f"/admin/users/{u}/ban", {"duration": "permanent", "reason": "x", "hide": "yes"}),
        (f"/admin/users/{u}/unban", {}),
        (f"/admin/edits/{c}/approve", {}),
        (f"/admin/edits/{c}/reject", {}),
    ]
    return [("GET", path, {}) for path in gets] + [("POST", p, d) for p, d in posts]


def unchanged(admin: Admin) -> None:
    """Nothing an action could have done happened."""
    with admin.app.app_context():
        comment = db.session.get(Comment, admin.pending)
        assert comment is not None
        assert comment.status is S.PENDING
        assert comment.body == "Is *anyone* reading this?"
        assert db.session.scalar(select(func.count()).select_from(Comment)) == 1
        user = db.session.get(User, admin.alice)
        assert user is not None and user.banned_until is None and not user.ban_permanent


@pytest.mark.parametrize("who", ["anonymous", "reader"])
def test_every_admin_page_and_action_is_refused_to_anyone_not_a_moderator(
    admin: Admin, who: str
) -> None:
    """A logged-in reader gets a 403; a logged-out visitor the login page (401)."""
    client = admin.app.test_client()
    if who == "reader":
        log_in(client, admin.alice)
    for method, path, data in routes(admin):
        if method == "GET":
            response = client.get(path)
        else:
            response = client.post(path, data={**data, "csrf_token": csrf_token(client)})
        html = response.get_data(as_text=True)
        if who == "reader":
            assert response.status_code == 403, (who, method, path, response.status_code)
            assert "Only the blog&#39;s moderators can use the admin area." in html
        else:
            assert response.status_code == 401, (method, path, response.status_code)
            assert "Log in to continue" in html  # tests/test_account_menu.py logs in from it
        assert response.headers["Cache-Control"] == "private, no-store"
    unchanged(admin)


def test_every_action_needs_the_csrf_token(admin: Admin) -> None:
    for method, path, data in routes(admin):
        if method == "POST":
            response = admin.client.post(path, data=data)
            assert response.status_code == 400, path
            forged = admin.client.post(path, data={**data, "csrf_token": "forged"})
            assert forged.status_code == 400, path
    unchanged(admin)


def test_every_page_works_for_the_moderator_and_is_private(admin: Admin) -> None:
    for method, path, _data in routes(admin):
        if method == "GET":
            response = admin.client.get(path)
            assert response.status_code == 200, path
            assert response.headers["Cache-Control"] == "private, no-store"
            assert response.headers["X-Robots-Tag"] == "noindex"
            html = response.get_data(as_text=True)
            assert '<meta name="robots" content="noindex">' in html
            page = parse(html)
            assert not [e for e in page.elements if "style" in e.attrs], path
            assert not [e for e in page.elements if e.tag == "script" and "src" not in e.attrs]
            assert not [e for e in page.elements if any(a.startswith("on") for a in e.attrs)]
            for form in page.forms:
                if form.attrs.get("method") == "post":
                    assert "csrf_token" in form.names(), (path, form.attrs)
            assert set(page.textarea_ids) <= page.label_fors, path


def test_the_queue_shows_each_comment_with_its_details(admin: Admin) -> None:
    response = admin.client.get("/admin/comments")
    html = response.get_data(as_text=True)
    assert 'aria-current="page">Pending <span class="count">(1)</span>' in html
    assert 'Approved <span class="count">(0)</span>' in html
    row = html[html.index(f'<tr id="comment-{admin.pending}"') :]
    row = row[: row.index("</tr>")]
    assert "Alice Verified" in row
    assert "via Google" in row
    assert f'href="{ESSAY}">Making TRUE Connections</a>' in row
    assert "Is <em>anyone</em> reading this?" in row
    assert "November 25, 2026 at 12:00 pm" in row
    assert f'href="/admin/users/{admin.alice}"' in row
    with admin.app.app_context():
        ip_hash = db.session.get(Comment, admin.pending).ip_hash  # type: ignore[union-attr]
    assert ip_hash and f">{ip_hash[:8]}</code>" in row
    assert IP not in html  # never the address itself
    for label in ("Approve", "Spam", "Trash"):
        assert f'value="{label.lower()}:{admin.pending}"' in row
        assert f'{label}<span class="screen-reader-text"> comment {admin.pending}</span>' in row
    assert "Approve and reply" in row and "Edit" in row
    assert 'value="unapprove' not in row and 'value="delete' not in row


def test_a_reply_to_a_deleted_comment_names_nobody_in_the_queue(admin: Admin) -> None:
    parent = add_comment(admin.app, admin.alice, "Approved words.", status=S.APPROVED)
    reply = add_comment(admin.app, add_user(admin.app, "Bob"), "Held reply.", parent_id=parent)
    with admin.app.app_context():
        user = db.session.get(User, admin.alice)
        assert user is not None
        delete_comment(parent, user, utcnow())
    html = admin.client.get("/admin/comments").get_data(as_text=True)
    row = html[html.index(f'<tr id="comment-{reply}"') :]
    row = row[: row.index("</tr>")]
    assert "in reply to a removed comment" in row
    assert "Alice" not in row


def test_unknown_tabs_pages_and_actions_are_404(admin: Admin) -> None:
    assert admin.client.get("/admin/comments?status=deleted").status_code == 404
    assert admin.client.get("/admin/comments?page=7").status_code == 404
    token = admin.token()
    response = admin.client.post(
        f"/admin/comments/{admin.pending}/frobnicate", data={"csrf_token": token}
    )
    assert response.status_code == 404
    response = admin.client.post(
        "/admin/comments/bulk", data={"csrf_token": token, "do": "approve:x"}
    )
    assert response.status_code == 400
    assert admin.client.get("/admin/users/9999").status_code == 404
    unknown = f"/admin/edits/{admin.pending}/frobnicate"
    assert admin.client.post(unknown, data={"csrf_token": token}).status_code == 404
    none_held = f"/admin/edits/{admin.pending}/approve"
    assert admin.client.post(none_held, data={"csrf_token": token}).status_code == 404
    assert admin.client.get("/admin/comments/9999/edit").status_code == 404


def test_a_row_button_acts_and_redirects_back_to_the_same_tab(admin: Admin) -> None:
    response = admin.client.post(
        "/admin/comments/bulk",
        data={"csrf_token": admin.token(), "status": "pending", "page": "1",
              "do": f"approve:{admin.pending}", "action": "trash", "ids": str(admin.pending)},
    )  # fmt: skip
    assert response.status_code == 303
    assert response.headers["Location"] == "/admin/comments?status=pending"
    assert status_of(admin.app, admin.pending) is S.APPROVED  # the row's button wins
    page = admin.client.get(response.headers["Location"]).get_data(as_text=True)
    assert "1 comment approved." in page
    assert "No pending comments." in page
    reader = admin.app.test_client().get(ESSAY).get_data(as_text=True)
    assert "Is <em>anyone</em> reading this?" in comment_html(reader, admin.pending)


def test_single_action_route_redirects_to_the_tab_it_came_from(admin: Admin) -> None:
    admin.client.post(
        f"/admin/comments/{admin.pending}/approve", data={"csrf_token": admin.token()}
    )
    response = admin.client.post(
        f"/admin/comments/{admin.pending}/spam",
        data={"csrf_token": admin.token(), "status": "approved", "page": "2"},
    )
    assert response.status_code == 303
    assert response.headers["Location"] == "/admin/comments?status=approved&page=2"
    assert status_of(admin.app, admin.pending) is S.SPAM
    spam = admin.client.get("/admin/comments?status=spam").get_data(as_text=True)
    assert f'value="not-spam:{admin.pending}"' in spam and f'value="delete:{admin.pending}"' in spam


def test_bulk_apply_acts_on_the_selection(admin: Admin) -> None:
    bob = add_user(admin.app, "Bob")
    second = add_comment(admin.app, bob, "Second pending.")
    third = add_comment(admin.app, add_user(admin.app, "Carol"), "Third pending.")
    response = admin.client.post(
        "/admin/comments/bulk",
        data={"csrf_token": admin.token(), "status": "pending", "action": "trash",
              "ids": [str(admin.pending), str(second)]},
    )  # fmt: skip
    assert response.status_code == 303
    assert response.headers["Location"] == "/admin/comments?status=pending"
    assert [status_of(admin.app, c) for c in (admin.pending, second, third)] == [
        S.TRASH, S.TRASH, S.PENDING
    ]  # fmt: skip
    page = admin.client.get("/admin/comments?status=trash").get_data(as_text=True)
    assert "2 comments moved to the trash." in page
    assert 'aria-current="page">Trash <span class="count">(2)</span>' in page

    response = admin.client.post(
        "/admin/comments/bulk",
        data={"csrf_token": admin.token(), "status": "trash", "action": "", "ids": str(second)},
    )
    assert response.headers["Location"] == "/admin/comments?status=trash"
    page = admin.client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Choose an action and at least one comment" in page
    assert status_of(admin.app, second) is S.TRASH


def test_edit_form_saves_sanitised_text_or_comes_back_with_the_error(admin: Admin) -> None:
    url = f"/admin/comments/{admin.pending}/edit"
    form = admin.client.get(url).get_data(as_text=True)
    assert "Is *anyone* reading this?</textarea>" in form
    token = page_csrf(form)
    empty = admin.client.post(url, data={"csrf_token": token, "comment": "  "})
    assert empty.status_code == 400
    assert "The comment is empty" in empty.get_data(as_text=True)
    saved = admin.client.post(
        url, data={"csrf_token": token, "comment": "Fixed <b onclick=x()>typo</b> **here**"}
    )
    assert saved.status_code == 303
    assert saved.headers["Location"] == "/admin/comments?status=pending"
    with admin.app.app_context():
        comment = db.session.get(Comment, admin.pending)
        assert comment is not None
        assert comment.body_html == "<p>Fixed typo <strong>here</strong></p>"


def test_reply_as_author_over_http_is_approved_at_once_with_the_author_badge(
    admin: Admin,
) -> None:
    url = f"/admin/comments/{admin.pending}/reply"
    form = admin.client.get(url).get_data(as_text=True)
    assert "Approve and reply</button>" in form
    response = admin.client.post(
        url,
        data={"csrf_token": page_csrf(form), "status": "pending", "comment": "Yes, **me**."},
    )
    assert response.status_code == 303
    assert response.headers["Location"] == "/admin/comments?status=pending"
    page = admin.client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Reply posted as comment" in page
    reader = admin.app.test_client().get(ESSAY).get_data(as_text=True)
    with admin.app.app_context():
        reply = db.session.scalar(select(Comment).where(Comment.parent_id == admin.pending))
        assert reply is not None
        assert reply.status is S.APPROVED and reply.user_id == admin.author
        assert reply.provider == "google"
    assert status_of(admin.app, admin.pending) is S.APPROVED
    reply_html = comment_html(reader, reply.id)
    assert '<span class="author-badge">Author</span>' in reply_html
    assert "Yes, <strong>me</strong>." in reply_html


def test_ban_and_unban_forms(admin: Admin) -> None:
    url = f"/admin/users/{admin.alice}"
    page = admin.client.get(url).get_data(as_text=True)
    assert "Not banned." in page and '<option value="permanent">For good</option>' in page
    response = admin.client.post(
        f"{url}/ban",
        data={"csrf_token": page_csrf(page), "duration": "7", "reason": "Link spam.",
              "hide": "yes"},
    )  # fmt: skip
    assert response.status_code == 303 and response.headers["Location"] == url
    page = admin.client.get(url).get_data(as_text=True)
    assert "Banned for 7 days. 1 comment moved to the trash." in page
    assert "Banned until" in page and "December 2, 2026 at 12:00 pm" in page
    assert "Reason: Link spam." in page
    assert status_of(admin.app, admin.pending) is S.TRASH
    dashboard = admin.client.get("/admin/").get_data(as_text=True)
    assert f'<a href="{url}">Alice Verified</a>: until' in dashboard

    bad = admin.client.post(f"{url}/ban", data={"csrf_token": page_csrf(page), "duration": "0"})
    assert bad.status_code == 303
    assert "Not banned: Choose a ban of 1 to 3650 days" in admin.client.get(url).get_data(
        as_text=True
    )

    response = admin.client.post(f"{url}/unban", data={"csrf_token": page_csrf(page)})
    assert response.status_code == 303
    page = admin.client.get(url).get_data(as_text=True)
    assert "Ban lifted." in page and "Not banned." in page
    with admin.app.app_context():
        user = db.session.get(User, admin.alice)
        assert user is not None and not user.banned_at(user.created_at)


def test_a_moderators_page_offers_no_ban(admin: Admin) -> None:
    page = admin.client.get(f"/admin/users/{admin.author}").get_data(as_text=True)
    assert "moderators cannot be banned" in page
    assert "/ban" not in page
    response = admin.client.post(
        f"/admin/users/{admin.author}/ban",
        data={"csrf_token": admin.token(), "duration": "permanent"},
    )
    assert response.status_code == 303
    assert "Not banned: Moderators cannot be banned." in admin.client.get(
        f"/admin/users/{admin.author}"
    ).get_data(as_text=True)


def test_dashboard_links_every_screen_with_counts(admin: Admin) -> None:
    page = admin.client.get("/admin/").get_data(as_text=True)
    assert '<a href="/admin/comments?status=pending">Pending</a>: 1' in page
    assert '<a href="/admin/comments?status=spam">Spam</a>: 0' in page
    assert "Edits awaiting approval</a>: 0" in page
    assert 'href="/admin/drafts"' in page
    assert "Nobody is banned." in page
