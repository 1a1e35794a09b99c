"""Stage 5b, write the EPUB: render the package from templates and zip it deterministically."""
from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path

from lxml import etree

from . import pagelist
from .fonts import subset_font
from .render import render

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


def retarget(xhtml: str, files_by_id: dict[str, str]) -> str:
    """Book-wide '#id' links become 'file.xhtml#id' once the book is split into files."""
    def swap(match):
        target = match.group(1)
        return f'href="{files_by_id.get(target, "")}#{target}"'
    return re.sub(r'href="#([^"]+)"', swap, xhtml)


def files_by_id(chapters, glossary, furniture: dict, file_of, glossary_file: str) -> dict:
    """Which file of a book split into files holds each id (EPUB, screen edition)."""
    files = dict(furniture)
    for chapter in chapters:
        name = file_of(chapter.part)
        files[chapter.part.slug] = name
        files.update((i, name) for i in re.findall(r'\sid="([^"]+)"', chapter.xhtml))
    if glossary:
        files["glossary"] = glossary_file
        files.update((item.id, glossary_file) for item in glossary)
    return files


def part_files(chapters, glossary) -> dict[str, str]:
    """Which XHTML file holds each id of the book."""
    return files_by_id(chapters, glossary, {"toc": "nav.xhtml", "title-page": "titlepage.xhtml",
                                            "copyright": "copyright.xhtml"},
                       lambda part: f"{part.slug}.xhtml", "glossary.xhtml")


def content_items(ctx, chapters, glossary, styles: Path, starts=()) -> tuple[list[Item], dict]:
    """The XHTML documents in reading order, the print edition's page breaks marked in them.

    Returns the items and, for each file, the Markdown line of each of its lines.
    """
    files = part_files(chapters, glossary)
    texts: dict[str, tuple[str, str]] = {}  # href -> (id, text), in reading order

    def doc(id_, template, href, **extra):
        texts[href] = (id_, render(styles, f"epub/{template}", **ctx, **extra))

    nav = {"toc": toc_entries(chapters, glossary, files), "landmarks": landmarks(chapters, glossary)}
    doc("cover", "cover.xhtml.j2", "cover.xhtml")
    doc("titlepage", "titlepage.xhtml.j2", "titlepage.xhtml")
    doc("copyright", "copyright.xhtml.j2", "copyright.xhtml")
    doc("nav", "nav.xhtml.j2", "nav.xhtml", **nav, page_list=())
    for chapter in chapters:
        doc(chapter.part.slug, "part.xhtml.j2", files[chapter.part.slug],
            chapter=chapter, body=retarget(chapter.xhtml, files))
    if glossary:
        doc("glossary", "glossary.xhtml.j2", "glossary.xhtml")
    markers = pagelist.plan(list(starts), keyed_files(texts))
    if markers:
        doc("nav", "nav.xhtml.j2", "nav.xhtml", **nav, page_list=markers)
        texts = mark_pages(texts, markers)
    items, lines = [], {}
    for href, (id_, text) in texts.items():
        text, lines[href] = source_lines(text)
        items.append(Item(id_, href, XHTML, text.encode("utf-8"),
                          "nav" if id_ == "nav" else "", in_spine=True))
    return items, lines


def keyed_files(texts) -> dict[str, str]:
    """Which file holds each text block key (data-b), first occurrence first."""
    files: dict[str, str] = {}
    for href, (_, text) in texts.items():
        for key in re.findall(r' data-b="([^"]+)"', text):
            files.setdefault(key, href)
    return files


def mark_pages(texts, markers) -> dict[str, tuple[str, str]]:
    """Put the page-break markers into the files that receive them."""
    touched = {m.href for m in markers}
    trees = {href: etree.fromstring(texts[href][1].encode("utf-8")) for href in touched}
    pagelist.place(trees, markers)
    out = dict(texts)
    for href, root in trees.items():
        body = etree.tostring(root, encoding="unicode")
        out[href] = (texts[href][0], f'<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE html>\n{body}\n')
    return out


def source_lines(text: str) -> tuple[str, list[tuple[int, int]]]:
    """Drop the build's own attributes; keep, for each line that had one, its Markdown line."""
    lines = []
    for number, line in enumerate(text.split("\n"), 1):
        found = re.findall(r' data-line="(\d+)"', line)
        if found:
            lines.append((number, int(found[-1])))
    return re.sub(r' data-(?:line|b)="[^"]*"', "", text), lines


def toc_entries(chapters, glossary, files) -> list[dict]:
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
    return entries


def landmarks(chapters, glossary) -> list[dict]:
    marks = [{"type": "cover", "href": "cover.xhtml", "label": "Cover"},
             {"type": "titlepage", "href": "titlepage.xhtml", "label": "Title page"},
             {"type": "toc", "href": "nav.xhtml#toc", "label": "Contents"}]
    body = next((c for c in chapters if c.part.kind == "chapter"), None)
    if body:
        marks.append({"type": "bodymatter", "href": f"{body.part.slug}.xhtml",
                      "label": "Start of content"})
    if glossary:
        marks.append({"type": "glossary", "href": "glossary.xhtml", "label": "Glossary"})
    return marks


def support_items(ctx, items, faces, images, styles: Path, cache: Path | None = None) -> list[Item]:
    """Cover image, style sheets, subset fonts and the book's images."""
    # The characters the book uses, found once for all faces (the text is megabytes).
    text = "".join(set("".join(i.data.decode("utf-8") for i in items)))
    out = [Item("cover-image", "cover.svg", "image/svg+xml",
                render(styles, "epub/cover.svg.j2", **ctx).encode("utf-8"), "cover-image"),
           Item("css-fonts", "css/fonts.css", "text/css",
                render(styles, "epub/fonts.css.j2", fonts=faces).encode("utf-8")),
           Item("css-epub", "css/epub.css", "text/css", (styles / "css" / "epub.css").read_bytes())]
    for n, face in enumerate(faces, 1):
        out.append(Item(f"font-{n}", f"fonts/{face.name}", "font/ttf", subset_font(face, text, cache)))
    media = {".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg",
             ".gif": "image/gif", ".svg": "image/svg+xml", ".webp": "image/webp"}
    for n, image in enumerate(sorted(set(images), key=lambda i: i.name), 1):
        out.append(Item(f"image-{n}", image.name, media.get(image.source.suffix.lower(),
                                                              "application/octet-stream"),
                        image.source.read_bytes()))
    return out


def zip_epub(container: bytes, package: bytes, items: list[Item], timestamp) -> bytes:
    """mimetype first and stored, then a fixed order and fixed timestamps."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        def add(name, data, method=zipfile.ZIP_DEFLATED):
            info = zipfile.ZipInfo(name, date_time=timestamp)
            info.compress_type = method
            info.external_attr = 0o644 << 16
            archive.writestr(info, data, compresslevel=9 if method else None)
        add("mimetype", b"application/epub+zip", zipfile.ZIP_STORED)
        add("META-INF/container.xml", container)
        add("EPUB/package.opf", package)
        for item in items:
            add(f"EPUB/{item.href}", item.data)
    return buffer.getvalue()
