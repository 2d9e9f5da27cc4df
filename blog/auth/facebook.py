"""Facebook's data-deletion callback, its status page, and the privacy policy it points to."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import datetime, timedelta

from flask import Blueprint, abort, current_app, jsonify, render_template, request, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from blog.auth import accounts, personal_data
from blog.clock import utcnow
from blog.database import write_transaction
from blog.extensions import csrf, db
from blog.models import DeletionRequest
from blog.web.templating import absolute_url

bp = Blueprint("facebook", __name__)
# Facebook's signed requests are a few hundred characters.
MAX_SIGNED_REQUEST_CHARS = 4096
# Facebook calls as the person removes the app: an older request is a replay.
MAX_REQUEST_AGE = timedelta(hours=1)
CLOCK_SKEW = timedelta(minutes=5)


def _b64decode(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


def parse_signed_request(signed_request: str, app_secret: str, now: datetime) -> str | None:
    """The Facebook user id of a fresh, genuine `signature.payload` (HMAC-SHA256), or None.

    The signature is checked over the raw payload part before anything of it is decoded, so an
    unsigned payload is never parsed, however it is built.
    """
    if len(signed_request) > MAX_SIGNED_REQUEST_CHARS or not signed_request.isascii():
        return None
    signature_b64, _, payload_b64 = signed_request.partition(".")
    try:
        signature = _b64decode(signature_b64)
    except ValueError:
        return None
    expected = hmac.new(app_secret.encode(), payload_b64.encode(), hashlib.sha256).digest()
    if not payload_b64 or not hmac.compare_digest(signature, expected):
        return None
    try:
        payload = json.loads(_b64decode(payload_b64))
    except (ValueError, UnicodeDecodeError, RecursionError):
        return None
    if not isinstance(payload, dict):
        return None
    algorithm = payload.get("algorithm")
    if not isinstance(algorithm, str) or algorithm.upper() != "HMAC-SHA256":
        return None
    issued_at = payload.get("issued_at")
    if not isinstance(issued_at, int) or isinstance(issued_at, bool):
        return None
    age = now.timestamp() - issued_at
    if not -CLOCK_SKEW.total_seconds() <= age <= MAX_REQUEST_AGE.total_seconds():
        return None
    subject = payload.get("user_id")
    if isinstance(subject, int) and not isinstance(subject, bool):
        subject = str(subject)
    return (subject.strip() or None) if isinstance(subject, str) else None


def confirmation_code(signed_request: str) -> str:
    """The code for one signed request: the same request always gets the same answer."""
    # Keyed on the signed payload alone: the signature's base64 can be spelt in several ways.
    payload_b64 = signed_request.partition(".")[2].encode()
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, b"facebook-deletion:" + payload_b64, hashlib.sha256).hexdigest()[:20]


def _recorded(code: str) -> DeletionRequest | None:
    return db.session.scalar(
        select(DeletionRequest).where(DeletionRequest.confirmation_code == code)
    )


@bp.post("/auth/facebook/data-deletion")
@csrf.exempt  # Facebook's server calls this; the signed_request HMAC is the defence
def data_deletion() -> ResponseReturnValue:
    """Delete what we hold for a Facebook user and answer {url, confirmation_code}.

    A repeated request (Facebook retrying, or anyone replaying it) gets the first answer and
    changes nothing: a person who came back since keeps their new account.
    """
    settings = current_app.config["AUTH_PROVIDERS"].get("facebook", {})
    secret = settings.get("client_secret")
    if not secret:
        abort(404)
    signed = request.form.get("signed_request", "")
    now = utcnow()
    subject = parse_signed_request(signed, secret, now)
    if subject is None:
        return jsonify(error="invalid signed_request"), 400
    code = confirmation_code(signed)
    if _recorded(code) is None:
        try:
            _delete(subject, code, now)
        except IntegrityError:
            # The same request, answered by another worker meanwhile.
            if _recorded(code) is None:
                raise
    url = absolute_url(url_for("facebook.deletion_status", code=code))
    return jsonify(url=url, confirmation_code=code)


def _delete(subject: str, code: str, now: datetime) -> None:
    with write_transaction():
        identity = accounts.find_identity("facebook", subject)
        if identity is not None:
            personal_data.erase(identity.user_id, now)
        db.session.add(
            DeletionRequest(
                confirmation_code=code,
                provider="facebook",
                subject_hash=hashlib.sha256(subject.encode()).hexdigest(),
                users_deleted=int(identity is not None),
                created_at=now,
            )
        )


@bp.get("/auth/facebook/deletion/<code>/")
def deletion_status(code: str) -> ResponseReturnValue:
    """The status page Facebook links the user to."""
    found = _recorded(code)
    if found is None:
        abort(404)
    return render_template("account/deletion_status.html", request_row=found)


@bp.get("/privacy/")
def privacy() -> ResponseReturnValue:
    """What the blog keeps about commenters, and how to have it deleted."""
    return render_template("account/privacy.html")
