"""Facebook's data-deletion callback, its status page, and the privacy policy it points to."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from typing import Any

from flask import Blueprint, abort, current_app, jsonify, render_template, request, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy import select

from blog.auth import accounts, personal_data
from blog.clock import utcnow
from blog.database import write_transaction
from blog.extensions import csrf, db
from blog.models import DeletionRequest
from blog.web.templating import absolute_url

bp = Blueprint("facebook", __name__)


def _b64decode(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


def parse_signed_request(signed_request: str, app_secret: str) -> dict[str, Any] | None:
    """Verify Facebook's `signature.payload` (HMAC-SHA256) and return the payload, or None."""
    try:
        signature_b64, payload_b64 = signed_request.split(".", 1)
        signature = _b64decode(signature_b64)
        payload = json.loads(_b64decode(payload_b64))
    except (ValueError, UnicodeDecodeError):
        return None
    expected = hmac.new(app_secret.encode(), payload_b64.encode(), hashlib.sha256).digest()
    if not hmac.compare_digest(signature, expected):
        return None
    if not isinstance(payload, dict):
        return None
    algorithm = payload.get("algorithm")
    if not isinstance(algorithm, str) or algorithm.upper() != "HMAC-SHA256":
        return None
    return payload


@bp.post("/auth/facebook/data-deletion")
@csrf.exempt  # Facebook's server calls this; the signed_request HMAC is the defence
def data_deletion() -> ResponseReturnValue:
    """Delete what we hold for a Facebook user and answer {url, confirmation_code}."""
    settings = current_app.config["AUTH_PROVIDERS"].get("facebook", {})
    secret = settings.get("client_secret")
    if not secret:
        abort(404)
    payload = parse_signed_request(request.form.get("signed_request", ""), secret)
    if payload is None or not str(payload.get("user_id", "")).strip():
        return jsonify(error="invalid signed_request"), 400
    subject = str(payload["user_id"])
    now = utcnow()
    identity = accounts.find_identity("facebook", subject)
    deleted = 0
    if identity is not None:
        personal_data.delete_account(identity.user_id, now)
        deleted = 1
    code = secrets.token_hex(10)
    with write_transaction():
        db.session.add(
            DeletionRequest(
                confirmation_code=code,
                provider="facebook",
                subject_hash=hashlib.sha256(subject.encode()).hexdigest(),
                users_deleted=deleted,
                created_at=now,
            )
        )
    url = absolute_url(url_for("facebook.deletion_status", code=code))
    return jsonify(url=url, confirmation_code=code)


@bp.get("/auth/facebook/deletion/<code>/")
def deletion_status(code: str) -> ResponseReturnValue:
    """The status page Facebook links the user to."""
    found = db.session.scalar(
        select(DeletionRequest).where(DeletionRequest.confirmation_code == code)
    )
    if found is None:
        abort(404)
    return render_template("account/deletion_status.html", request_row=found)


@bp.get("/privacy/")
def privacy() -> ResponseReturnValue:
    """What the blog keeps about commenters, and how to have it deleted."""
    return render_template("account/privacy.html")
