"""Synthetic posts: realistic Markdown bodies, categories, tags and distinct dates, reproducibly."""

from __future__ import annotations

import json
import random
import shutil
from datetime import datetime, timedelta
from pathlib import Path

from blog.config import PROJECT_ROOT

REAL_POSTS = ("making-true-connections.md", "about.md")
ESSAY_PATH = "/2019/06/10/making-true-connections/"
FIRST_DATE = datetime(2005, 1, 1, 8, 0)
STEP = timedelta(hours=12)

_VOCABULARY = (
    "recruiter candidate hiring manager interview offer network trust call email role team "
    "company culture salary location skill resume profile reference feedback process pipeline "
    "search market talent referral onboarding startup engineer designer leader client agency "
    "relationship conversation follow-up timeline expectation negotiation budget remote office "
    "growth career promotion mentor contract benefit signal story question answer meeting week "
    "month quarter honest clear quick careful patient direct personal professional useful real "
    "strong quiet busy open fair early late better simple hard small large long short new old "
    "build find keep share learn listen explain decide move start finish help ask tell write read "
    "the a an and or but so of to in on for with about from by at as that this it they we you"
)
WORDS = tuple(_VOCABULARY.split())
CATEGORIES = (
    "Recruiting",
    "Recruiting/Interviews",
    "Recruiting/Sourcing",
    "Networking",
    "Careers",
    "Careers/Negotiation",
    "Hiring Managers",
    "Remote Work",
    "Culture",
    "Tools",
)
TAGS = tuple(
    f"{a}-{b}"
    for a in ("trust", "offers", "sourcing", "referrals", "feedback", "teams", "email", "calls")
    for b in ("basics", "tips", "mistakes", "stories", "data", "checklists", "faq")
)
LANGUAGES = ("python", "sql", "bash", "javascript", "yaml")
CODE = {
    "python": 'def score(candidate: dict) -> int:\n    """Rank a candidate."""\n'
    '    return sum(candidate.get(k, 0) for k in ("skills", "fit", "trust"))\n',
    "sql": "SELECT name, stage, updated_at\nFROM candidates\n"
    "WHERE stage = 'interview'\nORDER BY updated_at DESC\nLIMIT 20;\n",
    "bash": 'for f in resumes/*.pdf; do\n  pdftotext "$f" - | grep -ci python\ndone\n',
    "javascript": "const stages = ['applied', 'screened', 'offer'];\n"
    "stages.forEach((s, i) => console.log(`${i}: ${s}`));\n",
    "yaml": "pipeline:\n  - stage: screen\n    owner: recruiter\n  - stage: onsite\n"
    "    owner: hiring-manager\n",
}


def _sentence(rng: random.Random) -> str:
    words = [rng.choice(WORDS) for _ in range(rng.randint(8, 22))]
    if rng.random() < 0.15:
        i = rng.randrange(len(words))
        words[i] = f"*{words[i]}*"
    if rng.random() < 0.08:
        i = rng.randrange(len(words))
        words[i] = f"[{words[i]}](https://example.com/{words[i].strip('*')})"
    if rng.random() < 0.06:
        i = rng.randrange(len(words))
        words[i] = f"`{words[i]}`"
    text = " ".join(words)
    return text[0].upper() + text[1:] + rng.choice((".", ".", ".", "?", "!"))


def _paragraph(rng: random.Random, sentences: int) -> str:
    return " ".join(_sentence(rng) for _ in range(sentences))


def _title(rng: random.Random, number: int) -> str:
    words = " ".join(rng.choice(WORDS) for _ in range(rng.randint(3, 6)))
    return f"{words.title()} {number}"


def make_body(rng: random.Random) -> str:
    """About 600-1,200 words: paragraphs, three or more headings, a list, a code block."""
    target = rng.randint(600, 1200)
    blocks = [_paragraph(rng, rng.randint(3, 5))]
    if rng.random() < 0.5:
        blocks.append("<!--more-->")
    count = sum(len(b.split()) for b in blocks)
    section = 0
    while count < target:
        section += 1
        blocks.append(f"## {_title(rng, section)}")
        for _ in range(rng.randint(2, 3)):
            blocks.append(_paragraph(rng, rng.randint(3, 6)))
        if section == 1:
            blocks.append("\n".join(f"- {_sentence(rng)}" for _ in range(rng.randint(3, 6))))
        if section == 2:
            lang = rng.choice(LANGUAGES)
            blocks.append(f"```{lang}\n{CODE[lang]}```")
        if section == 3 and rng.random() < 0.5:
            blocks.append("> " + _paragraph(rng, 2))
        count = sum(len(b.split()) for b in blocks)
    return "\n\n".join(blocks) + "\n"


def make_post(number: int, rng: random.Random) -> tuple[str, str]:
    """One synthetic post file: (file name, text)."""
    title = _title(rng, number)
    slug = f"bench-{number:05d}"
    when = FIRST_DATE + STEP * number + timedelta(minutes=rng.randrange(0, 600))
    categories = rng.sample(CATEGORIES, rng.randint(1, 2))
    tags = rng.sample(TAGS, rng.randint(2, 5))
    lines = [
        "---",
        f"title: {json.dumps(title)}",
        f"id: {slug}",
        f"date: {when:%Y-%m-%d %H:%M}",
        "categories:",
        *(f"  - {c}" for c in categories),
        "tags:",
        *(f"  - {t}" for t in tags),
    ]
    if rng.random() < 0.3:
        lines.append(f"summary: {json.dumps(_sentence(rng))}")
    lines.append("---")
    return f"{slug}.md", "\n".join(lines) + "\n\n" + make_body(rng)


def write_corpus(posts_dir: Path, count: int, seed: int = 2019) -> int:
    """Write `count` synthetic posts plus the real essay and About page; return total words."""
    posts_dir.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    words = 0
    for number in range(1, count + 1):
        name, text = make_post(number, rng)
        (posts_dir / name).write_text(text, encoding="utf-8")
        words += len(text.split())
    for name in REAL_POSTS:
        shutil.copyfile(PROJECT_ROOT / "posts" / name, posts_dir / name)
    return words
