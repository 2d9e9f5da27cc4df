"""CSRF, sessions, `next`, state/nonce/PKCE and identity keys, each over real HTTP."""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import pytest
import requests
from flask import Flask
from sqlalchemy import func, select

from blog.auth.session import safe_next
from blog.devidp import identity
from blog.extensions import db
from blog.models import Comment, CommentStatus, Identity, User
from tests.conftest import security_corpus
from tests.support.auth_helpers import (
    ESSAY,
    authorize_params,
    authorize_params_of,
    callback_url,
    consent_redirect,
    logged_in,
    new_comment_id,
    post_comment,
    serializer,
    serve_site,
    session_cookie,
    textarea,
    with_cookie,
)
from tests.support.oauth_site import OAuthSite


@pytest.fixture
def site(essay: Path, make_app: Callable[..., Flask]) -> Iterator[OAuthSite]:
    yield from serve_site(make_app)


def is_logged_in(site: OAuthSite, http: requests.Session) -> bool:
    return "You are commenting using" in http.get(site.url + ESSAY).text


def assert_never_a_500(response: requests.Response) -> None:
    for step in [*response.history, response]:
        assert step.status_code < 500, (step.url, step.status_code)


# --- CSRF on every logged-in form ------------------------------------------------------------


def test_every_logged_in_form_refuses_a_missing_token(site: OAuthSite) -> None:
    http, _page = logged_in(site, "google", "alice")
    comment_id = new_comment_id(post_comment(site, http, "Original text"))
    posts = {
        f"/comments/{comment_id}/delete": {},
        "/auth/logout": {"next": ESSAY},
        "/account/link": {"provider": "facebook"},
        "/account/delete": {"confirm": "delete"},
    }
    for path, data in posts.items():
        response = http.post(site.url + path, data=data, allow_redirects=False)
        assert response.status_code == 400, path
        assert "CSRF" in response.text or "expired" in response.text, path
    # A token from another reader's session is no better than none.
    _other, other_page = logged_in(site, "x", "bob")
    stolen = site.csrf(other_page)
    for path, data in posts.items():
        response = http.post(
            site.url + path, data={**data, "csrf_token": stolen}, allow_redirects=False
        )
        assert response.status_code == 400, path
    assert http.get(site.url + "/auth/logout").status_code == 405
    assert is_logged_in(site, http)
    with site.app.app_context():
        row = db.session.get(Comment, comment_id)
        assert row is not None and row.status is CommentStatus.APPROVED
        assert db.session.scalar(select(func.count()).select_from(Identity)) == 2
        assert all(u.deleted_at is None for u in db.session.scalars(select(User)))


@pytest.mark.parametrize("path_template", ["/comments/", "/comments/{id}/edit"])
def test_comment_forms_without_token_change_nothing_and_keep_the_text(
    site: OAuthSite, path_template: str
) -> None:
    http, page = logged_in(site)
    comment_id = new_comment_id(post_comment(site, http, "Original text"))
    data = {
        "post_id": page.text.split('name="post_id" value="')[1].split('"')[0],
        "comment": "Text typed into an expired form",
    }
    path = path_template.format(id=comment_id)
    response = http.post(site.url + path, data=data)
    assert response.status_code in (200, 400)
    assert "Your form had expired" in response.text or "expired" in response.text
    assert "Text typed into an expired form" in response.text
    with site.app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Comment)) == 1
        row = db.session.get(Comment, comment_id)
        assert row is not None and row.body == "Original text" and row.edited_at is None


def test_expired_edit_form_comes_back_as_the_edit_form(site: OAuthSite) -> None:
    http, _page = logged_in(site)
    comment_id = new_comment_id(post_comment(site, http, "Original text"))
    response = http.post(
        f"{site.url}/comments/{comment_id}/edit", data={"comment": "Edited in an expired form"}
    )
    assert response.url.endswith(f"/comments/{comment_id}/edit")
    assert textarea(response.text) == "Edited in an expired form"
    # ...and the post page's new-comment box does not suddenly hold the edit.
    assert textarea(http.get(site.url + ESSAY).text) == ""


# --- sessions --------------------------------------------------------------------------------


