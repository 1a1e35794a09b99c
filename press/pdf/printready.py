"""Stage 5b, the print-ready edition: the bound print PDF made into a PDF/X for a printer.

The pages are the print edition's, typeset once by the workers; only what a printer needs
differs, so it is done here on the bound PDF, with pikepdf:
- colour: every RGB or Lab colour of text and rules becomes K-only black or grey (the
  interior of a black-and-white book is printed with one ink; near-black text becomes
  solid black, not a screened tint); RGB images become grey;
- geometry: each page gets a bleed of 0.125 in on its outer, top and bottom edges (not
  on the spine side), a TrimBox of the trim size and a BleedBox around it; the content
  is moved so the MediaBox starts at 0 0. With crop marks, the MediaBox grows to hold
  them outside the bleed;
- no link annotations (a printer's preflight rejects interactive elements);
- blank pages at the end up to an even page count (or a multiple of 4, or more);
- an output intent with a CMYK profile, and the PDF/X declaration (X-4, or X-1a).
"""
from __future__ import annotations

import hashlib
import uuid
import zlib
from dataclasses import dataclass
from decimal import Decimal
from io import BytesIO
from pathlib import Path

import pikepdf
from pikepdf import Array, Dictionary, Name, Operator, String

from press.problems import BuildError, Problem

INCH = 72.0
BLEED = 0.125 * INCH
# Room for crop marks outside the bleed: a gap, the mark, a margin (points).
MARK_GAP, MARK_LENGTH, MARK_MARGIN = 3.0, 18.0, 3.0

# Ghostscript's CMYK profile for SWOP printing (AGPL, like Ghostscript), in Debian's
# libgs-common package: freely licensed and installed by .ci/run.
PROFILE = Path("/usr/share/color/icc/ghostscript/default_cmyk.icc")
CONDITION = ("CGATS TR 001", "SWOP coated (CGATS TR 001), Artifex CMYK SWOP profile")

STANDARDS = {  # name -> (PDF version, Info GTS_PDFXVersion, GTS_PDFXConformance)
    "x-4": ("1.6", "PDF/X-4", None),
    "x-1a": ("1.4", "PDF/X-1:2003", "PDF/X-1a:2003"),
}


@dataclass(frozen=True)
class Settings:
    """What the printer asked for."""

    standard: str = "x-4"  # a key of STANDARDS
    marks: bool = False  # crop marks at the trim corners, outside the bleed
    multiple: int = 2  # the page count is padded with blank pages to a multiple of this
    bleed: float = BLEED  # points, on the outer, top and bottom edges
    profile: Path = PROFILE  # the output intent's CMYK ICC profile


def check_settings(settings: Settings) -> list[Problem]:
    """The settings' problems, before anything is typeset."""
    found = []
    if settings.standard not in STANDARDS:
        found.append(Problem("print-ready", None, "X002", f"unknown PDF/X standard "
                             f"'{settings.standard}'", "choose x-4 (the default) or x-1a"))
    if settings.multiple < 1 or settings.multiple % 2:
        found.append(Problem("print-ready", None, "X002", f"--multiple {settings.multiple}: "
                             "a page count must be padded to an even multiple",
                             "use 2 (the default) or 4; an offset house may ask for 8, 16"))
    if not settings.profile.is_file():
        found.append(Problem(settings.profile, None, "X001", "the CMYK output profile for the "
                             "print-ready PDF is missing",
                             "install Debian's libgs-common (apt-get install libgs-common), "
                             "as .ci/run does"))
    return found


def print_ready(data: bytes, settings: Settings = Settings()) -> bytes:
    """The print-ready PDF/X made from the bound print edition's bytes (deterministic)."""
    problems = check_settings(settings)
    if problems:
        raise BuildError(problems)
    pdf = pikepdf.open(BytesIO(data))
    pad(pdf, settings.multiple)
    strip_links(pdf)
    seen: set = set()
    for page in pdf.pages:
        k_only(pdf, page, seen)
    grey_images(pdf)
    offsets = {}
    for index, page in enumerate(pdf.pages):
        offsets[page.obj.objgen] = set_boxes(pdf, page, index, settings)
    shift_destinations(pdf, offsets)
    add_output_intent(pdf, settings.profile.read_bytes())
    declare_pdfx(pdf, settings.standard, hashlib.sha256(data).digest())
    version = STANDARDS[settings.standard][0]
    out = BytesIO()
    pdf.save(out, deterministic_id=True, force_version=version,
             object_stream_mode=pikepdf.ObjectStreamMode.generate if version >= "1.5"
             else pikepdf.ObjectStreamMode.disable)
    return out.getvalue()


# --- pages -------------------------------------------------------------------------------

