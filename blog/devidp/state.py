"""The identity provider's per-app state, reachable as app.extensions["devidp"]."""

from __future__ import annotations

import functools
import threading
import time
from datetime import datetime
from typing import Any

from flask import current_app
from joserfc import jwt
from joserfc.jwk import RSAKey

from .config import IdpClient, IdpConfig
from .store import IdpStore, IdpSwitches

OIDC_PROVIDERS = ("google", "linkedin")


@functools.lru_cache(maxsize=16)
def _new_key(kid: str, purpose: str = "signing") -> RSAKey:
    # One key per kid and process: generating RSA keys dominated start-up in the test suite,
    # and a development provider gains nothing from fresh keys on every start.
    return RSAKey.generate_key(2048, parameters={"kid": kid, "use": "sig", "alg": "RS256"})


class DevIdp:
    """Config, switches, stores and signing keys of one identity provider app."""

    def __init__(self, config: IdpConfig) -> None:
        self.config = config
        self.switches = IdpSwitches()
        self.store = IdpStore()
        self.signing_keys = {p: _new_key(f"devidp-{p}-1") for p in OIDC_PROVIDERS}
        self._rogue_keys: dict[str, RSAKey] = {}
        self._lock = threading.Lock()

    def now(self) -> datetime:
        """Return the injected clock's current time."""
        return self.config.clock()

    def url(self, path: str) -> str:
        """Return an absolute URL under base_url."""
        return self.config.base_url + path

    def avatar_url(self, key: str) -> str:
        """Return the absolute URL of an identity's avatar."""
        return self.url(f"/avatars/{key}.png")

    def client(self, provider: str) -> IdpClient | None:
        """Return the client registered for a provider, if any."""
        return self.config.clients.get(provider)

    def reset(self) -> None:
        """Turn every switch off and forget all codes, tokens and pending consents."""
        with self._lock:
            self.switches.reset()
        self.store.reset()

    def set_switches(self, changes: dict[str, Any]) -> dict[str, Any]:
        """Apply a validated partial switch update; return all switches."""
        with self._lock:
            self.switches.apply(changes)
            return self.switches.as_dict()

    def maybe_slow(self) -> None:
        """Simulate a hanging server while the slow_seconds switch is set."""
        delay = self.switches.slow_seconds
        if delay > 0:
            time.sleep(delay)

    def sign_id_token(self, provider: str, claims: dict[str, Any]) -> str:
        """Sign ID token claims with the provider's key, or a rogue one if bad_id_token."""
        key = self.signing_keys[provider]
        if self.switches.bad_id_token:
            with self._lock:
                if provider not in self._rogue_keys:
                    self._rogue_keys[provider] = _new_key(key.kid or "", purpose="rogue")
                key = self._rogue_keys[provider]
        header = {"alg": "RS256", "kid": key.kid, "typ": "JWT"}
        return jwt.encode(header, claims, key)

    def jwks(self, provider: str) -> dict[str, Any]:
        """Return the provider's public JSON Web Key Set."""
        public = self.signing_keys[provider].as_dict(private=False)
        return {"keys": [public]}


def get_idp() -> DevIdp:
    """Return the DevIdp of the current app."""
    idp: DevIdp = current_app.extensions["devidp"]
    return idp
