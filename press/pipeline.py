"""The pipeline: the one place where the stages are chained, in the order they run.

    load -> convert (Pandoc) -> vet raw HTML -> enrich            prepare()
    -> print: render parts, typeset, bind -> .pdf                 make_pdf()
    -> epub: render XHTML with the print page breaks -> .epub     make_epub()
    -> site: screen pages -> html/                                make_html()
    -> write every file, only once all of them are made           write()

What a build keeps between runs is in the Workspace its caller hands in.
"""
from __future__ import annotations

import hashlib
import json
import logging
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

from press.source import dialect
from press.enrich.glossary import GlossaryItem, glossary_items, lint_glossary
from press.enrich import index as book_index
from press.enrich.parts import enrich_book
from press.enrich.tree import Image
from press.epub import package as epub
from press.epub.a11y import accessibility
from press.epub.cover import Pending
from press.model import Book, Chapter
from press.pdf import pagelist
from press.pdf.plan import Segment
from press.problems import BuildError, Problem, counted, raise_if_any, writing_failed
from press.render.templates import Renderer
from press.site import pages as site
from press.source.fonts import FontFace, load_faces
from press.source.index import with_index
from press.source.load import load_book, real_path
from press.source.vet import vet_book
from press.util.dates import epoch
from press.util.memo import sealed, unsealed
from press.util.write import atomic_write, write_together
from press.workspace import Workspace

PROJECT = Path(__file__).resolve().parent.parent
PRINT_TEMPLATE = "print/book.html.j2"


@dataclass(frozen=True)
class Prepared:
    """Everything the outputs need, gathered and validated before anything is made."""

    book: Book
    chapters: tuple[Chapter, ...]
    glossary: tuple[GlossaryItem, ...]
    images: tuple[Image, ...]
    faces: tuple[FontFace, ...]
    styles: Path
    index: tuple[book_index.IndexGroup, ...] = ()  # the back-of-book index, no pages yet
    warnings: tuple[Problem, ...] = ()  # found while preparing, not stopping the build


@dataclass
class Made:
    """Outputs made in memory, written only once every requested format is made."""

    files: list[tuple[Path, bytes]] = field(default_factory=list)  # written as they are
    site: list = field(default_factory=list)  # screen pages: written when their bytes differ
    targets: list[Path] = field(default_factory=list)  # what the build reports it made


def prepare(ws: Workspace, manuscript: Path, styles: Path, log=print,
            book: Book | None = None, positions: bool = False) -> Prepared:
    """load -> convert -> vet -> enrich: the shared front half of every build.

    book: one already loaded (lint passes the one a load with local faults still made).
    positions: read every text with its source positions. Otherwise a text that does not
    need them (press.source.convert.needs_positions) is read without, in a third of the time,
    and if anything is found to report, the book is read again with them: every message
    names its line, and the outputs are the same either way.
    """
    book = with_index(book or load_book(manuscript, memos=ws.memos), ws.memos)  # index.yaml
    ws.memos.fit(len(book.parts))  # what a warm process keeps, sized to this book
    log(f"load     {counted(len(book.parts), 'part')}, "
        f"{counted(len(book.glossary), 'glossary entry', 'glossary entries')}")
    if not positions:
        said: list[str] = []
        prepared = front(ws, book, styles, said.append, positions=False)
        if prepared is not None:
            for line in said:
                log(line)
            return prepared
    return front(ws, book, styles, log, positions=True)


