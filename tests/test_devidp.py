"""The development identity provider: every provider's flow, each refusal and each switch."""

from __future__ import annotations

import base64
import hashlib
import hmac
import io
import re
import secrets
import struct
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from authlib.integrations.requests_client import OAuth2Session
from flask import Flask
from flask.testing import FlaskClient
from joserfc import jwt
from joserfc.errors import BadSignatureError
from joserfc.jwk import KeySet
from PIL import Image
from werkzeug.middleware.dispatcher import DispatcherMiddleware
from werkzeug.serving import make_server
from werkzeug.test import Client, TestResponse

from blog.devidp import IDENTITIES, DevIdp, IdpClient, IdpConfig, create_idp_app, identity

BASE = "http://idp.example.test:5001"
CB = {p: f"http://blog.example.test/auth/{p}/callback" for p in ("google", "x", "facebook")}
CB["linkedin"] = "http://blog.example.test/auth/linkedin/callback"
SECRETS = {p: f"{p}-secret" for p in CB}
AUTHORIZE = {
    "google": "/google/o/oauth2/v2/auth",
    "linkedin": "/linkedin/oauth/v2/authorization",
    "x": "/x/i/oauth2/authorize",
    "facebook": "/facebook/v19.0/dialog/oauth",
}
TOKEN = {
    "google": "/google/token",
    "linkedin": "/linkedin/oauth/v2/accessToken",
    "x": "/x/2/oauth2/token",
    "facebook": "/facebook/v19.0/oauth/access_token",
}
JWKS = {"google": "/google/oauth2/v3/certs", "linkedin": "/linkedin/oauth/openid/jwks"}
SCOPE = {
    "google": "openid email profile",
    "linkedin": "openid profile email",
    "x": "users.read tweet.read users.email offline.access",
    "facebook": "email,public_profile",
}


class FakeClock:
    """A clock the tests move by hand."""

    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


def make_config(base_url: str, clock: Callable[[], datetime] | None = None) -> IdpConfig:
    clients = {p: IdpClient(f"{p}-client", SECRETS[p], [CB[p]]) for p in CB}
    config = IdpConfig(base_url=base_url, clients=clients, secret_key="test-secret")
    if clock is not None:
        config.clock = clock
    return config


def pkce() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode()).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def basic(provider: str, secret: str | None = None) -> dict[str, str]:
    raw = f"{provider}-client:{secret or SECRETS[provider]}".encode()
    return {"Authorization": "Basic " + base64.b64encode(raw).decode()}


def query(response: TestResponse) -> dict[str, str]:
    assert response.status_code == 302, response.get_data(as_text=True)
    return {k: v[0] for k, v in parse_qs(urlsplit(response.headers["Location"]).query).items()}


@pytest.fixture(scope="module")
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture(scope="module")
def idp_app(clock: FakeClock) -> Flask:
    return create_idp_app(make_config(BASE, clock))


@pytest.fixture
def idp(idp_app: Flask, clock: FakeClock) -> Iterator[DevIdp]:
    state: DevIdp = idp_app.extensions["devidp"]
    state.reset()
    clock.now = datetime.now(UTC)
    yield state
    state.reset()


@pytest.fixture
def client(idp_app: Flask, idp: DevIdp) -> FlaskClient:
    return idp_app.test_client()


def start(client: FlaskClient, provider: str, **overrides: str | None) -> TestResponse:
    """GET the authorize endpoint with a valid request, changed by overrides (None drops)."""
    params: dict[str, str | None] = {
        "client_id": f"{provider}-client",
        "redirect_uri": CB[provider],
        "response_type": "code",
        "scope": SCOPE[provider],
        "state": "st-123",
    }
    if provider in ("google", "x"):
        params |= {"code_challenge": pkce()[1], "code_challenge_method": "S256"}
    if provider == "google":
        params["nonce"] = "n-456"
    params |= overrides
    return client.get(AUTHORIZE[provider], query_string={k: v for k, v in params.items() if v})


def consent(
    client: FlaskClient, provider: str, who: str = "alice", decision: str = "allow", **kw: Any
) -> TestResponse:
    """Go through the consent page and answer it."""
    share_email = kw.pop("share_email", True)
    page = start(client, provider, **kw)
    assert page.status_code == 200, page.get_data(as_text=True)
    request_id = re.search(r'name="request_id" value="([^"]+)"', page.get_data(as_text=True))
    assert request_id
    form = {"request_id": request_id.group(1), "identity": who, "decision": decision}
    if provider == "facebook" and share_email:
        form["share_email"] = "yes"
    return client.post(AUTHORIZE[provider], data=form)


def code_for(
    client: FlaskClient, provider: str, who: str = "alice", **kw: Any
) -> tuple[str, str | None]:
    """Return (code, PKCE verifier or None) after allowing as an identity."""
    verifier, challenge = pkce()
    if provider in ("google", "x"):
        kw.setdefault("code_challenge", challenge)
    params = query(consent(client, provider, who, **kw))
    assert params["state"] == "st-123"
    return params["code"], verifier if kw.get("code_challenge") == challenge else None


