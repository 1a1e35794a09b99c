"""The back-of-book index: marks, index.yaml, sorting, lint codes, and the primer's index
read back from the real PDF (every number is the page its mark is on) and the real EPUB
(every locator lands on its mark)."""
from __future__ import annotations

import re
import subprocess
import zipfile
from pathlib import Path

import pytest
from lxml import etree
from pypdf import PdfReader

from press.enrich.index import page_runs, sort_key
from press.pipeline import PROJECT, build_once, prepare
from press.problems import BuildError
from press.workspace import Workspace

BOOK = """title: Index Test
creator: Fixture Press
language: en
identifier: urn:uuid:00000000-0000-4000-8000-000000000017
date: 2026-01-01
rights: Test only.
chapters: [chapters/01-one.md, chapters/02-two.md]
back: [glossary, index]
"""
ONE = """Leaders met at the [summit]{.index} in spring. Its [hosts]{.index key="summit"} were
generous, and a [regional meeting]{.index key="summit!regional"} followed.

[]{.index-start key="trade"}Trade grew. It grew again.[]{.index-end key="trade"}

The city of [Évora]{.index} and [St. Albans]{.index key="St. Albans"} and [1848]{.index}
and [Zagreb]{.index} and [apple]{.index}.
"""
TWO = """A second [summit]{.index} took place; [Évora]{.index} again, [1848]{.index} again,
[Zagreb]{.index} and [apple]{.index}, and a [regional meeting]{.index key="summit!regional"}.
"""
INDEX = """entries:
  - term: summit
    see-also: [trade]
  - term: meetings
    see: [summit]
  - term: St. Albans
    sort: Saint Albans
  - term: trade
"""


def write_book(tmp_path: Path, one: str = ONE, two: str = TWO, index: str | None = INDEX,
               glossary: str = "", book: str = BOOK) -> Path:
    root = tmp_path / "manuscript"
    (root / "chapters").mkdir(parents=True)
    (root / "book.yaml").write_text(book, encoding="utf-8")
    for name, title, text in (("01-one.md", "One", one), ("02-two.md", "Two", two)):
        (root / "chapters" / name).write_text(f"---\ntitle: {title}\n---\n\n{text}\n",
                                              encoding="utf-8")
    if index is not None:
        (root / "index.yaml").write_text(index, encoding="utf-8")
    if glossary:
        (root / "glossary.yaml").write_text(glossary, encoding="utf-8")
    return root


def prepared(root: Path):
    return prepare(Workspace(None), root, PROJECT / "styles", log=lambda *a: None)


def entries(p) -> dict:
    return {e.key: e for g in p.index for top in g.entries for e in (top, *top.subentries)}


def codes(error: BuildError) -> set[tuple[str, str, int | None]]:
    return {(p.code, Path(p.path).name, p.line) for p in error.problems}


def test_marks_keys_subentries_passages_and_cross_references(tmp_path):
    p = prepared(write_book(tmp_path))
    found = entries(p)
    assert [loc.part.slug for loc in found["summit"].locators] == ["one", "one", "two"]
    assert [s.term for s in found["summit"].subentries] == ["regional"]
    assert len(found["summit!regional"].locators) == 2
    (trade,) = found["trade"].locators
    assert trade.end and trade.end != trade.id  # a passage: from its start to its end mark
    assert [x.label for x in found["summit"].see_also] == ["trade"]
    assert [x.id for x in found["meetings"].see] == [found["summit"].id]
    html = p.chapters[0].html
    for loc in found["summit"].locators[:2]:
        assert f'id="{loc.id}"' in html  # each mark is an anchor in the text
    assert "data-key" not in html and "Leaders met at the" in html


def test_sorted_ignoring_case_and_accents_numbers_first_st_as_saint(tmp_path):
    p = prepared(write_book(tmp_path))
    letters = [g.letter for g in p.index]
    assert letters[0] == "Numbers and symbols" and letters[1:] == sorted(letters[1:])
    order = [e.term for g in p.index for e in g.entries]
    assert order.index("apple") < order.index("Évora") < order.index("meetings") \
        < order.index("St. Albans") < order.index("summit") < order.index("Zagreb")
    assert sort_key("Zürich") < sort_key("Zurzach")  # ü sorts as u, case aside
    assert sort_key("item 9") < sort_key("item 10")  # numbers by value


def test_page_runs_collapse_consecutive_pages_and_keep_a_link_at_each_end():
    runs = page_runs([(4, "5", "a"), (5, "6", None), (6, "7", "b"), (9, "10", "c"),
                      (9, "10", "d"), (2, "3", None), (2, "3", "e")])
    assert runs == (("3", "e", None, None), ("5", "a", "7", "b"), ("10", "c", None, None))


