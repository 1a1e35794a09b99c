"""Binding the print edition's parts: one font program per subset tag, and page labels
that match the printed folios (the tiny book, built for real)."""
from __future__ import annotations

import hashlib
import re
from io import BytesIO
from collections import defaultdict

import pikepdf
import pytest
from pypdf import PdfReader

from press.pdf.bind import bind, page_labels, retag_subsets
from press.pipeline import build_once as build
from press.util.folio import folio

from conftest import TINY, quiet


@pytest.fixture(scope="module")
def tiny_pdf(tmp_path_factory):
    out = tmp_path_factory.mktemp("tiny")
    (pdf,) = build(TINY, out, ("pdf",), log=quiet)
    return pdf


def programs_by_tag(pdf) -> dict[str, set[bytes]]:
    """Subset tag -> digests of the font programs named with it, over the whole file."""
    found = defaultdict(set)
    for obj in pdf.objects:
        if not isinstance(obj, pikepdf.Dictionary) or obj.get("/Type") != "/FontDescriptor":
            continue
        name = str(obj.FontName)
        stream = obj.get("/FontFile2") or obj.get("/FontFile3") or obj.get("/FontFile")
        if "+" in name and stream is not None:
            found[name.lstrip("/").split("+")[0]].add(hashlib.sha256(stream.read_bytes()).digest())
    return found


def test_each_subset_tag_names_one_font_program(tiny_pdf):
    with pikepdf.open(tiny_pdf) as pdf:
        found = programs_by_tag(pdf)
        assert found, "the book has subset fonts"
        assert {tag: len(d) for tag, d in found.items() if len(d) > 1} == {}
        for obj in pdf.objects:  # the font's name and its descriptor's agree
            if isinstance(obj, pikepdf.Dictionary) and obj.get("/Subtype") == "/Type0":
                descendant = obj.DescendantFonts[0]
                assert obj.BaseFont == descendant.BaseFont == descendant.FontDescriptor.FontName


def test_parts_with_one_tag_for_different_programs_get_distinct_tags():
    """What WeasyPrint hands binding: two parts that both call their subset ABCDEF+Serif,
    though the programs differ; a third part's identical program shares its stream."""
    pdf = pikepdf.new()
    descriptors = []
    for program in (b"program one", b"program two", b"program one"):
        descriptor = pdf.make_indirect(pikepdf.Dictionary(
            Type=pikepdf.Name.FontDescriptor, FontName=pikepdf.Name("/ABCDEF+Serif"),
            FontFile2=pdf.make_stream(program)))
        pdf.make_indirect(pikepdf.Dictionary(
            Type=pikepdf.Name.Font, Subtype=pikepdf.Name.Type0,
            BaseFont=pikepdf.Name("/ABCDEF+Serif"), DescendantFonts=pikepdf.Array([
                pikepdf.Dictionary(Type=pikepdf.Name.Font, Subtype=pikepdf.Name.CIDFontType2,
                                   BaseFont=pikepdf.Name("/ABCDEF+Serif"),
                                   FontDescriptor=descriptor)])))
        descriptors.append(descriptor)
    retag_subsets(pdf)
    names = [str(d.FontName) for d in descriptors]
    assert names[0] != names[1] and names[0] == names[2]
    assert all(re.fullmatch(r"/[A-Z]{6}\+Serif", n) for n in names)
    assert descriptors[0].FontFile2.objgen == descriptors[2].FontFile2.objgen


def printed_folio(text: str) -> str:
    """The folio printed at the foot of a page (its last line), or '' on a blank page."""
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return lines[-1] if lines and re.fullmatch(r"\d+|[ivxlc]+", lines[-1]) else ""


def test_page_labels_match_the_printed_folios(tiny_pdf):
    reader = PdfReader(tiny_pdf)
    labels = reader.page_labels
    assert len(labels) == len(reader.pages)
    printed = [printed_folio(page.extract_text()) for page in reader.pages]
    assert "1" in printed, "the body's first folio is printed"
    body_start = labels.index("1")
    assert labels[:body_start] == [folio(i, body_start) for i in range(body_start)]
    assert all(re.fullmatch(r"[ivxl]+", label) for label in labels[:body_start])
    shown = [(label, text) for label, text in zip(labels, printed) if text]
    # Blank pages and chapter openings print no folio; the others must agree.
    assert any(t.isdigit() for _, t in shown) and any(not t.isdigit() for _, t in shown)
    assert all(label == text for label, text in shown), shown


def test_page_labels_tree():
    assert page_labels(10, 4) == pikepdf.Dictionary(Nums=pikepdf.Array([
        0, pikepdf.Dictionary(S=pikepdf.Name.r), 4, pikepdf.Dictionary(S=pikepdf.Name.D, St=1)]))
    assert list(page_labels(5, 0).Nums) == [0, pikepdf.Dictionary(S=pikepdf.Name.D, St=1)]


def part_pdf(lang: str, title: str, body: str) -> bytes:
    """A tagged part as the workers write it, with an outline entry of its own."""
    from weasyprint import HTML

    return HTML(string=f'<html lang="{lang}"><head><title>{title}</title></head><body>'
                       f'<h1 id="{title.lower()}">{title}</h1>{body}</body></html>'
                ).write_pdf(pdf_variant="pdf/ua-1")


def test_the_first_part_bound_last_still_comes_first_with_its_catalog():
    """The front matter is typeset last and put before the chapters bound so far: its
    pages, outline entries and structure come first, and its catalog is the book's."""
    front = part_pdf("fr", "Avant", "<p>Les pages de garde.</p>")
    one = part_pdf("en", "One", "<p>Plain words.</p><p style='opacity: .5'>Faded words, "
                                "drawn in a group of their own.</p>")
    two = part_pdf("de", "Two", "<div style='transform: rotate(2deg)'><b>Gedrehte "
                                "Wörter.</b></div>")
    bound = bind([front, one, two])
    texts = [page.extract_text() for page in PdfReader(BytesIO(bound)).pages]
    assert ["Avant" in texts[0], "One" in texts[1], "Two" in texts[2]] == [True] * 3
    with pikepdf.open(BytesIO(bound)) as book:
        assert str(book.Root.Lang) == "fr"
        assert str(book.trailer.Info.Title) == "Avant"
        entry, titles = book.Root.Outlines.First, []
        while True:
            titles.append(str(entry.Title))
            if "/Next" not in entry:
                break
            assert entry.Next.Prev == entry
            entry = entry.Next
        assert titles == ["Avant", "One", "Two"] and book.Root.Outlines.Last == entry
        # The structure in reading order: each part's heading on its own page.
        headings = [kid for kid in book.Root.StructTreeRoot.K[0].K if kid.S == "/H1"]
        assert [book.pages.index(pikepdf.Page(h.Pg)) for h in headings] == [0, 1, 2]
        # Every subset font in the file, wherever drawn, renamed after its own program.
        for tag, digests in programs_by_tag(book).items():
            (digest,) = digests
            assert tag == "".join(chr(ord("A") + b % 26) for b in digest[:6])
        keys = list(book.Root.StructTreeRoot.ParentTree.Nums)[::2]
        assert keys == sorted(keys) and len(set(keys)) == len(keys)
