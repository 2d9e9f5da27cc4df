"""The outbox: mail is a row written in the caller's transaction, sent later by the sender."""

from __future__ import annotations

import json
from datetime import datetime
from email.utils import format_datetime, make_msgid

from flask import current_app
from sqlalchemy import func, select

from blog.extensions import db
from blog.models import MailMessage, MailStatus

# Marks what a message is about, so one event never mails the same address twice.
NOTICE_HEADER = "X-Blog-Notice"


def site_url(path: str) -> str:
    """An absolute URL for mail: BLOG_SITE_URL, else (development) the local address."""
    # Never the request's Host: whoever sends the request would choose where the links go.
    config = current_app.config
    return str(config.get("SITE_URL") or config["DEV_SITE_URL"]).rstrip("/") + path


def _domain(address: str) -> str:
    # make_msgid() would otherwise ask DNS for the machine's name on every message.
    return address.rpartition("@")[2].strip("> ") or "localhost"


def enqueue(
    to: str,
    subject: str,
    body: str,
    headers: dict[str, str] | None,
    now: datetime,
    *,
    unsubscribe_url: str | None = None,
    notice: str | None = None,
) -> MailMessage:
    """Add a message to the outbox inside the caller's write transaction."""
    all_headers = {
        # Fixed at enqueue time so that a retried message keeps its identity.
        "Message-ID": make_msgid(domain=_domain(current_app.config["MAIL_FROM"])),
        "Date": format_datetime(now),
        **(headers or {}),
    }
    if unsubscribe_url:
        # RFC 8058 one-click: the POST needs no login and no form, only the signed URL.
        all_headers["List-Unsubscribe"] = f"<{unsubscribe_url}>"
        all_headers["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    if notice:
        all_headers[NOTICE_HEADER] = notice
    message = MailMessage(
        to_address=to,
        # A title or name with a line break must not become a header of its own.
        subject=" ".join(subject.split())[:300],
        body_text=body,
        headers_json=json.dumps(all_headers, ensure_ascii=False, sort_keys=True),
        status=MailStatus.QUEUED,
        attempts=0,
        next_attempt_at=now,
        created_at=now,
    )
    db.session.add(message)
    db.session.flush()
    return message


def _marker(notice: str) -> str:
    # The JSON text of the header pair, as enqueue() stores it (headers sorted, default spacing).
    return json.dumps({NOTICE_HEADER: notice}, ensure_ascii=False)[1:-1]


def already_sent_notice(notice: str) -> bool:
    """True when mail about this notice (one event) was queued before, to anyone."""
    found = db.session.scalar(
        select(MailMessage.id)
        .where(MailMessage.headers_json.contains(_marker(notice), autoescape=True))
        .limit(1)
    )
    return found is not None


def count_recent(to: str, notice: str, since: datetime) -> int:
    """How many messages about this notice went to this address since a time."""
    return (
        db.session.scalar(
            select(func.count())
            .select_from(MailMessage)
            .where(
                MailMessage.to_address == to,
                MailMessage.created_at >= since,
                MailMessage.headers_json.contains(_marker(notice), autoescape=True),
            )
        )
        or 0
    )


def message_headers(message: MailMessage) -> dict[str, str]:
    """The stored headers of a queued message."""
    loaded = json.loads(message.headers_json or "{}")
    return {str(k): str(v) for k, v in loaded.items()} if isinstance(loaded, dict) else {}
