"""Stage 5c, the screen edition: pages, links across pages, glossary both ways, fonts, rewrites."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from lxml import html

from conftest import STYLES, prepare, quiet
from press.pipeline import produce
from press.workspace import Workspace


def build_html(prepared, out: Path, log=quiet) -> list[str]:
    """The screen edition alone, into out/html; the pages whose bytes changed."""
    return produce(Workspace(out), prepared, ("html",), log)[1]


def parse(site: Path, name: str):
    return html.fromstring((site / name).read_bytes())


def links(page) -> list[str]:
    return [a.get("href") for a in page.iter("a")]


@pytest.fixture
def site(make_book, tmp_path) -> Path:
    build_html(prepare(make_book().root), tmp_path / "out", log=quiet)
    return tmp_path / "out" / "html"


def test_one_page_per_part_plus_front_page_and_glossary(site):
    pages = sorted(p.name for p in site.glob("*.html"))
    assert pages == ["alpha.html", "beta.html", "glossary.html", "index.html", "preface.html"]
    alpha = parse(site, "alpha.html")
    assert alpha.findtext(".//h1") == "Alpha: The First Chapter"
    assert "The lantern hangs by the door." in alpha.text_content()
    assert alpha.get("lang") == "en"


def test_front_page_has_title_and_contents_to_every_page_and_section(site):
    index = parse(site, "index.html")
    assert index.findtext(".//h1") == "Tiny Book"
    toc = links(index.get_element_by_id("toc"))
    assert toc[:3] == ["preface.html", "alpha.html", "alpha.html#some-heading-id"]
    assert "beta.html#beta-detail" in toc and toc[-1] == "glossary.html"


def test_every_internal_link_reaches_an_existing_page_and_id(site):
    ids = {p.name: {el.get("id") for el in parse(site, p.name).iter() if el.get("id")}
           for p in site.glob("*.html")}
    checked = 0
    for name in ids:
        for href in links(parse(site, name)):
            if href.startswith(("http:", "https:", "mailto:")):
                continue
            target, _, fragment = href.partition("#")
            target = target or name
            assert target in ids, f"{name}: link to missing page {href}"
            assert not fragment or fragment in ids[target], f"{name}: link to missing id {href}"
            checked += 1
    assert checked > 30


def test_cross_references_cross_pages(site):
    beta = parse(site, "beta.html")
    assert "alpha.html#some-heading-id" in links(beta)  # 01-alpha.md#some-heading-id
    assert "beta.html#beta-shared-name" in links(beta)  # its own section, renamed book-wide


def test_terms_link_to_the_glossary_and_entries_link_back(site):
    alpha = parse(site, "alpha.html")
    term = next(a for a in alpha.iter("a") if a.get("class") == "term")
    assert term.text == "lantern" and term.get("href") == "glossary.html#gl-lantern"
    glossary = parse(site, "glossary.html")
    entry = glossary.get_element_by_id("gl-lantern").getnext()
    back = [a.get("href") for a in entry.iter("a")]
    assert f"alpha.html#{term.get('id')}" in back
    assert any(h.startswith("beta.html#t-lantern") for h in back)
    assert "#gl-waypoint" in back  # see also, on the same page


def test_fonts_come_from_fonts_yaml(site):
    families = yaml.safe_load((STYLES / "fonts.yaml").read_text(encoding="utf-8"))
    css = (site / "css" / "fonts.css").read_text(encoding="utf-8")
    for family in families:
        assert f'font-family: "{family["family"]}"' in css
        for face in family["faces"]:
            name = Path(face["file"]).name
            assert f'url("../fonts/{name}")' in css
            assert (site / "fonts" / name).stat().st_size > 10_000
    screen = (site / "css" / "screen.css").read_text(encoding="utf-8")
    assert '"Source Serif Pro"' in screen and '"Source Sans Pro"' in screen


def test_pages_carry_no_live_reload_script(site):
    for page in site.glob("*.html"):
        text = page.read_text(encoding="utf-8")
        assert "<script" not in text and "__press" not in text


def test_rebuild_writes_only_changed_files(make_book, tmp_path):
    book = make_book()
    out = tmp_path / "out"
    first = build_html(prepare(book.root), out, log=quiet)
    assert {"index.html", "alpha.html", "glossary.html", "css/screen.css"} <= set(first)
    assert build_html(prepare(book.root), out, log=quiet) == []
    book.replace("chapters/02-beta.md", "The ridge lines fade.", "The ridge lines glow.")
    assert build_html(prepare(book.root), out, log=quiet) == ["beta.html"]
    # A new use of a term adds a back-reference to the glossary's page too.
    book.append("chapters/02-beta.md", "\nOne more waypoint.\n")
    assert sorted(build_html(prepare(book.root), out, log=quiet)) == ["beta.html", "glossary.html"]


def test_removed_part_loses_its_page(make_book, tmp_path):
    book = make_book()
    out = tmp_path / "out"
    build_html(prepare(book.root), out, log=quiet)
    book.replace("book.yaml", "front:\n  - front/preface.md\n", "")
    book.remove("front/preface.md")  # a file not listed would be an error (M012)
    changed = build_html(prepare(book.root), out, log=quiet)
    assert "preface.html" in changed and not (out / "html" / "preface.html").exists()
    assert "preface.html" not in links(parse(out / "html", "index.html"))


def test_part_named_index_keeps_the_front_page(make_book, tmp_path):
    book = make_book({"front/index.md": "---\ntitle: Index Notes\n---\n\nNotes.\n"})
    book.replace("book.yaml", "  - front/preface.md\n", "  - front/preface.md\n  - front/index.md\n")
    build_html(prepare(book.root), tmp_path / "out", log=quiet)
    site = tmp_path / "out" / "html"
    assert parse(site, "index.html").findtext(".//h1") == "Tiny Book"
    assert parse(site, "index-front.html").findtext(".//h1") == "Index Notes"
    assert re.search(r'href="index-front.html"', (site / "index.html").read_text())
