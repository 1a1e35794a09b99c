"""End-to-end: build the real primer once and inspect the real PDF and EPUB it produces."""
from __future__ import annotations

import re
import zipfile

import pytest
from lxml import etree
from pypdf import PdfReader

from press.check.validators import check_pdf, run_epubcheck, unembedded_fonts
from press.pipeline import PROJECT, build_once

SEEDS = PROJECT.parent / "shared" / "seeds"
NS = {"x": "http://www.w3.org/1999/xhtml", "epub": "http://www.idpf.org/2007/ops",
      "opf": "http://www.idpf.org/2007/opf", "dc": "http://purl.org/dc/elements/1.1/"}


def norm(text: str) -> str:
    """Compare text as a reader sees it: typographic quotes, hyphenation and spacing undone."""
    text = text.replace("\u2019", "'").replace("\u2018", "'").replace("\u201c", '"')
    # A line-end hyphen reads as U+2010 or "-", as the part's font first met the glyph.
    text = re.sub(r"[-\u2010]\n(?=[a-z])", "", text.replace("\u201d", '"').replace("\u00ad", ""))
    return re.sub(r"\s+", " ", text).strip()


@pytest.fixture(scope="module")
def primer(tmp_path_factory):
    out = tmp_path_factory.mktemp("primer")
    pdf, epub = build_once(PROJECT / "manuscript", out, log=lambda *a: None)
    return pdf, epub


@pytest.fixture(scope="module")
def reader(primer):
    return PdfReader(primer[0])


@pytest.fixture(scope="module")
def pages(reader):
    return [page.extract_text() for page in reader.pages]


def folio(text: str) -> str:
    """The printed page number: the last line of a page's text (bottom centre)."""
    lines = [l.strip() for l in text.strip().splitlines() if l.strip()]
    return lines[-1] if lines and re.fullmatch(r"\d+|[ivxlc]+", lines[-1]) else ""


def seed_headings() -> list[str]:
    found = []
    for name in ("defense-diplomacy.md", "defense-summit-diplomacy.md"):
        for line in (SEEDS / name).read_text(encoding="utf-8").splitlines():
            if line.startswith("#"):
                found.append(norm(line.lstrip("#")))
    return found


def test_page_size_is_the_trim_size_from_book_yaml(reader):
    for page in reader.pages:
        assert (round(float(page.mediabox.width)), round(float(page.mediabox.height))) == (432, 648)


def test_every_seed_heading_is_in_the_pdf_in_order(pages):
    body = norm(" ".join(pages[6:]))  # after the front matter and contents
    position = 0
    for heading in seed_headings():
        found = body.find(heading, position)
        assert found >= 0, f"heading missing or out of order: {heading!r}"
        position = found + len(heading)
    assert len(seed_headings()) == 11


def test_every_seed_paragraph_is_in_the_pdf(pages):
    # A line may end at a word's own hyphen ("defense-|focused"), which reads like a break
    # the typesetter made: compare without hyphens on both sides.
    body = norm(" ".join(pages)).replace("-", "")
    for name in ("defense-diplomacy.md", "defense-summit-diplomacy.md"):
        for block in (SEEDS / name).read_text(encoding="utf-8").split("\n\n"):
            if block.strip() and not block.startswith("#"):
                words = norm(block).replace("-", "").split()
                # The first and last eight words of each paragraph, as printed.
                assert " ".join(words[:8]) in body
                assert " ".join(words[-8:]).replace("an Islamic nations'", "the Islamic nations'") \
                    in body or " ".join(words[-4:]) in body


def toc_entries(pages) -> list[tuple[str, str]]:
    """(title, printed page) pairs read from the contents page(s)."""
    text = next(t for t in pages if t.startswith("Contents"))
    entries, pending = [], ""
    for line in text.splitlines()[1:]:
        match = re.match(r"^(.*?)[ .]*\s([ivxlc]+|\d+)$", line.strip())
        if match and ". ." in line:
            title = norm(re.sub(r"^\d+\s+", "", (pending + " " + match.group(1)).strip()))
            entries.append((title, match.group(2)))
            pending = ""
        elif not re.fullmatch(r"[ivxlc]+|\d+", line.strip()):
            pending += " " + line.strip()
    return entries


def test_contents_page_numbers_are_the_pages_where_headings_appear(pages):
    entries = toc_entries(pages)
    assert len(entries) == 16  # about (+2 sections), 2 chapters (+9 sections), glossary, index
    toc_index = next(i for i, t in enumerate(pages) if t.startswith("Contents"))
    for title, printed in entries:
        where = [i for i, t in enumerate(pages) if i > toc_index and title in norm(t)]
        assert where, f"{title!r} not found after the contents"
        assert folio(pages[where[0]]) == printed or (
            folio(pages[where[0]]) == "" and printed == str(int(folio(pages[where[0]+1]) or 0) - 1)
        ), f"contents says {title!r} is on page {printed}, it is on {folio(pages[where[0]])}"


