"""`flask blog ...`: commands for authors and operators."""

from __future__ import annotations

import secrets
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import click
from flask import current_app
from flask.cli import AppGroup, ScriptInfo, run_command
from sqlalchemy import select

from blog.backup import BackupError, backup, restore
from blog.cache import clear_page_cache
from blog.clock import utcnow
from blog.content.frontmatter import slugify
from blog.extensions import db, init_migrations
from blog.importers.cli import export_group, import_group
from blog.mail.worker import run_worker
from blog.models import Post, PostLayout, PostStatus
from blog.moderation import moderators as mods
from blog.publishing.hooks import run_sync, schema_ready
from blog.publishing.sync import check_posts, post_files

blog_cli = AppGroup("blog", help="Write, check and publish posts.")
blog_cli.add_command(import_group)
blog_cli.add_command(export_group)


def building_for_a_command() -> bool:
    """True while `flask` builds the app to run a command on it, not to serve it (`flask run`)."""
    # `flask` loads the app inside a click context: the group's, to find an app command, or
    # a built-in command's own (`run`, `shell`, `routes`). Servers such as gunicorn have none.
    context = click.get_current_context(silent=True)
    return context is not None and context.command is not run_command


class MigrationCommands(click.Command):
    """`flask db ...`: Flask-Migrate's command group, imported and bound to the app when run."""

    def make_context(
        self,
        info_name: str | None,
        args: list[str],
        parent: click.Context | None = None,
        **extra: Any,
    ) -> click.Context:
        """The context of Flask-Migrate's own group, which then parses and runs the command."""
        from flask_migrate.cli import db as commands  # Alembic loads only for `flask db`

        if parent is not None:
            init_migrations(parent.ensure_object(ScriptInfo).load_app())
        return commands.make_context(info_name, args, parent=parent, **extra)


db_cli = MigrationCommands("db", help="Perform database migrations (Flask-Migrate).")


@blog_cli.command("new")
@click.argument("title")
def new_post(title: str) -> None:
    """Write a new post file with front matter and today's date; print its path."""
    posts_dir = current_app.config["POSTS_DIR"]
    posts_dir.mkdir(parents=True, exist_ok=True)
    now = utcnow().astimezone(ZoneInfo(current_app.config["TIMEZONE"]))
    slug = slugify(title) or "post"
    path = posts_dir / f"{slug}.md"
    counter = 2
    while path.exists():
        path = posts_dir / f"{slug}-{counter}.md"
        counter += 1
    quoted = '"' + title.replace("\\", "\\\\").replace('"', '\\"') + '"'
    path.write_text(
        "---\n"
        f"title: {quoted}\n"
        f"date: {now:%Y-%m-%d %H:%M}\n"
        f"id: {now:%Y%m%d}-{secrets.token_hex(4)}\n"
        f"slug: {path.stem}\n"
        "categories: []\n"
        "tags: []\n"
        "draft: true\n"
        "---\n\n"
        "Write the opening paragraph here. It becomes the excerpt.\n\n<!--more-->\n",
        encoding="utf-8",
    )
    click.echo(str(path))


@blog_cli.command("check")
def check() -> None:
    """List every problem in posts/; exit non-zero when there is one."""
    posts_dir = current_app.config["POSTS_DIR"]
    _sources, problems = check_posts(posts_dir, ZoneInfo(current_app.config["TIMEZONE"]))
    for problem in problems:
        click.echo(str(problem), err=True)
    # Count files, not the posts that parsed: a broken file was checked too.
    checked = _counted(len(post_files(posts_dir)), "post")
    click.echo(f"{checked} checked, {_counted(len(problems), 'problem')}")
    if problems:
        sys.exit(1)


@blog_cli.command("sync")
def sync() -> None:
    """Sync posts/ into the database (only changed files are re-rendered)."""
    if not schema_ready():
        raise click.ClickException("the database has no schema: run `flask db upgrade` first")
    report = run_sync()
    for problem in report.problems:
        click.echo(f"skipped: {problem}", err=True)
    click.echo(
        f"{len(report.added)} added, {len(report.updated)} updated, "
        f"{len(report.removed)} removed, {report.unchanged} unchanged, "
        f"{_counted(len(report.problems), 'problem')}"
    )