def front(ws: Workspace, book: Book, styles: Path, log, positions: bool) -> Prepared | None:
    """convert -> vet -> enrich; None when a text read without positions turned up
    something to report (prepare reads the book again, with them)."""
    runs = ws.pandoc.cache.runs
    converted = ws.pandoc.book(book, positions)
    ran = ws.pandoc.cache.runs - runs
    log(f"convert  {counted(len(converted.parts), 'part')}: {counted(ran, 'Pandoc run')}, "
        "the rest unchanged (cached)" if ran < len(converted.parts) + bool(book.glossary) else
        f"convert  {counted(len(converted.parts), 'part')} through Pandoc")
    try:
        problems: list[Problem] = vet_book(book, converted, ws.memos)
        enriched = enrich_book(book, converted.parts, problems, ws.memos)
        problems += dialect.refusals(book, converted.parts)  # grid tables, raw TeX
        uses, chapters = enriched.uses, enriched.chapters
        problems += lint_glossary(book, uses)
        started = time.perf_counter()
        groups, found = book_index.build_index(book, enriched.marks)
        problems += found
        if problems and converted.plain:
            return None
        raise_if_any(problems)
        items = glossary_items(book.glossary, converted.definitions, uses, ws.memos)
    except BuildError:
        if converted.plain:
            return None
        raise
    linked = sum(u.linked for us in uses.values() for u in us)
    headings = sum(len(c.headings) for c in chapters)
    log(f"enrich   {counted(headings, 'heading')}; {counted(len(items), 'glossary term')}, "
        f"{linked} linked of {counted(sum(map(len, uses.values())), 'use')}")
    if book.back_index:
        entries, locators = book_index.counts(groups)
        log(f"index    {entries} entries, {locators} locators "
            f"({time.perf_counter() - started:.3f} s)")
    for warning in problems:
        log(f"warning  {warning}")
    return Prepared(book, chapters, items if book.back_glossary else (), enriched.images,
                    load_faces(styles, ws.memos), styles,
                    groups if book.back_index else (), tuple(problems))


def context(p: Prepared) -> dict:
    """What every template may use."""
    return {"meta": p.book.meta, "chapters": p.chapters, "glossary": p.glossary,
            "fonts": p.faces, "toc_depth": p.book.meta.toc_depth, "index": p.index,
            "has_index": bool(p.index)}


def print_context(p: Prepared, items, segment: Segment | None = None) -> dict:
    segment = segment or Segment(parts=tuple(p.chapters))
    return {**context(p), "glossary": items, "segment": segment,
            "print_css": (p.styles / "css" / "print.css").as_uri(),
            "highlight_css": (p.styles / "css" / "highlight.css").as_uri()}


def print_html(p: Prepared, items, segment: Segment | None = None,
               renderer: Renderer | None = None) -> str:
    """The print edition's HTML: the whole book, or the part of it a segment holds."""
    renderer = renderer or Renderer(p.styles)
    return renderer.plain(PRINT_TEMPLATE, **print_context(p, items, segment))


def layout_print(ws: Workspace, p: Prepared):
    """Typeset and bind the print edition part by part (press.pdf.plan); the glossary's
    page references come from where the chapters' term uses landed."""
    renderer = Renderer(p.styles, ws.memos, ws.warm)
    roots = [p.styles, p.book.root, *{f.path.parent for f in p.faces}]
    # Relative paths in the text (images) resolve against the manuscript folder.
    css = [(renderer.plain("print/book.css.j2", **context(p)), p.styles.as_uri() + "/"),
           *(((p.styles / "css" / name).read_text(encoding="utf-8"),
              (p.styles / "css").as_uri() + "/") for name in ("print.css", "highlight.css"))]
    seconds = int(epoch(p.book.meta.date).timestamp())
    return ws.printer.layout(p, lambda segment, items: print_html(p, items, segment, renderer),
                             p.book.root, roots, css, seconds)


def print_stamp(ws: Workspace, p: Prepared) -> str:
    """What the print layout depends on: its HTML before page numbers, and the style sheet.

    Kept by what the HTML is made from (the template and its values), so the HTML is
    rendered again only when that changed.
    """
    css = (p.styles / "css" / "print.css").read_bytes()
    renderer = Renderer(p.styles, ws.memos, ws.warm)
    values = print_context(p, p.glossary)

    def stamp() -> str:
        digest = hashlib.sha256(print_html(p, p.glossary, None, renderer).encode("utf-8"))
        digest.update(css)
        return digest.hexdigest()

    key = renderer.key(PRINT_TEMPLATE, **values)
    return stamp() if key is None else ws.memos("pipeline.print-stamps", 8).get((key, css), stamp)


