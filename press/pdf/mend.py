"""Stage 5a, typeset: read every line of a laid-out part and mend what a compositor would
not let through, by laying the part out again with the paragraph concerned nudged.

- A word stranded alone on a short line in mid-paragraph. WeasyPrint 70's line breaker
  sometimes ends a justified line early ("brings together / key / influencers") when an
  inline element (a glossary link or term span) comes later in the paragraph. No style
  rule prevents it. Nudges: the paragraph's spaces before its inline elements move just
  inside them (nothing changes on paper: they draw no border or background in print);
  if that is not enough, kerning is switched off in that paragraph alone.
- A paragraph ending on the fragment of a hyphenated word ("secu- / rity."), a third
  hyphenated line in a row, a word hyphenated across a page turn (recto to verso): the
  word is kept whole (class "whole": hyphens: manual) and the paragraph set again.

Each nudge is tried once; what is still wrong after them is left for the typographic
preflight (press/check/typography.py) to report.

The first nudge costs nothing on paper, so every paragraph gets it before the first
layout (forestall): on the 264-page benchmark book that leaves 6 parts of 43 to lay out
again instead of 11, and no stranded word at all.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

SHORT = 0.6  # a non-final line shorter than this share of the measure is stranded
ROUNDS = 4  # layouts after the first, at most: each nudge changes the lines after it

# Inline elements a space may move into without changing the page: not one that sets its
# own direction (dir="rtl"), where a leading space would be drawn at its far end ("book,
# كتاب ," for "book, كتاب,").
INLINE = r"(?:a|span|em|strong|i|b|abbr|cite|dfn|q|small|mark)"
SPACE_BEFORE = re.compile(r"([ \t\n]+)(<" + INLINE + r"\b(?![^>]*\sdir=)[^>]*>)")
HYPHEN = "-"  # print.css's hyphenate-character


@dataclass(frozen=True)
class Fault:
    kind: str  # "stranded", "fragment", "run" or "turn"
    page: int  # index of the part's page
    key: str | None  # the paragraph's data-b key
    text: str  # the line's text
    word: str = ""  # the hyphenated word to keep whole
    first: int = 0  # index of the page where the paragraph begins


@dataclass
class Row:
    page: int
    block: object  # WeasyPrint's block box
    line: object  # its line box


def line_text(line, boxes) -> str:
    return "".join(box.text for box in line.descendants() if isinstance(box, boxes.TextBox))


def line_end(line, boxes) -> float:
    """Where a line's last text glyph ends (trailing spaces are not drawn)."""
    ends = [box.position_x + box.width for box in line.descendants()
            if isinstance(box, boxes.TextBox) and box.text.strip()]
    return max(ends, default=line.position_x)


def justified_rows(box, boxes, page: int, rows: dict) -> None:
    """The lines of each justified paragraph, by element, in reading order across pages."""
    lines = [child for child in getattr(box, "children", ())
             if isinstance(child, boxes.LineBox)]
    if lines and box.style["text_align_all"] == "justify":
        name = id(box.element) if box.element is not None else id(box)
        rows.setdefault(name, []).extend(Row(page, box, line) for line in lines)
    for child in getattr(box, "children", ()):
        if not isinstance(child, boxes.LineBox):
            justified_rows(child, boxes, page, rows)


def find(pages) -> list[Fault]:
    """Every fault of the laid-out pages (a paragraph split across pages is one)."""
    from weasyprint.formatting_structure import boxes

    rows: dict = {}
    for index, page in enumerate(pages):
        justified_rows(page._page_box, boxes, index, rows)
    faults: list[Fault] = []
    for paragraph in rows.values():
        faults += paragraph_faults(paragraph, boxes)
    return faults


def paragraph_faults(rows: list[Row], boxes) -> list[Fault]:
    element = rows[0].block.element
    key = element.get("data-b") if element is not None else None
    first = rows[0].page
    texts = [line_text(row.line, boxes).rstrip() for row in rows]
    faults, run = [], 0
    for n, row in enumerate(rows):
        text, last = texts[n], n + 1 == len(rows)
        used = line_end(row.line, boxes) - row.block.content_box_x()
        if not last and used < SHORT * row.block.width \
                and not _forced(row.line, boxes):
            faults.append(Fault("stranded", row.page, key, text.strip(), "", first))
        word = "" if last else broken_word(text, texts[n + 1])
        run = run + 1 if word else 0
        if run >= 3:
            faults.append(Fault("run", row.page, key, text, word, first))
        if word and n + 2 == len(rows) and " " not in texts[-1].strip():
            faults.append(Fault("fragment", row.page, key, texts[-1], word, first))
        if word and rows[n + 1].page != row.page and row.page % 2 == 0:
            faults.append(Fault("turn", row.page, key, text, word, first))
    return faults


