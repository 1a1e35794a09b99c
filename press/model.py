"""The book model: frozen records that flow forward through every stage."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

# How a manuscript types its quotes (book.yaml, lint.quotes).
QUOTE_STYLES = ("straight", "typographic")
# Code listings' colours (book.yaml highlight.theme); the first is the default. Each
# survives printing in greys: token kinds differ in weight and slant as well as colour.
HIGHLIGHT_THEMES = ("colour", "greyscale")

# A language given without its region: the region its hyphenation follows.
DEFAULT_REGIONS = {"en": "en-US"}


@dataclass(frozen=True)
class Metadata:
    """What book.yaml says about the book as a whole."""

    title: str
    creator: str
    language: str
    identifier: str
    date: str
    rights: str
    slug: str
    subtitle: str = ""
    publisher: str = ""
    edition: str = ""
    description: str = ""
    subjects: tuple[str, ...] = ()
    trim_width: str = "6in"
    trim_height: str = "9in"
    highlight: str = "colour"  # HIGHLIGHT_THEMES
    isbn: str = ""  # ISBN-13 as written in book.yaml, or ""
    toc_depth: int = 2  # heading levels the contents lists: 1 chapters only, 2 sections

    @property
    def region_language(self) -> str:
        """The language with its region, which picks the hyphenation patterns: a bare
        "en" reads as American English, whose patterns pyphen has as en_US."""
        return DEFAULT_REGIONS.get(self.language.lower(), self.language)

    @property
    def isbn_urn(self) -> str:
        return "urn:isbn:" + self.isbn.replace("-", "").replace(" ", "") if self.isbn else ""


@dataclass(frozen=True)
class Part:
    """One Markdown file of the manuscript: a front-matter piece, a chapter or back matter."""

    kind: str  # "front", "chapter" or "back"
    path: Path  # relative to the project folder, for messages
    slug: str
    title: str
    short_title: str
    # The whole file, front matter blanked so line numbers stay true. The templates show
    # the converted text, not this: a rendered page is kept while its values are the same
    # apart from this field (press.render.templates), unless a template names it.
    markdown: str = field(metadata={"templates": False})
    number: int | None = None  # chapter number, None outside the body


@dataclass(frozen=True)
class Original:
    """A term in its original script, with the language and direction it is written in."""

    text: str
    lang: str
    dir: str


@dataclass(frozen=True)
class GlossaryEntry:
    term: str
    slug: str
    definition: str  # Markdown
    line: int
    variants: tuple[str, ...] = ()
    see: tuple[str, ...] = ()
    original: Original | None = None


@dataclass(frozen=True)
class IndexTerm:
    """One heading declared in index.yaml: "summit", or a subentry "summit!regional"."""

    term: str
    line: int
    sort: str = ""  # the key it is sorted by, when not its own text
    variants: tuple[str, ...] = ()  # other forms found in the text (with find)
    see: tuple[str, ...] = ()  # a heading with no pages of its own: "See X"
    see_also: tuple[str, ...] = ()
    find: bool | None = None  # found in the text automatically; None: the file's setting


@dataclass(frozen=True)
class IndexSettings:
    """index.yaml: the headings declared once, and how the index is gathered."""

    terms: tuple[IndexTerm, ...] = ()
    path: Path | None = None
    find: bool = False  # every declared term is found in the text (whole words)
    glossary: bool = False  # the glossary's terms are index headings too, found in the text


@dataclass(frozen=True)
class LintSettings:
    """How `invoke lint` reads the prose: book.yaml's `lint:` key."""

    ignore: tuple[str, ...] = ()  # prose codes silenced for the whole book
    quotes: str = "straight"  # the source's quote style: "straight" or "typographic"


@dataclass(frozen=True)
class Book:
    """Everything the manuscript says, validated, before anything is converted."""

    root: Path  # the manuscript folder
    meta: Metadata
    parts: tuple[Part, ...]
    glossary: tuple[GlossaryEntry, ...] = ()
    glossary_path: Path | None = None
    back_glossary: bool = True
    lint: LintSettings = LintSettings()
    index: IndexSettings = IndexSettings()
    back_index: bool = False  # book.yaml's back list names "index"

    @property
    def chapters(self) -> tuple[Part, ...]:
        return tuple(p for p in self.parts if p.kind == "chapter")


@dataclass(frozen=True)
class Heading:
    level: int
    id: str
    text: str


@dataclass(frozen=True)
class Chapter:
    """A part after conversion and enrichment: HTML ready for the templates."""

    part: Part
    html: str  # HTML serialisation, for the print document
    xhtml: str  # XML serialisation, for the EPUB content document
    headings: tuple[Heading, ...] = field(default_factory=tuple)
    # The print edition's HTML: as html, but each note at its call (press.enrich.notes).
    print_html: str = ""
    # Tables without header cells (the accessibility claim needs none); no template shows it.
    headless_tables: int = field(default=0, metadata={"templates": False})
