"""Every XSS payload, as a comment body or as a provider's display name, comes out inert."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import requests
from flask import Flask
from markupsafe import escape
from sqlalchemy import update

from blog.auth.accounts import clean_name
from blog.auth.devmode import dev_provider_settings
from blog.auth.providers import Profile
from blog.content.comment_markup import render_comment
from blog.extensions import db
from blog.models import Comment, Identity, User
from tests.conftest import SECURITY_DATA, security_corpus
from tests.support.auth_helpers import (
    ESSAY,
    check_fragment,
    client_comment,
    client_login,
    comment_content_elements,
    comment_ids,
    comments_section_elements,
    form_data,
    logged_in,
    new_comment_id,
    parse,
    post_comment,
    serve_site,
    structure,
    unsafe_in,
)
from tests.support.oauth_site import OAuthSite

ALLOWED = frozenset({"p", "br", "em", "strong", "code", "pre", "a", "blockquote", "ul", "ol", "li"})
CORPORA = [
    "pat_xss_alert.txt",
    "pat_IntrudersXSS.txt",
    "pat_MarioXSSVectors.txt",
    "pat_RSNAKE_XSS.txt",
    "pat_BRUTELOGIC-XSS-STRINGS.txt",
    "pat_XSS_Polyglots.txt",
    "markdownit_xss.txt",
]


def markdown_it_blocks() -> list[str]:
    """The multi-line inputs of markdown-it's xss fixture (`.` / input / `.` / output / `.`)."""
    security_corpus("markdownit_xss.txt")  # skips when the corpus is absent
    lines = (SECURITY_DATA / "markdownit_xss.txt").read_text(encoding="utf-8").split("\n")
    blocks, i = [], 0
    while i < len(lines):
        if lines[i] == ".":
            end = lines.index(".", i + 1)
            blocks.append("\n".join(lines[i + 1 : end]))
            i = lines.index(".", end + 1) + 1
        else:
            i += 1
    return blocks


def every_payload() -> list[str]:
    payloads = [p for name in CORPORA for p in security_corpus(name)]
    return payloads + markdown_it_blocks()


