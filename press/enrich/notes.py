"""Stage 3, enrich: Pandoc's end notes shaped for each output.

Pandoc gathers a part's notes at its end (<section class="footnotes"><hr><ol><li id=fnN>
... <a class="footnote-back">↩</a>) and calls each with <a class="footnote-ref"
href="#fnN">. That list stays as it is for the screen edition, where a note's number
links down to it and its back link up again. The other two outputs want each note
somewhere else:

- print: the note's content at its call, as an inline element WeasyPrint floats to the
  foot of the page (float: footnote). It sits inside the calling paragraph, so its own
  paragraphs and lists become spans that print.css lays out as blocks: an HTML parser
  would close the paragraph at a nested <p>, and the note would escape the float.
- EPUB: each note an <aside epub:type="footnote" role="doc-footnote">, which Apple Books
  and Kobo open as a pop-up at the call; the note's number links back to the call, so no
  "↩" glyph (which the book's fonts do not have) is needed anywhere.

A note called twice in the Markdown is two notes to Pandoc (each call its own number),
so every note here has exactly one call.
"""
from __future__ import annotations

import copy

from lxml import html as lxml_html

# The blocks a note may hold, and the class each becomes inside the print float.
NOTE_BLOCKS = {"p": "fn-p", "ul": "fn-ul", "ol": "fn-ol", "li": "fn-li",
               "blockquote": "fn-quote", "pre": "fn-pre", "div": "fn-div",
               "dl": "fn-div", "dt": "fn-p", "dd": "fn-p", "figure": "fn-div",
               "figcaption": "fn-p", "h1": "fn-p", "h2": "fn-p", "h3": "fn-p",
               "h4": "fn-p", "h5": "fn-p", "h6": "fn-p", "hr": "fn-div"}


def has_notes(root) -> bool:
    return note_section(root) is not None


def note_section(root):
    """Pandoc's end-notes section of a part, or None."""
    for el in root.iter("section"):
        if "footnotes" in el.get("class", "").split():
            return el
    return None


def calls(root) -> list:
    """The note calls (<a class="footnote-ref">) of a part, in reading order."""
    return [a for a in root.iter("a") if "footnote-ref" in a.get("class", "").split()]


def notes_by_id(section) -> dict:
    return {li.get("id"): li for li in section.iter("li") if li.get("id")}


def _drop_back_links(note) -> None:
    """Remove Pandoc's "↩" back links from a note, keeping the text around them."""
    for a in list(note.iter("a")):
        if "footnote-back" in a.get("class", "").split():
            a.drop_tree()  # keeps the tail
    # The back link followed the last word after a space: trim what it left behind.
    for el in note.iter():
        if el.tail and not el.tail.strip() and el.getnext() is None:
            el.tail = None


def print_notes(root):
    """A copy of the part's tree with each note moved to its call, for the print edition."""
    root = copy.deepcopy(root)
    section = note_section(root)
    if section is None:
        return root
    notes = notes_by_id(section)
    for a in calls(root):
        note = notes.get(a.get("href", "").lstrip("#"))
        if note is None:
            continue
        _drop_back_links(note)
        a.addprevious(_float(note, a))
        a.drop_tree()
    section.drop_tree()
    return root


def _float(note, call):
    """The element print.css floats to the page foot: the note's content as spans."""
    span = lxml_html.Element("span", {"class": "footnote", "id": note.get("id", "")})
    span.set("role", "doc-footnote")
    span.text = note.text
    for child in list(note):
        span.append(child)
    for el in span.iterdescendants():
        if not isinstance(el.tag, str):
            continue
        el.attrib.pop("data-b", None)  # a page's first text is never in its notes
        if el.tag in NOTE_BLOCKS:
            classes = " ".join([NOTE_BLOCKS[el.tag], el.get("class", "")]).strip()
            el.tag = "span"
            el.set("class", classes)
    _trim_between_blocks(span)
    span.tail = call.tail
    call.tail = None
    return span


def _trim_between_blocks(span) -> None:
    """Drop the line breaks Pandoc leaves between a note's blocks: inside an inline
    element, each would become an empty line of its own."""
    blocks = set(NOTE_BLOCKS.values())
    for el in span.iter("span"):
        if set(el.get("class", "").split()) & blocks:
            if el.tail is not None and not el.tail.strip():
                el.tail = None
            if len(el) and el.text is not None and not el.text.strip() and \
                    set(el[0].get("class", "").split()) & blocks:
                el.text = None
    if span.text is not None and not span.text.strip():
        span.text = None


def epub_notes(root):
    """A copy of the part's tree with each note an aside that pops up at its call."""
    root = copy.deepcopy(root)
    for a in calls(root):
        a.set("data-epub-type", "noteref")
        a.set("role", "doc-noteref")
    section = note_section(root)
    if section is None:
        return root
    numbers = {a.get("href", "").lstrip("#"): (n, a.get("id", ""))
               for n, a in enumerate(calls(root), 1)}
    shell = lxml_html.Element("section", {"class": "footnotes", "aria-label": "Notes"})
    if section.get("id"):
        shell.set("id", section.get("id"))
    for li in section.iter("li"):
        if li.get("id") in numbers:
            shell.append(_aside(li, *numbers[li.get("id")]))
    section.addprevious(shell)
    shell.tail = section.tail
    section.drop_tree()
    return root


def _aside(li, number: int, call_id: str):
    """One note as an EPUB footnote: its number first, linking back to the call."""
    _drop_back_links(li)
    aside = lxml_html.Element("aside", {"class": "footnote", "id": li.get("id")})
    aside.set("data-epub-type", "footnote")
    aside.set("role", "doc-footnote")
    for name in ("data-line", "data-b"):
        if li.get(name):
            aside.set(name, li.get(name))
    aside.text = li.text
    for child in list(li):
        aside.append(child)
    back = lxml_html.Element("a", {"class": "note-number", "href": f"#{call_id}",
                                   "role": "doc-backlink"})
    back.text = str(number)
    first = aside[0] if len(aside) and aside[0].tag == "p" and not (aside.text or "").strip() \
        else None
    holder = first if first is not None else aside
    back.tail = ". " + (holder.text or "")
    holder.text = None
    holder.insert(0, back)
    return aside
