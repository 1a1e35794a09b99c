"""The editor's loop: what a change affects, the polling watcher, and rebuilds that survive errors."""
from __future__ import annotations

import shutil
import threading

import pytest

from conftest import STYLES, quiet
from press.problems import BuildError
from press.live.loop import Rebuilder, Watcher, affected, report

FORMATS = ("pdf", "epub", "html")


@pytest.mark.parametrize("rel, outputs", [
    ("css/print.css", {"pdf"}),
    ("templates/print/book.html.j2", {"pdf"}),
    ("css/epub.css", {"epub"}),
    ("templates/epub/part.xhtml.j2", {"epub"}),
    ("css/screen.css", {"html"}),
    ("templates/html/part.html.j2", {"html"}),
    ("templates/shared/copyright.html.j2", {"pdf", "epub", "html"}),
])
def test_a_style_file_rebuilds_only_the_outputs_that_use_it(rel, outputs):
    assert affected([STYLES / rel], STYLES, FORMATS) == (False, outputs)
    assert affected([STYLES / rel], STYLES, ("html",)) == (False, outputs & {"html"})


def test_manuscript_and_fonts_rebuild_everything_from_the_start(tiny):
    assert affected([tiny / "chapters" / "01-alpha.md"], STYLES, FORMATS) == (True, set(FORMATS))
    assert affected([STYLES / "fonts.yaml"], STYLES, FORMATS) == (True, set(FORMATS))
    assert affected([STYLES / "css" / "print.css", tiny / "glossary.yaml"], STYLES,
                    ("pdf", "epub")) == (True, {"pdf", "epub"})


def wait(watcher: Watcher) -> set:
    """One watch; a watcher that never sees the change gives up after 10 s (and fails)."""
    give_up = threading.Event()
    timer = threading.Timer(10, give_up.set)
    timer.start()
    try:
        return watcher.wait(give_up)
    finally:
        timer.cancel()


def test_watcher_sees_edits_new_and_removed_files(make_book):
    book = make_book()
    watcher = Watcher([book.root], interval=0.02, settle=0.01)
    book.append("chapters/01-alpha.md", "\nMore.\n")
    assert wait(watcher) == {book.path("chapters/01-alpha.md")}
    book.write("chapters/03-gamma.md", "---\ntitle: Gamma\n---\n\nText.\n")
    book.remove("front/preface.md")
    assert wait(watcher) == {book.path("chapters/03-gamma.md"), book.path("front/preface.md")}


def test_watcher_ignores_editor_scratch_files(make_book):
    book = make_book()
    watcher = Watcher([book.root], interval=0.02, settle=0.01)
    book.write("chapters/.01-alpha.md.swp", "swap")
    book.write("chapters/01-alpha.md~", "backup")
    book.write("chapters/4913", "probe")
    book.append("glossary.yaml", "\n")
    assert wait(watcher) == {book.path("glossary.yaml")}


def test_stopped_watcher_returns_nothing(make_book):
    stop = threading.Event()
    stop.set()
    assert Watcher([make_book().root]).wait(stop) == set()


def test_rebuild_reports_problems_instead_of_raising_and_recovers(make_book, tmp_path):
    book = make_book()
    rebuilder = Rebuilder(book.root, STYLES, tmp_path / "out", ("html",), quiet)
    assert rebuilder.build().ok
    good = book.read("chapters/01-alpha.md")
    book.write("chapters/01-alpha.md", good.replace("short-title: Alpha", "short-title: A: b"))
    outcome = rebuilder.build({book.path("chapters/01-alpha.md")})
    assert not outcome.ok and outcome.changed == []
    problem = next(p for p in outcome.problems if p.code == "M003")
    assert str(problem.path).endswith("chapters/01-alpha.md")
    assert problem.line == book.line_of("chapters/01-alpha.md", "short-title: A: b")
    # The last good page is still there while the manuscript is broken.
    assert "hangs by the door" in (tmp_path / "out" / "html" / "alpha.html").read_text()
    book.write("chapters/01-alpha.md", good.replace("hangs by the door", "hangs by the gate"))
    outcome = rebuilder.build({book.path("chapters/01-alpha.md")})
    assert outcome.ok and outcome.changed == ["alpha.html"]
    assert "hangs by the gate" in (tmp_path / "out" / "html" / "alpha.html").read_text()


def test_a_broken_book_is_not_rebuilt_from_a_stale_copy(make_book, tmp_path):
    book = make_book()
    styles = tmp_path / "styles"
    shutil.copytree(STYLES, styles)
    rebuilder = Rebuilder(book.root, styles, tmp_path / "out", ("html",), quiet)
    rebuilder.build()
    book.write("book.yaml", "title: [\n")
    assert not rebuilder.build({book.path("book.yaml")}).ok
    # A style change alone must not hide the manuscript's error behind the old book.
    (styles / "css" / "screen.css").write_text("body { color: red; }\n")
    outcome = rebuilder.build({styles / "css" / "screen.css"})
    assert [p.code for p in outcome.problems] == ["M003"]


def test_template_error_names_the_template_and_line(make_book, tmp_path):
    book = make_book()
    styles = tmp_path / "styles"
    shutil.copytree(STYLES, styles)
    rebuilder = Rebuilder(book.root, styles, tmp_path / "out", ("html",), quiet)
    assert rebuilder.build().ok
    template = styles / "templates" / "html" / "part.html.j2"
    lines = template.read_text().splitlines()
    lines[4] += " {{ chapter.part.no_such_thing }}"
    template.write_text("\n".join(lines) + "\n")
    outcome = rebuilder.build({template})
    problem = outcome.problems[0]
    assert problem.code == "L001"
    assert problem.path.as_posix() == "styles/templates/html/part.html.j2" and problem.line == 5
    template.write_text("{% block main %}\n{{ unclosed\n")
    problem = rebuilder.build({template}).problems[0]
    assert problem.code == "L001" and problem.path.name == "part.html.j2" and problem.line == 2


def test_rebuild_of_pdf_and_epub_after_a_print_css_change_touches_only_the_pdf(make_book,
                                                                                 tmp_path):
    book = make_book()
    styles = tmp_path / "styles"
    shutil.copytree(STYLES, styles)
    rebuilder = Rebuilder(book.root, styles, tmp_path / "out", ("pdf", "epub"), quiet)
    first = rebuilder.build()
    assert first.ok and first.changed == ["tiny-book.pdf", "tiny-book.epub"]
    with (styles / "css" / "print.css").open("a") as css:
        css.write("\nh2 { letter-spacing: 0.01em; }\n")
    again = rebuilder.build({styles / "css" / "print.css"})
    assert again.ok and again.changed == ["tiny-book.pdf"]
    assert again.pandoc_runs == 0 and again.pandoc_hits == 0  # the book was not read again


def test_output_inside_the_manuscript_is_refused(make_book):
    book = make_book()
    with pytest.raises(BuildError) as caught:
        Rebuilder(book.root, STYLES, book.root / "build", ("html",), quiet)
    assert caught.value.problems[0].code == "S008"


def test_report_prints_every_problem_with_file_and_line(make_book, tmp_path):
    book = make_book({"glossary.yaml": "- term: x\n  definition: a: b\n"})
    outcome = Rebuilder(book.root, STYLES, tmp_path / "out", ("html",), quiet).build()
    said, warned = [], []
    report(outcome, said.append, warned.append)
    assert said == []
    assert any("glossary.yaml:2: M003 invalid YAML" in w for w in warned)
    assert "last good build is kept" in warned[-1]
