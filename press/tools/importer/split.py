"""Writing tools, import: documents split into pieces at their level-1 headings.

Each level-1 heading starts a piece whose title it gives. A document whose front matter
names its title keeps one piece and has every heading moved down a level, so its
sections start at ##. Unnumbered titles (`{-}`, `.unnumbered`) before the first numbered
chapter are front matter and after the last one back matter; bookdown's `(PART)` and
`(APPENDIX)` headings open a part and the appendices. A piece with no text is no file:
its title is kept as a part title.
"""
from __future__ import annotations

import re

from press.tools.importer import text as md
from press.tools.importer.model import Doc, Heading, Line, Piece, Plan, Report


def headings(doc: Doc, taken: set[str], mdbook: bool) -> list[Heading]:
    """The document's headings with the ids its own tool gives them, in order."""
    texts = [line.text for line in doc.lines]
    code = md.code_lines(texts)
    found = []
    for at, text in enumerate(texts):
        if code[at]:
            continue
        head = md.heading(text, texts[at + 1] if at + 1 < len(texts) else None)
        if head is None or (at > 0 and head[0] == 1 and md.SETEXT_1.match(text)):
            continue
        words, attrs = md.split_attrs(head[1])
        explicit = md.attr_id(attrs)
        made = md.mdbook_id(words) if mdbook else md.pandoc_id(words)
        ident = explicit or md.unique(made, taken)
        if explicit:
            taken.add(explicit)
        found.append(Heading(head[0], md.plain(words), ident, bool(explicit),
                             md.unnumbered(attrs), at))
    return found


def split(doc: Doc, heads: list[Heading], report: Report, meta_titles: bool) -> list[Piece]:
    """The pieces one document makes, in order."""
    title = doc.meta.get("title") if meta_titles else None
    if isinstance(title, str) and title.strip():
        return [Piece(doc.entry.role, title.strip(), demoted(doc), doc, part=doc.entry.part)]
    tops = [h for h in heads if h.level == 1]
    if not tops:  # a front matter title (as press writes it) names the piece, or the contents
        named = doc.meta.get("title") if isinstance(doc.meta.get("title"), str) else ""
        return [Piece(doc.entry.role, doc.entry.title or named.strip() or _stem_title(doc),
                      doc.lines, doc, part=doc.entry.part)]
    pieces = []
    lead = doc.lines[: tops[0].at]
    if any(line.text.strip() for line in lead):
        name = doc.entry.title or "Opening"
        if not doc.entry.title:
            first = next(line for line in lead if line.text.strip())
            report.note(first.path, first.number, "R011",
                        f"the text before the first heading became a part titled '{name}'",
                        "give it a heading of its own, or move it into a chapter")
        pieces.append(Piece(doc.entry.role, name, lead, doc, part=doc.entry.part,
                            unnumbered=not doc.entry.title))  # an opening, before chapter 1
    for n, head in enumerate(tops):
        end = tops[n + 1].at if n + 1 < len(tops) else len(doc.lines)
        skip = 2 if md.SETEXT_1.match(doc.lines[head.at + 1].text if head.at + 1 < end
                                      else "x") else 1
        words = md.split_attrs(md.heading(doc.lines[head.at].text,
                                          doc.lines[head.at + 1].text if head.at + 1 < end
                                          else None)[1])[0]
        pieces.append(Piece(doc.entry.role, words.strip(), doc.lines[head.at + skip: end], doc,
                            title_id=head.source_id, part=doc.entry.part if not pieces else "",
                            unnumbered=head.unnumbered, offset=head.at + skip))
    return pieces


