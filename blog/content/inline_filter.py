"""Inline Markdown patterns tried only on text that could match them; the HTML is unchanged.

Python-Markdown runs every inline pattern (links, emphasis, code, smarty's quotes and dashes:
over thirty with our extensions) over every piece of text, one regular-expression search and
several Python calls each, which is most of the time a post takes to render. A pattern whose
match must contain some string (a link a `[`, smart quotes a quote) cannot match text without
it, and skipping it then is exactly what trying it and failing does.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from functools import lru_cache
from typing import Any

import markdown
from markdown import util
from markdown.extensions import Extension
from markdown.treeprocessors import InlineProcessor

_QUOTES = ("'", '"')
# Registry name -> strings, one of which is in any text the pattern matches. A name not listed
# (another extension's pattern) is tried on every text, as Python-Markdown itself does.
NEEDS: dict[str, tuple[str, ...]] = {
    "backtick": ("`",),
    "escape": ("\\",),
    "footnote": ("[^",),
    "reference": ("[",),
    "link": ("[",),
    "image_link": ("![",),
    "image_reference": ("![",),
    "short_reference": ("[",),
    "short_image_ref": ("![",),
    "autolink": ("<",),
    "automail": ("@",),
    "linebreak": ("  \n",),
    "html": ("<",),
    "entity": ("&",),
    # Emphasis: one processor for both in Markdown 3.11, three patterns before.
    "em_strong": ("*", "_"),
    "em_strong2": ("*", "_"),
    "not_strong": ("*", "_"),
    "smarty-em-dashes": ("---",),
    "smarty-en-dashes": ("--",),
    "smarty-ellipses": ("...",),
}


@lru_cache(maxsize=64)
def _finder(needs: tuple[str, ...]) -> re.Pattern[str]:
    """One search for any of the strings: a C loop, where any(...) costs Python calls."""
    return re.compile("|".join(re.escape(s) for s in needs))


def _needs_by_pattern(registry: util.Registry[Any]) -> dict[int, re.Pattern[str]]:
    """id(pattern) -> a search for what it needs, for the registered patterns known by name."""
    names = [*NEEDS, *(f"smarty-quotes-{n}" for n in range(len(registry)))]
    return {
        id(registry[name]): _finder(NEEDS.get(name, _QUOTES)) for name in names if name in registry
    }


class FilteredInlineProcessor(InlineProcessor):
    """Python-Markdown's inline processor, skipping patterns that cannot match the text."""

    # (pattern, search for what it needs or None, index of the next pattern needing otherwise)
    _filtered: list[tuple[Any, re.Pattern[str] | None, int]]

    def run(self, tree: ET.Element, ancestors: list[str] | None = None) -> ET.Element:
        """Apply the inline patterns, each only to text containing what it needs."""
        # Read per document, so a pattern registered after this processor is still applied.
        by_id = _needs_by_pattern(self.inlinePatterns)
        needs = [by_id.get(id(p)) for p in self.inlinePatterns]
        # Neighbours needing the same (smarty's fifteen quote patterns) are skipped together.
        after = list(range(1, len(needs) + 1))
        for i in range(len(needs) - 2, -1, -1):
            if needs[i] is not None and needs[i] is needs[i + 1]:
                after[i] = after[i + 1]
        self._filtered = list(zip(self.inlinePatterns, needs, after, strict=True))
        if needs and all(n is not None for n in needs):
            text = "".join(t for el in tree.iter() for t in (el.text, el.tail) if t)
            if not any(n is not None and n.search(text) for n in set(needs)):
                # No text anywhere has what any pattern needs (smarty's lot, in most posts): a
                # walk of the tree would change nothing, so it is skipped.
                self.stashed_nodes = {}
                return tree
        return super().run(tree, ancestors)

    # Overrides InlineProcessor.__handleInline (name-mangled), the loop over the patterns; if a
    # later Markdown renames it, this is simply not called and every pattern is tried again.
    def _InlineProcessor__handleInline(self, data: str, patternIndex: int = 0) -> str:
        if isinstance(data, util.AtomicString):
            return data
        apply = self._InlineProcessor__applyPattern  # type: ignore[attr-defined]
        patterns = self._filtered
        count = len(patterns)
        start = 0
        while patternIndex < count:
            pattern, needs, after = patterns[patternIndex]
            if needs is not None and needs.search(data) is None:
                # What __applyPattern returns when the pattern finds nothing.
                patternIndex, start = after, 0
                continue
            data, matched, start = apply(pattern, data, patternIndex, start)
            if not matched:
                patternIndex += 1
        return data


class InlineFilterExtension(Extension):
    """Swaps Python-Markdown's inline processors (core and smarty's) for filtered ones."""

    def extendMarkdown(self, md: markdown.Markdown) -> None:
        """Replace each plain InlineProcessor in place; list this extension last."""
        for processor in md.treeprocessors:
            if type(processor) is InlineProcessor:
                # In place: the registry keeps its name and priority, the object its state.
                processor.__class__ = FilteredInlineProcessor
