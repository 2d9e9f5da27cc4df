"""Facebook's data-deletion callback, its status page, and the privacy policy."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import requests
from flask import Flask
from sqlalchemy import func, select

from blog.auth import accounts
from blog.auth.devmode import dev_provider_settings
from blog.auth.providers import Profile
from blog.clock import FrozenClock
from blog.devidp import identity
from blog.extensions import db
from blog.models import Comment, DeletionRequest, Identity, Subscription, User
from tests.conftest import NOW
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

SECRET = "dev-facebook-secret"  # what dev_provider_settings configures
ROUTE = "/auth/facebook/data-deletion"


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def signed_request(payload: Any, secret: str = SECRET) -> str:
    """Facebook's format: base64url(HMAC-SHA256(payload part)) + "." + base64url(JSON)."""
    return signed_raw(json.dumps(payload).encode(), secret)


def signed_raw(payload: bytes, secret: str = SECRET) -> str:
    """Any bytes as the payload part, signed as Facebook signs."""
    body = b64url(payload)
    signature = hmac.new(secret.encode(), body.encode(), hashlib.sha256).digest()
    return f"{b64url(signature)}.{body}"


def deletion_payload(user_id: str, issued_at: datetime = NOW) -> dict[str, Any]:
    """What Facebook signs: issued now by the app's clock unless a test says otherwise."""
    return {"algorithm": "HMAC-SHA256", "user_id": user_id, "issued_at": int(issued_at.timestamp())}


@pytest.fixture
def app(essay: Path, make_app: Callable[..., Flask]) -> Flask:
    """The blog with every provider configured (no provider is contacted in these tests)."""
    return make_app(AUTH_PROVIDERS=dev_provider_settings("http://127.0.0.1:9"), DEV_IDP=False)


def facebook_user(app: Flask, key: str = "alice") -> int:
    """A user who logged in with Facebook once and left a comment."""
    person = identity(key)
    profile = Profile("facebook", person.subject("facebook"), person.name, person.email, True, None)
    client = client_login(app, profile)
    # With "Notify me" ticked: the verified address follows the essay's thread.
    form = form_data(client.get(ESSAY).text, "/comments/")
    client_comment(client, "Hello", form={**form, "subscribe_thread": "1"})
    with app.app_context():
        found = accounts.find_identity("facebook", person.subject("facebook"))
        assert found is not None
        return found.user_id


def user_state(app: Flask, user_id: int) -> tuple[str, int, str | None]:
    with app.app_context():
        user = db.session.get(User, user_id)
        assert user is not None
        comments = db.session.scalar(
            select(func.count()).select_from(Comment).where(Comment.user_id == user_id)
        )
        return user.display_name, len(user.identities) + (comments or 0), user.email


def test_signed_request_deletes_and_answers_url_and_code(app: Flask) -> None:
    user_id = facebook_user(app)
    client = app.test_client()
    response = client.post(
        ROUTE,
        data={
            "signed_request": signed_request(
                deletion_payload(identity("alice").subject("facebook"))
            )
        },
    )
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("application/json")
    assert "Set-Cookie" not in response.headers
    answer = response.get_json()
    assert set(answer) == {"url", "confirmation_code"}
    code = answer["confirmation_code"]
    assert len(code) >= 16
    assert answer["url"] == f"http://blog.test/auth/facebook/deletion/{code}/"
    assert user_state(app, user_id) == ("Deleted user", 0, None)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Identity)) == 0
        assert db.session.scalar(select(func.count()).select_from(Subscription)) == 0
        row = db.session.scalar(select(Comment))
        assert row is not None and (row.user_id, row.author_name) == (None, "Deleted user")
        request_row = db.session.scalar(select(DeletionRequest))
        assert request_row is not None and request_row.users_deleted == 1
        # The Facebook user id itself is not kept, only a hash of it.
        assert identity("alice").subject("facebook") not in request_row.subject_hash
    status = client.get(f"/auth/facebook/deletion/{code}/")
    assert status.status_code == 200
    assert code in status.text and "Your data has been deleted" in status.text
    assert client.get("/auth/facebook/deletion/not-a-code/").status_code == 404


def test_unknown_facebook_user_gets_a_code_and_nothing_is_touched(app: Flask) -> None:
    user_id = facebook_user(app)
    client = app.test_client()
    response = client.post(ROUTE, data={"signed_request": signed_request(deletion_payload("42"))})
    assert response.status_code == 200
    status = client.get(response.get_json()["url"].removeprefix("http://blog.test"))
    assert "held no data for this account" in status.text
    assert user_state(app, user_id) == ("Alice Verified", 2, "alice@example.com")


