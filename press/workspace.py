"""What a build keeps: the output folder, the cache layout, memo partitions, Pandoc and the
typesetting workers.

Its caller makes one (a task for one build; the live loop, stats or the benchmark for
many) and hands it to the pipeline; no module keeps anything of its own. On disk every
stage's cache follows one rule:

    OUT/.cache/<stage>/<key>.<ext>   key: the sha256 (hex) of everything that decides it
    OUT/.cache/<stage>/last.json     what the stage's last build learnt (not keyed)

A one-off build only reads the cache while it works and puts what it used there once the
whole build has succeeded; a warm process writes Pandoc's results as they come, so a
restarted loop finds them.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from press.pdf.plan import Paginator
from press.source.convert import Pandoc
from press.util.memo import Memos

# The stages that keep files under OUT/.cache, and what each keeps (README, "Incremental
# builds"); a test checks that a build writes nothing else there.
CACHE_STAGES = {
    "pandoc": "Pandoc's HTML (or, for lint, its JSON tree) of a text",
    "print": "typeset parts of the print edition (PDF and layout facts); last.json: lengths",
    "pages": "where each printed page begins, for an EPUB built alone",
    "fonts": "font subsets embedded in the EPUB",
}


@dataclass(eq=False)
class Workspace:
    """The one object that owns what builds keep; pass it to every pipeline call."""

    out: Path | None  # None: nothing kept on disk (lint, stats of a book alone)
    warm: bool = False  # builds again and again (serve, watch, the benchmark's edit loop)
    memos: Memos = field(default_factory=Memos)
    pandoc: Pandoc = field(default_factory=Pandoc)
    printer: Paginator = field(default_factory=Paginator)

    def __post_init__(self):
        if self.out is None:
            return
        self.out = Path(self.out)
        self.pandoc.cache.shelf = self.cache("pandoc")
        if self.warm:
            self.pandoc.cache.folder = self.cache("pandoc")
        else:  # a one-off build: memory before edit speed (see Paginator)
            self.printer.idle_workers = 1
            self.printer.bind_early = False
        self.printer.shelf = self.cache("print")

    def cache(self, stage: str) -> Path:
        """The folder of one stage's cache (see CACHE_STAGES)."""
        if stage not in CACHE_STAGES or self.out is None:
            raise ValueError(f"no cache for {stage!r} here")
        return self.out / ".cache" / stage

    def cached(self, stage: str) -> Path | None:
        """The stage's cache folder, or None when this workspace keeps nothing on disk."""
        return None if self.out is None else self.cache(stage)

    def start_workers(self) -> None:
        """Start a typesetting worker now, so its imports overlap the first stages."""
        self.printer.typesetters.start(1)

    def cover_kept(self) -> bool:
        """Whether an EPUB cover is in the cache (a build that needs none to be drawn)."""
        folder = self.cached("fonts")
        return folder is not None and any((folder / "cover").glob("*.png"))

    def saved(self) -> None:
        """After a build succeeded: what it used goes into the cache for the next process."""
        if self.out is not None:
            self.pandoc.cache.save(self.cache("pandoc"))
            self.printer.save()

    def close(self) -> None:
        """Stop the workers; what is kept in memory goes with the object."""
        self.printer.typesetters.close()

    def __enter__(self) -> Workspace:
        return self

    def __exit__(self, *_) -> None:
        self.close()
