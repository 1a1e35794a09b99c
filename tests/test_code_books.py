"""End to end: books full of code built for real, their PDF, EPUB and screen pages read back.

The listings fixture (tests/fixtures/code) has long lines in several languages, listings
in lists and quotations and HTML comments holding `--`; the long technical book is
generated here (40 listings, many lines longer than the page). Every code line must be
in the PDF's text whole and inside the text block, in the book's own monospace face.
"""
from __future__ import annotations

import random
import re
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest
from pypdf import PdfReader

from press.check.validators import run_epubcheck
from press.enrich.listings import MARK
from press.pipeline import build_once as build

TESTS = Path(__file__).resolve().parent
CODE_BOOK = TESTS / "fixtures" / "code"
FENCE = re.compile(r"^( *(?:> )?)(`{3,})[^\n]*\n(.*?)^\1\2 *$", re.M | re.S)
pytestmark = pytest.mark.e2e


def code_lines(manuscript: Path) -> list[str]:
    """Every non-blank line of every fenced listing in the manuscript's chapters."""
    lines = []
    for md in sorted((manuscript / "chapters").glob("*.md")):
        for indent, _, body in FENCE.findall(md.read_text(encoding="utf-8")):
            lines += [line[len(indent):] for line in body.split("\n") if line.strip()]
    return lines


def squeezed(text: str) -> str:
    return re.sub(r"\s+", "", text.replace(MARK.strip(), ""))


def built(manuscript: Path, out: Path) -> tuple[Path, Path, list[str]]:
    said: list[str] = []
    pdf, epub, _ = build(manuscript, out, ("pdf", "epub", "html"), log=said.append)
    warnings = [line for line in said if line.startswith("warning")]
    assert not warnings, warnings  # any WeasyPrint warning fails the test
    return pdf, epub, said


def words_outside_text_block(pdf: Path) -> list[str]:
    """Words whose box leaves the page's text block (pdftotext -bbox), with their page."""
    out = subprocess.run(["pdftotext", "-bbox", str(pdf), "-"], capture_output=True,
                         text=True, check=True).stdout
    bad, page, width = [], 0, 0.0
    inner = 0.625 * 72 - 1  # the narrower margin, less a point of tolerance
    for line in out.split("\n"):
        if line.lstrip().startswith("<page "):
            page += 1
            width = float(re.search(r'width="([\d.]+)"', line).group(1))
        found = re.search(r'<word xMin="([\d.]+)" yMin="[\d.]+" xMax="([\d.]+)"[^>]*>(.*)</word>',
                          line)
        if found and (float(found.group(1)) < inner or float(found.group(2)) > width - inner):
            bad.append(f"page {page}: {found.group(3)}")
    return bad


def body_text(page: str) -> str:
    """A page's text without its running head and folio (a source line broken over two
    pages is then whole again): lines of capitals only, or a bare page number."""
    return "\n".join(line for line in page.split("\n")
                     if not re.fullmatch(r"[A-Z :,'’-]+|[0-9ivxlc]+", line.strip()))


def check_pdf(pdf: Path, manuscript: Path) -> None:
    text = squeezed("".join(body_text(page.extract_text()) for page in PdfReader(pdf).pages))
    lost = [line for line in code_lines(manuscript) if squeezed(line) not in text]
    assert not lost, f"{len(lost)} code lines not whole in the PDF: {lost[:3]}"
    assert words_outside_text_block(pdf) == []
    fonts = subprocess.run(["pdffonts", str(pdf)], capture_output=True, text=True,
                           check=True).stdout
    assert "DejaVu" not in fonts
    for face in ("IBM-Plex-Mono", "IBM-Plex-Mono-Semi-Bold", "IBM-Plex-Mono-Italic"):
        assert re.search(rf"\+{face}\s", fonts), f"{face} not embedded: {fonts}"


def check_epub(epub: Path, out: Path) -> None:
    report = run_epubcheck(epub, out / ".cache" / f"{epub.stem}.sources.json")
    assert not report.errors and not report.warnings, report.errors + report.warnings
    with zipfile.ZipFile(epub) as archive:
        names = archive.namelist()
        assert any(re.fullmatch(r"EPUB/fonts/IBMPlexMono-Regular\.ttf", n) for n in names)
        chapters = "".join(archive.read(n).decode() for n in names
                           if n.endswith(".xhtml") and "nav" not in n)
        assert "<!--" not in chapters
        assert re.search(r'<span class="kw">', chapters)
        assert 'class="highlight-colour"' in chapters
        assert "highlight-colour .kw" in archive.read("EPUB/css/highlight.css").decode()
        dark = archive.read("EPUB/css/highlight-dark.css").decode()
        assert "prefers-color-scheme: dark" in dark and "highlight-colour .kw" in dark
        assert 'href="css/highlight-dark.css"' in chapters
        assert "wrap-mark" not in chapters  # the EPUB reflows: no print breaks in it


def check_screen(out: Path) -> None:
    pages = "".join(p.read_text(encoding="utf-8") for p in (out / "html").glob("*.html"))
    assert '<span class="kw">' in pages and "<!--" not in pages
    assert (out / "html" / "css" / "highlight.css").is_file()
    assert "prefers-color-scheme: dark" in (out / "html" / "css" / "highlight-dark.css").read_text()
    assert 'href="css/highlight-dark.css"' in pages


def test_the_listings_fixture_builds_whole_in_every_edition(tmp_path):
    out = tmp_path / "out"
    pdf, epub, _ = built(CODE_BOOK, out)
    check_pdf(pdf, CODE_BOOK)
    check_epub(epub, out)
    check_screen(out)
    with zipfile.ZipFile(epub) as archive:
        assert b"Reviewers' note" not in b"".join(archive.read(n) for n in archive.namelist())


