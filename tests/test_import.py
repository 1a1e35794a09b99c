"""invoke import: small books of each kind brought in through the real command, then built
with `invoke build` and checked with EPUBCheck; a re-import writes the same bytes."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import PROJECT
from press.check.validators import run_epubcheck
from press.problems import BuildError
from press.tools.importer import import_book
from press.tools.importer.kinds import guess

FIXTURES = PROJECT / "tests" / "fixtures" / "import"
SOURCES = {"single": FIXTURES / "single" / "book.md", "mdbook": FIXTURES / "mdbook",
           "quarto": FIXTURES / "quarto", "bookdown": FIXTURES / "bookdown",
           "pandoc": FIXTURES / "pandoc"}


def invoke(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "invoke", *args], cwd=PROJECT, text=True,
                          capture_output=True, env={**os.environ, "PYTHONPATH": str(PROJECT)})


def tree(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes()
            for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def imported(tmp_path_factory):
    """Each fixture book imported by `invoke import` (kind guessed) and built by `invoke build`."""
    done = {}
    for kind, source in SOURCES.items():
        base = tmp_path_factory.mktemp(kind)
        ran = invoke("import", str(source), str(base / "book"))
        assert ran.returncode == 0, ran.stdout + ran.stderr
        built = invoke("build", "--manuscript", str(base / "book"), "--out", str(base / "out"))
        assert built.returncode == 0, built.stdout + built.stderr
        done[kind] = (base / "book", base / "out", ran.stdout)
    return done


@pytest.mark.parametrize("kind", list(SOURCES))
def test_each_kind_imports_builds_and_passes_epubcheck(imported, kind):
    book, out, said = imported[kind]
    assert f"import   {kind}:" in said
    assert (next(out.glob("*.pdf"))).stat().st_size > 0
    report = run_epubcheck(next(out.glob("*.epub")))
    assert report.errors == () and report.warnings == ()
    assert (book / "glossary.yaml").read_text(encoding="utf-8").rstrip().endswith("[]")


def read(book: Path, name: str) -> str:
    return (book / name).read_text(encoding="utf-8")


def test_single_file_split_links_definitions_and_duplicate_ids(imported):
    book, _, said = imported["single"]
    config = read(book, "book.yaml")
    assert "front:\n  - front/preface.md" in config and "back:\n  - back/afterword.md" in config
    assert "creator: Ada Writer and Ben Coauthor" in config and "language: en-GB" in config
    # an implicit heading reference and a [text][Heading] link, each pointed at its file
    preface = read(book, "front/preface.md")
    assert "[Details](02-going-further.md#details)" in preface
    assert "[setup](01-getting-started.md)" in preface
    one, two = read(book, "chapters/01-getting-started.md"), read(book, "chapters/02-going-further.md")
    # the two "Summary" sections keep their source ids, so links mean the same place
    assert "## Summary {#summary}" in one and "## Summary {#summary-1}" in two
    assert "[the first summary](01-getting-started.md#summary)" in two
    assert "[this one](#summary-1)" in two
    # the definition and the footnote, written once at the end, reach both chapters
    for text in (one, two):
        assert '[man]: https://example.org/manual "The manual"' in text
        assert "[^first]: A footnote defined at the end,\n    with a second line." in text
    assert "![A diagram of the parts](images/figs/diagram.png)" in two
    assert (book / "images/figs/diagram.png").read_bytes() == \
        (FIXTURES / "single/figs/diagram.png").read_bytes()
    assert "1 front, 2 chapters, 1 back; 1 image(s) copied" in said


def test_mdbook_includes_parts_and_matter(imported):
    book, _, said = imported["mdbook"]
    listings = read(book, "chapters/03-listings.md")
    assert "{{#" not in listings
    whole = "```rust\n// ANCHOR: main\nfn main() {\n    println!(\"Hello\");\n}\n// ANCHOR_END: main\n```"
    ranged = "```rust\nfn main() {\n    println!(\"Hello\");\n```"
    anchored = "The anchor:\n\n```rust\nfn main() {\n    println!(\"Hello\");\n}\n```"
    assert whole in listings and ranged in listings and anchored in listings
    assert "Shared prose, from a file of the book." in listings
    config = read(book, "book.yaml")
    assert "front:\n  - front/introduction.md" in config
    assert "back:\n  - back/contributors.md" in config
    assert "  # Part: Basics\n  - chapters/01-getting-started.md" in config
    assert "  # Part: Advanced\n  - chapters/04-linking.md" in config
    linking = read(book, "chapters/04-linking.md")
    assert "[overview](01-getting-started.md#overview)" in linking
    assert "[start](introduction.md)" in linking and "[Linux](02-installing.md#on-linux)" in linking
    assert "![Ferris the crab](images/img/sub/ferris.png)" in read(book, "chapters/01-getting-started.md")
    assert "4 include(s) resolved" in said
    assert "mdbook/src/SUMMARY.md:5: R012 the part 'Basics'" in said


def test_quarto_parts_appendices_includes_and_chunks(imported):
    book, _, said = imported["quarto"]
    config = read(book, "book.yaml")
    assert "front:\n  - front/preface.md" in config and "back:\n  - back/extra-tables.md" in config
    assert "  # Part: Part One\n  - chapters/01-introduction.md" in config
    assert "  # Part: Part Two\n  - chapters/03-part-two.md\n  - chapters/04-results.md" in config
    intro = read(book, "chapters/01-introduction.md")
    assert intro.startswith('---\ntitle: "Introduction"\n---')  # the front matter's title
    assert "## Background {#background}" in intro  # its sections moved down a level
    assert "[Background](#background)" in intro and "[the data](02-methods.md#sec-data)" in intro
    assert "```python\n#| echo: false\nprint(1)\n```" in intro
    assert "[the data](02-methods.md#sec-data)" in read(book, "chapters/04-results.md")
    assert "Shared text, included from a file." in read(book, "chapters/02-methods.md")
    assert "quarto/intro.qmd:9: R016" in said


def test_bookdown_parts_appendix_chunks_and_shared_references(imported):
    book, _, said = imported["bookdown"]
    config = read(book, "book.yaml")
    assert "front:\n  - front/welcome.md" in config
    assert "  # Part: Analysis\n  - chapters/02-analysis.md" in config
    assert "back:\n  # Part: Appendix\n  - back/more-data.md" in config
    assert "[Introduction](01-introduction.md)" in read(book, "front/welcome.md")
    one, two = read(book, "chapters/01-introduction.md"), read(book, "chapters/02-analysis.md")
    assert "```r\nsummary(cars)\n```" in one
    assert "[r-project]: https://www.r-project.org" in two  # defined in the first chapter
    assert "[the introduction](01-introduction.md)" in two
    assert "[the first](01-introduction.md#summary)" in two
    assert "bookdown/01-intro.Rmd:9: R016 a {r} code chunk (cars, echo=FALSE)" in said


def test_pandoc_folder_split_and_shared_definitions(imported):
    book, _, said = imported["pandoc"]
    assert sorted(p.name for p in (book / "chapters").iterdir()) == \
        ["01-one.md", "02-two.md", "03-three.md"]
    assert "[shared]: https://example.org/shared" in read(book, "chapters/02-two.md")
    assert "See [Two](02-two.md)" in read(book, "chapters/01-one.md")
    assert "pandoc/README.md:1: R018" in said


@pytest.mark.parametrize("kind", list(SOURCES))
def test_reimport_of_an_unchanged_source_is_byte_identical(tmp_path, kind):
    first, second = tmp_path / "a", tmp_path / "b"
    import_book(SOURCES[kind], first)
    before = tree(first)
    import_book(SOURCES[kind], first)
    import_book(SOURCES[kind], second)
    assert tree(first) == before == tree(second)


def test_reimport_keeps_the_identifier_and_removes_stale_files(tmp_path):
    book = tmp_path / "book"
    import_book(SOURCES["pandoc"], book)
    config = book / "book.yaml"
    text = config.read_text(encoding="utf-8")
    ident = next(l for l in text.splitlines() if l.startswith("identifier:"))
    config.write_text(text.replace(ident, "identifier: urn:isbn:9780000000002"), encoding="utf-8")
    (book / "chapters/09-old.md").write_text("---\ntitle: Old\n---\n\nOld.\n", encoding="utf-8")
    import_book(SOURCES["pandoc"], book)
    assert "identifier: urn:isbn:9780000000002" in config.read_text(encoding="utf-8")
    assert not (book / "chapters/09-old.md").exists()


def test_kinds_are_guessed_from_their_files():
    assert {kind: guess(source) for kind, source in SOURCES.items()} == \
        {kind: kind for kind in SOURCES}


def test_an_include_outside_the_source_is_refused_at_its_line(tmp_path):
    source = tmp_path / "book"
    shutil.copytree(FIXTURES / "mdbook", source)
    (tmp_path / "secret.rs").write_text("fn secret() {}\n", encoding="utf-8")
    chapter = source / "src" / "ch03.md"
    chapter.write_text(chapter.read_text(encoding="utf-8") + "\n{{#include ../../secret.rs}}\n",
                       encoding="utf-8")
    ran = invoke("import", str(source), str(tmp_path / "out"))
    assert ran.returncode == 1
    assert "book/src/ch03.md:10: R005 the include '../../secret.rs' leads outside" in ran.stderr
    assert "nothing was written" in ran.stderr and not (tmp_path / "out").exists()


def test_what_press_cannot_take_is_reported_and_left_in_the_text(tmp_path):
    source = tmp_path / "notes.md"
    source.write_text("# One\n\nAs [@smith2020] says, see [nowhere](#missing).\n\n"
                      "+---+---+\n| a | b |\n+---+---+\n\n![](gone.png)\n\n"
                      "# Two\n\n#### Deep\n\n{{#include x.rs}}\n", encoding="utf-8")
    report = import_book(source, tmp_path / "book", "single")
    said = "\n".join(report.lines())
    for expected in ("notes.md:3: R018 a citation", "notes.md:3: R007 the link '#missing'",
                     "notes.md:5: R009 a grid table", "notes.md:9: R017", "notes.md:9: R008",
                     "notes.md:13: R013 the heading level skips from 1 to 4"):
        assert expected in said
    assert said.endswith("refused  5 of these (R007, R008, R009, R013, R017) stop `invoke build` "
                         "until they are rewritten")
    one = (tmp_path / "book/chapters/01-one.md").read_text(encoding="utf-8")
    assert "[@smith2020]" in one and "(#missing)" in one and "+---+---+" in one


def test_a_folder_with_other_files_is_refused(tmp_path):
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "thesis.tex").write_text("x", encoding="utf-8")
    with pytest.raises(BuildError) as caught:
        import_book(SOURCES["pandoc"], tmp_path / "out")
    assert [p.code for p in caught.value.problems] == ["R003"]
    assert (tmp_path / "out" / "thesis.tex").read_text(encoding="utf-8") == "x"
    shutil.copytree(PROJECT / "tests/fixtures/tiny", tmp_path / "written")
    with pytest.raises(BuildError) as written:  # a manuscript, but not an import: kept
        import_book(SOURCES["pandoc"], tmp_path / "written")
    assert [p.code for p in written.value.problems] == ["R003"]
    assert tree(tmp_path / "written") == tree(PROJECT / "tests/fixtures/tiny")
    with pytest.raises(BuildError) as inside:
        import_book(SOURCES["pandoc"], SOURCES["pandoc"] / "book")
    assert [p.code for p in inside.value.problems] == ["R004"]


def test_line_ranges_and_anchors_select_what_mdbook_selects():
    from press.tools.importer.model import Line
    from press.tools.importer.read import select_lines

    lines = [Line(t, "f", n) for n, t in enumerate(
        ["a", "// ANCHOR: x", "b", "// ANCHOR: y", "c", "// ANCHOR_END: y", "// ANCHOR_END: x"],
        1)]

    def texts(select):  # what follows "file:" in {{#include file:...}}
        got = select_lines(lines, select)
        return None if got is None else [l.text for l in got]

    assert texts("3") == ["b"] and texts(":2") == ["a", "// ANCHOR: x"]
    assert texts("6:") == ["// ANCHOR_END: y", "// ANCHOR_END: x"] and texts("3:5") == ["b", "// ANCHOR: y", "c"]
    assert texts("x") == ["b", "c"] and texts("y") == ["c"]  # anchor lines inside are dropped
    assert texts("z") is None and texts("9") is None and texts("5:3") is None


def test_an_include_that_cannot_be_resolved_is_left_and_reported(tmp_path):
    source = tmp_path / "book"
    shutil.copytree(FIXTURES / "mdbook", source)
    chapter = source / "src" / "ch03.md"
    chapter.write_text(chapter.read_text(encoding="utf-8") +
                       "\n{{#include ../listings/hello.rs:nowhere}}\n{{#include gone.rs}}\n",
                       encoding="utf-8")
    said = "\n".join(import_book(source, tmp_path / "out").lines())
    assert "book/src/ch03.md:10: R006 the include '../listings/hello.rs:nowhere'" in said
    assert "book/src/ch03.md:11: R006 the include 'gone.rs' is not a file" in said
    text = (tmp_path / "out/chapters/04-linking.md").read_text(encoding="utf-8")
    assert "{{#include ../listings/hello.rs:nowhere}}\n{{#include gone.rs}}" in text


def test_one_title_over_level_two_chapters_is_the_books_title(tmp_path):
    source = tmp_path / "manual.md"
    source.write_text("# The Manual\n\nAn opening.\n\n## First Steps\n\nSee [later](#more).\n\n"
                      "## More\n\n### Detail\n\n```sh\n## not a heading\n```\n", encoding="utf-8")
    import_book(source, tmp_path / "book")
    book = tmp_path / "book"
    assert "title: The Manual\n" in read(book, "book.yaml")
    assert read(book, "front/opening.md").endswith("---\n\nAn opening.\n")
    assert [p.name for p in sorted((book / "chapters").iterdir())] == \
        ["01-first-steps.md", "02-more.md"]
    assert "See [later](02-more.md)." in read(book, "chapters/01-first-steps.md")
    assert "## Detail\n\n```sh\n## not a heading\n```" in read(book, "chapters/02-more.md")


@pytest.mark.parametrize("files, where", [
    ({"book.toml": '[book]\ntitle = "x\n', "src/SUMMARY.md": "- [A](a.md)\n"}, "book.toml:2"),
    ({"_quarto.yml": "book:\n  chapters: [a.qmd\n"}, "_quarto.yml:3"),
    ({"_bookdown.yml": "rmd_files: [nope.Rmd]\n"}, "_bookdown.yml"),
])
def test_contents_that_cannot_be_read_stop_the_import(tmp_path, files, where):
    source = tmp_path / "src-book"
    for name, text in files.items():
        (source / name).parent.mkdir(parents=True, exist_ok=True)
        (source / name).write_text(text, encoding="utf-8")
    with pytest.raises(BuildError) as caught:
        import_book(source, tmp_path / "out")
    first = caught.value.problems[0]
    assert first.code == "R010" and f"{first.path}:{first.line}".startswith(f"src-book/{where}")
    assert not (tmp_path / "out").exists()


def test_files_titled_by_their_front_matter_keep_their_titles(tmp_path):
    """A folder of files written as press writes them (a title in front matter, ## sections)."""
    source = tmp_path / "notes"
    source.mkdir()
    (source / "a.md").write_text('---\ntitle: "First: the start"\n---\n\n## Section\n\nText.\n',
                                 encoding="utf-8")
    (source / "b.md").write_text("---\ntitle: Second\n---\n\nMore, see [a](a.md#section).\n",
                                 encoding="utf-8")
    import_book(source, tmp_path / "book")
    book = tmp_path / "book"
    assert read(book, "chapters/01-first-the-start.md").startswith(
        '---\ntitle: "First: the start"\n---\n\n## Section {#section}\n')
    assert "see [a](01-first-the-start.md#section)" in read(book, "chapters/02-second.md")
