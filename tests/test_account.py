"""The account page: linked logins, linking another, downloading and deleting one's data."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import requests
from flask import Flask
from sqlalchemy import func, select

from blog.auth.providers import Profile
from blog.devidp import identity
from blog.extensions import db
from blog.models import Avatar, Comment, Identity, User
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
