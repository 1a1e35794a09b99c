"""Stage 5a, write the PDF: WeasyPrint lays out the print HTML, reading only project files."""
from __future__ import annotations

import logging
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import unquote, urlparse

from press.pdf.engine import load_weasyprint
from press.problems import BuildError, Problem

load_weasyprint()  # W003, not a traceback, when Pango is missing

import pydyf  # noqa: E402
import weasyprint.pdf as weasyprint_pdf  # noqa: E402
import weasyprint.document as weasyprint_document  # noqa: E402
from weasyprint import HTML  # noqa: E402
from weasyprint.urls import FatalURLFetchingError, URLFetcher  # noqa: E402


def _page_references(pdf) -> tuple:
    """pydyf's list of page references, built once per page count instead of per use.

    pydyf rebuilds the whole tuple each time it is read, and WeasyPrint reads it for every
    link, anchor and tagged element: quadratic in the pages (about 2 s of 10 to write our
    260-page benchmark book). Pages are only ever appended, so the page count tells when
    the cached tuple is stale. The output is the same, byte for byte.
    """
    kids = pdf.pages["Kids"]
    cached = pdf.__dict__.get("_press_page_references")
    if cached is None or cached[0] != len(kids):
        cached = (len(kids), tuple(f"{n} 0 R".encode("ascii") for n in kids[::3]))
        pdf.__dict__["_press_page_references"] = cached
    return cached[1]


def _fonts_with_plain_hyphens(build_fonts_dictionary):
    """build_fonts_dictionary, with hyphens read as "-" when text is copied or searched,
    whichever came first.

    WeasyPrint maps each glyph to the text it drew first: a font whose hyphen glyph first
    ended a line by automatic hyphenation (U+2010) would make every hyphen in words like
    "socio-political" read as U+2010, and which came first depends on where a part
    begins. The hyphen-minus is what readers type and search for.
    """
    def build(pdf, fonts, *args, **kwargs):
        for font in fonts.values():
            for glyph, text in font.to_unicode.items():
                if text == "\u2010":
                    font.to_unicode[glyph] = "-"
        return build_fonts_dictionary(pdf, fonts, *args, **kwargs)
    build.press_fix = True
    return build


def _keeping_context(layout_document):
    """layout_document, leaving its layout context and box tree on the HTML object it lays
    out, where the Document keeps them (refolio needs the page states to number the pages
    again, press.pdf.relayout both to paginate again from a page)."""
    def lay_out(html, root_box, context, *args, **kwargs):
        html.press_context, html.press_root = context, root_box
        return layout_document(html, root_box, context, *args, **kwargs)
    lay_out.press_fix = True
    return lay_out


def install_fixes() -> None:
    """Three changes to WeasyPrint, installed by a process before it lays out and writes a
    PDF (the typesetting workers, at start); nothing is changed by importing this module.

    - pydyf's page references, built once per page count instead of per use (the same
      bytes, about 2 s of 10 less on the 260-page benchmark book);
    - hyphens that copy as "-" (see _fonts_with_plain_hyphens);
    - a laid-out document keeps its layout context, for refolio, and its pagination can
      be resumed from a page (press.pdf.relayout).

    They change WeasyPrint for the whole process, which is why only processes that write
    PDFs call this; calling it again changes nothing.
    """
    if getattr(pydyf.PDF.page_references, "fget", None) is not _page_references:
        pydyf.PDF.page_references = property(_page_references)
    if not getattr(weasyprint_pdf.build_fonts_dictionary, "press_fix", False):
        weasyprint_pdf.build_fonts_dictionary = _fonts_with_plain_hyphens(
            weasyprint_pdf.build_fonts_dictionary)
    if not getattr(weasyprint_document.layout_document, "press_fix", False):
        weasyprint_document.layout_document = _keeping_context(
            weasyprint_document.layout_document)
    from press.pdf import relayout

    relayout.install()


def refolio(document, shift: int) -> bool:
    """Add `shift` to the page counter of every page of a laid-out document, and make its
    margin boxes (folios, running heads) again, as WeasyPrint makes them at the end of
    layout. Nothing else on a page depends on the counter (print.css uses it only in
    margin boxes), so the pages are those a layout that began at the shifted folio makes,
    byte for byte (tests/test_paginate.py), for a few milliseconds instead of a layout.
    False, and nothing done, when the text itself shows a page-based counter.
    """
    import copy

    from weasyprint.formatting_structure.boxes import MarginBox
    from weasyprint.layout.background import layout_backgrounds
    from weasyprint.layout.page import make_margin_boxes

    context = document._html.press_context  # see _keeping_context
    if context.target_collector.counter_lookup_items:
        return False
    for number, page in enumerate(document.pages, start=1):
        box = page._page_box
        state = copy.deepcopy(context.page_maker[number][3])
        state[1]["page"][-1] += shift  # the counter values the margin boxes show
        context.current_page = number
        kept = [child for child in box.children if not isinstance(child, MarginBox)]
        box.children = (*kept, *make_margin_boxes(context, box, state))
        layout_backgrounds(box, context.get_image_from_uri)
    return True


def starting_at(html: str, folio: int) -> str:
    """The document's HTML with its first page numbered `folio`."""
    rule = f"<style>@page :first {{ counter-reset: page {folio}; }}</style>"
    return html.replace("</head>", rule + "</head>", 1)


