"""Stage 5b, write the EPUB: render the package from templates and zip it deterministically."""
from __future__ import annotations

import io
import re
import struct
import zlib
from dataclasses import dataclass
from pathlib import Path

from lxml import etree

from press.pdf import pagelist
from press.source.fonts import subset_font
from press.util.memo import Memos
from press.render.links import files_by_id, retarget_kept
from press.render.templates import Renderer

XHTML = "application/xhtml+xml"


@dataclass(frozen=True)
class Item:
    """One file of the publication, as the package document lists it."""

    id: str
    href: str
    media_type: str
    data: bytes
    properties: str = ""
    in_spine: bool = False
    linear: bool = True


# In a warm process each stage keeps, by text (memos): a document's rendered text -> (bytes,
# Markdown line map) ("epub.texts") and -> its block keys ("epub.keys"); (text, the markers
# it receives) -> text with page breaks ("epub.marked"); a file's bytes -> the characters it
# holds ("epub.chars"); (bytes, deflated) -> (CRC, bytes as stored) ("epub.packed").
PER_PART = 3


def part_files(chapters, glossary, memos: Memos) -> dict[str, str]:
    """Which XHTML file holds each id of the book."""
    return files_by_id(chapters, glossary, {"toc": "nav.xhtml", "title-page": "titlepage.xhtml",
                                            "copyright": "copyright.xhtml"},
                       lambda part: f"{part.slug}.xhtml", "glossary.xhtml", memos)


def content_items(ctx, chapters, glossary, starts, render_: Renderer
                  ) -> tuple[list[Item], dict]:
    """The XHTML documents in reading order, the print edition's page breaks marked in them.

    Returns the items and, for each file, the Markdown line of each of its lines.
    """
    memos = render_.memos
    files = part_files(chapters, glossary, memos)
    texts: dict[str, tuple[str, str]] = {}  # href -> (id, text), in reading order

    def doc(id_, template, href, **extra):
        texts[href] = (id_, render_(f"epub/{template}", **ctx, **extra))

    index = ctx.get("index") or ()
    nav = {"toc": toc_entries(chapters, glossary, files, index),
           "landmarks": landmarks(chapters, glossary, index)}
    doc("cover", "cover.xhtml.j2", "cover.xhtml")
    doc("titlepage", "titlepage.xhtml.j2", "titlepage.xhtml")
    doc("copyright", "copyright.xhtml.j2", "copyright.xhtml")
    doc("nav", "nav.xhtml.j2", "nav.xhtml", **nav, page_list=())
    for chapter in chapters:
        doc(chapter.part.slug, "part.xhtml.j2", files[chapter.part.slug],
            chapter=chapter, body=retarget_kept(chapter.xhtml, files, memos))
    if glossary:
        doc("glossary", "glossary.xhtml.j2", "glossary.xhtml")
    if index:
        doc("index", "index.xhtml.j2", "index.xhtml", files=files)
    markers = pagelist.plan(list(starts), keyed_files(texts, memos))
    if markers:
        doc("nav", "nav.xhtml.j2", "nav.xhtml", **nav, page_list=markers)
        texts = mark_pages(texts, markers, memos)
    items, lines = [], {}
    for href, (id_, text) in texts.items():
        data, lines[href] = memos("epub.texts", 64, PER_PART).get(
            text, lambda: source_lines(text))
        items.append(Item(id_, href, XHTML, data, "nav" if id_ == "nav" else "", in_spine=True))
    return items, lines


def keyed_files(texts, memos: Memos) -> dict[str, str]:
    """Which file holds each text block key (data-b), first occurrence first."""
    files: dict[str, str] = {}
    for href, (_, text) in texts.items():
        keys = memos("epub.keys", 64, PER_PART).get(text, lambda: tuple(re.findall(r' data-b="([^"]+)"', text)))
        for key in keys:
            files.setdefault(key, href)
    return files


