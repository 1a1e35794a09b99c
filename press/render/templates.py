"""Stage 4, render: Jinja templates in styles/templates turn the enriched book into documents."""
from __future__ import annotations

import dataclasses
import hashlib
import os
from pathlib import Path

import jinja2
from jinja2 import meta

from press import model
from press.enrich.listings import wrap_code
from press.util.memo import Fingerprints, Memos, Unprintable


def environment(styles: Path) -> jinja2.Environment:
    """One Jinja environment per styles folder; undefined names fail loudly."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(styles / "templates"),
        autoescape=jinja2.select_autoescape(["j2"], default=True),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["wrap_code"] = wrap_code  # print listings: long lines broken and marked
    return env


def render(styles: Path, template: str, **context) -> str:
    """Render one template from styles/templates with the given context, once."""
    return Renderer(styles).plain(template, **context)


class Renderer:
    """render(), reusing a text rendered by an earlier build when the template and
    everything it can see are the same.

    What a template can see is what its names refer to: the names it (and every template
    it extends or includes) uses, read from the templates themselves, and the values the
    context gives those names, compared by content (press.util.memo.Fingerprints). A chapter's
    page names its chapter and body, not the other chapters, so it is rendered again only
    when they change. A template whose file changed is read again (time stamp and size,
    as Jinja itself decides). One Renderer serves one build; what outlives the build (the
    Jinja environment, the templates' names, the texts) is kept in memos.
    """

    def __init__(self, styles: Path, memos: Memos | None = None, keep: bool = True):
        self.styles, self.memos = styles, memos or Memos()
        # keep False (a one-off build): every text rendered, none looked up. Its key
        # (reading the templates' names, fingerprinting what they see) would cost more
        # than the rendering it could save, with no later build to serve.
        self.keep = keep
        self.prints: dict[frozenset, Fingerprints] = {}
        self.env = self.memos("render.environments", 4).get(styles, lambda: environment(styles))

    def plain(self, template: str, **context) -> str:
        """The template rendered, nothing reused."""
        return self.env.get_template(template).render(**context)

    def __call__(self, template: str, **context) -> str:
        key = self.key(template, **context) if self.keep else None
        if key is None:
            return self.plain(template, **context)
        return self.memos("render.texts", 128, per_part=6).get(
            key, lambda: self.plain(template, **context))

    def key(self, template: str, **context) -> bytes | None:
        """A digest of the template files and of what they see; None if it cannot tell.

        The same in every process for the same templates and values."""
        found = uses(self.env, self.styles, template, self.memos("render.trees", 64))
        if found is None:
            return None
        sources, names, reveal = found
        prints = self.prints.get(reveal) or self.prints.setdefault(
            reveal, Fingerprints(reveal, self.memos.fingerprints))
        digest = hashlib.blake2b(sources, digest_size=20)
        try:
            for name in sorted(names & context.keys()):
                token = prints.of(context[name])
                digest.update(name.encode() + b"=" + len(token).to_bytes(4, "little") + token)
        except Unprintable:
            return None
        return digest.digest()


# Fields of the model that no template shows (metadata {"templates": False}).
HIDDEN = frozenset(f.name for kind in vars(model).values() if dataclasses.is_dataclass(kind)
                   for f in dataclasses.fields(kind) if f.metadata.get("templates") is False)


def uses(env: jinja2.Environment, styles: Path, template: str, trees):
    """A digest of the template's files (its own, those it extends and includes), the
    context names they use, and the hidden fields of the model they name after all
    (press.model); None when a template is named only at render time.

    trees keeps (styles, template) -> (file and stamp of each, what this returns).
    """
    kept = trees.peek((styles, template))
    if kept is not None and all(_stamp(f) == s for f, s in kept[0]):
        return kept[1]
    stamps, digest, names, reveal = [], hashlib.blake2b(digest_size=20), set(), set()
    todo, done = [template], set()
    while todo:
        name = todo.pop()
        if name in done:
            continue
        done.add(name)
        try:
            source, filename, _ = env.loader.get_source(env, name)
            tree = env.parse(source, name, filename)
        except jinja2.TemplateError:
            return None  # rendering says what is wrong, with the file and line
        stamps.append((filename, _stamp(filename)))
        digest.update(name.encode() + b"\0" + source.encode("utf-8") + b"\0")
        reveal |= {word for word in HIDDEN if word in source}
        names |= meta.find_undeclared_variables(tree)
        more = list(meta.find_referenced_templates(tree))
        if None in more:
            return None
        todo += more
    found = digest.digest(), frozenset(names), frozenset(reveal)
    trees.put((styles, template), (tuple(stamps), found))
    return found


def _stamp(filename: str):
    try:
        found = os.stat(filename)
    except OSError:
        return None
    return found.st_mtime_ns, found.st_size
