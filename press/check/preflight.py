"""Stage 6, check: preflight the print-ready PDF as a printer's intake would (codes X010-X021)."""
from __future__ import annotations

import hashlib
from collections import defaultdict
from pathlib import Path

import pikepdf
from pikepdf import Array, Dictionary, Name

from press.pdf.printready import BLEED, space_kind
from press.problems import Problem

TOLERANCE = 0.05  # points: boxes are written to 4 decimal places

HINTS = {
    "X010": "make the PDF with invoke print-ready, which sets a TrimBox of the trim size",
    "X011": "the TrimBox must lie inside the BleedBox, and the BleedBox inside the MediaBox",
    "X012": "printers ask for 0.125 in of bleed on the outer, top and bottom edges",
    "X013": "a PDF/X names its printing condition: an OutputIntent /GTS_PDFX with its "
            "ICC profile",
    "X014": "declare the standard (XMP pdfxid:GTS_PDFXVersion, Info /GTS_PDFXVersion)",
    "X015": "colour text and rules in grey or black (K only), not RGB: a CSS colour "
            "becomes K only in invoke print-ready",
    "X016": "an RGB image prints with a colour conversion the printer chooses; make it grey",
    "X017": "every font must be embedded: use the fonts of styles/fonts.yaml only",
    "X018": "a printer's preflight rejects interactive elements: remove link annotations",
    "X019": "pad the book with blank pages to an even page count (invoke print-ready does)",
    "X020": "a subset tag names one font program in a file; bind with press.pdf.bind",
    "X021": "PDF/X-1a allows no transparency: use PDF/X-4 (the default), or flatten it",
}


def preflight(path: Path, multiple: int = 2) -> list[Problem]:
    """Every way the print-ready PDF at path falls short of what a printer accepts."""
    found: dict[str, list[str]] = defaultdict(list)  # code -> where, in page order
    with pikepdf.open(path) as pdf:
        _document(pdf, found, multiple)
        for number, page in enumerate(pdf.pages, start=1):
            _boxes(page.obj, number, found)
            if any(a.get("/Subtype") == Name.Link for a in page.obj.get("/Annots", ())):
                found["X018"].append(f"page {number}")
            if _rgb_colour(page, page.obj.get("/Resources", Dictionary()), set()):
                found["X015"].append(f"page {number}")
        _images(pdf, found)
        _fonts(pdf, found)
        if str(pdf.docinfo.get("/GTS_PDFXConformance", "")).startswith("PDF/X-1a"):
            _transparency(pdf, found)
    return [Problem(path, None, code, _say(code, where), HINTS[code])
            for code, where in sorted(found.items())]


MESSAGES = {
    "X010": "no TrimBox", "X011": "boxes not nested", "X012": "bleed is not 0.125 in",
    "X013": "no PDF/X output intent", "X014": "not declared PDF/X",
    "X015": "RGB colour in the content", "X016": "RGB image", "X017": "font not embedded",
    "X018": "link annotation", "X019": "page count", "X020": "subset tag reused",
    "X021": "transparency in a PDF/X-1a",
}


def _say(code: str, where: list[str]) -> str:
    shown = ", ".join(dict.fromkeys(where[:5]))
    more = f" and {len(where) - 5} more" if len(where) > 5 else ""
    return f"{MESSAGES[code]}: {shown}{more}" if shown else MESSAGES[code]


def _document(pdf, found, multiple: int) -> None:
    if len(pdf.pages) % multiple:
        found["X019"].append(f"{len(pdf.pages)} pages, not a multiple of {multiple}")
    intents = [i for i in pdf.Root.get("/OutputIntents", ()) if i.get("/S") == Name.GTS_PDFX]
    if not intents or "/DestOutputProfile" not in intents[0]:
        found["X013"].append("the catalog has none with an ICC profile")
    meta = pdf.open_metadata()
    if "pdfxid:GTS_PDFXVersion" not in meta and "/GTS_PDFXVersion" not in pdf.docinfo:
        found["X014"].append("neither the XMP metadata nor the document information says so")


def _box(page, key):
    box = page.get(key)
    return [float(v) for v in box] if isinstance(box, Array) and len(box) == 4 else None


