"""Bad input, end to end: `invoke build` on a broken book names the file, line and code.

Each case copies the tiny book, breaks it one way, and runs the real command line on
it, with the outputs of an earlier good build in its output folder. The build must
fail with `file:line: CODE message` and a hint, show no Python traceback, leave the
PDF and EPUB byte for byte as they were, and leave the manuscript as it was.
"""
from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import PROJECT, TINY

CASES = []
PNG = (Path(__file__).parent / "fixtures" / "pixel.png").read_bytes()  # a whole image


def breaks(code: str, file: str):
    """Register a function that breaks a copy of the book; it returns the expected line."""
    def register(fn):
        CASES.append(pytest.param(fn, code, file, id=fn.__name__))
        return fn
    return register


def run_build(manuscript: Path, out: Path) -> subprocess.CompletedProcess:
    """The real command line, from the project folder (invoke finds tasks.py there)."""
    return subprocess.run([sys.executable, "-m", "invoke", "build", "--manuscript",
                           str(manuscript), "--out", str(out)], cwd=PROJECT,
                          capture_output=True, text=True, timeout=300)


def tree(folder: Path) -> dict[str, str]:
    """Every file (and link) under a folder, hidden ones included, with a content hash."""
    found = {}
    for path in sorted(folder.rglob("*")):
        rel = path.relative_to(folder).as_posix()
        if path.is_symlink():
            found[rel] = f"link to {os.readlink(path)}"
        elif path.is_file():
            found[rel] = hashlib.sha256(path.read_bytes()).hexdigest()
        else:
            found[rel] = "folder"
    return found


@pytest.fixture(scope="module")
def good_outputs(tmp_path_factory) -> Path:
    """One good build of the tiny book, whose output folder every case starts from."""
    root = tmp_path_factory.mktemp("good")
    manuscript = root / "manuscript"
    shutil.copytree(TINY, manuscript)
    before = tree(manuscript)
    result = run_build(manuscript, root / "out")
    assert result.returncode == 0, result.stderr
    assert {"tiny-book.pdf", "tiny-book.epub"} <= set(tree(root / "out"))
    assert tree(manuscript) == before  # a good build writes nothing into the manuscript
    return root / "out"


@pytest.mark.parametrize(("breaker", "code", "file"), CASES)
def test_bad_input_fails_cleanly(breaker, code, file, make_book, good_outputs, tmp_path):
    book = make_book()
    line = breaker(book)
    out = tmp_path / "out"
    shutil.copytree(good_outputs, out)
    outputs, manuscript = tree(out), tree(book.root)

    result = run_build(book.root, out)

    said = result.stdout + result.stderr
    assert result.returncode == 1, said
    assert "Traceback" not in said
    where = f"manuscript/{file}:{line}: {code} "
    assert re.search(rf"^{re.escape(where)}.+\n    hint: \S", result.stderr, re.M), \
        f"expected '{where}...' with a hint, got:\n{result.stderr}"
    assert "build failed" in result.stderr
    assert tree(out) == outputs  # the previous PDF and EPUB, byte for byte, and nothing new
    assert tree(book.root) == manuscript


def test_output_folder_inside_manuscript_is_refused(make_book):
    book = make_book()
    manuscript = tree(book.root)
    result = run_build(book.root, book.root / "build")
    assert result.returncode == 1
    assert "Traceback" not in result.stdout + result.stderr
    assert f"{book.root / 'build'}: S008 " in result.stderr
    assert tree(book.root) == manuscript  # not even an empty folder was made


# --- YAML: book.yaml, front matter, glossary ---------------------------------------------

@breaks("M003", "book.yaml")
def yaml_syntax_in_book_yaml(book):
    book.replace("book.yaml", "language: en\n", "language: en: oops\n")
    return book.line_of("book.yaml", "language:")


@breaks("M003", "chapters/02-beta.md")
def yaml_syntax_in_front_matter(book):
    book.replace("chapters/02-beta.md", "short-title: Beta\n", "short-title: Beta: the: second\n")
    return book.line_of("chapters/02-beta.md", "short-title:")


