"""The OAuth dance over real HTTP for every provider, and the draft that survives every outcome."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from flask import Flask
from sqlalchemy import func, select

from blog.auth import accounts
from blog.auth.devmode import dev_provider_settings
from blog.auth.providers import Profile
from blog.devidp import identity
from blog.extensions import db
from blog.models import Comment, CommentDraft, Identity, User
from tests.support.auth_helpers import (
    ESSAY,
    LABELS,
    PROVIDERS,
    client_login,
    comment_html,
    essay_id,
    form_data,
    logged_in,
    new_comment_id,
    post_comment,
    serve_site,
    session_cookie,
    textarea,
)
from tests.support.oauth_site import OAuthSite

DRAFT = "A half-written <thought> & a second line\nwith *emphasis*"


@pytest.fixture
def site(essay: Path, make_app: Callable[..., Flask]) -> Iterator[OAuthSite]:
    yield from serve_site(make_app)


@pytest.fixture
def impatient_site(essay: Path, make_app: Callable[..., Flask]) -> Iterator[OAuthSite]:
    """A blog that waits only half a second for the provider."""
    yield from serve_site(make_app, AUTH_TIMEOUT_SECONDS=0.5)


def count(site: OAuthSite, model: type) -> int:
    with site.app.app_context():
        return db.session.scalar(select(func.count()).select_from(model)) or 0


def assert_kept_and_logged_out(page: requests.Response, message: str) -> None:
    """Back on the post page, with a clear message, the draft in the box and no login."""
    assert page.status_code == 200, page.text[:500]
    assert page.url.endswith(ESSAY + "#respond")
    assert message in page.text
    assert "Your comment is kept" in page.text
    assert textarea(page.text) == DRAFT
    assert "You are commenting using" not in page.text
    assert "Please log in using one of these methods" in page.text


# --- the whole journey -----------------------------------------------------------------------


@pytest.mark.parametrize("provider", PROVIDERS)
def test_full_dance_comment_reply_edit_delete_logout(site: OAuthSite, provider: str) -> None:
    http, page = logged_in(site, provider, "carol", comment=DRAFT)
    assert page.url.endswith(ESSAY + "#respond")
    assert f"You are commenting using your {LABELS[provider]} account." in page.text
    assert textarea(page.text) == DRAFT  # the draft came back, without any JavaScript
    assert "Log Out" in page.text and "Change" in page.text and "Post Comment" in page.text
    with site.app.app_context():
        ident = db.session.scalar(select(Identity))
        assert ident is not None
        assert (ident.provider, ident.subject) == (provider, identity("carol").subject(provider))
        assert ident.user.display_name == "Carol NoEmail"
        assert ident.user.email is None

    first = new_comment_id(post_comment(site, http, DRAFT))
    page = http.get(site.url + ESSAY)
    assert f'id="comment-{first}"' in page.text
    assert "<em>emphasis</em>" in page.text
    assert "<thought>" not in comment_html(page.text, first)  # raw HTML is not kept
    assert "&amp; a second line<br" in comment_html(page.text, first)
    assert textarea(page.text) == ""  # the draft is gone once posted
    assert count(site, CommentDraft) == 0

    reply = new_comment_id(post_comment(site, http, "A reply", parent_id=first))
    with site.app.app_context():
        row = db.session.get(Comment, reply)
        assert row is not None
        assert (row.parent_id, row.depth, row.provider) == (first, 1, provider)

    page = http.get(f"{site.url}/comments/{reply}/edit")
    assert page.status_code == 200
    edited = http.post(
        f"{site.url}/comments/{reply}/edit",
        data={"csrf_token": site.csrf(page), "comment": "A better reply"},
        allow_redirects=False,
    )
    assert edited.status_code == 303
    assert edited.headers["Location"].endswith(f"{ESSAY}#comment-{reply}")
    page = http.get(site.url + ESSAY)
    assert "A better reply" in comment_html(page.text, reply)
    assert "(edited)" in comment_html(page.text, reply)

    deleted = http.post(
        f"{site.url}/comments/{reply}/delete",
        data={"csrf_token": site.csrf(page), "confirm": "yes"},
        allow_redirects=False,
    )
    assert deleted.status_code == 303
    page = http.get(site.url + ESSAY)
    assert f'id="comment-{reply}"' not in page.text
    assert f'id="comment-{first}"' in page.text

    out = http.post(
        site.url + "/auth/logout",
        data={"csrf_token": site.csrf(page), "next": ESSAY},
        allow_redirects=False,
    )
    assert out.status_code == 303
    assert out.headers["Location"] == ESSAY
    assert session_cookie(http) is None
    page = http.get(site.url + ESSAY)
    assert "You are commenting using" not in page.text
    assert "Please log in using one of these methods" in page.text
    assert page.headers["Cache-Control"].startswith("public")


# --- outcomes that keep the draft ------------------------------------------------------------


@pytest.mark.parametrize("provider", PROVIDERS)
def test_denied_consent_keeps_the_draft(site: OAuthSite, provider: str) -> None:
    http = requests.Session()
    consent = site.start_login(http, provider, ESSAY, DRAFT)
    page = site.consent(http, consent, "alice", decision="deny")
    assert_kept_and_logged_out(page, f"You did not allow {LABELS[provider]} to log you in.")
    assert count(site, User) == 0


def test_deny_switch_keeps_the_draft(site: OAuthSite) -> None:
    site.idp.switches.deny = True
    page = site.start_login(requests.Session(), "x", ESSAY, DRAFT)
    assert_kept_and_logged_out(page, "You did not allow X (Twitter) to log you in.")


@pytest.mark.parametrize("provider", PROVIDERS)
def test_provider_down_keeps_the_draft(site: OAuthSite, provider: str) -> None:
    site.idp.switches.fail = True
    page = site.login(requests.Session(), provider, ESSAY, comment=DRAFT)
    assert_kept_and_logged_out(page, f"{LABELS[provider]} could not log you in.")
    assert count(site, User) == 0


@pytest.mark.parametrize("provider", PROVIDERS)
def test_slow_provider_times_out_and_keeps_the_draft(
    impatient_site: OAuthSite, provider: str
) -> None:
    site = impatient_site
    http = requests.Session()
    consent = site.start_login(http, provider, ESSAY, DRAFT)
    site.idp.switches.slow_seconds = 1.0
    page = site.consent(http, consent)
    assert_kept_and_logged_out(page, f"{LABELS[provider]} did not answer in time.")
    assert count(site, User) == 0


def test_unreachable_provider_at_login_start_keeps_the_draft(
    essay: Path, make_app: Callable[..., Flask]
) -> None:
    """Google's discovery document cannot be fetched: back to the post with a note."""
    settings = dev_provider_settings("http://127.0.0.1:9")  # nothing listens on port 9
    app = make_app(AUTH_PROVIDERS=settings, DEV_IDP=False, AUTH_TIMEOUT_SECONDS=0.5)
    client = app.test_client()
    page = client.get(ESSAY)
    post_id = str(essay_id(page.text))
    response = client.post(
        "/auth/start",
        data={"provider": "google", "next": ESSAY, "post_id": post_id, "comment": DRAFT},
        headers={"Origin": "http://blog.test"},
    )
    assert response.status_code == 303
    assert response.headers["Location"] == ESSAY + "#respond"
    page = client.get(ESSAY)
    assert "Google cannot be reached right now. Your comment is kept." in page.text
    assert textarea(page.text) == DRAFT


