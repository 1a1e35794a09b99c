"""Stage 5c, the screen edition: one HTML page per part, rendered from styles/templates/html."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .epub import files_by_id, retarget
from .render import render
from .write import atomic_write

# Page names the edition gives its own furniture; a part with the same slug steps aside.
FURNITURE = ("index", "glossary")


@dataclass(frozen=True)
class Page:
    """One file of the screen edition: where it goes (relative to the site) and its bytes."""

    href: str
    data: bytes


def page_of(part) -> str:
    """The page a part becomes: its slug, as in the EPUB, unless that names furniture."""
    return f"{part.slug}-{part.kind}.html" if part.slug in FURNITURE else f"{part.slug}.html"


def page_files(chapters, glossary) -> dict[str, str]:
    """Which page holds each id of the book, so book-wide '#id' links can cross pages."""
    return files_by_id(chapters, glossary, {"title-page": "index.html", "toc": "index.html",
                                            "copyright": "index.html"}, page_of, "glossary.html")


def reading_order(chapters, glossary) -> list[dict]:
    """Every page after the front page, in order, with what the navigation shows."""
    order = [{"href": page_of(c.part), "label": _label(c.part)} for c in chapters]
    if glossary:
        order.append({"href": "glossary.html", "label": "Glossary"})
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


def pages(ctx: dict, chapters, glossary, styles: Path) -> list[Page]:
    """Render the front page, one page per part and the glossary page."""
    files = page_files(chapters, glossary)
    order = reading_order(chapters, glossary)

    def page(template, href, **extra):
        text = render(styles, f"html/{template}", **ctx, files=files, page=href,
                      nav=neighbours(order, href), **extra)
        return Page(href, text.encode("utf-8"))

    out = [page("index.html.j2", "index.html", order=order)]
    for chapter in chapters:
        out.append(page("part.html.j2", page_of(chapter.part), chapter=chapter,
                        body=retarget(chapter.html, files)))
    if glossary:
        out.append(page("glossary.html.j2", "glossary.html"))
    return out


def assets(faces, images, styles: Path) -> list[Page]:
    """Style sheets, the full font files (a preview need not subset) and the book's images."""
    out = [Page("css/fonts.css", render(styles, "html/fonts.css.j2", fonts=faces).encode()),
           Page("css/screen.css", (styles / "css" / "screen.css").read_bytes())]
    out += [Page(f"fonts/{face.name}", face.path.read_bytes()) for face in faces]
    out += [Page(image.name, image.source.read_bytes())
            for image in sorted(set(images), key=lambda i: i.name)]
    return out


def put(site: Path, page: Page) -> bool:
    """Write a page only when its bytes differ, so unchanged pages keep their time stamps."""
    target = site / page.href
    if target.is_file() and target.read_bytes() == page.data:
        return False
    atomic_write(target, page.data)
    return True


def prune(site: Path, keep: set[str]) -> list[str]:
    """Remove pages of parts the book no longer has; other files are left alone."""
    gone = [p.name for p in site.glob("*.html") if p.name not in keep]
    for name in gone:
        (site / name).unlink()
    return gone
