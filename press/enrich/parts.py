"""Stage 3 put together: each part enriched on its own, with what it needs from the book.

A part's enrichment depends on the other parts only through a few plain values: the
book-wide ids its elements end up with, the targets of its links, its images' names,
and the glossary's terms. Those are worked out for the whole book first (cheap: from
each part's Scan), then each part is enriched, glossary terms marked and serialised,
and the result is kept for the next build under exactly those inputs. Term uses get
stand-in ids while a chapter is marked; the book-wide ids, which count each term's uses
through the whole book, are put in afterwards. So after one chapter is edited, a warm
process parses, marks and serialises that chapter only, and a change that reaches other
parts (a heading id that another part's id or link depends on, a glossary term, a term
use that renumbers later uses) redoes exactly the parts it reaches.
"""
from __future__ import annotations

import re
import secrets
from dataclasses import dataclass

from press.enrich.tree import (IdRegistry, Image, Scan, apply, check_images, finish, heading_problems,
                     headings_of, link_targets, parse_fragment, reserved_ids, scan)
from press.problems import Problem
from press.enrich.glossary import Marker, Terms, Use, place_uses, terms_key, use_ids
from press.enrich import marks as index_marks
from press.enrich.index import Mark, finder_of
from press.util.memo import Memos
from press.model import Book, Chapter, Part

# A term use's stand-in id: the use's number in its chapter between two private-use
# characters, with this process's own nonce so no text of a book can look like one.
STAND_IN = "\ue000" + secrets.token_hex(8) + "-"
STAND_IN_END = "\ue001"
STAND_INS = re.compile(re.escape(STAND_IN) + r"(\d+)" + STAND_IN_END)


@dataclass(frozen=True, eq=False)  # kept results are compared by identity
class Enriched:
    """One part enriched, terms marked, serialised; term uses still with stand-in ids."""

    html: str
    xhtml: str
    print_html: str  # notes at their calls (press.enrich.notes)
    uses: tuple[tuple[str, bool], ...]  # (entry slug, linked) of each use, in order
    problems: tuple[Problem, ...]  # glossary keys naming no entry (G002)
    places: tuple = ()  # each use's place in the print edition (Use.at), or None


@dataclass(frozen=True)
class Enrichment:
    """The book's parts ready for the templates, and what the glossary needs from them."""

    chapters: tuple[Chapter, ...]
    uses: dict[str, list[Use]]  # entry slug -> its uses in reading order
    images: tuple[Image, ...]
    marks: tuple[Mark, ...] = ()  # index marks with their book-wide ids, in reading order


def enrich_book(book: Book, fragments: dict[str, str], problems: list[Problem],
                memos: Memos | None = None) -> Enrichment:
    """Enrich every part, redoing only those whose inputs changed since a kept build.

    Kept in memos: fragment -> Scan; glossary terms -> Terms; everything a part's
    enrichment depends on -> Enriched; (Enriched, the uses' book-wide ids) -> (html,
    xhtml); (Part, Enriched, ids) -> the chapter's Use objects.
    """
    memos = memos or Memos()
    unit_memo, terms_memo = memos("enrich.units", 64, per_part=2), memos("enrich.terms", 8)
    uses_memo, texts_memo = memos("enrich.uses", 64, per_part=2), memos("enrich.texts", 64, per_part=2)
    trees: dict[str, object] = {}  # parsed in this build: used once, never kept
    finder = finder_of(book, memos)  # index terms found in the text by themselves
    scans = {p.slug: scanned(fragments[p.slug], trees, memos, finder) for p in book.parts}
    registry = IdRegistry(reserved=reserved_ids(book))
    ids = {p.slug: tuple(registry.claim(wanted, p.slug) for wanted in mark_ids(p, scans[p.slug]))
           for p in book.parts}
    id_maps = {slug: dict(zip(scans[slug].ids, ids[slug])) for slug in ids}
    files = {p.path.name: p.slug for p in book.parts}
    terms = terms_key(book.glossary)
    units, images = [], []
    for part in book.parts:
        found = scans[part.slug]
        problems += heading_problems(found, part)
        hrefs = link_targets(found, part, id_maps, files, problems)
        names, shown = check_images(found, part, book.root, problems)
        images += shown
        marked = terms if part.kind == "chapter" else None
        key = (fragments[part.slug], part.slug, part.path, part.kind, ids[part.slug], hrefs,
               names, marked, finder and finder.key)
        units.append(unit_memo.get(key, lambda: enrich_part(
            fragments[part.slug], trees, part, ids[part.slug], hrefs, names,
            None if marked is None else terms_memo.get(marked, lambda: Terms(book.glossary)),
            finder)))
    chapters = [(p, u) for p, u in zip(book.parts, units) if p.kind == "chapter"]
    for _, unit in chapters:
        problems += unit.problems
    given = dict(zip((p.slug for p, _ in chapters),
                     use_ids(registry, [u.uses for _, u in chapters])))
    uses: dict[str, list[Use]] = {e.slug: [] for e in book.glossary}
    for part, unit in chapters:
        # The same Use objects while nothing about them changed: what the templates are
        # given is then recognised at once as unchanged (press.util.memo.Fingerprints).
        made = uses_memo.get((part, unit, given[part.slug]), lambda: tuple(
            (slug, Use(use_id, part, linked, at))
            for (slug, linked), use_id, at in zip(unit.uses, given[part.slug],
                                                  unit.places or (None,) * len(unit.uses))))
        for slug, use in made:
            uses[slug].append(use)
    done = []
    for part, unit in zip(book.parts, units):
        html, xhtml, printed = texts_memo.get((unit, given.get(part.slug, ())),
                                              lambda: with_ids(unit, given.get(part.slug, ())))
        found = scans[part.slug]
        done.append(Chapter(part, html, xhtml, headings_of(found, ids[part.slug]), printed,
                            headless_tables=sum(not has_head for has_head in found.tables)))
    marks = tuple(Mark(kind, key, ids[p.slug][at], p, line, where, found)
                  for p in book.parts
                  for kind, key, at, line, where, found in scans[p.slug].marks)
    return Enrichment(tuple(done), uses, tuple(images), marks)


