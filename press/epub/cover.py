"""Stage 5b, the EPUB's cover: the cover SVG drawn with the book's own faces, as a PNG.

Retailers want a raster cover, and an SVG cover's live text would be drawn by each
reading system in whatever face it has. So the SVG is laid out by WeasyPrint (which
loads the faces of styles/fonts.yaml), the page rasterised by PDFium, and the pixels
written as a PNG with no time stamp or other varying chunk: the same cover and faces
give the same bytes. Kept in the build's cache folder by what it is drawn from.

A build that makes an EPUB starts a typesetting worker while Pandoc runs, and the worker
draws and rasterises the cover: the build process itself never imports WeasyPrint for it
(about 1 s of a cold EPUB build). A build of the EPUB alone asks for the cover as soon as
the book's metadata is loaded, so the worker draws it while Pandoc runs and the chapters
are enriched; after a PDF, the worker draws it once the parts are written.
"""
from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass
from pathlib import Path

from press.problems import BuildError, Problem
from press.render.templates import Renderer
from press.util.memo import keep_entry, unsealed

WIDTH = 1600  # px; the height follows the SVG's own proportions (the trim's: 6 x 9 in)
HEIGHT = 2400
PNG = b"\x89PNG\r\n\x1a\n"  # how a kept cover must begin to be used


@dataclass(frozen=True)
class Cover:
    """A cover to draw: a message to a typesetting worker, which lays it out, writes it
    and rasterises it (paint), and sends back the PNG (press.pdf.workers.Written)."""

    key: str
    html: str
    roots: tuple[str, ...]  # the only folders WeasyPrint may read from
    shift = 0  # a cover has no folios to wait for

    def draw(self, fonts=None) -> bytes:
        """The PNG, drawn here (in a worker: with its font configuration)."""
        return paint(self, fonts)


class Pending:
    """The EPUB's cover, asked for as soon as the book's metadata is known and taken when
    the EPUB is packed: drawn meanwhile by a typesetting worker, if one is given, or
    found in the cache folder when nothing it depends on changed."""

    def __init__(self, meta, faces, styles: Path, cache: Path | None = None,
                 renderer: Renderer | None = None, typesetters=None):
        render_ = renderer or Renderer(styles)
        html = render_("epub/cover.html.j2", meta=meta, fonts=faces, width=WIDTH,
                       height=HEIGHT)
        digest = hashlib.sha256(html.encode("utf-8"))
        for face in faces:
            digest.update(face.path.read_bytes())
        self.key = key = digest.hexdigest()
        self.kept = cache / "cover" / f"{key[:32]}.png" if cache else None
        found = unsealed(self.kept, key) if self.kept is not None else None  # util/memo.py
        self.data = found if found is not None and found.startswith(PNG) else None
        roots = (str(styles), *sorted({str(f.path.parent) for f in faces}))
        self.cover, self.typesetters = Cover(f"cover-{key}", html, roots), typesetters
        if self.data is None and typesetters is not None:
            typesetters.want([self.cover])

    def png(self) -> bytes:
        """The cover as PNG bytes (kept in the cache folder once drawn)."""
        if self.data is None:
            cover = self.cover
            self.data = cover.draw() if self.typesetters is None else \
                drawn_apart(cover, self.typesetters)
            if self.kept is not None:
                keep_entry(self.kept, self.key, self.data)
        return self.data


def paint(cover: Cover, fonts=None) -> bytes:
    """The cover laid out, written and rasterised, here; any WeasyPrint warning fails
    the build. fonts: a worker's font configuration, kept from part to part."""
    from press.pdf.weasy import layout

    warnings: list[str] = []
    document = layout(cover.html, Path(cover.roots[0]), cover.roots, warnings, fonts)
    unwarned(warnings)
    return rasterise(document.write_pdf())


def drawn_apart(cover: Cover, typesetters) -> bytes:
    """The cover as PNG bytes, from the typesetting worker it was given to (or is now)."""
    from press.pdf.workers import Failed, WorkerDied, Written

    if not any(w.job is not None and w.job.key == cover.key for w in typesetters.workers):
        typesetters.want([cover])  # not asked for yet, or its worker was replaced
    while True:
        try:
            message = typesetters.next()
        except WorkerDied as died:
            raise BuildError([Problem("styles/templates/epub/cover.html.j2", None, "W002",
                                      f"the cover: {died}", "build again")]) from None
        if message.key != cover.key:
            continue
        if isinstance(message, Failed):
            if message.problems:
                raise BuildError(message.problems)
            raise RuntimeError(f"drawing the cover failed:\n{message.trace}")
        if isinstance(message, Written):
            return message.data


def unwarned(warnings: list[str]) -> None:
    if warnings:
        raise BuildError([Problem("styles/templates/epub/cover.html.j2", None, "W002",
                                  f"the cover: WeasyPrint says {w}",
                                  "fix the cover template") for w in warnings])


def rasterise(pdf: bytes) -> bytes:
    """The first page at WIDTH px across, as an RGB PNG without metadata."""
    import pypdfium2

    document = pypdfium2.PdfDocument(pdf)
    try:
        page = document[0]
        bitmap = page.render(scale=WIDTH / page.get_width(), draw_annots=False)
        image = bitmap.to_pil().convert("RGB")
    finally:
        document.close()
    if image.size != (WIDTH, HEIGHT):
        image = image.resize((WIDTH, HEIGHT))
    out = io.BytesIO()
    image.save(out, format="PNG", compress_level=6)  # 98 KB in 0.09 s (optimize: 96 KB, 0.17 s)
    return out.getvalue()