@dataclass(frozen=True)
class PrintFacts:
    """What the EPUB takes from the print layout: where each page begins, and the page
    index of each index mark (with the first arabic page), for its locators' labels."""

    starts: list = field(default_factory=list)
    index_pages: dict = field(default_factory=dict)
    body_start: int = 0

    def index(self, groups):
        """The index with print pages, when the layout is known; else as it is."""
        if not self.starts or not groups:
            return groups
        return book_index.with_pages(groups, self.index_pages, self.body_start)


def make_pdf(ws: Workspace, p: Prepared, made: Made, log=print) -> PrintFacts:
    """render print HTML -> typeset the parts (WeasyPrint) -> bind -> <slug>.pdf; returns
    where each page begins and where the index marks fell (kept for an EPUB built alone)."""
    printed = layout_print(ws, p)
    for message in printed.warnings:  # said by WeasyPrint in a worker: said here again
        log(f"warning  WeasyPrint: {message}")
        logging.getLogger("weasyprint").warning("%s", message)
    target = ws.out / f"{p.book.meta.slug}.pdf"
    made.files.append((target, printed.data))
    made.targets.append(target)
    starts = pagelist.page_starts(printed.marks, printed.body_start)
    facts = PrintFacts(starts, book_index.locator_pages(p.index, printed.anchors,
                                                        printed.body_start),
                       printed.body_start)
    pages = json.dumps({"starts": [[s.label, s.key, s.offset] for s in starts],
                        "index": facts.index_pages, "body_start": facts.body_start})
    stamp = print_stamp(ws, p)
    made.files.append((ws.cache("pages") / f"{stamp}.json",
                       sealed(stamp, pages.encode("utf-8"))))
    log(f"pdf      {counted(printed.pages, 'page')}, {counted(ws.printer.laid_out, 'part')} "
        f"typeset -> {target}")
    return facts


def known_page_starts(ws: Workspace, p: Prepared, log=print) -> PrintFacts:
    """The print page starts for an EPUB-only build, from the last print layout if it
    still holds for this manuscript. If not, the EPUB is made without a page list (and
    says so in its metadata) rather than lay out the whole print edition again."""
    folder = ws.cache("pages")
    # With no page list kept at all (a cold build), the stamp need not be worked out:
    # it renders the whole print HTML (about 1 s on the 264-page book).
    if any(folder.glob("*.json")):
        stamp = print_stamp(ws, p)
        facts = kept_facts(unsealed(folder / f"{stamp}.json", stamp))
        if facts is not None:
            return facts
    log("epub     no print page list: the print layout changed since the last PDF; "
        "invoke build makes both with the page list")
    return PrintFacts()


def kept_facts(data: bytes | None) -> PrintFacts | None:
    """The print facts a PDF build kept, if the entry holds what make_pdf writes."""
    try:
        saved = json.loads(data or b"")
        starts, index, body_start = saved["starts"], saved["index"], saved["body_start"]
    except (ValueError, TypeError, KeyError):
        return None
    sound = (isinstance(starts, list) and all(
        isinstance(page, list) and len(page) == 3 and type(page[0]) is str
        and (page[1] is None or type(page[1]) is str) and type(page[2]) is int
        for page in starts) and isinstance(index, dict) and type(body_start) is int
        and all(type(k) is str and type(v) is int for k, v in index.items()))
    if not sound:
        return None
    return PrintFacts([pagelist.PageStart(*page) for page in starts], dict(index), body_start)


