"""Share cards and responsive sizes, drawn with Pillow: the share image of a post without one."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont, UnidentifiedImageError

CARD_SIZE = (1200, 630)
# Widths offered in a featured image's srcset; an image is never scaled up.
RESPONSIVE_WIDTHS = (480, 800, 1200, 1600)
RESIZABLE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".webp"})
CARD_BACKGROUND = (21, 23, 26)
CARD_ACCENT = (143, 188, 255)
CARD_TEXT = (244, 242, 238)
CARD_MUTED = (167, 171, 176)


def card_digest(site_title: str, title: str) -> str:
    """A short digest of what a card shows: its file name changes when its text does."""
    return hashlib.sha256(f"{site_title}\0{title}".encode()).hexdigest()[:12]


# Slugs are letters, digits and hyphens: the site's own card cannot be taken for a post's.
SITE_CARD_SLUG = "_site"


def card_name(slug: str, site_title: str, title: str) -> str:
    """The card's file name, `<slug>-<digest>.png`."""
    return f"{slug}-{card_digest(site_title, title)}.png"


def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    # Pillow's bundled font: the card looks the same on every server, with no system fonts.
    return ImageFont.load_default(size=size)


def draw_card(site_title: str, title: str, out: Path) -> Path:
    """Draw a 1200x630 PNG with the site's and the post's titles; written whole, then renamed."""
    image = Image.new("RGB", CARD_SIZE, CARD_BACKGROUND)
    draw = ImageDraw.Draw(image)
    margin = 80
    draw.rectangle((0, 0, 16, CARD_SIZE[1]), fill=CARD_ACCENT)
    draw.text((margin, margin), site_title[:60], font=_font(40), fill=CARD_ACCENT)
    size = 76 if len(title) <= 60 else 60
    font = _font(size)
    lines = _wrap(title, font, CARD_SIZE[0] - 2 * margin)
    if len(lines) > 4:
        lines = [*lines[:3], lines[3].rstrip(" .,;:") + "…"]
    y = margin + 100
    for line in lines:
        draw.text((margin, y), line, font=font, fill=CARD_TEXT)
        y += int(size * 1.2)
    draw.line((margin, CARD_SIZE[1] - margin, margin + 160, CARD_SIZE[1] - margin), CARD_MUTED, 4)
    return _save(image, out, "PNG")


def _wrap(text: str, font: ImageFont.FreeTypeFont | ImageFont.ImageFont, width: int) -> list[str]:
    """Words into lines no wider than `width` pixels (a longer word is cut)."""
    lines: list[str] = []
    line = ""
    for word in text.split():
        candidate = f"{line} {word}".strip()
        if font.getlength(candidate) <= width:
            line = candidate
            continue
        if line:
            lines.append(line)
        while font.getlength(word) > width and len(word) > 1:
            cut = len(word)
            while cut > 1 and font.getlength(word[:cut]) > width:
                cut -= 1
            lines.append(word[:cut])
            word = word[cut:]
        line = word
    if line:
        lines.append(line)
    return lines


def _save(image: Image.Image, out: Path, image_format: str) -> Path:
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(f".{out.name}.{os.getpid()}")
    image.save(partial, format=image_format)
    partial.replace(out)
    return out


def srcset_widths(width: int) -> list[int]:
    """The responsive widths below an image's own width (which the original serves)."""
    return [w for w in RESPONSIVE_WIDTHS if w < width]


def resize_image(source: Path, width: int, out: Path) -> Path | None:
    """Write `source` scaled down to `width` at `out`; None when it cannot be (not a raster)."""
    if source.suffix.lower() not in RESIZABLE_SUFFIXES or width not in RESPONSIVE_WIDTHS:
        return None
    try:
        with Image.open(source) as image:
            if image.width <= width:
                return None
            height = max(1, round(image.height * width / image.width))
            scaled = image.resize((width, height), Image.Resampling.LANCZOS)
            image_format = image.format or "PNG"
            if image_format == "JPEG" and scaled.mode not in ("RGB", "L"):
                scaled = scaled.convert("RGB")
            return _save(scaled, out, image_format)
    except (OSError, UnidentifiedImageError, ValueError):
        return None
