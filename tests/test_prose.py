"""Lint, prose: P001-P007 on small examples, silencing, and `invoke lint` on whole books."""
from __future__ import annotations

import subprocess
import sys
import zipfile


from conftest import PROJECT, STYLES, load_problems, only, quiet
from press.source.convert import markdown_to_html
from press.lint.run import format_problem, lint_manuscript
from press.pipeline import build_once
from press.lint.prose import Settings, check_text

CHAPTER = "chapters/01-alpha.md"
FRONT = '---\ntitle: "Alpha: The First Chapter"\nshort-title: Alpha\n---\n\n'


def findings(text: str, **settings) -> list:
    """Prose findings of one Markdown text, front matter included as in a real file."""
    from press.lint.run import blank_front_matter

    return check_text(blank_front_matter(FRONT + text), CHAPTER, Settings(**settings))


def where(problems, code: str) -> list[int]:
    """The lines of every finding with this code."""
    return [p.line for p in problems if p.code == code]


# The five rules: each fires, on the right line (front matter counted), and only there.

def test_p001_straight_quotes_when_the_source_is_typographic():
    text = "Plain “curly” and ‘single’ and it’s fine.\n\nSaid \"this\".\n\nThe dog's bone.\n"
    found = findings(text, quotes="typographic")
    assert where(found, "P001") == [8, 8, 10]  # the two ends of "this", the apostrophe
    assert all(p.severity == "warning" for p in found)
    assert where(findings(text), "P001") == []  # straight is the default source style


def test_p002_a_double_quote_smart_quotes_cannot_pair():
    text = 'Balanced "quotes" pass, and so do it\'s and \'single\'.\n\nA 5" screen.\n'
    found = findings(text)
    assert where(found, "P002") == [8]
    assert "“" in only(found, "P002").message
    assert where(findings(text, quotes="typographic"), "P002") == []  # P001's job there


def test_p003_double_spaces_between_words_but_not_a_hard_line_break():
    text = ("One  two.\nEnds with a hard break  \nnext line,\ta tab.\n\n"
            "Sentence.  Next sentence.\n")
    found = findings(text)
    assert where(found, "P003") == [6, 8, 10]
    assert [p.message for p in found if p.code == "P003"] == [
        "2 spaces between words", "a tab between words", "2 spaces between words"]


def test_p004_repeated_words_any_case_and_across_a_line_break():
    text = ("This is the the start.\nIt ends with the\nThe next line.\n\n"
            "Not repeated: end. End; a, a. But a a is.\n")
    found = findings(text)
    assert where(found, "P004") == [6, 8, 10]
    assert only(found[:1], "P004").message == "repeated word 'the'"


def test_p005_spelling_against_the_dictionary():
    found = findings("A recieve here.\n\nNations' and country's are possessives.\n\n"
                     "Long-lasting compounds pass; teh does not.\n")
    assert [(p.line, p.message) for p in found] == [
        (6, "unknown word 'recieve'"), (10, "unknown word 'teh'")]
    assert found[0].severity == "error" and "receive" in found[0].hint


def test_prose_means_what_pandoc_prints_as_text():
    """Code, raw HTML, URLs, link targets and attributes are never read as prose."""
    text = ("Code `teh  the the \"x` and <b title=\"a  b\">bold</b>.\n\n"
            "```\nteh  the the \"q\n```\n\n"
            "    indentd code teh\n\n"
            "See <https://exampel.org/teh> and [the link](https://exampel.org/teh \"Teh\").\n\n"
            "Term [lanterns]{.term key=\"lantern\"} and ![a map](images/mapp.png).\n\n"
            "<div class=\"teh\">raw  block</div>\n")
    assert findings(text) == []


def test_image_alt_text_and_footnotes_are_prose():
    found = findings("Text ![a recieve map](x.png) here.[^1]\n\n[^1]: Note  teh.\n")
    assert sorted((p.line, p.code) for p in found) == [(6, "P005"), (8, "P003"), (8, "P005")]


# Silencing: on a line, on the line before, for the whole book; and its own checks.

def test_a_lint_comment_silences_its_line_and_the_next():
    text = ("Same line the the end. <!-- lint: ignore P004 -->\n\n"
            "<!-- lint: ignore P003, P005 -->\n"
            "Next  line teh.\n\n"
            "Further  teh.\n")
    found = findings(text)
    assert [(p.line, p.code) for p in found] == [(11, "P003"), (11, "P005")]


def test_an_idle_or_unreadable_lint_comment_is_reported():
    text = ("Fine text. <!-- lint: ignore P004 -->\n\n"
            "<!-- lint: ignore P042 -->\n\n"
            "<!-- lint: please -->\n\n"
            "<!-- an ordinary comment -->\n")
    found = findings(text)
    assert [(p.line, p.code, p.severity) for p in found] == [
        (6, "P006", "warning"), (8, "P007", "error"), (10, "P007", "error")]


