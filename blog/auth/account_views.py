"""The reader's account page: linked providers, link another, download data, delete."""

from __future__ import annotations

import json

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_login import logout_user

from blog.auth import own_notes, personal_data, subscription_choices
from blog.auth.drafts import discard_draft
from blog.auth.providers import enabled_providers, provider_label
from blog.auth.session import pop_notice, safe_next, set_notice, viewer
from blog.auth.views import LINK_KEY, begin_login
from blog.clock import utcnow
from blog.database import write_transaction
from blog.models import User
from blog.web.formdata import parse_int

bp = Blueprint("account", __name__, url_prefix="/account")


@bp.after_request
def personal(response: Response) -> Response:
    """Everything here is about one reader: never stored by a shared cache or the browser."""
    response.headers["Cache-Control"] = "private, no-store"
    response.vary.add("Cookie")
    return response


def _user() -> User:
    user = viewer()
    if user is None:
        abort(401, "Log in from a post's comment form to see your account.")
    return user


@bp.get("/")
def home() -> ResponseReturnValue:
    """Linked providers and what the reader can do with their data."""
    user = _user()
    linked = {i.provider for i in user.identities}
    available = [
        (name, provider_label(name))
        for name in enabled_providers(current_app.config)
        if name not in linked
    ]
    return render_template(
        "account/home.html",
        user=user,
        identities=[(i, provider_label(i.provider)) for i in user.identities],
        available=available,
        imported=personal_data.imported_comments(user.id),
        notice=pop_notice(),
        notes=own_notes.notes_of(user),
    )


@bp.get("/change")
def change() -> ResponseReturnValue:
    """The comment box's Change: log in as another account, or link another login to this one."""
    user = _user()
    providers = [(name, provider_label(name)) for name in enabled_providers(current_app.config)]
    linked = {i.provider for i in user.identities}
    return render_template(
        "account/change.html",
        user=user,
        providers=providers,
        dev_providers=any(
            current_app.config["AUTH_PROVIDERS"][name].get("dev") for name, _ in providers
        ),
        linkable=[(name, label) for name, label in providers if name not in linked],
        next_path=safe_next(request.args.get("next")),
    )


@bp.post("/link")
def link() -> ResponseReturnValue:
    """Start linking another provider to the logged-in user (never by matching email)."""
    user = _user()
    name = request.form.get("provider", "")
    if name not in enabled_providers(current_app.config):
        abort(400, "Unknown login method.")
    session[LINK_KEY] = user.id
    return begin_login(name, url_for("account.home"), anchor="")


@bp.get("/data.json")
def download() -> ResponseReturnValue:
    """Everything the blog holds about the reader, as a JSON download."""
    user = _user()
    body = json.dumps(personal_data.export_data(user), indent=2, ensure_ascii=False)
    return Response(
        body,
        mimetype="application/json",
        headers={"Content-Disposition": 'attachment; filename="my-comments-data.json"'},
    )


@bp.post("/delete")
def delete() -> ResponseReturnValue:
    """Delete the account: everything about the reader gone, comments anonymised, sessions ended."""
    user = _user()
    if request.form.get("confirm") != "delete":
        abort(400, "Tick the box to confirm that you want to delete your account.")
    personal_data.delete_account(user.id, utcnow())
    discard_draft()  # a draft saved before logging in is this reader's too
    logout_user()
    session.clear()
    return redirect(url_for("reader.home"), 303)


@bp.get("/subscriptions/")
def subscriptions() -> ResponseReturnValue:
    """The reader's subscriptions (threads, new posts, replies), each with its switch."""
    user = _user()
    return render_template(
        "account/subscriptions.html",
        user=user,
        choices=subscription_choices.reader_subscriptions(user),
        replies_made=subscription_choices.replies_subscription(user) is not None,
        verified=subscription_choices.verified_address(user),
        notice=pop_notice(),
    )


@bp.post("/subscriptions/")
def change_subscription() -> ResponseReturnValue:
    """Stop or resume one subscription, or turn reply mail on; back to the list."""
    user = _user()
    now = utcnow()
    active = request.form.get("active") == "1"
    if request.form.get("replies") == "1":
        with write_transaction():
            done = subscription_choices.set_replies(user, True, now)
    else:
        sub_id = parse_int(request.form.get("subscription"))
        done = sub_id is not None and subscription_choices.change(user, sub_id, active, now)
    set_notice("Saved." if done else "That subscription cannot be changed from here.")
    return redirect(url_for("account.subscriptions"), 303)


@bp.post("/notes/<int:note_id>/delete")
def delete_note(note_id: int) -> ResponseReturnValue:
    """Delete one of the reader's private notes; back to the account page."""
    user = _user()
    done = own_notes.delete_own(user, note_id)
    set_notice("Note deleted." if done else "That note is not yours, or is gone already.")
    return redirect(url_for("account.home") + "#notes", 303)
