"""Python-Markdown work skipped where it cannot change anything: the HTML is the same.

Python-Markdown runs every inline pattern (links, emphasis, code, smarty's quotes and dashes:
over thirty with our extensions) over every piece of text, one regular-expression search and
several Python calls each, which is most of the time a post takes to render; and it tests
every block (paragraph, list...) against each block processor, several by a regular-expression
search of the whole block. A pattern whose match must contain some string (a link a `[`, smart
quotes a quote, a heading a `#`) cannot match text without it, and skipping it then is exactly
what trying it and failing does.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Any

import markdown
from markdown import util
from markdown.blockparser import BlockParser
from markdown.extensions import Extension
from markdown.treeprocessors import InlineProcessor

_QUOTES = ("'", '"')
# Registry name -> strings (one or two), one of which is in any text the pattern matches. A name
# not listed (another extension's pattern) is tried on every text, as Python-Markdown does.
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


# Block processor name -> strings, one of which is in any block it takes. Each of these either
# tests the block with a regular expression needing it, or takes every block (footnotes and
# references) and gives it back untouched, returning False, when its expression finds nothing.
BLOCK_NEEDS: dict[str, tuple[str, ...]] = {
    "table": ("|",),
    "hashheader": ("#",),
    "setextheader": ("\n=", "\n-"),
    "hr": ("-", "_", "*"),
    "deflist": (":",),
    "quote": (">",),
    "footnote": ("[^",),
    "reference": ("]:",),
}


def _needs_by_pattern(registry: util.Registry[Any]) -> dict[int, tuple[str, str]]:
    """id(pattern) -> two strings, one of which its match contains (the same one twice if one)."""
    names = [*NEEDS, *(f"smarty-quotes-{n}" for n in range(len(registry)))]
    pairs: dict[int, tuple[str, str]] = {}
    for name in names:
        if name in registry:
            needs = NEEDS.get(name, _QUOTES)
            pairs[id(registry[name])] = (needs[0], needs[-1])
    return pairs


def _filter_table(registry: util.Registry[Any]) -> list[tuple[Any, tuple[str, str] | None, int]]:
    """(pattern, what it needs or None, index of the next pattern needing something else)."""
    by_id = _needs_by_pattern(registry)
    needs = [by_id.get(id(p)) for p in registry]
    # Neighbours needing the same (smarty's fifteen quote patterns) are skipped together.
    after = list(range(1, len(needs) + 1))
    for i in range(len(needs) - 2, -1, -1):
        if needs[i] is not None and needs[i] == needs[i + 1]:
            after[i] = after[i + 1]
    return list(zip(registry, needs, after, strict=True))


class FilteredInlineProcessor(InlineProcessor):
    """Python-Markdown's inline processor, skipping patterns that cannot match the text."""

    _filtered: list[tuple[Any, tuple[str, str] | None, int]]
    _filtered_for: tuple[Any, ...] = ()
    # What the patterns need between them, when every one of them needs something.
    _all_needs: set[tuple[str, str]] | None = None

    def run(self, tree: ET.Element, ancestors: list[str] | None = None) -> ET.Element:
        """Apply the inline patterns, each only to text containing what it needs."""
        # Checked per document, so a pattern registered after this processor is still applied.
        patterns = tuple(self.inlinePatterns)
        if patterns != self._filtered_for:
            self._filtered = _filter_table(self.inlinePatterns)
            self._filtered_for = patterns
            needs = [n for _, n, _ in self._filtered]
            self._all_needs = set(filter(None, needs)) if None not in needs else None
        if self._all_needs is not None:
            text = "".join(t for el in tree.iter() for t in (el.text, el.tail) if t)
            if not any(a in text or b in text for a, b in self._all_needs):
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
            # Plain `in`, not a regular expression: an alternation such as `\*|_` is tried at
            # each position, ~30x slower, and this runs for every pattern on every text.
            if needs is not None and needs[0] not in data and needs[1] not in data:
                # What __applyPattern returns when the pattern finds nothing.
                patternIndex, start = after, 0
                continue
            data, matched, start = apply(pattern, data, patternIndex, start)
            if not matched:
                patternIndex += 1
        return data


class FilteredBlockParser(BlockParser):
    """Python-Markdown's block parser, skipping processors that cannot take the block."""

    def parseBlocks(self, parent: ET.Element, blocks: list[str]) -> None:
        """Step each block through the processors that could take it, as BlockParser does."""
        registry = self.blockprocessors
        needs = {id(registry[n]): v for n, v in BLOCK_NEEDS.items() if n in registry}
        table = [(p, needs.get(id(p), ())) for p in registry]
        while blocks:
            for processor, strings in table:
                if strings:
                    block = blocks[0]
                    for s in strings:
                        if s in block:
                            break
                    else:
                        continue  # it cannot take this block: as if its test said no
                # run returns True or None when it took the block, False when it gave it back.
                if processor.test(parent, blocks[0]) and processor.run(parent, blocks) is not False:
                    break


class ShortcutsExtension(Extension):
    """Swaps in the filtered inline processors (core and smarty's) and block parser."""

    def extendMarkdown(self, md: markdown.Markdown) -> None:
        """Change the classes in place; list this extension last."""
        # In place: registries keep names and priorities, the objects their state.
        for processor in md.treeprocessors:
            if type(processor) is InlineProcessor:
                processor.__class__ = FilteredInlineProcessor
        if type(md.parser) is BlockParser:
            md.parser.__class__ = FilteredBlockParser