def token_form(provider: str, code: str, verifier: str | None) -> dict[str, str]:
    data = {"grant_type": "authorization_code", "code": code, "redirect_uri": CB[provider]}
    if verifier:
        data["code_verifier"] = verifier
    return data


def exchange(
    client: FlaskClient, provider: str, code: str, verifier: str | None, **form: str
) -> TestResponse:
    data = token_form(provider, code, verifier) | form
    if provider in ("linkedin", "facebook"):
        data |= {"client_id": f"{provider}-client", "client_secret": SECRETS[provider]}
        return client.post(TOKEN[provider], data=data)
    return client.post(TOKEN[provider], data=data, headers=basic(provider))


def verify_id_token(client: FlaskClient, provider: str, token: str) -> dict[str, Any]:
    keys = KeySet.import_key_set(client.get(JWKS[provider]).get_json())
    decoded = jwt.decode(token, keys, algorithms=["RS256"])
    assert decoded.header["kid"] == keys.keys[0].kid
    return dict(decoded.claims)


def login(client: FlaskClient, provider: str, who: str = "alice", **kw: Any) -> dict[str, Any]:
    code, verifier = code_for(client, provider, who, **kw)
    response = exchange(client, provider, code, verifier)
    assert response.status_code == 200, response.get_data(as_text=True)
    body: dict[str, Any] = response.get_json()
    return body


def fb_me(client: FlaskClient, token: str, fields: str | None = None, **kw: str) -> TestResponse:
    proof = hmac.new(SECRETS["facebook"].encode(), token.encode(), hashlib.sha256).hexdigest()
    params = {"access_token": token, "appsecret_proof": proof} | kw
    if fields:
        params["fields"] = fields
    return client.get("/facebook/v19.0/me", query_string=params)


# --- discovery, consent page, identities -------------------------------------------------


def test_google_discovery_is_built_from_base_url(client: FlaskClient) -> None:
    doc = client.get("/google/.well-known/openid-configuration").get_json()
    assert doc["issuer"] == f"{BASE}/google"
    assert doc["authorization_endpoint"] == f"{BASE}/google/o/oauth2/v2/auth"
    assert doc["token_endpoint"] == f"{BASE}/google/token"
    assert doc["userinfo_endpoint"] == f"{BASE}/google/v1/userinfo"
    assert doc["jwks_uri"] == f"{BASE}/google/oauth2/v3/certs"
    assert doc["id_token_signing_alg_values_supported"] == ["RS256"]
    assert doc["code_challenge_methods_supported"] == ["plain", "S256"]
    methods = doc["token_endpoint_auth_methods_supported"]
    assert methods == ["client_secret_post", "client_secret_basic"]


def test_linkedin_discovery_omits_auth_methods(client: FlaskClient) -> None:
    doc = client.get("/linkedin/.well-known/openid-configuration").get_json()
    assert doc["issuer"] == f"{BASE}/linkedin"
    assert doc["token_endpoint"] == f"{BASE}/linkedin/oauth/v2/accessToken"
    assert doc["jwks_uri"] == f"{BASE}/linkedin/oauth/openid/jwks"
    assert "token_endpoint_auth_methods_supported" not in doc


@pytest.mark.parametrize(
    ("provider", "heading"),
    [("google", "Google"), ("x", "X"), ("facebook", "Facebook"), ("linkedin", "LinkedIn")],
)
def test_consent_page(client: FlaskClient, provider: str, heading: str) -> None:
    page = start(client, provider, scope=SCOPE[provider] + " <b>&")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert f"<h1>Sign in with {heading}</h1>" in html
    assert "Development identity provider" in html
    assert "<b>&" not in html and "&lt;b&gt;&amp;" in html
    for ident in IDENTITIES:
        assert f'<label for="identity-{ident.key}">' in html
        assert f'id="identity-{ident.key}" value="{ident.key}"' in html
    assert re.search(r'value="alice"\s*checked>', html)
    assert html.count(" checked") == (2 if provider == "facebook" else 1)
    assert "The Author (Author, admin)</label>" in html
    assert "Zoë Ångström-Łukasz 山田" in html
    assert '<button name="decision" value="allow">Allow</button>' in html
    assert '<button name="decision" value="deny">Deny</button>' in html
    assert ("Share my email address" in html) is (provider == "facebook")
    assert "<script" not in html
    assert "devidp_session=" in page.headers["Set-Cookie"]


def test_identities_and_avatars(client: FlaskClient) -> None:
    assert [i.key for i in IDENTITIES] == ["alice", "bob", "carol", "author", "zoe"]
    assert identity("alice").subject("google") == "100000000000000000001"
    assert identity("alice").subject("x") == "1400000000000000001"
    assert identity("alice").subject("facebook") == "10200000000000001"
    subjects = {(p, i.subject(p)) for i in IDENTITIES for p in CB}
    assert len(subjects) == 4 * len(IDENTITIES)
    response = client.get("/avatars/zoe.png")
    assert response.mimetype == "image/png"
    assert Image.open(io.BytesIO(response.data)).size == (96, 96)
    assert client.get("/avatars/nobody.png").status_code == 404


