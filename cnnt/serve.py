"""Local preview: serve the site, rebuild what an edit affects (engine/preview.py), reload the browser.

- Changes are seen through the operating system's file events (watchfiles), not by polling every
  file: livereload's own watcher polls each file every 0.8 s and ignores changes for 3 s after a
  reload, too slow for a large catalogue. livereload serves the pages and tells the browser to reload.
- While the last edit has errors, every HTML page carries them (file, line, message) over the last
  good site.
- The work that may wait for the reload (`Preview.finish`) runs on a thread of its own, so the next
  edit saved meanwhile is rebuilt at once rather than after it, and starts once edits have paused
  (`FINISH_AFTER_S`): sooner, it competed with the browser's reload for the interpreter, and a save
  soon after the last waited for the step it was in.
"""
from __future__ import annotations

import html
import mimetypes
import threading
from collections.abc import Callable, Iterable
from pathlib import Path

from .content.errors import BuildFailed, ContentError
from .content.vocab import VOCABULARY_DIR
from .engine import pipeline
from .engine.preview import Preview
from .system.write import output_lock

# The work after the reload starts when no edit has come for this long (seconds).
FINISH_AFTER_S = 1.5

# -- serving -----------------------------------------------------------------------------------------

ERROR_STYLE = ("position:fixed;inset:auto 0 0 0;max-height:60vh;overflow:auto;z-index:99999;margin:0;"
               "padding:1rem;background:#fff4f4;color:#5c0000;border-top:4px solid #b00020;"
               "font:14px/1.5 ui-monospace,monospace;white-space:pre-wrap")


def error_overlay(errors: list[ContentError]) -> bytes:
    """What the browser shows over the last good page while an edit has errors."""
    lines = "\n".join(html.escape(str(error)) for error in errors)
    title = f"{len(errors)} lỗi, đang hiển thị bản dựng trước | {len(errors)} error(s), showing the last good build"
    return (f'<pre id="cnnt-preview-errors" role="alert" style="{ERROR_STYLE}"><strong>{html.escape(title)}</strong>\n'
            f'{lines}</pre>').encode()


def site_app(preview: Preview) -> Callable:
    """A WSGI app serving the output folder; HTML pages get the error overlay while there are errors.
    (livereload wraps it and adds its reload script to every HTML page.)"""
    root = preview.options.out_dir

    def app(environ: dict, start_response: Callable) -> list[bytes]:
        path = environ.get("PATH_INFO", "/")
        target = (root / path.lstrip("/")).resolve()
        if target.is_dir():
            if not path.endswith("/"):
                start_response("301 Moved Permanently", [("Location", path + "/")])
                return [b""]
            target = target / "index.html"
        if not target.is_relative_to(root.resolve()) or not target.is_file():
            target, status = root / "404.html", "404 Not Found"
        else:
            status = "200 OK"
        # before a first good build there is no site yet: an empty page, to carry the errors
        body = target.read_bytes() if target.is_file() else b"<!doctype html><meta charset=utf-8><title>404</title><body></body>"
        kind = mimetypes.guess_type(target.name)[0] or "text/html"
        if kind == "text/html" and preview.errors:
            body = body.replace(b"</body>", error_overlay(preview.errors) + b"</body>", 1)
        start_response(status, [("Content-Type", kind + ("; charset=utf-8" if kind.startswith("text/") else "")),
                                ("Cache-Control", "no-store")])
        return [body]

    return app


def serve(options: pipeline.BuildOptions, host: str, port: int,
          report_errors: Callable[[BuildFailed], None]) -> int:
    from livereload import Server
    from livereload.handlers import LiveReloadHandler
    from livereload.watcher import Watcher
    from tornado.ioloop import IOLoop

    preview = Preview(options)

    def rebuild(changed: Iterable[Path] = ()) -> None:
        line = preview.rebuild(changed)
        if preview.errors:
            report_errors(BuildFailed(preview.errors))
        print(line, flush=True)

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
            finishing = threading.Event()
            threading.Thread(target=finish_when_paused, args=(finishing, preview.finish), daemon=True).start()
            for changes in watchfiles.watch(*watched_paths(options), debounce=30, step=10, raise_interrupt=False):
                rebuild(Path(path) for _, path in changes)
                loop.add_callback(LiveReloadHandler.reload_waiters)
                finishing.set()

    lock = output_lock(options.out_dir, options.lock_file)  # held while the preview runs: a build beside it stops with a message
    try:
        lock.__enter__()
    except BuildFailed as failure:
        report_errors(failure)
        return 1
    rebuild()
    watcher = FileEvents()
    watcher.watch(str(options.content_dir))  # livereload watches the working folder when told nothing
    server = Server(app=site_app(preview), watcher=watcher)
    print(f"http://{host}:{port}/  (Ctrl+C để dừng | to stop)", flush=True)
    try:
        server.serve(host=host, port=port, debug=False, open_url_delay=None, restart_delay=0)
    except OSError as exc:
        raise SystemExit(f"Không mở được cổng {port} ({exc.strerror}): thử --port khác | "
                         f"Cannot listen on port {port} ({exc.strerror}): try another --port") from exc
    return 0


def finish_when_paused(finishing: threading.Event, finish: Callable[[], None], pause: float = FINISH_AFTER_S) -> None:
    """The work that waits for the reload, on its own thread (`finishing` is set after each rebuild):
    it starts once edits have paused for `pause` seconds. An edit saved while it runs is rebuilt
    between its steps instead of after it (engine/preview.py, `finish`)."""
    while True:
        finishing.wait()
        finishing.clear()
        while finishing.wait(pause):  # another edit: wait for the pause again
            finishing.clear()
        finish()


def watched_paths(options: pipeline.BuildOptions) -> list[str]:
    paths = [options.content_dir, options.templates_dir, options.static_dir, VOCABULARY_DIR, options.config_file]
    return [str(path) for path in paths if path.exists()]
