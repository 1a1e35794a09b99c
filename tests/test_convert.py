"""Stage 2, convert: Pandoc turns Markdown into HTML fragments that remember their lines."""
from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pypandoc
import pytest
from lxml import html

from press.source import convert
from press.source.convert import Pandoc, markdown_to_html
from press.problems import BuildError
from press.source.load import load_book

SOURCE = """\


Opening paragraph with "double" and 'single' quotes, and it's here.

## A Section {#a-section}

A paragraph with <b>x</b> and <span class="k">raw</span> inline HTML,
a [link](#a-section), *emphasis* and `code`.

### A Subsection

- first item
- second item
"""


@pytest.fixture(scope="module")
def fragment() -> str:
    return markdown_to_html(SOURCE)


def blocks(fragment: str) -> dict[str, str]:
    """tag -> data-pos of the first such element."""
    root = html.fragment_fromstring(fragment, create_parent="div")
    found = {}
    for el in root.iter():
        if isinstance(el.tag, str) and el.get("data-pos"):
            found.setdefault(el.tag, el.get("data-pos"))
    return found


def start_line(pos: str) -> int:
    return int(pos.split("@")[-1].split(":")[0])


def test_blocks_keep_their_markdown_line(fragment):
    lines = SOURCE.splitlines()
    where = {tag: start_line(pos) for tag, pos in blocks(fragment).items()}
    assert lines[where["h2"] - 1].startswith("## A Section")
    assert lines[where["h3"] - 1].startswith("### A Subsection")
    assert lines[where["p"] - 1].startswith("Opening paragraph")
    assert lines[where["ul"] - 1].startswith("- first item")
    assert (where["p"], where["h2"], where["h3"]) == (3, 5, 10)


def test_each_paragraph_has_its_own_line(fragment):
    root = html.fragment_fromstring(fragment, create_parent="div")
    paragraph_lines = [start_line(p.get("data-pos")) for p in root.iter("p")]
    assert paragraph_lines == [3, 7]


def test_no_wrapper_spans(fragment):
    assert "wrapper" not in fragment
    root = html.fragment_fromstring(fragment, create_parent="div")
    # Words are not split into per-word spans: the only span is the author's own.
    assert [s.get("class") for s in root.iter("span")] == ["k"]
    assert "Opening paragraph with" in fragment


def test_inline_elements_in_paragraphs_carry_no_position(fragment):
    root = html.fragment_fromstring(fragment, create_parent="div")
    paragraph = list(root.iter("p"))[1]
    inline = [el for el in paragraph.iter() if el is not paragraph]
    assert {el.tag for el in inline} >= {"a", "b", "em", "code", "span"}
    assert all(el.get("data-pos") is None for el in inline)


def test_raw_inline_html_survives_intact(fragment):
    bare = re.sub(r"<!--/?pos[^>]*-->", "", fragment)  # the position comments aside
    assert "<b>x</b>" in bare
    assert '<span class="k">raw</span>' in bare


def test_raw_html_links_and_images_marked_with_their_lines():
    source = "Text over\ntwo <b>lines</b> and\n![alt](images/x.png) here.\n\n<div>\nraw\n</div>\n"
    fragment = markdown_to_html(source)
    assert re.findall(r"<!--pos (\d+):[^>]*-->\s*(<[a-z]+)", fragment) == [
        ("2", "<b"), ("3", "<img"), ("5", "<div")]  # '</b>' is marked too, as line 2
    assert fragment.count("<!--/pos-->") == 3  # after each raw piece: <b>, </b>, the block


def test_smart_quotes(fragment):
    assert "\u201cdouble\u201d" in fragment
    assert "\u2018single\u2019" in fragment
    assert "it\u2019s" in fragment
    assert '"double"' not in fragment


def test_explicit_heading_id_kept(fragment):
    assert re.search(r'<h2[^>]*\bid="a-section"', fragment)
    assert 'href="#a-section"' in fragment


def test_convert_book_keys_fragments_by_slug(tiny):
    book = load_book(tiny)
    fragments = Pandoc().book(book).parts
    assert list(fragments) == ["preface", "alpha", "beta"]
    assert "Some Heading" in fragments["alpha"]
    # Lines are true lines of the chapter file, front matter included.
    alpha = html.fragment_fromstring(fragments["alpha"], create_parent="div")
    h2 = next(alpha.iter("h2"))
    source = (tiny / "chapters" / "01-alpha.md").read_text(encoding="utf-8").splitlines()
    assert source[start_line(h2.get("data-pos")) - 1].startswith("## Some Heading")


