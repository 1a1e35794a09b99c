"""Writing tools, import: what an import reads and makes (source lines, documents, pieces, report)."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from press.problems import CODES, Problem

KINDS = ("single", "mdbook", "quarto", "bookdown", "pandoc")
# What the build refuses as the import leaves it (broken links, missing images, skipped
# heading levels, images without alt text, tables and TeX it cannot read).
REFUSED = frozenset({"R007", "R008", "R009", "R013", "R017"})


@dataclass(frozen=True)
class Line:
    """One line of text and where it was written: the source file (as shown) and its line."""

    text: str
    path: str
    number: int


@dataclass(frozen=True)
class Entry:
    """One file of the source's reading order, as its table of contents lists it."""

    path: Path  # the source file
    role: str = "chapter"  # front, chapter or back
    title: str = ""  # the title the contents give it ("" when they give none)
    part: str = ""  # the part it opens
    part_at: tuple = ("", None)  # the contents' file and line that name the part
    opens_part: bool = False  # the file is a part's own page (Quarto's part: file.qmd)


@dataclass
class Doc:
    """One source file read, includes resolved, with its YAML front matter taken apart."""

    entry: Entry
    lines: list[Line]
    meta: dict
    scope: str  # documents whose heading ids share one namespace share a scope


@dataclass
class Heading:
    level: int
    text: str  # plain text, attributes removed
    source_id: str  # the id the source's own tool gives it
    explicit: bool  # written as {#id} in the source
    unnumbered: bool
    at: int  # index of its line in the doc


@dataclass
class Piece:
    """One file of the new manuscript: a front-matter piece, a chapter or back matter."""

    role: str
    title: str
    lines: list[Line]
    doc: Doc
    title_id: str = ""  # source id of the heading that gave the title
    part: str = ""
    file: str = ""  # name in the manuscript, e.g. chapters/01-intro.md
    unnumbered: bool = False
    offset: int = 0  # index in the document of the piece's first line
    targets: dict[int, str] = field(default_factory=dict)  # line index -> id it must carry


@dataclass(frozen=True)
class Plan:
    """What a kind's reader makes of the source: metadata and the reading order."""

    root: Path  # the folder the book's files are looked up in (never read outside it)
    metadata: dict
    entries: tuple[Entry, ...]
    single_scope: bool  # one namespace of heading ids for the whole book (Pandoc, bookdown)
    implicit_refs: bool  # [Heading Text] links to a heading (Pandoc Markdown)
    meta_titles: bool = False  # a file's front matter title is its chapter's (Quarto)
    kind: str = ""
    meta_path: str = ""  # the file the metadata came from, for messages


@dataclass
class Report:
    """What an import did, counted, and what needs the author's attention."""

    kind: str = ""
    front: int = 0
    chapters: int = 0
    back: int = 0
    images: int = 0
    links: int = 0
    definitions: int = 0
    includes: int = 0
    attention: list[Problem] = field(default_factory=list)

    def note(self, path, line, code: str, message: str, hint: str = "") -> None:
        self.attention.append(Problem(path, line, code, message, hint, CODES[code][0]))

    def lines(self) -> list[str]:
        parts = f"{self.front} front, {self.chapters} chapters, {self.back} back"
        said = [f"import   {self.kind}: {parts}; {self.images} image(s) copied, "
                f"{self.links} link(s) rewritten, {self.definitions} link or note "
                f"definition(s) copied, {self.includes} include(s) resolved"]
        ordered = sorted(self.attention, key=lambda p: (str(p.path), p.line or 0, p.code))
        if ordered:
            said.append(f"needs attention: {len(ordered)}")
            said += [f"  {problem}" for problem in ordered]
        else:
            said.append("needs attention: nothing")
        refused = [p for p in ordered if p.code in REFUSED]
        if refused:
            codes = ", ".join(sorted({p.code for p in refused}))
            said.append(f"refused  {len(refused)} of these ({codes}) stop `invoke build` "
                        "until they are rewritten")
        return said
