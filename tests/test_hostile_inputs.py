"""Hostile manuscripts, end to end: text built to crash, hang or fool a build is refused
at its line with a code, through the real `invoke build`, with the previous outputs and
the manuscript left as they were (the harness of test_bad_input)."""
from __future__ import annotations

import os
import re
import zipfile
import shutil
import subprocess
import sys
import pytest

from conftest import PROJECT
from test_bad_input import good_outputs, run_build, tree  # noqa: F401 - a fixture

CASES = []


def hostile(code: str, file: str):
    """Register a function that plants something hostile in a copy of the book; it
    returns the line the refusal must name."""
    def register(fn):
        CASES.append(pytest.param(fn, code, file, id=fn.__name__))
        return fn
    return register


@pytest.mark.parametrize(("plant", "code", "file"), CASES)
def test_hostile_input_is_refused_at_its_line(plant, code, file, make_book, good_outputs,
                                              tmp_path):
    book = make_book()
    line = plant(book)
    out = tmp_path / "out"
    shutil.copytree(good_outputs, out)
    outputs, manuscript = tree(out), tree(book.root)

    result = run_build(book.root, out)

    said = result.stdout + result.stderr
    assert result.returncode == 1, said
    assert "Traceback" not in said and "E001" not in said, said
    where = f"manuscript/{file}:{line}: {code} "
    assert re.search(rf"^{re.escape(where)}.+\n    hint: \S", result.stderr, re.M), \
        f"expected '{where}...' with a hint, got:\n{result.stderr}"
    assert tree(out) == outputs
    assert tree(book.root) == manuscript


@hostile("M049", "book.yaml")
def yaml_alias_bomb(book):
    lines = ["x0: &x0 [lol]"] + [f"x{i}: &x{i} [{', '.join([f'*x{i - 1}'] * 9)}]"
                                 for i in range(1, 10)]
    book.replace("book.yaml", "creator: Fixture Press\n",
                 "creator: Fixture Press\n" + "\n".join(lines) + "\n")
    return 1


@hostile("M049", "chapters/02-beta.md")
def yaml_nested_hundreds_deep(book):
    book.replace("chapters/02-beta.md", "short-title: Beta\n",
                 "short-title: Beta\nx: " + "[" * 300 + "]" * 300 + "\n")
    return 2


@hostile("M046", "chapters/02-beta.md")
def nul_in_text(book):
    book.append("chapters/02-beta.md", "\nA NUL \x00 here.\n")
    return book.line_of("chapters/02-beta.md", "A NUL")


@hostile("M046", "chapters/02-beta.md")
def noncharacter_in_text(book):
    book.append("chapters/02-beta.md", "\nA non-character \uffff here.\n")
    return book.line_of("chapters/02-beta.md", "non-character")


@hostile("M046", "chapters/02-beta.md")
def surrogate_as_character_reference(book):
    book.append("chapters/02-beta.md", "\nA lone half &#xD800; here.\n")
    return book.line_of("chapters/02-beta.md", "lone half")


@hostile("M046", "book.yaml")
def control_character_in_a_title(book):
    book.replace("book.yaml", "title: Tiny Book\n", 'title: "Tiny\\x1b[2JBook"\n')
    return book.line_of("book.yaml", "title:")


@hostile("M045", "chapters/02-beta.md")
def block_quotes_nested_200_deep(book):
    book.append("chapters/02-beta.md", "\n" + "> " * 200 + "deep\n")
    return book.line_of("chapters/02-beta.md", "> > > >")


@hostile("M045", "chapters/02-beta.md")
def lists_nested_300_deep(book):
    book.append("chapters/02-beta.md", "\n" + "\n".join("  " * i + f"- level {i}"
                                                      for i in range(300)) + "\n")
    return book.line_of("chapters/02-beta.md", "- level 32")


@hostile("M048", "chapters/02-beta.md")
def chapter_of_two_megabytes(book):
    book.append("chapters/02-beta.md", "\n" + "A plain sentence of a few words.\n\n" * 60000)
    return 1


@hostile("M047", "glossary.yaml")
def empty_glossary_term(book):
    book.append("glossary.yaml", '- term: ""\n  definition: Nothing at all.\n')
    return book.line_of("glossary.yaml", 'term: ""')


@hostile("M047", "glossary.yaml")
def two_terms_with_one_id(book):
    book.append("glossary.yaml", "- term: Lantern!\n  definition: Another light.\n")
    return book.line_of("glossary.yaml", "Lantern!")


@hostile("M005", "glossary.yaml")
def glossary_see_a_number(book):
    book.replace("glossary.yaml", "  see: [waypoint]\n", "  see: 5\n")
    return book.line_of("glossary.yaml", "see: 5")


