"""Writing tools, import: an mdBook (book.toml and src/SUMMARY.md).

SUMMARY.md gives the reading order: prefix chapters (before the numbered list) are front
matter, suffix chapters (after it) back matter, `# Part` headings between list items
parts; nested items are chapters in their place. A draft chapter (`[Title]()`) has no
file and is reported.
"""
from __future__ import annotations

import re
import tomllib
from pathlib import Path
from urllib.parse import unquote

from press.problems import Problem
from press.tools.importer.kinds import metadata
from press.tools.importer.model import Entry, Plan

LINK = re.compile(r"^\s*(?:[-*+]|\d+\.)?\s*\[(.*)\]\(([^)]*)\)\s*$")
ITEM = re.compile(r"^\s*(?:[-*+]|\d+\.)\s+")
PART = re.compile(r"^#{1,6}\s+(.*?)\s*#*\s*$")


def plan(source: Path, reader) -> Plan:
    config = _config(source, reader)
    book = config.get("book", {}) if isinstance(config.get("book"), dict) else {}
    src = source / str(book.get("src", "src"))
    summary = src / "SUMMARY.md"
    text = reader.text(summary, reader.shown(source / "book.toml"), None)
    entries = _entries(text or "", src, reader.shown(summary), reader)
    raw = {"title": book.get("title"), "author": book.get("authors"),
           "lang": book.get("language"), "description": book.get("description")}
    return Plan(source, metadata(raw), tuple(entries), single_scope=False, implicit_refs=False,
                meta_path=reader.shown(source / "book.toml"))


def _config(source: Path, reader) -> dict:
    text = reader.text(source / "book.toml")
    try:
        return tomllib.loads(text or "")
    except tomllib.TOMLDecodeError as exc:
        at = re.search(r"at line (\d+)", str(exc))  # (lineno is Python 3.14's)
        reader.errors.append(Problem(reader.shown(source / "book.toml"),
                                     int(at.group(1)) if at else None, "R010",
                                     f"book.toml is not valid TOML: {str(exc).split(' (at')[0]}",
                                     "fix book.toml so that mdBook itself can read it"))
        return {}


def _entries(text: str, src: Path, shown: str, reader) -> list[Entry]:
    entries, part, listed, heading_seen, part_line = [], "", False, False, None
    for number, line in enumerate(text.split("\n"), 1):
        head = PART.match(line)
        if head and not heading_seen and not entries and not listed:
            heading_seen = True  # "# Summary": the contents' own title
            continue
        if head:
            part, part_line = head.group(1), number
            continue
        link = LINK.match(line)
        if not link:
            continue
        item = bool(ITEM.match(line))
        listed = listed or item
        role = "chapter" if item else ("back" if listed else "front")
        if not link.group(2).strip():
            reader.report.note(shown, number, "R018", f"'{link.group(1)}' is a draft chapter "
                               "with no file: left out", "write the chapter's file, or "
                               "remove it from SUMMARY.md")
            continue
        path = (src / unquote(link.group(2).strip().split("#")[0])).resolve()
        if not path.is_relative_to(reader.root) or not path.is_file():
            reader.errors.append(Problem(shown, number, "R010", f"SUMMARY.md lists "
                                         f"'{link.group(2)}', which is "
                                         + ("outside the book" if not
                                            path.is_relative_to(reader.root) else "missing"),
                                         "fix the path in SUMMARY.md"))
            continue
        entries.append(Entry(path, role, link.group(1).strip(), part,
                             (shown, part_line) if part else ("", None)))
        part = ""
    return entries
