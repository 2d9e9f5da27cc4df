"""`flask blog import wordpress|disqus FILE` and `flask blog export wordpress OUT.xml`."""

from __future__ import annotations

import sys
from pathlib import Path
from zoneinfo import ZoneInfo

import click
from flask import current_app
from flask.cli import AppGroup

from blog.clock import utcnow
from blog.importers.report import ImportReport
from blog.importers.wxr import ImportFileError
from blog.publishing.hooks import schema_ready

# The importers themselves load inside their commands: every app imports this module (to list
# the commands), and the HTML parser and HTTP stack they use cost about half a second at each
# start (python -X importtime) for commands run once in a blog's life.

import_group = AppGroup("import", help="Bring posts and comments from WordPress or Disqus.")
export_group = AppGroup("export", help="Write the blog out in another platform's format.")


def _ready() -> None:
    if not schema_ready():
        raise click.ClickException("the database has no schema: run `flask db upgrade` first")


def _print(report: ImportReport) -> None:
    for line in report.lines():
        click.echo(line)


@import_group.command("wordpress")
@click.argument("export", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="Print what would happen; change nothing.")
@click.option(
    "--uploads",
    type=click.Path(file_okay=False, exists=True, path_type=Path),
    help="A copy of the old site's wp-content/uploads folder.",
)
@click.option(
    "--download-media",
    is_flag=True,
    help="Download images the uploads folder lacks from the old site (images only, bounded).",
)
@click.option(
    "--pingbacks",
    type=click.Choice(["skip", "keep"]),
    default="skip",
    show_default=True,
    help="Pingbacks and trackbacks: leave them out, or keep them as comments.",
)
def import_wordpress_command(
    export: Path, dry_run: bool, uploads: Path | None, download_media: bool, pingbacks: str
) -> None:
    """Import a WordPress export (Tools > Export > All content): posts, pages, comments."""
    # bs4 and requests, about half a second at every start otherwise (see above).
    from blog.importers.wordpress import PASSES, ImportOptions, import_wordpress

    _ready()
    if not export.is_file():
        raise click.ClickException(f"{export}: no such file")
    cfg = current_app.config
    options = ImportOptions(
        path=export,
        posts_dir=cfg["POSTS_DIR"],
        zone=ZoneInfo(cfg["TIMEZONE"]),
        dry_run=dry_run,
        uploads=uploads,
        download_media=download_media,
        pingbacks=pingbacks,
    )
    length = export.stat().st_size * PASSES
    with click.progressbar(length=length, label="Importing", file=sys.stderr) as bar:
        try:
            report = import_wordpress(options, bar.update)
        except ImportFileError as exc:
            raise click.ClickException(f"{exc}. Nothing was changed.") from exc
    _print(report)


@import_group.command("disqus")
@click.argument("export", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="Print what would happen; change nothing.")
def import_disqus_command(export: Path, dry_run: bool) -> None:
    """Import a Disqus export's comments onto the posts their threads' URLs name."""
    # bs4, about a third of a second at every start otherwise (see above).
    from blog.importers.disqus import import_disqus

    _ready()
    if not export.is_file():
        raise click.ClickException(f"{export}: no such file")
    try:
        report = import_disqus(export, dry_run)
    except ImportFileError as exc:
        raise click.ClickException(f"{exc}. Nothing was changed.") from exc
    _print(report)


@export_group.command("wordpress")
@click.argument("target", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--site-url", help="The blog's address, when BLOG_SITE_URL is not set.")
def export_wordpress_command(target: Path, site_url: str | None) -> None:
    """Write every post, page, term and comment as a WordPress export (WXR 1.2) to TARGET."""
    # Loaded with the importers, for a command run once (see above).
    from blog.importers.export import export_wordpress

    _ready()
    cfg = current_app.config
    base = site_url or cfg["SITE_URL"]
    if not base:
        raise click.ClickException("set BLOG_SITE_URL or pass --site-url: links need an address")
    counts = export_wordpress(
        target, cfg["POSTS_DIR"], base, cfg["SITE_TITLE"], ZoneInfo(cfg["TIMEZONE"]), utcnow()
    )
    click.echo(", ".join(f"{n} {what}" for what, n in counts.items()) + f" written to {target}")
