"""A synthetic manuscript of any size, laid out exactly like manuscript/, for the benchmark.

The prose is nonsense with a grammar: sentences built from small word lists by a seeded
random generator, so the same seed always gives the same book byte for byte. Glossary
terms are two-word phrases built from their own word lists, disjoint from the prose's
words, so every occurrence of a term is one the generator put there on purpose.
"""
from __future__ import annotations

import itertools
import random
import re
import uuid
from dataclasses import dataclass
from pathlib import Path

import yaml

# Calibrated on the print edition (6 x 9 in, print.css): body words per printed page, and
# the pages a book has besides its running text (opening pages, contents, chapter openers
# on recto pages, glossary). Chapters open on recto pages, so the count moves in steps:
# the default book has 264 pages. `invoke bench` reports the real count of every build.
WORDS_PER_PAGE = 284
FIXED_PAGES = 8
PAGES_PER_CHAPTER = 1.0
PAGES_PER_TERM = 0.12

NOUNS = ("keeper", "harbor", "village", "council", "route", "season", "tide", "storm",
         "record", "crew", "market", "coast", "signal", "pilot", "map", "shore", "island",
         "vessel", "lamp", "bell", "tower", "current", "fleet", "station", "report", "method",
         "custom", "school", "workshop", "survey", "journey", "dispute", "ferry", "warehouse",
         "quay", "headland", "estuary", "chart", "crossing", "warning", "lookout", "rope",
         "harvest", "family", "guild", "apprentice", "visitor", "inspector", "river", "lane")
ADJECTIVES = ("old", "narrow", "steady", "distant", "careful", "broad", "young", "patient",
              "common", "small", "heavy", "bright", "uncertain", "local", "early", "late",
              "plain", "seasonal", "shared", "neglected", "modest", "reliable", "crowded")
VERBS = ("keeps", "records", "guides", "marks", "shelters", "measures", "follows", "crosses",
         "repairs", "describes", "outlasts", "reaches", "divides", "joins", "lights",
         "carries", "watches", "tests", "shapes", "supports", "replaces", "names", "counts",
         "trusts", "explains", "circles", "steadies", "lengthens", "narrows", "questions")
ADVERBS = ("slowly", "plainly", "rarely", "often", "quietly", "carefully", "at last",
           "in time", "by custom", "without fuss", "each season", "before dawn")
PHRASES = ("along the coast", "in the older records", "before the winter storms",
           "across the narrow channel", "at the end of the season", "under a clear sky",
           "for the whole village", "beyond the outer rocks", "during the spring tides",
           "with little warning", "near the stone quay", "through the long night",
           "against the prevailing wind", "from one generation to the next")
OPENERS = ("In practice,", "By contrast,", "Over the years,", "For the most part,",
           "At first,", "In the older accounts,", "Even so,", "As a rule,", "On calm days,",
           "Sooner or later,", "In most harbors,", "According to the keepers,")

MODIFIERS = ("amber", "basalt", "cedar", "copper", "coral", "driftwood", "eastern", "flint",
             "granite", "hollow", "indigo", "juniper", "kelp", "lattice", "marble", "northern",
             "ochre", "pewter", "quartz", "russet", "saltmarsh", "slate", "tidal", "umber",
             "velvet", "willow", "windward", "yarrow", "zinc", "heron")
HEADS = ("almanac", "anchorage", "bearing", "beacon", "breakwater", "cairn", "charter",
         "compass", "cordon", "daymark", "fathom", "gazetteer", "halyard", "jetty", "keel",
         "ledger", "lightship", "mooring", "pennant", "quadrant", "reckoning", "sounding",
         "tiller", "tender", "waymark", "sextant", "lantern", "buoy", "plumb", "sounder")
ORIGINALS = ("منارة", "ميناء", "بوصلة", "مرساة", "خريطة", "سفينة", "ساحل", "موجة")


