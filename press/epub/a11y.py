"""The EPUB's accessibility metadata, derived from what the book contains."""
from __future__ import annotations


def accessibility(chapters, glossary, images, identifier: str, paged: bool) -> dict:
    """Access modes, features, a summary and the conformance claim, from the book's facts.

    The claim is made only when what the build enforces holds: alt text and heading order
    are enforced, every document declares its language, and tables need header cells.
    """
    features = ["structuralNavigation", "tableOfContents", "readingOrder"]
    if images:
        features.append("alternativeText")
    if paged:
        features += ["pageBreakMarkers", "pageNavigation"]
    modes = ["textual"] + (["visual"] if images else [])
    said = ["Headings mark every chapter and section, and a table of contents and landmarks "
            "lead to each part"]
    if glossary:
        said.append("terms link to a glossary at their first use in each chapter, and back")
    if images:
        said.append("every image has a text alternative")
    if paged:
        said.append("page-break markers and a page list follow the print edition")
    tables_ok = not any(c.headless_tables for c in chapters)
    return {"access_modes": modes, "sufficient": ["textual"], "features": features,
            "summary": "; ".join(said) + ". Nothing depends on colour or sight alone.",
            "conforms_to": "EPUB Accessibility 1.1 - WCAG 2.2 Level AA" if tables_ok else "",
            "page_source": identifier if paged else ""}
