"""Stage 1, load: book.yaml, front matter and glossary.yaml into a validated Book."""
from __future__ import annotations

from pathlib import Path

import pytest

from conftest import codes, line_of, load_problems, only, shown_name
from press.source.load import load_book
from press.model import Book


@pytest.fixture
def book(tiny) -> Book:
    return load_book(tiny)


# --- a valid book ---------------------------------------------------------------------

def test_metadata(book, tiny):
    meta = book.meta
    assert meta.title == "Tiny Book"
    assert meta.slug == "tiny-book"
    assert meta.creator == "Fixture Press"
    assert meta.language == "en"
    assert meta.identifier.startswith("urn:uuid:")
    assert meta.date == "2026-01-01"  # a YAML date becomes text, not a datetime.date
    assert isinstance(meta.date, str)
    assert meta.rights.startswith("© 2026 Fixture Press")
    assert (meta.trim_width, meta.trim_height) == ("6in", "9in")  # the default trim
    assert book.root == tiny.resolve()


def test_parts_in_reading_order_with_kinds_and_numbers(book):
    parts = book.parts
    assert [p.slug for p in parts] == ["preface", "alpha", "beta"]
    assert [p.kind for p in parts] == ["front", "chapter", "chapter"]
    assert [p.number for p in parts] == [None, 1, 2]
    assert [p.slug for p in book.chapters] == ["alpha", "beta"]


def test_titles_and_short_titles(book):
    preface, alpha, beta = book.parts
    assert alpha.title == "Alpha: The First Chapter"
    assert alpha.short_title == "Alpha"
    assert beta.title == "Beta, the Second"
    assert beta.short_title == "Beta"
    # Without a short-title the title serves for both.
    assert preface.title == preface.short_title == "Preface"


def test_slug_comes_from_file_name_without_number(book):
    alpha = book.parts[1]
    assert alpha.path.name == "01-alpha.md"
    assert alpha.slug == "alpha"


def test_glossary_entries_and_lines(book, tiny):
    glossary = tiny / "glossary.yaml"
    assert book.glossary_path.name == "glossary.yaml"
    assert book.back_glossary is True
    by_term = {e.term: e for e in book.glossary}
    assert list(by_term) == ["lantern", "ridge line", "waypoint"]
    for term, entry in by_term.items():
        assert entry.line == line_of(glossary, f"- term: {term}")
    assert by_term["ridge line"].slug == "ridge-line"
    assert by_term["ridge line"].variants == ("ridge lines",)
    assert by_term["waypoint"].see == ("lantern", "ridge line")
    assert by_term["lantern"].definition == "A portable light in a *case* with windows."


def test_front_matter_blanked_but_lines_kept(book, tiny):
    for part in book.parts:
        source = (tiny.parent / part.path).read_text(encoding="utf-8")
        assert part.markdown.count("\n") == source.count("\n")
        assert "title:" not in part.markdown
        assert not part.markdown.startswith("---")
    alpha = book.parts[1]
    source = (tiny / "chapters" / "01-alpha.md").read_text(encoding="utf-8")
    # Every line after the front matter is the same line, at the same number.
    assert alpha.markdown.splitlines()[4:] == source.splitlines()[4:]
    assert alpha.markdown.splitlines()[:4] == ["", "", "", ""]
    heading = line_of(tiny / "chapters" / "01-alpha.md", "## Some Heading")
    assert alpha.markdown.splitlines()[heading - 1].startswith("## Some Heading")


def test_book_yaml_without_back_has_glossary_by_default(make_book):
    copy = make_book()
    copy.replace("book.yaml", "back:\n  - glossary\n", "")
    assert load_book(copy.root).back_glossary is True
    copy.write("book.yaml", copy.read("book.yaml") + "back: []\n")
    assert load_book(copy.root).back_glossary is False


def test_trim_from_metadata(make_book):
    copy = make_book()
    copy.append("book.yaml", "trim:\n  width: 152mm\n  height: 229mm\n")
    meta = load_book(copy.root).meta
    assert (meta.trim_width, meta.trim_height) == ("152mm", "229mm")


# --- book.yaml problems -----------------------------------------------------------------

def test_unknown_key_in_book_yaml(make_book):
    copy = make_book()
    copy.replace("book.yaml", "creator: Fixture Press\n", "creator: Fixture Press\ncolour: blue\n")
    problem = only(load_problems(copy.root), "M004")
    assert shown_name(problem).endswith("book.yaml")
    assert problem.line == copy.line_of("book.yaml", "colour: blue")
    assert "colour" in problem.message
    assert problem.severity == "error"
    assert str(problem).startswith(f"{problem.path}:{problem.line}: M004 ")


def test_missing_required_key(make_book):
    copy = make_book()
    copy.replace("book.yaml", "rights: \"© 2026 Fixture Press. All rights reserved.\"\n", "")
    problem = only(load_problems(copy.root), "M006")
    assert "'rights'" in problem.message
    assert shown_name(problem).endswith("book.yaml")
    assert problem.line == 1


