"""Accessibility of the real primer: the EPUB's page list against the real PDF, the
package metadata, DAISY Ace, and what can be checked automatically in the tagged PDF."""
from __future__ import annotations

import re
import zipfile

import pytest
from lxml import etree
from pypdf import PdfReader

from press.check.validators import run_ace
from press.pipeline import PROJECT, build_once

NS = {"x": "http://www.w3.org/1999/xhtml", "epub": "http://www.idpf.org/2007/ops",
      "opf": "http://www.idpf.org/2007/opf"}
EPUB_TYPE = "{http://www.idpf.org/2007/ops}type"


@pytest.fixture(scope="module")
def primer(tmp_path_factory):
    out = tmp_path_factory.mktemp("primer-a11y")
    pdf, epub = build_once(PROJECT / "manuscript", out, log=lambda *a: None)
    return pdf, epub


def words(text: str) -> list[str]:
    return re.findall(r"\w+", text.lower())


def pdf_words(pdf) -> list[list[str]]:
    """The words of each PDF page as a PDF reader extracts them (running head and folio
    included); a word hyphenated at a line end is joined again."""
    out = []
    for page in PdfReader(pdf).pages:
        text = re.sub(r"[\u2010-]\s*\n\s*(?=[a-z])", "", page.extract_text())
        out.append(words(text))
    return out


def words_after_markers(epub) -> dict[str, list[str]]:
    """For each page-break marker in the EPUB's reading order: the words that follow it."""
    archive = zipfile.ZipFile(epub)
    opf = etree.fromstring(archive.read("EPUB/package.opf"))
    hrefs = {i.get("id"): i.get("href") for i in opf.iterfind(".//opf:item", NS)}
    stream: list[tuple[str, str]] = []  # ("page", label) or ("text", words) in reading order
    for ref in opf.iterfind(".//opf:itemref", NS):
        root = etree.fromstring(archive.read("EPUB/" + hrefs[ref.get("idref")]))
        body = root.find("x:body", NS)
        for event, el in etree.iterwalk(body, events=("start", "end")):
            hidden = any(a.get("hidden") is not None for a in el.iterancestors()) or \
                el.get("hidden") is not None
            if event == "start" and el.get(EPUB_TYPE) == "pagebreak":
                stream.append(("page", el.get("aria-label")))
            elif event == "start" and el.text and not hidden:
                stream.append(("text", el.text))
            if event == "end" and el.tail and el is not body:
                stream.append(("text", el.tail))
    after = {}
    for n, (kind, value) in enumerate(stream):
        if kind == "page":
            following = " ".join(v for k, v in stream[n + 1:n + 80] if k == "text")
            after[value] = words(following)
    return after


def folio(index: int, body_start: int) -> str:
    roman = ["i", "ii", "iii", "iv", "v", "vi", "vii", "viii", "ix", "x", "xi", "xii"]
    return str(index - body_start + 1) if index >= body_start else roman[index]


def contains(haystack: list[str], needle: list[str]) -> bool:
    return any(haystack[i:i + len(needle)] == needle for i in range(len(haystack)))


def test_every_printed_page_has_a_marker_at_the_words_that_begin_it(primer):
    pdf, epub = primer
    pages = pdf_words(pdf)
    after = words_after_markers(epub)
    body_start = next(i for i, p in enumerate(pages) if p[:3] == ["chapter", "1", "defense"])
    labels = [folio(i, body_start) for i in range(len(pages))]
    assert list(after) == labels, "one marker a page, in page order, with the printed folio"
    checked = 0
    for index, page in enumerate(pages):
        if not page:
            continue  # a blank verso: its marker shares the next page's place
        # The page's first words (after the running head, before the folio) must be the
        # words that follow its marker; a page shorter than that must hold all of them.
        expected = after[labels[index]][:4]
        head = page[:14]
        wanted = expected[:min(len(expected), len(page) - 1)] or expected[:1]
        assert contains(head, wanted), (labels[index], wanted, page[:14])
        checked += 1
    assert checked >= len(pages) - 4


def test_page_list_in_the_nav_points_at_every_marker(primer):
    archive = zipfile.ZipFile(primer[1])
    nav = etree.fromstring(archive.read("EPUB/nav.xhtml"))
    page_list = nav.find(".//x:nav[@epub:type='page-list']", NS)
    assert page_list is not None and page_list.get("role") == "doc-pagelist"
    links = page_list.findall(".//x:a", NS)
    pages = len(PdfReader(primer[0]).pages)
    assert len(links) == pages
    for a in links:
        href, fragment = a.get("href").split("#")
        target = etree.fromstring(archive.read(f"EPUB/{href}"))
        marker = target.find(f".//*[@id='{fragment}']")
        assert marker is not None and marker.get(EPUB_TYPE) == "pagebreak"
        assert marker.get("role") == "doc-pagebreak" and marker.get("aria-label") == a.text


