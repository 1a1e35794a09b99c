"""Errors that teach, through the real command line: each habit an author brings from
Quarto, bookdown or mkdocs, and each knock-on error, gives the one message that says
what happened, at its file and line, with its code.

Every case copies the tiny book, changes it one way, runs `invoke lint` (or `build`,
`stats`, `new-book`, `--help`) in a subprocess and reads what an author would read.
"""
from __future__ import annotations

import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from conftest import PROJECT, TINY


def invoke(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "invoke", *args], cwd=PROJECT,
                          capture_output=True, text=True, timeout=600)


def lint(book) -> str:
    """`invoke lint` on a book copy: everything it printed, and no traceback."""
    result = invoke("lint", "--manuscript", str(book.root))
    said = result.stdout + result.stderr
    assert "Traceback" not in said
    return said


def findings(said: str) -> list[str]:
    """The `file:line: CODE severity: message` lines, in the order lint printed them."""
    return re.findall(r"^manuscript/\S+:\d+: [A-Z]\d{3} .*$", said, re.M)


def codes(said: str) -> list[str]:
    return [re.search(r": ([A-Z]\d{3}) ", line).group(1) for line in findings(said)]


# --- 1. a file that fails to load: its dependants report nothing of their own ------------

def test_a_broken_glossary_comes_first_and_its_terms_are_still_known_words(make_book):
    book = make_book()
    book.replace("chapters/01-alpha.md", "Alpha ends here.",
                 "Alpha ends here, with the Ummah. We recieve it.")
    book.replace("glossary.yaml", "- term: waypoint\n",
                 "- term: Ummah\n  definition: The community.\n- term: waypoint: a point\n")
    said = lint(book)
    line = book.line_of("glossary.yaml", "waypoint: a point")
    assert findings(said)[0] == (f"manuscript/glossary.yaml:{line}: M003 error: invalid YAML: "
                                 "a second ': ' on one line")
    assert "hint: quote a value that holds ': '" in said
    assert "'Ummah'" not in said and "'waypoint'" not in said  # the glossary's own terms
    assert "manuscript/chapters/01-alpha.md:18: P005 error: unknown word 'recieve'" in said
    assert codes(said) == ["M003", "P005"]


# --- 2. a list item folded into the one above --------------------------------------------

def test_a_mis_indented_chapter_item_is_named_at_its_line(make_book):
    book = make_book()
    book.replace("book.yaml", "  - chapters/02-beta.md", "   - chapters/02-beta.md")
    said = lint(book)
    line = book.line_of("book.yaml", "   - chapters/02-beta.md")
    assert findings(said) == [
        f"manuscript/book.yaml:{line}: M033 error: this line is indented under the previous "
        "item of 'chapters', so YAML reads 'chapters/01-alpha.md - chapters/02-beta.md' as "
        "one file name"]
    assert "hint: start each '- ' of the list in the same column" in said


# --- 3. YAML messages with the useful detail ---------------------------------------------

def test_an_unclosed_quote_is_reported_where_it_opened(make_book):
    book = make_book()
    book.replace("chapters/01-alpha.md", 'title: "Alpha: The First Chapter"',
                 'title: "Alpha: The First Chapter')
    said = lint(book)
    assert findings(said) == ["manuscript/chapters/01-alpha.md:2: M003 error: invalid YAML: "
                              "a quote opened here is never closed"]
    assert "hint: close the quote" in said


def test_a_tab_is_named(make_book):
    book = make_book()
    book.replace("book.yaml", "  - front/preface.md", "\t- front/preface.md")
    said = lint(book)
    line = book.line_of("book.yaml", "\t- front/preface.md")
    assert findings(said) == [f"manuscript/book.yaml:{line}: M003 error: invalid YAML: a tab "
                              "character, which YAML does not allow for indentation"]
    assert "hint: indent with spaces only" in said


def test_an_unclosed_list_is_reported_where_it_opened(make_book):
    book = make_book()
    book.replace("glossary.yaml", "  see: [waypoint]\n", "  see: [waypoint\n")
    said = lint(book)
    line = book.line_of("glossary.yaml", "see: [waypoint")
    assert findings(said)[0] == (f"manuscript/glossary.yaml:{line}: M003 error: invalid YAML: "
                                 "a list opened with [ here is never closed")


