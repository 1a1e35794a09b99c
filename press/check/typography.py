"""Stage 6, check: the typographic preflight, read from the real PDF as a proofreader would.

Every line of running text is read back with its position (PDFium): the body's measure is
the width most full lines share, and from there the preflight finds what a proofreader
marks: a word stranded on a short line in mid-paragraph (T001), three or more hyphenated
lines in a row (T002), a paragraph ending on the fragment of a hyphenated word (T003), a
word hyphenated across a page turn from a recto (T004), facing pages whose text ends at different
depths (T005), a heading at the foot of a page (T006), a note not on its call's page
(T007), a fallback font (T008). Each finding names the page's folio and, when the words can be found in
the manuscript, the Markdown file and line.
"""
from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from press.problems import Problem, severity

SHORT = 0.6  # a line ending mid-paragraph shorter than this share of the measure
SLACK = 1.5  # points: how far from the measure's edges a line may fall and still touch them
HYPHENS = ("-", "\u2010", "\u00ad")


@dataclass(frozen=True)
class Line:
    text: str
    x0: float
    x1: float
    y: float  # the baseline, from the page's foot
    size: float


@dataclass
class Page:
    index: int
    label: str
    lines: list[Line]
    body: list[Line]  # the lines of running text, top to bottom
    narrow: bool = False  # its text is all indented (the glossary's definitions)


def read_lines(textpage) -> list[Line]:
    """The page's lines. PDFium's own line ends are not enough: it joins a line that ends
    in a hyphen to the next (and reports that hyphen as U+0002), so a line also ends
    where the baseline moves by more than a note call's rise."""
    import pypdfium2.raw as raw

    lines, chars = [], []
    for i in range(textpage.count_chars()):
        code = raw.FPDFText_GetUnicode(textpage, i)
        box = textpage.get_charbox(i)
        if code in (10, 13):
            continue
        rise = abs(origin(textpage, i) - chars[-1][3]) if chars else 0
        if chars and (rise > 5 or box[0] < chars[-1][1][2] - 1 and rise > 3):
            lines.append(_line(chars))
            chars = []
        char = "-" if code == 2 else chr(code)
        chars.append((char, box, raw.FPDFText_GetFontSize(textpage, i), origin(textpage, i)))
    if chars:
        lines.append(_line(chars))
    return [line for line in lines if line.text.strip()]


def origin(textpage, index: int) -> float:
    """A character's baseline (its origin's height), which descenders do not move."""
    import ctypes

    import pypdfium2.raw as raw

    x, y = ctypes.c_double(), ctypes.c_double()
    raw.FPDFText_GetCharOrigin(textpage, index, ctypes.byref(x), ctypes.byref(y))
    return y.value


def _line(chars) -> Line:
    inked = [c for c in chars if not c[0].isspace()] or chars
    size = Counter(round(c[2], 1) for c in inked).most_common(1)[0][0]
    # The baseline most of the line's glyphs sit on (a note call sits higher).
    baseline = Counter(round(c[3], 1) for c in inked).most_common(1)[0][0]
    return Line("".join(c[0] for c in chars).strip(), inked[0][1][0], inked[-1][1][2],
                baseline, size)


def read_pages(path: Path) -> list[Page]:
    import pypdfium2 as pdfium

    document = pdfium.PdfDocument(str(path))
    try:
        labels = [document.get_page_label(n) or str(n + 1) for n in range(len(document))]
        pages = []
        for n in range(len(document)):
            page = document[n]
            lines = read_lines(page.get_textpage())
            pages.append(Page(n, labels[n], lines, []))
        return pages
    finally:
        document.close()


