"""The pipeline: the one place where the stages are chained, in the order they run."""
from __future__ import annotations

import os
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from .convert import convert_book, convert_definitions
from .enrich import Image, enrich_book, finish
from .fonts import FontFace, load_faces
from .errors import Problem, raise_if_any
from .glossary import GlossaryItem, glossary_items, lint_glossary, mark_terms, with_pages
from .load import load_book
from .model import Book, Chapter
from .render import render
from .safety import screen_book
from .write import atomic_write

PROJECT = Path(__file__).resolve().parent.parent
TOC_DEPTH = 3


@dataclass(frozen=True)
class Prepared:
    """Everything both outputs need, gathered and validated before anything is written."""

    book: Book
    chapters: tuple[Chapter, ...]
    glossary: tuple[GlossaryItem, ...]
    images: tuple[Image, ...]
    faces: tuple[FontFace, ...]
    styles: Path


def prepare(manuscript: Path, styles: Path, log=print) -> Prepared:
    """load -> convert -> enrich: the shared front half of every build."""
    book = load_book(manuscript)
    log(f"load     {len(book.parts)} parts, {len(book.glossary)} glossary entries")
    fragments = convert_book(book)
    definitions = convert_definitions(book)
    log(f"convert  {len(fragments)} parts through Pandoc")
    problems: list[Problem] = screen_book(book, fragments, definitions)  # raw HTML
    roots, headings, images, registry = enrich_book(book, fragments, problems)
    uses = mark_terms(book, roots, registry, problems)
    problems += lint_glossary(book, uses)
    raise_if_any(problems)
    items = glossary_items(book.glossary, definitions.get("__all__", ""), uses)
    chapters = finish(book, roots, headings)
    linked = sum(u.linked for us in uses.values() for u in us)
    log(f"enrich   {sum(len(c.headings) for c in chapters)} headings; {len(items)} glossary "
        f"terms, {linked} linked of {sum(map(len, uses.values()))} uses")
    return Prepared(book, chapters, items if book.back_glossary else (), tuple(images),
                    load_faces(styles), styles)


def context(p: Prepared) -> dict:
    """What every template may use."""
    return {"meta": p.book.meta, "chapters": p.chapters, "glossary": p.glossary,
            "fonts": p.faces, "toc_depth": TOC_DEPTH}


def layout_print(p: Prepared):
    """Lay out the print edition until the glossary's page references are true.

    The glossary comes last, so its page numbers cannot move the pages they point
    to: a first layout finds the pages, a second prints them (and is checked).
    """
    from . import pdf  # WeasyPrint takes most of a second to import: only when laying out

    roots = [p.styles, p.book.root, *{f.path.parent for f in p.faces}]
    items, warnings = p.glossary, []
    for attempt in range(3):
        html = render(p.styles, "print/book.html.j2", **{**context(p), "glossary": items},
                      print_css=(p.styles / "css" / "print.css").as_uri())
        warnings.clear()
        # Relative paths in the text (images) resolve against the manuscript folder.
        document = pdf.layout(html, p.book.root, roots, warnings)
        pages = pdf.anchor_pages(document)
        body = next((c.part.slug for c in p.chapters if c.part.kind == "chapter"), None)
        placed = with_pages(p.glossary, pages, pages.get(body, 0))
        if placed == items:
            return document, warnings
        items = placed
    raise RuntimeError("glossary page references did not settle after three layouts")


def build_pdf(p: Prepared, out: Path, log=print) -> Path:
    """render print HTML -> WeasyPrint -> build/<slug>.pdf"""
    from . import pdf

    document, warnings = layout_print(p)
    for message in warnings:
        log(f"warning  WeasyPrint: {message}")
    target = out / f"{p.book.meta.slug}.pdf"
    seconds = int(epoch(p.book.meta.date).timestamp())
    atomic_write(target, pdf.pdf_bytes(document, p.book.meta.identifier, seconds))
    log(f"pdf      {len(document.pages)} pages -> {target}")
    return target


def build_epub(p: Prepared, out: Path, log=print) -> Path:
    """render XHTML, package and nav -> zip -> build/<slug>.epub"""
    from . import epub

    when = epoch(p.book.meta.date)
    ctx = {**context(p), "modified": when.strftime("%Y-%m-%dT%H:%M:%SZ"),
           "a11y": accessibility(p)}
    items = epub.content_items(ctx, p.chapters, p.glossary, p.styles)
    items += epub.support_items(ctx, items, p.faces, p.images, p.styles, out / ".cache")
    package = render(p.styles, "epub/package.opf.j2", **ctx, manifest=items)
    container = render(p.styles, "epub/container.xml.j2")
    data = epub.zip_epub(container.encode(), package.encode(), items, when.timetuple()[:6])
    target = out / f"{p.book.meta.slug}.epub"
    atomic_write(target, data)
    log(f"epub     {len(items)} files -> {target}")
    return target


def accessibility(p: Prepared) -> dict:
    """Accessibility claims derived from what the book contains."""
    features = ["structuralNavigation", "tableOfContents", "readingOrder"]
    if p.images:
        features.append("alternativeText")
    if p.glossary:
        features.append("glossary")
    modes = ["textual"] + (["visual"] if p.images else [])
    summary = ("A text-only book with headings for each chapter and section, a navigable "
               "table of contents and a linked glossary. Images, if any, have text alternatives."
               if p.images else "A text-only book with headings for each chapter and section, "
               "a navigable table of contents and a linked glossary.")
    return {"access_modes": modes, "sufficient": ["textual"], "features": features,
            "summary": summary}


def epoch(book_date: str) -> datetime:
    """Time stamped into the outputs: SOURCE_DATE_EPOCH, else the book's date, never 'now'."""
    value = os.environ.get("SOURCE_DATE_EPOCH", "")
    if value.isdigit():
        when = datetime.fromtimestamp(int(value), tz=timezone.utc)
    else:
        when = datetime.fromisoformat(book_date[:10]).replace(tzinfo=timezone.utc)
    return max(when, datetime(1980, 1, 1, tzinfo=timezone.utc))  # the zip format's floor


def build(manuscript: Path, out: Path, formats=("pdf", "epub"), styles: Path | None = None,
          log=print) -> list[Path]:
    """The whole pipeline for the chosen formats; nothing is written unless all is valid."""
    started = time.perf_counter()
    refuse_output_inside(manuscript, out)
    prepared = prepare(manuscript, styles or PROJECT / "styles", log)
    outputs = []
    if "pdf" in formats:
        outputs.append(build_pdf(prepared, out, log))
    if "epub" in formats:
        outputs.append(build_epub(prepared, out, log))
    log(f"done     in {time.perf_counter() - started:.2f} s")
    return outputs


def refuse_output_inside(manuscript: Path, out: Path) -> None:
    """A build never writes into the manuscript, so the output folder may not be in it."""
    if out.resolve().is_relative_to(manuscript.resolve()):
        raise_if_any([Problem(out, None, "S008", "the output folder is inside the manuscript "
                              f"folder {manuscript}", "choose an output folder outside it, "
                              "such as build/")])
