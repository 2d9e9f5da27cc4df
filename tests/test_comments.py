"""The comment section: logged-out and logged-in forms, threads, markup, edit and delete."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import requests
from flask import Flask
from sqlalchemy import func, select

from blog.auth.devmode import dev_provider_settings
from blog.clock import FrozenClock
from blog.comments.editing import UNDO_MINUTES
from blog.devidp import identity
from blog.extensions import db
from blog.models import Avatar, Comment, CommentDraft, User
from tests.support.auth_helpers import (
    ESSAY,
    comment_html,
    comment_ids,
    essay_id,
    form_data,
    logged_in,
    new_comment_id,
    parse,
    post_comment,
    serve_site,
    textarea,
)
from tests.support.comment_client import comment_id, log_in
from tests.support.oauth_site import OAuthSite

OFFLINE_IDP = "http://127.0.0.1:9"  # nothing listens there: pages render, no login completes


@pytest.fixture
def site(essay: Path, make_app: Callable[..., Flask]) -> Iterator[OAuthSite]:
    yield from serve_site(make_app)


def offline_providers(*names: str) -> dict[str, dict[str, str]]:
    settings = dev_provider_settings(OFFLINE_IDP)
    for values in settings.values():
        values.pop("dev")
    return {name: settings[name] for name in names}


# --- the logged-out page ---------------------------------------------------------------------


def test_logged_out_post_page_is_one_cacheable_login_form(
    essay: Path, make_app: Callable[..., Flask]
) -> None:
    app = make_app(AUTH_PROVIDERS=offline_providers("google", "x", "facebook"), DEV_IDP=False)
    response = app.test_client().get(ESSAY)
    html = response.text
    assert response.status_code == 200
    assert "Set-Cookie" not in response.headers
    assert response.headers["Cache-Control"].startswith("public")
    assert "Cookie" in response.headers["Vary"]
    assert "csrf_token" not in html
    assert "Leave a Reply" in html
    page = parse(html)
    assert (
        page.textarea_ids and page.textarea_ids[0] in page.label_fors
    )  # the first box is labelled
    boxes = [f for f in page.forms if "comment" in f.textareas]
    assert len(boxes) == 1
    form = boxes[0]
    assert form.attrs["method"] == "post" and form.attrs["action"] == "/auth/start"
    buttons = [f for f in form.fields if f.get("name") == "provider"]
    assert [b["value"] for b in buttons] == ["google", "x", "facebook"]
    legend = html.index("Please log in using one of these methods to post your comment:")
    assert html.index('action="/auth/start"') < legend < html.index("</form>", legend)
    # Each in its brand's own words (the brand colours are in comments.css).
    brand_words = (
        ("google", "Sign in with Google"),
        ("x", "Sign in with X"),
        ("facebook", "Continue with Facebook"),
    )
    for name, label in brand_words:
        button = re.search(rf'<button[^>]*value="{name}"[^>]*>(.*?)</button>', html, re.S)
        assert button, name
        assert f'<img src="/static/img/{name}.svg"' in button.group(1)
        assert label in button.group(1)
        with app.test_client().get(f"/static/img/{name}.svg") as logo:
            assert logo.status_code == 200 and b"<svg" in logo.data
    assert {"post_id", "next", "parent_id"} <= form.names()
    assert form_data(html, "/auth/start")["next"] == ESSAY


def test_only_configured_providers_are_offered(essay: Path, make_app: Callable[..., Flask]) -> None:
    providers = offline_providers("google", "x", "facebook")
    providers["x"]["client_secret"] = ""  # an id without a secret is not configured
    del providers["facebook"]
    app = make_app(AUTH_PROVIDERS=providers, DEV_IDP=False)
    client = app.test_client()
    html = client.get(ESSAY).text
    assert re.findall(r'name="provider" value="(\w+)"', html) == ["google"]
    assert "X (Twitter)" not in html and "login-facebook" not in html
    for name in ("x", "facebook"):
        response = client.post(
            "/auth/start",
            data={"provider": name, "next": ESSAY},
            headers={"Origin": "http://blog.test"},
        )
        assert response.status_code == 400
        assert client.get(f"/auth/callback/{name}?code=c&state=s").status_code == 404


@pytest.mark.parametrize(
    ("headers", "status"),
    [
        ({"Origin": "https://evil.example"}, 403),
        ({"Origin": "null"}, 403),
        ({"Origin": "http://blog.test.evil.example"}, 403),
        ({"Sec-Fetch-Site": "cross-site"}, 403),
        ({"Sec-Fetch-Site": "same-site"}, 403),
        ({}, 403),
        ({"Sec-Fetch-Site": "same-origin"}, 302),
        ({"Origin": "http://blog.test"}, 302),
    ],
)
def test_login_start_checks_origin(
    essay: Path, make_app: Callable[..., Flask], headers: dict[str, str], status: int
) -> None:
    app = make_app(AUTH_PROVIDERS=offline_providers("x"), DEV_IDP=False)
    client = app.test_client()
    post_id = essay_id(client.get(ESSAY).text)
    response = client.post(
        "/auth/start",
        data={"provider": "x", "next": ESSAY, "post_id": str(post_id), "comment": "draft"},
        headers=headers,
    )
    assert response.status_code == status
    with app.app_context():
        drafts = db.session.scalar(select(func.count()).select_from(CommentDraft))
    if status == 403:
        assert drafts == 0
        assert "Set-Cookie" not in response.headers
    else:
        assert drafts == 1
        assert response.headers["Location"].startswith(OFFLINE_IDP + "/x/i/oauth2/authorize?")


# --- the logged-in page ----------------------------------------------------------------------


def test_logged_in_page_is_private_and_every_form_has_a_token(site: OAuthSite) -> None:
    http, page = logged_in(site, "x", "zoe")
    html = page.text
    assert "You are commenting using your X (Twitter) account." in html
    change = re.search(
        r'Log Out</button>\s*/\s*<a href="(/account/change\?next=[^"]+)">Change</a>', html
    )
    assert change and change.group(1).endswith("%23respond")
    assert "Post Comment" in html
    assert page.headers["Cache-Control"] == "private, no-store"
    parsed = parse(html)
    assert parsed.textarea_ids[0] in parsed.label_fors
    new_comment_id(post_comment(site, http, "So that delete forms show up too"))
    parsed = parse(http.get(site.url + ESSAY).text)
    post_forms = [f for f in parsed.forms if f.attrs.get("method") == "post"]
    assert {f.attrs["action"] for f in post_forms} >= {"/comments/", "/auth/logout"}
    assert any(f.attrs["action"].endswith("/delete") for f in post_forms)
    for form in post_forms:
        assert "csrf_token" in form.names(), form.attrs
    account = http.get(site.url + "/account/")
    for form in parse(account.text).forms:
        if form.attrs.get("method") == "post":
            assert "csrf_token" in form.names(), form.attrs
    assert account.headers["Cache-Control"] == "private, no-store"
    download = http.get(site.url + "/account/data.json")
    assert download.headers["Cache-Control"] == "private, no-store"


# --- threads ---------------------------------------------------------------------------------


@pytest.fixture
def blog(essay: Path, make_app: Callable[..., Flask]) -> Flask:
    """The blog with the essay, for readers logged in through the test client: the tests below
    are about comments, not logins (those are the dances over HTTP in the auth tests)."""
    return make_app()


def test_threads_permalinks_depth_limit_and_counts(blog: Flask) -> None:
    alice = log_in(blog, "alice")
    chain = [comment_id(alice.post("Level 1"))]
    for level in range(2, 6):
        chain.append(comment_id(alice.post(f"Level {level}", parent_id=chain[-1])))
    html = alice.page()
    assert comment_ids(html) == chain
    for depth, cid in enumerate(chain):
        article = comment_html(html, cid)
        assert f'class="comment depth-{depth + 1}' in article
        assert f'href="#comment-{cid}"' in article
        has_reply = f"?replytocom={cid}#respond" in article
        assert has_reply is (depth < 4), depth  # no reply link at the deepest level
    assert "5 Comments" in html
    # A reply below the limit is refused with a clear message and the text kept.
    too_deep = alice.post("Level 6, too deep", parent_id=chain[-1])
    assert too_deep.status_code == 400
    assert "This thread is as deep as it goes; reply further up." in too_deep.text
    assert textarea(too_deep.text) == "Level 6, too deep"
    # ?replytocom prepares a reply in the form (no JavaScript needed).
    reply_form = alice.page(f"{ESSAY}?replytocom={chain[0]}")
    assert form_data(reply_form, "/comments/")["parent_id"] == str(chain[0])
    # The home page counts the comments too.
    home = blog.test_client().get("/").text
    assert re.search(r'href="' + re.escape(ESSAY) + r'#comments">5 Comments', home)


def test_reply_to_a_comment_on_another_post_is_refused(
    essay: Path, write_post: Callable[..., Path], make_app: Callable[..., Flask]
) -> None:
    write_post("second-post", title="Second post", date="2020-02-02 10:00")
    site_gen = serve_site(make_app)
    site = next(site_gen)
    try:
        http, _page = logged_in(site, "facebook", "carol")
        parent = new_comment_id(post_comment(site, http, "On the essay"))
        second = "/2020/02/02/second-post/"
        response = post_comment(site, http, "Cross-post reply", parent, path=second)
        assert response.status_code == 400
        assert "The comment you are replying to is not on this post." in response.text
        assert textarea(response.text) == "Cross-post reply"
        missing = post_comment(site, http, "Reply to nothing", 999999)
        assert missing.status_code == 400
        assert comment_ids(http.get(site.url + second).text) == []
    finally:
        list(site_gen)


# --- avatars and the Author badge ------------------------------------------------------------


@pytest.fixture
def author_site(essay: Path, make_app: Callable[..., Flask]) -> Iterator[OAuthSite]:
    moderators = frozenset({("google", identity("author").subject("google"))})
    yield from serve_site(make_app, MODERATORS=moderators)


def test_avatars_are_served_by_the_blog_and_the_author_has_a_badge(author_site: OAuthSite) -> None:
    site = author_site
    author, _page = logged_in(site, "google", "author")
    by_author = new_comment_id(post_comment(site, author, "Thanks for reading"))
    alice, _page = logged_in(site, "google", "alice")
    by_alice = new_comment_id(post_comment(site, alice, "Great post"))
    author_via_x, _page = logged_in(site, "x", "author")  # another provider: another user
    by_x = new_comment_id(post_comment(site, author_via_x, "Same person, other login"))
    html = requests.get(site.url + ESSAY).text
    assert 'class="author-badge">Author<' in comment_html(html, by_author)
    assert "author-badge" not in comment_html(html, by_alice)
    assert "author-badge" not in comment_html(html, by_x)
    with site.app.app_context():
        users = {u.display_name + str(u.id): u.id for u in db.session.scalars(select(User))}
        avatar = db.session.scalar(select(Avatar).where(Avatar.user_id == min(users.values())))
        assert avatar is not None and avatar.content_type == "image/png"
        user_id, digest = avatar.user_id, avatar.digest
    src = f'src="/avatars/{user_id}.png?v={digest}"'
    assert src in comment_html(html, by_author)
    assert site.idp_url not in html  # never hot-linked from the provider
    picture = requests.get(f"{site.url}/avatars/{user_id}.png")
    assert picture.status_code == 200
    assert picture.headers["Content-Type"] == "image/png"
    assert picture.content.startswith(b"\x89PNG\r\n\x1a\n")
    assert (
        requests.get(
            f"{site.url}/avatars/{user_id}.png", headers={"If-None-Match": picture.headers["ETag"]}
        ).status_code
        == 304
    )
    # Without a stored picture the generated one is used.
    with site.app.app_context():
        db.session.delete(db.session.get(Avatar, user_id))
        db.session.commit()
    html = requests.get(site.url + ESSAY).text
    assert f'src="/avatars/{user_id}.svg"' in comment_html(html, by_author)
    assert requests.get(f"{site.url}/avatars/{user_id}.png").status_code == 404
    fallback = requests.get(f"{site.url}/avatars/{user_id}.svg")
    assert fallback.status_code == 200
    assert fallback.headers["Content-Type"].startswith("image/svg+xml")
    assert ">T</text>" in fallback.text  # "The Author"


# --- markup ----------------------------------------------------------------------------------


MARKDOWN = """Some *emphasis*, **strong** and `code`.
A second line.

