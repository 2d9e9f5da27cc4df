"""In-memory, lock-protected state: switches, pending consents, codes and access tokens."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from datetime import datetime, timedelta
from typing import Any

from .errors import OAuthError
from .identities import find_identity

PENDING_TTL = timedelta(minutes=10)
STALE_CODE_AGE = timedelta(hours=1)
MAX_SLOW_SECONDS = 60.0
MAX_AVATAR_BYTES = 1 << 30
MAX_BOMB_SIDE = 50_000


@dataclass
class IdpSwitches:
    """Failure switches; set attributes directly or through POST /_control/switches."""

    deny: bool = False
    slow_seconds: float = 0.0
    bad_id_token: bool = False
    fail: bool = False
    auto_identity: str | None = None
    # What the avatars turn into, for the blog's picture download: a redirect to this URL, a
    # body dripped out over this many seconds, a body of this many bytes (no Content-Length),
    # or a small PNG that declares this many pixels a side (a decompression bomb).
    avatar_redirect: str | None = None
    avatar_drip_seconds: float = 0.0
    avatar_huge_bytes: int = 0
    avatar_bomb_side: int = 0
    # OIDC ID tokens' iss without its scheme, as Google documents it may send
    # ("accounts.google.com").
    bare_issuer: bool = False
    # OIDC ID tokens carry this nonce instead of the request's (a replayed or forged token).
    forged_nonce: str | None = None

    def as_dict(self) -> dict[str, Any]:
        """Return the switches as a JSON-ready dict."""
        return {f.name: getattr(self, f.name) for f in fields(self)}

    def apply(self, changes: Mapping[str, Any]) -> None:
        """Validate and apply a partial update; raise ValueError and change nothing if bad."""
        known = {f.name for f in fields(self)}
        unknown = set(changes) - known
        if unknown:
            raise ValueError(f"unknown switches: {sorted(unknown)}")
        for name in ("deny", "bad_id_token", "fail", "bare_issuer"):
            if name in changes and not isinstance(changes[name], bool):
                raise ValueError(f"{name} must be true or false")
        for name, top, whole in (
            ("slow_seconds", MAX_SLOW_SECONDS, False),
            ("avatar_drip_seconds", MAX_SLOW_SECONDS, False),
            ("avatar_huge_bytes", MAX_AVATAR_BYTES, True),
            ("avatar_bomb_side", MAX_BOMB_SIDE, True),
        ):
            if name in changes:
                _check_number(name, changes[name], top, whole)
        redirect = changes.get("avatar_redirect")
        if redirect is not None and (
            not isinstance(redirect, str) or not redirect.startswith(("http://", "https://"))
        ):
            raise ValueError("avatar_redirect must be null or an http(s) URL")
        if "auto_identity" in changes:
            auto = changes["auto_identity"]
            if auto is not None and (not isinstance(auto, str) or find_identity(auto) is None):
                raise ValueError("auto_identity must be null or a known identity key")
        forged = changes.get("forged_nonce")
        if forged is not None and (not isinstance(forged, str) or not forged):
            raise ValueError("forged_nonce must be null or a non-empty string")
        for name, value in changes.items():
            setattr(self, name, float(value) if name.endswith("seconds") else value)

    def reset(self) -> None:
        """Turn every switch off."""
        self.apply(IdpSwitches().as_dict())


def _check_number(name: str, value: Any, top: float, whole: bool) -> None:
    kinds = int if whole else int | float
    if isinstance(value, bool) or not isinstance(value, kinds):
        raise ValueError(f"{name} must be a {'whole ' if whole else ''}number")
    if not 0 <= value <= top:
        raise ValueError(f"{name} must be between 0 and {top}")


@dataclass(frozen=True)
class AuthorizeRequest:
    """A validated authorization request, waiting for the user's decision."""

    provider: str
    client_id: str
    redirect_uri: str
    scope: str
    state: str | None = None
    nonce: str | None = None
    code_challenge: str | None = None
    code_challenge_method: str | None = None


@dataclass
class AuthCode:
    """An authorization code and what it grants."""

    code: str
    request: AuthorizeRequest
    identity_key: str
    share_email: bool
    expires_at: datetime
    used: bool = False


@dataclass(frozen=True)
class AccessToken:
    """An access token issued by a token endpoint."""

    token: str
    provider: str
    client_id: str
    identity_key: str
    scope: str
    share_email: bool
    expires_at: datetime
    code: str


