"""Writing tools, import: a Quarto book (_quarto.yml's book: chapters, parts, appendices).

`book.chapters` is the reading order; a `part:` groups the chapters under it (its title,
or a file whose text opens the part); `book.appendices` are back matter. A chapter file's
own `title:` in its front matter is its title.
"""
from __future__ import annotations

from pathlib import Path

import yaml

from press.problems import Problem
from press.tools.importer.kinds import metadata
from press.tools.importer.model import Entry, Plan


def plan(source: Path, reader) -> Plan:
    config = source / "_quarto.yml"
    shown = reader.shown(config)
    try:
        data = yaml.safe_load(reader.text(config) or "") or {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        reader.errors.append(Problem(shown, mark.line + 1 if mark else None, "R010",
                                     "_quarto.yml is not valid YAML", "fix it so that Quarto "
                                     "itself can read it"))
        data = {}
    book = data.get("book") if isinstance(data.get("book"), dict) else {}
    entries = []
    for item in book.get("chapters") or []:
        entries += _item(item, source, shown, reader, "chapter")
    for item in book.get("appendices") or []:
        entries += _item(item, source, shown, reader, "back")
    raw = dict(book)
    raw["lang"] = data.get("lang") or book.get("lang")
    return Plan(source, metadata(raw), tuple(entries), single_scope=False, implicit_refs=True,
                meta_path=shown, meta_titles=True)


def _item(item, source: Path, shown: str, reader, role: str) -> list[Entry]:
    if isinstance(item, dict) and "part" in item:
        title = str(item["part"])
        found = []
        if title.endswith((".qmd", ".md", ".Rmd")):
            found += [Entry(e.path, e.role, opens_part=True,
                            part_at=(shown, _line(reader, source, title)))
                      for e in _file(title, source, shown, reader, role, "")]
            title = ""
        chapters = [e for c in item.get("chapters") or []
                    for e in _item(c, source, shown, reader, role)]
        if chapters and title:
            first = chapters[0]
            chapters[0] = Entry(first.path, first.role, first.title, title,
                                (shown, _line(reader, source, title)))
        return found + chapters
    if isinstance(item, str):
        return _file(item, source, shown, reader, role, "")
    return []


def _file(name: str, source: Path, shown: str, reader, role: str, part: str) -> list[Entry]:
    path = (source / name).resolve()
    if not path.is_relative_to(reader.root) or not path.is_file():
        reader.errors.append(Problem(shown, _line(reader, source, name), "R010",
                                     f"_quarto.yml lists '{name}', which is "
                                     + ("outside the book" if not path.is_relative_to(reader.root)
                                        else "missing"), "fix the path in _quarto.yml"))
        return []
    return [Entry(path, role, "", part)]


def _line(reader, source: Path, name: str) -> int | None:
    text = reader.text(source / "_quarto.yml") or ""
    return next((n for n, line in enumerate(text.split("\n"), 1) if name in line), None)