@hostile("M008", "book.yaml")
def trim_of_zero(book):
    book.append("book.yaml", "trim:\n  width: 0in\n  height: 9in\n")
    return book.line_of("book.yaml", "trim:")


@hostile("M008", "book.yaml")
def trim_of_a_twentieth_inch(book):
    book.append("book.yaml", "trim:\n  width: 6in\n  height: 0.05in\n")
    return book.line_of("book.yaml", "trim:")


@hostile("M008", "book.yaml")
def trim_of_100000_inches(book):
    book.append("book.yaml", "trim:\n  width: 100000in\n  height: 9in\n")
    return book.line_of("book.yaml", "trim:")


@hostile("M025", "book.yaml")
def slug_ending_in_a_line_break(book):
    book.replace("book.yaml", "slug: tiny-book\n", 'slug: "tiny-book\\n"\n')
    return book.line_of("book.yaml", "slug:")


@hostile("M025", "book.yaml")
def slug_of_300_characters(book):
    book.replace("book.yaml", "slug: tiny-book\n", f"slug: {'a' * 300}\n")
    return book.line_of("book.yaml", "slug:")


@hostile("S021", "book.yaml")
def listed_name_too_long(book):
    book.replace("book.yaml", "  - chapters/02-beta.md\n",
                 f"  - chapters/02-beta.md\n  - chapters/{'b' * 300}.md\n")
    return book.line_of("book.yaml", "chapters:")


@hostile("M046", "book.yaml")
def listed_name_with_nul(book):
    book.replace("book.yaml", "  - chapters/02-beta.md\n",
                 '  - chapters/02-beta.md\n  - "chapters/03\\0gamma.md"\n')
    return book.line_of("book.yaml", "gamma")


@hostile("S021", "book.yaml")
def listed_link_loop(book):
    os.symlink("loop-b.md", book.path("chapters/loop-a.md"))
    os.symlink("loop-a.md", book.path("chapters/loop-b.md"))
    book.replace("book.yaml", "  - chapters/02-beta.md\n",
                 "  - chapters/02-beta.md\n  - chapters/loop-a.md\n")
    return book.line_of("book.yaml", "chapters:")


def test_escape_sequences_in_names_are_written_out(make_book, tmp_path):
    """An ANSI escape or a line break in a file name reaches the terminal as text."""
    book = make_book()
    book.write("chapters/03-\x1b[31mred\x1b]0;owned\x07\nok.md", "---\ntitle: Red\n---\n\nRed.\n")
    result = run_build(book.root, tmp_path / "out")
    assert result.returncode == 1
    assert "\x1b" not in result.stderr and "\x07" not in result.stderr
    assert "03-\\x1b[31mred\\x1b]0;owned\\x07\\nok.md:1: M012" in result.stderr


def run_task(task: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "invoke", task, *args], cwd=PROJECT,
                          capture_output=True, text=True, timeout=300)


def test_crlf_files_are_read_like_any_other(make_book, tmp_path):
    """Windows line ends are no missing front matter (M010 was reported falsely)."""
    book = make_book()
    for rel in ("chapters/01-alpha.md", "book.yaml", "glossary.yaml"):
        book.write(rel, book.read(rel).replace("\n", "\r\n").encode("utf-8"))
    result = run_task("epub", "--manuscript", str(book.root), "--out", str(tmp_path / "out"))
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "out" / "tiny-book.epub").is_file()


def test_a_book_dated_after_2107_builds_its_epub(make_book, tmp_path):
    """The zip format's years end in 2107: a later date is clamped, not a crash."""
    book = make_book()
    book.replace("book.yaml", "date: 2026-01-01\n", "date: 2110-06-01\n")
    result = run_task("epub", "--manuscript", str(book.root), "--out", str(tmp_path / "out"))
    assert result.returncode == 0, result.stderr
    with zipfile.ZipFile(tmp_path / "out" / "tiny-book.epub") as epub:
        assert {info.date_time[0] for info in epub.infolist()} == {2107}
        assert "2110-06-01" in epub.read("EPUB/package.opf").decode()


def test_rules_and_code_blocks_are_no_nesting(make_book, tmp_path):
    """The nesting limit counts block quotes and lists, not a rule of many stars or
    quoted mail shown in a code block."""
    book = make_book()
    book.append("chapters/02-beta.md", "\n" + "*" * 40 + "\n\n```\n" + "> " * 40 +
                "quoted mail\n```\n")
    result = run_task("epub", "--manuscript", str(book.root), "--out", str(tmp_path / "out"))
    assert result.returncode == 0, result.stderr
    with zipfile.ZipFile(tmp_path / "out" / "tiny-book.epub") as epub:
        assert "quoted mail" in epub.read("EPUB/beta.xhtml").decode()
