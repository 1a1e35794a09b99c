"""Hostile manuscripts through the real `invoke build`: raw HTML that only looks passive,
images that only look like images. Each case failed (exit 0, or a traceback) before the
screen read raw HTML as HTML5 does and allow-listed it; each must now fail with
`file:line: CODE` and a hint, no traceback, and leave the outputs as they were.
"""
from __future__ import annotations

import re
import shutil
import struct
import zlib
from io import BytesIO

import pytest
from PIL import Image

from conftest import TINY
from test_bad_input import run_build, tree

CHAPTER = "chapters/01-alpha.md"
SVG = '<svg xmlns="http://www.w3.org/2000/svg" width="4" height="4">{}</svg>'

RAW_HTML = [
    # where comments and CDATA end: HTML5 (libxml2 2.14, Chromium) versus html.parser
    ("empty-comment-then-script", "<!---> <script>document.title='ran'</script> -->", "S001"),
    ("abrupt-comment", "<!--> <b onclick=\"x()\">b</b> -->", "S002"),
    ("bang-comment-end", "<!-- x --!> <script>x()</script> -->", "S001"),
    ("cdata-ends-at-gt", "<![CDATA[ > <script>x()</script> ]]>", "S001"),
    ("animate-href", "<svg><a><animate attributeName=\"href\" to=\"javascript:alert(1)\"/>"
     "<text>t</text></a></svg>", "S012"),
    ("set-handler", "<svg><set attributeName=\"onclick\" to=\"alert(1)\"/></svg>", "S012"),
    ("handler-with-digits", "<b onclick1=\"x()\">b</b>", "S002"),
    ("handler-odd-name", "<b on-load=\"x()\">b</b>", "S002"),
    ("css-attr", "<span style=\"content: attr(data-x)\">x</span>", "S013"),
    ("css-comment-in-url", "<span style=\"background: u/**/rl(http://e.org/x.png)\">x</span>",
     "S013"),
    ("css-comment-before-url", "<span style=\"background:/**/url(http://e.org/x.png)\">x</span>",
     "S004"),
    ("css-expression", "<span style=\"width: expression(alert(1))\">x</span>", "S013"),
    ("css-position", "<span style=\"position: fixed; inset: 0\">x</span>", "S013"),
    ("area-file", "<map name=\"m\"><area href=\"file:///etc/passwd\" alt=\"x\" shape=\"rect\" "
     "coords=\"0,0,1,1\"></map>", "M015"),
    ("cite-file", "<blockquote cite=\"file:///etc/passwd\">x</blockquote>", "M015"),
    ("svg-link-file", "<svg><a href=\"file:///etc/passwd\"><text>t</text></a></svg>", "M015"),
    ("ping", "<a href=\"https://example.org\" ping=\"http://e.org/track\">x</a>", "S004"),
    ("embed-svg", "<embed src=\"images/x.svg\">", "S001"),
    ("object-svg", "<object data=\"images/x.svg\"></object>", "S001"),
    ("xlink-other-prefix", "<svg xmlns:q=\"http://www.w3.org/1999/xlink\"><a q:href=\"http://"
     "e.org/\"><text>t</text></a></svg>", "S010"),
    ("iframe", "<iframe src=\"https://example.org/\"></iframe>", "S001"),
    ("iframe-srcdoc", "<iframe srcdoc=\"&lt;script&gt;x()&lt;/script&gt;\"></iframe>", "S001"),
    ("foreign-object", "<svg><foreignObject><p>x</p></foreignObject></svg>", "S001"),
    ("annotation-xml", "<math><semantics><mi>x</mi><annotation-xml encoding=\"text/html\">"
     "<b>x</b></annotation-xml></semantics></math>", "S001"),
    ("font", "<font color=\"red\">x</font>", "S009"),
    ("custom-element", "<x-widget>x</x-widget>", "S009"),
    ("formaction", "<a href=\"https://example.org\" formaction=\"javascript:x()\">x</a>", "S003"),
    ("use-data-url", "<svg><use href=\"data:image/svg+xml,&lt;svg/&gt;\"/></svg>", "S003"),
    ("srcset", "<img src=\"images/pixel.png\" alt=\"a\" srcset=\"http://e.org/x.png 2x\">",
     "S004"),
    ("svg-fill-url", "<svg><rect fill=\"url(http://e.org/p.svg#g)\" width=\"1\" height=\"1\"/>"
     "</svg>", "S004"),
    ("div-260-deep", "<div>" * 260 + "deep" + "</div>" * 260, "S011"),
    ("span-3000-deep", "<span>" * 3000 + "deep" + "</span>" * 3000, "S011"),
]


