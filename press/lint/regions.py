"""Lint, spelling by region: British spellings for books in en-GB and its neighbours.

pyspellchecker ships one English word list, which spells the American way ('color',
'neighbor', 'defense'). A book in en-GB writes 'colour', 'neighbour', 'defence'. Rather
than ship a second list, a British word is accepted when the regular correspondences of
the two spellings lead from it to a word the dictionary has: 'neighbours' -> 'neighbors'.
The rules only ever accept a word whose American form is a real word, so a misspelling
of either form is still found.
"""
from __future__ import annotations

import re

# Regions that spell the British way (Oxford spelling: -ize is as right as -ise); en-CA
# mixes the two, so it accepts the British forms as well as the American ones.
BRITISH = frozenset({"GB", "UK", "AU", "NZ", "IE", "ZA", "IN", "CA"})

# British -> American, the regular correspondences; each applied at one place at a time.
RULES = (
    (r"our", "or"),                 # colour, neighbourhood, favourite
    (r"is(e|es|ed|ing|ation|ations|er|ers)$", r"iz\1"),   # realise, organisation
    (r"ys(e|es|ed|ing)$", r"yz\1"),  # analyse, paralysed
    (r"([tbv])re(s|d)?$", r"\1er\2"),  # centre, fibres, centred, manoeuvre
    (r"ence(s)?$", r"ense\1"),      # defence, offences, licence
    (r"ogue(s)?$", r"og\1"),        # catalogue, dialogues
    (r"ll", "l"),                   # travelled, modelling, jewellery
    (r"ae", "e"),                   # paediatric, anaemia
    (r"oe", "e"),                   # oestrogen, manoeuvre
    (r"amme(s)?$", r"am\1"),        # programme
    (r"mould", "mold"),             # mould, smoulder's sibling
    (r"ement", "ment"),             # judgement, acknowledgement
    (r"^sc", "sk"),                 # sceptical
    (r"inium$", "inum"),            # aluminium
    (r"que(s)?$", r"ck\1"),         # cheque
)
# Pairs no rule makes, each with its American form.
WORDS = {"kerb": "curb", "kerbs": "curbs", "pyjamas": "pajamas", "tyres": "tires",
         "draught": "draft", "draughts": "drafts", "plough": "plow", "gaol": "jail",
         "storey": "story", "storeys": "stories", "aluminium": "aluminum",
         "whilst": "while", "amongst": "among", "learnt": "learned", "spelt": "spelled",
         "jewellery": "jewelry"}


def region(language: str) -> str:
    """The region of a language tag, upper case: 'en-GB' -> 'GB', 'en' -> ''."""
    parts = language.split("-")
    return next((p.upper() for p in parts[1:] if len(p) == 2 and p.isalpha()), "")


def spells_british(language: str) -> bool:
    return language.split("-")[0].lower() == "en" and region(language) in BRITISH


def american_forms(word: str, depth: int = 2) -> set[str]:
    """The American spellings a British word may correspond to (up to two changes, as in
    'manoeuvre' -> 'maneuver')."""
    lower = word.lower()
    found = {WORDS[lower]} if lower in WORDS else set()
    frontier = {lower}
    for _ in range(depth):
        step = set()
        for form in frontier:
            for pattern, repl in RULES:
                for match in re.finditer(pattern, form):
                    step.add(form[:match.start()] + match.expand(repl) + form[match.end():])
        found |= step
        frontier = step
    return found - {lower}


def known_in_region(word: str, language: str, dictionary) -> bool:
    """A British spelling in a book whose region spells the British way."""
    return spells_british(language) and any(form in dictionary
                                            for form in american_forms(word))
