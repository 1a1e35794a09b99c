"""Stage 1, load, and what follows from it: the book.yaml keys of print-grade typography
(toc-depth, isbn, a language with its region), read, refused at their line, and carried
into the print HTML and the EPUB package."""
from __future__ import annotations

import re

import pytest

from conftest import load_problems, only, quiet
from press import pipeline
from press.source.load import load_book
from press.workspace import Workspace


def contents(copy, tmp_path) -> str:
    """The print edition's contents as HTML (no typesetting needed)."""
    with Workspace(tmp_path / "out") as ws:
        p = pipeline.prepare(ws, copy.root, pipeline.PROJECT / "styles", quiet)
        html = pipeline.print_html(p, p.glossary)
    return re.search(r'<nav class="toc".*?</nav>', html, re.S).group(0)


# --- toc-depth ----------------------------------------------------------------------------

def test_toc_depth_defaults_to_sections(make_book):
    copy = make_book()
    copy.replace("book.yaml", "toc-depth: 3  # the contents lists subsections too\n", "")
    assert load_book(copy.root).meta.toc_depth == 2


@pytest.mark.parametrize("depth, levels", [(1, set()), (2, {"2"}), (3, {"2", "3"})])
def test_toc_depth_decides_the_levels_the_contents_lists(make_book, tmp_path, depth, levels):
    copy = make_book()
    copy.replace("book.yaml", "toc-depth: 3  # the contents lists subsections too\n",
                 f"toc-depth: {depth}\n")
    toc = contents(copy, tmp_path)
    assert set(re.findall(r'class="toc-level-(\d)"', toc)) == levels
    assert ("Detail" in toc) == (depth >= 3)  # alpha's h3
    assert "Alpha: The First Chapter" in toc  # chapters at every depth


@pytest.mark.parametrize("value", ["0", "5"])
def test_toc_depth_out_of_range_is_refused_at_its_line(make_book, value):
    copy = make_book()
    copy.replace("book.yaml", "toc-depth: 3  # the contents lists subsections too\n",
                 f"toc-depth: {value}\n")
    problem = only(load_problems(copy.root), "M029")
    assert problem.line == copy.line_of("book.yaml", "toc-depth:")
    assert "1 (chapters only)" in problem.hint


def test_toc_depth_that_is_not_a_number_is_refused_at_its_line(make_book):
    copy = make_book()
    copy.replace("book.yaml", "toc-depth: 3  # the contents lists subsections too\n",
                 "toc-depth: two\n")
    problem = only(load_problems(copy.root), "M005")
    assert problem.line == copy.line_of("book.yaml", "toc-depth:")


# --- isbn -----------------------------------------------------------------------------------

def test_isbn_is_kept_as_written_and_gives_the_urn(make_book):
    copy = make_book()
    copy.append("book.yaml", "isbn: 978-0-306-40615-7\n")
    meta = load_book(copy.root).meta
    assert meta.isbn == "978-0-306-40615-7"
    assert meta.isbn_urn == "urn:isbn:9780306406157"


@pytest.mark.parametrize("value, said", [("978-0-306-40615-8", "check digit"),
                                         ("0-306-40615-2", "not an ISBN-13"),
                                         ("978-0-306", "not an ISBN-13")])
def test_bad_isbn_is_refused_at_its_line(make_book, value, said):
    copy = make_book()
    copy.append("book.yaml", f"isbn: {value}\n")
    problem = only(load_problems(copy.root), "M028")
    assert problem.line == copy.line_of("book.yaml", "isbn:")
    assert said in problem.message


def test_isbn_is_the_epub_identifier_and_on_the_copyright_page(make_book, tmp_path):
    import zipfile

    copy = make_book()
    copy.append("book.yaml", "isbn: 978-0-306-40615-7\n")
    out = tmp_path / "out"
    _, epub = pipeline.build_once(copy.root, out, ("pdf", "epub"), log=quiet)
    with zipfile.ZipFile(epub) as z:
        opf = z.read(next(n for n in z.namelist() if n.endswith(".opf"))).decode()
        text = " ".join(z.read(n).decode() for n in z.namelist() if n.endswith(".xhtml"))
    assert '<dc:identifier id="uid">urn:isbn:9780306406157</dc:identifier>' in opf
    assert re.search(r'property="pageBreakSource">urn:isbn:9780306406157<', opf)
    assert "ISBN 978-0-306-40615-7" in text


# --- language with region -------------------------------------------------------------------

@pytest.mark.parametrize("given, region", [("en", "en-US"), ("en-US", "en-US"),
                                           ("en-GB", "en-GB"), ("fr", "fr")])
def test_language_carries_its_region_into_print_and_epub(make_book, tmp_path, given, region):
    copy = make_book()
    copy.replace("book.yaml", "language: en\n", f"language: {given}\n")
    assert load_book(copy.root).meta.region_language == region
    with Workspace(tmp_path / "out") as ws:
        p = pipeline.prepare(ws, copy.root, pipeline.PROJECT / "styles", quiet)
        html = pipeline.print_html(p, p.glossary)
    # The print document's language picks WeasyPrint's hyphenation patterns.
    assert re.search(rf'<html lang="{region}"', html)