def test_front_matter_never_closed(make_book):
    book = make_book()
    book.replace("chapters/02-beta.md", "short-title: Beta\n---\n", "short-title: Beta\n\n")
    said = lint(book)
    assert findings(said) == ["manuscript/chapters/02-beta.md:1: M003 error: front matter "
                              "opened here is never closed"]
    assert "hint: end it with a line of three hyphens" in said


def test_an_empty_definition_is_g005_not_a_type_error(make_book):
    book = make_book()
    book.replace("glossary.yaml", "  definition: >-\n    The line along the top of a ridge.\n",
                 "  definition:\n")
    said = lint(book)
    line = book.line_of("glossary.yaml", "- term: ridge line")
    assert findings(said) == [f"manuscript/glossary.yaml:{line}: G005 error: entry "
                              "'ridge line' has an empty definition"]


def test_a_value_of_the_wrong_type_says_how_to_write_it(make_book):
    book = make_book()
    book.replace("glossary.yaml", "  variants: [ridge lines]\n", "  variants: ridge lines\n")
    said = lint(book)
    line = book.line_of("glossary.yaml", "variants: ridge lines")
    assert f"manuscript/glossary.yaml:{line}: M005 error: 'variants' must be a list" in said
    assert "hint: write a list: variants: [first, second]" in said


# --- 4. spelling by language and region --------------------------------------------------

BRITISH = "Alpha ends here, among neighbours who favour the colour of its defence. We recieve."


@pytest.mark.parametrize("language", ["en-GB", "en-AU"])
def test_british_spelling_passes_in_a_british_region(make_book, language):
    book = make_book()
    book.replace("book.yaml", "language: en\n", f"language: {language}\n")
    book.replace("chapters/01-alpha.md", "Alpha ends here.", BRITISH)
    said = lint(book)
    assert findings(said) == ["manuscript/chapters/01-alpha.md:18: P005 error: unknown word "
                              "'recieve'"]


def test_british_spelling_is_unknown_in_en_us(make_book):
    book = make_book()
    book.replace("book.yaml", "language: en\n", "language: en-US\n")
    book.replace("chapters/01-alpha.md", "Alpha ends here.", BRITISH)
    said = lint(book)
    for word in ("neighbours", "favour", "colour", "defence", "recieve"):
        assert f"manuscript/chapters/01-alpha.md:18: P005 error: unknown word '{word}'" in said


# --- 5. a leading # Title names the chapter; front matter is optional --------------------

BETA = "# Beta, the Second\n\nThe ridge lines fade, another lantern and waypoint.\n\n## More\n"


def test_a_chapter_without_front_matter_takes_its_title_from_its_heading(make_book, tmp_path):
    book = make_book({"chapters/02-beta.md": BETA})
    assert findings(lint(book)) == []
    result = invoke("epub", "--manuscript", str(book.root), "--out", str(tmp_path / "out"))
    assert result.returncode == 0, result.stderr
    with zipfile.ZipFile(tmp_path / "out" / "tiny-book.epub") as epub:
        nav = epub.read("EPUB/nav.xhtml").decode()
        beta = epub.read("EPUB/beta.xhtml").decode()
    assert "Beta, the Second" in nav
    assert beta.count("Beta, the Second</h1>") == 1  # the heading became the title, once


def test_front_matter_without_title_and_a_leading_heading(make_book):
    book = make_book({"chapters/02-beta.md": "---\nshort-title: Beta\n---\n\n" + BETA})
    book.replace("chapters/02-beta.md", "# Beta, the Second", "# Beta, the Second {#beta}")
    assert findings(lint(book)) == []


def test_an_underlined_title_with_emphasis_names_the_chapter_as_plain_text(make_book,
                                                                           tmp_path):
    book = make_book({"chapters/02-beta.md": BETA.replace("# Beta, the Second",
                                                          "Beta, *the* Second\n===")})
    assert findings(lint(book)) == []
    result = invoke("epub", "--manuscript", str(book.root), "--out", str(tmp_path / "out"))
    assert result.returncode == 0, result.stderr
    with zipfile.ZipFile(tmp_path / "out" / "tiny-book.epub") as epub:
        nav = epub.read("EPUB/nav.xhtml").decode()
    assert "Beta, the Second" in nav and "*" not in nav


def test_a_heading_after_a_title_is_a_second_title_with_a_hint(make_book):
    book = make_book()
    book.replace("chapters/02-beta.md", "short-title: Beta\n---\n",
                 "short-title: Beta\n---\n\n# Beta, the Second\n")
    said = lint(book)
    line = book.line_of("chapters/02-beta.md", "# Beta, the Second")
    assert findings(said) == [f"manuscript/chapters/02-beta.md:{line}: M013 error: a second "
                              "title in the chapter (level-1 heading)"]
    assert "drop title: to let this heading name it" in said


