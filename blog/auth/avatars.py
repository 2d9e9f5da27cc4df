"""The provider's picture: fetched once at login from its own image hosts, kept as a small PNG.

The URL comes from the provider's profile, so it is treated as untrusted: only the provider's
image hosts (the provider table's allow-list), never a private or loopback address once the name
is resolved (requests-hardened connects to the very address it checked), every redirect checked
the same way, a deadline for the whole download, a cap on its bytes and on the pixels decoded.
Whatever goes wrong, the login goes on with the generated avatar.
"""

from __future__ import annotations

import hashlib
import io
import logging
import time
import warnings
from collections.abc import Iterable
from datetime import datetime
from typing import Any
from urllib.parse import urljoin, urlsplit

import requests
from flask import current_app
from PIL import Image
from requests_hardened import Config, HTTPSession
from urllib3.exceptions import HTTPError

from blog.auth.providers import PROVIDERS, Profile
from blog.database import write_transaction
from blog.extensions import db
from blog.models import Avatar

log = logging.getLogger(__name__)

AVATAR_SIZE = 96
MAX_AVATAR_BYTES = 2_000_000
# Far beyond any provider's profile picture. Decoding costs 4 bytes a pixel, and Pillow's own
# limit (about 89 million pixels, then a warning; an error at twice that) is far too high.
MAX_AVATAR_PIXELS = 2048 * 2048
MAX_REDIRECTS = 3
CHUNK_BYTES = 64 * 1024
# The formats providers serve; the others (EPS would run Ghostscript) are never tried.
FORMATS = ("PNG", "JPEG", "GIF", "WEBP")
DEFAULT_PORTS = {"http": 80, "https": 443}
# Pillow's ways of saying "not a picture we can read".
_UNREADABLE = (
    OSError,  # UnidentifiedImageError, truncated data
    ValueError,
    SyntaxError,
    EOFError,
    Image.DecompressionBombError,
    Image.DecompressionBombWarning,
)


class PictureRefused(Exception):
    """The picture is not fetched: wrong host or address, too slow, too big, not a picture."""


def host_allowed(url: str, hosts: Iterable[str]) -> bool:
    """Whether an http(s) URL names one of these hosts ("host", "*.domain" or "host:port")."""
    try:
        parts = urlsplit(url)
        port = parts.port or DEFAULT_PORTS.get(parts.scheme)
    except ValueError:
        return False
    host = parts.hostname or ""
    # A user part or a backslash is where URL parsers disagree about the host: never needed.
    if parts.scheme not in DEFAULT_PORTS or "@" in parts.netloc or "\\" in url or not host:
        return False
    for entry in hosts:
        name, _, entry_port = entry.lower().partition(":")
        wanted = int(entry_port) if entry_port.isdigit() else DEFAULT_PORTS[parts.scheme]
        if port != wanted:
            continue
        if host == name or (name.startswith("*.") and host.endswith(name[1:])):
            return True
    return False


def fetch_picture(url: str, hosts: tuple[str, ...], allow_loopback: bool, timeout: float) -> bytes:
    """The picture's bytes, within `timeout` seconds in all; PictureRefused otherwise."""
    deadline = time.monotonic() + timeout
    config = Config(
        ip_filter_enable=True,
        ip_filter_allow_loopback_ips=allow_loopback,
        never_redirect=True,  # followed below, each hop checked like the first
        default_timeout=(timeout, timeout),
    )
    with HTTPSession(config) as http:
        for _hop in range(MAX_REDIRECTS + 1):
            if not host_allowed(url, hosts):
                raise PictureRefused(f"not one of the provider's image hosts: {url[:200]!r}")
            remaining = _remaining(deadline)
            try:
                response = http.get(
                    url,
                    stream=True,
                    timeout=(remaining, remaining),
                    headers={"Accept": "image/*", "Accept-Encoding": "identity"},
                )
                with response:
                    if response.is_redirect:
                        url = urljoin(url, response.headers["Location"])
                        continue
                    response.raise_for_status()
                    return _read(response, deadline)
            # requests-hardened's refusal of an address is one of these too.
            except (requests.RequestException, HTTPError) as exc:
                raise PictureRefused(f"the download failed: {exc!r}") from exc
    raise PictureRefused("too many redirects")


def _remaining(deadline: float) -> float:
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        raise PictureRefused("the download took too long")
    return remaining


def _read(response: requests.Response, deadline: float) -> bytes:
    declared = response.headers.get("Content-Length", "")
    if declared.isdigit() and int(declared) > MAX_AVATAR_BYTES:
        raise PictureRefused(f"{declared} bytes announced")
    data = bytearray()
    # read1 returns whatever has arrived, so a body dripped a byte at a time meets the deadline;
    # urllib3's own errors come through unwrapped (HTTPError, caught above).
    while chunk := response.raw.read1(CHUNK_BYTES, decode_content=True):
        data += chunk
        if len(data) > MAX_AVATAR_BYTES:
            raise PictureRefused("too many bytes")
        _remaining(deadline)
    return bytes(data)


def small_png(data: bytes) -> bytes:
    """The picture as a PNG of at most AVATAR_SIZE a side; PictureRefused if it is none."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data), formats=FORMATS) as original:
                # Opening reads the header only: the size is known before anything is decoded.
                if original.width * original.height > MAX_AVATAR_PIXELS:
                    raise PictureRefused(f"{original.width}x{original.height} pixels")
                picture = original.convert("RGBA")
        picture.thumbnail((AVATAR_SIZE, AVATAR_SIZE))
        out = io.BytesIO()
        picture.save(out, format="PNG", optimize=True)
    except _UNREADABLE as exc:
        raise PictureRefused(f"not a picture we can read: {exc!r}") from exc
    return out.getvalue()


def _allowed_hosts(settings: dict[str, Any], provider: str) -> tuple[str, ...]:
    configured = settings.get("avatar_hosts")
    return tuple(configured) if configured else PROVIDERS[provider].avatar_hosts


def fetch_avatar(user_id: int, profile: Profile, now: datetime) -> None:
    """Keep the provider's picture for this user; on any trouble keep the generated one."""
    url = profile.avatar_url
    if not url or profile.provider not in PROVIDERS:
        return
    settings = current_app.config["AUTH_PROVIDERS"].get(profile.provider, {})
    try:
        data = fetch_picture(
            url,
            _allowed_hosts(settings, profile.provider),
            allow_loopback=bool(settings.get("avatar_local")),
            timeout=float(current_app.config["AUTH_TIMEOUT_SECONDS"]),
        )
        png = small_png(data)
    except PictureRefused as exc:
        log.info("picture from %s not kept: %s", profile.provider, exc)
        return
    with write_transaction():
        avatar = db.session.get(Avatar, user_id) or Avatar(user_id=user_id)
        avatar.content_type = "image/png"
        avatar.data = png
        avatar.digest = hashlib.sha256(png).hexdigest()[:16]
        avatar.fetched_at = now
        db.session.add(avatar)
