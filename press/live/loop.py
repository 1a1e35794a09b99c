"""The editor's loop: watch the manuscript and styles, rebuild what each save affects."""
from __future__ import annotations

import hashlib
import re
import threading
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path

import jinja2

from press import pipeline
from press.problems import BuildError, Problem, counted, in_order, printable
from press.workspace import Workspace

# Editors' scratch files (vim swap and probe files, backups, atomic-save temporaries)
# and hidden folders never trigger a rebuild.
SCRATCH = re.compile(r"^\.|~$|\.sw[a-p]$|\.tmp$|^4913$|^#.*#$")

# Which outputs use which files of styles/; anything not listed here affects them all.
STYLE_USERS = {
    "css/print.css": {"pdf"}, "templates/print": {"pdf"},
    "css/epub.css": {"epub"}, "templates/epub": {"epub"},
    "css/screen.css": {"html"}, "templates/html": {"html"},
    "css/highlight-dark.css": {"epub", "html"},
}


def snapshot(folders, also=()) -> dict[Path, tuple]:
    """The stamp of every file under the folders, scratch files aside, and of the files in
    also (the book's listed files, watched even inside a hidden folder).

    A stamp is the time stamp, size, inode and ctime: a file copied over another with its
    old time and size kept (cp -p, rsync -t, tar x) still has a new ctime or inode.
    """
    found = {}
    for folder in folders:
        for path in Path(folder).rglob("*"):
            if any(SCRATCH.search(p) for p in path.relative_to(folder).parts):
                continue
            _stamp_into(found, path)
    for path in also:
        _stamp_into(found, Path(path))
    return found


def _stamp_into(found: dict, path: Path) -> None:
    try:
        if path.is_file():
            stat = path.stat()
            found[path] = (stat.st_mtime_ns, stat.st_size, stat.st_ino, stat.st_ctime_ns)
    except OSError:  # removed between listing and stat: the next poll sees it
        pass


def digest(path: Path) -> bytes | None:
    """A file's content hash; None when it cannot be read."""
    try:
        return hashlib.sha256(path.read_bytes()).digest()
    except OSError:
        return None


class Watcher:
    """Polls the folders' stamps: no dependency, and ~100 ms is quick enough to feel live.

    A file whose stamp changed counts as changed only when its content did too (so a
    touch or chmod rebuilds nothing, and a copy with old times and size is seen).
    """

    def __init__(self, folders, interval: float = 0.1, settle: float = 0.03):
        self.folders = [Path(f) for f in folders]
        self.interval, self.settle = interval, settle
        self.also: frozenset[Path] = frozenset()
        self.seen = snapshot(self.folders)
        self.contents: dict[Path, bytes | None] = {}

    def watch_also(self, paths) -> None:
        """Watch these files as well (the listed parts), from their present state on."""
        paths = frozenset(Path(p) for p in paths)
        for path in paths - self.also:
            _stamp_into(self.seen, path)
        self.also = paths

    def wait(self, stop: threading.Event | None = None) -> set[Path]:
        """Block until files change; return them once the editor has finished writing."""
        stop = stop or threading.Event()
        while not stop.wait(self.interval):
            changed = self._changes()
            if changed:
                # An editor may write a file in several steps; wait for them to settle.
                while not stop.wait(self.settle) and (more := self._changes()):
                    changed |= more
                return changed
        return set()

    def shown(self, path: Path) -> str:
        """A changed file as the terminal shows it: relative to its folder's parent."""
        folder = next((f for f in self.folders if path.is_relative_to(f)), path.parent)
        return path.relative_to(folder.parent).as_posix()

    def _changes(self) -> set[Path]:
        now = snapshot(self.folders, self.also)
        stamped = {p for p in now.keys() | self.seen.keys() if now.get(p) != self.seen.get(p)}
        self.seen = now
        changed = set()
        for path in stamped:
            content = digest(path) if path in now else None
            known = path in self.contents
            if not known or self.contents[path] != content or path not in now:
                changed.add(path)
            self.contents[path] = content
        for path in [p for p in self.contents if p not in now]:
            del self.contents[path]
        return changed


def affected(changed, styles: Path, formats) -> tuple[bool, set[str]]:
    """Whether the book must be read again, and which of the formats need rebuilding.

    A change in the manuscript (or in fonts.yaml, which the prepared book carries)
    means everything; a style sheet or template affects only the outputs that use it.
    """
    outputs: set[str] = set()
    for path in map(Path, changed):
        if not path.is_relative_to(styles) or path == styles / "fonts.yaml":
            return True, set(formats)
        rel = path.relative_to(styles).as_posix()
        outputs |= next((users for prefix, users in STYLE_USERS.items()
                         if rel == prefix or rel.startswith(prefix + "/")), set(formats))
    return False, outputs & set(formats)


@dataclass
class Outcome:
    """One rebuild: what it wrote, or the problems that stopped it."""

    changed: list[str] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    seconds: float = 0.0
    pandoc_runs: int = 0  # parts that went through Pandoc; the others came from the cache
    pandoc_hits: int = 0

    @property
    def ok(self) -> bool:
        return not any(p.severity == "error" for p in self.problems)


