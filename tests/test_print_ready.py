"""The print-ready edition: the tiny book built for real as a PDF/X, inspected with pikepdf,
and the preflight that must pass it and flag broken files with the right code."""
from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import replace
from io import BytesIO

import pikepdf
import pytest
from pypdf import PdfReader

from press.check.preflight import preflight
from press.pdf import printready
from press.pdf.printready import BLEED, Settings
from press import pipeline
from press.pipeline import PROJECT, build_once as build
from press.workspace import Workspace


def build_print_ready(manuscript, out, settings=None, log=print):
    """The print-ready PDF, in a workspace of its own."""
    with Workspace(out) as ws:
        return pipeline.build_print_ready(ws, manuscript, settings, log=log)
from press.problems import BuildError

from conftest import TINY, quiet
from test_bind import programs_by_tag

needs_profile = pytest.mark.skipif(not printready.PROFILE.is_file(),
                                   reason="libgs-common (the CMYK profile) is not installed")
pytestmark = needs_profile


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    out = tmp_path_factory.mktemp("print")
    plain = build_print_ready(TINY, out / "plain", log=quiet)
    marked = build_print_ready(TINY, out / "marked", Settings(marks=True, multiple=4),
                               log=quiet)
    (reading,) = build(TINY, out / "reading", ("pdf",), log=quiet)  # the parts are kept
    return plain, marked, reading


def boxes(page):
    return {k: [float(v) for v in page.obj[k]] for k in ("/MediaBox", "/BleedBox", "/TrimBox")}


def test_trim_and_bleed_boxes_with_bleed_on_the_outer_edges(built):
    with pikepdf.open(built[0]) as pdf:
        for index, page in enumerate(pdf.pages):
            b = boxes(page)
            trim, bleed, media = b["/TrimBox"], b["/BleedBox"], b["/MediaBox"]
            assert (trim[2] - trim[0], trim[3] - trim[1]) == (432, 648)  # 6 x 9 in
            assert bleed == media  # without marks, the sheet is the bleed
            outer, inner = (bleed[2] - trim[2], trim[0] - bleed[0]) if index % 2 == 0 \
                else (trim[0] - bleed[0], bleed[2] - trim[2])
            assert (outer, inner) == (BLEED, 0)  # no bleed at the spine
            assert trim[1] - bleed[1] == bleed[3] - trim[3] == BLEED


def test_crop_marks_lie_outside_the_bleed(built):
    with pikepdf.open(built[1]) as pdf:
        b = boxes(pdf.pages[0])
        assert b["/MediaBox"][0] < b["/BleedBox"][0] and b["/MediaBox"][3] > b["/BleedBox"][3]
        ops = list(pikepdf.parse_content_stream(pdf.pages[0]))
        points = [operands for operands, op in ops if str(op) in ("m", "l")][-16:]
        assert len(points) == 16  # two lines at each corner of the trim
        bleed = b["/BleedBox"]
        for x, y in ((float(a), float(b_)) for a, b_ in points):
            assert not (bleed[0] < x < bleed[2] and bleed[1] < y < bleed[3]), (x, y)
        assert len(pdf.pages) % 4 == 0


def test_output_intent_and_pdfx_declaration(built):
    with pikepdf.open(built[0]) as pdf:
        (intent,) = pdf.Root.OutputIntents
        assert intent.S == "/GTS_PDFX" and intent.DestOutputProfile.N == 4
        assert intent.DestOutputProfile.read_bytes()[16:20] == b"CMYK"
        assert pdf.open_metadata()["pdfxid:GTS_PDFXVersion"] == "PDF/X-4"
        assert pdf.docinfo.Trapped == "/False" and pdf.pdf_version == "1.6"


def test_no_links_even_pages_embedded_fonts_unique_tags(built):
    with pikepdf.open(built[0]) as pdf:
        assert len(pdf.pages) % 2 == 0
        assert not [a for p in pdf.pages for a in p.obj.get("/Annots", ())
                    if a.get("/Subtype") == "/Link"]
        assert all(len(d) == 1 for d in programs_by_tag(pdf).values())
    fonts = subprocess.run(["pdffonts", str(built[0])], capture_output=True, text=True,
                           check=True).stdout.splitlines()[2:]
    assert fonts and all(line.split()[-5] == "yes" for line in fonts)  # the "emb" column


def test_text_and_rules_are_k_only(built):
    with pikepdf.open(built[0]) as pdf:
        for page in pdf.pages:
            for operands, op in pikepdf.parse_content_stream(page):
                assert str(op) not in ("rg", "RG", "cs", "CS", "sc", "scn", "SC", "SCN")
                if str(op) in ("k", "K"):
                    assert [float(v) for v in operands[:3]] == [0, 0, 0]