def pad(pdf, multiple: int) -> int:
    """Blank pages at the end, of the last page's size, up to a multiple; returns how many."""
    added = (-len(pdf.pages)) % multiple
    box = [float(v) for v in pdf.pages[-1].mediabox]
    for _ in range(added):
        pdf.add_blank_page(page_size=(box[2] - box[0], box[3] - box[1]))
    return added


def set_boxes(pdf, page, index: int, settings: Settings) -> tuple[float, float]:
    """Trim, bleed and media boxes for a page (index 0 is a recto, its outer edge on the
    right); the content is moved to fit. Returns the move (dx, dy)."""
    x0, y0, x1, y1 = (float(v) for v in page.mediabox)
    width, height, bleed = x1 - x0, y1 - y0, settings.bleed
    margin = MARK_GAP + MARK_LENGTH + MARK_MARGIN + bleed if settings.marks else 0.0
    verso = index % 2 == 1
    left = (bleed if verso else 0.0) + margin  # from the media's edge to the trim
    right = (0.0 if verso else bleed) + margin
    low = bleed + margin
    trim = (left, low, left + width, low + height)
    page.obj.MediaBox = _box(0, 0, left + width + right, height + 2 * low)
    page.obj.TrimBox = _box(*trim)
    page.obj.BleedBox = _box(trim[0] - (bleed if verso else 0.0), trim[1] - bleed,
                             trim[2] + (0.0 if verso else bleed), trim[3] + bleed)
    for key in ("/CropBox", "/ArtBox"):
        if key in page.obj:
            del page.obj[key]
    dx, dy = left - x0, low - y0
    page.contents_add(pdf.make_stream(f"q 1 0 0 1 {_num(dx)} {_num(dy)} cm\n".encode()),
                      prepend=True)
    tail = b"Q\n" + (crop_marks(trim, bleed) if settings.marks else b"")
    page.contents_add(pdf.make_stream(tail))
    for annotation in page.obj.get("/Annots", ()):
        if "/Rect" in annotation:
            r = [float(v) for v in annotation.Rect]
            annotation.Rect = _box(r[0] + dx, r[1] + dy, r[2] + dx, r[3] + dy)
    return dx, dy


def crop_marks(trim, bleed: float) -> bytes:
    """Crop marks at the four corners of the trim, in K only, outside the bleed; marked as
    an artifact, since they are no part of the book's text."""
    x0, y0, x1, y1 = trim
    start, end = bleed + MARK_GAP, bleed + MARK_GAP + MARK_LENGTH
    lines = []
    for x, sx in ((x0, -1), (x1, 1)):
        for y, sy in ((y0, -1), (y1, 1)):
            lines.append(f"{_num(x + sx * start)} {_num(y)} m {_num(x + sx * end)} {_num(y)} l S")
            lines.append(f"{_num(x)} {_num(y + sy * start)} m {_num(x)} {_num(y + sy * end)} l S")
    return ("/Artifact BMC q 0 0 0 1 K 0.25 w 0 J [] 0 d\n" + "\n".join(lines)
            + "\nQ EMC\n").encode("ascii")


def _box(*values) -> Array:
    return Array([Decimal(_num(v)) for v in values])


def _num(value: float) -> str:
    text = f"{value:.4f}".rstrip("0").rstrip(".")
    return "0" if text in ("", "-0") else text


def shift_destinations(pdf, offsets: dict) -> None:
    """Named destinations and outline entries point at page coordinates: move them with
    the page's content, so the bookmarks still land where they did."""
    root = pdf.Root
    if "/Names" in root and "/Dests" in root.Names:
        for dest in list(root.Names.Dests.get("/Names", ()))[1::2]:
            _shift(dest, offsets)
    stack = [root.Outlines.First] if "/Outlines" in root and "/First" in root.Outlines else []
    while stack:
        entry = stack.pop()
        if isinstance(entry.get("/Dest"), Array):
            _shift(entry.Dest, offsets)
        if "/A" in entry and isinstance(entry.A.get("/D"), Array):
            _shift(entry.A.D, offsets)
        stack += [entry[k] for k in ("/Next", "/First") if k in entry]


def _shift(dest, offsets: dict) -> None:
    if isinstance(dest, Dictionary):
        dest = dest.get("/D")
    if not isinstance(dest, Array) or len(dest) < 4 or str(dest[1]) != "/XYZ":
        return
    dx, dy = offsets.get(dest[0].objgen, (0.0, 0.0))
    for i, d in ((2, dx), (3, dy)):
        if isinstance(dest[i], (int, Decimal)):
            dest[i] = Decimal(_num(float(dest[i]) + d))


# --- links -------------------------------------------------------------------------------

