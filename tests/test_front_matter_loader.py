"""Front matter read by libyaml where it agrees with PyYAML's pure-Python loader, and by the
pure-Python loader everywhere else: the same values, and the same errors, as before."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from blog.content import frontmatter
from blog.content.frontmatter import load_front_matter

AGREED = [
    'title: "Plain \\"quoted\\" title"\nid: bench-00001\ndate: 2019-06-10 08:30',
    "title: Why hire?\ndate: 2024-01-01\ncategories:\n  - Recruiting/Interviews\n  - Tools",
    "title: Ünïcödé — 💡\ntags: [trust-basics, calls-faq]\ndraft: yes\ncomments: false",
    "title: 12\nsummary: >\n  Folded\n  text\nupdated: 2024-05-01T10:00:00+02:00",
    "aliases:\n  - /old/path/\n  - /2019/06/old.html\nimage: images/a.png\nlayout: page",
    "title: 'single ''quoted'''\nauthor: ~\nid: 1e3\nslug: 0x1F",
    "title: &a anchored\nsummary: *a\nextra: {a: 1, b: [2, 3]}",
    'title: "Wow! Why hire?"\nsummary: "A [link](https://example.com/x), ok?"\ntags: [a, b]',
]

# Where the two scanners disagree: each must be read as the pure-Python loader reads it.
DISAGREED = [
    "title:\tA tab",  # an error for PyYAML, a title for libyaml
    "title: !",  # None for PyYAML, '' for libyaml
    "title: |#comment\n  text",
    "title: \ufeffbom",
    "tags: [a?, b]",
    "%YAML 1.1\n---\ntitle: directive",
    "title: a\u2028b",
    "title: !!str 12",
    "tags: [a, !x b]",
    "tags: [a, b]\nsummary: Why?",
    'tags:\n  - "a"\n  - [b?]',
]


def python_loader(text: str) -> tuple[str, Any]:
    """What PyYAML's pure-Python loader makes of the text: ("ok", value) or ("error", message)."""
    try:
        return "ok", yaml.load(text, Loader=frontmatter._StringTimestampLoader)  # noqa: S506
    except yaml.YAMLError as exc:
        return "error", str(exc)


def ours(text: str) -> tuple[str, Any]:
    """What load_front_matter makes of it, in the same form."""
    try:
        return "ok", load_front_matter(text)
    except yaml.YAMLError as exc:
        return "error", str(exc)


@pytest.mark.parametrize("text", AGREED + DISAGREED)
def test_front_matter_reads_as_the_pure_python_loader_reads_it(text: str) -> None:
    assert ours(text) == python_loader(text)


def test_dates_stay_strings_with_either_loader() -> None:
    assert load_front_matter("date: 2024-01-01\nupdated: 2024-01-01 10:00") == {
        "date": "2024-01-01",
        "updated": "2024-01-01 10:00",
    }


@pytest.mark.skipif(not yaml.__with_libyaml__, reason="PyYAML built without libyaml")
def test_libyaml_reads_plain_front_matter_and_pyyaml_the_rest(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    used: list[str] = []
    real_load = yaml.load

    def spy(text: str, Loader: type) -> Any:
        used.append("c" if Loader is frontmatter._CLoader else "python")
        return real_load(text, Loader=Loader)

    monkeypatch.setattr(yaml, "load", spy)
    load_front_matter(AGREED[1])
    load_front_matter(AGREED[-1])  # `!`, `?` and `[` inside one-line double-quoted values
    assert used == ["c", "c"]
    used.clear()
    load_front_matter(DISAGREED[1])
    assert used == ["python"]
    used.clear()
    # libyaml refuses it, and the message comes from the pure-Python loader.
    with pytest.raises(yaml.YAMLError, match="expected ',' or ']'"):
        load_front_matter("title: [unclosed\ndate: 2024-01-01")
    assert used == ["c", "python"]