def test_avatar_switches(client: FlaskClient, idp: DevIdp) -> None:
    idp.switches.avatar_redirect = "http://localhost/avatars/alice.png?size=96"
    moved = client.get("/avatars/alice.png")
    assert moved.status_code == 302 and moved.location == idp.switches.avatar_redirect
    assert client.get("/avatars/alice.png?size=96").status_code == 200  # the target itself
    idp.reset()
    idp.switches.avatar_bomb_side = 1_000
    small = client.get("/avatars/alice.png").data
    assert Image.open(io.BytesIO(small)).size == (1_000, 1_000)
    idp.switches.avatar_bomb_side = 20_000
    bomb = client.get("/avatars/alice.png").data
    assert len(bomb) < 100_000 and bomb[12:24] == b"IHDR" + struct.pack(">II", 20_000, 20_000)
    idp.reset()
    idp.switches.avatar_huge_bytes = 3_000_000
    huge = client.get("/avatars/alice.png")
    assert "Content-Length" not in huge.headers and len(huge.data) == 3_000_000
    assert huge.data.startswith(b"\x89PNG\r\n\x1a\n")


def test_consent_form_must_come_from_this_browser(client: FlaskClient, idp_app: Flask) -> None:
    page = start(client, "google").get_data(as_text=True)
    match = re.search(r'name="request_id" value="([^"]+)"', page)
    assert match
    form = {"request_id": match.group(1), "identity": "alice", "decision": "allow"}
    stranger = idp_app.test_client()
    assert stranger.post(AUTHORIZE["google"], data=form).status_code == 400
    assert client.post(AUTHORIZE["google"], data=form | {"identity": "mallory"}).status_code == 400
    assert client.post(AUTHORIZE["google"], data=form).status_code == 400  # single use


def test_mounted_under_prefix_uses_base_url() -> None:
    idp_app = create_idp_app(make_config("http://127.0.0.1:5000/devidp"))
    blog = Flask("blog_stub")
    blog.wsgi_app = DispatcherMiddleware(blog.wsgi_app, {"/devidp": idp_app})  # type: ignore[method-assign]
    browser = Client(blog)
    doc = browser.get("/devidp/google/.well-known/openid-configuration").get_json()
    assert doc["issuer"] == "http://127.0.0.1:5000/devidp/google"
    page = browser.get(
        "/devidp/x/i/oauth2/authorize",
        query_string={
            "client_id": "x-client",
            "redirect_uri": CB["x"],
            "response_type": "code",
            "scope": "users.read tweet.read",
            "state": "s",
            "code_challenge": pkce()[1],
            "code_challenge_method": "S256",
        },
    ).get_data(as_text=True)
    assert 'action="/devidp/x/i/oauth2/authorize"' in page
    match = re.search(r'name="request_id" value="([^"]+)"', page)
    assert match
    form = {"request_id": match.group(1), "identity": "bob", "decision": "allow"}
    answer = browser.post("/devidp/x/i/oauth2/authorize", data=form)
    assert answer.headers["Location"].startswith(CB["x"] + "?code=")


# --- Google and LinkedIn (OIDC) ----------------------------------------------------------


@pytest.mark.parametrize("method", ["basic", "post"])
def test_google_code_flow(client: FlaskClient, clock: FakeClock, method: str) -> None:
    code, verifier = code_for(client, "google")
    data = token_form("google", code, verifier)
    if method == "basic":
        response = client.post(TOKEN["google"], data=data, headers=basic("google"))
    else:
        data |= {"client_id": "google-client", "client_secret": SECRETS["google"]}
        response = client.post(TOKEN["google"], data=data)
    body = response.get_json()
    assert response.headers["Cache-Control"] == "no-store"
    assert body["token_type"] == "Bearer" and body["expires_in"] == 3599
    assert body["scope"] == SCOPE["google"]
    claims = verify_id_token(client, "google", body["id_token"])
    assert claims["iss"] == f"{BASE}/google" and claims["aud"] == "google-client"
    assert claims["sub"] == "100000000000000000001" and claims["nonce"] == "n-456"
    assert claims["exp"] == claims["iat"] + 3600 == int(clock.now.timestamp()) + 3600
    assert claims["email"] == "alice@example.com" and claims["email_verified"] is True
    assert claims["picture"] == f"{BASE}/avatars/alice.png"
    info = client.get(
        "/google/v1/userinfo", headers={"Authorization": "Bearer " + body["access_token"]}
    )
    assert info.get_json()["name"] == "Alice Verified"


@pytest.mark.parametrize("provider", ["google", "linkedin"])
def test_email_claims_follow_identity(client: FlaskClient, provider: str) -> None:
    bob = verify_id_token(client, provider, login(client, provider, "bob")["id_token"])
    assert bob["email"] == "bob@example.com" and bob["email_verified"] is False
    carol = verify_id_token(client, provider, login(client, provider, "carol")["id_token"])
    assert "email" not in carol and "email_verified" not in carol