def test_glossary_definitions_in_one_run(tiny):
    book = load_book(tiny)
    definitions = Pandoc().book(book).definitions
    root = html.fragment_fromstring(definitions, create_parent="div")
    ids = [d.get("id") for d in root.iter("div") if d.get("id")]
    assert ids == ["def-lantern", "def-ridge-line", "def-waypoint"]
    assert "<em>case</em>" in definitions


# ---------------------------------------------------------------- Pandoc lanes

TRICKY = ["", "\n\n", "No newline at the end <b>x</b>", "\ufeff# After a byte-order mark\n",
          "Windows\r\nline ends\r\n\r\n<i>raw</i>\r\n", "A lone\rcarriage return\n",
          "Tab\tinside\n\n\tcode by tab\n\n-\titem\n\nÄö\tafter two letters\n",
          "```\n\tx\ty\n```\n\n<div>\nraw block at the end</div>"]


def pandoc_command(args: list[str], data: bytes) -> bytes:
    return subprocess.run([pypandoc.get_pandoc_path(), *args], input=data,
                          capture_output=True, check=True).stdout


def lane_answer(job: bytes, data: bytes) -> bytes:
    with convert.PandocLane(convert.lane_command()) as lane:
        return lane.ask(job, data)


@pytest.mark.parametrize("markdown", TRICKY)
def test_lanes_read_as_the_pandoc_command_does(markdown):
    expected = pandoc_command(["-f", convert.FORMAT, "-t", "json"], markdown.encode())
    ours = lane_answer(b"read", convert.as_pandoc_reads(markdown).encode())
    assert json.loads(ours) == json.loads(expected)


@pytest.mark.parametrize("markdown", TRICKY)
def test_lanes_write_as_the_pandoc_command_does(markdown):
    tree = pandoc_command(["-f", convert.FORMAT, "-t", "json"], markdown.encode())
    expected = pandoc_command(["-f", "json", "-t", "html", "--wrap=none"], tree)
    assert lane_answer(b"write", tree) == expected


def test_many_texts_come_back_in_order():
    texts = [(f"Text number {n}.\n" * (n % 7 + 1), f"{n}.md") for n in range(12)]
    fragments = convert.run_pandoc(texts)
    assert [re.search(r"number (\d+)", f).group(1) for f in fragments] == [
        str(n) for n in range(12)]


def test_every_failure_named_at_once(monkeypatch):
    prepare = convert.sourcepos.prepare

    def spoiled(ast):  # a tree Pandoc refuses to read back, for the texts that say so
        spoil = "spoil" in json.dumps(ast)
        return {"pandoc-api-version": [0], "blocks": 1} if spoil else prepare(ast)

    monkeypatch.setattr(convert.sourcepos, "prepare", spoiled)
    with pytest.raises(BuildError) as failed:
        convert.Pandoc().texts([("fine", "a.md"), ("spoil", "b.md"), ("fine too", "c.md"),
                                ("spoil again", "d.md")])
    problems = sorted(failed.value.problems, key=lambda p: str(p.path))
    assert [(p.code, str(p.path)) for p in problems] == [("M027", "b.md"), ("M027", "d.md")]
    assert all(p.message.startswith("Pandoc failed: ") for p in problems)


def test_a_lane_whose_pandoc_dies_starts_another(monkeypatch):
    crashing = convert.DRIVER.replace("local function convert(job, text)\n",
                                      "local function convert(job, text)\n"
                                      "  if text:find('crash') then os.exit(3) end\n")
    assert crashing != convert.DRIVER
    monkeypatch.setattr(convert, "DRIVER", crashing)
    with pytest.raises(BuildError) as failed:  # biggest first: a, then b, then c
        # one lane: the texts after the crash need it
        convert.Pandoc(lanes=1).texts([("the first and longest", "a.md"), ("crash here", "b.md"),
                                       ("after", "c.md")])
    [problem] = failed.value.problems  # c.md was converted by a fresh Pandoc
    assert (problem.code, str(problem.path)) == ("M027", "b.md")
    assert "exit status 3" in problem.message


def test_a_book_pandoc_cannot_read_names_every_file(tiny, monkeypatch):
    monkeypatch.setattr(convert, "FORMAT", convert.FORMAT + "+no_such_extension")
    book = load_book(tiny)
    with pytest.raises(BuildError) as failed:
        convert.Pandoc().book(book)  # a new runner: nothing served from a cache
    named = sorted(str(p.path) for p in failed.value.problems)
    assert named == sorted([*(str(p.path) for p in book.parts), str(book.glossary_path)])
    assert {p.code for p in failed.value.problems} == {"M027"}


