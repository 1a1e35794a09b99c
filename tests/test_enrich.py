"""Stage 3, enrich: source lines, book-wide unique ids, links, headings, images, serialising."""
from __future__ import annotations

import re

import pytest
from lxml import etree

from conftest import codes, only, prepare, prepare_problems, shown_name
from press.enrich.tree import IdRegistry, line_of, parse_fragment, serialise
from pathlib import Path

PIXEL = (Path(__file__).parent / "fixtures" / "pixel.png").read_bytes()  # a whole PNG

XHTML_NS = "http://www.w3.org/1999/xhtml"
EPUB_NS = "http://www.idpf.org/2007/ops"


@pytest.fixture(scope="module")
def prepared():
    from conftest import TINY

    return prepare(TINY)


@pytest.fixture(scope="module")
def chapters(prepared):
    return {c.part.slug: c for c in prepared.chapters}


def ids_in(markup: str) -> list[str]:
    return re.findall(r'\sid="([^"]+)"', markup)


def hrefs_in(markup: str) -> list[str]:
    return re.findall(r'\shref="([^"]+)"', markup)


# --- parse_fragment and line_of -----------------------------------------------------

def test_parse_fragment_turns_data_pos_into_data_line():
    root = parse_fragment('<p data-pos="3:1-4:1">a <em>b</em></p>'
                          '<h2 data-pos="book.md@12:1-13:1" id="h">H</h2>'
                          '<p data-pos="4:3-5:1;5:3-6:1">quoted</p>')
    p, h2, quoted = root
    assert root.tag == "div"
    assert p.get("data-line") == "3"
    assert h2.get("data-line") == "12"
    assert quoted.get("data-line") == "4"
    assert not any(el.get("data-pos") for el in root.iter())


def test_line_of_uses_nearest_block():
    root = parse_fragment('<p data-pos="7:1-8:1">see <a href="#x"><b>here</b></a></p>')
    bold = next(root.iter("b"))
    assert line_of(bold) == 7
    assert line_of(root) is None


def test_parse_fragment_of_empty_text():
    root = parse_fragment("")
    assert root.tag == "div" and len(root) == 0


# --- ids -------------------------------------------------------------------------------

def test_registry_hands_out_unique_ids():
    registry = IdRegistry(reserved=["toc"])
    assert registry.claim("intro", "alpha") == "intro"
    assert registry.claim("intro", "beta") == "beta-intro"
    assert registry.claim("intro", "beta") == "beta-intro-2"
    assert registry.claim("toc", "alpha") == "alpha-toc"


def test_ids_unique_across_the_book(prepared):
    all_ids = [i for c in prepared.chapters for i in ids_in(c.html)]
    all_ids += [c.part.slug for c in prepared.chapters]  # each part's section id
    all_ids += [item.id for item in prepared.glossary]
    assert len(all_ids) == len(set(all_ids)), sorted(i for i in all_ids if all_ids.count(i) > 1)


def test_same_heading_in_two_chapters_gets_distinct_ids(chapters):
    alpha = {h.text: h.id for h in chapters["alpha"].headings}
    beta = {h.text: h.id for h in chapters["beta"].headings}
    assert alpha["Shared Name"] == "shared-name"  # first come keeps the plain id
    assert beta["Shared Name"] != alpha["Shared Name"]
    assert f'id="{beta["Shared Name"]}"' in chapters["beta"].html


def test_intra_chapter_links_follow_renamed_ids(chapters):
    beta = chapters["beta"].html
    new = {h.text: h.id for h in chapters["beta"].headings}["Shared Name"]
    assert re.search(rf'<a href="#{new}">the section</a>', beta)
    assert 'href="#shared-name"' not in beta
    # Pandoc's footnote ids clash too (fn1 in both chapters); their links follow.
    beta_ids = set(ids_in(beta))
    notes = [h for h in hrefs_in(beta) if "fn" in h]
    assert notes and all(h[1:] in beta_ids for h in notes)
    assert "fn1" not in beta_ids


def test_in_chapter_link_kept(chapters):
    assert '<a href="#some-heading-id">this heading</a>' in chapters["alpha"].html


def test_cross_chapter_link_resolved_to_book_wide_id(chapters):
    beta = chapters["beta"].html
    assert '<a href="#some-heading-id">see</a>' in beta
    assert "01-alpha.md" not in beta
    assert 'id="some-heading-id"' in chapters["alpha"].html