def test_lint_codes_with_file_and_line(tmp_path):
    one = ONE + """
## A [heading mark]{.index} here

[Sumit]{.index} once, a [Trade routes]{.index}, []{.index-start key="open"} and
[]{.index-end key="never opened"} and []{.index key="x!"}, [trade routes]{.index},
[]{.index key="a!b!c"}.
"""
    index = INDEX + """  - term: meetings
    see: [nowhere]
  - term: unused
"""
    with pytest.raises(BuildError) as caught:
        prepared(write_book(tmp_path, one=one, index=index))
    found = codes(caught.value)
    assert ("I004", "01-one.md", 13) in found  # inside a heading
    assert ("I001", "01-one.md", 15) in found  # "Sumit": marked once, a typo
    assert ("I003", "01-one.md", 15) in found  # "trade routes": case only (its paragraph)
    assert ("I005", "01-one.md", 15) in found  # "open" never ends
    assert ("I005", "01-one.md", 15) in found  # "never opened" never started
    assert ("I006", "01-one.md", 15) in found  # an empty level, and three levels
    assert sum(p.code == "I006" for p in caught.value.problems) == 2
    assert ("I008", "index.yaml", 9) in found  # "meetings" twice
    assert ("I002", "index.yaml", 9) in found  # see: a heading that is no entry
    assert ("I007", "index.yaml", 11) in found  # declared, never marked
    severities = {p.code: p.severity for p in caught.value.problems}
    assert severities["I001"] == "warning" and severities["I005"] == "error"


def test_index_yaml_is_validated_like_the_glossary(tmp_path):
    bad = """find: yes please
entries:
  - term: summit
    colour: blue
  - sort: x
  - just text
"""
    with pytest.raises(BuildError) as caught:
        prepared(write_book(tmp_path, index=bad))
    assert {("M005", "index.yaml", 1), ("M004", "index.yaml", 4), ("M006", "index.yaml", 5),
            ("M005", "index.yaml", 6)} <= codes(caught.value)


def test_found_terms_whole_words_longest_first_never_in_headings_or_links(tmp_path):
    one = """## Trade routes

Trade routes and trade grew; [trade](https://example.org) no; traders no;
[trade]{.noindex} no; TRADE ROUTES yes.
"""
    index = """entries:
  - term: trade
    find: true
  - term: trade routes
    find: true
"""
    p = prepared(write_book(tmp_path, one=one, two="Nothing here.", index=index))
    found = entries(p)
    assert len(found["trade routes"].locators) == 2  # the heading is never marked
    assert len(found["trade"].locators) == 1  # not the link, "traders" or the noindex span


def test_glossary_terms_feed_the_index(tmp_path):
    glossary = """- term: ballot
  variants: [ballots]
  definition: A vote.
"""
    index = "glossary: true\nentries: []\n"
    p = prepared(write_book(tmp_path, one="Ballots were cast; one ballot lost.",
                            two="No ballot.", index=index, glossary=glossary))
    assert len(entries(p)["ballot"].locators) == 3


# ---------------------------------------------------------------- the primer, end to end

@pytest.fixture(scope="module")
def primer(tmp_path_factory):
    out = tmp_path_factory.mktemp("primer-index")
    pdf, epub = build_once(PROJECT / "manuscript", out, log=lambda *a: None)
    return pdf, epub


