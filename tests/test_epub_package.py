"""Stage 5b, the EPUB package: zip layout, determinism, package document, fonts, links."""
from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest
from fontTools.ttLib import TTFont
from lxml import etree

from conftest import STYLES, TINY, quiet
from press.render.links import retarget
from press.source.fonts import load_faces
from press.pipeline import build_once

OPF = {"opf": "http://www.idpf.org/2007/opf", "dc": "http://purl.org/dc/elements/1.1/"}
CONTAINER = {"c": "urn:oasis:names:tc:opendocument:xmlns:container"}
XHTML = {"x": "http://www.w3.org/1999/xhtml", "epub": "http://www.idpf.org/2007/ops"}


@pytest.fixture(scope="module")
def builds(tmp_path_factory) -> tuple[Path, Path]:
    """The tiny book's EPUB built twice, into separate folders (no shared font cache)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.delenv("SOURCE_DATE_EPOCH", raising=False)  # the book's date stamps the files
        paths = []
        for n in (1, 2):
            out = tmp_path_factory.mktemp(f"epub{n}")
            result = build_once(TINY, out, formats=("epub",), log=quiet)
            assert result == [out / "tiny-book.epub"]
            paths.append(result[0])
    return paths[0], paths[1]


@pytest.fixture(scope="module")
def epub(builds) -> zipfile.ZipFile:
    with zipfile.ZipFile(builds[0]) as archive:
        yield archive


@pytest.fixture(scope="module")
def opf(epub):
    return etree.fromstring(epub.read("EPUB/package.opf"))


def test_only_the_epub_is_written(builds):
    out = builds[0].parent
    # The EPUB and the map of its lines to the Markdown, which check reads.
    assert sorted(p.name for p in out.iterdir() if not p.name.startswith(".")) == [
        "tiny-book.epub", "tiny-book.sources.json"]
    assert not list(out.glob("*.tmp")) and not list(out.glob(".tiny-book.epub.*"))


def test_mimetype_first_stored_without_extra(epub, builds):
    first = epub.infolist()[0]
    assert first.filename == "mimetype"
    assert first.compress_type == zipfile.ZIP_STORED
    assert first.extra == b""
    assert epub.read("mimetype") == b"application/epub+zip"
    # What reading systems sniff: the literal bytes at the start of the file.
    raw = builds[0].read_bytes()
    assert raw[:4] == b"PK\x03\x04"
    assert raw[26:30] == b"\x08\x00\x00\x00"  # name length 8, extra length 0
    assert raw[30:58] == b"mimetypeapplication/epub+zip"


def test_mimetype_only_once_and_zip_is_sound(epub):
    names = epub.namelist()
    assert names.count("mimetype") == 1
    assert len(names) == len(set(names))
    assert epub.testzip() is None


def test_container_points_at_package(epub):
    container = etree.fromstring(epub.read("META-INF/container.xml"))
    rootfiles = container.findall(".//c:rootfile", CONTAINER)
    assert [r.get("full-path") for r in rootfiles] == ["EPUB/package.opf"]
    assert rootfiles[0].get("media-type") == "application/oebps-package+xml"


def test_same_inputs_same_bytes(builds):
    first, second = builds
    with zipfile.ZipFile(first) as a, zipfile.ZipFile(second) as b:
        assert a.namelist() == b.namelist()
        assert [i.date_time for i in a.infolist()] == [i.date_time for i in b.infolist()]
    assert first.read_bytes() == second.read_bytes()


def test_timestamps_come_from_book_date(epub):
    assert {i.date_time for i in epub.infolist()} == {(2026, 1, 1, 0, 0, 0)}


def test_package_metadata(opf):
    assert opf.get("version") == "3.0"
    uid = opf.get("unique-identifier")
    identifier = opf.find("opf:metadata/dc:identifier", OPF)
    assert identifier.get("id") == uid
    assert identifier.text == "urn:uuid:0f1e2d3c-4b5a-4978-8a6b-5c4d3e2f1a00"
    assert opf.findtext("opf:metadata/dc:title", namespaces=OPF) == "Tiny Book"
    assert opf.findtext("opf:metadata/dc:language", namespaces=OPF) == "en"
    assert opf.findtext("opf:metadata/dc:creator", namespaces=OPF) == "Fixture Press"
    modified = opf.findall("opf:metadata/opf:meta[@property='dcterms:modified']", OPF)
    assert [m.text for m in modified] == ["2026-01-01T00:00:00Z"]


def test_spine_order(opf):
    manifest = {i.get("id"): i.get("href") for i in opf.find("opf:manifest", OPF)}
    spine = [ref.get("idref") for ref in opf.find("opf:spine", OPF)]
    assert spine == ["cover", "titlepage", "copyright", "nav", "preface", "alpha", "beta",
                     "glossary"]
    assert [manifest[i] for i in spine[4:]] == ["preface.xhtml", "alpha.xhtml", "beta.xhtml",
                                                "glossary.xhtml"]


def test_manifest_matches_zip(epub, opf):
    items = opf.find("opf:manifest", OPF)
    hrefs = [i.get("href") for i in items]
    assert len(hrefs) == len(set(hrefs))
    in_zip = {n[len("EPUB/"):] for n in epub.namelist() if n.startswith("EPUB/")}
    assert set(hrefs) == in_zip - {"package.opf"}
    nav = [i for i in items if "nav" in (i.get("properties") or "").split()]
    assert [i.get("href") for i in nav] == ["nav.xhtml"]


def test_content_documents_are_xml(epub, opf):
    for item in opf.find("opf:manifest", OPF):
        if item.get("media-type") == "application/xhtml+xml":
            root = etree.fromstring(epub.read("EPUB/" + item.get("href")))
            assert root.tag == "{http://www.w3.org/1999/xhtml}html", item.get("href")


def test_fonts_are_subset(epub, opf):
    faces = load_faces(STYLES)
    assert faces
    fonts = {i.get("href"): i for i in opf.find("opf:manifest", OPF)
             if i.get("href").startswith("fonts/")}
    assert sorted(fonts) == sorted(f"fonts/{face.name}" for face in faces)
    for face in faces:
        data = epub.read(f"EPUB/fonts/{face.name}")
        assert 0 < len(data) < face.path.stat().st_size, face.name
        subset, full = TTFont(io.BytesIO(data)), TTFont(str(face.path))
        assert subset["maxp"].numGlyphs < full["maxp"].numGlyphs, face.name
        cmap = subset.getBestCmap()
        assert all(ord(c) in cmap for c in "Tiny Book lantern"), face.name


def test_subset_fonts_keep_their_shaping_features_and_names():
    """Arabic joins in the EPUB only if its face keeps init/medi/fina/rlig; the face is
    named by name records 1, 2, 4 and 6. Every feature and name record the glyphs kept
    need, as in the full font."""
    from press.source.fonts import subset_font

    faces = {face.family: face for face in load_faces(STYLES)}
    for family, text, features in (("Amiri", "السلام عليكم", {"init", "medi", "fina", "rlig"}),
                                   ("Source Serif Pro", "office affine", {"liga", "kern"})):
        face = faces[family]
        subset, full = TTFont(io.BytesIO(subset_font(face, text))), TTFont(str(face.path))
        tags = {table: {r.FeatureTag for r in font[table].table.FeatureList.FeatureRecord}
                for font in (subset,) for table in ("GSUB", "GPOS") if table in font}
        found = set().union(*tags.values())
        assert features <= found, (family, found)
        names = {n.nameID for n in subset["name"].names}
        assert {1, 2, 4, 6} <= names and names == {n.nameID for n in full["name"].names}


def test_retarget_points_ids_at_their_files():
    files = {"some-heading-id": "alpha.xhtml", "gl-lantern": "glossary.xhtml"}
    text = '<a href="#some-heading-id">a</a> <a href="#gl-lantern">b</a> <a href="#x">c</a>'
    assert retarget(text, files) == ('<a href="alpha.xhtml#some-heading-id">a</a> '
                                     '<a href="glossary.xhtml#gl-lantern">b</a> '
                                     '<a href="#x">c</a>')
    assert retarget('<a href="https://e.org/#top">w</a>', files) == \
        '<a href="https://e.org/#top">w</a>'


def test_links_in_built_epub_resolve(epub, opf):
    """Every internal link names a file of the book and an id that file holds."""
    docs = {}
    for item in opf.find("opf:manifest", OPF):
        if item.get("media-type") == "application/xhtml+xml":
            docs[item.get("href")] = etree.fromstring(epub.read("EPUB/" + item.get("href")))
    ids = {href: {el.get("id") for el in doc.iter() if el.get("id")} for href, doc in docs.items()}
    beta_links = [a.get("href") for a in docs["beta.xhtml"].iter("{%s}a" % XHTML["x"])]
    assert "alpha.xhtml#some-heading-id" in beta_links
    for href, doc in docs.items():
        for a in doc.iter("{%s}a" % XHTML["x"]):
            target = a.get("href")
            if target.startswith(("http:", "https:", "mailto:")):
                continue
            name, _, fragment = target.partition("#")
            name = name or href
            assert name in docs, (href, target)
            assert not fragment or fragment in ids[name], (href, target)


def test_failed_build_keeps_last_good_epub(make_book, tmp_path):
    from conftest import problems_of

    copy = make_book()
    copy.append("chapters/02-beta.md", "\nA [dead end](#nowhere).\n")
    out = tmp_path / "out"
    out.mkdir()
    (out / "tiny-book.epub").write_bytes(b"last good book")
    problems = problems_of(lambda: build_once(copy.root, out, formats=("epub",), log=quiet))
    assert [p.code for p in problems] == ["M016"]
    assert (out / "tiny-book.epub").read_bytes() == b"last good book"
    assert sorted(p.name for p in out.iterdir()) == ["tiny-book.epub"]


def test_a_worker_draws_the_same_cover(tmp_path):
    """The cover drawn by a typesetting worker (what a build does) and drawn in this
    process look the same, pixel for pixel within antialiasing, at the full size. The
    worker has it from the moment it is asked for, so it is drawn while the build goes
    on."""
    from PIL import Image

    from conftest import prepare
    from press.epub.cover import HEIGHT, WIDTH, Pending
    from press.pdf.workers import Typesetters

    prepared = prepare(TINY)
    meta, faces = prepared.book.meta, prepared.faces
    typesetters = Typesetters(1)
    try:
        pending = Pending(meta, faces, STYLES, tmp_path / "a", typesetters=typesetters)
        assert [w.job.key for w in typesetters.workers] == [pending.cover.key]
        apart = pending.png()
        assert not typesetters.busy()
    finally:
        typesetters.close()
    here = Pending(meta, faces, STYLES, tmp_path / "b").png()
    one, other = (Image.open(io.BytesIO(data)).convert("L") for data in (apart, here))
    assert one.size == other.size == (WIDTH, HEIGHT)
    differing = sum(abs(a - b) > 64 for a, b in zip(one.tobytes(), other.tobytes()))
    assert differing <= WIDTH * HEIGHT // 1000
    assert any((tmp_path / "a" / "cover").glob("*.png"))  # kept for the next build
