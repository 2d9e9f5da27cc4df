"""Configuration of the development identity provider."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

PROVIDERS: tuple[str, ...] = ("google", "x", "facebook", "linkedin")
PROVIDER_NAMES: dict[str, str] = {
    "google": "Google",
    "x": "X",
    "facebook": "Facebook",
    "linkedin": "LinkedIn",
}


def utc_now() -> datetime:
    """Return the real current time as an aware UTC datetime."""
    return datetime.now(UTC)


@dataclass(frozen=True)
class IdpClient:
    """One registered OAuth client (the blog) at one provider."""

    client_id: str
    client_secret: str
    redirect_uris: list[str] = field(default_factory=list)


@dataclass
class IdpConfig:
    """Everything the identity provider needs; URLs it emits are built from base_url."""

    base_url: str
    clients: dict[str, IdpClient] = field(default_factory=dict)
    code_ttl_seconds: int = 60
    clock: Callable[[], datetime] = utc_now
    secret_key: str = field(default_factory=lambda: secrets.token_urlsafe(32))

    def __post_init__(self) -> None:
        self.base_url = self.base_url.rstrip("/")
        if not self.base_url.startswith(("http://", "https://")):
            raise ValueError("base_url must be an absolute http(s) URL")
        unknown = set(self.clients) - set(PROVIDERS)
        if unknown:
            raise ValueError(f"unknown providers in clients: {sorted(unknown)}")
        if self.code_ttl_seconds <= 0:
            raise ValueError("code_ttl_seconds must be positive")
