"""Warm rebuilds: one process builds, the manuscript changes, the same process builds again.

Whatever a warm process keeps from its earlier builds (press/memo.py, press/parts.py,
the render and EPUB caches), the rebuild must give exactly the files a cold build of the
changed manuscript gives: the same EPUB bytes, PDF bytes and screen-edition files. Each
case changes something other parts depend on (a title, a heading id, a glossary term, a
term use that renumbers later ones) and also checks that the change reached them.
"""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from lxml import html

from conftest import PROJECT, quiet
from press import pipeline
from press.workspace import Workspace

FORMATS = ("pdf", "epub", "html")
GAMMA = """---
title: Gamma
---

Gamma points back at [beta's section](02-beta.md#shared-name) and at
[alpha's heading](01-alpha.md#some-heading-id).

## Detail

Nothing links here.
"""


def cold_build(manuscript: Path, out: Path) -> None:
    """A build in a fresh process, with an empty output folder: nothing kept."""
    code = ("import sys; from pathlib import Path; from press.pipeline import build_once; "
            "build_once(Path(sys.argv[1]), Path(sys.argv[2]), formats=tuple(sys.argv[3:]), "
            "log=lambda *a: None)")
    subprocess.run([sys.executable, "-c", code, str(manuscript), str(out), *FORMATS],
                   check=True, cwd=PROJECT)


def files(out: Path) -> dict[str, bytes]:
    """Every output a reader gets: the PDF, the EPUB and the screen edition's files."""
    found = {p.name: p.read_bytes() for p in out.glob("*.pdf")}
    found |= {p.name: p.read_bytes() for p in out.glob("*.epub")}
    found |= {p.relative_to(out).as_posix(): p.read_bytes()
              for p in (out / "html").rglob("*") if p.is_file()}
    return found


def assert_same(warm: Path, cold: Path) -> None:
    ours, theirs = files(warm), files(cold)
    assert sorted(ours) == sorted(theirs)
    different = [name for name in ours if ours[name] != theirs[name]]
    assert not different, f"warm and cold builds differ in {different}"


def epub_text(out: Path, name: str) -> str:
    import zipfile

    with zipfile.ZipFile(next(out.glob("*.epub"))) as epub:
        return epub.read(f"EPUB/{name}").decode("utf-8")


SPACES: dict[Path, Workspace] = {}  # this test's warm workspaces, one per output folder


def build(manuscript: Path, out: Path, formats, log=print):
    """A build in this test's one warm process: a workspace per output folder, as the
    editor's loop keeps one."""
    ws = SPACES.get(out) or SPACES.setdefault(out, Workspace(out, warm=True))
    return pipeline.build(ws, manuscript, formats, log=log)


@pytest.fixture(autouse=True)
def warm_process():
    """Each test is one warm process: its workspaces are closed when it ends."""
    yield
    for ws in SPACES.values():
        ws.close()
    SPACES.clear()


@pytest.fixture
def book(make_book):
    """The tiny book with a third chapter that links into the other two."""
    copy = make_book({"chapters/03-gamma.md": GAMMA})
    copy.replace("book.yaml", "  - chapters/02-beta.md\n",
                 "  - chapters/02-beta.md\n  - chapters/03-gamma.md\n")
    return copy


def rebuild_and_compare(book, tmp_path, change) -> Path:
    """Build warm, change the manuscript, build again in this process; compare with cold."""
    warm = tmp_path / "warm"
    build(book.root, warm, formats=FORMATS, log=quiet)
    change(book)
    build(book.root, warm, formats=FORMATS, log=quiet)
    cold = tmp_path / "cold"
    cold_build(book.root, cold)
    assert_same(warm, cold)
    return warm


def test_one_paragraph_edited(book, tmp_path):
    out = rebuild_and_compare(book, tmp_path, lambda b: b.replace(
        "chapters/02-beta.md", "Beta begins;", "Beta starts;"))
    assert "Beta starts;" in (out / "html" / "beta.html").read_text(encoding="utf-8")


def test_chapter_title_reaches_contents_nav_and_neighbours(book, tmp_path):
    out = rebuild_and_compare(book, tmp_path, lambda b: b.replace(
        "chapters/02-beta.md", "title: Beta, the Second", "title: Beta Renamed"))
    assert "2. Beta Renamed" in epub_text(out, "nav.xhtml")
    index = (out / "html" / "index.html").read_text(encoding="utf-8")
    assert "Beta Renamed" in index and "Beta, the Second" not in index
    # The pages before and after name it in their pager.
    assert "Beta Renamed" in (out / "html" / "alpha.html").read_text(encoding="utf-8")
    assert "Beta Renamed" in (out / "html" / "gamma.html").read_text(encoding="utf-8")


