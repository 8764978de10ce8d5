"""Local preview: serve the site, rebuild what an edit affects (engine/preview.py), reload the browser.

- Changes are seen through the operating system's file events (watchfiles), not by polling every
  file: livereload's own watcher polls each file every 0.8 s and ignores changes for 3 s after a
  reload, too slow for a large catalogue. livereload serves the pages and tells the browser to reload.
- While the last edit has errors, every HTML page carries them (file, line, message) over the last
  good site.
- The pages last served (`Viewing`) are the ones an edit writes before the reload; the others it
  changed are written after, and a request for one of them waits until they are (engine/preview.py).
- Requests are answered on threads of their own (`ThreadedServer`): a request for a page not yet
  written waits for it there, while other requests and the message to reload go on.
- The work that may wait for the reload runs on a thread of its own, so the next edit saved
  meanwhile is rebuilt at once rather than after it. What the next edit needs (`Preview.settle`)
  starts `SETTLE_AFTER_S` after a rebuild ends, and the rest (`Preview.finish`) once edits have
  paused (`FINISH_AFTER_S` after the last rebuild ended, none running: `Pause`): sooner, it competed
  with the browser's reload for the interpreter, and a save soon after the last waited for the step
  it was in.
"""
from __future__ import annotations

import html
import mimetypes
import sys
import threading
import time
import traceback
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Executor, ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

from livereload import Server
from livereload.server import LiveScriptContainer
from tornado import httputil, web
from tornado.ioloop import IOLoop
from tornado.wsgi import WSGIContainer

from .content.errors import BuildFailed, ContentError, counted
from .content.vocab import VOCABULARY_DIR
from .engine import pipeline
from .engine.model import BuildOptions
from .engine.preview import Preview
from .system.write import output_lock

# The work after the reload: what the next edit needs starts this long after a rebuild ends (the
# reload takes about a tenth of a second), the rest when no edit has come for longer (seconds).
SETTLE_AFTER_S = 0.4
FINISH_AFTER_S = 1.5
# Requests answered at once (`ThreadedServer`): a browser asks for a page and its files together.
SERVING_THREADS = 8

# -- serving -----------------------------------------------------------------------------------------

ERROR_STYLE = ("position:fixed;inset:auto 0 0 0;max-height:60vh;overflow:auto;z-index:99999;margin:0;"
               "padding:1rem;background:#fff4f4;color:#5c0000;border-top:4px solid #b00020;"
               "font:14px/1.5 ui-monospace,monospace;white-space:pre-wrap")
# warnings do not stop the build: a smaller panel, in amber, that a click on its title folds away
WARNING_STYLE = ("position:fixed;inset:auto 0 0 0;max-height:40vh;overflow:auto;z-index:99999;margin:0;"
                 "padding:.5rem 1rem;background:#fff8e6;color:#4a3300;border-top:4px solid #b26a00;"
                 "font:14px/1.5 ui-monospace,monospace;white-space:pre-wrap")


def error_overlay(errors: list[ContentError], warnings: Sequence[ContentError] = ()) -> bytes:
    """What the browser shows over the last good page while an edit has errors, or, when there are
    only warnings, over the page just built (an old commune name that became several)."""
    if errors:
        lines = "\n".join(html.escape(str(error)) for error in [*errors, *warnings])
        title = f"{len(errors)} lỗi, đang hiển thị bản dựng trước | {counted(len(errors), 'error')}, showing the last good build"
        return (f'<pre id="cnnt-preview-errors" role="alert" style="{ERROR_STYLE}"><strong>{html.escape(title)}</strong>\n'
                f'{lines}</pre>').encode()
    if warnings:
        lines = "\n".join(html.escape(str(warning)) for warning in warnings)
        title = (f"{len(warnings)} cảnh báo: trang vẫn được dựng, hãy xem lại | "
                 f"{counted(len(warnings), 'warning')}: the site was built; please check")
        return (f'<details id="cnnt-preview-warnings" open style="{WARNING_STYLE}"><summary><strong>'
                f'{html.escape(title)}</strong></summary>{lines}</details>').encode()
    return b""