@dataclass(frozen=True)
class Spec:
    """How big a book to make. The defaults give about 260 printed pages."""

    pages: int = 260
    chapters: int = 40
    terms: int = 50
    seed: int = 1

    def __post_init__(self):
        for name in ("pages", "chapters", "terms"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1, not {getattr(self, name)}")

    @property
    def words_per_chapter(self) -> int:
        """Body words each chapter needs for the book to reach `pages` printed pages."""
        overhead = FIXED_PAGES + PAGES_PER_CHAPTER * self.chapters + PAGES_PER_TERM * self.terms
        return max(120, round((self.pages - overhead) * WORDS_PER_PAGE / self.chapters))


@dataclass(frozen=True)
class Term:
    term: str
    plural: str


@dataclass(frozen=True)
class Synthetic:
    """What was written: the manuscript folder and a few counts to check it by."""

    root: Path
    chapters: tuple[Path, ...]
    terms: tuple[str, ...]
    words: int


def make_terms(rng: random.Random, count: int) -> list[Term]:
    """`count` distinct two-word terms, each with its plural as the one variant."""
    pairs = list(itertools.product(MODIFIERS, HEADS))
    if count > len(pairs):
        raise ValueError(f"at most {len(pairs)} glossary terms can be generated, not {count}")
    return [Term(f"{m} {h}", f"{m} {h}s") for m, h in rng.sample(pairs, count)]


class Prose:
    """Sentences and paragraphs from the word lists; every paragraph names glossary terms."""

    def __init__(self, rng: random.Random, terms: list[Term]):
        self.rng, self.terms, self.turn = rng, terms, 0

    def next_term(self) -> Term:
        """Terms in turn, so that every one is used as soon as there are enough paragraphs."""
        term = self.terms[self.turn % len(self.terms)]
        self.turn += 1
        return term

    def noun(self) -> str:
        r = self.rng
        return f"the {r.choice(ADJECTIVES)} {r.choice(NOUNS)}" if r.random() < 0.4 \
            else f"the {r.choice(NOUNS)}"

    def sentence(self, term: Term | None = None) -> str:
        """One sentence; a term, when given, is its subject or (perhaps plural) its object."""
        r = self.rng
        subject, obj = self.noun(), self.noun()
        if term and r.random() < 0.5:
            obj = f"the {term.plural if r.random() < 0.4 else term.term}"
        elif term:
            subject = f"the {term.term}"
        shape = r.randrange(4)
        if shape == 0:
            text = f"{subject} {r.choice(VERBS)} {obj} {r.choice(PHRASES)}"
        elif shape == 1:
            text = f"{r.choice(OPENERS)} {subject} {r.choice(VERBS)} {obj}"
        elif shape == 2:
            text = (f"when {subject} {r.choice(VERBS)} {obj}, {self.noun()} "
                    f"{r.choice(VERBS)} {self.noun()} {r.choice(ADVERBS)}")
        else:
            text = (f"{subject} {r.choice(VERBS)} {obj}, and {self.noun()} "
                    f"{r.choice(VERBS)} {self.noun()} {r.choice(PHRASES)}")
        return text[0].upper() + text[1:] + "."

    def paragraph(self, sentences: tuple[int, int] = (3, 7)) -> str:
        count = self.rng.randint(*sentences)
        with_terms = {0, *self.rng.sample(range(count), min(count, self.rng.randint(0, 2)))}
        return " ".join(self.sentence(self.next_term() if i in with_terms else None)
                        for i in range(count))

    def title(self) -> str:
        r = self.rng
        return f"The {r.choice(ADJECTIVES).title()} {r.choice(NOUNS).title()}"


def words(text: str) -> int:
    return len(re.findall(r"[A-Za-z]+", text))


class ChapterWriter:
    """One chapter: sections and subsections of paragraphs, with the occasional list,
    quotation, footnote, table and cross-reference, until the chapter has its words."""

    def __init__(self, prose: Prose, number: int, files: list[str], budget: int,
                 last: bool = False):
        self.prose, self.rng, self.number = prose, prose.rng, number
        self.files, self.budget, self.last = files, budget, last
        self.blocks: list[str] = []
        self.notes: list[str] = []
        self.count = 0

    def add(self, block: str) -> None:
        self.blocks.append(block)
        self.count += words(block)

    def write(self) -> str:
        for _ in range(2):
            self.add(self.prose.paragraph())
        section = 0
        while self.count < self.budget or section == 0 or self.terms_unused():
            section += 1
            self.section(section)
        notes = "\n\n".join(self.notes)
        return "\n\n".join(self.blocks) + ("\n\n" + notes if notes else "") + "\n"

    def terms_unused(self) -> bool:
        """The last chapter goes on until every term has been used (a tiny book with a
        large glossary would otherwise fail the glossary lint)."""
        return self.last and self.prose.turn < len(self.prose.terms)

    def section(self, n: int) -> None:
        self.add(f"## {self.prose.title()} {{#c{self.number:02d}-s{n}}}")
        self.paragraphs(self.rng.randint(3, 7))
        self.extra()
        if self.rng.random() < 0.5 and self.count < self.budget:
            self.add(f"### {self.prose.title()}")
            self.paragraphs(self.rng.randint(3, 5))

    def paragraphs(self, most: int) -> None:
        """Up to `most` paragraphs, fewer once the chapter has its words (never none)."""
        for n in range(most):
            if n and self.count >= self.budget:
                break
            self.add(self.body_paragraph())

    def body_paragraph(self) -> str:
        text, r = self.prose.paragraph(), self.rng
        if r.random() < 0.12:
            label = f"n{self.number:02d}-{len(self.notes) + 1}"
            text += f"[^{label}]"
            self.notes.append(f"[^{label}]: {self.prose.sentence()}")
        if r.random() < 0.1 and len(self.files) > 1:
            other = r.choice([i for i in range(len(self.files)) if i + 1 != self.number])
            text += (f" Compare [chapter {other + 1}]"
                     f"({self.files[other]}#c{other + 1:02d}-s1).")
        elif r.random() < 0.05:
            text += f" See [the opening section](#c{self.number:02d}-s1) above."
        return text

    def extra(self) -> None:
        """At most one list, quotation or table after a section's first paragraphs."""
        roll, r = self.rng.random(), self.rng
        if roll < 0.15:
            items = [self.prose.sentence(self.prose.next_term() if r.random() < 0.3 else None)
                     for _ in range(r.randint(3, 5))]
            bullet = "1." if r.random() < 0.4 else "-"
            self.add("\n".join(f"{bullet} {item}" for item in items))
        elif roll < 0.25:
            self.add("> " + self.prose.paragraph((2, 3)))
        elif roll < 0.30:
            rows = [f"| {r.choice(NOUNS)} | {r.randint(2, 90)} | {r.choice(PHRASES)} |"
                    for _ in range(r.randint(3, 5))]
            self.add("\n".join(["| Item | Count | Where |", "|---|---:|---|", *rows]))


def book_yaml(spec: Spec, files: list[str]) -> str:
    data = {
        "title": "Signals of the Coast",
        "subtitle": f"A Synthetic Book of {spec.chapters} Chapters for Benchmarks",
        "slug": "synthetic-book",
        "creator": "The Press Benchmark",
        "publisher": "Press",
        "language": "en",
        "identifier": f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, f'press-bench/{spec}')}",
        "date": "2026-01-01",
        "rights": "Generated text, free of rights.",
        "description": "Generated prose for timing the press pipeline.",
        "subjects": ["Benchmarks", "Coastal signals"],
        "trim": {"width": "6in", "height": "9in"},
        "front": ["front/preface.md"],
        "chapters": [f"chapters/{f}" for f in files],
        "back": ["glossary", "index"],
    }
    return "# Generated by bench/synth.py; do not edit.\n" + yaml.safe_dump(
        data, sort_keys=False, allow_unicode=True, width=88)