def test_package_metadata_is_derived_and_declares_the_page_source(primer):
    opf = etree.fromstring(zipfile.ZipFile(primer[1]).read("EPUB/package.opf"))
    meta = {}
    for m in opf.iterfind(".//opf:meta[@property]", NS):
        meta.setdefault(m.get("property"), []).append(m.text)
    assert set(meta["schema:accessibilityFeature"]) >= {
        "structuralNavigation", "tableOfContents", "readingOrder", "pageBreakMarkers",
        "pageNavigation"}
    assert "alternativeText" not in meta["schema:accessibilityFeature"]  # no images
    assert meta["schema:accessMode"] == ["textual"]
    assert meta["schema:accessModeSufficient"] == ["textual"]
    assert meta["schema:accessibilityHazard"] == ["none"]
    assert meta["pageBreakSource"] and meta["dcterms:conformsTo"] == [
        "EPUB Accessibility 1.1 - WCAG 2.2 Level AA"]


def test_epub_carries_none_of_the_builds_own_attributes(primer):
    archive = zipfile.ZipFile(primer[1])
    for name in archive.namelist():
        if name.endswith(".xhtml"):
            text = archive.read(name).decode("utf-8")
            assert "data-line" not in text and "data-b=" not in text, name


def test_every_document_declares_its_language_and_semantics_have_roles(primer):
    archive = zipfile.ZipFile(primer[1])
    for name in archive.namelist():
        if name.endswith(".xhtml"):
            root = etree.fromstring(archive.read(name))
            assert root.get("lang") and root.get("{http://www.w3.org/XML/1998/namespace}lang")
            for el in root.iter():
                if el.getparent() is not None and el.getparent().tag.endswith("li"):
                    continue  # the landmarks' links name their targets; they have no roles
                if el.get(EPUB_TYPE) in ("glossref", "chapter", "glossary", "toc", "noteref",
                                         "pagebreak", "endnotes", "page-list"):
                    assert el.get("role", "").startswith("doc-"), (name, el.get(EPUB_TYPE))


def test_daisy_ace_reports_no_violations(primer):
    report = run_ace(primer[1])
    assert report.violations == (), "\n".join(str(v) for v in report.violations)
    assert report.outcome == "pass"


def test_pdf_is_tagged_with_language_title_and_bookmarks(primer):
    reader = PdfReader(primer[0])
    root = reader.trailer["/Root"]
    assert bool(root["/MarkInfo"]["/Marked"])
    assert "/StructTreeRoot" in root and root["/Lang"] == "en-US"  # the primer says en-US: the region picks the hyphenation
    assert bool(root["/ViewerPreferences"]["/DisplayDocTitle"])
    assert reader.metadata.title.startswith("Defense Diplomacy: A Primer")
    assert reader.outline, "bookmarks"
    xmp = root["/Metadata"].get_object().get_data().decode("utf-8")
    assert "pdfuaid:part" in xmp and "Defense Diplomacy" in xmp


def test_pdf_draws_no_text_as_images(primer):
    """The primer has no pictures: every page is text, none is an image."""
    for page in PdfReader(primer[0]).pages:
        resources = page["/Resources"]
        xobjects = resources.get("/XObject", {}) if resources else {}
        assert not [x for x in xobjects.values() if x.get_object()["/Subtype"] == "/Image"]


# --- validators' findings point at the Markdown line ----------------------------------------

def test_validator_findings_name_the_markdown_file_and_line(make_book, tmp_path):
    """Raw HTML the build lets through but the validators reject: an invalid date for
    EPUBCheck, an unknown ARIA role for Ace. Both must name the chapter and the line."""
    from press.check.validators import run_epubcheck

    book = make_book()
    book.replace("chapters/01-alpha.md", "A waypoint marks the turn.",
                 'A waypoint marks the turn.\n\nWe met on <time datetime="someday">the day'
                 '</time> near a <span role="banana">fruit stall</span>.')
    line = book.line_of("chapters/01-alpha.md", "We met on")
    out = tmp_path / "out"
    (epub,) = build_once(book.root, out, formats=("epub",), log=lambda *a: None)
    sources = out / f"{epub.stem}.sources.json"  # an output: check reads it
    report = run_epubcheck(epub, sources)
    assert any(re.match(rf"\S*chapters/01-alpha\.md:{line}: RSC-005 .*datetime", e)
               for e in report.errors), report.errors
    ace = run_ace(epub, sources)
    assert any(str(p.path).endswith("chapters/01-alpha.md") and p.line == line
               and "aria" in p.message for p in ace.violations), list(map(str, ace.violations))


def page_list_and_features(epub):
    archive = zipfile.ZipFile(epub)
    nav = etree.fromstring(archive.read("EPUB/nav.xhtml"))
    opf = etree.fromstring(archive.read("EPUB/package.opf"))
    features = [m.text for m in opf.iterfind(".//opf:meta[@property]", NS)
                if m.get("property") == "schema:accessibilityFeature"]
    return nav.find(".//x:nav[@epub:type='page-list']", NS) is not None, features


def test_an_epub_alone_reuses_the_page_list_only_while_the_layout_holds(make_book, tmp_path):
    book = make_book()
    out = tmp_path / "out"
    build_once(book.root, out, log=lambda *a: None)
    (epub,) = build_once(book.root, out, formats=("epub",), log=lambda *a: None)
    listed, features = page_list_and_features(epub)
    assert listed and "pageNavigation" in features
    book.replace("chapters/02-beta.md", "The ridge lines fade.", "The ridge lines fade away.")
    said = []
    (epub,) = build_once(book.root, out, formats=("epub",), log=said.append)
    listed, features = page_list_and_features(epub)
    assert not listed and "pageNavigation" not in features and "pageBreakMarkers" not in features
    assert any("no print page list" in line for line in said)