def test_every_internal_link_lands_somewhere(prepared):
    targets = {i for c in prepared.chapters for i in ids_in(c.html)}
    targets |= {c.part.slug for c in prepared.chapters} | {g.id for g in prepared.glossary}
    for chapter in prepared.chapters:
        for href in hrefs_in(chapter.html):
            assert href.startswith("#") and href[1:] in targets, (chapter.part.slug, href)


def test_headings_collected_with_levels(chapters):
    assert [(h.level, h.text) for h in chapters["alpha"].headings] == [
        (2, "Some Heading"), (3, "Detail"), (2, "Shared Name")]
    assert chapters["preface"].headings == ()


# --- problems --------------------------------------------------------------------------

def test_broken_link_reported_with_markdown_line(make_book):
    copy = make_book()
    copy.append("chapters/02-beta.md", "\nA [dead end](#no-such-place) here.\n")
    problem = only(prepare_problems(copy.root), "M016")
    assert shown_name(problem).endswith("chapters/02-beta.md")
    assert problem.line == copy.line_of("chapters/02-beta.md", "[dead end]")
    assert "#no-such-place" in problem.message


def test_link_to_unknown_file_is_broken(make_book):
    copy = make_book()
    copy.replace("chapters/02-beta.md", "[see](01-alpha.md#some-heading-id)",
                 "[see](09-nowhere.md#some-heading-id)")
    problem = only(prepare_problems(copy.root), "M016")
    assert problem.line == copy.line_of("chapters/02-beta.md", "09-nowhere.md")


def test_link_to_heading_missing_in_other_chapter(make_book):
    copy = make_book()
    copy.replace("chapters/02-beta.md", "01-alpha.md#some-heading-id", "01-alpha.md#shared")
    problem = only(prepare_problems(copy.root), "M016")
    assert "01-alpha.md#shared" in problem.message


def test_disallowed_link_scheme(make_book):
    # (javascript: links are refused earlier, by press.source.vet: see test_safety.py)
    copy = make_book()
    copy.append("chapters/01-alpha.md", "\nRead [this](file:///etc/passwd).\n")
    problem = only(prepare_problems(copy.root), "M015")
    assert problem.line == copy.line_of("chapters/01-alpha.md", "file:///etc/passwd")


def test_web_links_left_alone(make_book):
    copy = make_book()
    copy.append("chapters/01-alpha.md", "\nVisit [the site](https://example.org/a#b).\n")
    alpha = {c.part.slug: c for c in prepare(copy.root).chapters}["alpha"]
    assert 'href="https://example.org/a#b"' in alpha.html


def test_level_one_heading_in_body(make_book):
    copy = make_book()
    copy.append("chapters/01-alpha.md", "\n# A Second Title\n\nText.\n")
    problem = only(prepare_problems(copy.root), "M013")
    assert shown_name(problem).endswith("chapters/01-alpha.md")
    assert problem.line == copy.line_of("chapters/01-alpha.md", "# A Second Title")


def test_skipped_heading_level(make_book):
    copy = make_book()
    copy.append("chapters/02-beta.md", "\n## Later\n\n#### Too Deep\n\nText.\n")
    problem = only(prepare_problems(copy.root), "M014")
    assert problem.line == copy.line_of("chapters/02-beta.md", "#### Too Deep")
    assert "2 to 4" in problem.message


def test_heading_problems_in_several_files_reported_together(make_book):
    copy = make_book()
    copy.append("chapters/01-alpha.md", "\n# Title Again\n\nText.\n")
    copy.append("chapters/02-beta.md", "\n## Later\n\n#### Too Deep\n\nA [bad](#nope) link.\n")
    problems = prepare_problems(copy.root)
    assert {"M013", "M014", "M016"} <= codes(problems)


def test_image_without_alt_text(make_book):
    copy = make_book({"images/map.png": PIXEL})
    copy.append("chapters/01-alpha.md", "\n![](images/map.png)\n")
    problems = prepare_problems(copy.root)
    problem = only(problems, "M017")
    assert problem.line == copy.line_of("chapters/01-alpha.md", "![](images/map.png)")
    assert not {"M018", "M019"} & codes(problems)


