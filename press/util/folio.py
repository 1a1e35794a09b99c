"""Printed page numbers: roman in the front matter, arabic from the first chapter."""
from __future__ import annotations


def roman(number: int) -> str:
    numerals = [(1000, "m"), (900, "cm"), (500, "d"), (400, "cd"), (100, "c"), (90, "xc"),
                (50, "l"), (40, "xl"), (10, "x"), (9, "ix"), (5, "v"), (4, "iv"), (1, "i")]
    out = ""
    for value, letters in numerals:
        while number >= value:
            out, number = out + letters, number - value
    return out


def folio(index: int, body_start: int) -> str:
    """The printed page number of a 0-based page index, as print.css numbers pages."""
    return str(index - body_start + 1) if index >= body_start else roman(index + 1)
