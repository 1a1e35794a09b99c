"""Writing tools, import: links, definitions, notes, headings and images of each new piece.

A link to a heading (#id, other.md#id, other.html#id) is pointed at the file that now
holds it, and that heading is given its source id explicitly, so an id the split would
otherwise number anew (two 'Summary' sections) keeps meaning the same place. A reference
link or footnote whose definition stayed in another piece gets a copy of it. Pandoc's
implicit heading references ([Heading Text]) become explicit links. Images are copied
into images/ and their paths rewritten.
"""
from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import unquote

from press.tools.importer import text as md
from press.tools.importer.model import Doc, Heading, Line, Piece, Plan, Report

SCHEME = re.compile(r"^[a-z][a-z0-9+.-]*:|^//", re.I)
HREF = re.compile(r"\]\([ \t]*(<[^>\n]*>|[^()\s]+)((?:[ \t]+(?:\"[^\"]*\"|'[^']*'))?)[ \t]*\)")
REF_USE = re.compile(r"\[((?:[^\[\]\n]|\[[^\[\]\n]*\])+)\](?:\[([^\[\]\n]*)\])?")
NOTE_USE = re.compile(r"\[\^([^\]\s]+)\](?!:)")
HTML_URL = re.compile(r"<(img|a)\b[^>]*?\s(src|href)=(\"[^\"]*\"|'[^']*')", re.I)
IMAGE_TYPES = (".png", ".jpg", ".jpeg", ".gif", ".webp", ".svg")
GRID = re.compile(r"^\s*\+(?:[-=:]+\+)+\s*$")
# (code, pattern, what): R009 the build refuses as it stands, R018 it prints as written.
ATTENTION = (
    ("R009", GRID, "a grid table (press reads pipe tables only)"),
    ("R009", re.compile(r"^\s*-{2,}(?:[ \t]+-{2,})+\s*$"), "a simple or multiline table "
                                                          "(press reads pipe tables only)"),
    ("R009", re.compile(r"\\begin\{"), "raw TeX, which press would print as its source"),
    ("R009", re.compile(r"\{=(?!html5?\})[\w-]+\}"), "a raw block or span for a format other "
                                                      "than HTML"),
    ("R018", re.compile(r"`r [^`]+`"), "inline R code, which is printed as code and not run"),
    ("R018", re.compile(r"\{\{<"), "a Quarto shortcode, which press prints as written"),
    ("R018", re.compile(r"\{\{#(?!include|rustdoc_include)\w+"), "an mdBook directive press "
                                                                "does not know"),
    ("R018", re.compile(r"\[-?@[\w:.#$%&+?<>~/-]+|(?<![\w.])@(?:fig|sec|tbl|eq|lst|thm)-[\w-]+"),
     "a citation or cross-reference, which press prints as written"),
    ("R018", re.compile(r"\\@ref\("), "a bookdown cross-reference, which press prints as "
                                       "written"),
)

# mdBook's include, in a book of another kind: nothing puts it in place.
FOREIGN_INCLUDE = (("R018", re.compile(r"\{\{#(?:include|rustdoc_include)\b"),
                    "an mdBook include in a book that is not an mdBook"),)