def make_epub(ws: Workspace, p: Prepared, made: Made, facts: PrintFacts | None = None,
              log=print, cover: Pending | None = None) -> None:
    """render XHTML with the print page breaks, package and nav -> zip -> <slug>.epub, and
    the map from its lines to the Markdown (<slug>.sources.json) for the validators.
    cover: the cover, if it was asked for earlier (order_cover)."""
    when = epoch(p.book.meta.date)
    facts = known_page_starts(ws, p, log) if facts is None else facts
    starts = facts.starts
    ctx = {**context(p), "index": facts.index(p.index),
           "modified": when.strftime("%Y-%m-%dT%H:%M:%SZ"),
           "a11y": accessibility(p.chapters, p.glossary, p.images,
                                 p.book.meta.isbn_urn or p.book.meta.identifier,
                                 paged=bool(starts))}
    renderer = Renderer(p.styles, ws.memos, ws.warm)  # unchanged documents are kept (memos)
    items, lines = epub.content_items(ctx, p.chapters, p.glossary, starts, renderer)
    cover = cover or order_cover(ws, p.book, p.faces, p.styles, renderer)
    items += epub.support_items(cover.png(), items, p.faces, p.images, p.styles,
                                ws.cached("fonts"), renderer)
    package = renderer.plain("epub/package.opf.j2", **ctx, manifest=items)
    container = renderer.plain("epub/container.xml.j2")
    data = epub.zip_epub(container.encode(), package.encode(), items, when.timetuple()[:6],
                         ws.memos)
    target = ws.out / f"{p.book.meta.slug}.epub"
    made.files += [(target, data), (source_map_path(ws.out, p.book.meta.slug),
                                    source_map(p, lines))]
    made.targets.append(target)
    log(f"epub     {len(items)} files, {len(starts)} print pages marked -> {target}")


def order_cover(ws: Workspace, book: Book, faces, styles: Path,
                renderer: Renderer | None = None) -> Pending:
    """The EPUB's cover, from the cache or asked of a typesetting worker (drawn while the
    build goes on, if it has nothing else to do)."""
    return Pending(book.meta, faces, styles, ws.cached("fonts"),
                   renderer or Renderer(styles, ws.memos, ws.warm), ws.printer.typesetters)


def source_map_path(out: Path, slug: str) -> Path:
    """Where the EPUB's source map goes: beside the EPUB, an output that check reads."""
    return out / f"{slug}.sources.json"


def source_map(p: Prepared, lines: dict) -> bytes:
    """For validators' findings: the Markdown file and line behind each line of the EPUB."""
    files = {f"{c.part.slug}.xhtml": c.part.path for c in p.chapters}
    sources = {href: {"source": str(files[href]), "lines": lines[href]}
               for href in lines if href in files}
    if p.glossary and p.book.glossary_path:
        sources["glossary.xhtml"] = {"source": str(p.book.glossary_path), "ids": {
            item.id: item.entry.line for item in p.glossary}}
    if p.index and p.book.index.path:  # an entry's finding: its line in index.yaml, if any
        lines = {t.term: t.line for t in p.book.index.terms}
        sources["index.xhtml"] = {"source": str(p.book.index.path), "ids": {
            e.id: lines.get(e.key) for g in p.index for top in g.entries
            for e in (top, *top.subentries)}}
    return json.dumps(sources, indent=0).encode("utf-8")


def make_html(ws: Workspace, p: Prepared, made: Made) -> None:
    """render screen pages -> html/ (written later, each only when its bytes changed)."""
    renderer = Renderer(p.styles, ws.memos, ws.warm)
    made.site += site.pages(context(p), p.chapters, p.glossary, renderer, p.index)
    made.site += site.assets(p.faces, p.images, renderer)
    made.targets.append(ws.out / "html" / "index.html")


def write(ws: Workspace, made: Made, log=print) -> list[str]:
    """Put every made file in place, all renamed only once all are written; returns the
    screen pages that changed. A file-system error is a coded problem (F005-F007).

    Only files whose bytes differ are written in html/, so a warm rebuild after editing
    one chapter touches that chapter's page (and the glossary's, if its uses moved).
    """
    try:
        return _write(ws, made, log)
    except OSError as error:
        raise writing_failed(error, ws.out) from None


