"""The five test identities, their per-provider subjects and their generated avatars."""

from __future__ import annotations

import io
import struct
import zlib
from dataclasses import dataclass
from functools import lru_cache

from PIL import Image, ImageDraw, ImageFont

AVATAR_SIZE = 96


@dataclass(frozen=True)
class Identity:
    """A test person who can sign in at every provider."""

    key: str
    name: str
    given_name: str
    family_name: str
    email: str | None
    email_verified: bool
    username: str
    label: str
    color: tuple[int, int, int]
    google_sub: str
    x_sub: str
    facebook_sub: str
    linkedin_sub: str

    def subject(self, provider: str) -> str:
        """Return this identity's subject id at a provider."""
        return {
            "google": self.google_sub,
            "x": self.x_sub,
            "facebook": self.facebook_sub,
            "linkedin": self.linkedin_sub,
        }[provider]

    @property
    def has_verified_email(self) -> bool:
        """Whether the identity has an email address that the provider verified."""
        return self.email is not None and self.email_verified


def _make(
    n: int,
    key: str,
    given: str,
    family: str,
    email: str | None,
    verified: bool,
    username: str,
    label: str,
    color: tuple[int, int, int],
) -> Identity:
    return Identity(
        key=key,
        name=f"{given} {family}",
        given_name=given,
        family_name=family,
        email=email,
        email_verified=verified,
        username=username,
        label=label,
        color=color,
        google_sub=f"10000000000000000000{n}",
        x_sub=f"140000000000000000{n}",
        facebook_sub=f"1020000000000000{n}",
        linkedin_sub=f"li-{key}-{n:04d}",
    )


IDENTITIES: tuple[Identity, ...] = (
    _make(
        1,
        "alice",
        "Alice",
        "Verified",
        "alice@example.com",
        True,
        "alice_verified",
        "Alice Verified (alice@example.com, verified)",
        (37, 99, 235),
    ),
    _make(
        2,
        "bob",
        "Bob",
        "Unverified",
        "bob@example.com",
        False,
        "bob_unverified",
        "Bob Unverified (bob@example.com, NOT verified)",
        (180, 83, 9),
    ),
    _make(
        3,
        "carol",
        "Carol",
        "NoEmail",
        None,
        False,
        "carol_noemail",
        "Carol NoEmail (no email address)",
        (21, 128, 61),
    ),
    _make(
        4,
        "author",
        "The",
        "Author",
        "author@example.com",
        True,
        "the_author",
        "The Author (Author, admin)",
        (126, 34, 206),
    ),
    _make(
        5,
        "zoe",
        "Zoë",
        "Ångström-Łukasz 山田",
        "zoe@example.com",
        True,
        "zoe_angstrom",
        "Zoë Ångström-Łukasz 山田 (zoe@example.com, verified, non-ASCII name)",
        (190, 18, 60),
    ),
)

_BY_KEY: dict[str, Identity] = {ident.key: ident for ident in IDENTITIES}


def identity(key: str) -> Identity:
    """Return the identity with this key; raise KeyError for an unknown key."""
    return _BY_KEY[key]


def find_identity(key: str | None) -> Identity | None:
    """Return the identity with this key, or None."""
    return _BY_KEY.get(key) if key is not None else None


@lru_cache(maxsize=len(IDENTITIES))
def avatar_png(key: str) -> bytes:
    """Render an identity's avatar: a coloured square with its initial, as PNG bytes."""
    ident = identity(key)
    image = Image.new("RGB", (AVATAR_SIZE, AVATAR_SIZE), ident.color)
    draw = ImageDraw.Draw(image)
    font = ImageFont.load_default(size=AVATAR_SIZE * 3 // 5)
    draw.text(
        (AVATAR_SIZE / 2, AVATAR_SIZE / 2),
        ident.name[:1].upper(),
        fill=(255, 255, 255),
        font=font,
        anchor="mm",
    )
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


@lru_cache(maxsize=4)
def bomb_png(side: int) -> bytes:
    """A valid black PNG of side x side pixels that compresses to a few kilobytes."""
    header = struct.pack(">IIBBBBB", side, side, 1, 0, 0, 0, 0)  # 1 bit a pixel, grey
    squeeze = zlib.compressobj(9)
    row = bytes(1 + (side + 7) // 8)  # the filter byte, then the row's bits
    data = b"".join(squeeze.compress(row) for _ in range(side)) + squeeze.flush()
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", header)
        + _png_chunk(b"IDAT", data)
        + _png_chunk(b"IEND", b"")
    )
