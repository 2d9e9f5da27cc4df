"""The account page: linked logins, linking another, downloading and deleting one's data."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import requests
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from blog.auth.personal_data import ON_DELETION
from blog.auth.providers import Profile
from blog.devidp import identity
from blog.extensions import db
from blog.mail.sender import send_due
from blog.models import Avatar, Comment, CommentDraft, Identity, SubscriptionKind, User
from tests.support.auth_helpers import (
    ESSAY,
    client_comment,
    client_login,
    comment_html,
    form_data,
    logged_in,
    new_comment_id,
    post_comment,
    serve_site,
    session_cookie,
    with_cookie,
)
from tests.support.oauth_site import OAuthSite
from tests.support.smtp_server import (
    AUTHOR,
    SMTPServer,
    comment,
    login,
    make_user,
    outbox,
    subscriptions,
)


@pytest.fixture
def site(essay: Path, make_app: Callable[..., Flask]) -> Iterator[OAuthSite]:
    yield from serve_site(make_app)


def identities(site: OAuthSite) -> set[tuple[int, str, str]]:
    with site.app.app_context():
        return {(i.user_id, i.provider, i.subject) for i in db.session.scalars(select(Identity))}


def start_link(site: OAuthSite, http: requests.Session, provider: str) -> requests.Response:
    page = http.get(site.url + "/account/")
    data = form_data(page.text, "/account/link")
    return http.post(site.url + "/account/link", data={**data, "provider": provider})


def test_account_page_lists_logins_and_links_another(site: OAuthSite) -> None:
    http, _page = logged_in(site, "google", "alice")
    page = http.get(site.url + "/account/")
    assert page.status_code == 200
    assert "Google: Alice Verified · alice@example.com" in page.text
    assert "Link X (Twitter)" in page.text and "Link Facebook" in page.text
    assert "Link Google" not in page.text
    consent = start_link(site, http, "facebook")
    assert "Sign in with Facebook" in consent.text
    back = site.consent(http, consent, "carol")
    assert back.url == site.url + "/account/"
    assert "Facebook: Carol NoEmail" in back.text and "Google: Alice Verified" in back.text
    assert "Link Facebook" not in back.text
    with site.app.app_context():
        user_id = db.session.scalar(select(User.id))
    assert identities(site) == {
        (user_id, "google", identity("alice").subject("google")),
        (user_id, "facebook", identity("carol").subject("facebook")),
    }
    # Either login now opens the same account.
    other, _page = logged_in(site, "facebook", "carol")
    first = new_comment_id(post_comment(site, other, "Written after a Facebook login"))
    second = new_comment_id(post_comment(site, http, "Written after a Google login"))
    with site.app.app_context():
        rows = [db.session.get(Comment, c) for c in (first, second)]
        assert [r.user_id for r in rows if r] == [user_id, user_id]
        assert db.session.scalar(select(func.count()).select_from(User)) == 1


def test_an_identity_of_another_user_cannot_be_linked(site: OAuthSite) -> None:
    logged_in(site, "x", "bob")
    before = identities(site)
    http, _page = logged_in(site, "google", "alice")
    back = site.consent(http, start_link(site, http, "x"), "bob")
    assert back.url == site.url + "/account/"
    assert "That account is already used by another commenter here" in back.text
    assert "You comment here as <strong>Alice Verified</strong>" in back.text
    after = identities(site)
    assert before <= after and len(after) == 2  # bob's X login still belongs to bob
    assert "You are commenting using your Google account." in http.get(site.url + ESSAY).text


def test_linking_happens_only_from_the_account_page(site: OAuthSite) -> None:
    assert requests.get(site.url + "/account/").status_code == 401
    assert requests.post(site.url + "/account/link", data={"provider": "x"}).status_code == 400
    http, _page = logged_in(site, "google", "alice")
    # A link attempt that is abandoned at the provider ...
    consent = start_link(site, http, "facebook")
    assert "Sign in with Facebook" in consent.text
    # ... does not turn a later login from a post page into a link.
    page = site.login(http, "x", ESSAY, "bob")
    assert "You are commenting using your X (Twitter) account." in page.text
    with site.app.app_context():
        assert db.session.scalar(select(func.count()).select_from(User)) == 2
    assert len({user for user, _p, _s in identities(site)}) == 2
    # A denied link says so and changes nothing.
    http, _page = logged_in(site, "google", "alice")
    denied = site.consent(http, start_link(site, http, "facebook"), decision="deny")
    assert denied.url == site.url + "/account/"
    assert "You did not allow Facebook to log you in. Your account is unchanged." in denied.text
    assert len(identities(site)) == 2


def test_download_my_data(essay: Path, make_app: Callable[..., Flask]) -> None:
    # About the download, not the login: the reader logs in through the test client.
    app = make_app()
    zoe = identity("zoe")
    profile = Profile("google", zoe.subject("google"), zoe.name, zoe.email, True, None)
    http = client_login(app, profile)
    first = client_comment(http, "My first *comment*")
    form = form_data(http.get(ESSAY).text, "/comments/")
    client_comment(http, "And a reply", form={**form, "parent_id": str(first)})
    response = http.get("/account/data.json")
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("application/json")
    assert response.headers["Content-Disposition"].startswith("attachment")
    assert response.headers["Cache-Control"] == "private, no-store"
    data = json.loads(response.get_data().decode("utf-8"))
    assert data["user"]["display_name"] == "Zoë Ångström-Łukasz 山田"
    assert data["user"]["email"] == "zoe@example.com"
    assert [(i["provider"], i["subject"]) for i in data["identities"]] == [
        ("google", identity("zoe").subject("google"))
    ]
    assert [c["text"] for c in data["comments"]] == ["My first *comment*", "And a reply"]
    assert all(c["post"] == ESSAY for c in data["comments"])
    assert app.test_client().get("/account/data.json").status_code == 401


def test_delete_account_anonymises_and_ends_every_session(site: OAuthSite) -> None:
    http, _page = logged_in(site, "google", "alice")
    laptop, _page = logged_in(site, "google", "alice")
    mine = new_comment_id(post_comment(site, http, "Soon anonymous"))
    bob, _page = logged_in(site, "x", "bob")
    reply = new_comment_id(post_comment(site, bob, "Bob answers", mine))
    copy = session_cookie(http)
    assert copy is not None
    # The picture fetched at login is in the export, as the privacy page says.
    picture = http.get(site.url + "/account/data.json").json()["avatar"]
    assert picture["content_type"] == "image/png"
    assert base64.b64decode(picture["data_base64"]).startswith(b"\x89PNG")
    page = http.get(site.url + "/account/")
    data = form_data(page.text, "/account/delete")
    refused = http.post(site.url + "/account/delete", data=data)  # the box is not ticked
    assert refused.status_code == 400
    assert len(identities(site)) == 2
    deleted = http.post(
        site.url + "/account/delete", data={**data, "confirm": "delete"}, allow_redirects=False
    )
    assert deleted.status_code == 303 and deleted.headers["Location"] == "/"
    with site.app.app_context():
        alice = db.session.scalar(select(User).order_by(User.id))
        assert alice is not None and alice.deleted_at is not None
        assert (alice.display_name, alice.email, alice.identities) == ("Deleted user", None, [])
        assert db.session.get(Avatar, alice.id) is None
        row = db.session.get(Comment, mine)
        assert row is not None and (row.user_id, row.author_name) == (None, "Deleted user")
    assert identities(site) == {(identity_user(site, "x"), "x", identity("bob").subject("x"))}
    html = requests.get(site.url + ESSAY).text
    assert "Deleted user" in comment_html(html, mine) and "Soon anonymous" in html
    assert "Alice Verified" not in html
    assert "Bob answers" in comment_html(html, reply)
    for browser in (http, laptop, with_cookie(site, copy)):
        assert "You are commenting using" not in browser.get(site.url + ESSAY).text
        assert browser.get(site.url + "/account/").status_code == 401
    # Logging in again with the same Google account starts a new, empty account.
    again, _page = logged_in(site, "google", "alice")
    export = again.get(site.url + "/account/data.json").json()
    assert export["comments"] == [] and export["user"]["id"] != alice.id


def identity_user(site: OAuthSite, provider: str) -> int:
    with site.app.app_context():
        found = db.session.scalar(select(Identity.user_id).where(Identity.provider == provider))
        assert found is not None
        return found


# --- everything about a person: in the export, gone at deletion ----------------------------


def mail_reader(app: Flask, name: str, email: str | None, verified: bool) -> FlaskClient:
    client = app.test_client()
    login(client, make_user(app, name, email, verified))
    return client


def readers_mail(app: Flask) -> list[str]:
    """Who the outbox's messages are to, leaving out the author's notices of new comments."""
    return [m.to_address for m in outbox(app) if m.to_address != AUTHOR]


def subscribed_alice_with_mail_and_a_draft(app: Flask) -> FlaskClient:
    """Alice (verified address) follows the essay and the blog, has a notification waiting,
    and a draft kept after her form expired; Dave typed an address of his own to follow."""
    alice = mail_reader(app, "Alice", "alice@example.com", verified=True)
    first = comment(alice, "Subscribing.", subscribe_thread="1", subscribe_posts="1")
    assert first.status_code == 303
    zoe = mail_reader(app, "Zoë", "zoe@example.com", verified=True)
    assert comment(zoe, "A reply Alice hears about.").status_code == 303
    dave = mail_reader(app, "Dave", None, verified=False)
    typed = comment(dave, "Dave follows too.", subscribe_thread="1", subscribe_email="dave@x.org")
    assert typed.status_code == 303
    post_id = form_data(alice.get(ESSAY).get_data(as_text=True), "/comments/")["post_id"]
    expired = alice.post("/comments/", data={"post_id": post_id, "comment": "Unfinished"})
    assert expired.status_code == 400
    return alice


def test_the_export_holds_subscriptions_drafts_mail_and_the_picture(
    mail_app: Flask, smtp: SMTPServer
) -> None:
    alice = subscribed_alice_with_mail_and_a_draft(mail_app)
    data = alice.get("/account/data.json").get_json()
    subscribed = [(s["kind"], s["email"], s["post"]) for s in data["subscriptions"]]
    assert subscribed == [
        ("thread", "alice@example.com", ESSAY),
        ("posts", "alice@example.com", None),
    ]
    assert all(s["confirmed_at"] for s in data["subscriptions"])
    assert [(d["post"], d["text"]) for d in data["drafts"]] == [(ESSAY, "Unfinished")]
    # Zoë's reply and Dave's comment, each a notification waiting to go to her.
    assert [(m["to"], m["status"]) for m in data["mail"]] == [("alice@example.com", "queued")] * 2
    assert "A reply Alice hears about." in data["mail"][0]["text"]
    assert data["avatar"] is None
    # Nobody else's address or mail is in it.
    assert "dave@x.org" not in json.dumps(data) and "zoe@example.com" not in json.dumps(data)


def test_deleting_an_account_ends_its_subscriptions_mail_and_drafts(
    mail_app: Flask, smtp: SMTPServer
) -> None:
    alice = subscribed_alice_with_mail_and_a_draft(mail_app)
    form = form_data(alice.get("/account/").get_data(as_text=True), "/account/delete")
    deleted = alice.post("/account/delete", data={**form, "confirm": "delete"})
    assert deleted.status_code == 303
    assert [s.email for s in subscriptions(mail_app)] == ["dave@x.org"]
    assert readers_mail(mail_app) == ["dave@x.org"]  # his confirmation
    with mail_app.app_context():
        assert db.session.scalar(select(func.count()).select_from(CommentDraft)) == 0
    # Later comments and posts mail nobody at her address.
    zoe = mail_reader(mail_app, "Zoë again", "zoe@example.com", verified=True)
    assert comment(zoe, "Another reply.").status_code == 303
    send_due(mail_app)
    assert smtp.to("alice@example.com") == []
    assert [m.subject for m in smtp.to("dave@x.org")] == [
        "[True Connections] Please confirm your subscription"
    ]


def test_deleting_an_account_leaves_the_owner_of_a_typed_address_alone(
    mail_app: Flask, smtp: SMTPServer
) -> None:
    # Erin typed Dave's address; Dave follows the blog with it himself, confirmed.
    dave = mail_reader(mail_app, "Dave", "dave@x.org", verified=True)
    assert comment(dave, "Dave follows.", subscribe_posts="1").status_code == 303
    erin = mail_reader(mail_app, "Erin", None, verified=False)
    typed = comment(erin, "Erin follows.", subscribe_thread="1", subscribe_email="dave@x.org")
    assert typed.status_code == 303
    assert readers_mail(mail_app) == ["dave@x.org"]  # the confirmation Erin's request sent
    send_due(mail_app)
    assert "dave@x.org" not in json.dumps(erin.get("/account/data.json").get_json()["mail"])
    form = form_data(erin.get("/account/").get_data(as_text=True), "/account/delete")
    assert erin.post("/account/delete", data={**form, "confirm": "delete"}).status_code == 303
    assert [(s.email, s.kind) for s in subscriptions(mail_app)] == [
        ("dave@x.org", SubscriptionKind.POSTS)
    ]
    # What was sent stays on record: it counts toward the address's daily confirmations.
    assert readers_mail(mail_app) == ["dave@x.org"]


def test_every_table_has_a_decision_on_deletion() -> None:
    assert set(ON_DELETION) == set(db.metadata.tables)
