"""Images that live beside the posts: where they are served and their pixel size."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path, PurePosixPath

from PIL import Image, UnidentifiedImageError

from blog.content.render import ImageInfo, ImageResolver

IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".gif", ".webp", ".avif", ".svg"})
MEDIA_URL = "/media/"


def safe_media_path(posts_dir: Path, relative: str) -> Path | None:
    """Resolve a path under posts_dir, or None if it escapes it or is not an image."""
    clean = relative.split("?", 1)[0].split("#", 1)[0]
    if "\x00" in clean or "\\" in clean:
        # A NUL makes the OS calls raise; a backslash is never part of a real image path.
        return None
    rel = PurePosixPath(clean)
    if rel.is_absolute() or ".." in rel.parts or rel.suffix.lower() not in IMAGE_SUFFIXES:
        return None
    try:
        root = posts_dir.resolve()
        path = (root / rel).resolve()
        if root not in path.parents or not path.is_file():
            return None
    except (OSError, ValueError):
        return None
    return path


@lru_cache(maxsize=4096)
def _size(path: Path, mtime_ns: int) -> tuple[int, int] | None:
    if path.suffix.lower() == ".svg":
        return None
    try:
        with Image.open(path) as image:
            return image.size
    except (OSError, UnidentifiedImageError):
        return None


def image_resolver(posts_dir: Path) -> ImageResolver:
    """Return a resolver mapping a post's relative image src to its served URL and size."""

    def resolve(src: str) -> ImageInfo | None:
        path = safe_media_path(posts_dir, src.removeprefix("./"))
        if path is None:
            return None
        size = _size(path, path.stat().st_mtime_ns) or (0, 0)
        rel = path.relative_to(posts_dir.resolve()).as_posix()
        return ImageInfo(url=MEDIA_URL + rel, width=size[0], height=size[1])

    return resolve


def image_size(posts_dir: Path, relative: str) -> tuple[int, int] | None:
    """Width and height of an image beside the posts; None when it is missing or not a raster."""
    path = safe_media_path(posts_dir, relative.removeprefix("./"))
    if path is None:
        return None
    return _size(path, path.stat().st_mtime_ns)
