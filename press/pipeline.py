"""The pipeline: the one place where the stages are chained, in the order they run."""
from __future__ import annotations

import hashlib
import json
import os
import re
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from press.source import convert

from press.epub import package as epub

from press.pdf import pagelist

from press.site import pages as screen
from press.source.convert import convert_all
from press.enrich.tree import Image
from press.source.fonts import FontFace, load_faces
from press.problems import Problem, raise_if_any
from press.enrich.glossary import GlossaryItem, glossary_items, lint_glossary
from press.source.load import load_book
from press.util.memo import Memo
from press.pdf.plan import Paginator, Segment
from press.enrich.parts import enrich_book
from press.model import Book, Chapter
from press.render.templates import Renderer, render
from press.source.vet import screen_book
from press.util.write import atomic_write, file_stamp

PROJECT = Path(__file__).resolve().parent.parent


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
    Memo.fit(len(book.parts))  # what a warm process keeps, sized to this book
    log(f"load     {len(book.parts)} parts, {len(book.glossary)} glossary entries")
    runs = convert.CACHE.runs
    fragments, definitions = convert_all(book)
    ran = convert.CACHE.runs - runs
    log(f"convert  {len(fragments)} parts: {ran} Pandoc run(s), the rest unchanged (cached)"
        if ran < len(fragments) + 1 else f"convert  {len(fragments)} parts through Pandoc")
    problems: list[Problem] = screen_book(book, fragments, definitions)  # raw HTML
    enriched = enrich_book(book, fragments, problems)  # only changed parts again (parts.py)
    uses, chapters = enriched.uses, enriched.chapters
    problems += lint_glossary(book, uses)
    raise_if_any(problems)
    items = glossary_items(book.glossary, definitions.get("__all__", ""), uses)
    linked = sum(u.linked for us in uses.values() for u in us)
    log(f"enrich   {sum(len(c.headings) for c in chapters)} headings; {len(items)} glossary "
        f"terms, {linked} linked of {sum(map(len, uses.values()))} uses")
    return Prepared(book, chapters, items if book.back_glossary else (), enriched.images,
                    load_faces(styles), styles)


def context(p: Prepared) -> dict:
    """What every template may use."""
    return {"meta": p.book.meta, "chapters": p.chapters, "glossary": p.glossary,
            "fonts": p.faces, "toc_depth": p.book.meta.toc_depth}


def print_html(p: Prepared, items, segment: Segment | None = None) -> str:
    """The print edition's HTML: the whole book, or the part of it a segment holds."""
    return render(p.styles, PRINT_TEMPLATE, **print_context(p, items, segment))


PRINT_TEMPLATE = "print/book.html.j2"


def print_context(p: Prepared, items, segment: Segment | None = None) -> dict:
    segment = segment or Segment(parts=tuple(p.chapters))
    return {**context(p), "glossary": items, "segment": segment,
            "print_css": (p.styles / "css" / "print.css").as_uri()}


# The print edition's parts of the last build, and the workers that typeset them: kept
# while the process lives, so a warm rebuild typesets only what changed.
PAGINATOR = Paginator()


def layout_print(p: Prepared):
    """Typeset and bind the print edition part by part (see paginate.py); the glossary's
    page references come from where the chapters' term uses landed."""
    roots = [p.styles, p.book.root, *{f.path.parent for f in p.faces}]
    # Relative paths in the text (images) resolve against the manuscript folder.
    css = [(render(p.styles, "print/book.css.j2", **context(p)), p.styles.as_uri() + "/"),
           ((p.styles / "css" / "print.css").read_text(encoding="utf-8"),
            (p.styles / "css").as_uri() + "/")]
    seconds = int(epoch(p.book.meta.date).timestamp())
    return PAGINATOR.layout(p, lambda segment, items: print_html(p, items, segment),
                            p.book.root, roots, css, seconds)