class Rebuilder:
    """Keeps the last good prepared book warm and rebuilds only what a change needs.

    Its Workspace (memos, Pandoc lanes, typesetting workers, the cache on disk, which
    survives restarts of the loop) is its own unless one is given; close() ends it.
    """

    def __init__(self, manuscript: Path, styles: Path, out: Path, formats, log=print,
                 workspace: Workspace | None = None):
        self.manuscript, self.styles, self.out = manuscript, styles, out
        self.formats, self.log = tuple(formats), log
        self.prepared: pipeline.Prepared | None = None
        pipeline.refuse_output_inside(manuscript, out)
        self.ws = workspace or Workspace(out, warm=True)

    def close(self) -> None:
        self.ws.close()

    def listed(self) -> set[Path]:
        """The files the last good book was read from (its parts and glossary)."""
        if self.prepared is None:
            return set()
        book = self.prepared.book
        base = book.root.parent
        found = {base / part.path for part in book.parts}
        if book.glossary_path:
            found.add(base / book.glossary_path)
        return found

    def build(self, changed=None) -> Outcome:
        """Rebuild after a change (None: everything); never raises for a bad manuscript."""
        started = time.perf_counter()
        reread, formats = (True, set(self.formats)) if changed is None else \
            affected(changed, self.styles, self.formats)
        outcome = Outcome()
        cache = self.ws.pandoc.cache
        runs, hits = cache.runs, cache.hits
        try:
            if reread or self.prepared is None:
                self.prepared = None  # a failed read must not leave a stale book behind
                self.prepared = pipeline.prepare(self.ws, self.manuscript, self.styles, self.log)
            wanted = [f for f in self.formats if f in formats]
            targets, pages = pipeline.produce(self.ws, self.prepared, wanted, self.log)
            outcome.changed = [t.name for t in targets if t.suffix in (".pdf", ".epub")] + pages
        except BuildError as error:
            outcome.problems = error.problems
        except jinja2.TemplateError as error:
            outcome.problems = [template_problem(error, self.styles)]
        except Exception as error:  # the loop must outlive a bug; say what happened
            self.log(traceback.format_exc().rstrip())
            outcome.problems = [Problem("press", None, "L002",
                                        f"unexpected {type(error).__name__}: {error}",
                                        "the traceback is in the terminal; the previous "
                                        "outputs were kept")]
        outcome.seconds = time.perf_counter() - started
        outcome.pandoc_runs = cache.runs - runs
        outcome.pandoc_hits = cache.hits - hits
        return outcome


def template_problem(error: jinja2.TemplateError, styles: Path) -> Problem:
    """A template mistake, placed at its file and line under styles/templates."""
    name, line = getattr(error, "filename", None), getattr(error, "lineno", None)
    if name is None:  # errors raised while rendering: find the template's own frame
        for frame, frame_line in traceback.walk_tb(error.__traceback__):
            if frame.f_code.co_filename.endswith(".j2"):
                name, line = frame.f_code.co_filename, frame_line
    where = Path(name) if name else styles / "templates"
    if where.is_absolute() and where.is_relative_to(styles.parent):
        where = where.relative_to(styles.parent)
    return Problem(where, line, "L001", f"template error: {error.message or error}",
                   "fix the template; the previous outputs were kept")


def report(outcome: Outcome, log=print, warn=print) -> None:
    """One terminal line per rebuild, or every problem with its file and line."""
    if outcome.ok:
        what = ", ".join(outcome.changed[:6]) + (" ..." if len(outcome.changed) > 6 else "")
        log(f"built    in {outcome.seconds:.2f} s ({outcome.pandoc_runs} converted, "
            f"{outcome.pandoc_hits} from cache); {counted(len(outcome.changed), 'file')} changed"
            + (f": {what}" if what else ""))
    else:
        for problem in in_order(outcome.problems):
            warn(str(problem))
        count = sum(p.severity == "error" for p in outcome.problems)
        warn(f"failed   {counted(count, 'error')}; the last good build is kept. "
             "Waiting for a fix.")


def loop(rebuilder: Rebuilder, watcher: Watcher, stop: threading.Event, on_build=None,
         log=print, warn=print) -> None:
    """Wait for saves and rebuild, until stop is set; on_build hears of every outcome."""
    while not stop.is_set():
        if rebuilder.prepared is not None:  # every listed file, hidden folders too
            watcher.watch_also(rebuilder.listed() | watcher.also)
        changed = watcher.wait(stop)
        if not changed:
            continue
        names = sorted(printable(watcher.shown(p)) for p in changed)  # a name may hold ESC
        log(f"changed  {', '.join(names[:3])}{' ...' if len(names) > 3 else ''}")
        outcome = rebuilder.build(changed)
        report(outcome, log, warn)
        if on_build:
            on_build(outcome)


def watch(manuscript: Path, styles: Path, out: Path, formats=("pdf", "epub"), log=print,
          warn=print, stop_event: threading.Event | None = None) -> None:
    """Build the formats, then rebuild them after every save until interrupted."""
    rebuilder = Rebuilder(manuscript, styles, out, formats, log)
    watcher = Watcher([manuscript, styles])
    stop_event = stop_event or threading.Event()
    try:
        report(rebuilder.build(), log, warn)
        log(f"watching {manuscript} and {styles} for {', '.join(formats)}  (Ctrl+C stops)")
        loop(rebuilder, watcher, stop_event, None, log, warn)
    except KeyboardInterrupt:
        log("stopped")
    finally:
        rebuilder.close()
