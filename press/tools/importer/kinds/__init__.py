"""Writing tools, import: each kind of source book read into a Plan (metadata, reading order)."""
from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

from press.problems import BuildError, Problem
from press.tools.importer.model import KINDS


def guess(source: Path) -> str:
    """The kind of book a source is, from the files that make each kind what it is."""
    if source.is_file():
        return "single"
    if not source.is_dir():
        raise BuildError([Problem(str(source), None, "R001", "the source does not exist",
                                  "name a Markdown file or a book's folder")])
    if (source / "book.toml").is_file() and any(source.rglob("SUMMARY.md")):
        return "mdbook"
    if (source / "_quarto.yml").is_file():
        return "quarto"
    if (source / "_bookdown.yml").is_file() or (source / "index.Rmd").is_file():
        return "bookdown"
    if any(source.glob("*.md")):
        return "pandoc"
    raise BuildError([Problem(str(source), None, "R002", "cannot tell what kind of book this is",
                              "give the kind: --from " + "|".join(KINDS))])


def authors(value) -> str:
    """One creator line from an author, a list of them, or Quarto's {name: ...} mappings."""
    if isinstance(value, dict):
        value = value.get("name", "")
        if isinstance(value, dict):  # Quarto: name: {given:, family:}
            value = " ".join(str(value.get(k, "")) for k in ("given", "family")).strip()
        return str(value or "")
    if isinstance(value, list):
        names = [authors(v) for v in value if authors(v)]
        return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1] \
            if names else ""
    return str(value or "").strip()


def metadata(raw: dict) -> dict:
    """The book.yaml keys a source's own metadata gives, with their press names."""
    def text(key):
        value = raw.get(key)
        if isinstance(value, (date, datetime)):
            return value.isoformat()[:10]
        if isinstance(value, list):
            value = " ".join(str(v) for v in value)
        return str(value).strip() if value not in (None, "") else ""

    found = {"title": text("title"), "subtitle": text("subtitle"),
             "creator": authors(raw.get("author") or raw.get("authors")),
             "language": text("lang") or text("language"), "date": text("date"),
             "description": text("description") or text("abstract"),
             "publisher": text("publisher"), "rights": text("rights") or text("copyright")}
    return {key: value for key, value in found.items() if value}
