"""Lay out the print edition part by part, and keep the parts for the next build.

Every part of the book opens on a right-hand page, so the book can be laid out as a
run of separate WeasyPrint documents (the front matter, each chapter, the glossary)
whose pages are then put together into one PDF. Each document ends with an empty
right-hand page that is not kept: WeasyPrint then adds the blank left-hand page a
part needs before the next one opens, exactly as in one long document.

What a part needs from the others is given to it as plain values: the folio its first
page carries, and for the contents the pages of the headings. So:
- the glossary is laid out once, after the chapters, with its page references known,
  rather than laying out the whole book twice;
- a part whose HTML (values included) is unchanged since the last build in this
  process is not laid out again: editing one chapter lays out that chapter, and the
  contents and glossary only when their page numbers changed.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field, replace

from markupsafe import Markup

from .glossary import folio, with_pages


@dataclass(frozen=True)
class Segment:
    """What one document of the print edition holds."""

    front: bool = True  # half-title, title page, copyright and contents
    parts: tuple = ()  # the chapters (and front or back parts) it holds
    glossary: bool = True
    first_folio: int | None = None  # the page counter on its first page; None: as the CSS says
    more: bool = False  # another document follows: end on the page where it opens
    toc: dict = field(default_factory=dict)  # anchor id -> printed folio, for the contents
    shared_css: bool = False  # the style sheets come parsed, once for all documents

    def page_of(self, anchor: str) -> Markup:
        """The contents entry's page number when another document holds its target."""
        return Markup(f' data-page="{self.toc[anchor]}"') if anchor in self.toc else Markup("")


@dataclass
class Laid:
    """One laid-out document and what the book needs from it."""

    document: object
    kept: list  # its pages, without the closing page that belongs to the next part
    warnings: list


class Paginator:
    """Lays out a book's print edition; remembers the last build's parts (in memory)."""

    def __init__(self):
        self.fonts = None  # WeasyPrint's font configuration, made at the first layout
        self.done: dict[str, Laid] = {}
        self._toc: dict = {}
        self.laid_out = 0  # documents actually laid out by the last call (for tests, bench)

    def layout(self, p, render, base, roots, css=(), attempts: int = 3):
        """Lay out the whole print edition; return (document, warnings, glossary items
        with their page references).

        render(segment, glossary_items) gives a document's HTML; css is the style sheets'
        (text, base URL), parsed once here and given to every document.
        """
        from weasyprint.text.fonts import FontConfiguration

        from . import pdf  # WeasyPrint takes most of a second to import: only when laying out

        fresh: dict[str, Laid] = {}
        self.laid_out = 0
        self.fonts = self.fonts or FontConfiguration()
        sheets = self._sheets(css, roots)

        def lay(segment: Segment, items=p.glossary) -> Laid:
            segment = replace(segment, shared_css=bool(sheets))
            html = render(segment, items)
            key = hashlib.sha256(html.encode("utf-8")).hexdigest()
            laid = fresh.get(key) or self.done.get(key)
            if laid is None:
                warnings: list[str] = []
                document = pdf.layout(html, base, roots, warnings, self.fonts, sheets)
                self.laid_out += 1
                kept = document.pages[:-1] if segment.more else list(document.pages)
                laid = Laid(document, kept, warnings)
            fresh[key] = laid
            return laid

        front_parts = tuple(c for c in p.chapters if c.part.kind == "front")
        body_parts = [c for c in p.chapters if c.part.kind != "front"]
        has_glossary = bool(p.glossary)
        # The contents first, with the page numbers of the last build when there is one.
        guess = self._toc
        front = Segment(True, front_parts, False, None, bool(body_parts or has_glossary), guess)
        laid = [lay(front)]
        anchors = _anchors(laid[0].kept, 0)
        body_start = len(laid[0].kept)
        folio_next = 1
        for n, chapter in enumerate(body_parts):
            more = n + 1 < len(body_parts) or has_glossary
            segment = Segment(False, (chapter,), False, None if n == 0 else folio_next, more)
            laid.append(lay(segment))
            _merge(anchors, _anchors(laid[-1].kept, sum(len(l.kept) for l in laid[:-1])))
            folio_next += len(laid[-1].kept)
        items = ()
        if has_glossary:
            items = with_pages(p.glossary, anchors, body_start)
            laid.append(lay(Segment(False, (), True, folio_next if body_parts else None), items))
            _merge(anchors, _anchors(laid[-1].kept, sum(len(l.kept) for l in laid[:-1])))
        # The contents again if its page numbers were not the true ones.
        toc = {a: folio(anchors[a], body_start) for a in _toc_targets(p, body_parts)
               if a in anchors}
        if toc != guess:
            laid[0] = lay(Segment(True, front_parts, False, None, front.more, toc))
            if len(laid[0].kept) != body_start:  # the contents changed length: start over
                if attempts == 1:
                    raise RuntimeError("the contents' page numbers did not settle")
                self._toc, self.done = toc, {**self.done, **fresh}
                return self.layout(p, render, base, roots, css, attempts - 1)
        self._toc = toc
        self.done = fresh
        pages = [page for l in laid for page in l.kept]
        document = laid[0].document.copy(pages)
        document.parts = [l.document for l in laid]  # their fonts must outlive the copy
        return document, [w for l in laid for w in l.warnings], items

    def _sheets(self, css, roots) -> list:
        """The style sheets parsed for this font configuration; again only when changed."""
        from . import pdf

        key = hashlib.sha256(repr(list(css)).encode("utf-8")).hexdigest()
        if getattr(self, "_css_key", None) != key:
            self._css = [pdf.stylesheet(text, url, roots, self.fonts) for text, url in css]
            self._css_key = key
        return self._css


def _toc_targets(p, body_parts) -> list[str]:
    """The anchors the contents gives page numbers for, outside the front matter."""
    targets = []
    for chapter in body_parts:
        targets.append(chapter.part.slug)
        targets += [h.id for h in chapter.headings]
    if p.glossary:
        targets.append("glossary")
    return targets


def _anchors(pages, offset: int) -> dict[str, int]:
    found: dict[str, int] = {}
    for index, page in enumerate(pages):
        for anchor in page.anchors:
            found.setdefault(anchor, offset + index)
    return found


def _merge(into: dict, more: dict) -> None:
    for key, value in more.items():
        into.setdefault(key, value)
