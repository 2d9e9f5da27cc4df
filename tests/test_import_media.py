"""Images of an imported blog: downloaded from the old site while it is online, images only,
within the size bound; what cannot be had keeps its old URL and is reported, never fatal."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskCliRunner

from blog.importers.media import MediaCopier

UPLOADS = Path(__file__).parent / "fixtures" / "wordpress" / "uploads" / "2019" / "06"
PNG = (UPLOADS / "handshake-150x150.png").read_bytes()


class OldSite(BaseHTTPRequestHandler):
    """The old WordPress site's uploads: one image, one page that claims an image's name."""

    def do_GET(self) -> None:
        """The image, the page in an image's name, or a 404."""
        if self.path.endswith("/photo.png"):
            body, kind = PNG, "image/png"
        elif self.path.endswith("/fake.png"):
            body, kind = b"<html>not an image</html>", "text/html"
        else:
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        """Quiet."""


@pytest.fixture
def old_site() -> Iterator[str]:
    """The old site, served on 127.0.0.1; its host:port."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), OldSite)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def wxr(host: str) -> str:
    """An export of one post whose images are on the old site."""
    uploads = f"http://{host}/wp-content/uploads/2020/01"
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/"
 xmlns:wp="http://wordpress.org/export/1.2/" xmlns:dc="http://purl.org/dc/elements/1.1/">
<channel><title>Old</title><link>http://{host}</link><wp:wxr_version>1.2</wp:wxr_version>
<wp:base_site_url>http://{host}</wp:base_site_url>
<item><title>Pictures</title><link>http://{host}/pictures/</link>
<content:encoded><![CDATA[<img src="{uploads}/photo.png" alt="A photo">
<img src="{uploads}/fake.png" alt="Not one">
<img src="{uploads}/gone.png" alt="Gone">]]></content:encoded>
<wp:post_id>3</wp:post_id><wp:post_date>2020-01-02 10:00:00</wp:post_date>
<wp:post_date_gmt>2020-01-02 10:00:00</wp:post_date_gmt><wp:post_name>pictures</wp:post_name>
<wp:status>publish</wp:status><wp:post_type>post</wp:post_type></item>
</channel></rss>"""


def test_images_downloaded_from_the_old_site(
    app: Flask, runner: FlaskCliRunner, posts_dir: Path, tmp_path: Path, old_site: str
) -> None:
    export = tmp_path / "old.xml"
    export.write_text(wxr(old_site), encoding="utf-8")

    result = runner.invoke(args=["blog", "import", "wordpress", str(export), "--download-media"])

    assert result.exit_code == 0, result.output
    assert (posts_dir / "images" / "2020" / "01" / "photo.png").read_bytes() == PNG
    assert not (posts_dir / "images" / "2020" / "01" / "fake.png").exists()
    base = f"http://{old_site}/wp-content/uploads/2020/01"
    assert f"media: not found, old URL kept: {base}/fake.png" in result.output
    assert f"media: not found, old URL kept: {base}/gone.png" in result.output
    text = (posts_dir / "2020-01-02-pictures.md").read_text(encoding="utf-8")
    assert "![A photo](images/2020/01/photo.png)" in text
    assert f"![Gone]({base}/gone.png)" in text
    page = app.test_client().get("/2020/01/02/pictures/").get_data(as_text=True)
    assert 'src="/media/images/2020/01/photo.png"' in page


def test_a_download_past_the_size_bound_is_refused(tmp_path: Path, old_site: str) -> None:
    copier = MediaCopier(tmp_path, {old_site}, download=True, max_bytes=len(PNG) - 1)
    assert copier.local(f"http://{old_site}/wp-content/uploads/2020/01/photo.png") is None
    assert list(tmp_path.rglob("*.png")) == []


def test_only_the_old_sites_uploads_are_fetched(tmp_path: Path, old_site: str) -> None:
    copier = MediaCopier(tmp_path, {"old.example.org"}, download=True)
    # Another host, a page, a path climbing out: none is an upload of the old site.
    for url in (
        f"http://{old_site}/wp-content/uploads/2020/01/photo.png",
        "https://old.example.org/about/",
        "https://old.example.org/wp-content/uploads/../../etc/passwd.png",
    ):
        assert copier.local(url) is None
    assert copier.missing == []