def measure(pages: list[Page]) -> tuple[float, float]:
    """The body text's size and the measure (points), the widths most lines share."""
    sizes = Counter(line.size for page in pages for line in page.lines)
    size = sizes.most_common(1)[0][0] if sizes else 0
    widths = [line.x1 - line.x0 for page in pages for line in page.lines if line.size == size]
    # Justified lines fill the measure: the widest width many lines share (narrower
    # ones are indented blocks: the glossary's definitions, quotations).
    bins = Counter(round(w / 2) * 2 for w in widths)
    if not bins:
        return size, 0
    top = bins.most_common(1)[0][1]
    width = max(w for w, count in bins.items() if count >= 0.2 * top)
    return size, max(w for w in widths if abs(w - width) <= 1.5)


def body_lines(page: Page, size: float, width: float) -> list[Line]:  # noqa: C901
    """The page's running text: lines of the body size between the edges of the page's
    full lines (so list items, quotations, notes, heads and folios are left out). A page
    whose text is all indented (the glossary's definitions) has its own, narrower measure."""
    sized = [line for line in page.lines if line.size == size and ". . ." not in line.text]
    bins = Counter(round((line.x1 - line.x0) / 2) * 2 for line in sized)
    shared = [w for w, count in bins.items() if count >= 3 and w <= width + 2 * SLACK]
    if shared and max(shared) < width - 2 * SLACK:
        width = max(shared)
        page.narrow = True
    full = [line for line in sized if abs((line.x1 - line.x0) - width) <= 2 * SLACK]
    if not full:
        return []
    left = Counter(round(line.x0) for line in full).most_common(1)[0][0]
    body = [line for line in sized if line.x0 >= left - SLACK
            and line.x1 <= left + width + 2 * SLACK and line.x0 <= left + 2 * size]
    return sorted(body, key=lambda line: -line.y)


def hyphenated(line: Line) -> bool:
    return line.text.endswith(HYPHENS) and len(line.text) > 1 and line.text[-2].isalpha()


@dataclass(frozen=True)
class Finding:
    code: str
    page: Page
    line: Line
    message: str
    context: str  # words around the line, to find it in the manuscript


def continues(line: Line, after: Line, left: float, leading: float) -> bool:
    """`after` is the next line of the same paragraph: one line lower, not indented."""
    return abs((line.y - after.y) - leading) <= 1 and abs(after.x0 - left) <= SLACK


def inspect(pages: list[Page]) -> tuple[list[Finding], dict]:
    """Every finding, and the figures (lines, hyphenated lines, spreads) they come from."""
    size, width = measure(pages)
    leading = _leading(pages, size, width)
    findings: list[Finding] = []
    figures = Counter()
    for page in pages:
        page.body = body_lines(page, size, width)
    for n, page in enumerate(pages):
        _page_findings(page, pages[n + 1] if n + 1 < len(pages) else None, width, leading,
                       findings, figures)
    _spreads(pages, size, findings, figures)
    for page in pages:
        _foot(page, size, findings, figures)
        _notes(page, size, findings, figures)
    return findings, dict(figures)


def _foot(page: Page, size: float, findings, figures) -> None:
    """A heading as the last line of a page, above its folio (T006)."""
    text = [line for line in page.lines if line.text != page.label]
    if len(text) < 2:
        return
    last = min(text, key=lambda line: line.y)
    if last.size >= 1.05 * size and re.search(r"[^\W\d_]", last.text) \
            and last.y < max(line.y for line in text):
        findings.append(Finding("T006", page, last, f"a heading at the foot of the page: "
                                f"'{last.text}'", last.text))
        figures["heads at foot"] += 1


def _notes(page: Page, size: float, findings, figures) -> None:
    """Each note call's note on the call's page (T007)."""
    notes = {m.group(1) for line in page.lines if line.size < 0.9 * size
             for m in [re.match(r"(\d+)\.\s", line.text)] if m}
    # WeasyPrint draws the calls after the text, so each reads as a line of its own: a
    # number in a size well under the text's.
    calls = [line for line in page.lines if re.fullmatch(r"\d+", line.text)
             and line.size < 0.7 * size]
    for line in calls:
        call = line.text
        figures["note calls"] += 1
        if call not in notes:
            findings.append(Finding("T007", page, line, f"note {call} is not on the page "
                                    f"of its call", ""))


