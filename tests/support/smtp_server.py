"""A real SMTP server on 127.0.0.1 (aiosmtpd) that collects what it receives, for mail tests."""

from __future__ import annotations

import re
import socket
import threading
import time
from dataclasses import dataclass
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from werkzeug.test import TestResponse

from blog.clock import utcnow
from blog.extensions import db
from blog.models import MailMessage, Subscription, User
from tests.support.ports import free_port as free_port


@dataclass
class Received:
    """One delivered message: the envelope, the bytes as they came over the wire, and the parse."""

    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage
    raw: bytes

    def raw_header(self, name: str) -> list[bytes]:
        """The physical lines of a header as sent (its folds included), never decoded."""
        head = self.raw.split(b"\r\n\r\n", 1)[0].split(b"\r\n")
        found: list[bytes] = []
        taking = False
        for line in head:
            if line[:1] not in (b" ", b"\t"):
                taking = line.lower().startswith(name.lower().encode() + b":")
            if taking:
                found.append(line)
        return found

    @property
    def to(self) -> str:
        """The single envelope recipient."""
        assert len(self.rcpt_tos) == 1, self.rcpt_tos
        return self.rcpt_tos[0]

    @property
    def subject(self) -> str:
        """The decoded Subject."""
        return str(self.message["Subject"])

    @property
    def body(self) -> str:
        """The decoded plain-text body."""
        part = self.message.get_body(("plain",))
        assert part is not None
        return str(part.get_content())


class _Collector:
    """aiosmtpd handler: keeps every message."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.messages: list[Received] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        parsed = message_from_bytes(envelope.content, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        with self.lock:
            self.messages.append(
                Received(envelope.mail_from, list(envelope.rcpt_tos), parsed, envelope.content)
            )
        return "250 Message accepted for delivery"


class SMTPServer:
    """An aiosmtpd server on a fixed free port, which a test may start late (SMTP down, then up)."""

    def __init__(self, port: int | None = None) -> None:
        self.host = "127.0.0.1"
        self.port = port or free_port()
        self.handler = _Collector()
        self.controller: Controller | None = None

    def start(self) -> SMTPServer:
        """Start listening; returns self."""
        self.controller = Controller(self.handler, hostname=self.host, port=self.port)
        self.controller.start()
        return self

    def stop(self) -> None:
        """Stop listening (a no-op when not started)."""
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    @property
    def messages(self) -> list[Received]:
        """What arrived so far."""
        with self.handler.lock:
            return list(self.handler.messages)

    def to(self, address: str) -> list[Received]:
        """What arrived for one recipient."""
        return [m for m in self.messages if address in m.rcpt_tos]

    def wait_for(self, count: int, timeout: float = 5.0) -> list[Received]:
        """Poll (bounded) until at least `count` messages arrived; returns them all."""
        deadline = time.monotonic() + timeout
        while len(self.messages) < count and time.monotonic() < deadline:
            time.sleep(0.01)
        return self.messages

    def config(self) -> dict[str, object]:
        """App settings that send through this server."""
        return {
            "SMTP_HOST": self.host,
            "SMTP_PORT": self.port,
            "SMTP_TLS": "none",
            "SMTP_USER": "",
            "SMTP_TIMEOUT_SECONDS": 2.0,
            "MAIL_FROM": "True Connections <blog@blog.test>",
        }


class BlackHole:
    """A port that accepts connections and never says a word: a hung SMTP server."""

    def __init__(self) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = int(self.sock.getsockname()[1])

    def close(self) -> None:
        """Stop listening."""
        self.sock.close()


# --- the blog side: readers, logins and comments through the test client ----------------------

ESSAY = "/2019/06/10/making-true-connections/"
AUTHOR = "author@example.com"
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
_POST_ID = re.compile(r'name="post_id" value="(\d+)"')
_STARTED = re.compile(r'name="form_started" value="([^"]*)"')


def make_user(app: Flask, name: str, email: str | None, verified: bool) -> int:
    """A reader as a login would create them; returns the user id."""
    with app.app_context():
        user = User(display_name=name, email=email, email_verified=verified, created_at=utcnow())
        db.session.add(user)
        db.session.commit()
        return int(user.id)


def login(client: FlaskClient, user_id: int) -> None:
    """Log the test client in as a user (what the OAuth callback leaves in the session)."""
    with client.session_transaction() as session:
        session["_user_id"] = f"{user_id}:0"
        session["_fresh"] = True
        session["provider"] = "google"


def reader(app: Flask, name: str, email: str | None, verified: bool = True) -> FlaskClient:
    """A test client logged in as a new reader with this address."""
    client = app.test_client()
    login(client, make_user(app, name, email, verified))
    return client


def path_of(url: str) -> str:
    """The path (and query) of an absolute link in a mail."""
    return "/" + url.split("/", 3)[3]


def comment(client: FlaskClient, body: str, path: str = ESSAY, **fields: str) -> TestResponse:
    """Fill in the logged-in comment form of a post page and submit it."""
    page = client.get(path).get_data(as_text=True)
    csrf, post_id, started = _CSRF.search(page), _POST_ID.search(page), _STARTED.search(page)
    assert csrf and post_id and started, "no logged-in comment form on the page"
    data = {
        "csrf_token": csrf.group(1),
        "post_id": post_id.group(1),
        "form_started": started.group(1),
        "comment": body,
        **fields,
    }
    return client.post("/comments/", data=data)


def outbox(app: Flask) -> list[MailMessage]:
    """Every row of the outbox, oldest first."""
    with app.app_context():
        rows = db.session.scalars(select(MailMessage).order_by(MailMessage.id)).all()
        db.session.expunge_all()
        return list(rows)


def subscriptions(app: Flask) -> list[Subscription]:
    """Every subscription row, oldest first."""
    with app.app_context():
        rows = db.session.scalars(select(Subscription).order_by(Subscription.id)).all()
        db.session.expunge_all()
        return list(rows)


def header_url(received: Received) -> str:
    """The URL in List-Unsubscribe, read from the raw bytes as a mail provider reads them."""
    lines = received.raw_header("List-Unsubscribe")
    assert len(lines) >= 1, received.raw[:2000]
    # RFC 5322 unfolding removes the CRLF only: a fold inside the URL would leave a space there.
    value = b"".join(lines).split(b":", 1)[1].strip()
    assert b"=?" not in value, value  # no RFC 2047 encoded-word: providers do not decode it
    text = value.decode("ascii")
    assert text.startswith("<") and text.endswith(">") and " " not in text, text
    return text[1:-1]
