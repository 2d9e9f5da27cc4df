"""Front matter is read by PyYAML's safe loader, dates left as strings for the one date parser."""

from __future__ import annotations

import pytest
import yaml

from blog.content.frontmatter import load_front_matter

# Front matter without dates: read exactly as yaml.safe_load reads it.
TEXTS = [
    'title: "Plain \\"quoted\\" title"\nid: bench-00001',
    "title: Why hire?\ncategories:\n  - Recruiting/Interviews\n  - Tools",
    "title: Ünïcödé — 💡\ntags: [trust-basics, calls-faq]\ndraft: yes\ncomments: false",
    "title: 12\nsummary: >\n  Folded\n  text",
    "aliases:\n  - /old/path/\n  - /2019/06/old.html\nimage: images/a.png\nlayout: page",
    "title: 'single ''quoted'''\nauthor: ~\nid: 1e3\nslug: 0x1F",
    "title: &a anchored\nsummary: *a\nextra: {a: 1, b: [2, 3]}",
    'title: "Wow! Why hire?"\nsummary: "A [link](https://example.com/x), ok?"\ntags: [a, b]',
    "title: !",
    "%YAML 1.1\n---\ntitle: directive",
    "title: !!str 12",
    "tags: [a, b]\nsummary: Why?",
]


@pytest.mark.parametrize("text", TEXTS)
def test_front_matter_reads_as_yaml_safe_load_reads_it(text: str) -> None:
    assert load_front_matter(text) == yaml.safe_load(text)


def test_dates_stay_strings() -> None:
    assert load_front_matter("date: 2024-01-01\nupdated: 2024-01-01 10:00") == {
        "date": "2024-01-01",
        "updated": "2024-01-01 10:00",
    }


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("title: [unclosed\ndate: 2024-01-01", "expected ',' or ']'"),
        ("tags: [a?, b]", "expected ',' or ']', but got '\\?'"),
        ("title:\tA tab", "found character '\\\\t' that cannot start any token"),
        ("tags: [a, !x b]", "could not determine a constructor for the tag '!x'"),
    ],
)
def test_broken_front_matter_raises_pyyaml_s_error(text: str, message: str) -> None:
    with pytest.raises(yaml.YAMLError, match=message):
        load_front_matter(text)
