"""The sender: claim due messages one by one, send them over SMTP, retry with backoff."""

from __future__ import annotations

import logging
import smtplib
import ssl
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from email import policy
from email.message import EmailMessage
from typing import Any

from flask import Flask
from sqlalchemy import func, select, update

from blog.clock import utcnow
from blog.database import write_transaction
from blog.extensions import db
from blog.mail.outbox import NOTICE_HEADER, message_headers
from blog.models import MailMessage, MailStatus

log = logging.getLogger(__name__)

BACKOFF_FIRST = timedelta(minutes=1)
BACKOFF_CAP = timedelta(hours=1)
# Retried for three days (about 75 attempts at the cap), then kept as FAILED with its last error.
GIVE_UP_AFTER = timedelta(days=3)
BATCH_SIZE = 50
WAITING_KEY = "blog.mail.waiting"


@dataclass
class SendCounts:
    """What one pass of the sender did."""

    sent: int = 0
    retried: int = 0
    failed: int = 0


class PermanentFailure(Exception):
    """The server refused this message for good (5xx for the recipient or the content)."""


def backoff(attempts: int) -> timedelta:
    """Delay after the n-th failed attempt: 1, 2, 4 ... minutes, capped at one hour."""
    exponent = min(max(attempts, 1) - 1, 16)
    return min(BACKOFF_FIRST * (2**exponent), BACKOFF_CAP)


def lease(config: Mapping[str, Any]) -> timedelta:
    """How long a claim holds a message: far longer than one SMTP conversation may take."""
    return max(timedelta(minutes=5), timedelta(seconds=3 * float(config["SMTP_TIMEOUT_SECONDS"])))


# Mail providers read these headers raw: policy.SMTP would turn a URL longer than a line into an
# RFC 2047 encoded-word, which Gmail and Yahoo do not decode, and then offer no one-click
# unsubscribe. They are written as plain ASCII, folded between words only.
PLAIN_HEADERS = frozenset({"list-unsubscribe", "list-unsubscribe-post"})
# "none" leaves a value set with set_raw() as it is; headers set the usual way still fold.
_POLICY = policy.SMTP.clone(refold_source="none")
FOLD_AT = 78


def fold_between_words(name: str, value: str) -> str:
    """A header value folded at its spaces only (RFC 5322), never inside a word or a URL."""
    lines: list[str] = []
    line = ""
    width = len(name) + 2
    for word in value.split():  # also drops any CR or LF: no header can be smuggled in
        if line and width + len(line) + 1 + len(word) > FOLD_AT:
            lines.append(line)
            line, width = "", 1
        line = f"{line} {word}" if line else word
    lines.append(line)
    return "\n ".join(lines)


def build_message(message: MailMessage, config: Mapping[str, Any]) -> EmailMessage:
    """The RFC 5322 message for an outbox row."""
    built = EmailMessage(policy=_POLICY)
    built["From"] = config["MAIL_FROM"]
    built["To"] = message.to_address
    built["Subject"] = message.subject
    for name, value in message_headers(message).items():
        if name == NOTICE_HEADER:  # internal bookkeeping, not for the recipient
            continue
        if name.lower() in PLAIN_HEADERS and value.isascii():
            built.set_raw(name, fold_between_words(name, value))
        else:
            built[name] = value
    # RFC 3834: notifications, so auto-responders should stay quiet.
    built["Auto-Submitted"] = "auto-generated"
    built.set_content(message.body_text)
    return built


def connect(config: Mapping[str, Any]) -> smtplib.SMTP:
    """An SMTP connection per SMTP_TLS (none, starttls, ssl), logged in when SMTP_USER is set."""
    host, port = config["SMTP_HOST"], int(config["SMTP_PORT"])
    timeout = float(config["SMTP_TIMEOUT_SECONDS"])
    context = ssl.create_default_context()
    smtp: smtplib.SMTP
    if config["SMTP_TLS"] == "ssl":
        smtp = smtplib.SMTP_SSL(host, port, timeout=timeout, context=context)
    else:
        smtp = smtplib.SMTP(host, port, timeout=timeout)
    try:
        if config["SMTP_TLS"] == "starttls":
            smtp.starttls(context=context)
        if config["SMTP_USER"]:
            smtp.login(config["SMTP_USER"], config["SMTP_PASSWORD"])
    except BaseException:
        smtp.close()
        raise
    return smtp


def _deliver(smtp: smtplib.SMTP, built: EmailMessage, message: MailMessage) -> None:
    """Send one message; PermanentFailure for a 5xx refusal of this message itself."""
    try:
        smtp.send_message(built, to_addrs=[message.to_address])
    except smtplib.SMTPRecipientsRefused as exc:
        codes = [code for code, _text in exc.recipients.values()]
        if codes and all(code >= 500 for code in codes):
            raise PermanentFailure(f"recipient refused: {exc.recipients}") from exc
        raise
    except smtplib.SMTPDataError as exc:
        if exc.smtp_code >= 500:
            raise PermanentFailure(f"message refused: {exc.smtp_code} {exc.smtp_error!r}") from exc
        raise