def test_image_outside_manuscript(make_book):
    copy = make_book()
    (copy.root.parent / "outside.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    copy.append("chapters/01-alpha.md", "\n![A map](../outside.png)\n")
    problems = prepare_problems(copy.root)
    problem = only(problems, "M018")
    assert problem.line == copy.line_of("chapters/01-alpha.md", "../outside.png")
    assert "M019" not in codes(problems)


def test_remote_image_is_outside_manuscript(make_book):
    copy = make_book()
    copy.append("chapters/02-beta.md", "\n![A map](https://example.org/map.png)\n")
    only(prepare_problems(copy.root), "M018")


def test_missing_image(make_book):
    copy = make_book()
    copy.append("chapters/02-beta.md", "\n![A map](images/nope.png)\n")
    problem = only(prepare_problems(copy.root), "M019")
    assert problem.line == copy.line_of("chapters/02-beta.md", "images/nope.png")
    assert "images/nope.png" in problem.message


def test_good_image_collected(make_book):
    copy = make_book({"images/map.png": PIXEL})
    copy.append("chapters/02-beta.md", "\n![A map of the ridge](images/map.png)\n")
    prepared = prepare(copy.root)
    assert [(i.name, i.source) for i in prepared.images] == [
        ("images/map.png", (copy.root / "images" / "map.png").resolve())]
    beta = {c.part.slug: c for c in prepared.chapters}["beta"]
    assert 'src="images/map.png"' in beta.xhtml
    assert 'alt="A map of the ridge"' in beta.xhtml


# --- serialise -------------------------------------------------------------------------

def parse_xhtml(body: str):
    wrapped = f'<div xmlns="{XHTML_NS}" xmlns:epub="{EPUB_NS}">{body}</div>'
    return etree.fromstring(wrapped.encode("utf-8"))


def test_serialise_xml_is_well_formed_and_names_epub_type():
    root = parse_fragment('lead & <p data-pos="2:1-3:1">A <a href="#gl-x" '
                          'data-epub-type="glossref">term</a> &amp; more<br>line</p>'
                          '<hr><p data-pos="4:1-5:1">x &lt; y</p>')
    xml = serialise(root, xml=True)
    tree = parse_xhtml(xml)
    link = tree.find(f".//{{{XHTML_NS}}}a")
    assert link.get(f"{{{EPUB_NS}}}type") == "glossref"
    assert "data-epub-type" not in xml
    assert 'data-line="2"' in xml  # kept for the EPUB stage's map back to Markdown lines
    assert tree.text.startswith("lead &")  # leading text kept and escaped
    assert tree.findtext(f".//{{{XHTML_NS}}}p[2]") == "x < y"
    assert tree.find(f".//{{{XHTML_NS}}}hr") is not None


def test_serialise_html_keeps_data_epub_type_and_drops_lines():
    root = parse_fragment('<p data-pos="2:1-3:1"><a href="#x" data-epub-type="glossref">t</a>'
                          '<br></p>')
    text = serialise(root, xml=False)
    assert 'data-epub-type="glossref"' in text
    assert "epub:type" not in text
    assert "data-line" not in text
    assert "<br>" in text


def test_chapter_xhtml_parses_as_xml(prepared):
    for chapter in prepared.chapters:
        tree = parse_xhtml(chapter.xhtml)
        assert tree.find(f".//{{{XHTML_NS}}}p") is not None
        assert "data-line" not in chapter.html
        assert 'data-b="' in chapter.html  # block keys shared by both editions
    alpha = next(c for c in prepared.chapters if c.part.slug == "alpha")
    tree = parse_xhtml(alpha.xhtml)
    assert tree.findall(f".//{{{XHTML_NS}}}a[@{{{EPUB_NS}}}type='glossref']")


def test_xhtml_keeps_lines_when_read_with_positions():
    """The XHTML keeps each block's Markdown line (data-line) for the EPUB's source map,
    when the book is read with positions (as check builds it); the HTML never does."""
    from conftest import STYLES, TINY, quiet
    from press.pipeline import prepare as run_prepare
    from press.workspace import Workspace

    for positions in (True, False):
        found = run_prepare(Workspace(None), TINY, STYLES, log=quiet, positions=positions)
        for chapter in found.chapters:
            assert ("data-line" in chapter.xhtml) is positions
            assert "data-line" not in chapter.html


def test_weight_counts_what_counted_counts():
    """weight() (a regular expression) counts exactly the characters counted() does
    (str.isspace and the hyphens): every white space of Unicode, hyphens, scripts."""
    import random

    from press.util.weight import counted, weight

    spaces = [c for c in map(chr, range(0x110000)) if c.isspace()]
    alphabet = spaces + ["-", "\u2010", "\u00ad", "\u2011", "a", "\u0643", "\u4e66", "\u200b"]
    generator = random.Random(7)
    for _ in range(500):
        text = "".join(generator.choice(alphabet) for _ in range(generator.randint(0, 60)))
        assert weight(text) == sum(1 for c in text if counted(c)), repr(text)