def sample(count: int) -> list[str]:
    """An evenly spread, deterministic sample across all corpora, polyglots always included."""
    payloads = every_payload()
    step = max(len(payloads) // count, 1)
    picked = payloads[::step][: count - 4] + security_corpus("pat_XSS_Polyglots.txt")[:4]
    return list(dict.fromkeys(picked))


# --- the sanitiser itself, over everything ---------------------------------------------------


@pytest.mark.parametrize("corpus", CORPORA)
def test_render_comment_makes_every_payload_inert(corpus: str) -> None:
    payloads = security_corpus(corpus)
    if corpus == "markdownit_xss.txt":
        payloads += markdown_it_blocks()
    problems = {}
    for payload in payloads:
        found = check_fragment(render_comment(payload))
        if found:
            problems[payload] = found
    assert problems == {}
    assert len(payloads) > 10


def test_render_comment_keeps_no_state_between_comments() -> None:
    """One renderer serves every comment of a thread: nothing of one leaks into the next."""
    text = "A [link](https://example.com/a) and `code`\n\n```\nfenced <b>\n```\n\n- one\n- two"
    first = render_comment(text)
    render_comment("Unclosed ``` fence\n\n1. a\n\n* b\n\n[ref]: https://example.com/ref")
    assert render_comment(text) == first
    assert render_comment("[ref] stays text") == "<p>[ref] stays text</p>"
    assert (
        '<a href="https://example.com/a" rel="nofollow ugc noopener noreferrer">link</a>' in first
    )
    assert "&lt;b&gt;" in first


def test_render_comment_checker_catches_what_it_should() -> None:
    """The checker itself: raw dangerous markup is reported."""
    assert check_fragment('<img src=x onerror="alert(1)">') != []
    assert check_fragment('<a href=" java\tscript:alert(1)" rel="x">x</a>') != []
    assert check_fragment('<p style="color:red">x</p>') != []
    assert check_fragment('<a href="/local" rel="nofollow ugc noopener noreferrer">x</a>') == []


# --- the real HTTP path ----------------------------------------------------------------------


@pytest.fixture
def site(essay: Path, make_app: Callable[..., Flask]) -> Iterator[OAuthSite]:
    yield from serve_site(make_app)


def test_payloads_posted_over_http_are_inert_on_the_page(site: OAuthSite) -> None:
    payloads = sample(30)
    http, page = logged_in(site, "google", "alice")
    form = form_data(page.text, "/comments/")
    posted = [new_comment_id(post_comment(site, http, p, form=form)) for p in payloads]
    for html in (http.get(site.url + ESSAY).text, requests.get(site.url + ESSAY).text):
        assert set(posted) <= set(comment_ids(html))
        bodies = comment_content_elements(html)
        assert bodies, "no comment bodies found"
        assert unsafe_in(bodies, ALLOWED) == []
        assert unsafe_in(comments_section_elements(html), None, ugc_links=False) == []
        scripts = [el for el in parse(html).elements if el.tag == "script"]
        assert all(
            el.attrs.get("src", "").startswith("/static/")
            or el.attrs.get("type") == "application/ld+json"
            for el in scripts
        )


# --- display names from the provider ---------------------------------------------------------


def offline_app(make_app: Callable[..., Flask]) -> Flask:
    settings = dev_provider_settings("http://127.0.0.1:9")
    for values in settings.values():
        values.pop("dev")
    return make_app(AUTH_PROVIDERS=settings, DEV_IDP=False)


def test_display_name_payloads_are_escaped_everywhere(
    essay: Path, make_app: Callable[..., Flask]
) -> None:
    app = offline_app(make_app)
    names = sample(40)
    users: list[tuple[str, int, int]] = []
    clients = []
    form: dict[str, str] | None = None
    csrf_secret = ""
    for n, name in enumerate(names):
        profile = Profile("x", f"xss-{n}", name, None, False, None)
        client = client_login(app, profile)
        # One page view for all: every client gets the first one's CSRF secret, so that the
        # first form (token, start time) is valid for all of them.
        if form is None:
            form = form_data(client.get(ESSAY).text, "/comments/")
            with client.session_transaction() as session:
                csrf_secret = session["csrf_token"]
        else:
            with client.session_transaction() as session:
                session["csrf_token"] = csrf_secret
        comment_id = client_comment(client, f"Comment number {n}", form=form)
        with app.app_context():
            identity = db.session.scalar(
                db.select(Identity).where(Identity.provider == "x", Identity.subject == f"xss-{n}")
            )
            assert identity is not None
            users.append((name, identity.user_id, comment_id))
        clients.append(client)
    anonymous = app.test_client()
    page = anonymous.get(ESSAY).text
    for name, _user_id, comment_id in users:
        assert f'<b class="fn">{escape(clean_name(name))}</b>' in page, name
        assert f'id="comment-{comment_id}"' in page
    # The page has exactly the shape it has when every name is plain text.
    with app.app_context():
        db.session.execute(update(User).values(display_name="Plain Reader"))
        db.session.execute(update(Comment).values(author_name="Plain Reader"))
        db.session.commit()
    plain = anonymous.get(ESSAY).text
    assert structure(parse(page).elements) == structure(parse(plain).elements)
    assert unsafe_in(comments_section_elements(page), None, ugc_links=False) == []
    # The generated avatar is well-formed SVG holding the escaped initial, nothing else.
    with app.app_context():
        for name, user_id, _c in users:
            db.session.execute(
                update(User).where(User.id == user_id).values(display_name=clean_name(name))
            )
        db.session.commit()
    for name, user_id, _c in users:
        svg = anonymous.get(f"/avatars/{user_id}.svg")
        assert svg.headers["Content-Type"].startswith("image/svg+xml")
        assert "default-src 'none'" in svg.headers["Content-Security-Policy"]
        root = ET.fromstring(svg.text)
        tags = [re.sub(r"^\{.*\}", "", el.tag) for el in root.iter()]
        assert tags == ["svg", "rect", "text"], name
        assert all(not a.startswith("on") for el in root.iter() for a in el.attrib)
        text = root.find("{http://www.w3.org/2000/svg}text")
        assert text is not None and len(text.text or "") <= 1
    # The account page and the data download show the name as text.
    baseline = None
    for (name, _user_id, _c), client in zip(users, clients, strict=True):
        account = client.get("/account/")
        assert account.status_code == 200
        assert f"<strong>{escape(clean_name(name))}</strong>" in account.text, name
        shape = structure(parse(account.text).elements)
        baseline = baseline or shape
        assert shape == baseline, name
        exported = client.get("/account/data.json").get_json()
        assert exported["user"]["display_name"] == clean_name(name)