def fallback_fonts(path: Path, families) -> list[str]:
    """Fonts in the PDF that are none of the book's families (T008): a glyph the book's
    faces lack, drawn from a system font."""
    from pypdf import PdfReader

    wanted = {re.sub(r"[\s-]", "", family).lower() for family in families}
    found = set()
    for page in PdfReader(path).pages:
        for ref in ((page.get("/Resources") or {}).get("/Font") or {}).values():
            name = str(ref.get_object().get("/BaseFont", "")).lstrip("/").split("+")[-1]
            if not any(re.sub(r"[\s-]", "", name).lower().startswith(f) for f in wanted):
                found.add(name)
    return sorted(found)


def _leading(pages, size, width) -> float:
    steps = Counter()
    for page in pages:
        body = body_lines(page, size, width)
        steps.update(round(a.y - b.y, 1) for a, b in zip(body, body[1:]))
    return steps.most_common(1)[0][0] if steps else 0


def _page_findings(page: Page, following: Page | None, width, leading, findings, figures):
    body = page.body
    if not body:
        return
    left = min(line.x0 for line in body)
    run = 0
    for i, line in enumerate(body):
        after = body[i + 1] if i + 1 < len(body) else None
        before = body[i - 1] if i else None
        figures["lines"] += 1
        near = " ".join(x.text for x in (before, line, after) if x)
        if hyphenated(line):
            figures["hyphenated"] += 1
            run += 1
            if run == 3:
                findings.append(Finding("T002", page, line, "three hyphenated lines in a row",
                                        near))
                figures["runs"] += 1
        else:
            run = 0
        mid = after is not None and continues(line, after, left, leading)
        if mid and line.x1 - line.x0 < SHORT * width and line.x0 <= left + SLACK \
                and re.search(r"[^\W\d_]", line.text):
            findings.append(Finding("T001", page, line, f"a word stranded on a short line: "
                                    f"'{line.text}'", near))
            figures["stranded"] += 1
        if before is not None and hyphenated(before) and not mid \
                and re.fullmatch(r"[^\W\d_]+\W*\d*", line.text) and line.text[0].islower() \
                and (after is None or not continues(line, after, left, leading)) \
                and line is not body[-1]:
            findings.append(Finding("T003", page, line, f"a paragraph ends on a word fragment:"
                                    f" '{before.text.split()[-1]}{line.text}'", near))
            figures["fragments"] += 1
    last = body[-1]
    # Only a recto's turn hides the word's end from the reader (page 1 is a recto).
    if hyphenated(last) and page.index % 2 == 0 and following is not None and following.body:
        findings.append(Finding("T004", page, last, "a word hyphenated across a page turn: "
                                f"'{last.text.split()[-1]}{following.body[0].text.split()[0]}'",
                                f"{last.text} {following.body[0].text}"))
        figures["turns"] += 1


def depth(page: Page, size: float) -> float | None:
    """Where a page's text ends, notes included, above its folio (from the page's foot)."""
    text = [line for line in page.lines if line.text != page.label and line.size >= 0.6 * size]
    return min((line.y for line in text), default=None)


def ends_part(page: Page, following: Page | None, size: float) -> bool:
    """The page ends a chapter or part: the next page is blank or opens a chapter."""
    return following is None or not following.body or any(
        line.size >= 1.6 * size for line in following.lines)


def _spreads(pages: list[Page], size, findings, figures) -> None:
    """Facing pages of running text (neither ending a chapter) end at the same depth."""
    for n in range(1, len(pages) - 1, 2):  # page 1 of the file is a recto: n is a verso
        verso, recto = pages[n], pages[n + 1]
        after = pages[n + 2] if n + 2 < len(pages) else None
        if not verso.body or not recto.body or verso.narrow or recto.narrow \
                or ends_part(recto, after, size) or ends_part(verso, recto, size):
            continue
        low = depth(verso, size), depth(recto, size)
        figures["spreads"] += 1
        if abs(low[0] - low[1]) > 1:
            figures["uneven spreads"] += 1
            findings.append(Finding("T005", verso, verso.body[-1], f"pages {verso.label} and "
                                    f"{recto.label} end at different depths "
                                    f"({abs(low[0] - low[1]):.1f} pt)", ""))


