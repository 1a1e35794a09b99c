"""Writing tools, import: a bookdown book (_bookdown.yml's rmd_files, index.Rmd's metadata).

The reading order is `rmd_files` (its html list when it has one per format), or else every
.Rmd in the folder with index.Rmd first, as bookdown reads them. bookdown merges the files
into one document, so heading ids and references are one namespace; `(PART)` and
`(APPENDIX)` headings open parts and the appendices. Code chunks are kept, never run.
"""
from __future__ import annotations

from pathlib import Path

import yaml

from press.problems import Problem
from press.tools.importer.kinds import metadata
from press.tools.importer.model import Entry, Plan
from press.tools.importer.read import front_matter


def plan(source: Path, reader) -> Plan:
    config = source / "_bookdown.yml"
    shown = reader.shown(config)
    data = {}
    if config.is_file():
        try:
            data = yaml.safe_load(reader.text(config) or "") or {}
        except yaml.YAMLError:
            reader.errors.append(Problem(shown, None, "R010", "_bookdown.yml is not valid YAML",
                                         "fix it so that bookdown itself can read it"))
    files = data.get("rmd_files") if isinstance(data, dict) else None
    if isinstance(files, dict):
        files = files.get("html") or next(iter(files.values()), [])
    if not isinstance(files, list):
        found = sorted(p.name for p in source.glob("*.Rmd") if not p.name.startswith("_"))
        files = [n for n in found if n == "index.Rmd"] + [n for n in found if n != "index.Rmd"]
    entries = []
    for name in files:
        path = (source / str(name)).resolve()
        if not path.is_relative_to(reader.root) or not path.is_file():
            reader.errors.append(Problem(shown, None, "R010", f"_bookdown.yml lists '{name}', "
                                         "which is missing or outside the book",
                                         "fix the path in rmd_files"))
            continue
        entries.append(Entry(path))
    index = source / "index.Rmd"
    raw = front_matter(reader.text(index) or "")[0] if index.is_file() else {}
    return Plan(source, metadata(raw or {}), tuple(entries), single_scope=True,
                implicit_refs=True, meta_path=reader.shown(index))
