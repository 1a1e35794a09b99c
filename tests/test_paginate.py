"""The print edition laid out part by part: the same book as one long document, and a
warm rebuild after an edit lays out only what the edit changed."""
from __future__ import annotations

from pypdf import PdfReader

from conftest import prepare
from press import pdf
from press.paginate import Paginator
from press.pipeline import print_html


def lay_out(prepared, paginator):
    roots = [prepared.styles, prepared.book.root, *{f.path.parent for f in prepared.faces}]
    return paginator.layout(prepared, lambda segment, items: print_html(prepared, items, segment),
                            prepared.book.root, roots)


def page_texts(document, tmp_path, name):
    target = tmp_path / f"{name}.pdf"
    target.write_bytes(document.write_pdf())
    return [page.extract_text() for page in PdfReader(target).pages]


def test_parts_laid_out_apart_make_the_same_pages_as_one_document(make_book, tmp_path):
    book = make_book()
    prepared = prepare(book.root)
    document, _, items = lay_out(prepared, Paginator())
    # The same book as one document, its glossary given the page references found above:
    # contents numbers come from target-counter, folios from the CSS alone.
    roots = [prepared.styles, book.root, *{f.path.parent for f in prepared.faces}]
    whole = pdf.layout(print_html(prepared, items), book.root, roots, [])
    assert page_texts(document, tmp_path, "parts") == page_texts(whole, tmp_path, "whole")
    assert pdf.anchor_pages(document) == pdf.anchor_pages(whole)


def test_links_between_parts_resolve_in_the_pdf(make_book, tmp_path):
    book = make_book()
    document, _, _ = lay_out(prepare(book.root), Paginator())
    target = tmp_path / "book.pdf"
    target.write_bytes(document.write_pdf())
    reader = PdfReader(target)
    names = set(reader.named_destinations)
    assert {"gl-lantern", "alpha", "glossary"} <= names
    links = [a.get_object() for page in reader.pages for a in page.get("/Annots", [])]
    internal = [link for link in links if "/Dest" in link]
    assert internal and all(str(link["/Dest"]) in names for link in internal)


def test_a_warm_rebuild_lays_out_only_the_edited_chapter(make_book, tmp_path):
    book = make_book()
    paginator = Paginator()
    lay_out(prepare(book.root), paginator)
    assert paginator.laid_out >= 4  # front (twice: its numbers were unknown), parts, glossary
    lay_out(prepare(book.root), paginator)
    assert paginator.laid_out == 0  # nothing changed: nothing laid out
    book.replace("chapters/02-beta.md", "\n\n[^1]:", " One more short sentence.\n\n[^1]:")
    document, _, _ = lay_out(prepare(book.root), paginator)
    assert paginator.laid_out == 1  # that chapter only: its page count did not change
    assert any("One more short sentence." in t for t in page_texts(document, tmp_path, "edit"))


def test_a_new_heading_updates_the_contents(make_book, tmp_path):
    book = make_book()
    paginator = Paginator()
    lay_out(prepare(book.root), paginator)
    book.replace("chapters/02-beta.md", "\n\n[^1]:", "\n\n## A Late Section\n\nText.\n\n[^1]:")
    document, _, _ = lay_out(prepare(book.root), paginator)
    contents = next(t for t in page_texts(document, tmp_path, "after") if "Contents" in t)
    assert "A Late Section" in contents


def test_page_references_follow_the_pages_added():
    """press.pdf caches pydyf's page references by page count; it must stay exact."""
    import pydyf

    import press.pdf  # noqa: F401  (installs the cached property)

    document = pydyf.PDF()
    for n in range(3):
        document.add_page(pydyf.Dictionary({"Type": "/Page"}))
        kids = document.pages["Kids"]
        assert document.page_references == tuple(f"{k} 0 R".encode() for k in kids[::3])
        assert len(document.page_references) == n + 1