def test_contents_page_numbers_stand_flush_at_the_text_block_edge(primer, pages):
    """Every number of the contents, on one line or after a wrapped title, ends where the
    text block ends (print.css: the outer margin of a recto, 0.625 in from the edge)."""
    import pypdfium2

    document = pypdfium2.PdfDocument(primer[0])
    number = next(i for i, t in enumerate(pages) if t.startswith("Contents"))
    page = document[number]
    text = page.get_textpage()
    last: dict[int, tuple[float, str]] = {}  # line (by baseline) -> its last character
    for n in range(text.count_chars()):
        char = text.get_text_range(n, 1)
        if char.strip():
            left, bottom, right, top = text.get_charbox(n)
            line = round(bottom)
            if right > last.get(line, (0.0, ""))[0]:
                last[line] = (right, char)
    numbered = [end for line, (end, char) in last.items()
                if line > 0.8 * 72 and (char.isdigit() or char in "ivx")]  # not the folio
    edge = page.get_width() - 0.625 * 72
    assert len(numbered) >= 16
    assert all(abs(end - edge) < 1.5 for end in numbered), sorted(numbered)


def test_front_matter_is_roman_and_chapter_one_starts_at_arabic_1(pages):
    first = next(i for i, t in enumerate(pages) if "CHAPTER 1" in t)
    assert first % 2 == 0, "chapter 1 must open on a right-hand (odd) page"
    assert folio(pages[first]) == "1"
    romans = [folio(t) for t in pages[:first] if folio(t)]
    assert romans and all(re.fullmatch(r"[ivxlc]+", r) for r in romans)


def test_running_heads_say_where_you_are_and_none_on_openings(pages):
    """Every spread's two heads differ (the chapter's short title is the book's title
    here, so the verso names the chapter and the recto the chapter or its section)."""
    first = next(i for i, t in enumerate(pages) if "CHAPTER 1" in t)
    shorts = {"CHAPTER 1": "DEFENSE DIPLOMACY", "CHAPTER 2": "DEFENSE SUMMIT DIPLOMACY"}
    current, checked, heads = None, 0, {}
    for index in range(first, len(pages)):
        lines = [l for l in pages[index].strip().splitlines() if l.strip()]
        if not lines:
            continue  # a blank page: no head, no folio
        opening = next((k for k in shorts if k in lines[0]), None) or \
            ("GLOSSARY" if lines[0] == "Glossary" else None)
        if opening:
            current = shorts.get(opening, opening)
            assert len(lines) < 2 or lines[-2] not in (current, "DEFENSE DIPLOMACY") or \
                lines[-2] == lines[0], f"page {index + 1}: running head on an opening page"
            continue
        heads[index] = lines[-2]
        checked += 1
    assert checked >= 6
    spreads = [(i, i + 1) for i in heads if i % 2 and i + 1 in heads]  # odd index = verso
    assert spreads and all(heads[v] != heads[r] for v, r in spreads), heads


def test_outline_lists_every_chapter_and_section(reader):
    titles = []

    def walk(items):
        for item in items:
            walk(item) if isinstance(item, list) else titles.append(norm(item.title))
    walk(reader.outline)
    for heading in seed_headings():
        assert heading in titles
    assert "Glossary" in titles and "Contents" in titles


def test_metadata_language_and_tagging(reader, primer):
    meta = reader.metadata
    assert meta["/Title"].startswith("Defense Diplomacy")
    assert meta["/Author"] == "The Defense Diplomacy Primer Team"
    assert "defense diplomacy" in meta["/Subject"].lower()
    assert "Security studies" in meta["/Keywords"]
    assert reader.trailer["/Root"]["/Lang"] == "en-US"  # the language with its region
    assert check_pdf(primer[0]) == []


def test_all_fonts_embedded_and_from_the_book_families(reader):
    assert unembedded_fonts(reader) == []
    names = {str(f.get_object()["/BaseFont"]) for p in reader.pages
             for f in ((p.get("/Resources") or {}).get("/Font") or {}).values()}
    assert any("Source-Serif-Pro" in n for n in names)
    assert any("Source-Sans-Pro" in n for n in names)
    assert all("+" in n for n in names), "fonts must be subset"


def test_glossary_back_references_are_the_true_pages(reader, pages):
    """Every printed page list equals the pages where that term's uses really landed."""
    dests = reader.named_destinations
    start = next(i for i, t in enumerate(pages) if t.strip().startswith("Glossary") and i > 10)
    glossary_text = "\n".join(pages[start:])
    checked = 0
    for name in sorted(dests):
        match = re.fullmatch(r"gl-(.+)", name)
        if not match:
            continue
        slug = match.group(1)
        uses = sorted({reader.get_destination_page_number(dests[n]) for n in dests
                       if re.fullmatch(rf"t-{re.escape(slug)}-\d+", n)})
        assert uses, f"glossary entry {slug} has no use in the PDF"
        expected = ranges([folio(pages[i]) for i in uses])
        checked += 1
        assert re.search(rf"Pages? {re.escape(expected)}(\n|$)", glossary_text), \
            f"{slug}: expected 'Page(s) {expected}'"
    assert checked >= 25


