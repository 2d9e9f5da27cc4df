"""The "Notify me" boxes: double opt-in, confirmation pages, RFC 8058 one-click unsubscribe."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
import requests
from flask import Flask
from flask.testing import FlaskClient

from blog.clock import FrozenClock
from blog.mail.sender import send_due
from blog.models import SubscriptionKind
from tests.support.auth_helpers import form_data, logged_in, parse, serve_site
from tests.support.moderation_helpers import page_csrf
from tests.support.oauth_site import OAuthSite
from tests.support.smtp_server import (
    AUTHOR,
    ESSAY,
    Received,
    SMTPServer,
    comment,
    header_url,
    login,
    make_user,
    outbox,
    path_of,
    subscriptions,
)

CONFIRM_LINK = re.compile(r"https?://\S+/mail/confirm/\S+")


def reader(app: Flask, name: str, email: str | None, verified: bool) -> FlaskClient:
    client = app.test_client()
    login(client, make_user(app, name, email, verified))
    return client


def confirm_link(received: Received) -> str:
    match = CONFIRM_LINK.search(received.body)
    assert match, received.body
    return match.group(0)


def comment_over_http(site: OAuthSite, http: requests.Session, body: str, **boxes: str) -> str:
    """Submit the logged-in form as a browser would (ticked boxes added); returns the page."""
    page = http.get(site.url + ESSAY)
    data = form_data(page.text, "/comments/")
    data.update(comment=body, **boxes)
    response = http.post(site.url + "/comments/", data=data)
    assert response.status_code == 200, response.text[:500]
    return response.text


# --- end to end over real HTTP ---------------------------------------------------------------


@pytest.mark.sqlite_only
def test_notify_me_end_to_end_with_double_opt_in_and_one_click_unsubscribe(
    essay: Path, make_app: Callable[..., Flask], smtp: SMTPServer
) -> None:
    site_iter = serve_site(make_app, **smtp.config(), AUTHOR_EMAIL=AUTHOR)
    site = next(site_iter)
    try:
        # Alice's provider verified her address: both boxes, no address field, subscribed now.
        alice, page = logged_in(site, identity="alice")
        form = next(f for f in parse(page.text).forms if f.attrs.get("action") == "/comments/")
        assert {"subscribe_thread", "subscribe_posts"} <= form.names()
        assert "subscribe_email" not in form.names()
        assert "Notify me of new comments via email" in page.text
        assert "Notify me of new posts via email" in page.text
        comment_over_http(site, alice, "Count me in.", subscribe_thread="1", subscribe_posts="1")
        assert {(s.kind, s.email, s.confirmed_at is not None) for s in subscriptions(site.app)} == {
            (SubscriptionKind.THREAD, "alice@example.com", True),
            (SubscriptionKind.POSTS, "alice@example.com", True),
        }

        # Google gave no verified address for Bob: he types one, and a confirmation goes out.
        bob, page = logged_in(site, identity="bob")
        assert 'name="subscribe_email" value=""' in page.text
        landed = comment_over_http(site, bob, "Me too.", subscribe_thread="1",
                                   subscribe_email="bob@example.com")  # fmt: skip
        assert "Please confirm your email address: we sent a link to bob@example.com." in landed

        zoe, _ = logged_in(site, identity="zoe")
        comment_over_http(site, zoe, "First reply from Zoë.")
        send_due(site.app)
        (confirmation,) = smtp.to("bob@example.com")  # nothing else until he confirms
        assert confirmation.subject == "[True Connections] Please confirm your subscription"
        to_alice = smtp.to("alice@example.com")
        assert ["Me too." in m.body for m in to_alice] == [True, False]
        assert "First reply from Zoë." in to_alice[1].body

        # The link from the mail: GET (as a scanner would) changes nothing, the button confirms.
        stranger = requests.Session()
        link = confirm_link(confirmation)
        shown = stranger.get(link, allow_redirects=False)
        assert shown.status_code == 200 and "Confirm subscription</button>" in shown.text
        assert not any(s.confirmed_at for s in subscriptions(site.app) if s.email.startswith("bob"))
        assert stranger.post(link, allow_redirects=False).status_code == 400  # no CSRF token
        done = stranger.post(
            link, data={"csrf_token": page_csrf(shown.text)}, allow_redirects=False
        )
        assert done.status_code == 200 and "Subscription confirmed" in done.text
        assert all(s.confirmed_at for s in subscriptions(site.app) if s.email.startswith("bob"))

        comment_over_http(site, zoe, "Second reply from Zoë.")
        send_due(site.app)
        latest = smtp.to("alice@example.com")[-1]
        assert "Second reply from Zoë." in smtp.to("bob@example.com")[-1].body
        assert "Second reply from Zoë." in latest.body

        # RFC 8058: the mail provider POSTs the header's URL, with no cookie and no token.
        url = header_url(latest)
        one_click = requests.post(url, data={"List-Unsubscribe": "One-Click"},
                                  allow_redirects=False)  # fmt: skip
        assert one_click.status_code == 200
        assert "Location" not in one_click.headers and "Set-Cookie" not in one_click.headers
        assert "Unsubscribed" in one_click.text
        again = requests.get(url, allow_redirects=False)
        assert again.status_code == 200 and "already unsubscribed" in again.text

        comment_over_http(site, zoe, "Third reply from Zoë.")
        send_due(site.app)
        assert "Third reply from Zoë." in smtp.to("bob@example.com")[-1].body
        assert "Third reply from Zoë." not in smtp.to("alice@example.com")[-1].body
    finally:
        next(site_iter, None)


# --- the pages behind the links --------------------------------------------------------------


def test_unsubscribe_get_shows_a_button_and_post_answers_200(
    mail_app: Flask, smtp: SMTPServer
) -> None:
    alice = reader(mail_app, "Alice", "alice@example.com", verified=True)
    comment(alice, "Subscribe me.", subscribe_thread="1")
    comment(reader(mail_app, "Zoë", "zoe@example.com", True), "Hello Alice.")
    send_due(mail_app)
    path = path_of(header_url(smtp.to("alice@example.com")[0]))
    anonymous = mail_app.test_client()

    page = anonymous.get(path)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Unsubscribe</button>" in html and f'action="{path}"' in html
    assert page.headers["Cache-Control"] == "private, no-store"
    assert subscriptions(mail_app)[0].unsubscribed_at is None  # a GET changes nothing

    # No session cookie, no CSRF token: the signed URL is enough, and the answer is 200.
    done = anonymous.post(path, data={"List-Unsubscribe": "One-Click"})
    assert done.status_code == 200 and "Location" not in done.headers
    assert "Set-Cookie" not in done.headers
    assert subscriptions(mail_app)[0].unsubscribed_at is not None
    assert anonymous.post(path, data={"List-Unsubscribe": "One-Click"}).status_code == 200


@pytest.mark.sqlite_only
def test_bad_or_forged_tokens_get_400_or_404_never_500(mail_app: Flask, smtp: SMTPServer) -> None:
    bob = reader(mail_app, "Bob", "bob@example.com", verified=False)
    comment(bob, "Subscribe me.", subscribe_thread="1")
    send_due(mail_app)
    confirm_path = path_of(confirm_link(smtp.to("bob@example.com")[0]))
    token = confirm_path.rsplit("/", 1)[1]
    client = mail_app.test_client()
    forged = token[:-3] + ("AAA" if not token.endswith("AAA") else "BBB")
    cases = {
        f"/mail/confirm/{forged}": 400,
        "/mail/confirm/not-a-token": 400,
        f"/mail/unsubscribe/{token}": 400,  # a confirm token is no unsubscribe token
        "/mail/unsubscribe/eyJzIjoxLCJoIjoieCJ9.bogus": 400,
    }
    for path, status in cases.items():
        for method in (client.get, client.post):
            assert method(path).status_code == status, path
    # Well signed, but for a subscription that does not exist.
    with mail_app.test_request_context():
        from blog.mail import tokens
        from blog.models import Subscription

        ghost = tokens.unsubscribe_token(Subscription(id=999, email="ghost@example.net"))
    assert client.get(f"/mail/unsubscribe/{ghost}").status_code == 404
    assert client.post(f"/mail/unsubscribe/{ghost}").status_code == 404
    assert all(s.confirmed_at is None for s in subscriptions(mail_app))


def test_confirmation_get_changes_nothing_post_confirms_and_links_expire(
    mail_app: Flask, smtp: SMTPServer, clock: FrozenClock
) -> None:
    bob = reader(mail_app, "Bob", "bob@example.com", verified=False)
    comment(bob, "Subscribe me.", subscribe_posts="1")
    comment(bob, "And this thread.", subscribe_thread="1")
    send_due(mail_app)
    first, second = (path_of(confirm_link(m)) for m in smtp.to("bob@example.com"))
    client = mail_app.test_client()
    page = client.get(first)
    assert page.status_code == 200 and "new posts on True Connections" in page.get_data(True)
    assert all(s.confirmed_at is None for s in subscriptions(mail_app))
    assert (
        client.post(first, data={"csrf_token": page_csrf(page.get_data(True))}).status_code == 200
    )
    posts, thread = subscriptions(mail_app)
    assert posts.confirmed_at is not None and thread.confirmed_at is None

    clock.advance(days=8)
    expired = client.post(second, data={"csrf_token": page_csrf(page.get_data(True))})
    assert expired.status_code == 400 and "expired" in expired.get_data(as_text=True)
    assert subscriptions(mail_app)[1].confirmed_at is None


@pytest.mark.sqlite_only
def test_no_address_means_no_subscription_and_a_typed_one_needs_confirming(
    mail_app: Flask, smtp: SMTPServer
) -> None:
    carol = reader(mail_app, "Carol", None, verified=False)
    page = carol.get(ESSAY).get_data(as_text=True)
    assert 'name="subscribe_email" value=""' in page
    comment(carol, "Notify me, please.", subscribe_thread="1")
    assert subscriptions(mail_app) == []
    assert "give a valid email address" in carol.get(ESSAY).get_data(as_text=True)

    comment(carol, "With an address this time.", subscribe_thread="1",
            subscribe_email="Carol@Example.ORG")  # fmt: skip
    (sub,) = subscriptions(mail_app)
    assert sub.email == "Carol@example.org" and sub.confirmed_at is None
    send_due(mail_app)
    assert [m.subject for m in smtp.to("Carol@example.org")] == [
        "[True Connections] Please confirm your subscription"
    ]


@pytest.mark.sqlite_only
def test_confirmation_mails_are_capped_and_an_unsubscribe_beats_a_late_confirm(
    mail_app: Flask, smtp: SMTPServer
) -> None:
    mallory = reader(mail_app, "Mallory", None, verified=False)
    for n in range(5):  # someone keeps typing a victim's address
        comment(mallory, f"Comment {n}.", subscribe_thread="1", subscribe_email="v@example.net")
    confirmations = [m for m in outbox(mail_app) if m.to_address == "v@example.net"]
    assert len(confirmations) == 3

    send_due(mail_app)
    link = path_of(confirm_link(smtp.to("v@example.net")[0]))
    client = mail_app.test_client()
    with mail_app.test_request_context():
        from blog.mail.subscriptions import unsubscribe_url

        (sub,) = subscriptions(mail_app)
        unsubscribe = path_of(unsubscribe_url(sub))
    token = page_csrf(client.get(link).get_data(as_text=True))
    assert client.post(unsubscribe).status_code == 200
    done = client.post(link, data={"csrf_token": token})
    assert done.status_code == 200 and "nothing was changed" in done.get_data(as_text=True)
    assert subscriptions(mail_app)[0].confirmed_at is None


@pytest.mark.sqlite_only
def test_coming_back_after_unsubscribing(
    essay: Path, make_app: Callable[..., Flask], clock: FrozenClock
) -> None:
    mail_app = make_app()
    alice = reader(mail_app, "Alice", "alice@example.com", verified=True)
    comment(alice, "Subscribe.", subscribe_posts="1")
    with mail_app.test_request_context():
        from blog.mail.subscriptions import unsubscribe_url

        path = path_of(unsubscribe_url(subscriptions(mail_app)[0]))
    mail_app.test_client().post(path)
    clock.advance(minutes=1)
    comment(alice, "Subscribe again.", subscribe_posts="1")
    (sub,) = subscriptions(mail_app)  # the same row, revived
    assert sub.unsubscribed_at is None and sub.confirmed_at is not None
    assert timedelta(0) < sub.confirmed_at - sub.created_at


@pytest.mark.sqlite_only
def test_without_a_site_url_mail_links_never_come_from_the_requests_host(
    essay: Path, make_app: Callable[..., Flask], smtp: SMTPServer
) -> None:
    app = make_app(**smtp.config(), AUTHOR_EMAIL=AUTHOR, SITE_URL="", PROXY_HOPS=1)
    carol = reader(app, "Carol", None, verified=False)
    # An attacker's Host (or a forwarded one) must not choose where a confirmation link points.
    carol.environ_base.update(HTTP_HOST="attacker.example", HTTP_X_FORWARDED_HOST="evil.example")
    comment(carol, "Notify me.", subscribe_thread="1", subscribe_email="victim@example.org")
    send_due(app)
    (confirmation,) = smtp.to("victim@example.org")
    assert confirm_link(confirmation).startswith("http://127.0.0.1:5000/mail/confirm/")
    for mail in smtp.messages:  # the author's notice too
        raw = mail.message.as_bytes()
        assert b"attacker.example" not in raw and b"evil.example" not in raw