class Viewing:
    """The HTML pages the preview served last, most recent first: the pages the browsers show, which
    an edit writes before it reloads them. A few more than one, for a second tab or window."""

    def __init__(self, size: int = 8) -> None:
        self.size = size
        self._outputs: OrderedDict[str, None] = OrderedDict()
        self._lock = threading.Lock()

    def saw(self, output: str) -> None:
        with self._lock:
            self._outputs[output] = None
            self._outputs.move_to_end(output, last=False)
            while len(self._outputs) > self.size:
                self._outputs.popitem()

    def outputs(self) -> list[str]:
        with self._lock:
            return list(self._outputs)


def site_app(preview: Preview, viewing: Viewing | None = None) -> Callable:
    """A WSGI app serving the output folder; HTML pages get the error overlay while there are errors.
    A page an edit changed and has not written yet is served once it is (`Preview.settle_for`); the
    HTML pages served are recorded in `viewing`. (livereload wraps it and adds its reload script to
    every HTML page.)"""
    root = preview.options.out_dir

    def app(environ: dict, start_response: Callable) -> list[bytes]:
        path = environ.get("PATH_INFO", "/")
        target = site_file(root, path)
        # (a page's folder may not be there yet: a page an edit added, written when asked for)
        if target is not None and (target.is_dir() or path.endswith("/")):
            if not path.endswith("/"):
                start_response("301 Moved Permanently", [("Location", path + "/")])
                return [b""]
            target = target / "index.html"
        if target is not None:
            output = target.relative_to(root.resolve()).as_posix()
            preview.settle_for(output)
            if viewing is not None and target.suffix == ".html":
                viewing.saw(output)
        if target is None or not target.is_file():
            target, status = root / "404.html", "404 Not Found"
        else:
            status = "200 OK"
        # before a first good build there is no site yet: an empty page, to carry the errors
        body = target.read_bytes() if target.is_file() else b"<!doctype html><meta charset=utf-8><title>404</title><body></body>"
        kind = mimetypes.guess_type(target.name)[0] or "text/html"
        if kind == "text/html" and (preview.errors or preview.warnings):
            body = body.replace(b"</body>", error_overlay(preview.errors, preview.warnings) + b"</body>", 1)
        start_response(status, [("Content-Type", kind + ("; charset=utf-8" if kind.startswith("text/") else "")),
                                ("Cache-Control", "no-store")])
        return [body]

    return app


def site_file(root: Path, path: str) -> Path | None:
    """The file or folder of the site that a request's path names; None when it names none that can
    be (outside the site, a name too long, a NUL byte: a 404, not an error in the server)."""
    try:
        target = (root / path.lstrip("/")).resolve()
        target.is_dir()  # (a name too long fails here)
    except (OSError, ValueError):
        return None
    return target if target.is_relative_to(root.resolve()) else None


WSGIApp = Callable[[dict, Callable], Iterable[bytes]]


class ThreadedServer(Server):
    """livereload's server, but the site's app is called on threads of its own
    (`ThreadedScriptContainer`)."""

    def __init__(self, app: WSGIApp, watcher: object, threads: int = SERVING_THREADS) -> None:
        super().__init__(app=app, watcher=watcher)
        self.executor = ThreadPoolExecutor(threads, thread_name_prefix="serving")

    def get_web_handlers(self, script: bytes) -> list:
        return [(r".*", web.FallbackHandler, {"fallback": ThreadedScriptContainer(self.app, script, self.executor)})]


class ThreadedScriptContainer(LiveScriptContainer):
    """livereload's WSGI container (which adds the reload script to every HTML page), calling the app
    on a thread of `executor` rather than on the server's one loop. There, a request for a page an
    edit left for after the reload, which waits for the rebuild under way (up to
    `preview.SETTLE_FOR_WAIT_S`), held every other request, and the message to reload, meanwhile."""

    def __init__(self, app: WSGIApp, script: bytes, executor: Executor) -> None:
        super().__init__(app, script)
        self.executor = executor

    def __call__(self, request: httputil.HTTPServerRequest) -> None:
        IOLoop.current().spawn_callback(self._answer, request)

    async def _answer(self, request: httputil.HTTPServerRequest) -> None:
        environ = WSGIContainer(self.wsgi_app).environ(request)
        replay = await IOLoop.current().run_in_executor(self.executor, answered, self.wsgi_app, environ)
        LiveScriptContainer(replay, self.script)(request)  # on the loop, which alone may write the answer