def glossary_yaml(prose: Prose, terms: list[Term]) -> str:
    """One entry a term, in alphabetical order, some with "see also" and an original script."""
    r, entries = prose.rng, []
    for n, term in enumerate(sorted(terms, key=lambda t: t.term)):
        definition = emphasise(r, " ".join(prose.sentence() for _ in range(r.randint(1, 3))))
        entry: dict = {"term": term.term, "variants": [term.plural], "definition": definition}
        others = [t.term for t in terms if t is not term]
        if others and r.random() < 0.5:
            entry["see"] = sorted(r.sample(others, min(len(others), r.randint(1, 2))))
        if n % 10 == 3:
            entry["original"] = {"text": r.choice(ORIGINALS), "lang": "ar"}
        entries.append(entry)
    return "# Generated by bench/synth.py; do not edit.\n" + yaml.safe_dump(
        entries, sort_keys=False, allow_unicode=True, width=88)


def emphasise(rng: random.Random, text: str) -> str:
    """Set one plain word of a definition in italics, as real definitions often do."""
    tokens = text.split(" ")
    plain = [i for i, t in enumerate(tokens) if i and re.fullmatch(r"[a-z]{4,}", t)]
    if plain:
        i = rng.choice(plain)
        tokens[i] = f"*{tokens[i]}*"
    return " ".join(tokens)


def front_matter(title: str) -> str:
    return "---\n" + yaml.safe_dump({"title": title}, allow_unicode=True) + "---\n\n"