class Index:
    """Where every heading, document, definition and note of the source now is."""

    def __init__(self, docs: list[Doc], heads: dict[int, list[Heading]], pieces: list[Piece]):
        self.ids: dict[tuple[str, str], tuple[Piece, int | None]] = {}
        self.texts: dict[tuple[str, str], list[tuple[Piece, int | None, str]]] = {}
        self.docs: dict[Path, Doc] = {}
        self.first: dict[int, Piece] = {}
        self.defs: dict[tuple[str, str], Line] = {}
        self.notes: dict[tuple[str, str], list[Line]] = {}
        for piece in pieces:
            self.first.setdefault(id(piece.doc), piece)
        for doc in docs:
            path = doc.entry.path.resolve()
            self.docs[path] = doc
            self.docs.setdefault(path.with_suffix(""), doc)  # other.html names other.qmd
            self._headings(doc, heads.get(id(doc), []), [p for p in pieces if p.doc is doc])
            self._definitions(doc)

    def _headings(self, doc: Doc, heads: list[Heading], pieces: list[Piece]) -> None:
        for head in heads:
            place = next(((p, None) for p in pieces if p.title_id and p.title_id ==
                          head.source_id), None) or \
                next(((p, head.at - p.offset) for p in pieces
                      if p.offset <= head.at < p.offset + len(p.lines)), None)
            if place is None:
                continue
            self.ids.setdefault((doc.scope, head.source_id), place)
            self.texts.setdefault((doc.scope, md.label(head.text)), []).append(
                (place[0], place[1], head.source_id))

    def _definitions(self, doc: Doc) -> None:
        texts = [line.text for line in doc.lines]
        code = md.code_lines(texts)
        for at, line in enumerate(doc.lines):
            if code[at]:
                continue
            note = md.NOTE_DEF.match(line.text)
            ref = None if note else md.REF_DEF.match(line.text)
            if ref and not ref.group(1).startswith("^"):
                self.defs.setdefault((doc.scope, md.label(ref.group(1))), line)
            elif note:
                self.notes.setdefault((doc.scope, md.label(note.group(1))),
                                      note_block(doc.lines, at))


def note_block(lines: list[Line], at: int) -> list[Line]:
    """A footnote's definition: its first line and the indented lines that go on with it."""
    end = at + 1
    while end < len(lines) and (not lines[end].text.strip() or
                                lines[end].text.startswith(("    ", "\t"))):
        end += 1
    while end > at + 1 and not lines[end - 1].text.strip():
        end -= 1
    return lines[at:end]