def _write(ws: Workspace, made: Made, log) -> list[str]:
    write_together(made.files)
    for target, _ in made.files:
        if target.parent == ws.cached("pages"):  # one layout's page starts are enough
            for old in target.parent.glob("*.json"):
                if old != target:
                    old.unlink(missing_ok=True)
    if not made.site:
        return []
    folder, written = ws.out / "html", ws.memos("site.written", 4096)
    before = site.manifest(folder)
    changed = [page.href for page in made.site if site.put(folder, page, written)]
    changed += site.prune(folder, {page.href for page in made.site}, before)
    log(f"html     {len(changed)} of {len(made.site)} files changed -> {folder}")
    return changed


def produce(ws: Workspace, p: Prepared, formats, log=print,
            cover: Pending | None = None) -> tuple[list[Path], list[str]]:
    """Make the formats from a prepared book, in memory, then write them all; returns the
    outputs and the screen pages that changed. cover: the EPUB's, asked for earlier."""
    made, starts = Made(), None
    if "pdf" in formats:
        starts = make_pdf(ws, p, made, log)
    if "epub" in formats:
        make_epub(ws, p, made, starts, log, cover)
    if "html" in formats:
        make_html(ws, p, made)
    return made.targets, write(ws, made, log)


def build(ws: Workspace, manuscript: Path, formats=("pdf", "epub"), styles: Path | None = None,
          log=print, positions: bool = False) -> list[Path]:
    """The whole pipeline for the chosen formats; nothing is written unless all is made.
    positions: read every part with its source positions (see prepare), for the EPUB's
    source map to name every line (what check needs)."""
    started = time.perf_counter()
    refuse_output_inside(manuscript, ws.out)
    styles = styles or PROJECT / "styles"
    if "pdf" in formats or ("epub" in formats and not ws.cover_kept()):
        ws.start_workers()  # their imports overlap Pandoc (a worker draws the cover)
    book = cover = None
    if "epub" in formats and "pdf" not in formats:  # the worker draws it while Pandoc runs
        book = load_book(manuscript, memos=ws.memos)
        cover = order_cover(ws, book, load_faces(styles, ws.memos), styles)
    prepared = prepare(ws, manuscript, styles, log, book, positions)
    targets, _ = produce(ws, prepared, formats, log, cover)
    try:
        ws.saved()  # only a build that succeeded feeds the next one
    except OSError as error:
        raise writing_failed(error, ws.out) from None
    log(f"done     in {time.perf_counter() - started:.2f} s")
    return targets


def build_once(manuscript: Path, out: Path, formats=("pdf", "epub"),
               styles: Path | None = None, log=print) -> list[Path]:
    """One build in a workspace of its own, closed after it (a script, a test)."""
    with Workspace(Path(out)) as ws:
        return build(ws, Path(manuscript), formats, styles, log)


@dataclass
class Checked:
    """What `invoke check` found in the built book: one line per finding, by checker."""

    lines: list[tuple[str, str]] = field(default_factory=list)  # (checker, finding)
    ok: bool = True


def check(ws: Workspace, manuscript: Path, styles: Path | None = None, log=print) -> Checked:
    """build -> EPUBCheck and DAISY Ace on the EPUB (findings mapped to Markdown lines
    through the source map) -> structural checks of the PDF."""
    # The checkers' own libraries are imported by the checks alone, not by every build.
    from press.check.preflight import preflight
    from press.check.typography import summary, typography
    from press.check.validators import check_pdf, run_ace, run_epubcheck

    pdf_path, epub_path = build(ws, manuscript, ("pdf", "epub"), styles, log, positions=True)
    sources = source_map_path(ws.out, epub_path.stem)
    checked = Checked()
    report = run_epubcheck(epub_path, sources)
    checked.lines += [("epubcheck", line) for line in report.errors + report.warnings]
    checked.lines.append(("epubcheck", f"{len(report.errors)} errors, "
                                       f"{len(report.warnings)} warnings"))
    ace = run_ace(epub_path, sources)
    checked.lines += [("ace", str(problem)) for problem in ace.violations]
    checked.lines.append(("ace", f"{len(ace.violations)} violations ({ace.outcome})"))
    pdf_problems = check_pdf(pdf_path)
    checked.lines += [("pdf", line) for line in pdf_problems]
    checked.lines.append(("pdf", f"{len(pdf_problems)} problems"))
    families = {face.family for face in load_faces(styles or PROJECT / "styles", ws.memos)}
    faults, figures = typography(pdf_path, manuscript, families)
    checked.lines += [("typography", str(problem)) for problem in faults]
    checked.lines.append(("typography", summary(faults, figures)))
    print_path = build_print_ready(ws, manuscript, styles=styles, log=log)
    flagged = preflight(print_path)
    checked.lines += [("preflight", str(problem)) for problem in flagged]
    checked.lines.append(("preflight", f"{len(flagged)} problems in {print_path.name}"))
    checked.ok = report.clean and not ace.violations and not pdf_problems and not flagged \
        and not any(problem.severity == "error" for problem in faults)
    return checked


