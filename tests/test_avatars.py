"""The provider's picture, fetched at login from real HTTP servers that misbehave on purpose.

The local identity provider serves the avatars; its switches make them a redirect elsewhere, a
dripping body, a huge body or a decompression bomb. Whatever it does, the login succeeds, in
bounded time, with the generated avatar instead of the picture.
"""

from __future__ import annotations

import io
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from PIL import Image
from sqlalchemy import select

from blog.auth.avatars import PictureRefused, fetch_picture, host_allowed
from blog.auth.providers import PROVIDERS
from blog.config import load_settings
from blog.devidp import avatar_png
from blog.extensions import db
from blog.models import Avatar, Identity
from tests.support.auth_helpers import logged_in, serve_site
from tests.support.live import LiveServer
from tests.support.oauth_site import OAuthSite

TIMEOUT = 1.0
# The deadline covers the whole download; one read already under way may finish its timeout.
BOUND = 2 * TIMEOUT + 2.0


@pytest.fixture
def site(essay: Path, make_app: Callable[..., Flask]) -> Iterator[OAuthSite]:
    yield from serve_site(make_app, AUTH_TIMEOUT_SECONDS=TIMEOUT)


class PictureServer:
    """Another address on this machine with a perfectly good picture, counting its visitors."""

    def __init__(self) -> None:
        self.hits: list[str] = []
        self.live = LiveServer(self.wsgi).start()
        self.url = self.live.url

    def wsgi(self, environ: dict[str, Any], start_response: Any) -> list[bytes]:
        self.hits.append(environ["PATH_INFO"])
        start_response("200 OK", [("Content-Type", "image/png")])
        return [avatar_png("bob")]


@pytest.fixture
def inside() -> Iterator[PictureServer]:
    server = PictureServer()
    yield server
    server.live.stop()


def login_seconds(site: OAuthSite, provider: str = "google", identity: str = "alice") -> float:
    """Log in through the whole dance (asserting the landing page); the seconds it took."""
    started = time.monotonic()
    logged_in(site, provider, identity)  # no 500: the reader lands on the post, logged in
    return time.monotonic() - started


def kept_avatar(site: OAuthSite, provider: str = "google") -> Avatar | None:
    with site.app.app_context():
        user_id = db.session.scalar(select(Identity.user_id).where(Identity.provider == provider))
        assert user_id is not None
        avatar = db.session.get(Avatar, user_id)
        if avatar is not None:
            db.session.expunge(avatar)
        return avatar


@pytest.mark.parametrize("provider", ["google", "x", "facebook"])
def test_the_providers_picture_is_kept_as_a_small_png(site: OAuthSite, provider: str) -> None:
    assert login_seconds(site, provider) < BOUND
    avatar = kept_avatar(site, provider)
    assert avatar is not None and avatar.content_type == "image/png"
    assert Image.open(io.BytesIO(avatar.data)).size == (96, 96)


def test_a_redirect_to_another_address_is_not_followed(
    site: OAuthSite, inside: PictureServer
) -> None:
    site.idp.switches.avatar_redirect = f"{inside.url}/internal/picture.png"
    assert login_seconds(site) < BOUND
    assert kept_avatar(site) is None
    assert inside.hits == []  # not even asked


def test_a_redirect_within_the_providers_hosts_is_followed(site: OAuthSite) -> None:
    site.idp.switches.avatar_redirect = f"{site.idp_url}/avatars/alice.png?size=96"
    login_seconds(site)
    assert kept_avatar(site) is not None


def test_a_dripping_picture_is_given_up_at_the_deadline(site: OAuthSite) -> None:
    site.idp.switches.avatar_drip_seconds = 20.0  # a byte every few milliseconds: no read stalls
    assert login_seconds(site) < BOUND
    assert kept_avatar(site) is None


def test_a_huge_picture_is_cut_off(site: OAuthSite) -> None:
    site.idp.switches.avatar_huge_bytes = 500_000_000  # no Content-Length announces it
    assert login_seconds(site) < BOUND
    assert kept_avatar(site) is None


@pytest.mark.parametrize(
    "side",
    [
        20_000,  # 400 million pixels: past Pillow's own limit, which raises on opening
        3_000,  # 9 million: Pillow would decode it (36 MB) to make a 96-pixel thumbnail
    ],
)
def test_a_decompression_bomb_gives_the_generated_avatar(site: OAuthSite, side: int) -> None:
    site.idp.switches.avatar_bomb_side = side
    assert login_seconds(site) < BOUND
    assert kept_avatar(site) is None


def test_loopback_is_refused_unless_it_is_the_local_provider(site: OAuthSite) -> None:
    # The same provider rows, no longer marked as the local identity provider: its address is
    # loopback, which a real provider's picture never is.
    for settings in site.app.config["AUTH_PROVIDERS"].values():
        settings["avatar_local"] = False
    login_seconds(site)
    assert kept_avatar(site) is None


def test_names_are_checked_after_resolution(inside: PictureServer) -> None:
    port = inside.live.port
    url = f"http://localhost:{port}/picture.png"
    hosts = (f"localhost:{port}",)
    with pytest.raises(PictureRefused):
        fetch_picture(url, hosts, allow_loopback=False, timeout=TIMEOUT)
    assert inside.hits == []
    assert fetch_picture(url, hosts, allow_loopback=True, timeout=TIMEOUT) == avatar_png("bob")
    assert inside.hits == ["/picture.png"]


def test_only_the_providers_image_hosts_are_allowed() -> None:
    google, facebook, x = (PROVIDERS[n].avatar_hosts for n in ("google", "facebook", "x"))
    assert host_allowed("https://lh3.googleusercontent.com/a/ACg8oc=s96-c", google)
    assert host_allowed("https://pbs.twimg.com/profile_images/1/a_normal.jpg", x)
    assert host_allowed("https://scontent-lhr8-1.xx.fbcdn.net/v/t1.30497-1/1.jpg", facebook)
    assert host_allowed("https://platform-lookaside.fbsbx.com/platform/profilepic/?a=1", facebook)
    assert host_allowed("https://graph.facebook.com/10200/picture", facebook)
    for url in (
        "https://googleusercontent.com.evil.example/a.png",
        "https://evil.example/lh3.googleusercontent.com/a.png",
        "https://lh3.googleusercontent.com.evil.example/a.png",
        "https://lh3.googleusercontent.com@evil.example/a.png",
        "https://evil.example\\@lh3.googleusercontent.com/a.png",
        "https://lh3.googleusercontent.com:8443/a.png",
        "ftp://lh3.googleusercontent.com/a.png",
        "file:///etc/passwd",
        "https://[::1/a.png",
        "https://lh3.googleusercontent.com:99999/a.png",
        "",
    ):
        assert not host_allowed(url, google), url
    assert not host_allowed("https://pbs.twimg.com/a.jpg", google)
    assert PROVIDERS["oidc"].avatar_hosts == ()  # the generic row: only what is configured


def test_the_generic_rows_hosts_come_from_configuration() -> None:
    config = load_settings(
        {
            "BLOG_OIDC_ISSUER": "https://id.example.org",
            "BLOG_OIDC_AVATAR_HOSTS": "avatars.example.org, *.cdn.example.org",
        }
    )
    hosts = config["AUTH_PROVIDERS"]["oidc"]["avatar_hosts"]
    assert hosts == ("avatars.example.org", "*.cdn.example.org")
    assert host_allowed("https://eu.cdn.example.org/me.png", hosts)
    assert not host_allowed("https://id.example.org/me.png", hosts)
