"""Walk every route: no state change without a CSRF token, and no 500 from naughty input."""

from __future__ import annotations

import json
import re
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.routing import IntegerConverter, Rule

from blog import create_app
from blog.auth.accounts import login_profile
from blog.auth.providers import Profile
from blog.clock import utcnow
from blog.extensions import csrf
from tests.conftest import SECURITY_DATA

STATE_CHANGING = {"POST", "PUT", "PATCH", "DELETE"}
# Each of these is defended otherwise, and tested where it lives.
CSRF_EXEMPT = {
    "auth.start": "Origin / Sec-Fetch-Site check (tests/test_auth_security.py)",
    "facebook.data_deletion": "signed_request HMAC (tests/test_facebook_deletion.py)",
    "mail.unsubscribe": "RFC 8058 one-click, signed token (tests/test_subscriptions.py)",
}
FORM_FIELDS = (
    "comment", "post_id", "parent_id", "next", "provider", "confirm", "email", "action",
    "ids", "status", "days", "reason", "hide", "form_started", "website", "subscribe_thread",
    "subscribe_posts", "List-Unsubscribe", "signed_request", "identity", "decision",
)  # fmt: skip
ORIGIN = {"Origin": "http://blog.test"}
QUERY_FIELDS = ("s", "replytocom", "status", "page", "next", "q", "token")


def naughty_strings() -> list[str]:
    """The big list of naughty strings (skips when shared/ is absent)."""
    path = SECURITY_DATA / "blns.json"
    if not path.is_file():
        pytest.skip("blns.json not found: shared/testdata/security is absent")
    return [s for s in json.loads(path.read_text(encoding="utf-8")) if isinstance(s, str)]


def sample_url(rule: Rule) -> str:
    """A concrete URL for a rule, with plausible values for its arguments."""
    values: dict[str, object] = {}
    for name in rule.arguments:
        if name in (rule.defaults or {}):
            continue  # fixed by the rule itself, as /avatars/anonymous.svg fixes user_id
        if isinstance(rule._converters[name], IntegerConverter):
            values[name] = {"year": 2019, "month": 6, "day": 10}.get(name, 1)
        elif name == "slug":
            values[name] = "making-true-connections"
        elif name == "provider":
            values[name] = "google"
        else:
            values[name] = "x"
    return rule.build(values, append_unknown=False)[1]  # type: ignore[index]


def routes(app: Flask, methods: set[str]) -> Iterator[tuple[str, str, str]]:
    """(endpoint, method, url) for each route accepting one of the methods."""
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        for method in sorted((rule.methods or set()) & methods):
            yield rule.endpoint, method, sample_url(rule)


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


def csrf_token(client: FlaskClient) -> str:
    """A valid token for the client's session, taken from a logged-in page."""
    page = client.get("/2019/06/10/making-true-connections/").get_data(as_text=True)
    match = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert match, "the logged-in post page carries no CSRF token"
    return match.group(1)


def route_table() -> dict[str, list[tuple[str, str]]]:
    """Every route's (method, url) by endpoint, as make_app's blog has them; read at collection,
    so that the walk is one test per endpoint (spread over the xdist workers, named by route)."""
    with tempfile.TemporaryDirectory() as folder:
        app = create_app(
            {
                "TESTING": True,
                "SQLALCHEMY_DATABASE_URI": "sqlite://",
                "POSTS_DIR": Path(folder),
                "PAGE_CACHE_STATE_DIR": Path(folder),
                "SYNC_ON_START": False,
                "SYNC_ON_REQUEST": False,
                "DEV_IDP": False,
            }
        )
        table: dict[str, list[tuple[str, str]]] = {}
        for endpoint, method, url in routes(app, {"GET", *STATE_CHANGING}):
            table.setdefault(endpoint, []).append((method, url))
    return table


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


@pytest.mark.slow
@pytest.mark.sqlite_only
@pytest.mark.parametrize("endpoint", sorted(ROUTES))
def test_naughty_strings_in_every_field_never_give_a_500(
    walker: FlaskClient, app: Flask, endpoint: str
) -> None:
    strings = naughty_strings()
    token = csrf_token(walker)
    failures = []
    for method, url in ROUTES[endpoint]:
        for text in strings:
            if method == "GET":
                response = walker.get(url, query_string={f: text for f in QUERY_FIELDS})
            else:
                form = {f: text for f in FORM_FIELDS} | {"csrf_token": token}
                response = walker.open(
                    url, method=method, data=form, headers={"Origin": "http://blog.test"}
                )
            if response.status_code >= 500:
                failures.append(f"{method} {url} with {text!r}: {response.status_code}")
            if endpoint == "auth.logout":  # each logout ends the session: log in again
                walker = logged_in_client(app)
                token = csrf_token(walker)
    assert not failures, "\n".join(failures[:20])


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