def test_login_starts_a_fresh_session(site: OAuthSite) -> None:
    http = requests.Session()
    consent = site.start_login(http, "google", ESSAY, "draft")
    before = session_cookie(http)
    assert before is not None
    data = serializer(site).loads(before)
    assert data["next"] == ESSAY
    assert any(k.startswith("_state_google_") for k in data)
    # Something planted in the session before login (by a bug, an old page, anyone) ...
    data["planted"] = "from before the login"
    data["link_user"] = 424242
    http.cookies.set(
        "blog_session", serializer(site).dumps(data), domain=urlsplit(site.url).hostname
    )
    planted = session_cookie(http)
    page = site.consent(http, consent, "alice")
    assert "You are commenting using your Google account." in page.text
    after = session_cookie(http)
    assert after not in (None, before, planted)
    fresh = serializer(site).loads(after)
    # ... is gone after it: only the login, the provider and the draft remain.
    assert "planted" not in fresh and "link_user" not in fresh and "next" not in fresh
    assert not any(k.startswith("_state_") for k in fresh)
    assert "_user_id" in fresh and fresh["provider"] == "google"
    # The pre-login cookie never becomes a logged-in one.
    assert not is_logged_in(site, with_cookie(site, before))
    assert not is_logged_in(site, with_cookie(site, planted or ""))


def test_a_copied_cookie_stops_working_after_logout(site: OAuthSite) -> None:
    http, page = logged_in(site, "facebook", "carol")
    copy = session_cookie(http)
    assert copy is not None
    other_device, _page = logged_in(site, "facebook", "carol")
    assert is_logged_in(site, with_cookie(site, copy))
    out = http.post(
        site.url + "/auth/logout",
        data={"csrf_token": site.csrf(page), "next": "/"},
        allow_redirects=False,
    )
    assert out.status_code == 303
    assert not is_logged_in(site, http)
    stale = with_cookie(site, copy)
    assert not is_logged_in(site, stale)
    assert stale.get(site.url + "/account/").status_code == 401
    # Logging out ends every session of that user, the other device's included.
    assert not is_logged_in(site, other_device)
    # Logging in again works.
    again, _page = logged_in(site, "facebook", "carol")
    assert is_logged_in(site, again)


def test_abandoned_and_denied_logins_do_not_grow_the_cookie(site: OAuthSite) -> None:
    """Each started login keeps its state in the session; unfinished ones must not pile up
    (a cookie over 4 KB is silently dropped by browsers, and the draft with it)."""
    client = site.app.test_client()
    page = client.get(ESSAY)
    post_id = page.text.split('name="post_id" value="')[1].split('"')[0]
    form = {"next": ESSAY, "post_id": post_id, "comment": "draft"}
    for attempt in range(15):
        provider = ("google", "x", "facebook")[attempt % 3]
        start = client.post(
            "/auth/start", data={**form, "provider": provider}, headers={"Origin": site.url}
        )
        assert start.status_code == 302
        if attempt % 2:  # every other one is denied, the rest abandoned (tab closed)
            state = authorize_params_of(start.headers["Location"])["state"]
            back = client.get(f"/auth/callback/{provider}?error=access_denied&state={state}")
            assert back.status_code == 303
    cookie = client.get_cookie("blog_session")
    assert cookie is not None and len(cookie.value) < 1500
    # The latest login still completes and the draft is still there.
    page = client.get(ESSAY)
    assert textarea(page.text) == "draft"


# --- next: only local paths ------------------------------------------------------------------


def stays_local(site_url: str, location: str) -> bool:
    """A browser following this Location stays on the site (backslashes count as slashes)."""
    target = urljoin(site_url + "/", location.replace("\\", "/"))
    return urlsplit(target).netloc == urlsplit(site_url).netloc