def _counted(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


@blog_cli.command("list")
def list_posts() -> None:
    """Each post with its status: published, draft, scheduled or removed."""
    now = utcnow()
    for post in db.session.scalars(select(Post).order_by(Post.published_at.desc())):
        status = post.status.value
        if post.status is PostStatus.PUBLISHED and post.published_at > now:
            status = "scheduled"
        kind = "page" if post.layout is PostLayout.PAGE else "post"
        click.echo(f"{status:<10} {kind:<4} {post.local_date}  {post.path}  {post.title}")


@blog_cli.command("send-mail")
@click.option("--once", is_flag=True, help="Send what is due now, then exit.")
@click.option("--interval", default=10.0, show_default=True, help="Seconds between polls.")
def send_mail(once: bool, interval: float) -> None:
    """Send queued mail (with retries) and announce new posts; polls until stopped."""
    if not schema_ready():
        raise click.ClickException("the database has no schema: run `flask db upgrade` first")
    counts = run_worker(current_app._get_current_object(), once, interval)  # type: ignore[attr-defined]
    if counts is not None:
        click.echo(f"{counts.sent} sent, {counts.retried} to retry, {counts.failed} failed")


@blog_cli.command("backup")
@click.argument("target", type=click.Path(dir_okay=False, path_type=Path))
def backup_command(target: Path) -> None:
    """Write an online backup of the database to TARGET (safe while the blog runs)."""
    try:
        backup(current_app.config["SQLALCHEMY_DATABASE_URI"], target)
    except BackupError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"backup written to {target}")


@blog_cli.command("restore")
@click.argument("source", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def restore_command(source: Path, yes: bool) -> None:
    """Replace the database with the backup in SOURCE (stop the app servers first)."""
    if not yes:
        click.confirm(
            "This replaces every post, comment and user in the database. Go on?", abort=True
        )
    db.engine.dispose()
    try:
        restore(current_app.config["SQLALCHEMY_DATABASE_URI"], source)
    except BackupError as exc:
        raise click.ClickException(str(exc)) from exc
    # Cached pages (in process, in Redis) show the old database.
    clear_page_cache()
    click.echo(f"restored from {source}")


@blog_cli.command("cache-clear")
def cache_clear() -> None:
    """Forget every cached page: in this process and in Redis."""
    clear_page_cache()
    click.echo("page cache cleared")


@blog_cli.group("admin")
def admin() -> None:
    """Moderators: list them, add one, remove one (BLOG_MODERATORS plus the database's)."""


def _moderator_arguments(command: Callable[..., None]) -> Callable[..., None]:
    command = click.option(
        "--email", "email", metavar="ADDRESS", help="A verified email (Google, X or Facebook)."
    )(command)
    return click.argument("moderator", required=False, metavar="[PROVIDER:SUBJECT]")(command)


@admin.command("add")
@_moderator_arguments
def admin_add(moderator: str | None, email: str | None) -> None:
    """Make PROVIDER:SUBJECT (e.g. google:1234567890), or --email ADDRESS, a moderator."""
    try:
        added = mods.add_moderator(*mods.parse_target(moderator, email), utcnow())
    except mods.ModeratorError as exc:
        raise click.ClickException(str(exc)) from exc
    names = mods.known_users([added]).get((added.kind, added.ident))
    who = f" ({', '.join(names)})" if names else " (takes effect when they log in)"
    click.echo(f"added moderator {added.label}{who}")


@admin.command("remove")
@_moderator_arguments
def admin_remove(moderator: str | None, email: str | None) -> None:
    """Remove a moderator that `admin add` added (configured ones live in BLOG_MODERATORS)."""
    try:
        kind, ident = mods.parse_target(moderator, email)
        removed = mods.remove_moderator(kind, ident)
    except mods.ModeratorError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"removed moderator {removed.label}")
    if mods.still_configured(kind, ident):
        click.echo(f"{removed.label} is still a moderator through BLOG_MODERATORS", err=True)


@admin.command("list")
def admin_list() -> None:
    """Every moderator: configured (BLOG_MODERATORS) and added, with who they are."""
    try:
        found = mods.list_moderators()
    except mods.ModeratorError as exc:
        raise click.ClickException(str(exc)) from exc
    if not found:
        click.echo("no moderators: set BLOG_MODERATORS or run `flask blog admin add`")
        return
    names = mods.known_users(found)
    rows = [
        (m.label, mods.describe(m), ", ".join(names.get((m.kind, m.ident), [])) or "-")
        for m in found
    ]
    widths = [max(len(row[i]) for row in rows) for i in (0, 1)]
    for label, source, who in rows:
        click.echo(f"{label:<{widths[0]}}  {source:<{widths[1]}}  {who}")
