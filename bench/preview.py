#!/usr/bin/env python3
"""Preview benchmark: time from saving an entry to the browser showing the reloaded page.

    python bench/preview.py                  # 10k products, 5 edits of each kind
    python bench/preview.py --size 1000 --edits 3

It runs `build.py serve` on a synthetic catalogue (bench/generate.py), opens a product page in
headless Chromium (Debian's chromium), then edits that product's file and measures, with the
browser's own clock, saving the file → the reloaded page's DOMContentLoaded. Two kinds of edit:

  in place   the summary changes: the page, its facility, listings and cards are re-rendered
  renamed    the name gets a suffix, keeping its place in A–Z: the same pages, and its link preview
             drawn again (the first may plan the site again if the generated name is another's too)
  moving     a new first word: the product moves in A–Z and search, under "T", then "Ấ", then "T"…,
             so every listing page between its old place and its new one changes
  template   a line added to the footer, which every page shows (in a copy of templates/): every
             page is rendered again, the one shown before the reload
  setting    the centre's name, which every page's footer shows, changed (in a copy of site.yaml):
             the site is planned again and every page rendered again, the one shown before the reload

Beside each edit's time it prints the server's own rebuild time, as the server printed it: the rest
is the file watcher, the reload and the page's loading. Target: under 0.5 s for an in-place edit and
1.5 s for a rename at 10k products. Figures only; it never fails on speed.
"""
from __future__ import annotations

import argparse
import re
import shutil
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(BENCH))

from benchmark import BUILD_DATE, OUT, content_for  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync"]
LOADED_AT = "performance.timeOrigin + performance.getEntriesByType('navigation')[0].domContentLoadedEventEnd"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(content: Path, templates: Path, config: Path, site: Path, port: int) -> subprocess.Popen:
    server = subprocess.Popen([sys.executable, str(ROOT / "build.py"), "serve", "--content", str(content),
                               "--templates", str(templates), "--config", str(config), "--out", str(site),
                               "--port", str(port), "--date", BUILD_DATE],
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    for line in server.stdout:
        if f":{port}/" in line:
            return server
    sys.exit("the preview server did not start")


class ServerLog:
    """The server's lines, each with the time it was read: its own figure for each rebuild."""

    def __init__(self, server: subprocess.Popen) -> None:
        self.lines: list[tuple[float, str]] = []
        threading.Thread(target=self._read, args=(server,), daemon=True).start()

    def _read(self, server: subprocess.Popen) -> None:
        for line in server.stdout:
            self.lines.append((time.time(), line))

    def rebuilt_since(self, since: float) -> float:
        """The seconds the server's rebuilds since `since` took, as it printed them (it prints its
        line just after telling the browser to reload: waited for, up to a few seconds)."""
        for _ in range(500):
            found = [float(match.group(1)) for when, line in list(self.lines) if when >= since
                     for match in [re.search(r"pages rebuilt, ([0-9.]+) s", line)] if match]
            if found:
                return sum(found)
            time.sleep(0.01)
        return float("nan")


def edit_and_wait(page, path: Path, old: str, new: str, expect: str, log: ServerLog) -> tuple[float, float]:
    """Seconds from saving the file to the reloaded page being ready, and of them, the server's rebuild."""
    text = path.read_text(encoding="utf-8")
    saved = time.time()
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    page.wait_for_function("t => document.body && document.body.innerText.includes(t)", arg=expect, timeout=120_000)
    return page.evaluate(LOADED_AT) / 1000 - saved, log.rebuilt_since(saved)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", type=int, default=10_000)
    parser.add_argument("--edits", type=int, default=5)
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    source = content_for(args.size)
    content = OUT / f"preview-content-{args.size}"
    shutil.rmtree(content, ignore_errors=True)
    shutil.copytree(source, content)
    templates = OUT / f"preview-templates-{args.size}"
    shutil.rmtree(templates, ignore_errors=True)
    shutil.copytree(ROOT / "templates", templates)
    config = OUT / f"preview-site-{args.size}.yaml"
    shutil.copyfile(ROOT / "site.yaml", config)
    site = OUT / f"preview-site-{args.size}"
    built_codes = OUT / ".cache" / f"site-{args.size}" / "qr-codes.sqlite"
    if built_codes.is_file():  # the build benchmark's QR codes: the same addresses
        (OUT / ".cache" / site.name).mkdir(parents=True, exist_ok=True)
        shutil.copy(built_codes, OUT / ".cache" / site.name / "qr-codes.sqlite")
    product = sorted((content / "products").glob("*.md"))[len(list((content / "products").glob("*.md"))) // 2]
    slug = product.stem
    port = free_port()
    started = time.perf_counter()
    server = start_server(content, templates, config, site, port)
    print(f"{args.size:,} products: first build and server ready in {time.perf_counter() - started:.1f} s")
    log = ServerLog(server)
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
            page = browser.new_page()
            page.goto(f"http://127.0.0.1:{port}/products/{slug}/")
            page.wait_for_function("window.LiveReload !== undefined")
            in_place, renamed, moving, restyled, settings = [], [], [], [], []
            # each in-place edit replaces the last one's words: added up, they broke the summary's limit
            summary = before = re.search(r"^summary: .*$", product.read_text(encoding="utf-8"), re.M).group(0)
            for number in range(args.edits):
                time.sleep(1)
                marker = f"Bản sửa {number} {time.time():.0f}"
                after = summary.replace("summary: ", f"summary: {marker}. ", 1)
                in_place.append(edit_and_wait(page, product, before, after, marker, log))
                before = after
            for number in range(args.edits):
                time.sleep(1)
                name = re.search(r"^name: .*$", product.read_text(encoding="utf-8"), re.M).group(0)
                marker = f"bản sửa {number}"
                renamed.append(edit_and_wait(page, product, name, f"{name} ({marker})", marker, log))
            for number in range(max(1, args.edits // 2)):
                time.sleep(1)
                marker = f"{'Tên' if number % 2 == 0 else 'Ấm'} mới {number}"  # from letter to letter
                moving.append(edit_and_wait(page, product, "name: ", f"name: {marker} ", marker, log))
            footer, before = templates / "partials/footer.html", "</footer>"
            for number in range(max(1, args.edits // 2)):
                time.sleep(1)
                marker = f"Chân trang {number}"
                after = f"<p>{marker}</p></footer>"
                restyled.append(edit_and_wait(page, footer, before, after, marker, log))
                before = after
            before = "(mẫu)"
            for number in range(max(1, args.edits // 2)):
                time.sleep(1)
                after = f"(mẫu {number})"
                settings.append(edit_and_wait(page, config, before, after, f"Khuyến công {after}", log))
                before = after
            browser.close()
    finally:
        server.terminate()
        server.wait(10)
    report("in-place edit", in_place, "target < 0.5 s")
    report("renamed in place", renamed, "target < 1.5 s")
    report("moving edit (new name)", moving, "target < 1.5 s")
    report("template saved", restyled, "every page changes")
    report("setting saved", settings, "every page changes")
    return 0


def report(kind: str, timings: list[tuple[float, float]], target: str) -> None:
    """Save → reloaded page, and of it the server's rebuild, edit by edit in order."""
    seconds = [total for total, _ in timings]
    each = ", ".join(f"{total:.2f} ({server:.2f})" for total, server in timings)
    print(f"  {kind} → reloaded page: median {statistics.median(seconds):.2f} s, worst {max(seconds):.2f} s "
          f"({target}); in order, with the server's rebuild in brackets: {each} s")


if __name__ == "__main__":
    sys.exit(main())
