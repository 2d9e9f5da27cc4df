"""Test controls (switches, reset) and the avatar images."""

from __future__ import annotations

from flask import Blueprint, Response, abort, request

from .errors import json_response
from .identities import avatar_png, find_identity
from .state import get_idp


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
    def avatar(key: str) -> Response:
        if find_identity(key) is None:
            abort(404)
        response = Response(avatar_png(key), mimetype="image/png")
        response.headers["Cache-Control"] = "public, max-age=86400"
        return response

    return bp