def mark_ids(part: Part, found: Scan) -> list[str]:
    """The ids a part's elements ask for; its index marks' own (ix-<n>) named after the
    part, so they do not depend on how many marks the parts before it have."""
    wanted = list(found.ids)
    for _, _, at, _, _, _ in found.marks:
        if re.fullmatch(r"ix-\d+", wanted[at]):
            wanted[at] = f"ix-{part.slug}-{wanted[at][3:]}"
    return wanted


def scanned(fragment: str, trees: dict, memos: Memos, finder=None) -> Scan:
    """A fragment's Scan, kept; a tree parsed for it is left in trees for enrich_part.

    Index terms to be found are wrapped as marks first, so their ids are the book's."""
    def make() -> Scan:
        trees[fragment] = parse_fragment(fragment)
        index_marks.prepare(trees[fragment], finder)
        return scan(trees[fragment])
    return memos("enrich.scans", 64, per_part=2).get((fragment, finder and finder.key), make)


def enrich_part(fragment: str, trees: dict, part: Part, ids, hrefs, names,
                terms: Terms | None, finder=None) -> Enriched:
    """One part's tree with the book's facts applied and terms marked (terms None: a part
    outside the body, which is not marked), serialised."""
    root = trees.pop(fragment, None)
    if root is None:
        root = parse_fragment(fragment)
        index_marks.prepare(root, finder)  # as scanned() did, so the ids line up
    apply(root, ids, hrefs, names)
    uses, problems = (), ()
    if terms is not None:
        marker = Marker(terms, part.path, lambda n: f"{STAND_IN}{n}{STAND_IN_END}",
                        part.markdown)
        marker.mark(root)
        uses, problems = tuple(marker.uses), tuple(marker.problems)
    for el in list(root.iter("a", "span")):
        el.attrib.pop("data-term", None)  # only needed while marking
        if index_marks.kind_of(el):  # the index has what they said
            for name in ("data-key", "data-found", "data-sort"):
                el.attrib.pop(name, None)
        elif el.tag == "span" and el.get("class") == "noindex" and len(el.attrib) == 1:
            el.drop_tag()  # it only kept the index's finder out
    found: dict = {}

    def placed(tree) -> None:
        found.update(place_uses(tree, lambda el: el.tag == "span"
                                and el.get("class") == "term-use"))

    html, xhtml, printed = finish(root, part.slug, part.path, placed if uses else None)
    places = tuple(found.get(f"{STAND_IN}{n}{STAND_IN_END}") for n in range(len(uses)))
    return Enriched(html, xhtml, printed, uses, problems, places)


def with_ids(unit: Enriched, ids: tuple[str, ...]) -> tuple[str, str, str]:
    """The part's HTML, XHTML and print HTML with each term use's book-wide id in place."""
    if not unit.uses:
        return unit.html, unit.xhtml, unit.print_html
    def swap(match) -> str:
        return ids[int(match.group(1))]
    texts, counts = zip(*(STAND_INS.subn(swap, text)
                          for text in (unit.html, unit.xhtml, unit.print_html)))
    # The print HTML keeps the elements of linked uses and of uses without a place.
    in_print = sum(at is None for at in unit.places) if unit.places else len(ids)
    if counts != (len(ids), len(ids), in_print):
        raise RuntimeError(f"term uses: {len(ids)} ids for {counts} places")
    return texts