def strip_links(pdf) -> int:
    """Remove every link annotation, and its place in the structure tree: the link's text
    stays, tagged as a span. Returns how many were removed."""
    tree = pdf.Root.get("/StructTreeRoot")
    nums = list(tree.ParentTree.get("/Nums", ())) if tree is not None else []
    owners = dict(zip((int(k) for k in nums[::2]), nums[1::2]))
    gone: set[int] = set()
    removed = 0
    for page in pdf.pages:
        annots = page.obj.get("/Annots")
        if annots is None:
            continue
        kept = Array()
        for annotation in annots:
            if annotation.get("/Subtype") != Name.Link:
                kept.append(annotation)
                continue
            removed += 1
            if "/StructParent" in annotation:
                key = int(annotation.StructParent)
                gone.add(key)
                if key in owners:
                    _drop_objr(owners[key], annotation)
        if len(kept):
            page.obj.Annots = kept
        else:
            del page.obj.Annots
    if gone:
        pairs = [(k, v) for k, v in zip(nums[::2], nums[1::2]) if int(k) not in gone]
        tree.ParentTree.Nums = Array([x for pair in pairs for x in pair])
    return removed


def _drop_objr(element, annotation) -> None:
    kids = element.get("/K")
    items = list(kids) if isinstance(kids, Array) else [kids]
    left = [k for k in items if not (isinstance(k, Dictionary) and k.get("/Type") == Name.OBJR
                                     and k.Obj.objgen == annotation.objgen)]
    element.K = Array(left) if len(left) != 1 else left[0]
    if element.get("/S") == Name.Link:
        element.S = Name.Span


# --- colour ------------------------------------------------------------------------------

_RGB_LIKE = ("/DeviceRGB", "/CalRGB", "/Lab")


def k_only(pdf, page, seen: set | None = None) -> None:
    """Rewrite RGB and Lab colours in a page's content (and in the forms and patterns it
    draws) as K-only: black or a grey made of black ink alone."""
    seen = set() if seen is None else seen
    resources = page.obj.get("/Resources", Dictionary())
    _rewrite(pdf, page, resources)
    _k_only_forms(pdf, resources, seen)
    _drop_unused_spaces(resources)


def _k_only_forms(pdf, resources, seen: set) -> None:
    for form in _forms(resources):
        if form.objgen not in seen:
            seen.add(form.objgen)
            inner = form.get("/Resources", Dictionary())
            _rewrite(pdf, form, inner)
            _k_only_forms(pdf, inner, seen)
            _drop_unused_spaces(inner)


def _forms(resources):
    """Form XObjects and tiling patterns: content streams of their own."""
    for key in ("/XObject", "/Pattern"):
        for obj in (resources.get(key) or Dictionary()).values():
            if isinstance(obj, pikepdf.Stream) and (
                    obj.get("/Subtype") == Name.Form or obj.get("/PatternType") == 1):
                yield obj


def space_kind(name, resources) -> str:
    """'rgb', 'lab' or 'other' for a colour space operand of cs/CS."""
    space = name
    if str(name) not in ("/DeviceRGB", "/DeviceGray", "/DeviceCMYK", "/Pattern"):
        space = (resources.get("/ColorSpace") or Dictionary()).get(str(name), name)
    family = str(space[0]) if isinstance(space, Array) else str(space)
    if family == "/Lab":
        return "lab"
    if family in ("/DeviceRGB", "/CalRGB"):
        return "rgb"
    if family == "/ICCBased" and int(space[1].get("/N", 0)) == 3:
        return "rgb"
    return "other"


# Near-black (the print style sheet's soft #111 text) prints as solid black: a 93% tint
# would be screened into dots and print with ragged edges.
SOLID = 0.85


def black(value: float) -> Decimal:
    """K for a lightness from 0 (black) to 1 (white), to 4 places; near-black is solid."""
    k = min(1.0, max(0.0, 1.0 - value))
    return Decimal(1) if k >= SOLID else Decimal(_num(k))


def grey_of(kind: str, operands) -> float:
    values = [float(v) for v in operands]
    if kind == "lab":
        return values[0] / 100.0
    r, g, b = values[:3]
    return 0.299 * r + 0.587 * g + 0.114 * b


def convert_ops(ops, resources):
    """The content's operators with RGB/Lab colours replaced by K-only CMYK."""
    state, stack, out = {"fill": "other", "stroke": "other"}, [], []
    for operands, op in ops:
        name = str(op)
        if name == "q":
            stack.append(dict(state))
        elif name == "Q" and stack:
            state = stack.pop()
        if name in ("rg", "RG"):
            cmyk = [0, 0, 0, black(grey_of("rgb", operands))]
            out.append((cmyk, Operator("k" if name == "rg" else "K")))
            continue
        if name in ("cs", "CS"):
            kind = space_kind(operands[0], resources)
            state["fill" if name == "cs" else "stroke"] = kind
            if kind != "other":
                continue  # the colour that follows is written as CMYK
        if name in ("sc", "scn", "SC", "SCN"):
            kind = state["fill" if name.islower() else "stroke"]
            if kind != "other":
                cmyk = [0, 0, 0, black(grey_of(kind, operands))]
                out.append((cmyk, Operator("k" if name.islower() else "K")))
                continue
        out.append((operands, op))
    return out