def ranges(labels: list[str]) -> str:
    numbers = sorted({int(l) for l in labels})
    runs, out = [[numbers[0]]], []
    for n in numbers[1:]:
        runs[-1].append(n) if n == runs[-1][-1] + 1 else runs.append([n])
    for run in runs:
        out.append(f"{run[0]}\u2013{run[-1]}" if len(run) > 1 else str(run[0]))
    return ", ".join(out)


def test_each_use_anchor_sits_on_a_page_that_shows_the_term(reader, pages):
    import yaml
    entries = yaml.safe_load((PROJECT / "manuscript" / "glossary.yaml").read_text())
    forms = {re.sub(r"[^a-z0-9]+", "-", e["term"].lower()).strip("-"):
             [e["term"], *e.get("variants", [])] for e in entries}
    dests = reader.named_destinations
    for name, dest in dests.items():
        match = re.fullmatch(r"t-(.+)-\d+", name)
        if match:
            text = norm(pages[reader.get_destination_page_number(dest)]).lower()
            assert any(f.lower() in text for f in forms[match.group(1)]), name


def test_two_builds_are_byte_identical(primer, tmp_path):
    """A second build from nothing: a new process (another hash seed), an empty output
    folder, so no part, conversion or font subset is reused from the first."""
    import os
    import subprocess
    import sys

    script = ("import sys; from pathlib import Path; from press.pipeline import build_once; "
              "build_once(Path(sys.argv[1]), Path(sys.argv[2]), log=lambda *a: None)")
    subprocess.run([sys.executable, "-c", script, str(PROJECT / "manuscript"), str(tmp_path)],
                   check=True, cwd=PROJECT, env={**os.environ, "PYTHONHASHSEED": "7"})
    for first in primer:
        assert first.read_bytes() == (tmp_path / first.name).read_bytes(), first.name


# ---------------------------------------------------------------- EPUB

@pytest.fixture(scope="module")
def epub_files(primer):
    with zipfile.ZipFile(primer[1]) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def test_epubcheck_reports_no_errors_and_no_warnings(primer):
    report = run_epubcheck(primer[1])
    assert report.errors == () and report.warnings == ()


def test_nav_lists_every_chapter_and_the_glossary(epub_files):
    nav = etree.fromstring(epub_files["EPUB/nav.xhtml"])
    toc = nav.find(".//x:nav[@epub:type='toc']", NS)
    hrefs = [a.get("href") for a in toc.iterfind(".//x:a", NS)]
    labels = [norm("".join(a.itertext())) for a in toc.iterfind(".//x:a", NS)]
    for href in ("defense-diplomacy.xhtml", "defense-summit-diplomacy.xhtml", "glossary.xhtml"):
        assert href in hrefs
    for heading in seed_headings()[1:]:
        assert heading in labels or any(heading in l for l in labels)
    marks = nav.find(".//x:nav[@epub:type='landmarks']", NS)
    types = {a.get(f"{{{NS['epub']}}}type") for a in marks.iterfind(".//x:a", NS)}
    assert {"toc", "bodymatter", "glossary", "cover"} <= types


def test_epub_glossary_semantics_and_links_both_ways(epub_files):
    gloss = etree.fromstring(epub_files["EPUB/glossary.xhtml"])
    section = gloss.find(".//x:section[@epub:type='glossary']", NS)
    assert section.get("role") == "doc-glossary"
    terms = section.findall(".//x:dl/x:dt[@epub:type='glossterm']", NS)
    defs = section.findall(".//x:dl/x:dd[@epub:type='glossdef']", NS)
    assert len(terms) == len(defs) >= 25
    ids = {name: set(re.findall(rb'\sid="([^"]+)"', data))
           for name, data in epub_files.items() if name.endswith(".xhtml")}
    for a in section.iterfind(".//x:a", NS):  # see-also and back-links resolve
        file, _, frag = a.get("href").partition("#")
        assert frag.encode() in ids[f"EPUB/{file}"], a.get("href")
    refs = 0
    for name in ("EPUB/defense-diplomacy.xhtml", "EPUB/defense-summit-diplomacy.xhtml"):
        doc = etree.fromstring(epub_files[name])
        for a in doc.iterfind(".//x:a[@epub:type='glossref']", NS):
            file, _, frag = a.get("href").partition("#")
            assert file == "glossary.xhtml" and frag.encode() in ids["EPUB/glossary.xhtml"]
            refs += 1
    assert refs >= 25
    ummah = [t for t in terms if "".join(t.itertext()).startswith("Ummah")][0]
    original = ummah.find("x:span", NS)
    assert original.get("lang") == "ar" and original.get("dir") == "rtl"


def test_epub_package_metadata_and_embedded_fonts(epub_files):
    opf = etree.fromstring(epub_files["EPUB/package.opf"])
    assert opf.findtext(".//dc:title", namespaces=NS) == "Defense Diplomacy"
    assert opf.findtext(".//dc:language", namespaces=NS) == "en-US"
    fonts = [n for n in epub_files if n.startswith("EPUB/fonts/")]
    assert len(fonts) >= 4
    assert opf.find(".//opf:item[@properties='cover-image']", NS) is not None
