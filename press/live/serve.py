"""Live preview: serve the screen edition on localhost and reload open pages after each save."""
from __future__ import annotations

import html
import json
import mimetypes
import threading
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlsplit

from press.problems import BuildError, Problem, in_order
from press.live.loop import Outcome, Rebuilder, Watcher, loop, report

HERE = Path(__file__).resolve().parent
LIVE_JS = HERE / "live.js"
MISSING = HERE / "live-missing.html"
EVENTS = "/__press/events"
SCRIPT = "/__press/live.js"
KEEPALIVE = 15.0  # seconds between comments that keep an idle event stream open


class State:
    """What the open pages need to know, shared by the rebuild loop and the request threads.

    Every rebuild is a new generation; each output file remembers the generation that
    last changed it. A page served at generation g reloads once one of its files is newer.
    """

    def __init__(self):
        self.generation = 0
        self.versions: dict[str, int] = {}
        self.problems: list[dict] = []
        self.changed = threading.Condition()
        self.closing = False

    def publish(self, outcome: Outcome) -> None:
        with self.changed:
            self.generation += 1
            for name in outcome.changed:
                self.versions[name] = self.generation
            self.problems = [problem_json(p) for p in in_order(outcome.problems)]
            self.changed.notify_all()

    def close(self) -> None:
        with self.changed:
            self.closing = True
            self.changed.notify_all()

    def message(self) -> str:
        return json.dumps({"generation": self.generation, "versions": self.versions,
                           "problems": self.problems})


def problem_json(problem) -> dict:
    where = f"{problem.path}:{problem.line}" if problem.line else str(problem.path)
    return {"where": where, "code": problem.code, "message": problem.message,
            "hint": problem.hint, "severity": problem.severity}


def inject(page: bytes, name: str, generation: int) -> bytes:
    """Add the live-reload script to a served page (never to the files on disk)."""
    tag = (f'<script src="{SCRIPT}" data-page="{html.escape(name)}" '
           f'data-generation="{generation}"></script>\n').encode()
    end = page.lower().rfind(b"</body>")
    return page[:end] + tag + page[end:] if end >= 0 else page + tag


class Handler(BaseHTTPRequestHandler):
    """Files from the site folder, the live script, and the stream of build events."""

    server: PreviewServer

    def do_GET(self):  # noqa: N802 (the name http.server dispatches to)
        path = unquote(urlsplit(self.path).path)
        if path == EVENTS:
            return self.events()
        if path == SCRIPT:
            return self.send(HTTPStatus.OK, LIVE_JS.read_bytes(), "text/javascript")
        name = path.lstrip("/")
        self.site_file(name + "index.html" if name == "" or name.endswith("/") else name)

    def site_file(self, name: str) -> None:
        """A file of the screen edition; pages get the live script, others a validator."""
        generation = self.server.state.generation  # before the file: newer only reloads again
        target = (self.server.site / name).resolve()
        if not target.is_relative_to(self.server.site) or not target.is_file():
            if name.endswith(".html") or "." not in Path(name).name:
                page = inject(MISSING.read_bytes(), name, generation)  # appears once built
                return self.send(HTTPStatus.NOT_FOUND, page, "text/html; charset=utf-8")
            return self.send(HTTPStatus.NOT_FOUND, b"not found", "text/plain")
        kind = mimetypes.guess_type(target.name)[0] or "application/octet-stream"
        if kind == "text/html":
            page = inject(target.read_bytes(), name, generation)
            return self.send(HTTPStatus.OK, page, "text/html; charset=utf-8")
        # Style sheets, fonts and images are revalidated by time stamp and size: the build
        # rewrites only files whose bytes changed, so a reload refetches just those.
        stat = target.stat()
        tag = f'"{stat.st_mtime_ns:x}-{stat.st_size:x}"'
        if self.headers.get("If-None-Match") == tag:
            return self.send(HTTPStatus.NOT_MODIFIED, b"", kind, tag)
        kind += "; charset=utf-8" if kind.startswith("text/") else ""
        self.send(HTTPStatus.OK, target.read_bytes(), kind, tag)

    def send(self, status, data: bytes, kind: str, tag: str | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(data)))
        if tag:
            self.send_header("ETag", tag)
            self.send_header("Cache-Control", "no-cache")
        else:
            self.send_header("Cache-Control", "no-store")
        self.end_headers()
        if status != HTTPStatus.NOT_MODIFIED:
            self.wfile.write(data)

    def events(self) -> None:
        """Server-Sent Events: the current state at once, then after every rebuild."""
        self.send_response(HTTPStatus.OK)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        state, seen = self.server.state, None
        try:
            while True:
                with state.changed:
                    state.changed.wait_for(lambda: state.generation != seen or state.closing,
                                           timeout=KEEPALIVE)
                    if state.closing:
                        return
                    fresh = state.generation != seen
                    seen, message = state.generation, state.message()
                self.wfile.write(f"data: {message}\n\n".encode() if fresh else b": idle\n\n")
                self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            return  # the page was closed or reloaded

    def log_message(self, format, *args):  # noqa: A002 (http.server's signature)
        """Keep the terminal for build messages, not one line per request."""


class PreviewServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, port: int, site: Path, state: State):
        self.site, self.state = site.resolve(), state
        super().__init__(("127.0.0.1", port), Handler)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/"


def start(port: int, site: Path, state: State) -> PreviewServer:
    """Listen on localhost only and answer requests on a background thread."""
    try:
        server = PreviewServer(port, site, state)
    except OSError as exc:
        raise BuildError([Problem(f"127.0.0.1:{port}", None, "L003",
                                  f"cannot listen on port {port}: {exc.strerror}",
                                  "stop the other server or choose another --port "
                                  "(--port 0 picks a free one)")]) from None
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.2},
                     name="preview-http", daemon=True).start()
    return server


def stop(server: PreviewServer) -> None:
    server.state.close()
    server.shutdown()
    server.server_close()


def serve(manuscript: Path, styles: Path, out: Path, port: int = 8000, log=print,
          warn=print, stop_event: threading.Event | None = None) -> None:
    """Build the screen edition, serve it, and rebuild and reload after every save."""
    rebuilder = Rebuilder(manuscript, styles, out, ("html",), log)
    watcher = Watcher([manuscript, styles])  # before building: a save meanwhile is not lost
    state = State()
    server = start(port, out / "html", state)
    stop_event = stop_event or threading.Event()
    try:
        outcome = rebuilder.build()
        report(outcome, log, warn)
        state.publish(outcome)
        log(f"serving  {server.url}  (watching {manuscript} and {styles}; Ctrl+C stops)")
        loop(rebuilder, watcher, stop_event, state.publish, log, warn)
    except KeyboardInterrupt:
        log("stopped")
    finally:
        stop(server)
        rebuilder.close()