def broken_word(line: str, after: str) -> str:
    """The word hyphenated at the end of `line` and finished on `after`, or ''."""
    if not line.endswith(HYPHEN) or not after.strip():
        return ""
    head = re.search(r"([^\W\d_]+)" + re.escape(HYPHEN) + "$", line)
    tail = re.match(r"\s*([^\W\d_]+)", after)
    return head.group(1) + tail.group(1) if head and tail else ""


def _forced(line, boxes) -> bool:
    """A line ended by a <br>, which is meant to be short."""
    texts = [box for box in line.descendants() if isinstance(box, boxes.TextBox)]
    return bool(texts) and texts[-1].text.endswith("\n")


# --- the nudges ---------------------------------------------------------------------------

def element_span(html: str, key: str) -> tuple[int, int] | None:
    """Where the element with data-b="key" starts and ends in the HTML text."""
    at = html.find(f' data-b="{key}"')
    if at < 0:
        return None
    start = html.rfind("<", 0, at)
    tag = re.match(r"<([a-zA-Z0-9]+)", html[start:]).group(1)
    depth = 0
    for match in re.compile(rf"<(/?){tag}\b[^>]*>").finditer(html, start):
        depth += -1 if match.group(1) else 1
        if depth == 0:
            return start, match.end()
    return None


def spaces_inside(fragment: str, word: str = "") -> str:
    """The spaces before each inline element moved to just inside it."""
    return SPACE_BEFORE.sub(r"\2\1", fragment)


def no_kerning(fragment: str, word: str = "") -> str:
    """The element's opening tag with kerning switched off (before any style it has)."""
    if re.match(r'<[^>]*\sstyle="', fragment):
        return re.sub(r'(\sstyle=")', r"\1font-kerning: none; ", fragment, count=1)
    return re.sub(r"^<([a-zA-Z0-9]+)", r'<\1 style="font-kerning: none"', fragment, count=1)


def keep_whole(fragment: str, word: str) -> str:
    """Every use of `word` in the element's text (not in its tags) kept from hyphenating."""
    pattern = re.compile(rf"(?<![\w>]){re.escape(word)}(?!\w)")
    pieces = re.split(r"(<[^>]*>)", fragment)
    return "".join(piece if piece.startswith("<") else
                   pattern.sub(f'<span class="whole">{word}</span>', piece)
                   for piece in pieces)


def nudges_for(fault: Fault, tried: set) -> list:
    """The nudges for a fault not tried on its paragraph yet, in order."""
    if fault.kind == "stranded":
        options = ((spaces_inside, ""), (no_kerning, ""))
    else:
        options = ((keep_whole, fault.word),)
    return [(nudge, word) for nudge, word in options
            if (fault.key, nudge.__name__, word) not in tried]


def nudged(html: str, faults: list[Fault], tried: set) -> tuple[str, list]:
    """The HTML with the first nudge that changes each faulty paragraph applied, and the
    nudges applied: (fault, nudge, word)."""
    applied = []
    for fault in faults:
        span = element_span(html, fault.key) if fault.key else None
        if span is None:
            continue
        start, end = span
        for nudge, word in nudges_for(fault, tried):
            tried.add((fault.key, nudge.__name__, word))
            changed = nudge(html[start:end], word)
            if changed != html[start:end]:  # (spaces may be inside already: forestall)
                html = html[:start] + changed + html[end:]
                applied.append((fault, nudge, word))
                break
    return html, applied


PARAGRAPH = re.compile(r'(<p\b[^>]*\sdata-b="[^"]*"[^>]*>)(.*?)(</p>)', re.S)


def forestall(html: str) -> str:
    """Every paragraph with its spaces moved inside its inline elements, before the first
    layout: the nudge that mends most stranded words, and changes nothing else."""
    return PARAGRAPH.sub(lambda m: m.group(1) + spaces_inside(m.group(2)) + m.group(3), html)


def laid_out(html: str, lay, resume: bool = False):
    """The part laid out by lay(html), and again with nudges while a nudge not yet tried
    is left for a fault. Returns the document and the faults still in it.

    resume: a word kept whole is kept whole in the laid-out document's box tree, which is
    laid out again only from the paragraph's page on (press.pdf.relayout; in the
    typesetting workers, where WeasyPrint's pagination can be resumed)."""
    html = forestall(html)
    document = lay(html)
    faults = find(document.pages)
    tried: set = set()
    for _ in range(ROUNDS):
        html, applied = nudged(html, faults, tried)
        if not applied:
            break
        if not (resume and relaid(document, applied)):
            document = lay(html)
        faults = find(document.pages)
    return document, faults


def relaid(document, applied: list) -> bool:
    """Apply the nudges to the document's box tree and paginate it again from the first
    page they change; False (the tree may be changed) where that cannot be done."""
    from press.pdf import relayout

    if not relayout.resumable(document) or any(nudge is not keep_whole
                                               for _, nudge, _ in applied):
        return False
    paths = [relayout.keep_whole(document, fault.key, word) for fault, _, word in applied]
    if None in paths:
        return False
    relayout.relayout(document, min(fault.first for fault, _, _ in applied), paths)
    return True