# ------------------------------------------------- reading without source positions

FIXTURES = Path(__file__).parent / "fixtures"


def without_positions(fragment: str) -> str:
    """A positioned fragment less what its positions added: data-pos and the markers."""
    return re.sub(r"<!--/?pos[^>]*-->", "", re.sub(r' data-pos="[^"]*"', "", fragment))


@pytest.mark.parametrize("book", ["constructs", "typeset", "code", "tiny", "import"])
def test_a_text_read_without_positions_gives_the_same_html(book):
    """The plain reading (no +sourcepos, read and written in one step) gives the fragment
    the positioned one gives, less its positions: on every fixture part that does not
    need them, figures with captions among them."""
    texts = [p.read_text(encoding="utf-8") for p in sorted((FIXTURES / book).rglob("*.md"))]
    plain = [text for text in texts if not convert.needs_positions(text)]
    assert plain
    with convert.PandocLane(convert.lane_command()) as lane:
        for text in plain:
            assert lane.plain(text, "x") == without_positions(lane.convert(text, "x"))


@pytest.mark.parametrize("markdown, needs", [
    ("Plain prose where a < b, a <= b and &lt;b&gt; is an entity.\n", False),
    ("| a | b |\n|---|---|\n| 1 | 2 |\n\n```html\n&lt;p&gt;\n```\n", False),
    ("A <b>bold</b> word.\n", True),
    ("<!-- lint: ignore P003 -->\nText\n", True),
    ("See <https://example.org>.\n", True),
    ("</div>\n", True),
    ("+---+---+\n| a | b |\n+---+---+\n", True),
    ("Raw `\\x`{=latex} here.\n", True),
    ("\\begin{equation}\nx\n\\end{equation}\n", True),
])
def test_what_needs_positions_whatever_happens(markdown, needs):
    assert convert.needs_positions(markdown) is needs


def test_a_book_is_read_without_positions_where_nothing_needs_them(tiny):
    book = load_book(tiny)
    plain = Pandoc().book(book, positions=False)
    positioned = Pandoc().book(book)
    assert plain.plain == len(book.parts) + 1 and positioned.plain == 0  # + definitions
    for slug, fragment in positioned.parts.items():
        assert "data-pos" in fragment
        assert plain.parts[slug] == without_positions(fragment)


def test_a_problem_found_in_a_part_read_without_positions_names_its_line(tmp_path):
    """Nothing in the chapter needs positions, so it is read without them; the broken
    link found in it sends the book to be read again with them, and the message names
    the link's line."""
    import shutil

    from conftest import prepare_problems

    book = tmp_path / "book"
    shutil.copytree(FIXTURES / "tiny", book)
    chapter = book / "chapters" / "02-beta.md"
    lines = chapter.read_text(encoding="utf-8").split("\n")
    lines[-1:] = ["", "Read [the missing part](#nowhere-at-all) too.", ""]
    chapter.write_text("\n".join(lines), encoding="utf-8")
    assert not convert.needs_positions(chapter.read_text(encoding="utf-8"))
    (problem,) = [p for p in prepare_problems(book) if "nowhere-at-all" in p.message]
    assert (problem.path.name, problem.line) == ("02-beta.md", len(lines) - 1)


def test_check_reads_positions_for_the_source_map_and_the_outputs_are_the_same(tmp_path):
    """A build reads the tiny book without positions and its EPUB's source map names no
    line of a chapter; the build check runs reads them, and every chapter's lines are
    mapped. The EPUBs are the same bytes."""
    import json

    from press.pipeline import build
    from press.workspace import Workspace

    maps, epubs = [], []
    for positions in (False, True):
        out = tmp_path / str(positions)
        with Workspace(out) as ws:
            (epub,) = build(ws, FIXTURES / "tiny", ("epub",), log=lambda *_: None,
                            positions=positions)
        epubs.append(epub.read_bytes())
        maps.append(json.loads((out / f"{epub.stem}.sources.json").read_text()))
    chapters = [href for href in maps[1] if href.endswith(".xhtml") and "lines" in maps[1][href]]
    assert chapters and all(maps[1][href]["lines"] for href in chapters)
    assert not any(maps[0][href]["lines"] for href in chapters)
    assert epubs[0] == epubs[1]
