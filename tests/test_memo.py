"""What a warm process keeps: fingerprints by content, templates rendered again only when
what they see changed, files rewritten only when their bytes did."""
from __future__ import annotations

import io
import os
import shutil
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from conftest import STYLES
from press.epub.package import zip_archive
from press.util.memo import Fingerprints, Memo, Unprintable
from press.model import Part
from press.render.templates import Renderer
from press.util.memo import Memos
from press.site.pages import Page, put


@dataclass(frozen=True)
class Note:
    text: str
    tags: tuple = ()
    source: str = field(default="", metadata={"templates": False})


def test_memo_keeps_the_most_recently_used():
    memo, made = Memo(limit=2), []
    for key in "aba" + "c" + "a":
        memo.get(key, lambda: made.append(key) or key.upper())
    assert made == ["a", "b", "c"]  # c pushed out b, the least recently used
    assert memo.get("b", lambda: "again") == "again"


def test_fingerprints_follow_content_not_identity():
    long = "x" * 1000
    one, two = Fingerprints(), Fingerprints()
    assert one.of(Note("a", ("t",))) == two.of(Note("a", ("t",)))
    assert one.of(Note("a", ("t",))) != one.of(Note("a", ("u",)))
    assert one.of((long,)) == two.of(("".join(["x"] * 1000),))
    assert one.of({"a": 1, "b": 2}) != one.of({"b": 2, "a": 1})  # order is what a loop sees
    assert one.of(1) != one.of(True) != one.of("1") and one.of(b"1") != one.of("1")
    assert one.of(Path("a/b")) != one.of("a/b")


def test_fields_no_template_shows_count_only_when_revealed():
    hidden = Fingerprints()
    assert hidden.of(Note("a", source="one")) == hidden.of(Note("a", source="two"))
    shown = Fingerprints(reveal=frozenset({"source"}))
    assert shown.of(Note("a", source="one")) != shown.of(Note("a", source="two"))


def test_a_list_changed_in_place_is_seen_by_the_next_build():
    items = ["a"]
    before = Fingerprints().of((items,))
    items.append("b")
    assert Fingerprints().of((items,)) != before


def test_values_of_unknown_kinds_are_refused():
    with pytest.raises(Unprintable):
        Fingerprints().of(object())


def part(title: str, markdown: str = "text") -> Part:
    return Part("chapter", Path("chapters/01-a.md"), "a", title, title, markdown, 1)


@pytest.fixture
def styles(tmp_path) -> Path:
    copy = tmp_path / "styles"
    shutil.copytree(STYLES, copy)
    return copy


def test_renderer_keeps_a_page_until_what_it_shows_changes(styles):
    from press.model import Chapter, Metadata

    meta = Metadata("T", "C", "en", "urn:x", "2026-01-01", "R", "t")
    def page(title, body="<p>b</p>", markdown="text"):
        chapter = Chapter(part(title, markdown), body, body)
        return Renderer(styles, memos)("epub/part.xhtml.j2", meta=meta, chapter=chapter,
                                       body=body, chapters=("not", "named", "by", "the",
                                                            "template"))
    memos = Memos()  # what the warm process keeps
    first = page("One")
    rendered = memos("render.texts")
    assert page("One") is first and rendered.misses == 1
    assert page("One", markdown="other source, same text") is first  # not shown
    assert "Two" in page("Two") and "<p>c</p>" in page("One", body="<p>c</p>")
    # A template that does show the source is rendered again when it changes.
    template = styles / "templates" / "epub" / "part.xhtml.j2"
    template.write_text(template.read_text(encoding="utf-8").replace(
        "{{ body | safe }}", "{{ body | safe }}<!-- {{ chapter.part.markdown }} -->"),
        encoding="utf-8")
    assert "<!-- text -->" in page("One")
    assert "<!-- new -->" in page("One", markdown="new")


def test_renderer_reads_a_changed_layout_again(styles):
    from press.model import Metadata

    meta = Metadata("T", "C", "en", "urn:x", "2026-01-01", "R", "t")
    memos = Memos()  # one warm process: the first text is kept, so only a change shows
    render = lambda: Renderer(styles, memos)("epub/titlepage.xhtml.j2", meta=meta)  # noqa: E731
    assert "book-title" in render()
    layout = styles / "templates" / "epub" / "layout.xhtml.j2"  # extended, not named
    layout.write_text(layout.read_text(encoding="utf-8").replace("<body", "<body data-x=\"1\""),
                      encoding="utf-8")
    os.utime(layout, ns=(1, 1))  # even with an older time stamp: size and stamp differ
    assert 'data-x="1"' in render()


def test_a_one_off_renderer_renders_without_keys(styles, monkeypatch):
    """A one-off build's renderer (keep=False) renders every text and keeps none: it
    never pays for a key (the templates' names, fingerprints of what they see)."""
    from press.model import Metadata

    meta = Metadata("T", "C", "en", "urn:x", "2026-01-01", "R", "t")
    memos = Memos()

    def no_key(*args, **kwargs):
        raise AssertionError("a key was computed")

    monkeypatch.setattr(Renderer, "key", no_key)
    once = Renderer(styles, memos, keep=False)
    first = once("epub/titlepage.xhtml.j2", meta=meta)
    assert "book-title" in first and once("epub/titlepage.xhtml.j2", meta=meta) == first
    assert "render.texts" not in memos.names()


def test_zip_archive_is_what_zipfile_writes():
    entries = [("mimetype", b"application/epub+zip", False), ("EPUB/a.xhtml", b"<a/>" * 500, True),
               ("EPUB/\u00e9t\u00e9.css", b"body{}", True), ("EPUB/empty", b"", True)]
    ours = zip_archive(entries, (2026, 1, 2, 3, 4, 6), Memos())
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as theirs:
        for name, data, deflate in entries:
            info = zipfile.ZipInfo(name, date_time=(2026, 1, 2, 3, 4, 6))
            info.compress_type = zipfile.ZIP_DEFLATED if deflate else zipfile.ZIP_STORED
            info.external_attr = 0o644 << 16
            info.create_system = 3
            theirs.writestr(info, data, compresslevel=9 if deflate else None)
    assert ours == buffer.getvalue()
    with zipfile.ZipFile(io.BytesIO(ours)) as archive:
        assert archive.testzip() is None
        assert [archive.read(n) for n, _, _ in entries] == [d for _, d, _ in entries]


def test_put_rewrites_a_file_changed_behind_its_back(tmp_path):
    page, written = Page("a.html", b"<p>one</p>"), Memo(64)  # what this process wrote
    assert put(tmp_path, page, written) and not put(tmp_path, page, written)
    (tmp_path / "a.html").write_bytes(b"<p>edited by hand, longer</p>")
    assert put(tmp_path, page, written) and (tmp_path / "a.html").read_bytes() == page.data
    (tmp_path / "a.html").unlink()
    assert put(tmp_path, page, written) and (tmp_path / "a.html").is_file()