def print_page_starts(p: Prepared, printed, out: Path) -> list[pagelist.PageStart]:
    """Where each printed page begins; kept in out/.cache for EPUB-only builds."""
    starts = pagelist.page_starts(printed.marks, printed.body_start)
    cache = out / ".cache" / f"{p.book.meta.slug}.pages.json"
    cache.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(cache, json.dumps({"stamp": print_stamp(p), "pages": [
        [s.label, s.key, s.offset] for s in starts]}).encode("utf-8"))
    return starts


def print_stamp(p: Prepared) -> str:
    """What the print layout depends on: its HTML before page numbers, and the style sheet.

    Kept in this process by what the HTML is made from (the template and its values), so
    the HTML is rendered again only when that changed.
    """
    css = (p.styles / "css" / "print.css").read_bytes()

    def stamp() -> str:
        digest = hashlib.sha256(print_html(p, p.glossary).encode("utf-8"))
        digest.update(css)
        return digest.hexdigest()

    key = Renderer(p.styles).key(PRINT_TEMPLATE, **print_context(p, p.glossary))
    return stamp() if key is None else STAMPS.get((key, css), stamp)


STAMPS = Memo(limit=8)  # (print HTML's template and values, print.css) -> print_stamp


def known_page_starts(p: Prepared, out: Path, log=print) -> list[pagelist.PageStart]:
    """The print page starts for an EPUB-only build, from the last print layout if it
    still holds for this manuscript. If not, the EPUB is made without a page list (and
    says so in its metadata) rather than lay out the whole print edition again."""
    cache = out / ".cache" / f"{p.book.meta.slug}.pages.json"
    try:
        saved = json.loads(cache.read_text(encoding="utf-8"))
        if saved["stamp"] == print_stamp(p):
            return [pagelist.PageStart(*page) for page in saved["pages"]]
    except (OSError, ValueError, KeyError, TypeError):
        pass
    log("epub     no print page list: the print layout changed since the last PDF; "
        "invoke build makes both with the page list")
    return []


def build_pdf(p: Prepared, out: Path, log=print):
    """render print HTML -> typeset the parts (WeasyPrint) -> bind -> build/<slug>.pdf;
    also where each page begins"""
    printed = layout_print(p)
    for message in printed.warnings:
        log(f"warning  WeasyPrint: {message}")
    target = out / f"{p.book.meta.slug}.pdf"
    atomic_write(target, printed.data)
    log(f"pdf      {printed.pages} pages, {PAGINATOR.laid_out} part(s) typeset -> {target}")
    return target, print_page_starts(p, printed, out)


def build_epub(p: Prepared, out: Path, starts=None, log=print) -> Path:
    """render XHTML with the print page breaks, package and nav -> zip -> build/<slug>.epub"""
    when = epoch(p.book.meta.date)
    starts = known_page_starts(p, out, log) if starts is None else starts
    ctx = {**context(p), "modified": when.strftime("%Y-%m-%dT%H:%M:%SZ"),
           "a11y": accessibility(p, paged=bool(starts))}
    renderer = Renderer(p.styles)  # a document whose template and values are unchanged is kept
    items, lines = epub.content_items(ctx, p.chapters, p.glossary, p.styles, starts, renderer)
    write_source_map(p, out, lines)
    items += epub.support_items(ctx, items, p.faces, p.images, p.styles, out / ".cache",
                                renderer)
    package = render(p.styles, "epub/package.opf.j2", **ctx, manifest=items)
    container = render(p.styles, "epub/container.xml.j2")
    data = epub.zip_epub(container.encode(), package.encode(), items, when.timetuple()[:6])
    target = out / f"{p.book.meta.slug}.epub"
    atomic_write(target, data)
    log(f"epub     {len(items)} files, {len(starts)} print pages marked -> {target}")
    return target


