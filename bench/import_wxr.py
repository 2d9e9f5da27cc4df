"""The WordPress import at scale: `python -m bench.import_wxr [--posts N] [--comments M]`.

Writes the benchmark's corpus (bench/corpus.py) twice over: as post files, for a cold sync,
and as a WXR file of the same posts in WordPress's classic-editor form with M comments per
post (threaded, some held, some spam). Each is run in a fresh interpreter on a fresh SQLite
database: the cold sync, then a dry run and the import of the WXR at a quarter and at the full
size, with the time and peak memory of each. The dry run's memory (reading and converting the
file, without the sync) should stay flat as the file grows.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any
from xml.sax.saxutils import escape
from zoneinfo import ZoneInfo

from flask_migrate import upgrade

from bench.corpus import make_post, write_corpus
from blog import create_app
from blog.content.frontmatter import load_front_matter, split_front_matter
from blog.extensions import db, init_migrations
from blog.importers.wordpress import ImportOptions, import_wordpress
from blog.publishing.hooks import run_sync

STATUSES = ("1",) * 17 + ("0", "spam", "trash")


def _classic_html(markdown: str) -> str:
    """A Markdown body of the corpus as WordPress's classic editor keeps it: no <p>."""
    out: list[str] = []
    for block in markdown.strip().split("\n\n"):
        if block.startswith("## "):
            out.append(f"<h2>{escape(block[3:])}</h2>")
        elif block.startswith("- "):
            items = "".join(f"<li>{escape(line[2:])}</li>" for line in block.splitlines())
            out.append(f"<ul>{items}</ul>")
        elif block.startswith("```"):
            code = block.split("\n", 1)[1].rsplit("```", 1)[0]
            out.append(f"<pre>{escape(code)}</pre>")
        elif block.startswith("> "):
            out.append(f"<blockquote>{escape(block[2:])}</blockquote>")
        else:
            out.append(escape(block) if block != "<!--more-->" else block)
    return "\n\n".join(out)


def _cdata(text: str) -> str:
    return "<![CDATA[" + text.replace("]]>", "]]]]><![CDATA[>") + "]]>"


def _comments(out: IO[str], post_id: int, count: int, first_id: int, rng: random.Random) -> None:
    for offset in range(count):
        comment_id = first_id + offset
        parent = rng.choice([0, 0, first_id + rng.randrange(offset)]) if offset else 0
        day = datetime(2010, 1, 1, tzinfo=UTC).timestamp() + post_id * 3600 + offset * 60
        when = datetime.fromtimestamp(day, UTC).strftime("%Y-%m-%d %H:%M:%S")
        out.write(
            "<wp:comment>"
            f"<wp:comment_id>{comment_id}</wp:comment_id>"
            f"<wp:comment_author>{_cdata(f'Reader {comment_id % 977}')}</wp:comment_author>"
            f"<wp:comment_author_email>reader{comment_id % 977}@example.com"
            "</wp:comment_author_email>"
            "<wp:comment_author_url>https://reader.example.com/</wp:comment_author_url>"
            f"<wp:comment_date>{when}</wp:comment_date>"
            f"<wp:comment_date_gmt>{when}</wp:comment_date_gmt>"
            f"<wp:comment_content>{_cdata(f'Comment {comment_id}: I <em>agree</em>.')}"
            "</wp:comment_content>"
            f"<wp:comment_approved>{rng.choice(STATUSES)}</wp:comment_approved>"
            "<wp:comment_type>comment</wp:comment_type>"
            f"<wp:comment_parent>{parent}</wp:comment_parent>"
            "</wp:comment>\n"
        )


