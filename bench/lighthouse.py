"""Lighthouse scores of every page type in both languages, as a phone sees them (mobile emulation,
slow 4G, as Lighthouse's defaults are): performance, accessibility, best practices and SEO.

    cd bench && npm ci && cd ..      # Lighthouse, pinned in bench/package-lock.json (not needed by the tests)
    python bench/lighthouse.py       # builds the sample catalogue into bench/out/lighthouse-site and scores it

Prints one line per page, and every audit that kept a score below 100 so it can be fixed. The tests
run axe-core (the engine of Lighthouse's accessibility category) on the same pages; this script is
for the whole picture, and its figures go in the closing notes, not in a pass/fail test.
"""
from __future__ import annotations

import argparse
import functools
import http.server
import json
import os
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LIGHTHOUSE = ROOT / "bench/node_modules/.bin/lighthouse"
CATEGORIES = ("performance", "accessibility", "best-practices", "seo")
FLAGS = "--headless --no-sandbox --disable-gpu --no-first-run --disable-background-networking " \
        "--disable-component-update --disable-sync"
PAGE_TYPES = ["", "products/kho-muc-my-thuyen/", "products/muoi-tom-tan-phat-loi/", "facilities/my-thuyen/",
              "fairs/", "fairs/hoi-cho-cnnt-ca-mau-2026/", "decisions/", "decisions/quoc-gia-2024/", "awards/",
              "provinces/ca-mau/", "ocop/4/", "a-z/", "facilities/", "search/", "statistics/", "data/", "shortlist/"]


class Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        pass


class Server(http.server.ThreadingHTTPServer):
    def handle_error(self, request: object, client_address: object) -> None:
        pass  # Lighthouse drops connections it no longer needs


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--site", type=Path, help="a built site to score (default: build the sample)")
    args = parser.parse_args()
    if not LIGHTHOUSE.is_file():
        sys.exit("Lighthouse is missing: cd bench && npm ci")
    site = args.site or ROOT / "bench/out/lighthouse-site"
    if not args.site:
        subprocess.run([sys.executable, "build.py", "--out", str(site), "--force"], cwd=ROOT, check=True,
                       stdout=subprocess.DEVNULL)
    server = Server(("127.0.0.1", 0), functools.partial(Quiet, directory=str(site)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}/"
    lowest = 100
    try:
        for lang in ("", "en/"):
            for path in PAGE_TYPES:
                scores, weak = score(base + lang + path)
                lowest = min(lowest, *scores.values())
                print(f"{lang + path or '/':40} " + "  ".join(f"{name} {value:3d}" for name, value in scores.items()))
                for line in weak:
                    print(f"    {line}")
    finally:
        server.shutdown()
    print(f"\nlowest score: {lowest}")
    return 0


def score(url: str) -> tuple[dict[str, int], list[str]]:
    with tempfile.TemporaryDirectory() as folder:
        report = Path(folder) / "report.json"
        subprocess.run([str(LIGHTHOUSE), url, "--quiet", f"--chrome-flags={FLAGS}",
                        f"--only-categories={','.join(CATEGORIES)}", "--output=json", f"--output-path={report}"],
                       env={**os.environ, "CHROME_PATH": "/usr/bin/chromium"}, check=True, timeout=300)
        data = json.loads(report.read_text(encoding="utf-8"))
    scores = {name: round(100 * (data["categories"][name]["score"] or 0)) for name in CATEGORIES}
    weak = [f"{audit['id']}: {audit.get('displayValue', '')} ({audit['score']})"
            for name in CATEGORIES for ref in data["categories"][name]["auditRefs"] if ref["weight"] > 0
            for audit in [data["audits"][ref["id"]]] if audit.get("score") is not None and audit["score"] < 1]
    return scores, weak


if __name__ == "__main__":
    sys.exit(main())