def write_source_map(p: Prepared, out: Path, lines: dict) -> None:
    """For validators' findings: the Markdown file and line behind each line of the EPUB."""
    files = {f"{c.part.slug}.xhtml": c.part.path for c in p.chapters}
    sources = {href: {"source": str(files[href]), "lines": lines[href]}
               for href in lines if href in files}
    if p.glossary and p.book.glossary_path:
        sources["glossary.xhtml"] = {"source": str(p.book.glossary_path), "ids": {
            item.id: item.entry.line for item in p.glossary}}
    target = out / ".cache" / f"{p.book.meta.slug}.sources.json"
    if SOURCE_MAPS.get(target) == (sources, file_stamp(target)):
        return  # written by this process, with the same content, and not touched since
    target.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(target, json.dumps(sources, indent=0).encode("utf-8"))
    SOURCE_MAPS[target] = (sources, file_stamp(target))


SOURCE_MAPS: dict = {}  # source map file -> (what was written, its stamp after writing)


def accessibility(p: Prepared, paged: bool) -> dict:
    """Accessibility claims derived from what the book contains."""
    features = ["structuralNavigation", "tableOfContents", "readingOrder"]
    if p.images:
        features.append("alternativeText")
    if paged:
        features += ["pageBreakMarkers", "pageNavigation"]
    modes = ["textual"] + (["visual"] if p.images else [])
    said = ["Headings mark every chapter and section, and a table of contents and landmarks "
            "lead to each part"]
    if p.glossary:
        said.append("terms link to a glossary at their first use in each chapter, and back")
    if p.images:
        said.append("every image has a text alternative")
    if paged:
        said.append("page-break markers and a page list follow the print edition")
    # What the build can vouch for: alt text and heading order are enforced, every document
    # declares its language; tables must have header cells for the claim to be made.
    tables_ok = all("<table" not in c.xhtml or re.search(r"<th[\s>]", c.xhtml)
                    for c in p.chapters)
    return {"access_modes": modes, "sufficient": ["textual"], "features": features,
            "summary": "; ".join(said) + ". Nothing depends on colour or sight alone.",
            "conforms_to": "EPUB Accessibility 1.1 - WCAG 2.2 Level AA" if tables_ok else "",
            "page_source": (p.book.meta.isbn_urn or p.book.meta.identifier) if paged else ""}


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
    # Pandoc's output for a Markdown text is kept (keyed by text, Pandoc and filter), so
    # the next build converts only the parts that changed; kept only once all is built.
    shelf = convert.CACHE.shelf = out / ".cache" / "pandoc"
    convert.CACHE.touched.clear()
    if "pdf" in formats:  # the typesetting workers start while Pandoc runs
        PAGINATOR.shelf = out / ".cache" / "print"
        PAGINATOR.typesetters.start(1)
    prepared = prepare(manuscript, styles or PROJECT / "styles", log)
    outputs, starts = [], None
    if "pdf" in formats:
        target, starts = build_pdf(prepared, out, log)
        outputs.append(target)
    if "epub" in formats:
        outputs.append(build_epub(prepared, out, starts, log))
    if "html" in formats:
        build_html(prepared, out, log)
        outputs.append(out / "html" / "index.html")
    convert.CACHE.save(shelf)
    if "pdf" in formats:
        PAGINATOR.save()
    log(f"done     in {time.perf_counter() - started:.2f} s")
    return outputs


def build_html(p: Prepared, out: Path, log=print) -> list[str]:
    """render screen pages -> build/html/; returns the files that changed (site-relative).

    Only files whose bytes differ are written, so a warm rebuild after editing one
    chapter touches that chapter's page (and the glossary's, if its uses moved).
    """
    site = out / "html"
    files = screen.pages(context(p), p.chapters, p.glossary, p.styles)
    files += screen.assets(p.faces, p.images, p.styles)
    changed = [f.href for f in files if screen.put(site, f)]
    changed += screen.prune(site, {f.href for f in files})
    log(f"html     {len(changed)} of {len(files)} files changed -> {site}")
    return changed


def refuse_output_inside(manuscript: Path, out: Path) -> None:
    """A build never writes into the manuscript, so the output folder may not be in it."""
    if out.resolve().is_relative_to(manuscript.resolve()):
        raise_if_any([Problem(out, None, "S008", "the output folder is inside the manuscript "
                              f"folder {manuscript}", "choose an output folder outside it, "
                              "such as build/")])
