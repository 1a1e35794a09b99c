"""Writing tools, import: the new manuscript written (book.yaml, parts, glossary, images).

Files are made in memory first and then written, each by rename, only when its bytes
changed; files an earlier import made that this one does not are removed (front/,
chapters/, back/ and images/ belong to the import). A folder that holds anything else is
refused, so nothing of the author's is overwritten.
"""
from __future__ import annotations

import json
import uuid
from datetime import datetime, timezone
from pathlib import Path

import yaml

from press.problems import BuildError, Problem
from press.source.load import LANG_TAG
from press.tools.importer import text as md
from press.tools.importer.model import Piece, Plan, Report
from press.util.write import atomic_write

MANAGED = ("front", "chapters", "back", "images")
MARK = "# Imported by `invoke import`"  # what book.yaml of an earlier import starts with
WORDS = 6  # a file name takes the title's first six words
# Names the book's own furniture takes (press.enrich.tree.reserved_ids): no part takes them.
RESERVED = frozenset({"toc", "toc-title", "glossary", "glossary-title", "title-page", "copyright",
            "cover", "landmarks", "footnotes", "page-list", "contents", "nav"})
GLOSSARY = ("# The glossary: none was imported. Add entries as '- term: ...' with a\n"
            "# 'definition:' (README, Editing the book), and list 'glossary' under back:.\n[]\n")


def check_target(dest: Path, root: Path, source: Path) -> dict:
    """Refuse a folder that is not empty and not a press manuscript, or that overlaps the
    source; return the old book.yaml's data (what a re-import keeps)."""
    dest, root = dest.resolve(), root.resolve()
    if (source.is_dir() and (dest.is_relative_to(root) or root.is_relative_to(dest))) or \
            source.resolve().is_relative_to(dest):
        raise BuildError([Problem(str(dest), None, "R004", "the manuscript folder and the "
                                  "source overlap", "import into a folder outside the source "
                                  "(and not holding it)")])
    if not dest.exists():
        return {}
    if not dest.is_dir() or not any(dest.iterdir()):
        return {}
    try:
        text = (dest / "book.yaml").read_text(encoding="utf-8")
        old = yaml.safe_load(text) or {}
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        text, old = "", {}
    if not text.startswith(MARK):  # a manuscript written by hand is never replaced
        raise BuildError([Problem(str(dest), None, "R003", "the folder is not empty and holds "
                                  "no earlier import (its book.yaml does not start with "
                                  f"'{MARK}')", "import into a new or empty folder, or into "
                                  "an earlier import")])
    return old if isinstance(old, dict) else {}


def name_pieces(pieces: list[Piece]) -> None:
    """front/slug.md, chapters/NN-slug.md and back/slug.md; no two parts share a name."""
    taken = set(RESERVED)
    chapters = [p for p in pieces if p.role == "chapter"]
    width = max(2, len(str(len(chapters))))
    number = 0
    for piece in pieces:
        name = md.unique("-".join(md.slug(piece.title).split("-")[:WORDS]), taken)
        if piece.role == "chapter":
            number += 1
            piece.file = f"chapters/{number:0{width}d}-{name}.md"
        else:
            piece.file = f"{piece.role}/{name}.md"


def piece_text(piece: Piece, body: list[str]) -> str:
    while body and not body[0].strip():
        body = body[1:]
    while body and not body[-1].strip():
        body = body[:-1]
    title = json.dumps(md.plain(piece.title) if "\n" not in piece.title else piece.title,
                       ensure_ascii=False)
    return f"---\ntitle: {title}\n---\n\n" + "\n".join(body) + "\n"


def book_yaml(plan: Plan, kind: str, pieces: list[Piece], old: dict, glossary: bool,
              report: Report, sources: list[Path]) -> str:
    meta = _metadata(plan, kind, old, report, sources)
    head = (f"{MARK} ({kind}). Importing again replaces this file and\n"
            "# front/, chapters/, back/ and images/, keeping the identifier (and the date and\n"
            "# rights when the source has none).\n")
    data = yaml.safe_dump(meta, sort_keys=False, allow_unicode=True, width=88)
    lists = []
    for role, key in (("front", "front"), ("chapter", "chapters"), ("back", "back")):
        chosen = [p for p in pieces if p.role == role]
        lines = [f"{key}:"]
        for piece in chosen:
            if piece.part:
                lines.append(f"  # Part: {' '.join(piece.part.split())}")
            lines.append(f"  - {piece.file}")
        if role == "back" and glossary:
            lines.append("  - glossary")
        if len(lines) == 1:
            lines = [f"{key}: []"]
        lists.append("\n".join(lines))
    return head + data + "\n" + "\n".join(lists) + "\n"