def _inside(inner, outer) -> bool:
    return (inner[0] >= outer[0] - TOLERANCE and inner[1] >= outer[1] - TOLERANCE
            and inner[2] <= outer[2] + TOLERANCE and inner[3] <= outer[3] + TOLERANCE)


def _boxes(page, number: int, found) -> None:
    media, trim, bleed = _box(page, "/MediaBox"), _box(page, "/TrimBox"), _box(page, "/BleedBox")
    if trim is None:
        found["X010"].append(f"page {number}")
        return
    if bleed is None or media is None or not _inside(trim, bleed) or not _inside(bleed, media):
        found["X011"].append(f"page {number}")
        return
    # Page 1 is a recto: its outer edge is the right one; the spine side has no bleed.
    outer = bleed[2] - trim[2] if number % 2 else trim[0] - bleed[0]
    if any(abs(side - BLEED) > TOLERANCE for side in (outer, trim[1] - bleed[1],
                                                       bleed[3] - trim[3])):
        found["X012"].append(f"page {number}")


def _rgb_colour(target, resources, seen: set) -> bool:
    """Whether a content stream (or a form or pattern it draws) sets an RGB or Lab colour."""
    state = {"cs": "other", "CS": "other"}
    for operands, op in pikepdf.parse_content_stream(target):
        name = str(op)
        if name in ("rg", "RG"):
            return True
        if name in ("cs", "CS"):
            state[name] = space_kind(operands[0], resources)
            if state[name] != "other":
                return True
    for key in ("/XObject", "/Pattern"):
        for obj in (resources.get(key) or Dictionary()).values():
            if isinstance(obj, pikepdf.Stream) and obj.objgen not in seen and (
                    obj.get("/Subtype") == Name.Form or obj.get("/PatternType") == 1):
                seen.add(obj.objgen)
                if _rgb_colour(obj, obj.get("/Resources", Dictionary()), seen):
                    return True
    return False


def _images(pdf, found) -> None:
    for obj in pdf.objects:
        if isinstance(obj, pikepdf.Stream) and obj.get("/Subtype") == Name.Image:
            space = obj.get("/ColorSpace")
            if isinstance(space, Array) and str(space[0]) == "/Indexed":
                space = space[1]
            if space is not None and space_kind(space, Dictionary()) == "rgb":
                found["X016"].append(f"image object {obj.objgen[0]}")


def _fonts(pdf, found) -> None:
    programs: dict[str, set[bytes]] = defaultdict(set)
    for obj in pdf.objects:
        if not isinstance(obj, Dictionary) or obj.get("/Type") != Name.Font \
                or obj.get("/Subtype") in (Name.Type3, Name.CIDFontType0, Name.CIDFontType2):
            continue
        font = obj.DescendantFonts[0] if "/DescendantFonts" in obj else obj
        descriptor = font.get("/FontDescriptor", Dictionary())
        program = next((descriptor[k] for k in ("/FontFile", "/FontFile2", "/FontFile3")
                        if k in descriptor), None)
        name = str(obj.get("/BaseFont", "?")).lstrip("/")
        if program is None:
            found["X017"].append(name)
        elif "+" in name:
            programs[name.split("+")[0]].add(hashlib.sha256(program.read_bytes()).digest())
    reused = [tag for tag, digests in sorted(programs.items()) if len(digests) > 1]
    if reused:
        found["X020"] += reused


def _transparency(pdf, found) -> None:
    """PDF/X-1a allows no transparency: no soft masks, no constant alpha below 1."""
    for obj in pdf.objects:
        if isinstance(obj, pikepdf.Stream) and obj.get("/Subtype") == Name.Image \
                and "/SMask" in obj:
            found["X021"].append(f"image object {obj.objgen[0]} has a soft mask")
        elif isinstance(obj, Dictionary) and ("/ca" in obj or "/CA" in obj or "/SMask" in obj) \
                and obj.get("/Type", Name.ExtGState) == Name.ExtGState:
            alpha = min(float(obj.get("/ca", 1)), float(obj.get("/CA", 1)))
            if alpha < 1 or str(obj.get("/SMask", "/None")) != "/None":
                found["X021"].append(f"graphics state object {obj.objgen[0]}")