def pkce_matches(challenge: str, method: str, verifier: str) -> bool:
    """Check an RFC 7636 code_verifier against the stored challenge."""
    if not 43 <= len(verifier) <= 128:
        return False
    if method == "plain":
        return hmac.compare_digest(challenge, verifier)
    digest = hashlib.sha256(verifier.encode("ascii", "replace")).digest()
    expected = base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")
    return hmac.compare_digest(challenge, expected)


@dataclass
class IdpStore:
    """Pending consents, codes and tokens, all guarded by one lock."""

    lock: threading.RLock = field(default_factory=threading.RLock)
    pending: dict[str, tuple[AuthorizeRequest, datetime]] = field(default_factory=dict)
    codes: dict[str, AuthCode] = field(default_factory=dict)
    tokens: dict[str, AccessToken] = field(default_factory=dict)

    def reset(self) -> None:
        """Forget every pending consent, code and token."""
        with self.lock:
            self.pending.clear()
            self.codes.clear()
            self.tokens.clear()

    def add_pending(self, request: AuthorizeRequest, now: datetime) -> str:
        """Remember a request shown on the consent page; return its id."""
        request_id = secrets.token_urlsafe(24)
        with self.lock:
            for key in [k for k, (_, exp) in self.pending.items() if exp <= now]:
                del self.pending[key]
            self.pending[request_id] = (request, now + PENDING_TTL)
        return request_id

    def pop_pending(self, request_id: str, now: datetime) -> AuthorizeRequest | None:
        """Take a pending request out (single use); None if unknown or expired."""
        with self.lock:
            entry = self.pending.pop(request_id, None)
        if entry is None or entry[1] <= now:
            return None
        return entry[0]

    def issue_code(
        self, request: AuthorizeRequest, identity_key: str, share_email: bool, expires_at: datetime
    ) -> str:
        """Create an authorization code for an allowed request."""
        code = secrets.token_urlsafe(32)
        stale = expires_at - STALE_CODE_AGE
        with self.lock:
            for old in [k for k, v in self.codes.items() if v.expires_at < stale]:
                del self.codes[old]
            self.codes[code] = AuthCode(code, request, identity_key, share_email, expires_at)
        return code

    def redeem_code(
        self,
        *,
        provider: str,
        client_id: str,
        code: str,
        redirect_uri: str | None,
        code_verifier: str | None,
        now: datetime,
    ) -> AuthCode:
        """Check and use up a code; raise OAuthError(invalid_grant) for every defect."""
        with self.lock:
            entry = self.codes.get(code)
            if entry is None or entry.request.provider != provider:
                raise OAuthError("invalid_grant", "The authorization code is invalid.")
            if entry.request.client_id != client_id:
                raise OAuthError("invalid_grant", "The code was issued to another client.")
            if entry.used:
                for token in [t for t, v in self.tokens.items() if v.code == code]:
                    del self.tokens[token]
                raise OAuthError("invalid_grant", "The authorization code was already used.")
            entry.used = True
        if entry.expires_at <= now:
            raise OAuthError("invalid_grant", "The authorization code has expired.")
        if redirect_uri != entry.request.redirect_uri:
            raise OAuthError(
                "invalid_grant", "redirect_uri does not match the authorization request."
            )
        challenge = entry.request.code_challenge
        if challenge is None:
            if code_verifier:
                raise OAuthError("invalid_grant", "code_verifier sent but no code_challenge was.")
        elif not code_verifier:
            raise OAuthError("invalid_grant", "Missing code_verifier.")
        elif not pkce_matches(
            challenge, entry.request.code_challenge_method or "plain", code_verifier
        ):
            raise OAuthError("invalid_grant", "The code_verifier does not match the challenge.")
        return entry

    def issue_token(self, entry: AuthCode, prefix: str, expires_at: datetime) -> AccessToken:
        """Create an access token for a redeemed code."""
        token = AccessToken(
            token=prefix + secrets.token_urlsafe(32),
            provider=entry.request.provider,
            client_id=entry.request.client_id,
            identity_key=entry.identity_key,
            scope=entry.request.scope,
            share_email=entry.share_email,
            expires_at=expires_at,
            code=entry.code,
        )
        with self.lock:
            self.tokens[token.token] = token
        return token

    def lookup_token(self, token: str, provider: str, now: datetime) -> AccessToken | None:
        """Return a live access token of this provider, or None."""
        with self.lock:
            entry = self.tokens.get(token)
        if entry is None or entry.provider != provider or entry.expires_at <= now:
            return None
        return entry
