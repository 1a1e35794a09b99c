"""Writing tools, import: one long Markdown file, split at its level-1 headings."""
from __future__ import annotations

from pathlib import Path

from press.tools.importer.kinds import metadata
from press.tools.importer.model import Entry, Plan
from press.tools.importer.read import front_matter


def plan(source: Path, reader) -> Plan:
    text = reader.text(source) or ""
    meta, _ = front_matter(text)
    return Plan(source.parent, metadata(meta or {}), (Entry(source),), single_scope=True,
                implicit_refs=True, meta_path=reader.shown(source))

