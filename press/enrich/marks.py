"""Stage 3, enrich: index marks in a part's tree, read before the book's ids are given out.

An author marks a place for the index with a span: `[summit]{.index}` (the words are the
heading), `[summits]{.index key="summit"}` or `[]{.index key="summit!regional"}` (a
subentry), and a passage with `[]{.index-start key="x"}` ... `[]{.index-end key="x"}`.
Terms the index file asks to be found are wrapped in the same spans here, whole words,
longest first. Each mark then gets an id (`ix-<n>` in its part, made unique book-wide
like any other id), so its page is read from the print layout like a heading's.
"""
from __future__ import annotations

import re

from lxml import html

KINDS = ("index", "index-start", "index-end")
# Never find an index term inside these (as for the glossary), nor where the author said no.
SKIP_TAGS = frozenset({"h1", "h2", "h3", "h4", "h5", "h6", "a", "code", "pre", "script", "style"})
WHERE = {"h1": "heading", "h2": "heading", "h3": "heading", "h4": "heading",
         "h5": "heading", "h6": "heading", "a": "link"}


class Finder:
    """The index terms found in the text by themselves: one pattern, longest form first."""

    def __init__(self, forms: dict[str, str]):
        self.key = tuple(sorted(forms.items()))  # form (lower case) -> the heading it marks
        self.by_form = dict(forms)
        ordered = sorted(forms, key=len, reverse=True)
        alternatives = "|".join(r"\s+".join(map(re.escape, f.split())) for f in ordered)
        self.pattern = re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)", re.I) if forms else None


def kind_of(el) -> str | None:
    """'index', 'index-start' or 'index-end' for a mark, else None."""
    if not isinstance(el.tag, str) or el.tag != "span":
        return None
    classes = el.get("class", "").split()
    return next((k for k in KINDS if k in classes), None)


def key_of(el) -> str:
    """The heading a mark names: its key= attribute, else its words (spacing tidied)."""
    key = el.get("data-key")
    if key is None:
        key = el.text_content()
    return "!".join(" ".join(level.split()) for level in key.split("!"))


def prepare(root, finder: Finder | None) -> None:
    """Wrap the terms to be found, then give each mark without an id its own: ix-<n>."""
    if finder is not None and finder.pattern is not None:
        _find(root, finder)
    n = 0
    for el in root.iter("span"):
        if kind_of(el) and not el.get("id"):
            n += 1
            el.set("id", f"ix-{n}")


def where(el) -> str:
    """'heading' or 'link' when a mark sits inside one (lint: no mark belongs there)."""
    for up in el.iterancestors():
        if up.tag in WHERE:
            return WHERE[up.tag]
    return ""


def _find(el, finder: Finder) -> None:
    if not isinstance(el.tag, str) or el.tag in SKIP_TAGS or kind_of(el) \
            or "noindex" in el.get("class", "").split():
        return
    for child in list(el):
        _find(child, finder)
        if child.tail:
            _split(el, child, child.tail, finder)
    if el.text:
        _split(el, None, el.text, finder)


def _split(parent, after, text: str, finder: Finder) -> None:
    """Replace a run of text with text and found marks, in place."""
    pieces, last = [], 0
    for match in finder.pattern.finditer(text):
        node = html.Element("span", {"class": "index", "data-found": "1", "data-key":
                                     finder.by_form[" ".join(match.group(0).lower().split())]})
        node.text = match.group(0)
        pieces.append((text[last:match.start()], node))
        last = match.end()
    if not pieces:
        return
    for (_, node), (gap, _) in zip(pieces, pieces[1:] + [(text[last:], None)]):
        node.tail = gap
    nodes = [node for _, node in pieces]
    if after is None:
        parent.text = pieces[0][0]
        for i, node in enumerate(nodes):
            parent.insert(i, node)
    else:
        after.tail = pieces[0][0]
        index = parent.index(after)
        for i, node in enumerate(nodes, 1):
            parent.insert(index + i, node)