@breaks("M003", "glossary.yaml")
def yaml_syntax_in_glossary(book):
    book.replace("glossary.yaml", "- term: ridge line\n", "- term: ridge line: high\n")
    return book.line_of("glossary.yaml", "ridge line: high")


@breaks("M003", "book.yaml")
def yaml_date_that_is_no_date(book):
    book.replace("book.yaml", "date: 2026-01-01\n", "date: 2026-13-45\n")
    return book.line_of("book.yaml", "date:")


@breaks("M024", "book.yaml")
def yaml_key_given_twice(book):
    book.replace("book.yaml", "creator: Fixture Press\n",
                 "creator: Fixture Press\ncreator: Someone Else\n")
    return book.line_of("book.yaml", "Someone Else")


@breaks("M005", "glossary.yaml")
def glossary_original_not_a_mapping(book):
    book.replace("glossary.yaml", "  see: [waypoint]\n", "  see: [waypoint]\n  original: lampe\n")
    return book.line_of("glossary.yaml", "original:")


# --- the files of the book ---------------------------------------------------------------

@breaks("M009", "book.yaml")
def chapter_listed_but_missing(book):
    book.remove("chapters/02-beta.md")
    return book.line_of("book.yaml", "chapters:")


@breaks("M033", "book.yaml")
def chapter_item_folded_into_the_one_above(book):
    book.replace("book.yaml", "  - chapters/02-beta.md", "   - chapters/02-beta.md")
    return book.line_of("book.yaml", "   - chapters/02-beta.md")


@breaks("M010", "chapters/02-beta.md")
def chapter_front_matter_without_title_or_heading(book):
    book.write("chapters/02-beta.md", "---\nshort-title: Beta\n---\n\nJust text.\n")
    return 1


@breaks("M012", "chapters/03-gamma.md")
def chapter_file_not_listed(book):
    book.write("chapters/03-gamma.md", "---\ntitle: Gamma\n---\n\nGamma text.\n")
    return 1


@breaks("M010", "chapters/02-beta.md")
def chapter_without_front_matter(book):
    book.write("chapters/02-beta.md", "Just text.\n")
    return 1


@breaks("M025", "book.yaml")
def slug_that_is_a_path(book):
    book.replace("book.yaml", "slug: tiny-book\n", "slug: ../tiny-book\n")
    return book.line_of("book.yaml", "slug:")


# --- metadata ----------------------------------------------------------------------------

@breaks("M004", "book.yaml")
def unknown_key_in_book_yaml(book):
    book.replace("book.yaml", "creator: Fixture Press\n", "creator: Fixture Press\ncolour: blue\n")
    return book.line_of("book.yaml", "colour:")


@breaks("M004", "chapters/01-alpha.md")
def unknown_key_in_front_matter(book):
    book.replace("chapters/01-alpha.md", "short-title: Alpha\n", "short-title: Alpha\nauthor: Me\n")
    return book.line_of("chapters/01-alpha.md", "author:")


@breaks("M004", "glossary.yaml")
def unknown_key_in_glossary(book):
    book.replace("glossary.yaml", "  see: [waypoint]\n", "  see: [waypoint]\n  colour: red\n")
    return book.line_of("glossary.yaml", "colour:")


@breaks("M007", "book.yaml")
def invalid_language_tag(book):
    book.replace("book.yaml", "language: en\n", "language: english please\n")
    return book.line_of("book.yaml", "language:")


@breaks("M007", "glossary.yaml")
def invalid_language_tag_of_original(book):
    book.replace("glossary.yaml", "  see: [waypoint]\n",
                 "  see: [waypoint]\n  original: {text: lanterne, lang: French}\n")
    return book.line_of("glossary.yaml", "original:")


# --- images ------------------------------------------------------------------------------

@breaks("M019", "chapters/02-beta.md")
def missing_image(book):
    book.append("chapters/02-beta.md", "\nA map:\n![The ridge](images/nope.png)\n")
    return book.line_of("chapters/02-beta.md", "images/nope.png")


@breaks("M026", "chapters/02-beta.md")
def image_that_is_not_an_image(book):
    book.write("images/map.png", "not a picture at all\n")
    book.append("chapters/02-beta.md", "\n![The ridge](images/map.png)\n")
    return book.line_of("chapters/02-beta.md", "images/map.png")


