"""Bad input everywhere: every route, path part, query field and form field, as a stranger, a
reader and a moderator, on SQLite and PostgreSQL. No 500, and no table grows beyond what the
requests the blog accepted may write.

The corpora are the shared bad-input lists (never copied here). Each test walks one endpoint,
so the walk spreads over the xdist workers. The cross product is too slow for the suite, so the
corpora are dealt deterministically: every string goes, at least once on each database, into
one field of one endpoint with plausible values in the others (so that it gets past the first
check); the naughty strings also fill every field of every endpoint at once; and a few strings
known to break parsers (NUL, huge and non-ASCII numbers...) go into every field and path part.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from werkzeug.routing import IntegerConverter, Rule
from werkzeug.test import TestResponse

from blog.auth.devmode import dev_provider_settings
from blog.config import PROJECT_ROOT
from blog.extensions import db
from tests.conftest import SECURITY_DATA, security_corpus
from tests.support.moderation_helpers import (
    ESSAY,
    MODERATORS,
    add_comment,
    add_moderator,
    add_user,
    csrf_token,
    essay_post_id,
    log_in,
)
from tests.support.routes import STATE_CHANGING, route_table, rules_by_endpoint, sample_url

ROUTES = route_table()
ENDPOINTS = sorted(ROUTES)
ROLES = ("stranger", "reader", "moderator")
ORIGIN = {"Origin": "http://blog.test"}
# Every field a form of the blog has or a view reads (test_the_fuzz_knows_every_field keeps
# this complete); sent in the query string of GET routes and in the body of the others.
FIELDS = (
    "List-Unsubscribe", "action", "active", "comment", "comment_order", "confirm", "csrf_token",
    "do", "duration", "form_started", "hide", "ids", "next", "note", "page", "paragraph",
    "paragraph_id", "parent_id", "post_id", "private", "provider", "reason", "replies",
    "replytocom", "s", "signed_request", "status", "subscribe_email", "subscribe_posts",
    "subscribe_replies", "subscribe_thread", "subscription", "website",
)  # fmt: skip
# A form control's name in a template (<meta name=...> is no field).
CONTROL = re.compile(r'<(?:input|textarea|select|button)\b[^>]*?\bname="([^"{]+)"')
# Strings that have broken parsers here before: every field and path part gets each of them.
EDGE = (
    "", " ", "\x00", "a\x00b", "%00", "\x0b\x1b\x07\ufffe\uffff", "line\nforged", "-1", "0",
    "0001", "9223372036854775807", "9223372036854775808", "9" * 30, "1e3", "\u0661",
    "\u2070\u2074\u2075", "\uff17", "x" * 6000, "../../etc/passwd", "javascript:alert(1)",
)  # fmt: skip
OTHER_CORPORA = (
    "markdownit_xss.txt",
    "pat_BRUTELOGIC-XSS-STRINGS.txt",
    "pat_IntrudersXSS.txt",
    "pat_MarioXSSVectors.txt",
    "pat_RSNAKE_XSS.txt",
    "pat_XSS_Polyglots.txt",
    "pat_dir_traversal.txt",
    "pat_open_redirect.txt",
    "pat_xss_alert.txt",
)
# What an accepted request (a 2xx or 3xx answer) may add, by endpoint: a comment, and with it
# a subscription and its confirmation mail; the login start and a preview keep one draft per
# session.
GROWTH = {
    # A comment or a private note (never both), its subscriptions (thread, posts, replies),
    # and its mail: the author's, a confirmation, the replied-to reader's.
    "comments.create": {"comments": 1, "private_notes": 1, "subscriptions": 3, "mail_outbox": 3},
    "notes.answer": {"comments": 1, "mail_outbox": 2},
    "account.change_subscription": {"subscriptions": 1},
    "admin.reply": {"comments": 1, "subscriptions": 2, "mail_outbox": 2},
    "auth.start": {"comment_drafts": 1},
    "reactions.like_post": {"likes": 1},
    "reactions.like_comment": {"likes": 1},
    "reactions.report": {"comment_reports": 1},
    "admin.feature": {"featured_comments": 1},
    "comments.preview": {"comment_drafts": 1},
}


def naughty_strings() -> list[str]:
    """The big list of naughty strings (skips when shared/ is absent)."""
    path = SECURITY_DATA / "blns.json"
    if not path.is_file():
        pytest.skip("blns.json not found: shared/testdata/security is absent")
    return [s for s in json.loads(path.read_text(encoding="utf-8")) if isinstance(s, str)]


def dealt(endpoint: str) -> list[str]:
    """This endpoint's share of every corpus: each string lands on exactly one endpoint."""
    everything = naughty_strings() + [s for name in OTHER_CORPORA for s in security_corpus(name)]
    return everything[ENDPOINTS.index(endpoint) :: len(ENDPOINTS)]