def test_safe_next_keeps_every_open_redirect_payload_on_the_site() -> None:
    payloads = security_corpus("pat_open_redirect.txt")
    site_url = "http://blog.test"
    leaking = [p for p in payloads if not stays_local(site_url, safe_next(p) + "#respond")]
    assert leaking == []
    assert all(safe_next(p).startswith("/") for p in payloads)
    assert safe_next("/2019/06/10/making-true-connections/") == ESSAY
    for bad in (
        "//evil.test",
        "/\\evil.test",
        "\\\\evil.test",
        " //evil.test",
        "/\t/evil.test",
        "https:evil.test",
        "http://evil.test",
        "/\r\nLocation: //evil.test",
    ):
        assert safe_next(bad) == "/", bad


def test_no_next_payload_leaves_the_site_through_start_and_callback(site: OAuthSite) -> None:
    """Every payload as `next` at the login start; the callback's redirect stays local.

    In-process (the test client) to keep 240 round trips fast; the provider's answer is
    the denial it would send, so start -> callback exercises both `next` checks.
    """
    client = site.app.test_client()
    for payload in security_corpus("pat_open_redirect.txt"):
        start = client.post(
            "/auth/start", data={"provider": "x", "next": payload}, headers={"Origin": site.url}
        )
        assert start.status_code == 302, payload
        state = authorize_params_of(start.headers["Location"])["state"]
        back = client.get(f"/auth/callback/x?error=access_denied&state={state}")
        assert back.status_code == 303, payload
        assert stays_local(site.url, back.headers["Location"]), (payload, back.headers)
        assert back.headers["Location"].startswith("/")


def test_next_payloads_through_a_successful_login_and_logout(site: OAuthSite) -> None:
    payloads = [*security_corpus("pat_open_redirect.txt")[::30], "//evil.test/", "/\\evil.test"]
    site.idp.switches.auto_identity = "alice"  # skip the consent page
    for payload in payloads:
        http = requests.Session()
        response = site.start_login(http, "google", ESSAY, next=payload)
        assert_never_a_500(response)  # a local path that is no page is a 404, still here
        assert response.url.startswith(site.url + "/"), payload
        assert "You are commenting" in http.get(site.url + ESSAY).text
        page = http.get(site.url + ESSAY)
        out = http.post(
            site.url + "/auth/logout",
            data={"csrf_token": site.csrf(page), "next": payload},
            allow_redirects=False,
        )
        assert out.status_code == 303
        assert stays_local(site.url, out.headers["Location"]), payload


# --- state, nonce and PKCE -------------------------------------------------------------------


def assert_rejected(site: OAuthSite, http: requests.Session, url: str) -> requests.Response:
    response = http.get(url)
    assert_never_a_500(response)
    assert response.status_code in (200, 400)
    assert any(
        m in response.text
        for m in ("could not be verified", "could not log you in", "You did not allow")
    )
    assert "You are commenting using" not in response.text
    assert not is_logged_in(site, http)
    return response


@pytest.mark.parametrize("provider", ["google", "x", "facebook"])
def test_forged_callback_is_rejected_with_a_clear_page(site: OAuthSite, provider: str) -> None:
    # A reader in the middle of a login (so the page knows where to go back to).
    http = requests.Session()
    site.start_login(http, provider, ESSAY, "draft")
    page = assert_rejected(
        site, http, callback_url(site, provider, code="x" * 20, state=secrets.token_urlsafe(16))
    )
    assert textarea(page.text) == "draft"
    # A browser that never started a login gets a clear page of its own, and no cookie.
    for url in (
        callback_url(site, provider, code="abc", state="s"),
        callback_url(site, provider),
        callback_url(site, provider, error="access_denied", state="s"),
    ):
        fresh = requests.Session()
        page = assert_rejected(site, fresh, url)
        assert page.status_code == 400
        assert "Login failed" in page.text and "Your comment is kept" not in page.text
        assert "Set-Cookie" not in page.headers
    with site.app.app_context():
        assert db.session.scalar(select(func.count()).select_from(User)) == 0


def test_replayed_callback_is_rejected(site: OAuthSite) -> None:
    http = requests.Session()
    callback = consent_redirect(site, http, "google")
    pre_login = session_cookie(http)
    assert pre_login is not None
    assert "You are commenting" in http.get(callback).text
    # The same URL again, from a fresh browser or with the cookie from before the login.
    assert_rejected(site, requests.Session(), callback)
    assert_rejected(site, with_cookie(site, pre_login), callback)
    with site.app.app_context():
        assert db.session.scalar(select(func.count()).select_from(User)) == 1