def test_greyscale_theme_reaches_every_edition(tmp_path):
    book = tmp_path / "manuscript"
    shutil.copytree(CODE_BOOK, book)
    config = book / "book.yaml"
    config.write_text(config.read_text().replace("theme: colour", "theme: greyscale"))
    build(book, tmp_path / "out", ("epub", "html"), log=lambda *_: None)
    with zipfile.ZipFile(tmp_path / "out" / "listings-fixture.epub") as archive:
        assert b'class="highlight-greyscale"' in archive.read("EPUB/languages.xhtml")
    assert 'class="highlight-greyscale"' in (tmp_path / "out" / "html" / "index.html").read_text()


LANGUAGES = {
    "python": ["def {name}({args}):", "    return {call}({args})  # {words}",
               "    {name}_result = [{call}(item) for item in {args} if item is not None]"],
    "c": ["static int {name}(const char *{args}) {{", "    return {call}({args}); /* {words} */",
          "}}"],
    "javascript": ["const {name} = ({args}) => {call}({args}); // {words}",
                   "export default {{ {name}, {call} }};"],
    "sh": ["{name} --option={words} {args} | {call} --long-flag-{name}"],
    "yaml": ["{name}: {{ {args}: \"{words}\" }}"],
}
WORDS = ("alpha beta gamma delta epsilon zeta theta kappa lambda sigma omega route "
         "ledger parcel harbour signal archive").split()


def long_technical_book(root: Path, chapters: int = 10, listings: int = 4) -> Path:
    """A technical book of our own making: prose, sections, tables and 40 listings, many
    with lines far longer than a printed page holds."""
    rng = random.Random(13)

    def ident() -> str:
        return "_".join(rng.sample(WORDS, rng.randint(1, 4)))

    (root / "chapters").mkdir(parents=True)
    listed = []
    for n in range(1, chapters + 1):
        parts = [f"---\ntitle: Chapter on {ident().replace('_', ' ').title()}\n---\n",
                 f"<!-- draft {n} -- revise later -->\n"]
        for k in range(listings):
            lang = rng.choice(sorted(LANGUAGES))
            lines = []
            for _ in range(rng.randint(4, 12)):
                args = ", ".join(ident() for _ in range(rng.randint(1, 7)))
                lines.append(rng.choice(LANGUAGES[lang]).format(
                    name=ident(), call=ident(), args=args,
                    words=" ".join(rng.choices(WORDS, k=rng.randint(2, 14)))))
            prose = " ".join(rng.choices(WORDS, k=120)).capitalize() + "."
            parts.append(f"## Section {k + 1}\n\n{prose} See `{ident()}()`.\n\n"
                         f"```{lang}\n" + "\n".join(lines) + "\n```\n")
        parts.append("| name | value |\n|---|---|\n| " + ident() + " | 1 |\n")
        name = f"chapters/{n:02d}-{WORDS[n]}.md"
        (root / name).write_text("\n".join(parts), encoding="utf-8")
        listed.append(name)
    (root / "book.yaml").write_text(
        "title: A Long Technical Book\nslug: long-technical\ncreator: Fixture Press\n"
        "language: en\nidentifier: urn:uuid:7d1e2f3a-4b5c-4d6e-8f70-8192a3b4c513\n"
        "date: 2026-01-01\nrights: \"© 2026 Fixture Press.\"\nback: []\nchapters:\n" +
        "".join(f"  - {name}\n" for name in listed), encoding="utf-8")
    return root


def test_a_long_technical_book_keeps_every_code_line(tmp_path):
    book = long_technical_book(tmp_path / "manuscript")
    lines = code_lines(book)
    assert len(re.findall(r"^```\w", "".join(
        p.read_text() for p in (book / "chapters").glob("*.md")), re.M)) == 40
    assert sum(len(line) > 70 for line in lines) > 100  # many lines longer than the page
    out = tmp_path / "out"
    pdf, epub, _ = built(book, out)
    check_pdf(pdf, book)
    check_epub(epub, out)


CONSTRUCTS = TESTS / "fixtures" / "constructs"


def test_the_constructs_fixture_builds_clean_with_every_script_in_the_pdf(tmp_path):
    out = tmp_path / "out"
    pdf, epub, _ = built(CONSTRUCTS, out)
    check_epub_clean = run_epubcheck(epub, out / ".cache" / f"{epub.stem}.sources.json")
    assert not check_epub_clean.errors and not check_epub_clean.warnings
    text = "".join(page.extract_text() for page in PdfReader(pdf).pages).replace("-\n", "")
    for shown in ("λόγος", "слово", "Łódź", "A figure written in raw HTML.", "Ctrl",
                  "and a numbered one", "makes the PDF and the EPUB", "\\int_0^1 x^2"):
        assert shown in text, shown
    assert "check the figure numbers" not in text  # the comment with -- is gone
    fonts = subprocess.run(["pdffonts", str(pdf)], capture_output=True, text=True,
                           check=True).stdout
    assert "DejaVu" not in fonts and "Amiri" in fonts
    assert words_outside_text_block(pdf) == []
    assert "A tall box" in text  # an image alone in its paragraph is a captioned figure
    with zipfile.ZipFile(epub) as archive:
        blocks = next(archive.read(n).decode() for n in archive.namelist()
                      if n.endswith("blocks.xhtml"))
    assert re.search(r"<figure[^>]*>\s*<img[^>]*tall\.png[^>]*/>\s*<figcaption[^>]*>A tall box"
                     r"</figcaption>", blocks), blocks
    assert not re.search(r"<figure[^>]*>\s*<img[^>]*tiny\.png", blocks)  # inline stays inline