def answered(app: WSGIApp, environ: dict) -> WSGIApp:
    """Call `app` and keep its whole answer; returns an app that gives that answer again. A bug in
    `app` answers 500, as the loop did when it called the app itself."""
    kept: list = []
    body: list[bytes] = []

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: object = None) -> Callable:
        kept[:] = [status, headers]
        return body.append

    try:
        result = app(environ, start_response)
        try:
            body.extend(result)
        finally:
            if hasattr(result, "close"):
                result.close()
        if not kept:
            raise RuntimeError("the app did not call start_response")
    except Exception:  # noqa: BLE001 (the server goes on; the terminal shows what failed)
        traceback.print_exc()
        kept[:] = ["500 Internal Server Error", [("Content-Type", "text/plain; charset=utf-8")]]
        body[:] = [b"500 Internal Server Error"]

    def replay(_environ: dict, start_response: Callable) -> list[bytes]:
        start_response(*kept)
        return body

    return replay


def serve(options: BuildOptions, host: str, port: int,
          report_errors: Callable[[BuildFailed], None]) -> int:
    from livereload.handlers import LiveReloadHandler
    from livereload.watcher import Watcher

    preview = Preview(options)
    report = Report(preview, report_errors)
    viewing = Viewing()

    class FileEvents(Watcher):
        """livereload's watcher interface, fed by watchfiles: rebuild, then tell browsers to reload."""

        def start(self, callback: Callable) -> bool:
            loop = IOLoop.current()
            threading.Thread(target=self._watch, args=(loop,), daemon=True).start()
            return True  # no polling

        def examine(self):
            return None, None

        def _watch(self, loop: IOLoop) -> None:
            import watchfiles

            def settle() -> None:  # a failure to write the pages left for after the reload shows as a rebuild's
                line = preview.settle()
                if line is not None:
                    report(line)
                    loop.add_callback(LiveReloadHandler.reload_waiters)

            def rebuild_on(changes: Iterable[set[tuple[watchfiles.Change, str]]]) -> None:
                for changed in changes:
                    with pause.rebuilding():
                        report(preview.rebuild([Path(path) for _, path in changed], viewing.outputs()))
                        loop.add_callback(LiveReloadHandler.reload_waiters)

            pause = Pause()
            threading.Thread(target=finish_when_paused, args=(pause, settle, preview.finish), daemon=True).start()
            # The settings file is watched through its folder, not on its own: an editor that saves by
            # writing a new file and renaming it over the old one (vim, gedit, `sed -i`) left the watch
            # on the old file, and no later save was seen.
            config = settings_watched_alone(options)
            if config is not None:
                threading.Thread(target=rebuild_on, daemon=True, args=(watchfiles.watch(
                    config.parent, recursive=False, watch_filter=lambda _, path: Path(path) == config, debounce=30,
                    step=10, raise_interrupt=False),)).start()
            rebuild_on(watchfiles.watch(*watched_folders(options), debounce=30, step=10, raise_interrupt=False))

    lock = output_lock(options.out_dir, options.lock_file)  # held while the preview runs: a build beside it stops with a message
    try:
        pipeline.check_output(options)  # (as a build asks: the preview replaces the folder with its site)
        lock.__enter__()
    except BuildFailed as failure:
        report_errors(failure)
        return 1
    report(preview.rebuild())
    watcher = FileEvents()
    watcher.watch(str(options.content_dir))  # livereload watches the working folder when told nothing
    server = ThreadedServer(site_app(preview, viewing), watcher)
    print(f"http://{host}:{port}/  (Ctrl+C để dừng | to stop)", flush=True)
    try:
        server.serve(host=host, port=port, debug=False, open_url_delay=None, restart_delay=0)
    except OSError as exc:
        raise SystemExit(f"Không mở được cổng {port} ({exc.strerror}): thử --port khác | "
                         f"Cannot listen on port {port} ({exc.strerror}): try another --port") from exc
    return 0