def write_wxr(path: Path, posts: int, comments: int, seed: int = 2019) -> int:
    """The corpus's first `posts` posts as a WXR file with their comments; its size."""
    rng, comment_rng = random.Random(seed), random.Random(seed + 1)
    with path.open("w", encoding="utf-8") as out:
        out.write(
            '<?xml version="1.0" encoding="UTF-8" ?>\n<rss version="2.0"'
            ' xmlns:excerpt="http://wordpress.org/export/1.2/excerpt/"'
            ' xmlns:content="http://purl.org/rss/1.0/modules/content/"'
            ' xmlns:dc="http://purl.org/dc/elements/1.1/"'
            ' xmlns:wp="http://wordpress.org/export/1.2/">\n<channel>\n'
            "<title>Bench</title><link>https://old.example.org</link>\n"
            "<wp:wxr_version>1.2</wp:wxr_version>"
            "<wp:base_site_url>https://old.example.org</wp:base_site_url>\n"
        )
        for number in range(1, posts + 1):
            _name, text = make_post(number, rng)
            split = split_front_matter(text)
            assert split is not None
            meta = load_front_matter(split[0])
            when = str(meta["date"]) + ":00"
            slug = str(meta["id"])
            out.write(
                f"<item><title>{_cdata(str(meta['title']))}</title>"
                f"<link>https://old.example.org/{when[:4]}/{when[5:7]}/{slug}/</link>"
                "<dc:creator>author</dc:creator>"
                f"<content:encoded>{_cdata(_classic_html(split[1]))}</content:encoded>"
                f"<excerpt:encoded>{_cdata(str(meta.get('summary', '')))}</excerpt:encoded>"
                f"<wp:post_id>{number}</wp:post_id><wp:post_date>{when}</wp:post_date>"
                f"<wp:post_date_gmt>{when}</wp:post_date_gmt><wp:post_name>{slug}</wp:post_name>"
                "<wp:status>publish</wp:status><wp:post_type>post</wp:post_type>"
                "<wp:comment_status>open</wp:comment_status>\n"
            )
            for category in meta.get("categories", []):
                out.write(f'<category domain="category">{_cdata(category)}</category>')
            for tag in meta.get("tags", []):
                out.write(f'<category domain="post_tag">{_cdata(tag)}</category>')
            _comments(out, number, comments, number * comments, comment_rng)
            out.write("</item>\n")
        out.write("</channel>\n</rss>\n")
    return path.stat().st_size


def _child(task: str, folder: Path, wxr: Path | None) -> dict[str, Any]:
    """Run `task` in a fresh interpreter on its own database; its JSON line."""
    env = {
        **os.environ,
        "BLOG_DATABASE_URL": f"sqlite:///{folder / 'blog.db'}",
        "BLOG_POSTS_DIR": str(folder / "posts"),
        "BLOG_SYNC_ON_START": "0",
    }
    args = [sys.executable, "-m", "bench.import_wxr", "--task", task]
    if wxr is not None:
        args += ["--wxr", str(wxr)]
    done = subprocess.run(args, env=env, capture_output=True, text=True, check=True)
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def task(name: str, wxr: Path | None) -> dict[str, Any]:
    """In the child: migrate, then sync posts/ or import the WXR; time and peak memory."""
    app = create_app({"SYNC_ON_START": False, "SYNC_ON_REQUEST": False})
    init_migrations(app)
    with app.app_context():
        upgrade()
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        began = time.perf_counter()
        if name == "sync":
            counts: dict[str, int] = {"added": len(run_sync().added)}
        else:
            assert wxr is not None
            zone = ZoneInfo(app.config["TIMEZONE"])
            # A dry run reads, checks and converts everything, writes nothing, syncs nothing:
            # its memory is the import's own, apart from the sync's.
            options = ImportOptions(wxr, app.config["POSTS_DIR"], zone, dry_run=name == "dry-run")
            counts = dict(import_wordpress(options).counts)
        seconds = time.perf_counter() - began
        db.engine.dispose()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {"seconds": seconds, "peak_mib": peak / 1024, "start_mib": before / 1024, **counts}


def main(argv: list[str] | None = None) -> int:
    """Write the corpus and the WXR, run each task in a child, print the figures."""
    parser = argparse.ArgumentParser(prog="python -m bench.import_wxr")
    parser.add_argument("--posts", type=int, default=10_000)
    parser.add_argument("--comments", type=int, default=10, help="comments per post")
    parser.add_argument("--no-sync", action="store_true", help="leave out the cold sync")
    parser.add_argument("--full-only", action="store_true", help="leave out the quarter size")
    parser.add_argument("--sync-only", action="store_true", help="only the cold sync")
    parser.add_argument("--task", choices=["sync", "import", "dry-run"], help=argparse.SUPPRESS)
    parser.add_argument("--wxr", type=Path, help=argparse.SUPPRESS)
    options = parser.parse_args(argv)
    if options.task:
        print(json.dumps(task(options.task, options.wxr)))
        return 0
    with tempfile.TemporaryDirectory(prefix="bench-import-") as scratch:
        root = Path(scratch)
        results: dict[str, Any] = {"posts": options.posts, "comments": options.comments}
        if not options.no_sync:
            sync_dir = root / "sync"
            write_corpus(sync_dir / "posts", options.posts)
            results["cold_sync"] = _child("sync", sync_dir, None)
        sizes = [("quarter", options.posts // 4), ("full", options.posts)]
        if options.sync_only:
            sizes = []
        for label, posts in sizes[1:] if options.full_only else sizes:
            folder = root / label
            (folder / "posts").mkdir(parents=True)
            wxr = root / f"{label}.wxr"
            size = write_wxr(wxr, posts, options.comments)
            results[f"dry_run_{label}"] = {
                "wxr_mib": size / 2**20,
                **_child("dry-run", folder, wxr),
            }
            results[f"import_{label}"] = _child("import", folder, wxr)
        print(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
