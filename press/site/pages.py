"""Stage 5c, the screen edition: one HTML page per part, rendered from styles/templates/html."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from press.render.links import files_by_id, retarget_kept
from press.render.templates import Renderer
from press.util.memo import Memo, Memos
from press.util.write import atomic_write, file_stamp

# Page names the edition gives its own furniture; a part with the same slug steps aside.
FURNITURE = ("index", "glossary", "book-index")


@dataclass(frozen=True)
class Page:
    """One file of the screen edition: where it goes (relative to the site) and its bytes."""

    href: str
    data: bytes


def page_of(part) -> str:
    """The page a part becomes: its slug, as in the EPUB, unless that names furniture."""
    return f"{part.slug}-{part.kind}.html" if part.slug in FURNITURE else f"{part.slug}.html"


def page_files(chapters, glossary, memos: Memos) -> dict[str, str]:
    """Which page holds each id of the book, so book-wide '#id' links can cross pages."""
    return files_by_id(chapters, glossary, {"title-page": "index.html", "toc": "index.html",
                                            "copyright": "index.html"}, page_of, "glossary.html",
                       memos)


def reading_order(chapters, glossary, index=()) -> list[dict]:
    """Every page after the front page, in order, with what the navigation shows."""
    order = [{"href": page_of(c.part), "label": _label(c.part)} for c in chapters]
    if glossary:
        order.append({"href": "glossary.html", "label": "Glossary"})
    if index:
        order.append({"href": "book-index.html", "label": "Index"})
    return order


def _label(part) -> str:
    return (f"{part.number}. " if part.number else "") + part.title


def neighbours(order: list[dict], href: str) -> dict:
    """The previous and next pages of one page (the front page comes before the first)."""
    hrefs = ["index.html"] + [o["href"] for o in order]
    labels = ["Contents"] + [o["label"] for o in order]
    i = hrefs.index(href)
    return {"previous": {"href": hrefs[i - 1], "label": labels[i - 1]} if i > 0 else None,
            "next": {"href": hrefs[i + 1], "label": labels[i + 1]} if i + 1 < len(hrefs)
            else None}


def pages(ctx: dict, chapters, glossary, renderer: Renderer, index=()) -> list[Page]:
    """Render the front page, one page per part and the glossary page.

    A page whose template and values are those of an earlier build is not rendered
    again (press.render.templates.Renderer): after one chapter is edited, that chapter's page and
    the pages that show what changed (the contents, the glossary) are.
    """
    memos = renderer.memos
    files = page_files(chapters, glossary, memos)
    order = reading_order(chapters, glossary, index)
    encoded = memos("site.encoded", 64, per_part=3)  # a page's text -> its bytes

    def page(template, href, **extra):
        text = renderer(f"html/{template}", **ctx, files=files, page=href,
                      nav=neighbours(order, href), **extra)
        return Page(href, encoded.get(text, lambda: text.encode("utf-8")))

    out = [page("index.html.j2", "index.html", order=order)]
    for chapter in chapters:
        out.append(page("part.html.j2", page_of(chapter.part), chapter=chapter,
                        body=retarget_kept(chapter.html, files, memos)))
    if glossary:
        out.append(page("glossary.html.j2", "glossary.html"))
    if index:
        out.append(page("book-index.html.j2", "book-index.html"))
    return out


def assets(faces, images, renderer: Renderer) -> list[Page]:
    """Style sheets, the full font files (a preview need not subset) and the book's images."""
    styles = renderer.styles
    fonts = renderer.memos("site.fonts", 32)  # (font file, time stamp and size) -> bytes
    out = [Page("css/fonts.css", renderer.plain("html/fonts.css.j2", fonts=faces).encode()),
           Page("css/screen.css", (styles / "css" / "screen.css").read_bytes()),
           Page("css/highlight.css", (styles / "css" / "highlight.css").read_bytes()),
           Page("css/highlight-dark.css", (styles / "css" / "highlight-dark.css").read_bytes())]
    out += [Page(f"fonts/{face.name}", read(face.path, fonts)) for face in faces]
    out += [Page(image.name, image.source.read_bytes())
            for image in sorted(set(images), key=lambda i: i.name)]
    return out


def read(path: Path, fonts: Memo) -> bytes:
    """A font file's bytes, read again only when its time stamp or size changed."""
    return fonts.get((path, file_stamp(path)), path.read_bytes)


def put(site: Path, page: Page, written: Memo) -> bool:
    """Write a page only when its bytes differ, so unchanged pages keep their time stamps.

    written keeps what this process last wrote to (or found in) each file, and the file's
    time stamp, size and inode then: a file unchanged on disk since is known without
    reading it again.
    """
    target = site / page.href
    last = written.peek(target)
    if last is not None and last[1] == page.data and last[0] == file_stamp(target):
        return False
    same = target.is_file() and target.read_bytes() == page.data
    if not same:
        atomic_write(target, page.data)
    written.put(target, (file_stamp(target), page.data))
    return not same


MANIFEST = ".press-manifest"  # what the last build wrote in html/: all it may remove


def manifest(site: Path) -> set[str]:
    """The files the last build wrote in the site folder, by href: only plain relative
    names inside it (a manifest planted or edited by hand cannot name anything else)."""
    try:
        text = (site / MANIFEST).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return set()
    return {href for href in text.splitlines()
            if href and not href.startswith("/") and ".." not in href.split("/")
            and "\\" not in href and "\0" not in href}


def prune(site: Path, keep: set[str], before: set[str]) -> list[str]:
    """Remove what an earlier build wrote and this one no longer makes (pages of parts
    the book no longer has, images it no longer shows); files press did not write (in
    no manifest) are never touched. Then record what this build wrote."""
    gone = sorted(before - keep)
    for href in gone:
        target = site / href
        if not target.is_symlink() and target.is_file():
            target.unlink()
    atomic_write(site / MANIFEST, "".join(f"{href}\n" for href in sorted(keep)).encode())
    return [href for href in gone if href.endswith(".html")]