def book_title(doc: Doc, heads: list[Heading], meta: dict) -> list[Heading]:
    """One long file with a single level-1 heading over level-2 chapters: the heading is the
    book's title (when its metadata names no other) and each ## starts a chapter."""
    tops = [h for h in heads if h.level == 1]
    if len(tops) != 1 or not any(h.level == 2 for h in heads) or \
            any(line.text.strip() for line in doc.lines[: tops[0].at]) or \
            meta.get("title", tops[0].text) != tops[0].text:
        return heads
    meta["title"] = tops[0].text
    code = md.code_lines([line.text for line in doc.lines])
    skip = 2 if tops[0].at + 1 < len(doc.lines) and \
        md.SETEXT_1.match(doc.lines[tops[0].at + 1].text) else 1
    lines = [Line("", l.path, l.number) if tops[0].at <= at < tops[0].at + skip else l
             for at, l in enumerate(doc.lines)]
    doc.lines = [Line(re.sub(r"^( {0,3})##", r"\1#", l.text, count=1)
                      if not code[at] and md.ATX.match(l.text) else l.text, l.path, l.number)
                 for at, l in enumerate(lines)]
    return [Heading(h.level - 1, h.text, h.source_id, h.explicit, h.unnumbered, h.at)
            for h in heads if h is not tops[0]]


def demoted(doc: Doc) -> list[Line]:
    """The document's lines with every ATX heading one level down (# -> ##)."""
    code = md.code_lines([line.text for line in doc.lines])
    out = []
    for at, line in enumerate(doc.lines):
        head = None if code[at] else md.ATX.match(line.text)
        text = line.text
        if head and len(head.group(1)) < 6:
            text = re.sub(r"^( {0,3})#", r"\1##", text, count=1)
        out.append(Line(text, line.path, line.number))
    return out


def _stem_title(doc: Doc) -> str:
    return re.sub(r"^\d+[-_ ]*", "", doc.entry.path.stem).replace("-", " ").replace("_", " ") \
        .strip().capitalize() or doc.entry.path.stem


def arrange(pieces: list[Piece], plan: Plan, report: Report, by_contents: bool) -> list[Piece]:
    """Parts, appendices, front and back matter; pieces without text become part titles."""
    kept, part, back = [], "", False
    for piece in pieces:
        marker = re.match(r"\((PART|APPENDIX)\)\s*", piece.title)
        if marker:
            piece.title = piece.title[marker.end():]
            back = back or marker.group(1) == "APPENDIX"
        if back and piece.role == "chapter":
            piece.role = "back"
        if not any(line.text.strip() for line in piece.lines):
            part = _join(part, piece.part, piece.title)
            line = piece.doc.lines[0] if piece.doc.lines else None
            report.note(line.path if line else str(piece.doc.entry.path), line.number if line
                        else None, "R012", f"'{piece.title}' has no text of its own: its title "
                        "is kept as a part title, a comment in book.yaml",
                        "press has no part pages; the chapters after it are listed under it")
            continue
        opens = piece.doc.entry.opens_part and not any(k.doc is piece.doc for k in kept)
        piece.part = _join(part, piece.part, piece.title if opens else "")
        if opens:
            at = piece.doc.entry.part_at
            report.note(at[0], at[1], "R012", f"the part '{piece.title}' has a page of its "
                        "own: it became a chapter, and the part's title a comment in book.yaml",
                        "press has no part pages; keep it as a chapter or fold its text "
                        "into the next one")
        part = ""
        kept.append(piece)
    if not by_contents:
        _front_and_back(kept)
    return kept


def _join(*titles: str) -> str:
    return " / ".join(t for t in titles if t)


def _front_and_back(pieces: list[Piece]) -> None:
    """Unnumbered chapters before the first numbered one are front matter, after the last one
    back matter (a preface, an afterword, a bibliography)."""
    numbered = [n for n, p in enumerate(pieces) if p.role == "chapter" and not p.unnumbered]
    if not numbered:
        return
    for n, piece in enumerate(pieces):
        if piece.role == "chapter" and piece.unnumbered:
            if n < numbered[0]:
                piece.role = "front"
            elif n > numbered[-1]:
                piece.role = "back"
