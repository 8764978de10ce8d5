"""Local preview: build, serve the output with live reload, rebuild when an input changes.

A failed rebuild leaves the last good site in place (the write stage is atomic) and prints the
errors in the terminal.
"""
from __future__ import annotations

from typing import Callable

from . import pipeline
from .errors import BuildFailed
from .vocab import VOCABULARY_DIR


def serve(options: pipeline.BuildOptions, host: str, port: int,
          report_errors: Callable[[BuildFailed], None]) -> int:
    from livereload import Server  # imported here: only the preview needs it

    def rebuild() -> None:
        try:
            report = pipeline.build(options)  # any change alters the inputs' fingerprint
            print(f"{report.pages} trang | pages, {report.seconds:.2f} s", flush=True)
        except BuildFailed as failure:
            report_errors(failure)

    rebuild()
    server = Server()
    for watched in (options.content_dir, options.templates_dir, options.static_dir, VOCABULARY_DIR,
                    options.config_file):
        server.watch(str(watched), rebuild)
    server.serve(root=str(options.out_dir), host=host, port=port, open_url_delay=None)
    return 0
