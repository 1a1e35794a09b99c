"""Live preview: serve the screen edition on localhost and reload open pages after each save."""
from __future__ import annotations

import html
import json
import mimetypes
import re
import secrets
import sys
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
# Bounds, so no page or client can exhaust the preview: queued connections, seconds a
# connection may idle, requests answered at once, and open event streams among them.
BACKLOG, IDLE, THREADS, STREAMS = 256, 10.0, 64, 32
LOCAL_HOSTS = ("127.0.0.1", "localhost", "[::1]")
# A second fence behind the screen: a page may run only the live-reload script (by its
# nonce), load only from this origin, and hold no frames, plugins or forms.
POLICY = ("default-src 'self'; script-src 'nonce-{nonce}'; style-src 'self' 'unsafe-inline'; "
          "img-src 'self'; font-src 'self'; connect-src 'self'; media-src 'none'; "
          "object-src 'none'; frame-src 'none'; child-src 'none'; worker-src 'none'; "
          "frame-ancestors 'none'; form-action 'none'; base-uri 'none'")
# A directory part of an absolute path (what the event stream must not tell a page).
ABSOLUTE = re.compile(r"(?<![\w.:/~-])/(?:[^\s/'\"<>:]+/)+")


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
    """A problem as the page's panel shows it, with no absolute path: a page is told
    'manuscript/chapters/01.md', never where on this machine the project lives."""
    where = f"{problem.path}:{problem.line}" if problem.line else str(problem.path)
    return {"where": bare(where), "code": problem.code, "message": bare(problem.message),
            "hint": bare(problem.hint), "severity": problem.severity}


def bare(text: str) -> str:
    """Text with the folders of every absolute path taken out (the file name stays)."""
    return ABSOLUTE.sub("", text)


def inject(page: bytes, name: str, generation: int, nonce: str = "") -> bytes:
    """Add the live-reload script to a served page (never to the files on disk)."""
    tag = (f'<script src="{SCRIPT}" data-page="{html.escape(name)}" '
           f'data-generation="{generation}" nonce="{nonce}"></script>\n').encode()
    end = page.lower().rfind(b"</body>")
    return page[:end] + tag + page[end:] if end >= 0 else page + tag


def inside(site: Path, name: str) -> Path | None:
    """The file of the site a request names, or None (outside, missing, or a name the
    file system cannot even look up: too long, a loop of links)."""
    try:
        target = (site / name).resolve()
        return target if target.is_relative_to(site) and target.is_file() else None
    except (OSError, ValueError, RuntimeError):
        return None


class Handler(BaseHTTPRequestHandler):
    """Files from the site folder, the live script, and the stream of build events."""

    server: PreviewServer
    timeout = IDLE  # a connection that sends nothing is closed, and its thread ends

    def do_GET(self):  # noqa: N802 (the name http.server dispatches to)
        if not self.local_host():
            return self.send(HTTPStatus.FORBIDDEN, b"forbidden host", "text/plain")
        path = unquote(urlsplit(self.path).path)
        if re.search(r"[\x00-\x1f\x7f]", path):
            return self.send(HTTPStatus.BAD_REQUEST, b"bad path", "text/plain")
        if path == EVENTS:
            return self.events()
        if path == SCRIPT:
            return self.send(HTTPStatus.OK, LIVE_JS.read_bytes(), "text/javascript")
        name = path.lstrip("/")
        self.site_file(name + "index.html" if name == "" or name.endswith("/") else name)

    def local_host(self) -> bool:
        """Only a page of this server names it by 127.0.0.1, localhost or [::1] and its
        port: a DNS-rebinding page reaches the port under its own host name, and is refused."""
        port = self.server.server_address[1]
        host = (self.headers.get("Host") or "").strip().lower()
        return host in {f"{name}:{port}" for name in LOCAL_HOSTS}

    def site_file(self, name: str) -> None:
        """A file of the screen edition; pages get the live script, others a validator."""
        generation = self.server.state.generation  # before the file: newer only reloads again
        target = inside(self.server.site, name)
        if target is None:
            if name.endswith(".html") or "." not in Path(name).name:
                page = inject(MISSING.read_bytes(), name, generation, self.nonce)  # once built
                return self.send(HTTPStatus.NOT_FOUND, page, "text/html; charset=utf-8")
            return self.send(HTTPStatus.NOT_FOUND, b"not found", "text/plain")
        kind = mimetypes.guess_type(target.name)[0] or "application/octet-stream"
        if kind == "text/html":
            page = inject(target.read_bytes(), name, generation, self.nonce)
            return self.send(HTTPStatus.OK, page, "text/html; charset=utf-8")
        # Style sheets, fonts and images are revalidated by time stamp and size: the build
        # rewrites only files whose bytes changed, so a reload refetches just those.
        stat = target.stat()
        tag = f'"{stat.st_mtime_ns:x}-{stat.st_size:x}"'
        if self.headers.get("If-None-Match") == tag:
            return self.send(HTTPStatus.NOT_MODIFIED, b"", kind, tag)
        kind += "; charset=utf-8" if kind.startswith("text/") else ""
        self.send(HTTPStatus.OK, target.read_bytes(), kind, tag)

    @property
    def nonce(self) -> str:
        """This response's script nonce (one per request: a page cannot guess it)."""
        if not getattr(self, "_nonce", None):
            self._nonce = secrets.token_urlsafe(16)
        return self._nonce

    def end_headers(self) -> None:
        """Every answer, error pages and the event stream included, carries the policy."""
        self.send_header("Content-Security-Policy", POLICY.format(nonce=self.nonce))
        self.send_header("X-Content-Type-Options", "nosniff")
        super().end_headers()

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
        if not self.server.streams.acquire(blocking=False):
            return self.send(HTTPStatus.SERVICE_UNAVAILABLE, b"too many open pages",
                             "text/plain")
        try:
            self.stream()
        finally:
            self.server.streams.release()

    def stream(self) -> None:
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
    """A thread per connection, at most THREADS at once (further connections wait in the
    listen backlog), each closed after IDLE seconds of silence."""

    daemon_threads = True
    request_queue_size = BACKLOG

    def __init__(self, port: int, site: Path, state: State):
        self.site, self.state = site.resolve(), state
        self.threads = threading.BoundedSemaphore(THREADS)
        self.streams = threading.BoundedSemaphore(STREAMS)
        super().__init__(("127.0.0.1", port), Handler)

    def process_request(self, request, client_address):
        self.threads.acquire()  # the accept loop waits here while every thread is busy
        try:
            super().process_request(request, client_address)
        except BaseException:
            self.threads.release()
            raise

    def process_request_thread(self, request, client_address):
        try:
            super().process_request_thread(request, client_address)
        finally:
            self.threads.release()

    def handle_error(self, request, client_address):
        """A client that went away, or timed out, is no news; anything else is one line."""
        error = sys.exc_info()[1]
        if isinstance(error, (ConnectionError, TimeoutError)):
            return
        print(bare(f"preview: {type(error).__name__} answering a request: {error}")[:200],
              file=sys.stderr)

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
