"""Text positions both sides of the print layout agree on: counted characters.

A place in a block of text is the count of its characters before it that are neither
white space nor a hyphen. White space is collapsed and broken into lines by layout,
and hyphens are added by it (automatic hyphenation writes the hyphenate-character, a
hyphen-minus in print.css, at a line's end): counting neither, the enriched HTML and
WeasyPrint's laid-out text boxes give the same count for the same place.
"""
from __future__ import annotations

import re

# Hyphen-minus (print.css's hyphenate-character), U+2010 (WeasyPrint's default), soft hyphen.
IGNORED = frozenset({"-", "\u2010", "\u00ad"})
# What does not count: \s in a str pattern is what str.isspace() calls white space.
UNCOUNTED = re.compile(r"[\s\-\u2010\u00ad]+")


def counted(c: str) -> bool:
    return not c.isspace() and c not in IGNORED


def weight(text: str) -> int:
    """How many characters of text count towards a position (in C: a book has millions)."""
    return len(UNCOUNTED.sub("", text))