def test_page_labels_survive_and_padding_is_at_the_end(built):
    reader = PdfReader(built[1])
    labels = reader.page_labels
    assert labels[0] == "i" and "1" in labels
    assert reader.pages[-1].extract_text().strip() == ""


def test_the_print_ready_pdf_passes_preflight(built):
    assert preflight(built[0]) == []
    assert preflight(built[1], multiple=4) == []


def test_print_ready_bytes_are_deterministic(built, tmp_path):
    script = ("import sys; from pathlib import Path; from press.pipeline import "
              "build_print_ready; from press.workspace import Workspace; "
              "build_print_ready(Workspace(Path(sys.argv[2])), Path(sys.argv[1]), "
              "log=lambda *a: None)")
    subprocess.run([sys.executable, "-c", script, str(TINY), str(tmp_path)], check=True,
                   cwd=PROJECT, env={**os.environ, "PYTHONHASHSEED": "3"})
    assert (tmp_path / built[0].name).read_bytes() == built[0].read_bytes()


def test_x1a_is_pdf_1_4_without_object_streams(built):
    data = printready.print_ready(built[2].read_bytes(), Settings(standard="x-1a"))
    with pikepdf.open(BytesIO(data)) as pdf:
        assert pdf.pdf_version == "1.4"
        assert pdf.docinfo.GTS_PDFXConformance == "PDF/X-1a:2003"
        assert not [o for o in pdf.objects if isinstance(o, pikepdf.Dictionary)
                    and o.get("/Type") == "/ObjStm"]
    target = built[0].parent / "x1a.pdf"
    target.write_bytes(data)
    assert preflight(target) == []


# --- the preflight flags what is broken -----------------------------------------------

def broken(built, tmp_path, change) -> Path:
    pdf = pikepdf.open(built[0])
    change(pdf)
    target = tmp_path / "broken.pdf"
    pdf.save(target)
    return target


def codes(path, **kw) -> set[str]:
    return {p.code for p in preflight(path, **kw)}


def test_preflight_flags_rgb_text(built, tmp_path):
    def rgb(pdf):
        page = pdf.pages[0]
        page.contents_add(pdf.make_stream(b"BT 1 0 0 rg ET"))
    assert codes(broken(built, tmp_path, rgb)) == {"X015"}


def test_preflight_flags_a_missing_trim_box(built, tmp_path):
    def no_trim(pdf):
        del pdf.pages[2].obj.TrimBox
    found = preflight(broken(built, tmp_path, no_trim))
    assert [(p.code, p.message) for p in found] == [("X010", "no TrimBox: page 3")]


def test_preflight_flags_bleed_boxes_links_intent_and_page_count(built, tmp_path):
    def spoil(pdf):
        page = pdf.pages[0].obj
        page.BleedBox = page.TrimBox  # no bleed
        page.Annots = pikepdf.Array([pdf.make_indirect(pikepdf.Dictionary(
            Type=pikepdf.Name.Annot, Subtype=pikepdf.Name.Link, Rect=[0, 0, 10, 10]))])
        del pdf.Root.OutputIntents
        del pdf.pages[-1]
    assert codes(broken(built, tmp_path, spoil)) == {"X012", "X013", "X018", "X019"}


def test_preflight_flags_a_reused_subset_tag_and_an_unembedded_font(built, tmp_path):
    def spoil(pdf):
        fonts = [o for o in pdf.objects if isinstance(o, pikepdf.Dictionary)
                 and o.get("/Subtype") == "/Type0"]
        first, second = fonts[0], fonts[1]
        name = first.BaseFont
        for font in (second, second.DescendantFonts[0]):
            font.BaseFont = name
        second.DescendantFonts[0].FontDescriptor.FontName = name
        del fonts[2].DescendantFonts[0].FontDescriptor.FontFile2
    assert codes(broken(built, tmp_path, spoil)) == {"X017", "X020"}


def test_preflight_flags_the_reading_edition(built):
    """The reading PDF is no print-ready file: RGB text, links, no bleed, no intent."""
    assert {"X012", "X013", "X014", "X015", "X018"} <= codes(built[2])


def test_settings_are_checked_before_typesetting(tmp_path):
    with pytest.raises(BuildError) as error:
        build_print_ready(TINY, tmp_path, Settings(standard="x-3"), log=quiet)
    assert [p.code for p in error.value.problems] == ["X002"]
    missing = replace(Settings(), profile=tmp_path / "none.icc", multiple=3)
    assert [p.code for p in printready.check_settings(missing)] == ["X002", "X001"]