def test_unknown_and_missing_keys_reported_together(make_book):
    copy = make_book()
    copy.replace("book.yaml", "creator: Fixture Press\n", "")
    copy.replace("book.yaml", "slug: tiny-book\n", "slug: tiny-book\nauthor: Someone\n")
    problems = load_problems(copy.root)
    assert codes(problems) == {"M004", "M006"}
    assert only(problems, "M004").line == copy.line_of("book.yaml", "author: Someone")
    assert "'creator'" in only(problems, "M006").message


def test_bad_yaml_in_book_yaml(make_book):
    copy = make_book()
    copy.replace("book.yaml", "language: en\n", "language: en: oops\n")
    problem = only(load_problems(copy.root), "M003")
    assert shown_name(problem).endswith("book.yaml")
    assert problem.line == copy.line_of("book.yaml", "language: en: oops")


def test_invalid_language_tag(make_book):
    copy = make_book()
    copy.replace("book.yaml", "language: en\n", "language: english please\n")
    problem = only(load_problems(copy.root), "M007")
    assert problem.line == copy.line_of("book.yaml", "language:")
    assert "english please" in problem.message


@pytest.mark.parametrize("tag", ["en", "en-GB", "zh-Hant-TW", "fil"])
def test_valid_language_tags(make_book, tag):
    copy = make_book()
    copy.replace("book.yaml", "language: en\n", f"language: {tag}\n")
    assert load_book(copy.root).meta.language == tag


def test_bad_trim_length(make_book):
    copy = make_book()
    copy.append("book.yaml", "trim:\n  width: 6 inches\n  height: 9in\n")
    problem = only(load_problems(copy.root), "M008")
    assert "6 inches" in problem.message
    assert problem.line == copy.line_of("book.yaml", "trim:")


def test_listed_chapter_missing(make_book):
    copy = make_book()
    copy.remove("chapters/02-beta.md")
    problem = only(load_problems(copy.root), "M009")
    assert "chapters/02-beta.md" in problem.message
    assert shown_name(problem).endswith("book.yaml")
    assert problem.line == copy.line_of("book.yaml", "chapters:")


def test_chapter_file_not_listed(make_book):
    copy = make_book()
    copy.write("chapters/03-gamma.md", "---\ntitle: Gamma\n---\n\nGamma text.\n")
    problem = only(load_problems(copy.root), "M012")
    assert shown_name(problem).endswith("chapters/03-gamma.md")


# --- chapter problems -----------------------------------------------------------------

def test_non_utf8_chapter(make_book):
    copy = make_book()
    text = copy.read("chapters/01-alpha.md").encode("utf-8")
    bad_line = copy.line_of("chapters/01-alpha.md", "A waypoint marks the turn.")
    copy.write("chapters/01-alpha.md",
               text.replace(b"A waypoint marks", b"A way\xe9point marks"))  # Latin-1 'é'
    problem = only(load_problems(copy.root), "M002")
    assert shown_name(problem).endswith("chapters/01-alpha.md")
    assert problem.line == bad_line


def test_missing_front_matter(make_book):
    copy = make_book()
    copy.write("chapters/02-beta.md", "Just text, no front matter.\n\n## A section\n\nMore.\n")
    problem = only(load_problems(copy.root), "M010")
    assert shown_name(problem).endswith("chapters/02-beta.md")
    assert problem.line == 1


def test_empty_chapter(make_book):
    copy = make_book()
    copy.write("chapters/02-beta.md", "---\ntitle: Beta\n---\n\n   \n")
    problem = only(load_problems(copy.root), "M011")
    assert shown_name(problem).endswith("chapters/02-beta.md")


def test_unknown_front_matter_key(make_book):
    copy = make_book()
    copy.replace("chapters/01-alpha.md", "short-title: Alpha\n", "short-title: Alpha\nauthor: Me\n")
    problem = only(load_problems(copy.root), "M004")
    assert shown_name(problem).endswith("chapters/01-alpha.md")
    assert problem.line == copy.line_of("chapters/01-alpha.md", "author: Me")
    assert "author" in problem.message


def test_bad_yaml_in_front_matter_points_at_file_line(make_book):
    copy = make_book()
    copy.replace("chapters/02-beta.md", "short-title: Beta\n", "short-title: Beta: the: second\n")
    problem = only(load_problems(copy.root), "M003")
    assert shown_name(problem).endswith("chapters/02-beta.md")
    assert problem.line == copy.line_of("chapters/02-beta.md", "short-title:")


