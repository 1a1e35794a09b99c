"""Stage 5a, typeset: find words stranded alone on a line of a justified paragraph, and
lay the part out again until none is left.

WeasyPrint 70 sometimes ends a justified line early, leaving one short word on a line
of its own in mid-paragraph ("brings together / key / influencers"): its line breaker
misjudges a line that fits to within a hair when an inline element (a glossary link)
follows later in the paragraph. No style rule prevents it, so the typesetter looks at
every line after layout. A line that is not a paragraph's last and fills less than
SHORT of the measure is stranded; the paragraphs that hold one are nudged (first the
spaces before their inline elements move inside them, which changes nothing on paper;
then kerning is switched off in that paragraph alone) and the part is laid out again.
What is still stranded after the nudges is left for the typographic preflight to report.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

SHORT = 0.6  # a non-final line shorter than this share of the measure is stranded

# Inline elements a space may move into without changing the page: none of them draws
# a border or a background in print.
INLINE = r"(?:a|span|em|strong|i|b|abbr|cite|dfn|q|small|mark)"
SPACE_BEFORE = re.compile(r"([ \t\n]+)(<" + INLINE + r"\b[^>]*>)")


@dataclass(frozen=True)
class Stranded:
    page: int  # index of the part's page
    key: str | None  # the paragraph's data-b key
    text: str  # the stranded line's text


def line_text(line, boxes) -> str:
    return "".join(box.text for box in line.descendants() if isinstance(box, boxes.TextBox))


def line_end(line, boxes) -> float:
    """Where a line's last text glyph ends (trailing spaces are not drawn)."""
    ends = [box.position_x + box.width for box in line.descendants()
            if isinstance(box, boxes.TextBox) and box.text.strip()]
    return max(ends, default=line.position_x)


def justified_blocks(box, boxes, page: int, found: list) -> None:
    """(page, block, its line boxes) for each block of justified lines, in reading order;
    footnotes and margin boxes included (their paragraphs are justified too)."""
    lines = [child for child in getattr(box, "children", ())
             if isinstance(child, boxes.LineBox)]
    if lines and box.style["text_align_all"] == "justify":
        found.append((page, box, lines))
    for child in getattr(box, "children", ()):
        if not isinstance(child, boxes.LineBox):
            justified_blocks(child, boxes, page, found)


def find(pages) -> list[Stranded]:
    """Every stranded line of the laid-out pages. A paragraph split across pages is one
    paragraph: only its very last line may be short."""
    from weasyprint.formatting_structure import boxes

    found: list = []
    for index, page in enumerate(pages):
        justified_blocks(page._page_box, boxes, index, found)
    # The last line of each paragraph (by element): the place a short line belongs.
    last: dict[int, tuple] = {}
    for page, block, lines in found:
        last[id(block.element) if block.element is not None else id(block)] = (page, lines[-1])
    stranded = []
    for page, block, lines in found:
        final = last[id(block.element) if block.element is not None else id(block)][1]
        for line in lines:
            if line is final or _forced(line, boxes):
                continue
            used = line_end(line, boxes) - block.content_box_x()
            if used < SHORT * block.width:
                key = block.element.get("data-b") if block.element is not None else None
                stranded.append(Stranded(page, key, line_text(line, boxes).strip()))
    return stranded


def _forced(line, boxes) -> bool:
    """A line ended by a <br>, which is meant to be short."""
    texts = [box for box in line.descendants() if isinstance(box, boxes.TextBox)]
    return bool(texts) and texts[-1].text.endswith("\n")


def element_span(html: str, key: str) -> tuple[int, int] | None:
    """Where the element with data-b="key" starts and ends in the HTML text."""
    at = html.find(f' data-b="{key}"')
    if at < 0:
        return None
    start = html.rfind("<", 0, at)
    tag = re.match(r"<([a-zA-Z0-9]+)", html[start:]).group(1)
    depth, pos = 0, start
    pattern = re.compile(rf"<(/?){tag}\b[^>]*>")
    for match in pattern.finditer(html, start):
        depth += -1 if match.group(1) else 1
        pos = match.end()
        if depth == 0:
            return start, pos
    return start, pos


def spaces_inside(fragment: str) -> str:
    """The spaces before each inline element moved to just inside it."""
    return SPACE_BEFORE.sub(r"\2\1", fragment)


def no_kerning(fragment: str) -> str:
    """The element's opening tag with kerning switched off (before any style it has)."""
    if re.match(r'<[^>]*\sstyle="', fragment):
        return re.sub(r'(\sstyle=")', r'\1font-kerning: none; ', fragment, count=1)
    return re.sub(r"^<([a-zA-Z0-9]+)", r'<\1 style="font-kerning: none"', fragment, count=1)


NUDGES = (spaces_inside, no_kerning)


def nudged(html: str, keys, nudge) -> str:
    for key in sorted(set(keys)):
        span = element_span(html, key)
        if span is not None:
            start, end = span
            html = html[:start] + nudge(html[start:end]) + html[end:]
    return html


def laid_out(html: str, lay):
    """The part laid out by lay(html), again with the nudges for as long as a paragraph
    holds a stranded line. Returns the document and what is still stranded."""
    document = lay(html)
    stranded = find(document.pages)
    for nudge in NUDGES:
        keys = [s.key for s in stranded if s.key]
        if not keys:
            break
        html = nudged(html, keys, nudge)
        document = lay(html)
        stranded = find(document.pages)
    return document, stranded