def test_bad_id_token_is_refused_and_keeps_the_draft(site: OAuthSite) -> None:
    site.idp.switches.bad_id_token = True
    page = site.login(requests.Session(), "google", ESSAY, comment=DRAFT)
    assert_kept_and_logged_out(page, "Google could not log you in.")
    assert count(site, User) == 0
    assert count(site, Identity) == 0


def test_retry_after_a_failure_logs_in_with_the_draft(site: OAuthSite) -> None:
    http = requests.Session()
    site.idp.switches.fail = True
    site.login(http, "google", ESSAY, comment=DRAFT)
    site.idp.switches.fail = False
    page = http.get(site.url + ESSAY)
    # The box still holds the draft; submitting it again with a provider button logs in.
    page = site.login(http, "facebook", ESSAY, comment=textarea(page.text))
    assert "You are commenting using your Facebook account." in page.text
    assert textarea(page.text) == DRAFT


# --- drafts stay server-side -----------------------------------------------------------------


def test_long_draft_survives_login_and_the_cookie_stays_small(site: OAuthSite) -> None:
    long_draft = ("All work and no play. " * 2500)[: site.app.config["COMMENT_MAX_CHARS"]]
    http = requests.Session()
    consent = site.start_login(http, "x", ESSAY, long_draft)
    assert len(session_cookie(http) or "") < 1024
    page = site.consent(http, consent)
    assert "You are commenting using your X (Twitter) account." in page.text
    assert textarea(page.text) == long_draft
    assert len(session_cookie(http) or "") < 1024
    with site.app.app_context():
        draft = db.session.scalar(select(CommentDraft))
        assert draft is not None and draft.body == long_draft


def test_reply_draft_keeps_its_parent_across_login(site: OAuthSite) -> None:
    http, _page = logged_in(site, "google", "alice")
    parent = new_comment_id(post_comment(site, http, "Parent"))
    reply_page = requests.Session()
    consent = site.start_login(reply_page, "facebook", ESSAY, "Reply draft", parent_id=str(parent))
    page = site.consent(reply_page, consent, "carol")
    assert textarea(page.text) == "Reply draft"
    assert f'name="parent_id" value="{parent}"' in page.text
    reply = new_comment_id(post_comment(site, reply_page, "Reply draft", parent_id=parent))
    with site.app.app_context():
        row = db.session.get(Comment, reply)
        assert row is not None and row.parent_id == parent


# --- rejected posts and expired forms keep the text ------------------------------------------