@breaks("M018", "chapters/02-beta.md")
def image_outside_the_project_by_relative_path(book):
    (book.root.parent.parent / "secret.png").write_bytes(PNG)
    book.append("chapters/02-beta.md", "\nLook:\n![A secret](../../secret.png)\n")
    return book.line_of("chapters/02-beta.md", "../../secret.png")


@breaks("M018", "chapters/01-alpha.md")
def image_from_a_file_url(book):
    book.append("chapters/01-alpha.md", "\nA long paragraph\nwith ![a secret](file:///etc/passwd)\n")
    return book.line_of("chapters/01-alpha.md", "file:///etc/passwd")


@breaks("M018", "chapters/01-alpha.md")
def image_from_the_web_in_raw_html(book):
    book.append("chapters/01-alpha.md", '\n<p>\n<img src="http://example.org/map.png" alt="map">\n</p>\n')
    return book.line_of("chapters/01-alpha.md", "http://example.org/map.png")


@breaks("S001", "images/diagram.svg")
def svg_image_with_a_script(book):
    book.write("images/diagram.svg", '<svg xmlns="http://www.w3.org/2000/svg" width="10" '
               'height="10">\n<rect width="10" height="10"/>\n<script>alert(1)</script>\n</svg>\n')
    book.append("chapters/02-beta.md", "\n![A diagram](images/diagram.svg)\n")
    return 3


# --- raw HTML that is not closed ---------------------------------------------------------

@breaks("M022", "chapters/02-beta.md")
def unclosed_div(book):
    book.replace("chapters/02-beta.md", "## Shared Name\n", '<div class="aside">\n\n## Shared Name\n')
    return book.line_of("chapters/02-beta.md", '<div class="aside">')


@breaks("M022", "chapters/01-alpha.md")
def unclosed_span_inside_a_paragraph(book):
    book.replace("chapters/01-alpha.md", "We walk along the ridge line.",
                 'We walk\nalong <span class="x">the ridge line.')
    return book.line_of("chapters/01-alpha.md", '<span class="x">')


@breaks("M022", "chapters/02-beta.md")
def unclosed_comment_hiding_the_rest(book):
    book.replace("chapters/02-beta.md", "### Beta Detail\n", "<!-- a note to self\n\n### Beta Detail\n")
    return book.line_of("chapters/02-beta.md", "<!-- a note")


@breaks("M023", "chapters/02-beta.md")
def closing_tag_without_opening(book):
    book.replace("chapters/02-beta.md", "### Beta Detail\n", "</section>\n\n### Beta Detail\n")
    return book.line_of("chapters/02-beta.md", "</section>")


# --- active content ----------------------------------------------------------------------

@breaks("S001", "chapters/02-beta.md")
def script_element(book):
    book.replace("chapters/02-beta.md", "### Beta Detail\n",
                 "<div>\nA box.\n<script>fetch('http://example.org')</script>\n</div>\n\n### Beta Detail\n")
    return book.line_of("chapters/02-beta.md", "<script>")


@breaks("S001", "chapters/01-alpha.md")
def iframe(book):
    book.append("chapters/01-alpha.md", '\n<iframe src="file:///etc/passwd"></iframe>\n')
    return book.line_of("chapters/01-alpha.md", "<iframe")


@breaks("S002", "chapters/01-alpha.md")
def event_handler_attribute(book):
    book.replace("chapters/01-alpha.md", "A waypoint marks the turn.",
                 'A waypoint <b onmouseover="alert(1)">marks</b> the turn.')
    return book.line_of("chapters/01-alpha.md", "onmouseover")


@breaks("S003", "chapters/01-alpha.md")
def javascript_link(book):
    book.append("chapters/01-alpha.md", "\nRun\n[this](javascript:alert(1)).\n")
    return book.line_of("chapters/01-alpha.md", "javascript:")


@breaks("S004", "chapters/01-alpha.md")
def css_url_to_a_file_outside(book):
    book.append("chapters/01-alpha.md",
                '\nA <span style="background: url(file:///etc/passwd)">styled</span> word.\n')
    return book.line_of("chapters/01-alpha.md", "url(file:")


