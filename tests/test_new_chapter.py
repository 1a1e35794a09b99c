"""Writing tools, new chapter: the file, its place in book.yaml, every other byte kept."""
from __future__ import annotations

import subprocess
import sys
import zipfile

import pytest
from pypdf import PdfReader

from conftest import PROJECT, STYLES, codes, problems_of, quiet
from press.lint.run import lint_manuscript
from press.source.load import load_book
from press.pipeline import build_once
from press.tools.new_chapter import new_chapter

# A book.yaml laid out the way people write them: comments everywhere, a trailing
# comment on an item, a quoted item, four-space indentation, blank lines.
COMMENTED = """\
# The tiny book, with a chapters list full of comments.
title: Tiny Book   # the title
slug: tiny-book
creator: Fixture Press
language: en
identifier: urn:uuid:0f1e2d3c-4b5a-4978-8a6b-5c4d3e2f1a00
date: 2026-01-01
rights: "© 2026 Fixture Press. All rights reserved."
front:
    - front/preface.md

chapters:
    # Part one
    - chapters/01-alpha.md      # the opening
    # Part two
    - "chapters/02-beta.md"

back:   [glossary]
# end of file
"""


def inserted(before: str, after: str) -> tuple[int, str]:
    """The one line that after has and before lacks: (index, text); fails on any other change."""
    old, new = before.splitlines(keepends=True), after.splitlines(keepends=True)
    assert len(new) == len(old) + 1
    index = next((i for i, (a, b) in enumerate(zip(old, new)) if a != b), len(old))
    assert new[:index] + new[index + 1:] == old, "every other line must stay byte for byte"
    return index, new[index]


def test_default_position_is_after_the_last_chapter(make_book):
    book = make_book({"book.yaml": COMMENTED})
    made = new_chapter(book.root, "Gamma: It's the Third")
    assert (made.entry, made.position, made.count) == ("chapters/03-gamma-its-the-third.md", 3, 3)
    assert inserted(COMMENTED, book.read("book.yaml")) == (
        16, "    - chapters/03-gamma-its-the-third.md\n")
    assert book.read(made.entry).startswith('---\ntitle: "Gamma: It\'s the Third"\n---\n\n')
    loaded = load_book(book.root)
    assert [p.title for p in loaded.chapters][-1] == "Gamma: It’s the Third"
    assert [p.number for p in loaded.chapters] == [1, 2, 3]


@pytest.mark.parametrize("position, line", [(1, 13), (2, 15)])
def test_a_given_position_goes_before_that_chapter_and_its_comment_stays(make_book,
                                                                         position, line):
    book = make_book({"book.yaml": COMMENTED})
    made = new_chapter(book.root, "Inserted", position=position)
    assert made.entry == f"chapters/0{position}-inserted.md"
    assert inserted(COMMENTED, book.read("book.yaml")) == (line, f"    - {made.entry}\n")
    titles = [p.title for p in load_book(book.root).chapters]
    assert titles.index("Inserted") == position - 1
    # Other chapters keep their names, so links to them stay valid: NN is the new
    # chapter's position when it was made.
    assert (book.root / "chapters/01-alpha.md").is_file()
    assert (book.root / "chapters/02-beta.md").is_file()


def test_flow_style_list_and_crlf_line_ends(make_book):
    text = COMMENTED.replace(
        "chapters:\n    # Part one\n    - chapters/01-alpha.md      # the opening\n"
        "    # Part two\n    - \"chapters/02-beta.md\"\n",
        "chapters: [chapters/01-alpha.md, chapters/02-beta.md]  # in order\n")
    book = make_book({"book.yaml": text})
    new_chapter(book.root, "Middle", position=2)
    assert book.read("book.yaml") == text.replace(
        "01-alpha.md, chapters/02", "01-alpha.md, chapters/02-middle.md, chapters/02")
    crlf = COMMENTED.replace("\n", "\r\n").encode()
    book = make_book({"book.yaml": crlf})
    new_chapter(book.root, "Last")
    assert book.path("book.yaml").read_bytes() == crlf.replace(
        b'02-beta.md"\r\n', b'02-beta.md"\r\n    - chapters/03-last.md\r\n')


def test_refusals_change_nothing(make_book):
    book = make_book({"book.yaml": COMMENTED})
    new_chapter(book.root, "Gamma")
    before = {p: p.read_bytes() for p in book.root.rglob("*") if p.is_file()}
    cases = {("Gamma", 3): "N001", ("Gamma", None): "N002", ("ALPHA", None): "N002", ("Other", 0): "N003",
             ("Other", 5): "N003", ("Other", "two"): "N003", ("?!", None): "N005"}
    for (title, position), code in cases.items():
        problems = problems_of(lambda: new_chapter(book.root, title, position))
        assert codes(problems) == {code}, (title, position, problems)
        assert problems[0].hint
    assert {p: p.read_bytes() for p in book.root.rglob("*") if p.is_file()} == before


def test_a_broken_book_is_not_edited(make_book):
    book = make_book()
    book.write("chapters/09-stray.md", "---\ntitle: Stray\n---\n\nText.\n")
    before = book.read("book.yaml")
    assert "M012" in codes(problems_of(lambda: new_chapter(book.root, "New")))
    assert book.read("book.yaml") == before and not book.path("chapters/03-new.md").exists()


def run_task(*args) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "invoke", "new-chapter", *args],
                          cwd=PROJECT, capture_output=True, text=True)


def test_invoke_new_chapter_then_the_book_builds(make_book, tmp_path):
    book = make_book()
    first = run_task("Gamma Rays", "--manuscript", str(book.root))
    assert first.returncode == 0, first.stderr
    assert "chapters/03-gamma-rays.md: chapter 3 of 3" in first.stdout
    assert run_task("An Opening", "--position", "1", "--manuscript", str(book.root)).returncode == 0
    again = run_task("Gamma Rays", "--manuscript", str(book.root))
    assert again.returncode == 1
    assert "N002 a part of the book is already named 'gamma-rays' (03-gamma-rays.md)" \
        in again.stderr
    assert "nothing was changed" in again.stderr
    # Only the scaffold's own sentences, each a warning to replace it, and nothing else.
    found = lint_manuscript(book.root, STYLES).problems
    assert {(str(p.path).rsplit("/", 1)[-1], p.line, p.code, p.severity) for p in found} == {
        (name, line, "P008", "warning") for name in ("01-an-opening.md", "03-gamma-rays.md")
        for line in (5, 10)}
    pdf, epub = build_once(book.root, tmp_path, log=quiet)
    text = "".join(page.extract_text() for page in PdfReader(pdf).pages)
    assert text.index("An Opening") < text.index("Alpha") < text.index("Gamma Rays")
    assert "CHAPTER 4\nGamma Rays" in text  # small caps: the text layer is upper case
    with zipfile.ZipFile(epub) as archive:
        assert {"EPUB/an-opening.xhtml", "EPUB/gamma-rays.xhtml"} <= set(archive.namelist())