def test_heading_renamed_in_one_chapter_moves_ids_and_links_in_others(book, tmp_path):
    # Alpha's "Shared Name" takes the id shared-name, so beta's becomes beta-shared-name,
    # and both beta's own link and gamma's link point there. Renaming alpha's heading
    # frees the id: beta's heading and the links to it (in unchanged files) follow.
    before = tmp_path / "before"
    build(book.root, before, formats=("html",), log=quiet)
    assert 'href="beta.html#beta-shared-name"' in (before / "html" / "gamma.html").read_text(
        encoding="utf-8")
    out = rebuild_and_compare(book, tmp_path, lambda b: b.replace(
        "chapters/01-alpha.md", "## Shared Name", "## Closing Words"))
    gamma = (out / "html" / "gamma.html").read_text(encoding="utf-8")
    assert 'href="beta.html#shared-name"' in gamma
    assert 'href="beta.xhtml#shared-name"' in epub_text(out, "gamma.xhtml")
    beta = html.fromstring((out / "html" / "beta.html").read_bytes())
    assert beta.get_element_by_id("shared-name").text_content().strip() == "Shared Name"


def test_heading_renamed_frees_an_id_in_a_chapter_nothing_links_to(book, tmp_path):
    # Alpha's "### Detail" has the id detail, so gamma's "## Detail" is gamma-detail.
    out = rebuild_and_compare(book, tmp_path, lambda b: b.replace(
        "chapters/01-alpha.md", "### Detail", "### Particulars"))
    gamma = html.fromstring((out / "html" / "gamma.html").read_bytes())
    assert gamma.get_element_by_id("detail").text_content().strip() == "Detail"
    assert 'href="gamma.xhtml#detail"' in epub_text(out, "nav.xhtml")


def test_glossary_term_renamed_relinks_every_chapter(book, tmp_path):
    def rename(b):
        b.replace("glossary.yaml", "- term: ridge line\n  variants: [ridge lines]",
                  "- term: ridge\n  variants: [ridge line, ridge lines]")
        b.replace("glossary.yaml", "see: [lantern, ridge line]", "see: [lantern, ridge]")

    out = rebuild_and_compare(book, tmp_path, rename)
    for page in ("alpha.html", "beta.html"):
        text = (out / "html" / page).read_text(encoding="utf-8")
        assert 'href="glossary.html#gl-ridge"' in text and "gl-ridge-line" not in text
    assert 'href="glossary.xhtml#gl-ridge"' in epub_text(out, "beta.xhtml")


def test_glossary_variant_added_links_a_chapter_that_did_not_change(book, tmp_path):
    out = rebuild_and_compare(book, tmp_path, lambda b: b.replace(
        "glossary.yaml", "- term: waypoint\n", "- term: waypoint\n  variants: [turn]\n"))
    alpha = (out / "html" / "alpha.html").read_text(encoding="utf-8")
    assert 'id="t-waypoint-2"' in alpha  # "the turn", after "A waypoint"


def test_term_use_added_renumbers_later_chapters_and_back_references(book, tmp_path):
    out = rebuild_and_compare(book, tmp_path, lambda b: b.replace(
        "chapters/01-alpha.md", "Alpha ends here.", "Alpha ends here, lantern and all."))
    beta = (out / "html" / "beta.html").read_text(encoding="utf-8")
    assert 'id="t-lantern-3"' in beta  # was the second use of the book, now the third
    glossary = epub_text(out, "glossary.xhtml")
    assert "beta.xhtml#t-lantern-3" in glossary and "alpha.xhtml#t-lantern-2" in glossary


def test_chapters_reordered(book, tmp_path):
    out = rebuild_and_compare(book, tmp_path, lambda b: b.replace(
        "book.yaml", "  - chapters/01-alpha.md\n  - chapters/02-beta.md\n",
        "  - chapters/02-beta.md\n  - chapters/01-alpha.md\n"))
    # Beta now comes first and keeps the plain id; alpha's heading steps aside.
    alpha = html.fromstring((out / "html" / "alpha.html").read_bytes())
    assert alpha.get_element_by_id("alpha-shared-name") is not None


def test_book_title_reaches_every_page(book, tmp_path):
    out = rebuild_and_compare(book, tmp_path, lambda b: b.replace(
        "book.yaml", "title: Tiny Book", "title: Tiny Book Two"))
    for page in (out / "html").glob("*.html"):
        assert "Tiny Book Two" in page.read_text(encoding="utf-8")


