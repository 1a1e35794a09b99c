"""Stage 5b, the EPUB's cover: the cover SVG drawn with the book's own faces, as a PNG.

Retailers want a raster cover, and an SVG cover's live text would be drawn by each
reading system in whatever face it has. So the SVG is laid out by WeasyPrint (which
loads the faces of styles/fonts.yaml), the page rasterised by PDFium, and the pixels
written as a PNG with no time stamp or other varying chunk: the same cover and faces
give the same bytes. Kept in the build's cache folder by what it is drawn from.

A build that makes an EPUB starts a typesetting worker while Pandoc runs, and the worker
draws the cover, its WeasyPrint imported and the faces loaded by then: the build process
itself never imports WeasyPrint for the cover (about 1 s of a cold EPUB build).
"""
from __future__ import annotations

import hashlib
import io
from pathlib import Path

from press.problems import BuildError, Problem
from press.render.templates import Renderer
from press.util.memo import keep_entry, unsealed

WIDTH = 1600  # px; the height follows the SVG's own proportions (the trim's: 6 x 9 in)
HEIGHT = 2400


def cover_png(ctx: dict, faces, styles: Path, cache: Path | None = None,
              renderer: Renderer | None = None, typesetters=None) -> bytes:
    """The cover as PNG bytes, from the cache folder when nothing it depends on changed;
    drawn by one of the typesetters (press.pdf.workers) when they are given."""
    render_ = renderer or Renderer(styles)
    html = render_("epub/cover.html.j2", **{**ctx, "fonts": faces}, width=WIDTH, height=HEIGHT)
    digest = hashlib.sha256(html.encode("utf-8"))
    for face in faces:
        digest.update(face.path.read_bytes())
    key = digest.hexdigest()
    kept = cache / "cover" / f"{key[:32]}.png" if cache else None
    found = unsealed(kept, key) if kept is not None else None  # sealed: see util/memo.py
    if found is not None and found.startswith(b"\x89PNG\r\n\x1a\n"):
        return found
    roots = [styles, *sorted({f.path.parent for f in faces})]
    data = rasterise(draw(html, roots) if typesetters is None else
                     drawn_apart(html, roots, key, typesetters))
    if kept is not None:
        keep_entry(kept, key, data)
    return data


def draw(html: str, roots) -> bytes:
    """The cover page as a one-page PDF; any WeasyPrint warning fails the build."""
    from press.pdf.weasy import layout

    warnings: list[str] = []
    document = layout(html, Path(roots[0]), roots, warnings)
    unwarned(warnings)
    return document.write_pdf()


def drawn_apart(html: str, roots, key: str, typesetters) -> bytes:
    """The cover page as a one-page PDF, drawn by a typesetting worker."""
    from press.pdf.workers import Failed, Job, Laid, WorkerDied, Written

    job = Job(f"cover-{key}", html, str(roots[0]), tuple(sorted(map(str, roots))), (),
              False, 0)
    typesetters.want([job])
    warnings: list[str] = []
    while True:
        try:
            message = typesetters.next()
        except WorkerDied as died:
            raise BuildError([Problem("styles/templates/epub/cover.html.j2", None, "W002",
                                      f"the cover: {died}", "build again")]) from None
        if message.key != job.key:
            continue
        if isinstance(message, Laid):
            warnings = message.warnings
        elif isinstance(message, Failed):
            if message.problems:
                raise BuildError(message.problems)
            raise RuntimeError(f"drawing the cover failed:\n{message.trace}")
        elif isinstance(message, Written):
            unwarned(warnings)
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
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()