def _rewrite(pdf, target, resources) -> None:
    """Convert one content stream (a page's, whatever its parts, or a form's) in place."""
    ops = list(pikepdf.parse_content_stream(target))
    new = convert_ops(ops, resources)
    if all(a[1] == b[1] for a, b in zip(ops, new)) and len(ops) == len(new):
        return  # no colour to convert: the stream is kept as it was
    data = pikepdf.unparse_content_stream(new)
    if isinstance(target, pikepdf.Page):
        target.obj.Contents = pdf.make_stream(data)
    else:
        target.write(data)


def _drop_unused_spaces(resources) -> None:
    """The RGB and Lab colour spaces WeasyPrint lists for every page are unused now;
    PDF/X-1a allows none of them."""
    spaces = resources.get("/ColorSpace")
    if not isinstance(spaces, Dictionary):
        return
    for key in list(spaces.keys()):
        if space_kind(Name(key), resources) != "other":
            del spaces[key]


def grey_images(pdf) -> int:
    """RGB images (device, calibrated or ICC-based, or indexed over RGB) become 8-bit grey.
    Returns how many."""
    done = 0
    for obj in list(pdf.objects):
        if not isinstance(obj, pikepdf.Stream) or obj.get("/Subtype") != Name.Image:
            continue
        space = obj.get("/ColorSpace")
        base = space[1] if isinstance(space, Array) and str(space[0]) == "/Indexed" else space
        if base is None or space_kind(base, Dictionary()) != "rgb":
            continue
        image = pikepdf.PdfImage(obj).as_pil_image().convert("L")
        obj.write(zlib.compress(image.tobytes(), 9), filter=Name.FlateDecode)
        obj.ColorSpace, obj.BitsPerComponent = Name.DeviceGray, 8
        obj.Width, obj.Height = image.width, image.height
        for key in ("/DecodeParms", "/Decode"):
            if key in obj:
                del obj[key]
        done += 1
    return done


# --- PDF/X -------------------------------------------------------------------------------

def add_output_intent(pdf, profile: bytes) -> None:
    """The printing condition the colours are meant for, with its ICC profile."""
    icc = pdf.make_stream(profile)
    icc.N, icc.Alternate = 4, Name.DeviceCMYK
    identifier, condition = CONDITION
    pdf.Root.OutputIntents = Array([pdf.make_indirect(Dictionary(
        Type=Name.OutputIntent, S=Name.GTS_PDFX, OutputConditionIdentifier=String(identifier),
        OutputCondition=String(condition), RegistryName=String("http://www.color.org"),
        Info=String(condition), DestOutputProfile=icc))])


def declare_pdfx(pdf, standard: str, seed: bytes) -> None:
    """The PDF/X version in the document information and the XMP metadata; the XMP's
    document id comes from the input, so the same book gives the same bytes."""
    _, version, conformance = STANDARDS[standard]
    info = pdf.docinfo
    info.GTS_PDFXVersion = String(version)
    if conformance:
        info.GTS_PDFXConformance = String(conformance)
    info.Trapped = Name("/False")
    document = uuid.UUID(bytes=seed[:16], version=4)
    with pdf.open_metadata(set_pikepdf_as_editor=False, update_docinfo=False) as meta:
        if "pdfuaid:part" in meta:
            del meta["pdfuaid:part"]  # its links are gone: this file is for printing
        meta["pdfxid:GTS_PDFXVersion"] = "PDF/X-4" if standard == "x-4" else version
        if conformance:
            meta["pdfx:GTS_PDFXVersion"] = version
            meta["pdfx:GTS_PDFXConformance"] = conformance
        meta["pdf:Trapped"] = "False"
        created = meta.get("xmp:CreateDate") or _xmp_date(str(info.get("/CreationDate", "")))
        meta["xmp:CreateDate"] = created
        meta["xmp:ModifyDate"] = meta.get("xmp:ModifyDate") or created
        meta["xmp:MetadataDate"] = meta["xmp:ModifyDate"]
        meta["xmpMM:DocumentID"] = f"uuid:{document}"
        meta["xmpMM:InstanceID"] = f"uuid:{document}"
        meta["xmpMM:VersionID"] = "1"
        meta["xmpMM:RenditionClass"] = "default"


def _xmp_date(pdf_date: str) -> str:
    """D:YYYYMMDD... -> YYYY-MM-DD (the day is what the book's date gives)."""
    digits = pdf_date.removeprefix("D:")[:8]
    return f"{digits[:4]}-{digits[4:6]}-{digits[6:8]}" if len(digits) == 8 else "1980-01-01"
