"""The table of identity providers: how to talk to each, and how its profile becomes a Profile."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable
from dataclasses import dataclass, fields
from typing import TYPE_CHECKING, Any

from flask import current_app

from blog.content.comment_markup import valid_unicode

if TYPE_CHECKING:
    from authlib.integrations.flask_client import OAuth


@dataclass(frozen=True)
class Profile:
    """What the blog keeps of a provider's account, whatever the provider."""

    provider: str
    subject: str
    name: str
    email: str | None
    email_verified: bool
    avatar_url: str | None

    def __post_init__(self) -> None:
        # Provider JSON may hold a lone surrogate ("\\ud800"), which no database can store:
        # replaced as the profile comes in (control characters are accounts.clean_name's).
        for field in fields(self):
            value = getattr(self, field.name)
            if isinstance(value, str):
                object.__setattr__(self, field.name, valid_unicode(value))


@dataclass(frozen=True)
class Provider:
    """One row of the provider table."""

    name: str
    label: str
    scope: str
    token_auth: str
    pkce: bool
    oidc: bool
    fetch_profile: Callable[[Any, dict[str, Any], dict[str, Any]], Profile]
    # Whether this provider's verified email may make someone a moderator: it must state that
    # the address is verified, and be the one that says so for its addresses.
    email_trusted: bool = True
    # Where its profile pictures are served from ("host", "*.domain" or "host:port"); the one
    # place the blog fetches a picture from at login. Settings' "avatar_hosts" replace it.
    avatar_hosts: tuple[str, ...] = ()
    # OIDC: whether the ID token must echo the login's nonce (settings may turn it off).
    nonce: bool = True
    # OIDC: whether the ID token's iss may leave out the scheme of the discovered issuer.
    bare_issuer: bool = False


def _oidc_profile(name: str) -> Callable[[Any, dict[str, Any], dict[str, Any]], Profile]:
    def fetch(client: Any, token: dict[str, Any], settings: dict[str, Any]) -> Profile:
        claims = token.get("userinfo") or {}
        if not claims.get("sub"):
            raise ValueError("the ID token has no subject")
        verified = claims.get("email_verified") in (True, "true")
        email = claims.get("email") if verified else None
        return Profile(
            provider=name,
            subject=str(claims["sub"]),
            name=str(claims.get("name") or claims.get("given_name") or "Reader"),
            email=email,
            email_verified=bool(email),
            avatar_url=claims.get("picture"),
        )

    return fetch


def _x_profile(client: Any, token: dict[str, Any], settings: dict[str, Any]) -> Profile:
    fields = "profile_image_url"
    if "users.email" in settings["scope"].split():
        fields += ",confirmed_email"
    response = client.get(settings["userinfo_url"], params={"user.fields": fields}, token=token)
    response.raise_for_status()
    data = response.json()["data"]
    email = data.get("confirmed_email")
    return Profile(
        provider="x",
        subject=str(data["id"]),
        name=str(data.get("name") or data.get("username") or "Reader"),
        email=email,
        email_verified=bool(email),
        avatar_url=data.get("profile_image_url"),
    )


def appsecret_proof(access_token: str, app_secret: str) -> str:
    """Facebook's proof that a Graph call comes from the app's server."""
    return hmac.new(app_secret.encode(), access_token.encode(), hashlib.sha256).hexdigest()


def _facebook_profile(client: Any, token: dict[str, Any], settings: dict[str, Any]) -> Profile:
    response = client.get(
        settings["userinfo_url"],
        params={
            "fields": "id,name,email,picture",
            "appsecret_proof": appsecret_proof(token["access_token"], settings["client_secret"]),
        },
        token=token,
    )
    response.raise_for_status()
    data = response.json()
    picture = (data.get("picture") or {}).get("data") or {}
    email = data.get("email")
    return Profile(
        provider="facebook",
        subject=str(data["id"]),
        name=str(data.get("name") or "Reader"),
        email=email,
        # The Graph API states nothing about an address being verified: only a stated one counts.
        email_verified=False,
        avatar_url=None if picture.get("is_silhouette") else picture.get("url"),
    )