@pytest.mark.parametrize("token", [None, "not-a-valid-token", "IjEyMyI.bad.sig"])
def test_expired_or_invalid_csrf_token_keeps_the_comment(
    site: OAuthSite, token: str | None
) -> None:
    http, page = logged_in(site)
    data = {"post_id": str(essay_id(page.text)), "parent_id": "", "comment": DRAFT}
    if token is not None:
        data["csrf_token"] = token
    response = http.post(site.url + "/comments/", data=data, allow_redirects=False)
    assert response.status_code == 400
    assert response.headers["Cache-Control"] == "private, no-store"
    assert "Your form had expired" in response.text
    assert textarea(response.text) == DRAFT
    assert count(site, Comment) == 0
    # The text is kept as the draft too: a reload brings it back.
    page = http.get(site.url + ESSAY)
    assert textarea(page.text) == DRAFT
    # Posting again with the fresh token works.
    assert new_comment_id(post_comment(site, http, textarea(page.text)))


def test_empty_comment_is_refused_with_a_message(site: OAuthSite) -> None:
    http, _page = logged_in(site)
    response = post_comment(site, http, "   \n  ")
    assert response.status_code == 400
    assert "Your comment is empty: write something first." in response.text
    assert response.headers["Cache-Control"] == "private, no-store"
    assert count(site, Comment) == 0


@pytest.fixture
def short_site(essay: Path, make_app: Callable[..., Flask]) -> Iterator[OAuthSite]:
    yield from serve_site(make_app, COMMENT_MAX_CHARS=40)


def test_too_long_comment_comes_back_intact(short_site: OAuthSite) -> None:
    site = short_site
    http, _page = logged_in(site)
    text = "This comment is much longer than forty characters, alas."
    response = post_comment(site, http, text)
    assert response.status_code == 400
    assert "the limit is 40. Please shorten it." in response.text
    assert textarea(response.text) == text
    assert 'maxlength="40"' in response.text
    assert count(site, Comment) == 0
    # The draft keeps what a comment may hold: a reload brings back the part that can be posted.
    assert textarea(http.get(site.url + ESSAY).text) == text[:40]
    assert new_comment_id(post_comment(site, http, text[:40]))
    assert count(site, Comment) == 1


def test_comment_post_while_logged_out_keeps_the_draft(site: OAuthSite) -> None:
    http = requests.Session()
    page = http.get(site.url + ESSAY)
    data = {"post_id": str(essay_id(page.text)), "comment": DRAFT}
    response = http.post(site.url + "/comments/", data=data, allow_redirects=False)
    # A logged-out POST has no session, so CSRF fails first; the text comes back in the box.
    assert response.status_code == 400
    assert "Please log in to post your comment. It is kept below." in response.text
    assert textarea(response.text) == DRAFT
    # Nothing is stored for a request without a session (anyone can send those by the
    # thousand): the box's own login buttons carry the text through the login.
    assert count(site, CommentDraft) == 0
    assert 'action="/auth/start"' in response.text
    page = site.login(http, "x", ESSAY, comment=textarea(response.text))
    assert "You are commenting using your X (Twitter) account." in page.text
    assert textarea(page.text) == DRAFT
    assert count(site, Comment) == 0


# --- characters PostgreSQL cannot store ------------------------------------------------------


def utcnow_of(app: Flask) -> Any:
    return app.extensions["blog.clock"].now()


def offline_app(make_app: Callable[..., Flask]) -> Flask:
    settings = dev_provider_settings("http://127.0.0.1:9")
    for values in settings.values():
        values.pop("dev")
    return make_app(AUTH_PROVIDERS=settings, DEV_IDP=False)


def test_nul_in_a_draft_or_a_provider_name_is_not_an_error(
    essay: Path, make_app: Callable[..., Flask]
) -> None:
    app = offline_app(make_app)
    client = app.test_client()
    post_id = essay_id(client.get(ESSAY).text)
    start = client.post(
        "/auth/start",
        data={"provider": "x", "next": ESSAY, "post_id": str(post_id), "comment": "a\x00b"},
        headers={"Origin": "http://blog.test"},
    )
    assert start.status_code == 302
    assert textarea(client.get(ESSAY).text) == "ab"
    profile = Profile(
        "x", "nul-1", "Nul\x00Name\u0085 \x1b[31mRed", "a\x00@example.com", True, None
    )
    with app.app_context():
        user = accounts.login_profile(profile, utcnow_of(app))
        assert user.display_name == "Nul Name [31mRed"
        assert user.email is None and not user.email_verified
        assert (
            accounts.login_profile(
                Profile("x", "nul-2", "\x00 \t", None, False, None), utcnow_of(app)
            ).display_name
            == "Reader"
        )


def test_nul_in_a_posted_comment_is_not_a_500(essay: Path, make_app: Callable[..., Flask]) -> None:
    app = offline_app(make_app)
    client = client_login(app, Profile("x", "nul-3", "Poster", None, False, None))
    data = form_data(client.get(ESSAY).text, "/comments/")
    response = client.post("/comments/", data={**data, "comment": "before\x00after"})
    assert response.status_code == 303
    assert "<p>beforeafter</p>" in client.get(ESSAY).text