class Rewriter:
    """Rewrites every piece of one import; counts and notes go in the report."""

    def __init__(self, plan: Plan, index: Index, report: Report, image_base: Path):
        self.plan, self.index, self.report = plan, index, report
        self.image_base = image_base
        self.copies: dict[str, Path] = {}  # images/... -> the source file

    # -- definitions each piece needs ------------------------------------------------
    def complete(self, piece: Piece) -> None:
        """Copy in the reference definitions and footnotes the piece uses but lacks."""
        for _ in range(3):  # a copied note can use another definition
            have_refs, have_notes, used_refs, used_notes = self._labels(piece.lines)
            wanted = [self.index.defs.get((piece.doc.scope, l)) for l in
                      sorted(used_refs - have_refs)]
            notes = [self.index.notes.get((piece.doc.scope, l)) for l in
                     sorted(used_notes - have_notes)]
            extra = [[d] for d in wanted if d] + [n for n in notes if n]
            if not extra:
                return
            self.report.definitions += len(extra)
            while piece.lines and not piece.lines[-1].text.strip():
                piece.lines = piece.lines[:-1]
            for block in extra:
                piece.lines = piece.lines + [Line("", block[0].path, block[0].number)] + block

    def _labels(self, lines: list[Line]):
        have_refs, have_notes, used_refs, used_notes = set(), set(), set(), set()
        code = md.code_lines([line.text for line in lines])
        for at, line in enumerate(lines):
            if code[at]:
                continue
            text = md.mask_code(line.text)
            note, ref = md.NOTE_DEF.match(text), md.REF_DEF.match(text)
            if note:
                have_notes.add(md.label(note.group(1)))
            elif ref:
                have_refs.add(md.label(ref.group(1)))
                continue
            used_notes |= {md.label(m.group(1)) for m in NOTE_USE.finditer(text)}
            for match in REF_USE.finditer(text):
                name = match.group(2) or match.group(1)
                if not name.startswith(("^", "@")):
                    used_refs.add(md.label(name))
        return have_refs, have_notes, used_refs, used_notes

    # -- links and images ------------------------------------------------------------
    def lines(self, piece: Piece) -> list[str]:
        code = md.code_lines([line.text for line in piece.lines])
        out = []
        for at, line in enumerate(piece.lines):
            before = piece.lines[at - 1].text.lstrip() if at else ""
            # a grid table is reported at its top border only
            inside = before.startswith(("|", "+")) and GRID.match(line.text)
            out.append(line.text if code[at] else self.line(piece, line, bool(inside)))
        return out

    def line(self, piece: Piece, line: Line, quiet: bool = False) -> str:
        text, masked = line.text, md.mask_code(line.text)
        if not quiet:
            self._attention(line, masked)
        edits: list[tuple[int, int, str]] = []
        ref = md.REF_DEF.match(masked)
        if ref and not ref.group(1).startswith("^"):
            new = self._target(piece, line, ref.group(2).strip("<>"), None)
            if new is not None:
                edits.append((ref.start(2), ref.end(2), new))
        else:
            edits += self._inline(piece, line, masked)
            edits += self._implicit(piece, line, masked, edits)
        edits += self._html(piece, line, masked)
        for start, end, new in sorted(edits, reverse=True):
            text = text[:start] + new + text[end:]
        return text

    def _inline(self, piece, line, masked):
        edits = []
        for match in HREF.finditer(masked):
            opening = _opening(masked, match.start())
            image = opening is not None and opening > 0 and masked[opening - 1] == "!"
            alt = masked[opening + 1: match.start()] if opening is not None else "x"
            href = match.group(1).strip("<>")
            new = self._target(piece, line, href, alt if image else None)
            if new is not None:
                edits.append((match.start(1), match.end(1), new))
        return edits

    def _implicit(self, piece, line, masked, taken):
        """[Heading Text], [text][Heading Text] and [Heading Text][] to explicit links."""
        if not self.plan.implicit_refs:
            return []
        edits = []
        for match in REF_USE.finditer(masked):
            after = masked[match.end(): match.end() + 1]
            name = match.group(2) or match.group(1)
            before = masked[match.start() - 1: match.start()] if match.start() else ""
            if after in ("(", "{", ":") or before in ("!", "\\", "]") or \
                    name.startswith(("^", "@")) or "\0" in name:
                continue
            scope_label = (piece.doc.scope, md.label(name))
            if scope_label in self.index.defs or scope_label not in self.index.texts:
                continue
            if any(s < match.end() and match.start() < e for s, e, _ in taken):
                continue
            found = self.index.texts[scope_label]
            if len({f[2] for f in found}) > 1:
                self.report.note(line.path, line.number, "R014",
                                 f"[{name}] matches {len(found)} headings: linked to the first",
                                 "link to the one you mean with its id: [text](#id)")
            href = self._heading_href(piece, *found[0])
            edits.append((match.start(), match.end(), f"[{match.group(1)}]({href})"))
            self.report.links += 1
        return edits

    def _html(self, piece, line, masked):
        edits = []
        for match in HTML_URL.finditer(masked):
            value = match.group(3)[1:-1]
            image = match.group(1).lower() == "img"
            new = self._target(piece, line, value, "html" if image else None)
            if new is not None:
                edits.append((match.start(3) + 1, match.end(3) - 1, new))
        return edits

    def _target(self, piece, line, href, alt):
        """The new address of a link (alt is None) or an image; None: leave it as it is."""
        if alt is not None or Path(href.partition("#")[0]).suffix.lower() in IMAGE_TYPES:
            return self._image(piece, line, href, alt)
        if SCHEME.match(href) or not href:
            return None
        path, _, fragment = href.partition("#")
        scope, doc = piece.doc.scope, None
        if path:
            doc = self._doc(piece.doc, path)
            if doc is None:
                self.report.note(line.path, line.number, "R007",
                                 f"the link '{href}' leads to no file of the book",
                                 "link to a chapter, or to a web address")
                return None
            scope = doc.scope
            if not fragment:
                first = self.index.first.get(id(doc))
                return self._count(href, Path(first.file).name) if first else None
        place = self.index.ids.get((scope, unquote(fragment)))
        if place is None:
            self.report.note(line.path, line.number, "R007",
                             f"the link '{href}' names no heading of the book",
                             "link to a heading's id, or give the heading that id: {#id}")
            return None
        return self._count(href, self._heading_href(piece, place[0], place[1],
                                                    unquote(fragment)))

    def _count(self, old: str, new: str) -> str:
        if new != old:
            self.report.links += 1
        return new

    def _heading_href(self, piece: Piece, target: Piece, at: int | None, ident: str) -> str:
        name = Path(target.file).name
        if at is None:
            return name
        target.targets[at] = ident
        return f"#{ident}" if target is piece else f"{name}#{ident}"

    def _doc(self, here: Doc, path: str) -> Doc | None:
        wanted = (here.entry.path.parent / unquote(path)).resolve()
        if not wanted.is_relative_to(self.plan.root.resolve()):
            return None
        return self.index.docs.get(wanted) or self.index.docs.get(wanted.with_suffix(""))

    def _image(self, piece, line, src, alt):
        if alt is not None and not alt.strip():
            self.report.note(line.path, line.number, "R017", f"the image '{src}' has no alt "
                             "text (press refuses it: M017)", "describe what it shows in [ ]")
        if SCHEME.match(src) or src.startswith("/"):
            self.report.note(line.path, line.number, "R008", f"the image '{src}' is not a "
                             "file of the book", "download it into the book's folder and "
                             "link to it with a relative path")
            return None
        found = (piece.doc.entry.path.parent / unquote(src)).resolve()
        root = self.plan.root.resolve()
        if not found.is_file() and (root / unquote(src)).resolve().is_file():
            found = (root / unquote(src)).resolve()  # knitr and Quarto: from the project
        if not found.is_relative_to(root) or not found.is_file():
            self.report.note(line.path, line.number, "R008", f"the image '{src}' is "
                             + ("outside the source" if not found.is_relative_to(root)
                                else "not found"), "put the image in the book's folder")
            return None
        base = self.image_base if found.is_relative_to(self.image_base) else root
        rel = found.relative_to(base).as_posix()
        dest = rel if rel.startswith("images/") else f"images/{rel}"
        if self.copies.get(dest) not in (None, found):
            dest = f"images/{found.relative_to(root).as_posix()}"
        self.copies[dest] = found
        return self._count(src, f"<{dest}>" if re.search(r"[\s()<>]", dest) else dest)

    def _attention(self, line: Line, masked: str) -> None:
        checks = ATTENTION if self.plan.kind == "mdbook" else ATTENTION + FOREIGN_INCLUDE
        for code, pattern, what in checks:
            if pattern.search(masked if "inline R" not in what else line.text):
                self.report.note(line.path, line.number, code, f"{what}: left as written",
                                 "rewrite it in press's Markdown (README, Editing the book), "
                                 "or remove it")
                return

    # -- headings --------------------------------------------------------------------
    def headings(self, piece: Piece, lines: list[str]) -> list[str]:
        """Targets get their id written out; {-} becomes .unnumbered; skips are reported."""
        code = md.code_lines(lines)
        out, previous = [], 1
        for at, text in enumerate(lines):
            head = None if code[at] else md.ATX.match(text)
            if head:
                level = len(head.group(1))
                if level > previous + 1:
                    line = piece.lines[at]
                    self.report.note(line.path, line.number, "R013", f"the heading level "
                                     f"skips from {previous} to {level} (press refuses it: "
                                     "M014)", f"use {'#' * (previous + 1)} for this heading")
                previous = level
                text = with_id(text, piece.targets.get(at))
            out.append(text)
        return out


def with_id(text: str, ident: str | None) -> str:
    """A heading line with {-} written as .unnumbered and, if given, its id explicit."""
    words, attrs = md.split_attrs(text)
    attrs = re.sub(r"(^|\s)-(?=\s|$)", r"\1.unnumbered", attrs)
    if ident and not md.attr_id(attrs):
        attrs = f"#{ident} {attrs}".strip()
    return f"{words} {{{attrs}}}" if attrs else words


def _opening(text: str, close: int) -> int | None:
    """Where the [ is that the ] at close matches."""
    depth = 0
    for at in range(close, -1, -1):
        if text[at] == "]" and (at == 0 or text[at - 1] != "\\"):
            depth += 1
        elif text[at] == "[" and (at == 0 or text[at - 1] != "\\"):
            depth -= 1
            if depth == 0:
                return at
    return None
