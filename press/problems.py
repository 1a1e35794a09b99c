"""Problems found in a manuscript, each with a place, a stable code and a hint."""
from __future__ import annotations

import errno
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType

# Every code a build, lint or check can report: its severity and what it means. The
# README's tables list the same codes (a test holds them together), and a Problem with a
# code that is not here cannot be made.
CODES = MappingProxyType({
    # manuscript (load, convert, enrich)
    "M001": ("error", "a file cannot be read"),
    "M002": ("error", "a file is not UTF-8"),
    "M003": ("error", "invalid YAML"),
    "M004": ("error", "an unknown key"),
    "M005": ("error", "a value of the wrong type"),
    "M006": ("error", "a required key is missing"),
    "M007": ("error", "an invalid language tag"),
    "M008": ("error", "a bad trim length"),
    "M009": ("error", "a listed file is missing"),
    "M010": ("error", "a Markdown file has no title (no front matter title: and no leading # Title)"),
    "M011": ("error", "an empty file, or one with only markup or comments"),
    "M012": ("error", "a Markdown file in front/, chapters/ or back/ is not listed"),
    "M013": ("error", "a second title in a chapter"),
    "M014": ("error", "a skipped heading level"),
    "M015": ("error", "a link scheme that is not allowed"),
    "M016": ("error", "a broken cross-reference"),
    "M017": ("error", "an image without alt text"),
    "M018": ("error", "an image outside the manuscript"),
    "M019": ("error", "an image not found"),
    "M020": ("error", "an invalid date"),
    "M021": ("error", "a file listed twice, or two parts with the same name"),
    "M022": ("error", "a raw HTML tag or comment not closed"),
    "M023": ("error", "a closing tag with no opening tag"),
    "M024": ("error", "a YAML key given twice"),
    "M025": ("error", "a slug that cannot be a file name"),
    "M026": ("error", "an image file of an unsupported type, or not holding its type"),
    "M027": ("error", "Pandoc failed to read a file"),
    "M028": ("error", "an isbn that is not an ISBN-13, or whose check digit is wrong"),
    "M029": ("error", "a toc-depth that is not 1 to 4"),
    "M030": ("error", "raw HTML that cannot be written as XHTML"),
    "M031": ("error", "a grid, simple or multiline table (only pipe tables are read)"),
    "M032": ("error", "raw TeX, or a raw block or span for a format other than HTML"),
    "M033": ("error", "a list item in book.yaml indented under the item above it"),
    "M034": ("error", "new-book: the folder for the new book already holds files"),
    "M045": ("error", "block quotes or lists nested too deep"),
    "M046": ("error", "a control character or noncharacter in the text"),
    "M047": ("error", "a glossary term that is empty, or two terms that make the same id"),
    "M048": ("error", "a file too large to typeset"),
    "M049": ("error", "YAML whose aliases expand too far, or that nests too deep"),
    # glossary
    "G001": ("error", "an entry is never used in the chapters"),
    "G002": ("error", "key= names no entry"),
    "G003": ("error", "a term or variant appears in two entries"),
    "G004": ("error", "'see also' names a missing entry"),
    "G005": ("error", "an empty definition"),
    # index (press.enrich.index, index.yaml)
    "I001": ("warning", "an index heading marked only once (often a typo)"),
    "I002": ("error", "'see' or 'see also' names no index entry"),
    "I003": ("warning", "index headings that differ only in case"),
    "I004": ("warning", "an index mark inside a heading or a link"),
    "I005": ("error", "an index passage that starts and never ends, or ends unopened"),
    "I006": ("error", "an index key that is empty, has an empty level or more than two"),
    "I007": ("warning", "an index.yaml term never marked or found in the text"),
    "I008": ("error", "an index.yaml term declared twice"),
    # prose (lint); every P code but P007 can be silenced
    "P001": ("warning", "a straight quote in a manuscript typed with typographic quotes"),
    "P002": ("warning", "a straight double quote that smart quotes cannot pair"),
    "P003": ("warning", "two or more spaces, or a tab, between words"),
    "P004": ("warning", "the same word twice in a row"),
    "P005": ("error", "a word in neither the dictionary nor the word list"),
    "P006": ("warning", "a lint comment that silences nothing"),
    "P007": ("error", "a lint comment that cannot be read, or names no prose rule"),
    "P008": ("warning", "placeholder text that invoke new-chapter wrote, not yet replaced"),
    # safety (raw HTML and paths)
    "S001": ("error", "active or embedded content"),
    "S002": ("error", "an event-handler attribute"),
    "S003": ("error", "a javascript:, vbscript: or data: URL"),
    "S004": ("error", "something that would make the build fetch a file"),
    "S005": ("error", "an element that changes the whole document"),
    "S006": ("error", "a form or one of its controls"),
    "S007": ("error", "a path that leads outside the manuscript folder"),
    "S008": ("error", "an output folder inside the manuscript folder"),
    "S009": ("error", "an element not on the allow-list of raw HTML, SVG or MathML"),
    "S010": ("error", "an attribute not on the allow-list for its element"),
    "S011": ("error", "elements nested deeper than the limit (64)"),
    "S012": ("error", "an SVG animation (<animate>, <set> and the like)"),
    "S013": ("error", "a CSS property or function not allowed, or CSS that cannot be read"),
    "S014": ("error", "a processing instruction in an SVG image"),
    "S020": ("error", "an output folder that would put the manuscript or the system at risk"),
    "S021": ("error", "a listed name that cannot be a path (too long, or holds NUL)"),
    # fonts (styles/fonts.yaml)
    "F001": ("error", "a font package is not installed"),
    "F002": ("error", "a font file is missing"),
    "F003": ("error", "HarfBuzz could not subset a font for the EPUB"),
    "F004": ("error", "fonts.yaml does not describe families and faces as it should"),
    "F005": ("error", "the output folder is not a folder, or cannot be written"),
    "F006": ("error", "the disk is full: the outputs could not be written"),
    "F007": ("error", "a file-system error while writing the outputs"),
    # print (WeasyPrint)
    "W001": ("error", "the print document asked for a file outside the project"),
    "W002": ("error", "a typesetting worker stopped before it wrote its part"),
    "W003": ("error", "WeasyPrint cannot load Pango or another system library it needs"),
    # the print-ready edition, and its preflight
    "X001": ("error", "the CMYK output profile is missing"),
    "X002": ("error", "an unknown --standard or an odd --multiple"),
    "X010": ("error", "a page has no TrimBox"),
    "X011": ("error", "TrimBox not inside the BleedBox, or BleedBox not inside the MediaBox"),
    "X012": ("error", "bleed is not 0.125 in on the outer, top and bottom edges"),
    "X013": ("error", "no PDF/X output intent with an ICC profile"),
    "X014": ("error", "not declared PDF/X"),
    "X015": ("error", "RGB or Lab colour in a content stream"),
    "X016": ("error", "an RGB image"),
    "X017": ("error", "a font not embedded"),
    "X018": ("error", "a link annotation"),
    "X019": ("error", "the page count is not even, or not the multiple asked for"),
    "X020": ("error", "one subset tag names two different font programs"),
    "X021": ("error", "transparency in a PDF/X-1a file"),
    # faults of press itself
    # the typographic preflight (press/check/typography.py)
    "T001": ("error", "a word stranded on a short line in mid-paragraph"),
    "T002": ("error", "three or more hyphenated lines in a row"),
    "T003": ("warning", "a paragraph ends on the fragment of a hyphenated word"),
    "T004": ("warning", "a word hyphenated across a page turn (a recto's last line)"),
    "T005": ("warning", "facing pages of running text end at different depths"),
    "T006": ("error", "a heading at the foot of a page"),
    "T007": ("error", "a note not on the page of its call"),
    "T008": ("error", "a fallback font embedded (not one of styles/fonts.yaml)"),
    "E001": ("error", "an unexpected error: a fault in press, not in the manuscript"),
    # checks
    "C001": ("error", "Java was not found (EPUBCheck needs it)"),
    "C002": ("error", "EPUBCheck gave no report"),
    "C003": ("error", "DAISY Ace is not installed"),
    "C004": ("error", "Chromium was not found (Ace drives it)"),
    "C005": ("error", "Ace gave no report"),
    "A001": ("error", "an Ace accessibility violation"),
    # the editor's loop
    "L001": ("error", "a template does not render"),
    "L002": ("error", "an unexpected error during a rebuild"),
    "L003": ("error", "the preview port cannot be opened"),
    # new-chapter
    "N001": ("error", "the chapter file already exists"),
    "N002": ("error", "another part already has that name"),
    "N003": ("error", "the position is out of range"),
    "N004": ("error", "the chapters: list cannot be edited safely"),
    "N005": ("error", "the title has no letters or digits"),
    # import (invoke import): errors stop it; warnings are what needs the author's attention
    "R001": ("error", "the source cannot be read"),
    "R002": ("error", "the kind of the source cannot be told"),
    "R003": ("error", "the target folder holds something other than a press manuscript"),
    "R004": ("error", "the target folder and the source overlap"),
    "R005": ("error", "an include leads outside the source"),
    "R006": ("warning", "an include that cannot be resolved, left as written"),
    "R007": ("warning", "a link to a place that cannot be found, left as written"),
    "R008": ("warning", "an image that cannot be copied, left as written"),
    "R009": ("warning", "a construct the build refuses, left as written"),
    "R010": ("error", "the source's table of contents cannot be read or lists a missing file"),
    "R011": ("warning", "book metadata the source lacks: a stand-in was written"),
    "R012": ("warning", "a part title, kept as a comment in book.yaml"),
    "R013": ("warning", "a heading level skipped"),
    "R014": ("warning", "a heading reference that matches several headings"),
    "R015": ("error", "the source has no chapters"),
    "R016": ("warning", "a code chunk kept as a code block, not executed"),
    "R017": ("warning", "an image without alt text"),
    "R018": ("warning", "a construct press prints as written, or leaves out"),
})
# The prose rules a lint comment or lint.ignore in book.yaml may silence, and their severity.
PROSE_RULES = MappingProxyType({code: severity for code, (severity, _) in CODES.items()
                                if code.startswith("P") and code != "P007"})


