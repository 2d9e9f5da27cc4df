"""Knowing where you stand: the header's account menu, and the admin area's login page."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import requests
from flask import Flask

from blog.auth.menu import ACCOUNT_MENU_SLOT
from blog.devidp import identity
from blog.models import CommentStatus
from tests.support.auth_helpers import ESSAY, form_data, parse, serve_site
from tests.support.moderation_helpers import (
    MODERATORS,
    add_comment,
    add_moderator,
    add_user,
    log_in,
    set_status,
)
from tests.support.oauth_site import OAuthSite

AUTHOR_MODERATES = frozenset({("google", identity("author").subject("google"))})
PAGES = ("/", ESSAY, "/about/", "/?s=connections", "/no-such-page/")


@pytest.fixture
def app(essay: Path, make_app: Callable[..., Flask]) -> Flask:
    return make_app(MODERATORS=MODERATORS, MODERATION_HOLD="first")


@pytest.fixture
def site(essay: Path, make_app: Callable[..., Flask]) -> Iterator[OAuthSite]:
    """The blog and the identity provider over HTTP; the provider's author moderates."""
    yield from serve_site(make_app, MODERATORS=AUTHOR_MODERATES, MODERATION_HOLD="first")


def menu_of(html: str) -> str:
    """The account menu's markup in a page ('' when the header carries only the slot)."""
    found = re.search(r'<div class="account-menu">.*?</details>\s*</div>', html, re.S)
    return found.group(0) if found else ""


def test_anonymous_pages_carry_only_the_slot_and_stay_shared(app: Flask) -> None:
    first, second = app.test_client(), app.test_client()
    for path in PAGES:
        one, two = first.get(path), second.get(path)
        assert one.status_code in (200, 404), path
        assert one.data == two.data, path  # the same bytes for every anonymous reader
        assert ACCOUNT_MENU_SLOT in one.text and menu_of(one.text) == "", path
        assert "Set-Cookie" not in one.headers, path
    essay = first.get(ESSAY)
    assert essay.headers["Cache-Control"].startswith("public") and essay.headers.get("ETag")


def test_a_reader_sees_name_avatar_account_subscriptions_and_log_out_everywhere(app: Flask) -> None:
    client = app.test_client()
    alice = add_user(app, "Alice <Reader>")
    log_in(client, alice)
    for path in PAGES:
        response = client.get(path)
        menu = menu_of(response.text)
        assert menu, path
        assert ACCOUNT_MENU_SLOT not in response.text, path
        assert "Alice &lt;Reader&gt;" in menu and "<Reader>" not in menu, path  # escaped
        assert f'src="/avatars/{alice}.svg"' in menu
        assert 'href="/account/"' in menu
        assert 'href="/account/subscriptions/"' in menu
        assert "Moderation" not in menu  # not for a reader who does not moderate
        assert response.headers["Cache-Control"] == "private, no-store", path
        assert "ETag" not in response.headers and "Last-Modified" not in response.headers, path
        logout = form_data(response.text, "/auth/logout")
        assert logout["csrf_token"], path  # the <details> menu works without JavaScript
        assert logout["next"] == path.split("?")[0], path
    # The menu follows its reader: a logout anywhere is seen by the next request.
    assert client.post("/auth/logout", data=form_data(client.get("/").text, "/auth/logout"))
    assert menu_of(client.get("/").text) == ""


def test_a_moderator_gets_the_moderation_link_with_the_pending_count(app: Flask) -> None:
    client = app.test_client()
    log_in(client, add_moderator(app))
    alice = add_user(app, "Alice")
    menu = menu_of(client.get("/").text)
    assert 'href="/admin/comments"' in menu and "pending-count" not in menu  # none waiting
    first = add_comment(app, alice, "Held, as a first comment is.")
    add_comment(app, alice, "Also held.", status=CommentStatus.PENDING)
    menu = menu_of(client.get("/").text)
    count = re.search(r'<span class="pending-count">(\d+)<', menu)
    assert count and count.group(1) == "2"
    assert "Moderation (2 pending)" in menu
    set_status(app, first, CommentStatus.APPROVED)  # the count follows every comment change
    count = re.search(r'<span class="pending-count">(\d+)<', menu_of(client.get("/").text))
    assert count and count.group(1) == "1"


@pytest.mark.parametrize(
    "path",
    ["/admin/", "/admin/comments?status=spam", "/admin/drafts"],
    ids=["dash", "tab", "drafts"],
)
def test_a_logged_out_author_logs_in_from_the_admin_page_and_lands_back_there(
    site: OAuthSite, path: str
) -> None:
    http = requests.Session()
    page = http.get(site.url + path)
    assert page.status_code == 401
    assert page.headers["Cache-Control"] == "private, no-store"
    assert "Log in to continue" in page.text
    login = form_data(page.text, "/auth/start")
    assert login["next"] == path
    (form,) = [f for f in parse(page.text).forms if f.attrs.get("action") == "/auth/start"]
    buttons = [f["value"] for f in form.fields if f.get("name") == "provider"]
    assert buttons == ["google", "x", "facebook"]
    consent = http.post(
        site.url + "/auth/start", data={**login, "provider": "google"}, headers={"Origin": site.url}
    )
    landed = site.consent(http, consent, "author")
    assert landed.status_code == 200
    assert landed.url == site.url + path  # no "#respond": there is no comment box here
    assert "Log in to continue" not in landed.text
    assert 'href="/admin/comments"' in menu_of(landed.text)


def test_a_login_page_next_that_leaves_the_site_returns_home(site: OAuthSite) -> None:
    http = requests.Session()
    for evil in ("//evil.example/", "https://evil.example/", "/\\evil.example"):
        consent = http.post(
            site.url + "/auth/start",
            data={"provider": "google", "next": evil},
            headers={"Origin": site.url},
        )
        landed = site.consent(http, consent, "alice")
        assert landed.url == site.url + "/", evil


def test_a_reader_who_is_not_a_moderator_gets_a_403_not_the_login_page(site: OAuthSite) -> None:
    http = requests.Session()
    site.login(http, "google", ESSAY, identity="alice")
    page = http.get(site.url + "/admin/")
    assert page.status_code == 403 and "Log in to continue" not in page.text
