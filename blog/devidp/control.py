"""Test controls (switches, reset) and the avatar images."""

from __future__ import annotations

import time
from collections.abc import Iterator

from flask import Blueprint, Response, abort, redirect, request
from flask.typing import ResponseReturnValue

from .errors import json_response
from .identities import avatar_png, bomb_png, find_identity
from .state import get_idp
from .store import IdpSwitches

CHUNK = 64 * 1024


def control_blueprint() -> Blueprint:
    """Build the blueprint for /_control/* and /avatars/<key>.png."""
    bp = Blueprint("devidp_control", __name__)

    @bp.get("/_control/switches")
    def get_switches() -> Response:
        return json_response(get_idp().switches.as_dict())

    @bp.post("/_control/switches")
    def set_switches() -> Response:
        changes = request.get_json(silent=True)
        if not isinstance(changes, dict):
            return json_response({"error": "Send a JSON object of switches."}, 400)
        try:
            return json_response(get_idp().set_switches(changes))
        except ValueError as exc:
            return json_response({"error": str(exc)}, 400)

    @bp.post("/_control/reset")
    def reset() -> Response:
        idp = get_idp()
        idp.reset()
        return json_response(idp.switches.as_dict())

    @bp.get("/avatars/<key>.png")
    def avatar(key: str) -> ResponseReturnValue:
        if find_identity(key) is None:
            abort(404)
        switches = get_idp().switches
        # The redirect's own target is served as usual, so that a redirect can lead somewhere.
        if switches.avatar_redirect and switches.avatar_redirect != request.url:
            return redirect(switches.avatar_redirect, 302)
        response = _avatar_response(key, switches)
        response.headers["Cache-Control"] = "public, max-age=86400"
        return response

    return bp


def _avatar_response(key: str, switches: IdpSwitches) -> Response:
    if switches.avatar_bomb_side:
        return Response(bomb_png(switches.avatar_bomb_side), mimetype="image/png")
    if switches.avatar_huge_bytes:
        return Response(_huge(switches.avatar_huge_bytes), mimetype="image/png")
    if switches.avatar_drip_seconds:
        return Response(_drip(avatar_png(key), switches.avatar_drip_seconds), mimetype="image/png")
    return Response(avatar_png(key), mimetype="image/png")


def _huge(size: int) -> Iterator[bytes]:
    """A PNG signature and then zeros: no Content-Length tells the client how much is coming."""
    first = avatar_png("alice")[:16]
    yield first
    sent = len(first)
    while sent < size:
        piece = bytes(min(CHUNK, size - sent))
        sent += len(piece)
        yield piece


def _drip(data: bytes, seconds: float) -> Iterator[bytes]:
    """The body a byte at a time, spread over `seconds`: every read gets something soon."""
    pause = seconds / len(data)
    for i in range(len(data)):
        yield data[i : i + 1]
        time.sleep(pause)