def in_order(problems) -> list[Problem]:
    """Root causes first: book.yaml, then the other YAML files the rest depends on
    (glossary.yaml, fonts.yaml), then every file in path and line order. Findings on one
    line keep the order they were found in (left to right); repeats are dropped."""
    def rank(problem: Problem) -> int:
        name = str(problem.path).replace("\\", "/").rsplit("/", 1)[-1]
        return 0 if name == "book.yaml" else 1 if name.endswith(".yaml") else 2

    return sorted(dict.fromkeys(problems),
                  key=lambda p: (rank(p), str(p.path), p.line or 0, p.code))


def counted(number: int, word: str, plural: str = "") -> str:
    """'1 error', '2 errors', '3 parts': a count as a sentence says it."""
    return f"{number} {word if number == 1 else plural or word + 's'}"


def severity(code: str) -> str:
    """The registered severity of a code."""
    return CODES[code][0]


@dataclass(frozen=True)
class Problem:
    """One finding: where it is, its stable code, what is wrong and what to do."""

    path: Path | str
    line: int | None
    code: str
    message: str
    hint: str = ""
    severity: str = "error"

    def __post_init__(self):
        if self.code not in CODES:
            raise ValueError(f"problem code {self.code} is not in press.problems.CODES")

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line else f"{self.path}"
        text = printable(f"{where}: {self.code} {self.message}")
        return f"{text}\n    hint: {printable(self.hint)}" if self.hint else text