BAD_REQUESTS: dict[str, str] = {
    "missing": "",
    "garbage": "not-a-signed-request",
    "wrong secret": signed_request(deletion_payload("1020000000000000001"), "another-secret"),
    "tampered payload": signed_request(deletion_payload("1")).split(".")[0]
    + "."
    + b64url(json.dumps(deletion_payload("1020000000000000001")).encode()),
    "signature only": signed_request(deletion_payload("1020000000000000001")).split(".")[0],
    "wrong algorithm": signed_request(
        {**deletion_payload("1020000000000000001"), "algorithm": "none"}
    ),
    "algorithm not text": signed_request(
        {**deletion_payload("1020000000000000001"), "algorithm": 256}
    ),
    "no user": signed_request({"algorithm": "HMAC-SHA256", "issued_at": 1}),
    "payload a list": signed_request(["HMAC-SHA256", "1020000000000000001"]),
    "non-ascii": "ü.ü",
    "issued years ago": signed_request(
        deletion_payload("1020000000000000001", NOW - timedelta(days=3 * 365))
    ),
    "issued a day ago": signed_request(
        deletion_payload("1020000000000000001", NOW - timedelta(days=1))
    ),
    "issued in the future": signed_request(
        deletion_payload("1020000000000000001", NOW + timedelta(hours=1))
    ),
    "issued_at missing": signed_request(
        {"algorithm": "HMAC-SHA256", "user_id": "1020000000000000001"}
    ),
    "issued_at not a number": signed_request(
        {**deletion_payload("1020000000000000001"), "issued_at": "yesterday"}
    ),
    # Unsigned: parsing it before checking the signature used to exhaust the recursion limit.
    "deeply nested, unsigned": b64url(b"x" * 32) + "." + b64url(b"[" * 3000),
    "deeply nested, signed": signed_raw(b"[" * 3000),
    "too long": signed_request(
        {**deletion_payload("1020000000000000001"), "padding": "x" * 20_000}
    ),
}


@pytest.mark.parametrize("name", list(BAD_REQUESTS))
def test_a_bad_signed_request_is_refused_and_deletes_nothing(app: Flask, name: str) -> None:
    user_id = facebook_user(app)
    response = app.test_client().post(ROUTE, data={"signed_request": BAD_REQUESTS[name]})
    assert response.status_code == 400
    assert response.get_json() == {"error": "invalid signed_request"}
    assert user_state(app, user_id) == ("Alice Verified", 2, "alice@example.com")
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(DeletionRequest)) == 0


def test_the_callback_is_off_without_facebook(essay: Path, make_app: Callable[..., Flask]) -> None:
    settings = dev_provider_settings("http://127.0.0.1:9")
    del settings["facebook"]
    app = make_app(AUTH_PROVIDERS=settings, DEV_IDP=False)
    payload = {"signed_request": signed_request(deletion_payload("1"))}
    assert app.test_client().post(ROUTE, data=payload).status_code == 404


def test_privacy_policy_page(app: Flask) -> None:
    response = app.test_client().get("/privacy/")
    assert response.status_code == 200
    assert "Privacy policy" in response.text
    assert "Facebook" in response.text and "confirmation code" in response.text
    assert "Set-Cookie" not in response.headers


@pytest.fixture
def site(essay: Path, make_app: Callable[..., Flask]) -> Iterator[OAuthSite]:
    yield from serve_site(make_app)


def test_deletion_over_http_ends_the_facebook_users_session(site: OAuthSite) -> None:
    http, _page = logged_in(site, "facebook", "carol")
    comment_id = new_comment_id(post_comment(site, http, "Carol was here"))
    copy = session_cookie(http)
    assert copy is not None
    request = signed_request(deletion_payload(identity("carol").subject("facebook")))
    # Facebook's server calls us: no cookie, no CSRF token.
    response = requests.post(site.url + ROUTE, data={"signed_request": request})
    assert response.status_code == 200
    answer = response.json()
    assert answer["url"].startswith(site.url + "/auth/facebook/deletion/")
    assert answer["confirmation_code"] in requests.get(answer["url"]).text
    html = requests.get(site.url + ESSAY).text
    assert "Deleted user" in comment_html(html, comment_id)
    assert "Carol NoEmail" not in html
    for browser in (http, with_cookie(site, copy)):
        assert "You are commenting using" not in browser.get(site.url + ESSAY).text
    # The privacy page that Facebook's app settings point to is served.
    assert requests.get(site.url + "/privacy/").status_code == 200


def test_a_repeated_request_answers_the_same_and_acts_once(app: Flask) -> None:
    facebook_user(app)
    request = {
        "signed_request": signed_request(deletion_payload(identity("alice").subject("facebook")))
    }
    first = app.test_client().post(ROUTE, data=request)
    assert first.status_code == 200
    # The person comes back and logs in with Facebook again: a new account, with a comment.
    new_user = facebook_user(app)
    again = app.test_client().post(ROUTE, data=request)
    assert again.status_code == 200
    assert again.get_json() == first.get_json()
    assert user_state(app, new_user) == ("Alice Verified", 2, "alice@example.com")
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(DeletionRequest)) == 1
    status = app.test_client().get(first.get_json()["url"].removeprefix("http://blog.test"))
    assert "Your data has been deleted" in status.text


def test_a_request_a_few_minutes_old_is_still_honoured(app: Flask, clock: FrozenClock) -> None:
    user_id = facebook_user(app)
    request = signed_request(deletion_payload(identity("alice").subject("facebook")))
    clock.advance(minutes=30)
    response = app.test_client().post(ROUTE, data={"signed_request": request})
    assert response.status_code == 200
    assert user_state(app, user_id) == ("Deleted user", 0, None)


def test_a_replay_with_the_signature_spelt_otherwise_acts_once(app: Flask) -> None:
    facebook_user(app)
    signed = signed_request(deletion_payload(identity("alice").subject("facebook")))
    first = app.test_client().post(ROUTE, data={"signed_request": signed})
    new_user = facebook_user(app)
    signature, _, payload = signed.partition(".")
    for variant in (f"{signature}=.{payload}", f"{signature}==.{payload}"):
        again = app.test_client().post(ROUTE, data={"signed_request": variant})
        assert again.status_code == 200 and again.get_json() == first.get_json()
    assert user_state(app, new_user) == ("Alice Verified", 2, "alice@example.com")
