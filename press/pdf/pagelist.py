"""Where each printed page begins, carried into the EPUB as page-break markers.

Both editions are made from the same enriched trees, and every text block in them has
the same key (data-b, see enrich.key_blocks; the templates key their own furniture).
After WeasyPrint lays out the print edition, each page's first line of text is traced
to its block and to how far into that block it starts, counted in characters that are
neither white space nor hyphens (press.util.weight: so line breaks and automatic hyphens
do not matter). The EPUB stage walks the same block to the same count and places the
marker there, at a word start.

The same walk records, for every block, where its text begins on each page it reaches
(page_facts): any counted place in the text, such as a glossary term's use, then
finds its page without an element of its own in the print HTML (page_of_place).
"""
from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass

from press.util.folio import folio
from press.util.weight import IGNORED, weight


@dataclass(frozen=True)
class PageStart:
    """A printed page: its folio, and the block and offset at which its text begins."""

    label: str
    key: str | None  # None: the page has no text (a blank verso) or its block has no key
    offset: int = 0


def _texts(box, boxes, key=None):
    """(block key, text) for each piece of text on a page, in reading order.

    Generated content (counters, leaders, running heads in the margins) and the
    footnote area are skipped: they are not the book's text.
    """
    if isinstance(box, (boxes.MarginBox, boxes.FootnoteAreaBox)) or (
            box.element_tag and "::" in box.element_tag):
        return
    if box.element is not None and box.element.get("data-b"):
        key = box.element.get("data-b")
    if isinstance(box, boxes.TextBox):
        yield key, box.text
    for child in getattr(box, "children", ()):
        yield from _texts(child, boxes, key)


def page_facts(pages) -> tuple[list, dict[str, list[tuple[int, int]]]]:
    """One walk over the laid-out pages' text:
    - marks: for each page, the block and offset where its text begins (None: the page
      has no text of the book's);
    - starts: for each block, (offset, page index) where its text begins on each page it
      reaches, in page order.
    Blocks never cross parts, so parts are measured apart."""
    from weasyprint.formatting_structure import boxes

    seen: dict[str, int] = {}
    marks: list[tuple[str, int] | None] = []
    starts: dict[str, list[tuple[int, int]]] = {}
    for index, page in enumerate(pages):
        first, here = None, set()
        for key, text in _texts(page._page_box, boxes):
            w = weight(text)
            if not (w and key):
                continue
            if first is None:
                first = (key, seen.get(key, 0))
            if key not in here:
                here.add(key)
                starts.setdefault(key, []).append((seen.get(key, 0), index))
            seen[key] = seen.get(key, 0) + w
        marks.append(first)
    return marks, starts


def page_marks(pages) -> list[tuple[str, int] | None]:
    """For each laid-out page, the block and offset where its text begins (see page_facts)."""
    return page_facts(pages)[0]


def page_of_place(starts: list[tuple[int, int]], offset: int) -> int | None:
    """The page (index, as in starts) of the counted character at offset in a block,
    from the block's starts (page_facts); None if the block has no text laid out."""
    at = bisect_right([start for start, _ in starts], offset) - 1
    return starts[max(at, 0)][1] if starts else None


def page_starts(marks, body_start: int) -> list[PageStart]:
    """One PageStart for each page of the book, from its parts' page marks in order."""
    return [PageStart(folio(index, body_start), *(mark or (None,)))
            for index, mark in enumerate(marks)]


# --- the EPUB side ------------------------------------------------------------------------

XHTML_NS = "http://www.w3.org/1999/xhtml"
EPUB_TYPE = "{http://www.idpf.org/2007/ops}type"
FLOW = frozenset({"body", "section", "div", "header", "footer", "blockquote", "aside", "figure"})


@dataclass(frozen=True)
class Marker:
    """A page-break marker to place: its label and id, the file and the spot it goes to."""

    label: str
    id: str
    href: str
    key: str | None
    offset: int = 0


