"""Stage 3b, enrich the glossary: definitions as HTML, cross-references between entries."""
from __future__ import annotations

from dataclasses import dataclass

from .enrich import parse_fragment, serialise
from .model import GlossaryEntry


@dataclass(frozen=True)
class SeeRef:
    entry: GlossaryEntry
    id: str


@dataclass(frozen=True)
class GlossaryItem:
    """One glossary entry as both outputs show it."""

    entry: GlossaryEntry
    id: str
    definition_html: str
    definition_xhtml: str
    see: tuple[SeeRef, ...] = ()


def entry_id(entry: GlossaryEntry) -> str:
    return f"gl-{entry.slug}"


def glossary_items(entries, definitions_html: str) -> tuple[GlossaryItem, ...]:
    """Alphabetical items with their definitions split back out of the single Pandoc run."""
    root = parse_fragment(definitions_html)
    blocks = {div.get("id"): div for div in root.iter("div") if div.get("id")}
    by_term = {e.term.lower(): e for e in entries}
    items = []
    for entry in sorted(entries, key=lambda e: e.term.lower()):
        block = blocks[f"def-{entry.slug}"]
        xhtml = serialise(block, xml=True)
        see = tuple(SeeRef(by_term[s.lower()], entry_id(by_term[s.lower()]))
                    for s in entry.see if s.lower() in by_term)
        items.append(GlossaryItem(entry, entry_id(entry), serialise(block, xml=False), xhtml, see))
    return tuple(items)