def test_a_chapter_with_no_title_at_all(make_book):
    book = make_book({"chapters/02-beta.md": "Just text, no heading.\n"})
    said = lint(book)
    assert findings(said) == ["manuscript/chapters/02-beta.md:1: M010 error: the file has no "
                              "title"]
    assert "hint: start it with a level-1 heading, '# Title'" in said


# --- 6. did you mean ---------------------------------------------------------------------

def test_a_broken_anchor_suggests_the_nearest_id(make_book):
    book = make_book()
    book.replace("chapters/01-alpha.md", "(#some-heading-id)", "(#some-heading-idd)")
    assert findings(lint(book)) == [
        "manuscript/chapters/01-alpha.md:10: M016 error: broken cross-reference "
        "'#some-heading-idd' (did you mean '#some-heading-id'?)"]


def test_a_link_to_a_misspelt_file_suggests_the_file(make_book):
    book = make_book()
    book.replace("chapters/02-beta.md", "(01-alpha.md#some-heading-id)",
                 "(01-alpah.md#some-heading-id)")
    assert findings(lint(book)) == [
        "manuscript/chapters/02-beta.md:6: M016 error: broken cross-reference "
        "'01-alpah.md#some-heading-id' (did you mean '01-alpha.md'?)"]


def test_a_key_that_names_no_entry_is_reported_at_its_line_with_the_nearest(make_book):
    book = make_book()
    book.replace("chapters/01-alpha.md", "A waypoint marks the turn.",
                 'A waypoint marks\nthe [turn]{.term key="lanternn"}.')
    said = lint(book)
    line = book.line_of("chapters/01-alpha.md", 'key="lanternn"')
    assert line == 15  # the paragraph starts a line earlier
    assert findings(said) == [f"manuscript/chapters/01-alpha.md:{line}: G002 error: glossary "
                              "key 'lanternn' names no entry (did you mean 'lantern'?)"]


def test_see_also_suggests_the_nearest_entry(make_book):
    book = make_book()
    book.replace("glossary.yaml", "see: [lantern, ridge line]", "see: [lantern, ridge lin]")
    said = lint(book)
    line = book.line_of("glossary.yaml", "- term: waypoint")
    assert findings(said) == [f"manuscript/glossary.yaml:{line}: G004 error: 'see also' names "
                              "a missing entry 'ridge lin' (did you mean 'ridge line'?)"]


# --- 7. knock-on errors --------------------------------------------------------------------

def test_a_shared_variant_is_g003_and_not_also_never_used(make_book):
    book = make_book()
    book.append("glossary.yaml", "- term: beacon\n  variants: [lantern]\n"
                                 "  definition: A fire on a hill.\n")
    said = lint(book)
    line = book.line_of("glossary.yaml", "- term: beacon")
    assert findings(said) == [f"manuscript/glossary.yaml:{line}: G003 error: 'lantern' of entry "
                              "'beacon' appears in more than one place (also under 'lantern', "
                              "line 2)"]


def test_glossary_checks_run_beside_a_wrong_type(make_book):
    book = make_book()
    book.replace("glossary.yaml", "see: [lantern, ridge line]", "see: [lantern, ridge lin]")
    book.replace("glossary.yaml", "  variants: [ridge lines]\n", "  variants: ridge lines\n")
    said = lint(book)
    assert findings(said) == [
        "manuscript/glossary.yaml:7: M005 error: 'variants' must be a list",
        "manuscript/glossary.yaml:10: G004 error: 'see also' names a missing entry 'ridge lin' "
        "(did you mean 'ridge line'?)"]
    build = invoke("build", "--manuscript", str(book.root), "--out", str(book.root.parent / "o"))
    assert build.returncode == 1 and "M005" in build.stderr  # a build still refuses


# --- 8. the small things -----------------------------------------------------------------

def test_placeholder_text_is_a_warning_with_a_code(make_book):
    book = make_book()
    made = invoke("new-chapter", "Gamma", "--manuscript", str(book.root))
    assert made.returncode == 0, made.stderr
    said = lint(book)
    assert findings(said) == [
        "manuscript/chapters/03-gamma.md:5: P008 warning: placeholder text left in: "
        "'Write the opening of the chapter here.'",
        "manuscript/chapters/03-gamma.md:10: P008 warning: placeholder text left in: "
        "'Write the first section here.'"]
    assert "lint     0 errors, 2 warnings in 1 file (4 Markdown files read)" in said