def test_book_wide_ignore_in_book_yaml(make_book):
    book = make_book()
    book.append(CHAPTER, "\nOne  two teh.\n")
    codes = {p.code for p in lint_manuscript(book.root, STYLES).problems}
    assert codes == {"P003", "P005"}
    book.append("book.yaml", "lint:\n  ignore: [P003]\n")
    report = lint_manuscript(book.root, STYLES)
    assert [p.code for p in report.problems] == ["P005"]


def test_book_yaml_lint_key_is_validated_with_lines(make_book):
    book = make_book()
    book.append("book.yaml", "lint:\n  ignore:\n    - P003\n    - P099\n  quotes: fancy\n"
                             "  ignroe: []\n")
    problems = load_problems(book.root)
    assert only(problems, "P007").line == book.line_of("book.yaml", "P099")
    assert "P099" in only(problems, "P007").message
    assert only(problems, "M005").line == book.line_of("book.yaml", "quotes: fancy")
    assert only(problems, "M004").message == "unknown key 'lint.ignroe'"


def test_lint_comments_never_reach_the_outputs(make_book, tmp_path):
    assert "lint" not in markdown_to_html("Text <!-- lint: ignore P004 --> the the.\n\n"
                                          "<!-- lint: ignore P003 -->\nA  b.\n")
    book = make_book()
    book.append(CHAPTER, "\nThe the end. <!-- lint: ignore P004 -->\n\n"
                         "<!-- lint: ignore P003 -->\nTwo  spaces.\n")
    assert lint_manuscript(book.root, STYLES).problems == ()
    epub = build_once(book.root, tmp_path, formats=("epub",), log=quiet)[0]
    with zipfile.ZipFile(epub) as archive:
        text = archive.read("EPUB/alpha.xhtml").decode()  # the chapter's content document
    assert "Two" in text and "The the end." in text
    assert "lint" not in text and "<!--" not in text and "wrapper" not in text


def test_word_list_glossary_and_names_are_known(make_book):
    book = make_book()
    book.append(CHAPTER, "\nZorblat and Quuxian, lanterns, Fixture and Tiny.\n")
    found = lint_manuscript(book.root, STYLES).problems
    assert [p.message for p in found] == ["unknown word 'Zorblat'", "unknown word 'Quuxian'"]
    book.write("words.txt", "# project words\nzorblat   # a made-up word\nQUUXIAN\n")
    assert lint_manuscript(book.root, STYLES).problems == ()


# invoke lint: the whole manuscript, every stage, one report.

def run_lint(manuscript) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "invoke", "lint", "--manuscript",
                           str(manuscript)], cwd=PROJECT, capture_output=True, text=True)


def test_invoke_lint_passes_on_the_primer():
    result = run_lint(PROJECT / "manuscript")
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.startswith("lint     no problems (3 Markdown files read)")


def test_invoke_lint_lists_every_stage_together_in_order(make_book):
    book = make_book()
    book.replace(CHAPTER, "We walk along the ridge line.",
                 "We walk along the the ridge line to [nowhere](#missing). "
                 "Teh [x]{.term key=\"nope\"}.")
    book.append("chapters/02-beta.md", "\nOne  two.\n")
    line = book.line_of(CHAPTER, "nowhere")
    result = run_lint(book.root)
    assert result.returncode == 1
    lines = [x for x in result.stdout.splitlines() if not x.startswith(("    hint", "lint "))]
    assert lines == [
        f"manuscript/{CHAPTER}:{line}: G002 error: glossary key 'nope' names no entry",
        f"manuscript/{CHAPTER}:{line}: M016 error: broken cross-reference '#missing'",
        f"manuscript/{CHAPTER}:{line}: P004 warning: repeated word 'the'",
        f"manuscript/{CHAPTER}:{line}: P005 error: unknown word 'Teh'",
        f"manuscript/chapters/02-beta.md:{book.line_of('chapters/02-beta.md', 'One')}: "
        "P003 warning: 2 spaces between words"]
    assert "lint     3 errors, 2 warnings in 2 files" in result.stdout


def test_warnings_alone_exit_zero(make_book):
    book = make_book()
    book.append(CHAPTER, "\nOne  two.\n")
    result = run_lint(book.root)
    assert result.returncode == 0
    assert "P003 warning" in result.stdout and "0 errors, 1 warning" in result.stdout


def test_prose_is_still_checked_when_the_book_does_not_load(make_book):
    book = make_book()
    book.append(CHAPTER, "\nTeh end.\n")
    book.append("book.yaml", "colour: blue\n")
    report = lint_manuscript(book.root, STYLES)
    assert [p.code for p in report.problems] == ["M004", "P005"]
    assert report.files == 3 and report.errors == 2
    assert format_problem(report.problems[1]).startswith(
        f"manuscript/{CHAPTER}:{book.line_of(CHAPTER, 'Teh end')}: P005 error: ")