@pytest.mark.parametrize("provider", ["google", "linkedin"])
def test_non_ascii_name_survives(client: FlaskClient, provider: str) -> None:
    body = login(client, provider, "zoe")
    assert verify_id_token(client, provider, body["id_token"])["name"] == "Zoë Ångström-Łukasz 山田"
    path = "/google/v1/userinfo" if provider == "google" else "/linkedin/v2/userinfo"
    info = client.get(path, headers={"Authorization": "Bearer " + body["access_token"]})
    assert info.get_json()["name"] == "Zoë Ångström-Łukasz 山田"
    assert info.get_json()["sub"] == identity("zoe").subject(provider)


def test_userinfo_needs_a_valid_token(client: FlaskClient) -> None:
    response = client.get("/google/v1/userinfo", headers={"Authorization": "Bearer nope"})
    assert response.status_code == 401 and response.get_json()["error"] == "invalid_token"
    assert client.get("/linkedin/v2/userinfo").status_code == 401


def test_linkedin_refuses_basic_auth(client: FlaskClient) -> None:
    code, _ = code_for(client, "linkedin")
    data = {"grant_type": "authorization_code", "code": code, "redirect_uri": CB["linkedin"]}
    response = client.post(TOKEN["linkedin"], data=data, headers=basic("linkedin"))
    assert response.status_code == 401 and response.get_json()["error"] == "invalid_client"
    claims = verify_id_token(
        client, "linkedin", exchange(client, "linkedin", code, None).get_json()["id_token"]
    )
    assert claims["iss"] == f"{BASE}/linkedin" and claims["sub"] == "li-alice-0001"


def test_linkedin_refuses_pkce_and_leaves_the_nonce_out(client: FlaskClient) -> None:
    verifier, challenge = pkce()
    code, _ = code_for(client, "linkedin", code_challenge=challenge, nonce="n-789")
    refused = exchange(client, "linkedin", code, verifier)
    assert refused.status_code == 401 and refused.get_json()["error"] == "invalid_client"
    code, _ = code_for(client, "linkedin", code_challenge=challenge, nonce="n-789")
    claims = verify_id_token(
        client, "linkedin", exchange(client, "linkedin", code, None).get_json()["id_token"]
    )
    assert "nonce" not in claims and claims["sub"] == "li-alice-0001"


def test_switches_bare_issuer_and_forged_nonce(client: FlaskClient, idp: DevIdp) -> None:
    idp.switches.apply({"bare_issuer": True, "forged_nonce": "n-forged"})
    claims = verify_id_token(client, "google", login(client, "google")["id_token"])
    assert claims["iss"] == "idp.example.test:5001/google" and claims["nonce"] == "n-forged"
    claims = verify_id_token(client, "linkedin", login(client, "linkedin")["id_token"])
    assert claims["nonce"] == "n-forged"


# --- refusals -----------------------------------------------------------------------------


@pytest.mark.parametrize("provider", list(AUTHORIZE))
def test_unregistered_redirect_uri_shows_error_page(client: FlaskClient, provider: str) -> None:
    evil = start(client, provider, redirect_uri="https://evil.example/cb")
    assert evil.status_code == 400 and "Location" not in evil.headers
    assert "not registered" in evil.get_data(as_text=True)
    prefix = start(client, provider, redirect_uri=CB[provider] + "/extra")
    assert prefix.status_code == 400 and "Location" not in prefix.headers
    unknown = start(client, provider, client_id="who-knows")
    assert unknown.status_code == 400 and "Location" not in unknown.headers


@pytest.mark.parametrize("provider", list(TOKEN))
def test_token_refuses_other_redirect_uri(client: FlaskClient, provider: str) -> None:
    code, verifier = code_for(client, provider)
    response = exchange(client, provider, code, verifier, redirect_uri=CB[provider] + "?x=1")
    assert response.status_code == 400
    body = response.get_json()
    if provider == "facebook":
        assert (
            body["error"]["type"] == "OAuthException" and "redirect_uri" in body["error"]["message"]
        )
    else:
        assert body["error"] == "invalid_grant" and "redirect_uri" in body["error_description"]


@pytest.mark.parametrize("provider", ["google", "x"])
@pytest.mark.parametrize("verifier", [None, "wrong-" + "v" * 50])
def test_pkce_verifier_is_checked(client: FlaskClient, provider: str, verifier: str | None) -> None:
    code, _ = code_for(client, provider)
    response = exchange(client, provider, code, verifier)
    assert response.status_code == 400 and response.get_json()["error"] == "invalid_grant"


def test_verifier_without_challenge_is_refused(client: FlaskClient) -> None:
    code, _ = code_for(client, "google", code_challenge=None, code_challenge_method=None)
    assert exchange(client, "google", code, pkce()[0]).get_json()["error"] == "invalid_grant"