def test_new_chapter_position_is_a_number(make_book):
    book = make_book()
    helped = invoke("--help", "new-chapter").stdout
    assert "-p INT, --position=INT" in helped
    made = invoke("new-chapter", "First", "--position", "1", "--manuscript", str(book.root))
    assert made.returncode == 0, made.stderr
    assert "new      chapters/01-first.md: chapter 1 of 3" in made.stdout
    wrong = invoke("new-chapter", "Other", "--position", "two", "--manuscript", str(book.root))
    assert wrong.returncode == 1 and "Traceback" not in wrong.stdout + wrong.stderr
    assert "--position takes a whole number, not 'two'" in wrong.stderr


def test_help_states_defaults_and_m_means_manuscript():
    assert re.search(r"--port=INT\s+port on 127\.0\.0\.1 \(default 8000;", invoke(
        "--help", "serve").stdout)
    bench = invoke("--help", "bench").stdout
    assert "--compare=STRING" in bench and "-m " not in bench


def test_progress_lines_and_stats_say_what_they_count(tmp_path):
    build = invoke("build", "--manuscript", str(TINY), "--out", str(tmp_path / "out"))
    assert build.returncode == 0, build.stderr
    assert "(s)" not in build.stdout
    assert re.search(r"^load     3 parts, 3 glossary entries$", build.stdout, re.M)
    assert re.search(r"^pdf      13 pages, \d parts? typeset", build.stdout, re.M)
    stats = invoke("stats", "--manuscript", str(TINY)).stdout
    title_row = next(line for line in stats.splitlines() if line.startswith("Title pages"))
    assert title_row.split()[-4:-2] == ["–", "–"]  # words and reading time: not counted


# --- 9. a second book ----------------------------------------------------------------------

def test_new_book_writes_a_manuscript_that_builds_with_its_own_identifier(tmp_path):
    first, second = tmp_path / "one" / "manuscript", tmp_path / "two" / "manuscript"
    made = invoke("new-book", str(first), "A Second Book", "--creator", "Ann Author")
    assert made.returncode == 0, made.stderr
    assert invoke("new-book", str(second), "A Third Book").returncode == 0
    identifiers = [re.search(r"^identifier: (urn:uuid:[0-9a-f-]{36})", (m / "book.yaml")
                             .read_text(), re.M).group(1) for m in (first, second)]
    assert identifiers[0] != identifiers[1]
    build = invoke("build", "--manuscript", str(first), "--out", str(tmp_path / "out"))
    assert build.returncode == 0, build.stderr
    with zipfile.ZipFile(tmp_path / "out" / "a-second-book.epub") as epub:
        opf = epub.read("EPUB/package.opf").decode()
    assert identifiers[0] in opf and "Ann Author" in opf
    assert "Introduction" in (first / "chapters" / "01-introduction.md").read_text()
    said = lint(type("Book", (), {"root": first})())
    assert codes(said) == ["P008", "P008"]  # the placeholders, and nothing else


def test_new_book_refuses_a_folder_that_holds_files(make_book):
    book = make_book()
    before = (book.root / "book.yaml").read_bytes()
    refused = invoke("new-book", str(book.root), "Over It")
    assert refused.returncode == 1
    assert f"{book.root}: M034 the folder for the new book is a file or already holds " \
        "files" in refused.stderr
    assert "nothing was written" in refused.stderr
    assert (book.root / "book.yaml").read_bytes() == before


@pytest.mark.parametrize("glossary", ["", "# no entries yet\n", "[]\n", None])
def test_an_empty_or_absent_glossary_is_valid(make_book, tmp_path, glossary):
    book = make_book()
    if glossary is None:
        book.remove("glossary.yaml")
    else:
        book.write("glossary.yaml", glossary)
    book.write("words.txt", "waypoint\n")  # a term no longer: the speller needs telling
    assert findings(lint(book)) == []
    build = invoke("epub", "--manuscript", str(book.root), "--out", str(tmp_path / "out"))
    assert build.returncode == 0, build.stderr
    with zipfile.ZipFile(tmp_path / "out" / "tiny-book.epub") as epub:
        assert not [n for n in epub.namelist() if "glossary" in n]  # no empty glossary page