def png(width: int, height: int, idat: bytes | None = None) -> bytes:
    """A PNG file whose header claims width x height, with the pixel data given."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    data = idat if idat is not None else zlib.compress(b"\x00" * 64)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", data)
            + chunk(b"IEND", b""))


def real_png() -> bytes:
    out = BytesIO()
    Image.effect_noise((64, 64), 80).save(out, "PNG")
    return out.getvalue()


def gif_claiming(width: int, height: int) -> bytes:
    screen = struct.pack("<HHBBB", width, height, 0x80, 0, 0) + b"\x00\x00\x00\xff\xff\xff"
    frame = b"\x2c" + struct.pack("<HHHHB", 0, 0, width, height, 0) + b"\x02\x02\x44\x01\x00"
    return b"GIF89a" + screen + frame + b"\x3b"


IMAGES = [
    ("truncated-png", "images/cut.png", real_png()[:300], "M026"),
    ("header-only-png", "images/head.png", real_png()[:33], "M026"),
    ("png-bomb-20000", "images/bomb.png", png(20000, 20000), "M026"),
    ("gif-bomb-65535", "images/bomb.gif", gif_claiming(65535, 65535), "M026"),
    ("wav-named-webp", "images/sound.webp",
     b"RIFF" + struct.pack("<I", 36) + b"WAVEfmt " + struct.pack("<IHHIIHH", 16, 1, 1, 8000,
                                                                 8000, 1, 8) + b"data\0\0\0\0",
     "M026"),
    ("jpeg-magic-only", "images/magic.jpg", b"\xff\xd8\xff", "M026"),
    ("svg-not-xml", "images/broken.svg", b"<svg><p>not closed", "M026"),
    ("svg-not-svg", "images/html.svg", b"<html xmlns='http://www.w3.org/1999/xhtml'/>", "M026"),
    ("svg-import", "images/import.svg",
     SVG.format('<style>@import "http://e.org/x.css";</style><rect width="1" height="1"/>')
     .encode(), "S004"),
    ("svg-stylesheet-pi", "images/pi.svg",
     ('<?xml version="1.0"?><?xml-stylesheet href="http://e.org/x.css"?>'
      + SVG.format('<rect width="1" height="1"/>')).encode(), "S014"),
    ("svg-animate", "images/animate.svg",
     SVG.format('<a><animate attributeName="href" to="javascript:alert(1)"/></a>').encode(),
     "S012"),
    ("svg-prefixed-xlink", "images/xlink.svg",
     ('<svg xmlns="http://www.w3.org/2000/svg" xmlns:q="http://www.w3.org/1999/xlink">'
      '<image q:href="http://e.org/x.png" width="1" height="1"/></svg>').encode(), "S004"),
    ("svg-handler", "images/handler.svg",
     SVG.format('<rect onload="alert(1)" width="1" height="1"/>').encode(), "S002"),
    ("svg-xhtml-script", "images/script.svg",
     SVG.format('<h:script xmlns:h="http://www.w3.org/1999/xhtml">alert(1)</h:script>').encode(),
     "S009"),
]


@pytest.fixture(scope="module")
def good_outputs(tmp_path_factory):
    """One good build of the tiny book, whose output folder every case starts from."""
    root = tmp_path_factory.mktemp("good")
    shutil.copytree(TINY, root / "manuscript")
    assert run_build(root / "manuscript", root / "out").returncode == 0
    return root / "out"


def expect_refusal(book, out, good, file: str, line: int, code: str) -> None:
    """The real build fails at file:line with code and a hint, and changes nothing."""
    shutil.copytree(good, out)
    outputs, manuscript = tree(out), tree(book.root)
    result = run_build(book.root, out)
    said = result.stdout + result.stderr
    assert result.returncode == 1, said
    assert "Traceback" not in said
    where = f"manuscript/{file}:{line}: {code} "
    assert re.search(rf"^{re.escape(where)}.+\n    hint: \S", result.stderr, re.M), \
        f"expected '{where}...' with a hint, got:\n{result.stderr}"
    assert tree(out) == outputs and tree(book.root) == manuscript


@pytest.mark.parametrize(("markup", "code"), [pytest.param(m, c, id=i) for i, m, c in RAW_HTML])
def test_hostile_raw_html_is_refused_at_its_line(markup, code, make_book, good_outputs,
                                                 tmp_path):
    book = make_book()
    line = book.read(CHAPTER).count("\n") + 4  # after the lines appended below
    book.append(CHAPTER, f"\nIntro.\n\n{markup}\n")
    expect_refusal(book, tmp_path / "out", good_outputs, CHAPTER, line, code)


@pytest.mark.parametrize(("name", "data", "code"),
                         [pytest.param(n, d, c, id=i) for i, n, d, c in IMAGES])
def test_bad_image_files_are_refused_before_layout(name, data, code, make_book, good_outputs,
                                                   tmp_path):
    book = make_book({name: data})
    line = book.read(CHAPTER).count("\n") + 2
    book.append(CHAPTER, f"\n![What it shows]({name})\n")
    # An SVG's own problems are reported at its own line (these SVGs are one line long).
    file, line = (name, 1) if code.startswith("S") else (CHAPTER, line)
    expect_refusal(book, tmp_path / "out", good_outputs, file, line, code)


def test_a_whole_image_of_each_type_is_accepted(make_book, tmp_path):
    images = {}
    for kind, suffix in (("PNG", "png"), ("JPEG", "jpg"), ("GIF", "gif"), ("WEBP", "webp")):
        out = BytesIO()
        Image.effect_noise((32, 24), 60).convert("RGB").save(out, kind)
        images[f"images/whole.{suffix}"] = out.getvalue()
    images["images/whole.svg"] = SVG.format(
        '<defs><linearGradient id="g"><stop offset="0" stop-color="#000"/></linearGradient>'
        '</defs><rect fill="url(#g)" width="4" height="4"/>').encode()
    book = make_book(images)
    book.append(CHAPTER, "".join(f"\n![A picture in {n}]({n})\n" for n in images))
    result = run_build(book.root, tmp_path / "out")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Failed to load image" not in result.stdout + result.stderr


def test_a_url_weasyprint_could_not_resolve_is_refused_not_a_crash(tmp_path):
    """WeasyPrint hands the fetcher url=None for a link under a prefix it cannot resolve;
    that is a refusal (W001), not a TypeError out of the worker."""
    from weasyprint.urls import FatalURLFetchingError

    from press.pdf.weasy import ConfinedFetcher, raise_if_refused
    from press.problems import BuildError
    fetcher = ConfinedFetcher([tmp_path])
    with pytest.raises(FatalURLFetchingError):
        fetcher.fetch(None)
    with pytest.raises(BuildError) as refused:
        raise_if_refused(fetcher)
    assert [p.code for p in refused.value.problems] == ["W001"]


@pytest.mark.parametrize(("markup", "code"), [pytest.param(m, c, id=i) for i, m, c in RAW_HTML
                                              if c not in ("S011", "M015")])
def test_what_the_screen_refuses_is_also_never_written(markup, code):
    """The second fence: a tree the enrich stage parses has the refused markup taken out
    before any edition is serialised from it, whatever path the fragment took."""
    from press.enrich.tree import parse_fragment, serialise
    from press.source.vet import parse_raw, refusals

    assert any(found[2] == code for found in refusals(parse_raw(markup)))
    for xml in (False, True):
        written = serialise(parse_fragment(markup), xml=xml)
        assert not list(refusals(parse_raw(written))), written
        assert not re.search(r"<(script|iframe|object|embed|animate|set|font|x-widget)\b|"
                             r"\bon[\w-]+=|javascript:|ping=|q:href", written, re.I), written


@pytest.mark.parametrize("markup", ["<!---> <b>x</b>", "<!--> <b>x</b>", "<!-- a --!> <b>x</b>"])
def test_comments_that_html5_ends_early_are_not_called_unclosed(markup):
    """The closing check reads comments as HTML5 does too: these are whole, passive
    comments followed by markup, not comments left open."""
    from press.source.convert import markdown_to_html
    from press.source.vet import screen
    assert screen(markdown_to_html(f"Intro.\n\n{markup}\n"), "c.md")[0] == []