PROVIDERS: dict[str, Provider] = {
    # Google documents both "https://accounts.google.com" and "accounts.google.com" as its iss.
    "google": Provider(
        "google", "Google", "openid email profile", "client_secret_basic", True, True,
        _oidc_profile("google"), avatar_hosts=("*.googleusercontent.com",), bare_issuer=True,
    ),
    "x": Provider(
        "x", "X (Twitter)", "users.read tweet.read", "client_secret_basic", True, False,
        _x_profile, avatar_hosts=("pbs.twimg.com",),
    ),
    # Facebook's login dialog takes PKCE too; without it a leaked code could be redeemed by
    # anyone who starts their own login here (the client secret does not help: we redeem it).
    # Untrusted by the table too: identities that earlier versions stored as verified do not count.
    "facebook": Provider(
        "facebook", "Facebook", "public_profile email", "client_secret_post", True, False,
        _facebook_profile,
        avatar_hosts=("platform-lookaside.fbsbx.com", "*.fbcdn.net", "graph.facebook.com"),
        email_trusted=False,
    ),
    "oidc": Provider(
        "oidc", "OpenID Connect", "openid email profile", "client_secret_basic", True, True,
        _oidc_profile("oidc"), email_trusted=False,  # avatar_hosts: BLOG_OIDC_AVATAR_HOSTS
    ),
}  # fmt: skip


def provider_label(name: str) -> str:
    """A provider's display name (the generic OIDC row's label is configurable)."""
    settings = current_app.config["AUTH_PROVIDERS"].get(name, {})
    return str(settings.get("label") or PROVIDERS[name].label)


def enabled_providers(config: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Settings of each provider whose client id and secret are configured, in table order."""
    configured: dict[str, dict[str, Any]] = config.get("AUTH_PROVIDERS", {})
    return {
        name: configured[name]
        for name in PROVIDERS
        if name in configured
        and configured[name].get("client_id")
        and configured[name].get("client_secret")
    }


def uses_pkce(name: str, settings: dict[str, Any]) -> bool:
    """Whether logins with this provider send PKCE (the table's default, unless settings say)."""
    return bool(settings.get("pkce", PROVIDERS[name].pkce))


def checks_nonce(name: str, settings: dict[str, Any]) -> bool:
    """Whether this provider's ID tokens must carry the login's nonce (default, or settings)."""
    return bool(settings.get("nonce", PROVIDERS[name].nonce))


def accepted_issuers(name: str, issuer: str) -> list[str]:
    """The iss values this provider's ID tokens may carry, given its discovered issuer."""
    if PROVIDERS[name].bare_issuer and "://" in issuer:
        return [issuer, issuer.split("://", 1)[1]]
    return [issuer]


def register_providers(oauth: OAuth, config: dict[str, Any]) -> None:
    """Register an Authlib client for every enabled provider."""
    timeout = config.get("AUTH_TIMEOUT_SECONDS", 5)
    for name, settings in enabled_providers(config).items():
        spec = PROVIDERS[name]
        client_kwargs: dict[str, Any] = {
            "scope": settings.get("scope") or spec.scope,
            "token_endpoint_auth_method": settings.get("token_auth") or spec.token_auth,
            "default_timeout": timeout,
        }
        if uses_pkce(name, settings):
            client_kwargs["code_challenge_method"] = "S256"
        endpoints: dict[str, Any] = (
            {"server_metadata_url": settings["metadata_url"]}
            if spec.oidc
            else {
                "authorize_url": settings["authorize_url"],
                "access_token_url": settings["token_url"],
            }
        )
        oauth.register(
            name,
            client_id=settings["client_id"],
            client_secret=settings["client_secret"],
            client_kwargs=client_kwargs,
            **endpoints,
        )