@pytest.mark.parametrize("provider", list(TOKEN))
def test_code_is_single_use(client: FlaskClient, provider: str) -> None:
    code, verifier = code_for(client, provider)
    first = exchange(client, provider, code, verifier)
    assert first.status_code == 200
    again = exchange(client, provider, code, verifier)
    assert again.status_code == 400
    error = again.get_json()["error"]
    assert error["code"] == 100 if provider == "facebook" else error == "invalid_grant"
    if provider == "google":  # replay revokes what the code gave
        bearer = {"Authorization": "Bearer " + first.get_json()["access_token"]}
        assert client.get("/google/v1/userinfo", headers=bearer).status_code == 401


@pytest.mark.parametrize("provider", list(TOKEN))
def test_expired_code(client: FlaskClient, clock: FakeClock, provider: str) -> None:
    code, verifier = code_for(client, provider)
    clock.advance(61)
    response = exchange(client, provider, code, verifier)
    assert response.status_code == 400
    body = response.get_json()
    assert "expired" in (
        body["error"]["message"] if provider == "facebook" else body["error_description"]
    )


@pytest.mark.parametrize("provider", ["google", "x", "linkedin"])
def test_bad_client_credentials(client: FlaskClient, provider: str) -> None:
    code, verifier = code_for(client, provider)
    data = token_form(provider, code, verifier)
    if provider == "linkedin":
        wrong = client.post(
            TOKEN[provider], data=data | {"client_id": "linkedin-client", "client_secret": "no"}
        )
        unknown = client.post(
            TOKEN[provider], data=data | {"client_id": "nobody", "client_secret": "no"}
        )
    else:
        wrong = client.post(TOKEN[provider], data=data, headers=basic(provider, "no"))
        creds = base64.b64encode(f"nobody:{SECRETS[provider]}".encode()).decode()
        unknown = client.post(
            TOKEN[provider], data=data, headers={"Authorization": "Basic " + creds}
        )
    for response in (wrong, unknown):
        assert response.status_code == 401 and response.get_json()["error"] == "invalid_client"
    assert exchange(client, provider, code, verifier).status_code == 200  # code still good


def test_facebook_bad_client_credentials(client: FlaskClient) -> None:
    code, _ = code_for(client, "facebook")
    params = {"client_id": "facebook-client", "client_secret": "no", "code": code}
    params["redirect_uri"] = CB["facebook"]
    response = client.get(TOKEN["facebook"], query_string=params)
    assert response.status_code == 401 and response.get_json()["error"]["type"] == "OAuthException"
    response = client.get(TOKEN["facebook"], query_string=params | {"client_id": "nobody"})
    assert response.status_code == 401 and response.get_json()["error"]["code"] == 101


def test_authorize_request_errors_redirect_with_state(client: FlaskClient) -> None:
    assert query(start(client, "google", scope="email"))["error"] == "invalid_scope"
    assert (
        query(start(client, "google", response_type="token"))["error"]
        == "unsupported_response_type"
    )
    missing = query(start(client, "x", code_challenge=None, code_challenge_method=None))
    assert missing == {
        "error": "invalid_request",
        "error_description": "Missing code_challenge.",
        "state": "st-123",
    }
    assert query(start(client, "x", code_challenge_method="plain"))["error"] == "invalid_request"
    assert query(start(client, "x", state=None))["error"] == "invalid_request"
    assert client.get("/facebook/latest/dialog/oauth").status_code == 404


@pytest.mark.parametrize("provider", list(AUTHORIZE))
def test_deny_on_consent_page(client: FlaskClient, provider: str) -> None:
    params = query(consent(client, provider, decision="deny"))
    assert params["error"] == "access_denied" and params["state"] == "st-123"
    assert "code" not in params
    if provider == "facebook":
        assert params["error_reason"] == "user_denied" and params["error_code"] == "200"
        assert params["error_description"] == "Permissions error"
    else:
        assert params["error_description"]


# --- X ------------------------------------------------------------------------------------


def x_me(client: FlaskClient, token: str, fields: str = "profile_image_url") -> TestResponse:
    headers = {"Authorization": "Bearer " + token}
    return client.get("/x/2/users/me", query_string={"user.fields": fields}, headers=headers)


def test_x_flow_and_users_me_shape(client: FlaskClient) -> None:
    body = login(client, "x", "zoe")
    assert body["token_type"] == "bearer" and body["expires_in"] == 7200
    assert body["scope"] == SCOPE["x"] and "id_token" not in body
    me = x_me(client, body["access_token"])
    assert me.get_json() == {
        "data": {
            "id": "1400000000000000005",
            "name": "Zoë Ångström-Łukasz 山田",
            "username": "zoe_angstrom",
            "profile_image_url": f"{BASE}/avatars/zoe.png",
            "confirmed_email": "zoe@example.com",
        }
    }