def words_on(pdf: Path, index: int) -> list[tuple[float, float, float, float, str]]:
    """The words of one page with their boxes, top-left origin (pdftotext -bbox)."""
    out = subprocess.run(["pdftotext", "-bbox", "-f", str(index + 1), "-l", str(index + 1),
                          str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    return [(float(a), float(b), float(c), float(d), w) for a, b, c, d, w in re.findall(
        r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">([^<]*)</word>',
        out)]


def index_links(pdf: Path, reader: PdfReader):
    """(shown text, target id) of every link on the index's pages."""
    first = next(i for i, page in enumerate(reader.pages)
                 if page.extract_text().strip().startswith("Index"))
    found = []
    for n in range(first, len(reader.pages)):
        page, words = reader.pages[n], words_on(pdf, n)
        height = float(page.mediabox.height)
        for annot in page.get("/Annots", []):
            annot = annot.get_object()
            if annot.get("/Subtype") != "/Link" or "/Dest" not in annot:
                continue
            x1, y1, x2, y2 = map(float, annot["/Rect"])
            top, bottom = height - max(y1, y2), height - min(y1, y2)
            left, right = min(x1, x2), max(x1, x2)
            shown = []
            for a, b, c, d, w in words:
                if not top - 1 <= (b + d) / 2 <= bottom + 1 or c <= left or a >= right:
                    continue
                if "\u2013" in w:  # a range is one word: its start or its end is the link
                    w = w.split("\u2013")[0 if left <= a + 1 else -1]
                elif a < left - 1:
                    continue
                shown.append(w)
            text = " ".join(shown)
            found.append((text.strip(",.;"), str(annot["/Dest"])))
    return found


def test_primer_index_numbers_are_the_pages_of_their_marks(primer):
    pdf = primer[0]
    reader = PdfReader(pdf)
    dests = reader.named_destinations
    labels = reader.page_labels
    links = index_links(pdf, reader)
    locators = [(text, target) for text, target in links if target.startswith("ix-")
                and not target.startswith(("ix-e-", "ix-g-"))]
    assert len(locators) >= 40
    for text, target in locators:
        page = reader.get_destination_page_number(dests[target])
        assert text == labels[page], f"index says {text} for {target}, it is on {labels[page]}"
    # Every mark's page is in the index (at a run's end, or inside a range).
    marked = {labels[reader.get_destination_page_number(d)] for n, d in dests.items()
              if re.fullmatch(r"ix-[a-z-]+-\d+", n)}
    text = "\n".join(page.extract_text() for page in reader.pages if "Index" in
                     page.extract_text()[:40] or "See" in page.extract_text())
    covered = {t for t, _ in locators}
    for start, end in re.findall(r"(\d+)\u2013(\d+)", text):
        covered |= {str(n) for n in range(int(start), int(end) + 1)}
    assert marked <= covered, marked - covered
    # Ranges and cross-references, set as the Chicago Manual sets them.
    assert re.search(r"defense diplomacy, 1\u2013\d", text)
    assert "See also" in text and "See strategic alliances" in text
    xrefs = [target for _, target in links if target.startswith("ix-e-")]
    assert xrefs and all(target in dests for target in xrefs)


def test_primer_epub_index_links_land_on_the_marks(primer):
    ns = {"x": "http://www.w3.org/1999/xhtml", "epub": "http://www.idpf.org/2007/ops"}
    with zipfile.ZipFile(primer[1]) as archive:
        files = {n: archive.read(n) for n in archive.namelist()}
    index = etree.fromstring(files["EPUB/index.xhtml"])
    section = index.find(".//x:section[@epub:type='index']", ns)
    assert section is not None and section.get("role") == "doc-index"
    kinds = {el.get(f"{{{ns['epub']}}}type") for el in index.iter()}
    assert {"index-group", "index-entry-list", "index-entry", "index-term",
            "index-locator", "index-xref-related", "index-xref-preferred"} <= kinds
    reader = PdfReader(primer[0])
    labels, dests = reader.page_labels, reader.named_destinations
    locators = index.findall(".//x:a[@epub:type='index-locator']", ns)
    assert len(locators) >= 40
    for a in locators:
        href, _, target = a.get("href").partition("#")
        doc = etree.fromstring(files[f"EPUB/{href}"])
        mark = doc.find(f".//*[@id='{target}']")
        assert mark is not None and "index" in mark.get("class", ""), a.get("href")
        # Labelled with the print page the mark is on.
        assert a.text == labels[reader.get_destination_page_number(dests[target])]
    nav = etree.fromstring(files["EPUB/nav.xhtml"])
    marks = nav.find(".//x:nav[@epub:type='landmarks']", ns)
    assert "index" in {a.get(f"{{{ns['epub']}}}type") for a in marks.iterfind(".//x:a", ns)}


def test_an_epub_without_a_print_layout_labels_locators_by_chapter(tmp_path):
    root = write_book(tmp_path)
    (epub,) = build_once(root, tmp_path / "out", formats=("epub",), log=lambda *a: None)
    with zipfile.ZipFile(epub) as archive:
        text = archive.read("EPUB/index.xhtml").decode("utf-8")
    assert re.search(r'<a epub:type="index-locator" href="one.xhtml#ix-one-\d+">Chapter 1</a>',
                     text)


def test_screen_edition_has_the_index_page(tmp_path):
    root = write_book(tmp_path)
    build_once(root, tmp_path / "out", formats=("html",), log=lambda *a: None)
    page = (tmp_path / "out" / "html" / "book-index.html").read_text(encoding="utf-8")
    assert 'role="doc-index"' in page and 'href="one.html#ix-one-1"' in page
    assert 'href="book-index.html"' in (tmp_path / "out" / "html" / "one.html").read_text()


def test_lint_lists_index_warnings_with_the_rest(tmp_path):
    from press.lint.run import lint_manuscript

    one = "The [summit]{.index} met. The [summits]{.index} ended. The [summit]{.index} again."
    root = write_book(tmp_path, one=one, two="Nothing to see.", index=None)
    report = lint_manuscript(root, PROJECT / "styles")
    found = [(p.code, p.severity, Path(p.path).name, p.line) for p in report.problems]
    assert ("I001", "warning", "01-one.md", 5) in found
    assert report.errors == 0


def test_an_epub_built_after_the_pdf_labels_locators_with_print_pages(tmp_path):
    root = write_book(tmp_path)
    out = tmp_path / "out"
    (pdf,) = build_once(root, out, formats=("pdf",), log=lambda *a: None)
    (epub,) = build_once(root, out, formats=("epub",), log=lambda *a: None)
    reader = PdfReader(pdf)
    with zipfile.ZipFile(epub) as archive:
        text = archive.read("EPUB/index.xhtml").decode("utf-8")
    found = re.findall(r'<a epub:type="index-locator" href="[a-z]+\.xhtml#([^"]+)">([^<]+)</a>',
                       text)
    assert found
    for target, label in found:
        page = reader.get_destination_page_number(reader.named_destinations[target])
        assert label == reader.page_labels[page]
