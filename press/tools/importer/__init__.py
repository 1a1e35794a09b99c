"""Writing tools, import: an existing book (one Markdown file, mdBook, Quarto, bookdown or a
folder of Pandoc Markdown) laid out as a press manuscript, every word and construct kept.

import_book() reads the source's table of contents and metadata (kinds/), reads each file
with its includes (read), splits it into pieces at level-1 headings (split), rewrites
links, definitions, headings and images (rewrite) and writes the manuscript (output).
Errors stop it before anything is written; what press cannot take is left in the text
and listed in the report, with its source file and line.
"""
from __future__ import annotations

from dataclasses import replace
from importlib import import_module
from pathlib import Path

from press.problems import BuildError, Problem
from press.tools.importer import output, split
from press.tools.importer.kinds import guess
from press.tools.importer.model import KINDS, Doc, Piece, Report
from press.tools.importer.read import Reader
from press.tools.importer.rewrite import Index, Rewriter


def import_book(source: Path, dest: Path, kind: str | None = None) -> Report:
    """Write the manuscript for source into dest and say what was done; BuildError on errors."""
    source, dest = Path(source).resolve(), Path(dest).resolve()
    kind = (kind or "").strip().lower() or guess(source)
    if kind not in KINDS:
        raise BuildError([Problem(str(source), None, "R002", f"'{kind}' is no kind of source",
                                  "use --from " + "|".join(KINDS))])
    if not source.exists() or (kind == "single") != source.is_file():
        raise BuildError([Problem(str(source), None, "R001", "the source is not "
                                  + ("a file" if kind == "single" else "a folder"),
                                  "name a Markdown file for --from single, a folder otherwise")])
    report = Report(kind=kind)
    root = source.parent if kind == "single" else source
    reader = Reader(root, kind, report)
    plan = replace(import_module(f"press.tools.importer.kinds.{kind}").plan(source, reader),
                   kind=kind)
    old = output.check_target(dest, root, source)
    docs = [d for d in (reader.doc(e, _scope(plan, e.path)) for e in plan.entries) if d]
    if reader.errors:
        raise BuildError(list({str(e): e for e in reader.errors}.values()))  # each once
    pieces, heads = _pieces(docs, plan, report, kind)
    if not pieces:
        raise BuildError([Problem(str(source), None, "R015", "the source has no chapters",
                                  "check the table of contents, or name the right folder")])
    output.name_pieces(pieces)
    base = root / "src" if kind == "mdbook" else root
    rewriter = Rewriter(plan, Index(docs, heads, pieces), report, base.resolve())
    files = _files(pieces, rewriter)
    glossary, has_entries = output.glossary_text(dest)
    sources = [d.entry.path for d in docs]
    files["book.yaml"] = output.book_yaml(plan, kind, pieces, old, has_entries, report,
                                          sources).encode("utf-8")
    if glossary is not None:
        files["glossary.yaml"] = glossary.encode("utf-8")
    output.write(dest, files, rewriter.copies)
    _count(report, pieces, rewriter)
    return report


def _scope(plan, path: Path) -> str:
    return "book" if plan.single_scope else path.resolve().as_posix()


def _pieces(docs: list[Doc], plan, report: Report, kind: str):
    heads, pieces, taken = {}, [], {}
    for doc in docs:
        names = taken.setdefault(doc.scope, set())
        heads[id(doc)] = split.headings(doc, names, kind == "mdbook")
        if kind == "single":
            heads[id(doc)] = split.book_title(doc, heads[id(doc)], plan.metadata)
        pieces += split.split(doc, heads[id(doc)], report, plan.meta_titles)
        if doc.entry.part:
            report.note(doc.entry.part_at[0] or plan.meta_path, doc.entry.part_at[1], "R012", f"the part '{doc.entry.part}' is kept as "
                        "a comment in book.yaml", "press has no part pages; the chapters "
                        "after it are listed under it")
    return split.arrange(pieces, plan, report, kind == "mdbook"), heads


def _files(pieces: list[Piece], rewriter: Rewriter) -> dict[str, bytes]:
    for piece in pieces:
        rewriter.complete(piece)
    bodies = [rewriter.lines(piece) for piece in pieces]
    return {piece.file: output.piece_text(piece, rewriter.headings(piece, body)).encode("utf-8")
            for piece, body in zip(pieces, bodies)}


def _count(report: Report, pieces: list[Piece], rewriter: Rewriter) -> None:
    report.front = sum(p.role == "front" for p in pieces)
    report.chapters = sum(p.role == "chapter" for p in pieces)
    report.back = sum(p.role == "back" for p in pieces)
    report.images = len(rewriter.copies)
