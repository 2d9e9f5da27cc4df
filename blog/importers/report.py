"""What an import did, or would do: counts, and per post what could not be carried over."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field


@dataclass
class ImportReport:
    """Counts by kind and outcome (`posts added`, `comments unchanged`...), and notes per item."""

    dry_run: bool = False
    counts: Counter[str] = field(default_factory=Counter)
    notes: dict[str, list[str]] = field(default_factory=dict)

    def count(self, what: str, number: int = 1) -> None:
        """Add to one count."""
        self.counts[what] += number

    def note(self, item: str, message: str) -> None:
        """Something about one item (a post, a comment, a file) worth the author's eye."""
        found = self.notes.setdefault(item, [])
        if message not in found:
            found.append(message)

    def lines(self) -> list[str]:
        """The report as lines for a terminal: the notes first, then the counts."""
        out = [
            f"{item}: {message}" for item, messages in self.notes.items() for message in messages
        ]
        summary = ", ".join(f"{n} {what}" for what, n in sorted(self.counts.items()) if n)
        if self.dry_run:
            out.append(f"Dry run, nothing changed; it would be: {summary or 'nothing'}")
        else:
            out.append(f"Done: {summary or 'nothing'}")
        return out