@breaks("S004", "chapters/01-alpha.md")
def svg_image_element_reaching_out(book):
    book.append("chapters/01-alpha.md",
                '\n<svg width="10" height="10">\n<image href="../../secret.png"/>\n</svg>\n')
    return book.line_of("chapters/01-alpha.md", "<image")


@breaks("S005", "chapters/01-alpha.md")
def stylesheet_from_the_web(book):
    book.append("chapters/01-alpha.md", '\n<link rel="stylesheet" href="http://example.org/a.css">\n')
    return book.line_of("chapters/01-alpha.md", "<link")


@breaks("S006", "chapters/01-alpha.md")
def form(book):
    book.append("chapters/01-alpha.md", '\n<form action="http://example.org">\n'
                '<input name="q">\n</form>\n')
    return book.line_of("chapters/01-alpha.md", "<form")


@breaks("S001", "glossary.yaml")
def script_in_a_glossary_definition(book):
    book.replace("glossary.yaml", "    The line along the top of a ridge.\n",
                 "    The line along the top of a ridge.<script>alert(1)</script>\n")
    return book.line_of("glossary.yaml", "- term: ridge line")


@breaks("M015", "chapters/02-beta.md")
def file_url_link(book):
    book.append("chapters/02-beta.md", "\nSee [my notes](file:///home/me/notes.txt).\n")
    return book.line_of("chapters/02-beta.md", "file:///home")


# --- paths that lead out of the manuscript -----------------------------------------------

@breaks("S007", "book.yaml")
def chapter_listed_outside_the_manuscript(book):
    (book.root.parent.parent / "secret.md").write_text("---\ntitle: Secret\n---\n\nSecret.\n")
    book.replace("book.yaml", "  - chapters/02-beta.md\n",
                 "  - chapters/02-beta.md\n  - ../../secret.md\n")
    return book.line_of("book.yaml", "chapters:")


@breaks("S007", "book.yaml")
def chapter_linked_to_a_file_outside(book):
    secret = book.root.parent.parent / "secret.md"
    secret.write_text("---\ntitle: Secret\n---\n\nSecret.\n")
    book.remove("chapters/02-beta.md")
    book.path("chapters/02-beta.md").symlink_to(secret)
    return book.line_of("book.yaml", "chapters:")


# --- empty chapters ----------------------------------------------------------------------

@breaks("M011", "chapters/02-beta.md")
def chapter_with_only_front_matter(book):
    book.write("chapters/02-beta.md", "---\ntitle: Beta\n---\n")
    return 3


@breaks("M011", "chapters/02-beta.md")
def chapter_with_only_whitespace(book):
    book.write("chapters/02-beta.md", "---\ntitle: Beta\n---\n\n   \n\t\n")
    return 3


@breaks("M011", "chapters/02-beta.md")
def chapter_file_empty(book):
    book.write("chapters/02-beta.md", "")
    return 1


@breaks("M011", "chapters/02-beta.md")
def chapter_with_only_a_comment(book):
    book.write("chapters/02-beta.md", "---\ntitle: Beta\n---\n\n<!-- to do -->\n")
    return 5


# --- unreadable and non-UTF-8 files ------------------------------------------------------

@breaks("M002", "chapters/01-alpha.md")
def chapter_not_utf8(book):
    text = book.read("chapters/01-alpha.md").encode("utf-8")
    line = book.line_of("chapters/01-alpha.md", "A waypoint marks")
    book.write("chapters/01-alpha.md", text.replace(b"A waypoint", b"A way\xe9point"))
    return line


@breaks("M002", "glossary.yaml")
def glossary_not_utf8(book):
    text = book.read("glossary.yaml").encode("utf-8")
    line = book.line_of("glossary.yaml", "portable light")
    book.write("glossary.yaml", text.replace(b"portable", b"p\xf6rtable"))
    return line


@breaks("M001", "book.yaml")
def chapter_listed_is_a_folder(book):
    book.remove("chapters/02-beta.md")
    book.path("chapters/02-beta.md").mkdir()
    return book.line_of("book.yaml", "chapters:")


@breaks("M001", "glossary.yaml")
def glossary_is_a_folder(book):
    book.remove("glossary.yaml")
    book.path("glossary.yaml").mkdir()
    return 1