class Report:
    """What the terminal shows after each rebuild: its line, its errors, and its warnings when they
    are not the ones printed last (a warning is not repeated at every save while it stands)."""

    def __init__(self, preview: Preview, report_errors: Callable[[BuildFailed], None]) -> None:
        self.preview, self.report_errors = preview, report_errors
        self.printed: tuple[ContentError, ...] = ()

    def __call__(self, line: str) -> None:
        warnings = self.preview.warnings if self.preview.warnings != self.printed else ()
        self.printed = self.preview.warnings
        if self.preview.errors or warnings:
            self.report_errors(BuildFailed(self.preview.errors, list(warnings)))
        print(line, flush=True)


class Pause:
    """When edits have paused. Rebuilds are counted as they end; `wait` and `quiet_for` measure the
    pause from the last one's end, not from the save, and a rebuild that runs longer than the pause
    (a move at 10k products) keeps the work waiting: started as it ended, the work competed with the
    browser's reload of that very edit, and the next save waited for the step it was in."""

    def __init__(self) -> None:
        self._changed = threading.Condition()
        self._running = 0
        self._ended = 0  # rebuilds ended so far
        self._last = 0.0  # time.monotonic() when the last ended

    @contextmanager
    def rebuilding(self) -> Iterator[None]:
        with self._changed:
            self._running += 1
            self._changed.notify_all()
        try:
            yield
        finally:
            with self._changed:
                self._running -= 1
                self._ended, self._last = self._ended + 1, time.monotonic()
                self._changed.notify_all()

    def wait(self, seconds: float, seen: int = 0) -> int:
        """Once more than `seen` rebuilds have ended, the last `seconds` ago, and none runs: how many."""
        with self._changed:
            while True:
                left = self._last + seconds - time.monotonic()
                if self._ended > seen and not self._running and left <= 0:
                    return self._ended
                self._changed.wait(left if self._ended > seen and not self._running else None)

    def quiet_for(self, seconds: float, seen: int) -> bool:
        """Whether `seconds` pass after the last rebuild's end with no other begun (`seen` have ended)."""
        with self._changed:
            while self._ended == seen and not self._running:
                left = self._last + seconds - time.monotonic()
                if left <= 0:
                    return True
                self._changed.wait(left)
            return False


def finish_when_paused(pause: Pause, settle: Callable[[], None], finish: Callable[[], None],
                       short: float = SETTLE_AFTER_S, long: float = FINISH_AFTER_S) -> None:
    """The work that waits for the reload, on its own thread: what the next edit needs (`settle`) once
    the browser has had its moment, the rest (`finish`) once edits have paused. An edit saved while
    `finish` runs is rebuilt between its steps instead of after it (engine/preview.py)."""
    seen = 0
    while True:
        seen = pause.wait(short, seen)
        try:
            settle()
            if pause.quiet_for(long, seen):
                finish()
        except Exception as exc:  # noqa: BLE001 (else this thread ends, and with it the work for every later edit)
            print(f"cảnh báo · warning: sau lần dựng lại | after the rebuild: {type(exc).__name__}: {exc}",
                  file=sys.stderr, flush=True)


def watched_folders(options: BuildOptions) -> list[str]:
    """What the preview watches, but the settings file (`settings_watched_alone`)."""
    folders = [options.content_dir, options.templates_dir, options.static_dir, VOCABULARY_DIR]
    return [str(folder.absolute()) for folder in folders if folder.exists()]


def settings_watched_alone(options: BuildOptions) -> Path | None:
    """The settings file, to watch through its own folder, unless a watched folder holds it (as
    `--config content/site.yaml`), whose watch sees it already: watched twice, each save planned the
    site twice."""
    config = options.config_file.absolute()
    if any(Path(folder) in config.parents for folder in watched_folders(options)):
        return None
    return config