def test_definition_edited(book, tmp_path):
    out = rebuild_and_compare(book, tmp_path, lambda b: b.replace(
        "glossary.yaml", "A portable light", "A small portable light"))
    assert "A small portable light" in epub_text(out, "glossary.xhtml")


def test_failed_rebuild_then_fixed(book, tmp_path):
    from press.problems import BuildError

    def break_then_fix(b):
        b.replace("chapters/03-gamma.md", "#shared-name", "#no-such-place")
        with pytest.raises(BuildError):
            build(b.root, tmp_path / "warm", formats=FORMATS, log=quiet)
        b.replace("chapters/03-gamma.md", "#no-such-place", "#beta-detail")

    out = rebuild_and_compare(book, tmp_path, break_then_fix)
    assert 'href="beta.xhtml#beta-detail"' in epub_text(out, "gamma.xhtml")


def test_each_format_built_alone_after_an_edit(book, tmp_path):
    """As the editor's loop and the benchmark do: one format per build."""
    warm = tmp_path / "warm"
    build(book.root, warm, formats=FORMATS, log=quiet)
    book.replace("chapters/01-alpha.md", "We walk along", "We stroll along")
    for fmt in ("html", "epub", "pdf"):
        build(book.root, warm, formats=(fmt,), log=quiet)
    cold = tmp_path / "cold"
    cold_build(book.root, cold)
    # The EPUB built before the PDF has no page list (the print layout it would come from
    # changed); build it again now that the PDF is new, as invoke build would.
    build(book.root, warm, formats=("epub",), log=quiet)
    assert_same(warm, cold)


def test_kept_results_are_not_changed_by_a_build(book, tmp_path):
    """What the caches hand out is shared between builds: two warm builds in a row of an
    unchanged book give the same bytes, and the same as the first."""
    out = tmp_path / "warm"
    build(book.root, out, formats=FORMATS, log=quiet)
    first = files(out)
    for _ in range(2):
        build(book.root, out, formats=FORMATS, log=quiet)
        assert files(out) == first


INDEX_YAML = """entries:
  - term: ridge
    see-also: [lantern]
  - term: lantern
  - term: gamma
"""


@pytest.fixture
def indexed(book):
    """The book with an index: marks in alpha, beta and gamma, a passage, a subentry."""
    book.replace("book.yaml", "  - glossary\n", "  - glossary\n  - index\n")
    book.write("index.yaml", INDEX_YAML)
    book.replace("chapters/01-alpha.md", "The lantern hangs", "The [lantern]{.index} hangs")
    book.replace("chapters/01-alpha.md", "along the ridge line.",
                 "along the [ridge]{.index} line.")
    book.replace("chapters/02-beta.md", "Beta begins;",
                 "[]{.index-start key=\"ridge!walks\"}Beta begins;[]{.index-end "
                 "key=\"ridge!walks\"} [The lantern]{.index key=\"lantern\"}.")
    book.replace("chapters/03-gamma.md", "Nothing links here.",
                 "Nothing links here, [gamma]{.index} aside.")
    return book


def index_pages(out: Path) -> list[str]:
    """The screen of the print index: its text, from the PDF."""
    from pypdf import PdfReader

    reader = PdfReader(next(out.glob("*.pdf")))
    texts = [page.extract_text() for page in reader.pages]
    start = max(i for i, t in enumerate(texts) if t.strip().startswith("Index"))
    return texts[start:]


def test_marked_chapter_grows_and_the_index_follows(indexed, tmp_path):
    """A marked chapter gets two pages longer: its later marks and every later chapter's
    move, and the index (print pages, EPUB labels) says where they went."""
    filler = "\n\n".join(["Filler text to push the ridge onward. " * 30] * 6)
    before = []

    def change(b):
        before.append("\n".join(index_pages(tmp_path / "warm")))
        b.replace("chapters/01-alpha.md", "## Some Heading", f"{filler}\n\n## Some Heading")
    out = rebuild_and_compare(indexed, tmp_path, change)
    text = "\n".join(index_pages(out))
    assert "gamma," in text and "See also lantern" in text
    assert text != before[0]  # the numbers moved with the marks
    label = epub_text(out, "index.xhtml")
    assert 'epub:type="index-locator"' in label


def test_marks_added_and_removed_warm(indexed, tmp_path):
    def change(b):
        b.replace("chapters/03-gamma.md", "[gamma]{.index} aside.", "gamma aside.")
        b.replace("chapters/02-beta.md", "Beta begins;", "Beta begins, a [gamma]{.index};")
    out = rebuild_and_compare(indexed, tmp_path, change)
    assert "beta.xhtml#ix-beta-" in epub_text(out, "index.xhtml")