@pytest.mark.parametrize("provider", ["google", "x", "facebook"])
def test_code_replayed_with_fresh_state_is_rejected(site: OAuthSite, provider: str) -> None:
    first = requests.Session()
    callback = consent_redirect(site, first, provider)
    assert "You are commenting" in first.get(callback).text  # the code is used up
    http = requests.Session()
    fresh_state = authorize_params(site.start_login(http, provider, ESSAY, "draft"))["state"]
    used_code = authorize_params_of(callback)["code"]
    assert_rejected(site, http, callback_url(site, provider, code=used_code, state=fresh_state))


@pytest.mark.parametrize("provider", ["google", "x", "facebook"])
def test_a_stolen_unused_code_is_useless_in_another_browser(site: OAuthSite, provider: str) -> None:
    """Code injection: a leaked code presented with the thief's own state fails PKCE."""
    victim_code = authorize_params_of(consent_redirect(site, requests.Session(), provider))["code"]
    thief = requests.Session()
    state = authorize_params(site.start_login(thief, provider, ESSAY, "draft"))["state"]
    assert_rejected(site, thief, callback_url(site, provider, code=victim_code, state=state))
    with site.app.app_context():
        assert db.session.scalar(select(func.count()).select_from(User)) == 0


def test_one_providers_state_at_anothers_callback_is_rejected(site: OAuthSite) -> None:
    http = requests.Session()
    google = authorize_params_of(consent_redirect(site, http, "google"))
    assert_rejected(site, http, callback_url(site, "x", **google))
    assert_rejected(site, http, callback_url(site, "facebook", **google))


def test_authorization_requests_carry_state_nonce_and_pkce(site: OAuthSite) -> None:
    for provider, pkce, nonce in (
        ("google", True, True),
        ("x", True, False),
        ("facebook", True, False),
    ):
        params = authorize_params(site.start_login(requests.Session(), provider, ESSAY))
        assert len(params["state"]) >= 20
        assert params["redirect_uri"] == f"{site.url}/auth/callback/{provider}"
        assert ("nonce" in params) is nonce
        if pkce:
            assert params["code_challenge_method"] == "S256"
            assert len(params["code_challenge"]) == 43


@pytest.mark.parametrize("field", ["nonce", "code_verifier"])
def test_tampered_nonce_or_pkce_verifier_is_rejected(site: OAuthSite, field: str) -> None:
    http = requests.Session()
    callback = consent_redirect(site, http, "google")
    data = serializer(site).loads(session_cookie(http))
    key = next(k for k in data if k.startswith("_state_google_"))
    assert field in data[key]["data"]
    data[key]["data"][field] = secrets.token_urlsafe(48)
    http.cookies.set(
        "blog_session", serializer(site).dumps(data), domain=urlsplit(site.url).hostname
    )
    assert_rejected(site, http, callback)


# --- users are (provider, subject) -----------------------------------------------------------


def test_same_email_at_two_providers_gives_two_users(site: OAuthSite) -> None:
    logged_in(site, "google", "alice")
    http = requests.Session()
    consent = site.start_login(http, "facebook", ESSAY)
    page = site.consent(http, consent, "alice", share_email="yes")
    assert "You are commenting using your Facebook account." in page.text
    logged_in(site, "google", "alice")  # the same account again: no third user
    with site.app.app_context():
        users = db.session.scalars(select(User).order_by(User.id)).all()
        assert len(users) == 2
        assert [u.email for u in users] == ["alice@example.com", "alice@example.com"]
        pairs = {(i.provider, i.subject, i.user_id) for i in db.session.scalars(select(Identity))}
        assert pairs == {
            ("google", identity("alice").subject("google"), users[0].id),
            ("facebook", identity("alice").subject("facebook"), users[1].id),
        }


def test_unverified_email_is_not_kept(site: OAuthSite) -> None:
    logged_in(site, "google", "bob")
    with site.app.app_context():
        user = db.session.scalar(select(User))
        assert user is not None and user.email is None and not user.email_verified