@dataclass
class Site:
    """The blog with the essay, a reader's comment, and a client for each role."""

    app: Flask
    ids: dict[str, int]
    clients: dict[str, FlaskClient] = field(default_factory=dict)
    tokens: dict[str, str] = field(default_factory=dict)
    sent: int = 0

    def log_in_again(self, role: str) -> None:
        """A fresh session for a role (a logout or a deleted session ends the last one)."""
        if role == "stranger":
            # No cookie kept: every request comes from a new stranger, as a bot's would.
            self.clients[role] = self.app.test_client(use_cookies=False)
            self.tokens[role] = ""
            return
        client = self.app.test_client()
        log_in(client, self.ids[role])
        self.clients[role] = client
        self.tokens[role] = csrf_token(client)

    def base_fields(self, role: str) -> dict[str, str]:
        """Plausible values for every field, so that one odd field gets past the others."""
        self.sent += 1
        return {
            "csrf_token": self.tokens[role],
            "comment": f"A comment from the fuzz, number {self.sent}.",
            "post_id": str(self.ids["post"]),
            "parent_id": "",
            "next": ESSAY,
            "provider": "google",
            "status": "pending",
            "page": "1",
            "action": "approve",
            "ids": str(self.ids["comment"]),
            "duration": "7",
            "reason": "Fuzzing.",
            "note": "A note from the fuzz.",
        }

    def send(self, role: str, method: str, url: str, data: dict[str, str]) -> TestResponse:
        """One request as this role: the fields in the query string of a GET, else the body."""
        client = self.clients[role]
        if method == "GET":
            return client.get(url, query_string=data)
        return client.open(url, method=method, data=data, headers=ORIGIN)


@pytest.fixture
def site(essay: Path, make_app: Callable[..., Flask]) -> Site:
    """The blog with every provider configured (offline), a reader, a moderator and a comment."""
    providers = dev_provider_settings("http://127.0.0.1:9")  # nothing listens on port 9
    for settings in providers.values():
        settings.pop("dev")
    app = make_app(MODERATORS=MODERATORS, AUTH_PROVIDERS=providers, AUTH_TIMEOUT_SECONDS=0.2)
    app.config["WTF_CSRF_ENABLED"] = True
    reader = add_user(app, "Fuzzy Reader")
    ids = {
        "reader": reader,
        "moderator": add_moderator(app),
        "post": essay_post_id(app),
        "comment": add_comment(app, reader, "The reader's own comment."),
    }
    found = Site(app, ids)
    for role in ROLES:
        found.log_in_again(role)
    return found


def table_sizes(app: Flask) -> Counter[str]:
    """Rows in every table of the schema."""
    with app.app_context():
        return Counter(
            {
                table.name: db.session.scalar(select(func.count()).select_from(table)) or 0
                for table in db.metadata.sorted_tables
            }
        )


def url_with(rule: Rule, site: Site, part: str | None = None, text: str = "") -> str:
    """The rule's URL with real ids, and one path part replaced by the text (percent-encoded)."""
    values: dict[str, object] = {
        "comment_id": site.ids["comment"],
        "user_id": site.ids["reader"],
        "post_id": site.ids["post"],
        "action": "approve",
        "decision": "dismiss",
    }
    if part is None:
        return sample_url(rule, values)
    number = isinstance(rule._converters[part], IntegerConverter)
    marker = "4242424242" if number else "fuzzpart"
    values[part] = int(marker) if number else marker
    return sample_url(rule, values).replace(marker, quote(text, safe=""), 1)


@dataclass(frozen=True)
class Attempt:
    """One request to make: who sends it, where, and which field or path part holds the text."""

    role: str
    rule: Rule
    method: str
    text: str
    field: str | None = None  # a form or query field
    part: str | None = None  # a path part
    every_field: bool = False


