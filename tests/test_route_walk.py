"""Walk every route: no state change without a CSRF token (tests/test_fuzz.py sends bad input)."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from blog.auth.accounts import login_profile
from blog.auth.providers import Profile
from blog.clock import utcnow
from blog.extensions import csrf
from tests.support.routes import STATE_CHANGING, route_table, routes

# Each of these is defended otherwise, and tested where it lives.
CSRF_EXEMPT = {
    "auth.start": "Origin / Sec-Fetch-Site check (tests/test_auth_security.py)",
    "comments.preview": "Origin / Sec-Fetch-Site check (tests/test_comment_box.py)",
    "facebook.data_deletion": "signed_request HMAC (tests/test_facebook_deletion.py)",
    "mail.unsubscribe": "RFC 8058 one-click, signed token (tests/test_subscriptions.py)",
}


def logged_in_client(app: Flask) -> FlaskClient:
    """A test client whose session belongs to a real user row."""
    with app.app_context():
        user = login_profile(Profile("google", "walker", "Walker", None, False, None), utcnow())
        session_id = user.get_id()
    client = app.test_client()
    with client.session_transaction() as session:
        session["_user_id"] = session_id
        session["_fresh"] = True
        session["provider"] = "google"
    return client


ROUTES = route_table()


@pytest.fixture
def walker(essay: Path, app: Flask) -> FlaskClient:
    """A logged-in client on the blog with the essay."""
    app.config["WTF_CSRF_ENABLED"] = True
    return logged_in_client(app)


def test_csrf_exemptions_are_exactly_the_defended_routes(app: Flask) -> None:
    exempt = {
        endpoint
        for endpoint, view in app.view_functions.items()
        if f"{view.__module__}.{view.__name__}" in csrf._exempt_views
    }
    assert exempt == set(CSRF_EXEMPT)


def test_every_state_changing_route_refuses_a_missing_csrf_token(
    walker: FlaskClient, app: Flask
) -> None:
    checked = []
    for endpoint, method, url in routes(app, STATE_CHANGING):
        if endpoint in CSRF_EXEMPT:
            continue
        response = walker.open(url, method=method, data={"comment": "x", "post_id": "1"})
        assert response.status_code == 400, f"{method} {url} ({endpoint}) -> {response.status_code}"
        assert "CSRF" in response.get_data(as_text=True), f"{method} {url} ({endpoint})"
        checked.append(endpoint)
    assert {"comments.create", "auth.logout", "account.delete"} <= set(checked)


def test_the_walk_covers_every_route_of_the_app(app: Flask) -> None:
    walked = {
        (endpoint, method, url) for endpoint, pairs in ROUTES.items() for method, url in pairs
    }
    assert walked == set(routes(app, {"GET", *STATE_CHANGING}))
    assert {"comments.create", "auth.logout", "reader.post", "admin.bulk"} <= set(ROUTES)


def test_an_id_too_large_for_the_database_is_a_404_not_a_500(walker: FlaskClient) -> None:
    huge = "9" * 30
    for path in (f"/avatars/{huge}.png", f"/avatars/{huge}.svg", f"/comments/{huge}/edit"):
        assert walker.get(path).status_code == 404, path


@pytest.mark.parametrize(
    "path",
    [
        "/page/0001/",
        "/page/02/",
        "/page/\u0661/",  # ARABIC-INDIC DIGIT ONE
        "/\u0662\u0660\u0661\u0669/",
        "/2019/\uff10\uff16/",  # FULLWIDTH 0 6
        "/02019/06/",
        "/2019/06/10/making-true-connections/feed/".replace("2019", "\u0968\u0966\u0967\u096f"),
        "/tag/networking/page/01/",
        "/comments/007/edit",
    ],
)
def test_a_whole_number_in_a_url_has_one_spelling(walker: FlaskClient, path: str) -> None:
    response = walker.get(path)
    assert response.status_code == 404, f"{path} -> {response.status_code}"


def test_the_canonical_spellings_still_answer(walker: FlaskClient) -> None:
    for path in ("/2019/", "/2019/06/", "/2019/06/10/making-true-connections/"):
        assert walker.get(path).status_code == 200, path


def test_an_id_past_postgresqls_integer_is_a_404_not_a_500(walker: FlaskClient) -> None:
    for number in ("2147483648", "9223372036854775807"):
        for path in (f"/avatars/{number}.png", f"/comments/{number}/edit"):
            assert walker.get(path).status_code == 404, path