def refuse_output_inside(manuscript: Path, out: Path) -> None:
    """A build never writes into the manuscript, nor over the system: the output folder
    may not be in the manuscript, nor may a folder a build writes in (html/, .cache/),
    followed through links, be in it or hold it; / and the home folder are refused."""
    book = manuscript.resolve()
    if out.resolve().is_relative_to(book):
        raise_if_any([Problem(out, None, "S008", "the output folder is inside the manuscript "
                              f"folder {manuscript}", "choose an output folder outside it, "
                              "such as build/")])
    raise_if_any([problem for problem in (_risky_output(out, book), _not_a_folder(out))
                  if problem])


def _risky_output(out: Path, book: Path) -> Problem | None:
    """Why writing in out (or its html/ and .cache/) would reach the manuscript or the
    system, if it would."""
    real = out.resolve()
    if real == Path(real.anchor) or real == Path(os.path.expanduser("~")).resolve():
        return Problem(out, None, "S020", f"the output folder is {real}, where a build "
                       "would write beside everything", "choose a folder of its own, "
                       "such as build/")
    # The output folder may hold the manuscript beside what a build writes (build/ and
    # manuscript/ in one folder), but no folder a build writes in may be it or hold it.
    for inner in (out / "html", out / ".cache", *(out / ".cache").glob("*")):
        written = real_path(inner)  # None: a loop of links, which writing reports
        if written and (written.is_relative_to(book) or book.is_relative_to(written)):
            return Problem(inner, None, "S020", "the build would write into the manuscript "
                           f"folder {book} here (a link, or a folder that holds it)",
                           "choose an output folder apart from the manuscript, such as "
                           "build/, and remove links that lead into the manuscript")
    return None


def _not_a_folder(out: Path) -> Problem | None:
    """An --out that is a file, or lies under one."""
    for folder in (out, *out.parents):
        if folder.exists() or folder.is_symlink():
            if folder.is_dir():
                return None
            return Problem(out, None, "F005", f"the output folder cannot be made: {folder} "
                           "is a file", "choose an --out folder that is not a file nor under "
                           "a file")
    return None


def build_print_ready(ws: Workspace, manuscript: Path, settings=None,
                      styles: Path | None = None, log=print) -> Path:
    """The print edition, typeset as for the PDF -> made PDF/X for a printer (boxes, bleed,
    K-only colour, output intent, no links, padded) -> OUT/<slug>-print.pdf"""
    from press.pdf import printready

    settings = settings or printready.Settings()
    raise_if_any(printready.check_settings(settings))  # before anything is typeset
    refuse_output_inside(manuscript, ws.out)
    ws.start_workers()
    prepared = prepare(ws, manuscript, styles or PROJECT / "styles", log)
    printed = layout_print(ws, prepared)
    data = printready.print_ready(printed.data, settings)
    target = ws.out / f"{prepared.book.meta.slug}-print.pdf"
    try:
        atomic_write(target, data)
    except OSError as error:
        raise writing_failed(error, ws.out) from None
    padded = (-printed.pages) % settings.multiple
    log(f"print    PDF/{settings.standard.upper()}, {printed.pages + padded} pages "
        f"({padded} blank added), bleed {settings.bleed / 72:g} in"
        f"{', crop marks' if settings.marks else ''} -> {target}")
    ws.saved()
    return target