def _metadata(plan: Plan, kind: str, old: dict, report: Report, sources: list[Path]) -> dict:
    found = dict(plan.metadata)
    where = plan.meta_path or str(plan.root)

    def stand_in(key: str, value: str, why: str) -> str:
        report.note(where, None, "R011", f"the source gives no {key}: wrote '{value}'",
                    f"{why} (book.yaml, '{key}:')")
        return value

    name = Path(plan.meta_path).stem if kind == "single" else plan.root.name
    title = found.get("title") or stand_in("title", name, "give the book's title")
    creator = found.get("creator") or stand_in("author", "Unknown", "name the author")
    date = _date(found.get("date", "")) or _date(str(old.get("date", ""))) or \
        stand_in("date", _newest(sources), "give the publication date")
    year = date[:4]
    rights = found.get("rights") or str(old.get("rights") or "") or \
        stand_in("rights", f"© {year} {creator}. All rights reserved.", "state the rights")
    meta = {"title": title}
    if found.get("subtitle"):
        meta["subtitle"] = found["subtitle"]
    meta |= {"creator": creator,
             "language": _language(found.get("language", ""), stand_in),
             "identifier": str(old.get("identifier") or "") or identifier(kind, title, creator),
             "date": date, "rights": rights}
    for key in ("publisher", "description"):
        if found.get(key):
            meta[key] = found[key]
    return meta


def _language(given: str, stand_in) -> str:
    """The source's language when it is a BCP 47 tag (mdBook and Quarto write 'en', 'en-US');
    'en' otherwise, reported."""
    if LANG_TAG.match(given):
        return given
    why = f"'{given}' is no language tag; give one" if given else "give the language tag"
    return stand_in("language", "en", why)


def identifier(kind: str, title: str, creator: str) -> str:
    """A fresh identifier that importing the same book again gives again: a UUID 5 of the
    book's kind, title and author (edits to the text do not change it)."""
    return "urn:uuid:" + str(uuid.uuid5(uuid.NAMESPACE_URL,
                                        f"press-import:{kind}:{title}:{creator}"))


def _date(value: str) -> str:
    try:
        return datetime.fromisoformat(value.strip()[:10]).date().isoformat()
    except ValueError:
        return ""


def _newest(sources: list[Path]) -> str:
    """The day the newest source file was saved (the same on every import of it)."""
    stamp = max((p.stat().st_mtime for p in sources if p.exists()), default=0)
    return datetime.fromtimestamp(stamp, timezone.utc).date().isoformat()


def write(dest: Path, files: dict[str, bytes], copies: dict[str, Path]) -> None:
    """Write what changed, then remove what an earlier import made and this one did not."""
    dest.mkdir(parents=True, exist_ok=True)
    wanted = set(files) | set(copies)
    for name, data in sorted(files.items()):
        _put(dest / name, data)
    for name, source in sorted(copies.items()):
        _put(dest / name, source.read_bytes())
    for folder in MANAGED:
        for path in sorted((dest / folder).rglob("*"), reverse=True):
            rel = path.relative_to(dest).as_posix()
            if path.is_file() and rel not in wanted:
                path.unlink()
            elif path.is_dir() and not any(path.iterdir()):
                path.rmdir()


def _put(path: Path, data: bytes) -> None:
    if path.is_file() and path.read_bytes() == data:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(path, data)


def glossary_text(dest: Path) -> tuple[str | None, bool]:
    """(text to write or None to keep the old one, whether the book has glossary entries)."""
    path = dest / "glossary.yaml"
    if not path.is_file():
        return GLOSSARY, False
    try:
        entries = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        entries = None
    return None, bool(entries) and isinstance(entries, list)