def plan(starts: list[PageStart], files_by_key: dict[str, str]) -> list[Marker]:
    """Decide where each page's marker goes, before any file is changed.

    A page without text in the EPUB (a blank verso, the half-title) shares the place of
    the next page that has; pages after the last text go at the end of the last file.
    """
    markers, pending = [], []
    last_href = next(iter(files_by_key.values()), "")
    for start in starts:
        pending.append(start.label)
        if start.key in files_by_key:
            href = last_href = files_by_key[start.key]
            markers += [Marker(label, f"page-{label}", href, start.key, start.offset)
                        for label in pending]
            pending = []
    markers += [Marker(label, f"page-{label}", last_href, None) for label in pending]
    return markers


def _local(el) -> str:
    return el.tag.rsplit("}", 1)[-1] if isinstance(el.tag, str) else ""


def _segments(el, top=True):
    """(node, 'text' | 'tail') for the text that belongs to a block, in reading order.

    Blocks nested inside it have their own key and count for themselves.
    """
    if top:
        yield el, "text"
    for child in el:
        if isinstance(child.tag, str) and not child.get("data-b"):
            yield child, "text"
            yield from _segments(child, top=False)
        yield child, "tail"


def _spot(block, offset: int):
    """Where a page that begins `offset` counted characters into the block begins.

    A page that begins in the middle of a hyphenated word gets its marker before the
    next word, so that the marker always sits at a word start.
    """
    remaining, after_space = offset, True
    for node, attr in _segments(block):
        text = getattr(node, attr) or ""
        for i, c in enumerate(text):
            counted = not c.isspace() and c not in IGNORED
            if counted and remaining == 0 and after_space:
                return node, attr, i
            if counted:
                remaining = max(remaining - 1, 0)
            after_space = c.isspace()
    return None  # the page begins after the block's last word: place it at the end


def _element(marker: Marker):
    from lxml import etree

    return etree.Element(f"{{{XHTML_NS}}}span", {
        EPUB_TYPE: "pagebreak", "role": "doc-pagebreak", "id": marker.id,
        "aria-label": marker.label})


def _insert(spans, node, attr, i):
    """Split the text at i and put the spans there, in order."""
    text = getattr(node, attr) or ""
    setattr(node, attr, text[:i] or None)
    parent, at = (node, 0) if attr == "text" else (node.getparent(), node.getparent().index(node) + 1)
    for n, span in enumerate(spans):
        parent.insert(at + n, span)
    spans[-1].tail = text[i:] or None


def place(trees: dict, markers: list[Marker]) -> None:
    """Put each marker into its file's tree (lxml), at the place planned for it."""
    blocks = {}
    for href, root in trees.items():
        for el in root.iter():
            if isinstance(el.tag, str) and el.get("data-b"):
                blocks.setdefault(el.get("data-b"), el)
    groups: dict[tuple, list] = {}
    for m in markers:  # markers that share a spot are placed together, in page order
        groups.setdefault((m.href, m.key, m.offset), []).append(_element(m))
    for (href, key, offset), spans in groups.items():
        block = blocks.get(key)
        if block is None:  # after the last text of the book
            body = next(trees[href].iter(f"{{{XHTML_NS}}}body"))
            body.extend(spans)
            continue
        nav = next((a for a in block.iterancestors() if _local(a) == "nav"), None)
        if _local(block) == "nav" or nav is not None:  # never inside a navigation list
            target = block if nav is None else nav
            for span in spans:
                target.addprevious(span)
            continue
        spot = _spot(block, offset)
        if spot is None:
            block.extend(spans)
        elif offset == 0 and _local(block.getparent()) in FLOW:
            for span in spans:  # between blocks, not inside a heading's name
                block.addprevious(span)
        else:
            node, attr, i = spot
            while attr == "text" and i == 0 and node is not block:
                node, attr, i = _before(node)  # not inside a link or an emphasis
            _insert(spans, node, attr, i)


def _before(node):
    """The text position just before an element."""
    previous = node.getprevious()
    if previous is not None:
        return previous, "tail", len(previous.tail or "")
    return node.getparent(), "text", len(node.getparent().text or "")