# --- back to the manuscript ---------------------------------------------------------------

def words(text: str) -> list[str]:
    return re.findall(r"[^\W\d_]+", text.lower())


def locate(context: str, sources: list[tuple[Path, list[str]]]):
    """The Markdown file and line that hold the words around a line, if one does: the
    first run of six (or four) of its words found on one line of the manuscript."""
    found = words(re.sub(r"(\w)[-\u2010\u00ad] (\w)", r"\1\2", context))
    for size in (6, 4):  # the longer run first: prose repeats its phrases
        for start in range(max(1, len(found) - size + 1)):
            probe = " ".join(found[start:start + size])
            if len(probe.split()) < 3:
                break
            for path, lines in sources:
                for number, text in enumerate(lines, 1):
                    if f" {probe} " in f" {text} ":
                        return path, number
    return None, None


def manuscript_lines(manuscript: Path | None) -> list[tuple[Path, list[str]]]:
    """Each Markdown file of the manuscript, its lines reduced to their words."""
    if manuscript is None:
        return []
    return [(path, [" ".join(words(line)) for line in
                    path.read_text(encoding="utf-8").splitlines()])
            for path in sorted(manuscript.rglob("*.md"))]


def typography(path: Path, manuscript: Path | None = None,
               families=()) -> tuple[list[Problem], dict]:
    """The typographic preflight of a print PDF: problems at their folio and Markdown line,
    and the figures (lines, hyphenated, runs, stranded, fragments, turns, spreads).
    families: the book's font families (styles/fonts.yaml); any other font is a fallback."""
    findings, figures = inspect(read_pages(path))
    sources = manuscript_lines(manuscript)
    problems = [Problem(str(path), None, "T008", f"a fallback font is embedded: {name}",
                        HINTS["T008"], severity("T008"))
                for name in (fallback_fonts(path, families) if families else [])]
    for f in findings:
        where, line = locate(f.context, sources) if f.context else (None, None)
        problems.append(Problem(str(where or path), line, f.code,
                                f"page {f.page.label}: {f.message}", HINTS[f.code],
                                severity(f.code)))
    return problems, figures


HINTS = {
    "T001": "a layout fault the build should have mended: report it with the page",
    "T002": "reword a line, or add a soft hyphen (&shy;) or a no-break space nearby",
    "T003": "reword the paragraph's last line, or keep the word whole with a no-break span",
    "T004": "reword a line on the page, so the word falls whole on one side of the turn",
    "T005": "usually a heading, list or quotation off the line grid; shorten or lengthen "
            "the text on one page",
    "T006": "a layout fault (headings keep with their text): report it with the page",
    "T007": "a layout fault (notes stay with their call's line): report it with the page",
    "T008": "a character the book's faces lack: add a face that has it to styles/fonts.yaml, "
            "or write the character another way",
}


def summary(problems: list[Problem], figures: dict) -> str:
    """One line of figures for `invoke check`."""
    errors = sum(problem.severity == "error" for problem in problems)
    lines = figures.get("lines", 0)
    share = 100 * figures.get("hyphenated", 0) / lines if lines else 0
    return (f"{errors} errors, {len(problems) - errors} warnings; {lines} lines, "
            f"{share:.1f}% hyphenated, {figures.get('runs', 0)} runs of 3, "
            f"{figures.get('stranded', 0)} stranded, {figures.get('fragments', 0)} fragments, "
            f"{figures.get('turns', 0)} turns, {figures.get('uneven spreads', 0)} of "
            f"{figures.get('spreads', 0)} spreads uneven")