def test_x_confirmed_email_needs_scope_and_verified_email(client: FlaskClient) -> None:
    no_scope = login(client, "x", scope="users.read tweet.read")["access_token"]
    assert "confirmed_email" not in x_me(client, no_scope).get_json()["data"]
    bob = login(client, "x", "bob")["access_token"]
    assert "confirmed_email" not in x_me(client, bob).get_json()["data"]
    alice = login(client, "x")["access_token"]
    assert x_me(client, alice, "").get_json()["data"]["confirmed_email"] == "alice@example.com"
    assert "profile_image_url" not in x_me(client, alice, "").get_json()["data"]


def test_x_refuses_secret_in_body_and_bad_tokens(client: FlaskClient) -> None:
    code, verifier = code_for(client, "x")
    data = token_form("x", code, verifier)
    data |= {"client_id": "x-client", "client_secret": SECRETS["x"]}
    response = client.post(TOKEN["x"], data=data)
    assert response.status_code == 401 and response.get_json()["error"] == "unauthorized_client"
    response = client.post(TOKEN["x"], data=data, headers=basic("x"))
    assert response.status_code == 401
    unauthorized = x_me(client, "bogus")
    assert unauthorized.status_code == 401 and unauthorized.get_json()["title"] == "Unauthorized"
    assert client.get("/x/2/users/me").status_code == 401
    limited = login(client, "x", scope="users.read")["access_token"]
    assert x_me(client, limited).status_code == 403


# --- Facebook -----------------------------------------------------------------------------


def test_facebook_flow_fields_and_picture(client: FlaskClient) -> None:
    body = login(client, "facebook")
    assert body["token_type"] == "bearer" and body["expires_in"] == 5183944
    token = body["access_token"]
    me = fb_me(client, token, "id,name,email,picture").get_json()
    assert me == {
        "id": "10200000000000001",
        "name": "Alice Verified",
        "email": "alice@example.com",
        "picture": {
            "data": {
                "height": 50,
                "is_silhouette": False,
                "url": f"{BASE}/avatars/alice.png",
                "width": 50,
            }
        },
    }
    assert fb_me(client, token, "name").get_json() == {
        "id": "10200000000000001",
        "name": "Alice Verified",
    }
    assert fb_me(client, token).get_json() == {"id": "10200000000000001", "name": "Alice Verified"}
    assert "picture" in fb_me(client, token, "picture.type(large)").get_json()
    unknown = fb_me(client, token, "id,birthday")
    assert unknown.status_code == 400 and "birthday" in unknown.get_json()["error"]["message"]


def test_facebook_token_over_get_and_bearer_me(client: FlaskClient) -> None:
    code, _ = code_for(client, "facebook", "zoe")
    params = {"client_id": "facebook-client", "client_secret": SECRETS["facebook"], "code": code}
    params["redirect_uri"] = CB["facebook"]
    token = client.get(TOKEN["facebook"], query_string=params).get_json()["access_token"]
    proof = hmac.new(SECRETS["facebook"].encode(), token.encode(), hashlib.sha256).hexdigest()
    me = client.get(
        "/facebook/v21.0/me",
        query_string={"fields": "name", "appsecret_proof": proof},
        headers={"Authorization": "Bearer " + token},
    )
    assert me.get_json()["name"] == "Zoë Ångström-Łukasz 山田"


@pytest.mark.parametrize("proof", [None, "0" * 64])
def test_facebook_requires_appsecret_proof(client: FlaskClient, proof: str | None) -> None:
    token = login(client, "facebook")["access_token"]
    params = {"access_token": token, "fields": "id,name"}
    if proof:
        params["appsecret_proof"] = proof
    response = client.get("/facebook/v19.0/me", query_string=params)
    error = response.get_json()["error"]
    assert response.status_code == 400
    assert error["type"] == "GraphMethodException" and error["code"] == 100
    assert "appsecret_proof" in error["message"]


def test_facebook_email_when_declined_or_absent(client: FlaskClient) -> None:
    declined = login(client, "facebook", share_email=False)["access_token"]
    assert "email" not in fb_me(client, declined, "id,name,email").get_json()
    carol = login(client, "facebook", "carol")["access_token"]
    assert "email" not in fb_me(client, carol, "id,name,email").get_json()
    no_scope = login(client, "facebook", scope="public_profile")["access_token"]
    assert "email" not in fb_me(client, no_scope, "id,email").get_json()
    bad = fb_me(client, "EAAbogus", "id")
    assert bad.status_code == 400 and bad.get_json()["error"]["code"] == 190


# --- switches -----------------------------------------------------------------------------


@pytest.mark.parametrize("provider", list(AUTHORIZE))
def test_switch_deny(client: FlaskClient, idp: DevIdp, provider: str) -> None:
    idp.switches.deny = True
    params = query(start(client, provider))
    assert params["error"] == "access_denied" and params["state"] == "st-123"
    assert start(client, provider, redirect_uri="https://evil.example/").status_code == 400


def test_switch_auto_identity(client: FlaskClient, idp: DevIdp) -> None:
    idp.switches.auto_identity = "carol"
    params = query(start(client, "facebook"))
    assert params["state"] == "st-123"
    code = params["code"]
    token = exchange(client, "facebook", code, None).get_json()["access_token"]
    assert fb_me(client, token, "id,name").get_json()["name"] == "Carol NoEmail"