def printable(text: str) -> str:
    """Text as it may reach a terminal: control characters (an escape sequence, a line
    end in a file name) written out as \\x1b or \\n, so a message is one honest line."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


class BuildError(Exception):
    """Raised with every problem found at once; the CLI turns it into an exit code."""

    def __init__(self, problems: list[Problem], partial=None):
        self.problems = list(problems)
        # What was made despite the problems, when they leave it whole enough for the
        # later checks to run on (lint uses it; a build never does).
        self.partial = partial
        super().__init__("\n".join(str(p) for p in self.problems))


def raise_if_any(problems: list[Problem]) -> None:
    """Stop the build when any problem is an error; warnings alone pass."""
    if any(p.severity == "error" for p in problems):
        raise BuildError(problems)


def unexpected(error: BaseException, where: Path | str = "press") -> Problem:
    """An error nobody foresaw, as one short coded problem instead of a traceback.

    Only the first line of its message is kept (an error can hold a whole chapter), cut
    to a readable length; the traceback itself is shown only when asked for.
    """
    lines = str(error).strip().splitlines()
    first = lines[0] if lines else ""
    said = first if len(first) <= 160 else first[:157] + "..."
    return Problem(where, None, "E001",
                   f"unexpected error: {type(error).__name__}" + (f": {said}" if said else ""),
                   "this is a fault in press, not in the manuscript; report it with "
                   "the traceback, which PRESS_TRACEBACK=1 shows")


def writing_failed(error: OSError, where: Path) -> BuildError:
    """A file-system error while writing outputs, as a coded problem (F005-F007)."""
    name = Path(error.filename) if error.filename else where
    reason = error.strerror or str(error)
    if error.errno == errno.ENOSPC or error.errno == errno.EDQUOT:
        found = Problem(name, None, "F006", f"the disk is full: {reason}",
                        "free some space (or choose --out on another disk) and build again; "
                        "the previous outputs were kept")
    elif error.errno in (errno.EROFS, errno.EACCES, errno.EPERM, errno.ENOTDIR,
                         errno.EEXIST, errno.EISDIR):
        found = Problem(name, None, "F005", f"the output folder cannot be written: {reason}",
                        "choose an --out folder you may write in, not a file nor one under "
                        "a file")
    else:
        found = Problem(name, None, "F007", f"writing the outputs failed: {reason}",
                        "check the disk and the output folder, then build again")
    return BuildError([found])