> A quote

- one
- two

1. first
2. second

```
preformatted <b>
```

[a link](https://example.com/page) and <https://example.org/> and [mail](mailto:me@example.com)

# Not a heading ![no image](https://example.com/x.png) <div onclick="x()">raw</div>"""


def test_markdown_subset_is_rendered_and_sanitised(blog: Flask) -> None:
    reader = log_in(blog)
    cid = comment_id(reader.post(MARKDOWN))
    article = comment_html(reader.page(), cid)
    content = article[article.index('<div class="comment-content">') :]
    for fragment in (
        "<em>emphasis</em>",
        "<strong>strong</strong>",
        "<code>code</code>",
        "<br>",
        "<blockquote>",
        "<ul>",
        "<ol>",
        "<li>one</li>",
        "<pre><code>",
        "preformatted &lt;b&gt;",
    ):
        assert fragment in content, fragment
    rel = 'rel="nofollow ugc noopener noreferrer"'
    assert f'<a href="https://example.com/page" {rel}>a link</a>' in content
    assert f'<a href="https://example.org/" {rel}>' in content
    assert f'<a href="mailto:me@example.com" {rel}>mail</a>' in content
    for banned in ("<h1", "<img", "<div onclick", "onclick"):
        assert banned not in content, banned


def test_length_limit_has_a_clear_message(blog: Flask) -> None:
    response = log_in(blog).post("x" * 5001)
    assert response.status_code == 400
    assert "Your comment is 5,001 characters long; the limit is 5,000. Please shorten it." in (
        response.text
    )
    assert textarea(response.text) == "x" * 5001


# --- edit and delete -------------------------------------------------------------------------


def test_edit_within_fifteen_minutes_only(blog: Flask, clock: FrozenClock) -> None:
    zoe = log_in(blog, "zoe", provider="facebook")
    cid = comment_id(zoe.post("First version"))
    edit = f"/comments/{cid}/edit"
    clock.advance(minutes=14)
    form = zoe.client.get(edit)
    assert form.status_code == 200 and textarea(form.text) == "First version"
    data = form_data(form.text, edit)
    edited = zoe.client.post(
        edit, data={**data, "comment": "Second version"}, follow_redirects=True
    )
    assert edited.status_code == 200
    article = comment_html(edited.text, cid)
    assert "Second version" in article and "(edited)" in article
    assert edit in article
    # An edit that breaks a rule comes back with the text intact.
    empty = zoe.client.post(edit, data={**data, "comment": " "})
    assert empty.status_code == 400 and "Your comment is empty" in empty.text
    clock.advance(minutes=2)  # 16 minutes after posting
    assert edit not in comment_html(zoe.page(), cid)
    assert zoe.client.get(edit).status_code == 403
    late = zoe.client.post(edit, data={**data, "comment": "Third version"})
    assert late.status_code == 403
    assert "Comments can be edited for 15 minutes after posting." in late.text
    assert "Third version" not in zoe.page()
    # Deleting still works, any time.
    clock.advance(days=30)
    delete = {**form_data(zoe.page(), f"/comments/{cid}/delete"), "confirm": "yes"}
    deleted = zoe.client.post(f"/comments/{cid}/delete", data=delete, follow_redirects=True)
    assert deleted.status_code == 200
    assert comment_ids(zoe.page()) == []


def test_delete_leaves_a_placeholder_only_where_there_are_replies(blog: Flask) -> None:
    alice = log_in(blog, "alice")
    bob = log_in(blog, "bob", "Bob", provider="x")
    parent = comment_id(alice.post("Parent by Alice"))
    reply = comment_id(bob.post("Reply by Bob", parent_id=parent))
    lonely = comment_id(alice.post("Nobody answers this"))
    # Bob cannot edit or delete Alice's comment.
    page = bob.page()
    token = form_data(page, "/comments/")["csrf_token"]
    refused = bob.client.post(f"/comments/{parent}/delete", data={"csrf_token": token})
    assert refused.status_code == 404
    assert bob.client.get(f"/comments/{parent}/edit").status_code == 404
    assert f"/comments/{parent}/delete" not in comment_html(page, parent)
    page = alice.page()
    for cid in (parent, lonely):
        data = {**form_data(page, f"/comments/{cid}/delete"), "confirm": "yes"}
        gone = alice.client.post(f"/comments/{cid}/delete", data=data)
        assert gone.status_code == 303 and gone.headers["Location"] == ESSAY + "#comments"
    anonymous = blog.test_client()
    html = anonymous.get(ESSAY).text
    assert comment_ids(html) == [parent, reply]
    placeholder = comment_html(html, parent)
    assert "This comment was deleted." in placeholder
    assert "Parent by Alice" not in html and "Nobody answers this" not in html
    assert "Reply by Bob" in comment_html(html, reply)
    assert "1 Comment" in html
    # Deleting the reply too removes the whole thread.
    removed = bob.client.post(
        f"/comments/{reply}/delete",
        data={**form_data(bob.page(), f"/comments/{reply}/delete"), "confirm": "yes"},
    )
    assert removed.status_code == 303
    assert comment_ids(anonymous.get(ESSAY).text) == []


def test_a_placeholder_keeps_nothing_of_its_writer(blog: Flask, clock: FrozenClock) -> None:
    alice = log_in(blog, "alice", "Alice Writer")
    bob = log_in(blog, "bob", "Bob", provider="x")
    parent = comment_id(alice.post("Parent by Alice"))
    reply = comment_id(bob.post("Reply by Bob", parent_id=parent))
    data = {**form_data(alice.page(), f"/comments/{parent}/delete"), "confirm": "yes"}
    assert alice.client.post(f"/comments/{parent}/delete", data=data).status_code == 303
    for page in (blog.test_client().get(ESSAY).text, alice.page(), bob.page()):
        placeholder = comment_html(page, parent)
        assert "This comment was deleted." in placeholder
        assert "Alice" not in placeholder, placeholder
        assert f"/avatars/{alice.user_id}." not in placeholder
        assert "Reply by Bob" in comment_html(page, reply)
    # The row keeps the text while the writer may undo; once that ends, the next write empties it.
    with blog.app_context():
        row = db.session.get(Comment, parent)
        assert row is not None and row.body == "Parent by Alice"
    clock.advance(minutes=UNDO_MINUTES, seconds=1)
    comment_id(bob.post("A later comment, by which the undo window has closed"))
    with blog.app_context():
        row = db.session.get(Comment, parent)
        assert row is not None
        assert (row.author_name, row.provider, row.ip_hash, row.body) == ("", None, None, "")