def test_every_problem_reported_at_once(make_book):
    """One run names every problem in every file, each with its file and line."""
    copy = make_book()
    copy.replace("book.yaml", "language: en\n", "language: 'en_GB'\n")
    copy.append("book.yaml", "trim:\n  width: 6\n")
    copy.replace("book.yaml", "  - chapters/02-beta.md\n",
                 "  - chapters/02-beta.md\n  - chapters/03-gone.md\n")
    copy.write("chapters/04-stray.md", "---\ntitle: Stray\n---\n\nStray.\n")
    copy.write("chapters/01-alpha.md", b"---\ntitle: Alpha\n---\n\nline five \xff\n")
    copy.write("chapters/02-beta.md", "---\ntitle: Beta\nmood: sunny\n---\n\nText.\n")
    copy.write("front/preface.md", "No front matter here.\n")
    problems = load_problems(copy.root)
    assert codes(problems) == {"M007", "M008", "M009", "M012", "M002", "M004", "M010"}
    where = {p.code: (shown_name(p), p.line) for p in problems}
    assert where["M002"] == (where["M002"][0], 5)
    assert where["M002"][0].endswith("chapters/01-alpha.md")
    assert where["M004"][0].endswith("chapters/02-beta.md") and where["M004"][1] == 3
    assert where["M010"][0].endswith("front/preface.md")
    assert where["M012"][0].endswith("chapters/04-stray.md")
    assert all(p.severity == "error" for p in problems)


def test_glossary_entry_missing_definition(make_book):
    copy = make_book()
    copy.replace("glossary.yaml", "- term: ridge line\n  variants: [ridge lines]\n"
                 "  definition: >-\n    The line along the top of a ridge.\n",
                 "- term: ridge line\n  variants: [ridge lines]\n")
    problem = only(load_problems(copy.root), "M006")
    assert shown_name(problem).endswith("glossary.yaml")
    assert "'definition'" in problem.message
    assert problem.line == copy.line_of("glossary.yaml", "- term: ridge line")


def test_paths_shown_relative_to_project(tiny):
    # A problem's path is how messages show it: relative to the manuscript's parent.
    part = load_book(tiny).parts[1]
    assert not Path(part.path).is_absolute()
    assert Path(part.path).as_posix() == "tiny/chapters/01-alpha.md"


def test_byte_order_mark_is_not_text(make_book):
    # Editors on Windows may save UTF-8 with a BOM; the front matter must still be found.
    copy = make_book()
    copy.write("chapters/02-beta.md", b"\xef\xbb\xbf" + copy.read("chapters/02-beta.md").encode())
    assert load_book(copy.root).parts[2].title == "Beta, the Second"


def test_duplicate_key_in_front_matter(make_book):
    copy = make_book()
    copy.replace("chapters/01-alpha.md", "short-title: Alpha\n", "short-title: Alpha\ntitle: Again\n")
    problem = only(load_problems(copy.root), "M024")
    assert problem.line == copy.line_of("chapters/01-alpha.md", "title: Again")
    assert "'title'" in problem.message


@pytest.mark.parametrize("value", ["yes", "[a, b]", "{a: b}"])
def test_glossary_term_that_is_not_text(make_book, value):
    copy = make_book()
    copy.replace("glossary.yaml", "- term: lantern\n", f"- term: {value}\n")
    problem = only(load_problems(copy.root), "M005")
    assert problem.line == copy.line_of("glossary.yaml", f"- term: {value}")


def test_glossary_term_that_is_a_number_is_text(make_book):
    copy = make_book()
    copy.replace("glossary.yaml", "- term: lantern\n", "- term: 1984\n")
    assert "1984" in [e.term for e in load_book(copy.root).glossary]


def test_front_matter_file_not_listed(make_book):
    copy = make_book()
    copy.write("front/foreword.md", "---\ntitle: Foreword\n---\n\nA foreword.\n")
    problem = only(load_problems(copy.root), "M012")
    assert shown_name(problem).endswith("front/foreword.md")
    assert "'front:'" in problem.hint


@pytest.mark.parametrize("name", ["book.yaml", "glossary.yaml"])
def test_yaml_file_linked_to_outside_is_not_read(make_book, name):
    copy = make_book()
    secret = copy.root.parent / f"secret-{name}"
    secret.write_text(copy.read(name), encoding="utf-8")
    copy.remove(name)
    copy.path(name).symlink_to(secret)
    problem = only(load_problems(copy.root), "S007")
    assert shown_name(problem) == f"manuscript/{name}"  # the link, not where it leads
    assert problem.line == 1


def test_glossary_original_checked(make_book):
    copy = make_book()
    copy.replace("glossary.yaml", "  see: [waypoint]\n",
                 "  see: [waypoint]\n  original: {text: lanterne, script: latin, dir: up}\n")
    problems = load_problems(copy.root)
    assert codes(problems) == {"M004", "M005", "M006"}  # unknown key, bad dir, no lang
    assert {p.line for p in problems} == {copy.line_of("glossary.yaml", "original:")}