def _due_ids(now: datetime, limit: int) -> list[int]:
    return list(
        db.session.scalars(
            select(MailMessage.id)
            .where(MailMessage.status == MailStatus.QUEUED, MailMessage.next_attempt_at <= now)
            .order_by(MailMessage.next_attempt_at, MailMessage.id)
            .limit(limit)
        )
    )


def claim(message_id: int, now: datetime, lease_until: datetime) -> bool:
    """Take a message for this worker; False when another worker got it first."""
    with write_transaction():
        # The guarded UPDATE is the lock: only one worker sees rowcount 1 for a due message,
        # and pushing next_attempt_at ahead keeps everyone else off it while we send.
        result = db.session.execute(
            update(MailMessage)
            .where(
                MailMessage.id == message_id,
                MailMessage.status == MailStatus.QUEUED,
                MailMessage.next_attempt_at <= now,
            )
            .values(next_attempt_at=lease_until, attempts=MailMessage.attempts + 1)
            .execution_options(synchronize_session=False)
        )
    return int(getattr(result, "rowcount", 0)) == 1


def _mark_sent(message_id: int, now: datetime) -> None:
    with write_transaction():
        db.session.execute(
            update(MailMessage)
            .where(MailMessage.id == message_id)
            .values(status=MailStatus.SENT, sent_at=now, last_error=None)
            .execution_options(synchronize_session=False)
        )


def _mark_failed(
    message_id: int, now: datetime, lease_until: datetime, error: str, permanent: bool = False
) -> bool:
    """Schedule a retry, or give up for good; True when the message is now FAILED."""
    with write_transaction():
        message = db.session.get(MailMessage, message_id)
        # Our lease may have run out and another worker taken over: leave its state alone.
        if (
            message is None
            or message.status is not MailStatus.QUEUED
            or message.next_attempt_at != lease_until
        ):
            return False
        message.last_error = error[:2000]
        if permanent or now - message.created_at >= GIVE_UP_AFTER:
            message.status = MailStatus.FAILED
            log.error(
                "MAIL GIVEN UP: message %s to %s after %s attempts: %s",
                message.id,
                message.to_address,
                message.attempts,
                error,
            )
            return True
        message.next_attempt_at = now + backoff(message.attempts)
        log.warning(
            "mail %s to %s failed (attempt %s), retry at %s: %s",
            message.id,
            message.to_address,
            message.attempts,
            message.next_attempt_at.isoformat(timespec="seconds"),
            error,
        )
        return False


def send_due(app: Flask, now: datetime | None = None, limit: int = BATCH_SIZE) -> SendCounts:
    """Send the queued messages that are due; safe to run in several workers at once."""
    counts = SendCounts()
    with app.app_context():
        now = now or utcnow()
        config = app.config
        if not config["SMTP_HOST"]:
            waiting = db.session.scalar(
                select(func.count())
                .select_from(MailMessage)
                .where(MailMessage.status == MailStatus.QUEUED)
            )
            # Said once per change, not on every tick of the background sender.
            if waiting and app.extensions.get(WAITING_KEY) != waiting:
                log.warning("%s messages wait in the outbox: BLOG_SMTP_HOST is not set", waiting)
            app.extensions[WAITING_KEY] = waiting
            return counts
        lease_until = now + lease(config)
        smtp: smtplib.SMTP | None = None
        try:
            for message_id in _due_ids(now, limit):
                if not claim(message_id, now, lease_until):
                    continue
                message = db.session.get(MailMessage, message_id)
                if message is None:
                    continue
                try:
                    built = build_message(message, config)
                    if smtp is None:
                        smtp = connect(config)
                    _deliver(smtp, built, message)
                except (PermanentFailure, ValueError) as exc:
                    # This message can never go out as it is; the others still can.
                    _mark_failed(message_id, now, lease_until, str(exc), permanent=True)
                    counts.failed += 1
                    continue
                except (smtplib.SMTPException, OSError) as exc:
                    if _mark_failed(message_id, now, lease_until, f"{type(exc).__name__}: {exc}"):
                        counts.failed += 1
                    else:
                        counts.retried += 1
                    # The server or the connection is in trouble: stop until the next tick,
                    # leaving the rest of the batch unclaimed rather than timing out on each.
                    break
                # Delivered: from here on at-least-once (a crash now means a resend after the
                # lease), never at-most-once (a lost mail).
                _mark_sent(message_id, now)
                counts.sent += 1
        finally:
            if smtp is not None:
                _quit(smtp)
    if counts.sent or counts.retried or counts.failed:
        log.info("mail: %s sent, %s retried, %s failed", counts.sent, counts.retried, counts.failed)
    return counts


def _quit(smtp: smtplib.SMTP) -> None:
    try:
        smtp.quit()
    except (smtplib.SMTPException, OSError):
        smtp.close()