def test_switch_auto_identity_author_claims(client: FlaskClient, idp: DevIdp) -> None:
    idp.switches.auto_identity = "author"
    verifier, challenge = pkce()
    code = query(start(client, "google", code_challenge=challenge))["code"]
    body = exchange(client, "google", code, verifier).get_json()
    claims = verify_id_token(client, "google", body["id_token"])
    assert claims["email"] == "author@example.com" and claims["name"] == "The Author"


@pytest.mark.parametrize("provider", list(TOKEN))
def test_switch_fail(client: FlaskClient, idp: DevIdp, provider: str) -> None:
    code, verifier = code_for(client, provider)
    idp.switches.fail = True
    response = exchange(client, provider, code, verifier)
    assert response.status_code == 500 and response.mimetype == "text/html"
    assert "Internal Server Error" in response.get_data(as_text=True)


@pytest.mark.parametrize("provider", ["google", "linkedin"])
def test_switch_bad_id_token(client: FlaskClient, idp: DevIdp, provider: str) -> None:
    idp.switches.bad_id_token = True
    id_token = login(client, provider)["id_token"]
    with pytest.raises(BadSignatureError):
        verify_id_token(client, provider, id_token)
    payload = id_token.split(".")[1]
    raw = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
    assert b'"aud":"someone-else"' in raw.replace(b" ", b"")


def test_control_endpoints(client: FlaskClient, idp: DevIdp) -> None:
    on = {"deny": True, "slow_seconds": 0.5, "bad_id_token": True, "fail": True}
    avatars = {
        "avatar_redirect": "http://127.0.0.1:9/elsewhere.png",
        "avatar_drip_seconds": 2,
        "avatar_huge_bytes": 10_000_000,
        "avatar_bomb_side": 20_000,
    }
    response = client.post("/_control/switches", json=on | avatars | {"auto_identity": "zoe"})
    off = {"bare_issuer": False, "forged_nonce": None}
    assert response.get_json() == on | avatars | {"auto_identity": "zoe"} | off
    assert idp.switches.deny and idp.switches.slow_seconds == 0.5
    assert client.get("/_control/switches").get_json()["auto_identity"] == "zoe"
    for bad in (
        {"deny": "yes"},
        {"nope": True},
        {"auto_identity": "mallory"},
        {"slow_seconds": -1},
        {"avatar_redirect": "javascript:alert(1)"},
        {"avatar_drip_seconds": "slow"},
        {"avatar_huge_bytes": 1.5},
        {"avatar_bomb_side": 10**9},
        {"bare_issuer": "yes"},
        {"forged_nonce": ""},
    ):
        assert client.post("/_control/switches", json=bad).status_code == 400
    assert client.post("/_control/switches", data="deny=true").status_code == 400
    assert idp.switches.auto_identity == "zoe"  # a refused update changes nothing
    code = query(start(client, "x"))  # deny wins over auto_identity
    assert code["error"] == "access_denied"
    reset = client.post("/_control/reset").get_json()
    assert reset == {
        "deny": False,
        "slow_seconds": 0.0,
        "bad_id_token": False,
        "fail": False,
        "auto_identity": None,
        "avatar_redirect": None,
        "avatar_drip_seconds": 0.0,
        "avatar_huge_bytes": 0,
        "avatar_bomb_side": 0,
        "bare_issuer": False,
        "forged_nonce": None,
    }