def synthesize(root: Path, spec: Spec = Spec()) -> Synthetic:
    """Write a complete manuscript into `root` (created; must not hold a manuscript yet)."""
    rng = random.Random(spec.seed)
    terms = make_terms(rng, spec.terms)
    prose = Prose(rng, terms)
    titles = unique_titles(prose, spec.chapters)
    width = max(2, len(str(spec.chapters)))
    files = [f"{n:0{width}d}-{slug(t)}.md" for n, t in enumerate(titles, 1)]
    (root / "chapters").mkdir(parents=True)
    (root / "front").mkdir()
    total, paths = 0, []
    marker = IndexMarker(random.Random(spec.seed * 7919 + 17))  # the prose's own rng untouched
    for n, (title, name) in enumerate(zip(titles, files), 1):
        body = ChapterWriter(prose, n, files, spec.words_per_chapter,
                             last=n == spec.chapters).write()
        total += words(body)
        path = root / "chapters" / name
        path.write_text(front_matter(title) + marker.mark(body, title), "utf-8")
        paths.append(path)
    # Written after the chapters: terms in front matter do not count as uses.
    preface = f"{prose.paragraph()}\n\n## About the Text\n\n{prose.paragraph()}\n"
    (root / "front" / "preface.md").write_text(front_matter("Preface") + preface, "utf-8")
    total += words(preface)
    (root / "glossary.yaml").write_text(glossary_yaml(prose, terms), "utf-8")
    (root / "book.yaml").write_text(book_yaml(spec, files), "utf-8")
    (root / "index.yaml").write_text(marker.index_yaml(), "utf-8")
    return Synthetic(root, tuple(paths), tuple(t.term for t in terms), total)


class IndexMarker:
    """Index marks as an indexer would put them: three paragraphs in five mark a
    noun of its prose (a subentry when an adjective goes with it), each chapter is a
    passage under its title's noun, and index.yaml declares every heading used, with
    some "see also" between nouns and a few "see" entries."""

    NOUN = re.compile(r"\bthe (?:(%s) )?(%s)\b" % ("|".join(ADJECTIVES), "|".join(NOUNS)))

    def __init__(self, rng: random.Random):
        self.rng, self.used = rng, set()

    def mark(self, body: str, title: str) -> str:
        blocks = [self.mark_block(block) for block in body.split("\n\n")]
        noun = title.split()[-1].lower()
        key = noun if noun in NOUNS else None
        if key:
            self.used.add(key)
            blocks[0] = f'[]{{.index-start key="{key}"}}' + blocks[0]
            last = max(i for i, b in enumerate(blocks) if b[:1] not in "#|>-1[")  # a paragraph
            blocks[last] += f'[]{{.index-end key="{key}"}}'
        return "\n\n".join(blocks)

    def mark_block(self, block: str) -> str:
        if block[:1] in "#|>-1[" or self.rng.random() > 0.6:
            return block
        found = self.NOUN.search(block)
        if not found:
            return block
        adjective, noun = found.groups()
        key = f"{noun}!{adjective}" if adjective else noun
        self.used.update({key, noun})
        words = found.group(0)[4:]
        mark = f'[{words}]{{.index key="{key}"}}' if adjective else f"[{words}]{{.index}}"
        return block[:found.start()] + "the " + mark + block[found.end():]

    def index_yaml(self) -> str:
        nouns = sorted(k for k in self.used if "!" not in k)
        entries = []
        for key in sorted(self.used):
            entry: dict = {"term": key}
            if "!" not in key and self.rng.random() < 0.2 and len(nouns) > 1:
                entry["see-also"] = sorted(self.rng.sample([n for n in nouns if n != key], 1))
            entries.append(entry)
        for word, target in zip(("beacon light", "port", "wharf"), nouns[:3]):
            entries.append({"term": word, "see": [target]})
        return "# Generated by bench/synth.py; do not edit.\n" + yaml.safe_dump(
            {"entries": entries}, sort_keys=False, allow_unicode=True, width=88)


def unique_titles(prose: Prose, count: int) -> list[str]:
    titles: list[str] = []
    while len(titles) < count:
        title = prose.title()
        if title not in titles:
            titles.append(title)
        elif len(titles) >= len(ADJECTIVES) * len(NOUNS) // 2:
            titles.append(f"{title} {len(titles) + 1}")
    return titles


def slug(title: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")


def edit_paragraph(chapter: Path, turn: int) -> int:
    """Change one word of the middle paragraph of a chapter, as an author would; return
    the line edited.

    The word is a verb of the prose and becomes another verb of the same length, so the
    glossary's uses stay the same and the paragraph almost surely keeps its line count:
    a rebuild after this edit is the common case, the chapter's pages unchanged. Each
    turn gives a text different from the turn before it.
    """
    lines = chapter.read_text("utf-8").split("\n")
    plain = [i for i, line in enumerate(lines) if re.match(r"[A-Z][a-z]", line)
             and any(f" {v} " in line for v in VERBS)]
    if not plain:
        raise ValueError(f"{chapter} has no paragraph the benchmark can edit")
    n = plain[len(plain) // 2]
    verb = next(v for v in re.findall(r"[a-z]+", lines[n]) if v in VERBS)
    same = [v for v in VERBS if len(v) == len(verb) and v != verb]
    other = same[turn % len(same)] if same else verb[::-1]
    lines[n] = re.sub(rf"\b{verb}\b", other, lines[n], count=1)
    chapter.write_text("\n".join(lines), "utf-8")
    return n + 1
