"""Stage 3, enrich: code listings made fit for every edition; print lines wrapped with a mark.

Pandoc's highlighter gives each listing line a `<span id="cb1-3">` holding an empty
`<a href="#cb1-3" aria-hidden="true" tabindex="-1">`: a link target per line that no
edition shows, hundreds of ids a chapter, and empty links that accessibility checkers
refuse. Both go (tidy); the token spans (`kw`, `st`, `co`, ...) stay for the themes in
styles/css/highlight.css.

The print page has a fixed width and a fixed monospace face, so a line longer than the
text block is broken where it would otherwise run off the page, and the break is shown:
the rest of the line goes on the next line, indented like the line itself, after a ↪
(IBM Plex Mono has the glyph). The mark is a span of its own, hidden from assistive
technology, so the characters of the line are all still there, in order. The EPUB and
the screen edition reflow, so there the browser wraps (`white-space: pre-wrap`).
"""
from __future__ import annotations

import re

from lxml import etree, html

# The print edition's measure, as styles/css/print.css sets it: the text block is the
# trim width less the inner and outer margins, and listings are set at CODE_SIZE in a
# face whose every glyph is ADVANCE em wide (IBM Plex Mono: 600 units of 1000).
PRINT_MARGINS_PT = 0.625 * 72 + 0.875 * 72
PRE_INSET_PT = 6.0  # the listing's rule and padding
CODE_SIZE_PT = 8.0
ADVANCE_EM = 0.6
# What each enclosing block takes from the measure, in columns (its indent in print.css).
INDENTS = {"li": 4, "dd": 3, "blockquote": 7}
UNITS_PT = {"in": 72.0, "mm": 72 / 25.4, "cm": 72 / 2.54, "pt": 1.0}
MARK = "↪ "


def tidy(root) -> None:
    """Drop the highlighter's per-line ids and empty line anchors (see the module text)."""
    for code in root.iter("code"):
        if "sourceCode" not in code.get("class", "").split():
            continue
        for line in code.iterchildren("span"):
            if re.fullmatch(r"cb\d+-\d+", line.get("id", "")):
                del line.attrib["id"]
            for anchor in list(line.iterchildren("a")):
                if anchor.get("aria-hidden") == "true" and not anchor.text_content():
                    drop_keeping_tail(anchor)


def columns(trim_width: str) -> int:
    """How many monospace characters a print line holds at the book's trim width."""
    found = re.fullmatch(r"(\d+(?:\.\d+)?)(in|mm|cm|pt)", trim_width.strip())
    width = float(found.group(1)) * UNITS_PT[found.group(2)] if found else 6 * 72.0
    room = width - PRINT_MARGINS_PT - PRE_INSET_PT
    return max(int(room / (CODE_SIZE_PT * ADVANCE_EM)) - 1, 20)


def breaks(line: str, width: int) -> list[int]:
    """Where a listing line of more than width characters is broken: after a space in
    the last third of a piece when there is one, otherwise at the width. Each piece after
    the first is shorter by the continuation's indent and mark."""
    out, start = [], 0
    room = width
    while len(line) - start > room:
        window = line[start + room * 2 // 3:start + room]
        space = window.rfind(" ")
        cut = start + room * 2 // 3 + space + 1 if space >= 0 else start + room
        if not line[start:cut].strip():
            cut = start + room  # a run of spaces: cut it anywhere
        out.append(cut)
        start, room = cut, width - continuation_indent(line, width)
    return out


def continuation_indent(line: str, width: int) -> int:
    """Columns before a continued piece: the line's own indent (at most half the width),
    then the mark."""
    lead = len(line) - len(line.lstrip(" "))
    return min(lead, width // 2) + len(MARK)


def wrap_code(fragment: str, trim_width: str) -> str:
    """The print HTML of a part with every over-long listing line broken and marked."""
    if "<pre" not in fragment:
        return fragment
    root = html.fragment_fromstring(fragment, create_parent="div")
    width = columns(trim_width)
    changed = False
    for pre in root.iter("pre"):
        indent = sum(INDENTS.get(el.tag, 0) for el in pre.iterancestors())
        changed |= wrap_pre(pre, max(width - indent, 20))
    if not changed:
        return fragment
    text = (root.text or "").replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return text + "".join(etree.tostring(child, encoding=str, method="html") for child in root)


def wrap_pre(pre, width: int) -> bool:
    """Break the long lines of one listing in place; whether any was."""
    slots = list(text_slots(pre))
    flat = "".join(s[2] for s in slots)
    cuts, offset = [], 0
    for line in flat.split("\n"):
        for cut in breaks(line, width):
            cuts.append((offset + cut, continuation_indent(line, width)))
        offset += len(line) + 1
    # From the last cut to the first, so that the offsets of earlier ones stay true.
    starts = [0]
    for _, _, text in slots:
        starts.append(starts[-1] + len(text))
    for at, indent in reversed(cuts):
        i = max(n for n in range(len(slots)) if starts[n] <= at and
                (at < starts[n + 1] or n == len(slots) - 1))
        node, where, text = slots[i]
        split(node, where, at - starts[i], indent)
        slots[i] = (node, where, text[:at - starts[i]])
    return bool(cuts)


def text_slots(el):
    """Every piece of text inside el in reading order: (element, 'text' or 'tail', text)."""
    yield el, "text", el.text or ""
    for child in el:
        if isinstance(child.tag, str):
            yield from text_slots(child)
        yield child, "tail", child.tail or ""


def split(node, where: str, at: int, indent: int) -> None:
    """Put a continuation mark at character `at` of node's text or tail."""
    mark = etree.Element("span", {"class": "wrap-mark", "aria-hidden": "true"})
    mark.text = "\n" + " " * (indent - len(MARK)) + MARK
    if where == "text":
        mark.tail, node.text = node.text[at:], node.text[:at]
        node.insert(0, mark)
    else:
        mark.tail, node.tail = node.tail[at:], node.tail[:at]
        node.addnext(mark)


def drop_keeping_tail(node) -> None:
    """Remove an element from its tree, keeping the text that follows it."""
    parent, previous = node.getparent(), node.getprevious()
    if node.tail:
        if previous is not None:
            previous.tail = (previous.tail or "") + node.tail
        else:
            parent.text = (parent.text or "") + node.tail
    parent.remove(node)