# --- over real HTTP -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def live_server() -> Iterator[tuple[str, DevIdp]]:
    """The idp on an ephemeral 127.0.0.1 port in a thread, with base_url = its real URL."""
    holder: list[Flask] = []

    def wsgi(environ: dict[str, Any], start_response: Any) -> Any:
        return holder[0](environ, start_response)

    server = make_server("127.0.0.1", 0, wsgi, threaded=True)
    base = f"http://127.0.0.1:{server.server_port}"
    holder.append(create_idp_app(make_config(base)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield base, holder[0].extensions["devidp"]
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


@pytest.fixture
def live(live_server: tuple[str, DevIdp]) -> Iterator[tuple[str, DevIdp]]:
    live_server[1].reset()
    yield live_server
    live_server[1].reset()


def browser_consent(browser: requests.Session, url: str, who: str) -> str:
    """Answer the consent page as a browser would; return the callback's query."""
    page = browser.get(url, timeout=5)
    assert page.status_code == 200 and "devidp_session" in browser.cookies
    match = re.search(r'action="([^"]+)".*?name="request_id" value="([^"]+)"', page.text, re.S)
    assert match
    form = {"request_id": match.group(2), "identity": who, "decision": "allow"}
    base = urlsplit(url)
    action = f"{base.scheme}://{base.netloc}{match.group(1)}"
    answer = browser.post(action, data=form, allow_redirects=False, timeout=5)
    assert answer.status_code == 302
    return answer.headers["Location"]


def test_google_flow_with_authlib_over_http(live: tuple[str, DevIdp]) -> None:
    base, _ = live
    meta = requests.get(f"{base}/google/.well-known/openid-configuration", timeout=5).json()
    assert meta["issuer"] == f"{base}/google"
    verifier, nonce = secrets.token_urlsafe(48), secrets.token_urlsafe(16)
    with (
        OAuth2Session(
            "google-client",
            SECRETS["google"],
            scope="openid email profile",
            redirect_uri=CB["google"],
            code_challenge_method="S256",
        ) as oauth,
        requests.Session() as browser,
    ):
        url, state = oauth.create_authorization_url(
            meta["authorization_endpoint"], code_verifier=verifier, nonce=nonce
        )
        assert "code_challenge_method=S256" in url
        callback = browser_consent(browser, url, "zoe")
        assert callback.startswith(CB["google"] + "?")
        token = oauth.fetch_token(
            meta["token_endpoint"], authorization_response=callback, code_verifier=verifier
        )
        keys = KeySet.import_key_set(requests.get(meta["jwks_uri"], timeout=5).json())
        decoded = jwt.decode(token["id_token"], keys, algorithms=["RS256"])
        registry = jwt.JWTClaimsRegistry(
            iss={"essential": True, "value": meta["issuer"]},
            aud={"essential": True, "value": "google-client"},
            nonce={"essential": True, "value": nonce},
            exp={"essential": True},
        )
        registry.validate(decoded.claims)
        assert decoded.claims["name"] == "Zoë Ångström-Łukasz 山田"
        assert state and parse_qs(urlsplit(callback).query)["state"] == [state]
        info = oauth.get(meta["userinfo_endpoint"], timeout=5).json()
        assert info["sub"] == decoded.claims["sub"] == identity("zoe").subject("google")


def test_x_and_linkedin_with_authlib_over_http(live: tuple[str, DevIdp]) -> None:
    base, idp = live
    idp.switches.auto_identity = "alice"
    verifier = secrets.token_urlsafe(48)
    with OAuth2Session(
        "x-client",
        SECRETS["x"],
        scope=SCOPE["x"],
        redirect_uri=CB["x"],
        code_challenge_method="S256",
    ) as oauth:
        url, _ = oauth.create_authorization_url(base + AUTHORIZE["x"], code_verifier=verifier)
        callback = requests.get(url, allow_redirects=False, timeout=5).headers["Location"]
        oauth.fetch_token(
            base + TOKEN["x"], authorization_response=callback, code_verifier=verifier
        )
        me = oauth.get(
            f"{base}/x/2/users/me", params={"user.fields": "profile_image_url"}, timeout=5
        )
        assert me.json()["data"]["confirmed_email"] == "alice@example.com"
    with OAuth2Session(
        "linkedin-client",
        SECRETS["linkedin"],
        scope=SCOPE["linkedin"],
        redirect_uri=CB["linkedin"],
        token_endpoint_auth_method="client_secret_post",
    ) as oauth:
        url, _ = oauth.create_authorization_url(base + AUTHORIZE["linkedin"])
        callback = requests.get(url, allow_redirects=False, timeout=5).headers["Location"]
        token = oauth.fetch_token(base + TOKEN["linkedin"], authorization_response=callback)
        assert token["expires_in"] == 5183999 and token["id_token"]


def test_switch_slow_seconds_over_http(live: tuple[str, DevIdp]) -> None:
    base, _ = live
    switched = requests.post(f"{base}/_control/switches", json={"slow_seconds": 0.3}, timeout=5)
    assert switched.json()["slow_seconds"] == 0.3
    with pytest.raises(requests.Timeout):
        requests.post(
            base + TOKEN["google"], data={"grant_type": "authorization_code"}, timeout=0.1
        )
    with pytest.raises(requests.Timeout):
        requests.get(f"{base}/x/2/users/me", timeout=0.1)
    requests.post(f"{base}/_control/reset", timeout=5)
    assert requests.get(f"{base}/x/2/users/me", timeout=5).status_code == 401


def test_concurrent_redemption_gives_one_token(live: tuple[str, DevIdp]) -> None:
    base, idp = live
    idp.switches.auto_identity = "bob"
    verifier, challenge = pkce()
    params = {"client_id": "x-client", "redirect_uri": CB["x"], "response_type": "code"}
    params |= {"scope": "users.read tweet.read", "state": "s", "code_challenge": challenge}
    params["code_challenge_method"] = "S256"
    location = requests.get(base + AUTHORIZE["x"], params=params, allow_redirects=False, timeout=5)
    code = parse_qs(urlsplit(location.headers["Location"]).query)["code"][0]
    data = {"grant_type": "authorization_code", "code": code, "redirect_uri": CB["x"]}
    data["code_verifier"] = verifier

    def redeem(_: int) -> int:
        response = requests.post(base + TOKEN["x"], data=data, headers=basic("x"), timeout=5)
        return response.status_code

    with ThreadPoolExecutor(max_workers=6) as pool:
        statuses = sorted(pool.map(redeem, range(6)))
    assert statuses == [200, 400, 400, 400, 400, 400]
