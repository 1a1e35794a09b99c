"""Stage 2, convert: Pandoc's JSON AST made ready for the HTML writer, keeping source lines.

Pandoc's +sourcepos wraps every word and space in a `wrapper` span with a `data-pos`
attribute. Those spans would split raw inline HTML and bloat the output, so they are
unwrapped here. Block positions stay (the HTML writer moves a wrapper div's position
onto the block it holds; enrich treats every position alike).

Raw HTML, links and images cannot carry a data-pos attribute of their own, so a comment
<!--pos L:C-L:C--> goes just before each of them, and <!--/pos--> after each raw HTML
piece: press.source.vet reads them to check every raw piece on its own and to name its
Markdown line; enrich gives that line to the element that follows, then drops them.

Lint comments (<!-- lint: ignore P003 -->) talk to `invoke lint` only: they are dropped,
where any other raw HTML comment survives.

The order is Pandoc's own for filters: every element's children first, then the
element, and what a rule returns is not visited again. So a lint comment is gone before
the wrapper span or div that held it is looked at.
"""
from __future__ import annotations

import re

# The output of this module decides the HTML: bump when a rule changes, so that the
# conversion cache (which also hashes this file) can never serve HTML of older rules.
VERSION = 1

END = "<!--/pos-->"
# Lua's %s, which the rule was first written with: ASCII whitespace only.
LINT_COMMENT = re.compile(r"[ \t\n\v\f\r]*<!--[ \t\n\v\f\r]*lint:")

Element = dict
Spliced = list | None  # what a rule returns: elements in place of this one, or None to keep it


def marker(pos: str) -> str:
    return f"<!--pos {pos}-->"


# A wrapper span holding one word, space or line break, in Pandoc's JSON as it writes it:
# most of a tree read with +sourcepos (80% of the bytes of a 35,000-word chapter).
WORD_SPAN = re.compile(
    rb'\{"t":"Span","c":\[\["",\[\],\[\["wrapper","1"\],\["data-pos","[^"]*"\]\]\],'
    rb'\[(\{"t":"(?:Str","c":"(?:[^"\\]|\\.)*"|Space"|SoftBreak"|LineBreak")\})\]\]\}')


def unwrap_words(tree: bytes) -> bytes:
    """Pandoc's JSON text with each wrapper span of one word, space or line break
    replaced by what it holds, before it is parsed: what the span rule below does to
    them, done on the text (its other rules see the same tree), for a fifth of the
    objects to parse. The spans Pandoc writes otherwise, and the author's own, are left
    for prepare."""
    return WORD_SPAN.sub(rb"\1", tree)


def prepare(ast: dict) -> dict:
    """Apply every rule to the document's blocks, in place; the document is returned."""
    ast["blocks"] = walk(ast["blocks"])
    return ast


def walk(elements: list) -> list:
    """A list of inlines or blocks, each visited after its children, replacements spliced.
    (Hundreds of thousands of elements a book: this loop is kept lean.)"""
    out = []
    for element in elements:
        kind = element["t"]
        if kind in LEAVES:
            out.append(element)
            continue
        replacement = VISITS.get(kind, contents)(element)
        if replacement is None:
            out.append(element)
        else:
            out += replacement
    return out


# Elements with nothing inside to visit and no rule of their own.
LEAVES = frozenset({"Str", "Space", "SoftBreak", "LineBreak", "Math", "CodeBlock",
                    "HorizontalRule"})


def flat(element: Element) -> Spliced:
    """Para, Emph, Note, ...: contents that are one plain list of inlines or blocks."""
    element["c"] = walk(element["c"])
    return None


def contents(element: Element) -> Spliced:
    """Any other element: every list of elements nested in its contents is walked."""
    content = element.get("c")
    if content.__class__ is list:
        descend(content)
    return None


def descend(value: list) -> None:
    """Walk, in place, every list of elements nested in other contents: a header's
    inlines, list items, table cells, citations. Attributes (a list that starts with a
    string) and other plain data are passed over."""
    for i, item in enumerate(value):
        if item.__class__ is list and item:
            first = item[0]
            if first.__class__ is dict and "t" in first:
                value[i] = walk(item)
            elif first.__class__ is not str:
                descend(item)
        elif item.__class__ is dict and "t" not in item:  # a citation
            for key, inner in item.items():
                if inner.__class__ is list and inner and inner[0].__class__ is dict:
                    item[key] = walk(inner)


def is_html(fmt: str) -> bool:
    return fmt in ("html", "html5")


def value(attr: list, key: str) -> str | None:
    for name, found in attr[2]:
        if name == key:
            return found
    return None


def take(attr: list, key: str) -> str | None:
    """Remove a key from an element's attributes; its value, or None if it had none."""
    pairs = attr[2]
    for i, (name, found) in enumerate(pairs):
        if name == key:
            del pairs[i]
            return found
    return None


def raw(kind: str, text: str) -> Element:
    return {"t": kind, "c": ["html", text]}


def lint_comment(element: Element) -> Spliced:
    """RawInline and RawBlock: a lint comment leaves nothing behind."""
    fmt, text = element["c"]
    return [] if is_html(fmt) and LINT_COMMENT.match(text) else None


def span(element: Element) -> Spliced:
    """A wrapper span gives way to what it holds; a lone raw piece in it is marked.
    The author's own spans keep their attributes, less the position."""
    attr, inlines = element["c"]
    if value(attr, "wrapper") is None:
        element["c"][1] = walk(inlines)
        take(attr, "data-pos")
        return None
    if len(inlines) == 1 and inlines[0]["t"] in LEAVES:  # a word or a space: most spans
        return inlines
    inlines = walk(inlines)
    pos = value(attr, "data-pos")
    if (len(inlines) == 1 and inlines[0]["t"] == "RawInline" and is_html(inlines[0]["c"][0])
            and pos):
        return [raw("RawInline", marker(pos)), inlines[0], raw("RawInline", END)]
    return inlines


def div(element: Element) -> Spliced:
    """A wrapper div around one raw HTML block marks it; one left empty by a dropped lint
    comment goes. Every other div stays as it is, its position for the writer."""
    attr, blocks = element["c"]
    blocks = element["c"][1] = walk(blocks)
    if value(attr, "wrapper") is None:
        return None
    pos = value(attr, "data-pos")
    if len(blocks) == 1 and blocks[0]["t"] == "RawBlock" and is_html(blocks[0]["c"][0]) and pos:
        return [raw("RawBlock", marker(pos)), blocks[0], raw("RawBlock", END)]
    return [] if not blocks else None


def marked(element: Element) -> Spliced:
    """Link and Image: the position moves from the attribute to a comment before it."""
    attr = element["c"][0]
    element["c"][1] = walk(element["c"][1])
    pos = take(attr, "data-pos")
    return [raw("RawInline", marker(pos)), element] if pos else None


def code(element: Element) -> Spliced:
    take(element["c"][0], "data-pos")
    return None


VISITS = {"RawInline": lint_comment, "RawBlock": lint_comment, "Span": span, "Div": div,
          "Link": marked, "Image": marked, "Code": code,
          **dict.fromkeys(["Plain", "Para", "BlockQuote", "Note", "Emph", "Underline",
                           "Strong", "Strikeout", "Superscript", "Subscript", "SmallCaps"],
                          flat)}