def mark_pages(texts, markers, memos: Memos) -> dict[str, tuple[str, str]]:
    """Put the page-break markers into the files that receive them.

    Each file is marked on its own (its block keys are its own): a file whose text and
    markers are those of an earlier build is not parsed again.
    """
    receives: dict[str, list] = {}
    for m in markers:
        receives.setdefault(m.href, []).append(m)
    out = dict(texts)
    for href, mine in receives.items():
        text = texts[href][1]
        out[href] = (texts[href][0], memos("epub.marked", 64, PER_PART).get(
            (text, tuple(mine)), lambda: marked(text, href, mine)))
    return out


def marked(text: str, href: str, markers) -> str:
    """One file's text with its page-break markers in place."""
    root = etree.fromstring(text.encode("utf-8"))
    pagelist.place({href: root}, list(markers))
    body = etree.tostring(root, encoding="unicode")
    return f'<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE html>\n{body}\n'


def source_lines(text: str) -> tuple[bytes, tuple[tuple[int, int], ...]]:
    """Drop the build's own attributes; keep, for each line that had one, its Markdown line.

    Returns the file's bytes and (line, Markdown line) pairs."""
    lines = []
    for number, line in enumerate(text.split("\n"), 1):
        found = re.findall(r' data-line="(\d+)"', line)
        if found:
            lines.append((number, int(found[-1])))
    return re.sub(r' data-(?:line|b)="[^"]*"', "", text).encode("utf-8"), tuple(lines)


def toc_entries(chapters, glossary, files, index=()) -> list[dict]:
    entries = []
    for chapter in chapters:
        label = (f"{chapter.part.number}. " if chapter.part.number else "") + chapter.part.title
        href = files[chapter.part.slug]
        children = []
        for h in (h for h in chapter.headings if h.level <= 3):
            node = {"label": h.text, "href": f"{href}#{h.id}", "children": []}
            (children if h.level == 2 or not children else children[-1]["children"]).append(node)
        entries.append({"label": label, "href": href, "children": children})
    if glossary:
        entries.append({"label": "Glossary", "href": "glossary.xhtml", "children": []})
    if index:
        entries.append({"label": "Index", "href": "index.xhtml", "children": []})
    return entries


def landmarks(chapters, glossary, index=()) -> list[dict]:
    marks = [{"type": "cover", "href": "cover.xhtml", "label": "Cover"},
             {"type": "titlepage", "href": "titlepage.xhtml", "label": "Title page"},
             {"type": "toc", "href": "nav.xhtml#toc", "label": "Contents"}]
    body = next((c for c in chapters if c.part.kind == "chapter"), None)
    if body:
        marks.append({"type": "bodymatter", "href": f"{body.part.slug}.xhtml",
                      "label": "Start of content"})
    if glossary:
        marks.append({"type": "glossary", "href": "glossary.xhtml", "label": "Glossary"})
    if index:
        marks.append({"type": "index", "href": "index.xhtml", "label": "Index"})
    return marks


def support_items(cover: bytes, items, faces, images, styles: Path, cache: Path | None,
                  render_: Renderer) -> list[Item]:
    """Cover image (PNG bytes), style sheets, subset fonts (kept in cache) and the book's
    images."""
    memos, kept = render_.memos, render_.memos("epub.chars", 64, PER_PART)
    chars = set().union(*(kept.get(i.data, lambda: frozenset(i.data.decode("utf-8")))
                          for i in items))
    text = "".join(sorted(chars))  # what the fonts must cover
    out = [Item("cover-image", "cover.png", "image/png", cover, "cover-image"),
           Item("css-fonts", "css/fonts.css", "text/css",
                render_("epub/fonts.css.j2", fonts=faces).encode("utf-8")),
           Item("css-epub", "css/epub.css", "text/css", (styles / "css" / "epub.css").read_bytes()),
           Item("css-highlight", "css/highlight.css", "text/css",
                (styles / "css" / "highlight.css").read_bytes()),
           Item("css-highlight-dark", "css/highlight-dark.css", "text/css",
                (styles / "css" / "highlight-dark.css").read_bytes())]
    for n, face in enumerate(faces, 1):
        out.append(Item(f"font-{n}", f"fonts/{face.name}", "font/ttf", subset_font(face, text, cache, memos)))
    media = {".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg",
             ".gif": "image/gif", ".svg": "image/svg+xml", ".webp": "image/webp"}
    for n, image in enumerate(sorted(set(images), key=lambda i: i.name), 1):
        out.append(Item(f"image-{n}", image.name, media.get(image.source.suffix.lower(),
                                                              "application/octet-stream"),
                        image.source.read_bytes()))
    return out


