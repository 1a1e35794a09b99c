"""Writing tools, import: a folder of Pandoc Markdown files, read in the order of their names."""
from __future__ import annotations

import re
from pathlib import Path

import yaml

from press.tools.importer.kinds import metadata
from press.tools.importer.model import Entry, Plan
from press.tools.importer.read import front_matter

SUFFIXES = (".md", ".markdown")


def natural(path: Path):
    """2-x.md before 10-x.md, as people number files."""
    return [int(t) if t.isdigit() else t.lower() for t in re.split(r"(\d+)", path.name)]


def plan(source: Path, reader) -> Plan:
    files = sorted((p for p in source.iterdir() if p.suffix.lower() in SUFFIXES and p.is_file()
                    and not p.name.startswith(("_", ".")) and p.stem.upper() != "README"),
                   key=natural)
    for readme in sorted(p for p in source.iterdir() if p.stem.upper() == "README"
                         and p.suffix.lower() in SUFFIXES):
        reader.report.note(reader.shown(readme), 1, "R018", "README is taken for the folder's "
                           "description, not a chapter: left out", "list it by hand if it "
                           "belongs in the book")
    raw, where = {}, ""
    for name in ("metadata.yaml", "metadata.yml"):
        if (source / name).is_file():
            raw = yaml.safe_load(reader.text(source / name) or "") or {}
            where = reader.shown(source / name)
            break
    if not raw and files:
        raw = front_matter(reader.text(files[0]) or "")[0] or {}
        where = reader.shown(files[0])
    return Plan(source, metadata(raw if isinstance(raw, dict) else {}),
                tuple(Entry(p) for p in files), single_scope=True, implicit_refs=True,
                meta_path=where)