class ConfinedFetcher(URLFetcher):
    """Fetch only local files under the allowed folders: no network, no stray reads.

    WeasyPrint swallows some fetch errors (an SVG's own images fail with a log line),
    so every refusal is also kept in `refused`, and the build fails on any of them.
    """

    def __init__(self, roots):
        super().__init__(allowed_protocols={"file"}, fail_on_errors=True)
        self.roots = tuple(Path(r).resolve() for r in roots)
        self.refused: list[str] = []

    def fetch(self, url, headers=None):
        if not isinstance(url, str):  # an SVG link WeasyPrint could not resolve gives None
            self.refused.append(repr(url))
            raise FatalURLFetchingError(f"refused to fetch {url!r}: not a file of the project")
        parsed = urlparse(url)
        path = Path(unquote(parsed.path)).resolve()
        if parsed.scheme != "file" or not any(path.is_relative_to(r) for r in self.roots):
            self.refused.append(url)
            raise FatalURLFetchingError(f"refused to fetch {url}: outside the project")
        return super().fetch(url, headers)


def raise_if_refused(fetcher) -> None:
    """Stop the build if WeasyPrint asked for anything outside the project, caught or not."""
    refused = list(dict.fromkeys(getattr(fetcher, "refused", ())))
    if refused:
        raise BuildError([Problem("print document", None, "W001",
                                  f"refused to fetch {url[:80]}: outside the project",
                                  "reference only files inside the manuscript folder")
                          for url in refused])


class _Collect(logging.Handler):
    def __init__(self):
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record):
        self.messages.append(record.getMessage())


@contextmanager
def weasyprint_warnings():
    """Collect WeasyPrint's warnings so the build can report them instead of losing them."""
    handler, logger = _Collect(), logging.getLogger("weasyprint")
    logger.addHandler(handler)
    try:
        yield handler.messages
    finally:
        logger.removeHandler(handler)


def stylesheet(text: str, base_url: str, roots, font_config):
    """A style sheet parsed once, to be given to many documents (fonts load at parse time)."""
    from weasyprint import CSS

    return CSS(string=text, base_url=base_url, url_fetcher=ConfinedFetcher(roots),
               font_config=font_config)


def layout(html: str, base: Path, roots, warnings: list[str], font_config=None,
           stylesheets=()):
    """Lay out the print document; return WeasyPrint's Document (pages, anchors).

    Documents laid out with one font configuration load each font face once and share
    the embedded fonts when their pages are put together.
    """
    fetcher = ConfinedFetcher(roots)
    with weasyprint_warnings() as messages:
        try:
            document = HTML(string=html, base_url=str(base) + "/",
                            url_fetcher=fetcher).render(font_config=font_config,
                                                        stylesheets=list(stylesheets))
        except FatalURLFetchingError as exc:
            raise_if_refused(fetcher)
            raise BuildError([Problem("print document", None, "W001", str(exc),
                                      "reference only files inside the project")]) from exc
    raise_if_refused(fetcher)
    warnings.extend(messages)
    return document


def pdf_bytes(document, identifier: str) -> bytes:
    """Serialise the laid-out document as a tagged PDF (PDF/UA-1: structure tree, language,
    title shown in the window, XMP metadata) with a stable file identifier."""
    install_fixes()
    data = document.write_pdf(pdf_identifier=identifier.encode("utf-8"), pdf_variant="pdf/ua-1")
    # Images inside SVGs are fetched only now, by the fetcher of the part they are in.
    for part in getattr(document, "parts", [document]):
        raise_if_refused(part.url_fetcher)
    return data


def part_bytes(document, anchors: set[str]) -> bytes:
    """A part of the book as a tagged PDF, to be bound with the others (press.pdf.bind).

    A link to an anchor that another part holds is written with a placeholder address
    that binding turns into the internal link WeasyPrint would have written.
    """
    from press.pdf.bind import LINK_PREFIX

    for page in document.pages:
        page.links[:] = [("external", LINK_PREFIX + target, *rest)
                         if kind == "internal" and target not in anchors
                         else (kind, target, *rest) for kind, target, *rest in page.links]
    return pdf_bytes(document, "part")


def join_leaders(document) -> None:
    """Make each leader (the contents' dots) one run of text instead of one box a dot.

    WeasyPrint fills a leader with copies of its text box, side by side from the line's
    end, and draws and tags each copy on its own: 6,000 of them in the contents of the
    264-page benchmark book, most of the time it takes to write the front matter. One
    box holding the copies' text, where the first copy stands, draws the same dots.
    """
    import copy

    from weasyprint.formatting_structure.boxes import ParentBox, TextBox

    def visit(box) -> None:
        children = getattr(box, "children", ())
        if getattr(box, "is_leader", False) and len(children) > 1 \
                and all(isinstance(child, TextBox) for child in children):
            dots = sorted(children, key=lambda child: child.position_x)
            joined = dots[0].copy_with_text(dots[0].text * len(dots))
            joined.pango_layout = copy.copy(dots[0].pango_layout)
            joined.pango_layout.text = joined.text
            joined.width = dots[-1].position_x + dots[-1].width - dots[0].position_x
            box.children = (joined,)
        elif isinstance(box, ParentBox):
            for child in children:
                visit(child)

    for page in document.pages:
        visit(page._page_box)


def anchor_pages(document) -> dict[str, int]:
    """The page index (0-based) on which each id of the document lands."""
    pages = {}
    for index, page in enumerate(document.pages):
        for anchor in page.anchors:
            pages.setdefault(anchor, index)
    return pages