def zip_epub(container: bytes, package: bytes, items: list[Item], timestamp,
             memos: Memos | None = None) -> bytes:
    """mimetype first and stored, then a fixed order and fixed timestamps."""
    entries = [("mimetype", b"application/epub+zip", False),
               ("META-INF/container.xml", container, True), ("EPUB/package.opf", package, True)]
    entries += [(f"EPUB/{item.href}", item.data, True) for item in items]
    return zip_archive(entries, timestamp, memos or Memos())


def zip_archive(entries, timestamp, memos: Memos) -> bytes:
    """A zip file of (name, data, deflate) entries, in order, all with one time stamp.

    Written here rather than with zipfile so that each file's compressed bytes can be
    kept for the next build: only files that changed are compressed again. The layout
    is the plain one (no data descriptors, no zip64: an EPUB stays far below 4 GB).
    """
    year, month, day, hour, minute, second = dos_range(timestamp)
    dos_time = hour << 11 | minute << 5 | second // 2
    dos_date = (year - 1980) << 9 | month << 5 | day
    body, directory = io.BytesIO(), io.BytesIO()
    packed = memos("epub.packed", 64, PER_PART)
    for name, data, deflate in entries:
        crc, stored = packed.get((data, deflate), lambda: pack(data, deflate))
        encoded = name.encode("utf-8")
        flags = 0 if encoded.isascii() else 0x800  # bit 11: the name is UTF-8
        method = 8 if deflate else 0
        common = struct.pack("<HHHHHLLLHH", 20, flags, method, dos_time, dos_date, crc,
                             len(stored), len(data), len(encoded), 0)
        directory.write(b"PK\x01\x02" + struct.pack("<BB", 20, 3) + common +
                        struct.pack("<HHHLL", 0, 0, 0, 0o644 << 16, body.tell()) + encoded)
        body.write(b"PK\x03\x04" + common + encoded + stored)
    if body.tell() + directory.tell() >= 0xFFFFFFFF or len(entries) >= 0xFFFF:
        raise ValueError("the EPUB is too large for a zip file without zip64")
    end = struct.pack("<HHHHLLH", 0, 0, len(entries), len(entries), directory.tell(),
                      body.tell(), 0)
    return body.getvalue() + directory.getvalue() + b"PK\x05\x06" + end


def dos_range(timestamp) -> tuple:
    """A time stamp the zip format can hold (its years run from 1980 to 2107): a book
    dated later is stamped with the last second it has; its metadata keeps the date."""
    if timestamp[0] > 2107:
        return (2107, 12, 31, 23, 59, 58)
    return (1980, 1, 1, 0, 0, 0) if timestamp[0] < 1980 else tuple(timestamp)


def pack(data: bytes, deflate: bool) -> tuple[int, bytes]:
    """A file's CRC-32 and its bytes as the zip stores them (raw deflate, level 9)."""
    if not deflate:
        return zlib.crc32(data), data
    squeeze = zlib.compressobj(9, zlib.DEFLATED, -15)
    return zlib.crc32(data), squeeze.compress(data) + squeeze.flush()