def attempts(app: Flask, endpoint: str, backend: str) -> Iterator[Attempt]:
    """This endpoint's requests, dealt deterministically (see the module's docstring)."""
    pairs = [
        (rule, method)
        for rule in rules_by_endpoint(app)[endpoint]
        for method in sorted((rule.methods or set()) & {"GET", *STATE_CHANGING})
    ]
    parts = [(rule, method, name) for rule, method in pairs for name in _parts(rule)]
    for i, text in enumerate(EDGE):
        role = ROLES[i % len(ROLES)]
        for rule, method in pairs:
            yield Attempt(role, rule, method, text, every_field=True)
        for rule, method, name in parts:
            yield Attempt(role, rule, method, text, part=name)
    # The naughty strings also fill every field at once: each on a quarter of the endpoints.
    naughty = naughty_strings()[ENDPOINTS.index(endpoint) % 4 :: 4]
    for i, text in enumerate(naughty):
        rule, method = pairs[i % len(pairs)]
        yield Attempt(ROLES[i % len(ROLES)], rule, method, text, every_field=True)
    slots: list[tuple[Rule, str, str | None, str | None]]
    slots = [(rule, method, name, None) for rule, method in pairs for name in FIELDS]
    slots += [(rule, method, None, name) for rule, method, name in parts]
    for i, text in enumerate(dealt(endpoint)):
        rule, method, field_name, part = slots[i % len(slots)]
        role = ROLES[(i // len(slots)) % len(ROLES)]
        yield Attempt(role, rule, method, text, field_name, part)


def _parts(rule: Rule) -> list[str]:
    return [name for name in rule.arguments if name not in (rule.defaults or {})]


def send(site: Site, attempt: Attempt) -> TestResponse:
    """Make one attempt."""
    role = attempt.role
    data = site.base_fields(role)
    if attempt.every_field:
        data = {name: attempt.text for name in FIELDS} | {"csrf_token": site.tokens[role]}
    elif attempt.field is not None:
        data[attempt.field] = attempt.text
    if attempt.method == "GET" and attempt.field is None:
        data = {}  # a page as linked: the path part alone is odd
    url = url_with(attempt.rule, site, attempt.part, attempt.text)
    return site.send(role, attempt.method, url, data)


@pytest.mark.slow
@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_bad_input_anywhere_is_never_a_500_nor_unbounded_growth(
    site: Site, database_backend: str, endpoint: str
) -> None:
    before = table_sizes(site.app)
    allowed: Counter[str] = Counter()
    failures = []
    for attempt in attempts(site.app, endpoint, database_backend):
        response = send(site, attempt)
        if response.status_code >= 500:
            where = attempt.field or attempt.part or "every field"
            failures.append(
                f"{attempt.role} {attempt.method} {attempt.rule.rule} [{where}] "
                f"{attempt.text[:80]!r}: {response.status_code}"
            )
        if response.status_code < 400:
            allowed.update(GROWTH.get(endpoint, {}))
        if endpoint in ("auth.logout", "account.delete") and attempt.role != "stranger":
            site.log_in_again(attempt.role)
    assert not failures, f"{len(failures)} answers of 500:\n" + "\n".join(failures[:30])
    grown = table_sizes(site.app) - before
    beyond = {table: n for table, n in grown.items() if n > allowed[table]}
    assert not beyond, f"tables grew beyond the accepted writes: {beyond} (allowed {allowed})"


def _fields_in_templates() -> set[str]:
    names = set()
    for template in (PROJECT_ROOT / "templates").rglob("*.html"):
        names.update(CONTROL.findall(template.read_text(encoding="utf-8")))
    return names


def _fields_views_read() -> set[str]:
    reads = re.compile(r'(?:request\.(?:form|args|values)|\bform)\.get(?:list)?\(\s*"([^"]+)"')
    names = set()
    for module in (PROJECT_ROOT / "blog").rglob("*.py"):
        if "devidp" not in module.parts:  # the local identity provider is a server of its own
            names.update(reads.findall(module.read_text(encoding="utf-8")))
    return names


def test_the_fuzz_knows_every_field() -> None:
    assert _fields_in_templates() | _fields_views_read() <= set(FIELDS), (
        _fields_in_templates() | _fields_views_read()
    ) - set(FIELDS)
