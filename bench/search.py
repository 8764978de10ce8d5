#!/usr/bin/env python3
"""Search benchmark: prints figures for our search and for Pagefind over the same built site.

    python bench/search.py                    # 10k products
    python bench/search.py --sizes 10000 50000
    python bench/search.py --no-pagefind      # without the comparison (pagefind[bin] not installed)
    python bench/search.py --sizes 50000 --search-only   # 50k: only the search pages and data

For each size it builds the synthetic catalogue (bench/generate.py), serves it locally and opens it
in headless Chromium (Debian's chromium) with an empty cache, then prints:

  bytes before first result  every response the page fetched before the first result appeared,
                             gzip-compressed as a static host serves it (level 6)
  time to first result       navigation start → first result on screen (local server: no network delay)
  keystroke                  one character typed → results and facet counts updated and laid out
                             (median, 95th percentile and worst over the queries, typed character
                             by character, each query in a fresh page)
  recall@10                  of the products whose name has every query word (marks ignored, as a
                             buyer types), the share found in the first 10 results

Pagefind 1.5.2 (`pip install -r bench/requirements.txt`) indexes the same product pages; its figures
come from its JavaScript API (`pagefind.js`: search, then the first result's data), the lightest way
to use it. Compare with bench/baseline-search.json (`--save-baseline` records this machine's).
"""
from __future__ import annotations

import argparse
import contextlib
import functools
import gzip
import http.server
import json
import shutil
import statistics
import subprocess
import sys
import threading
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH.parent))
sys.path.insert(0, str(BENCH))

from benchmark import BUILD_DATE, OUT, content_for, run_build  # noqa: E402

from cnnt.content.text import search_words  # noqa: E402

BASELINE = BENCH / "baseline-search.json"
CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync"]
# Typed without marks, as a buyer on a phone types them; each names products of the synthetic catalogue.
QUERIES = ["dua tre", "banh phong tom", "nuoc mam", "kho muc", "ca phe rang xay", "che shan tuyet", "keo dua",
           "may say nong san", "gom men lam", "khan tho cam", "hat dieu", "luoi cay", "mat ong", "dong son"]

OBSERVE_FIRST_RESULT = """
window.__firstResult = null;
new MutationObserver((changes, observer) => {
  if (document.querySelector('.result-title')) { window.__firstResult = performance.now(); observer.disconnect(); }
}).observe(document, {subtree: true, childList: true});
"""

KEYSTROKE = """async (query) => {
  const input = document.getElementById('search-q');
  const times = [];
  input.value = '';
  for (const ch of query) {
    const started = performance.now();
    input.value += ch;
    input.dispatchEvent(new Event('input'));
    void document.body.offsetHeight;  // results and counts laid out
    times.push(performance.now() - started);
    await new Promise(requestAnimationFrame);
  }
  return times;
}"""

PAGEFIND_PAGE = """<!doctype html><meta charset="utf-8"><title>pagefind</title><script type="module">
const started = performance.now();
const pagefind = await import('./pagefind/pagefind.js');
const found = await pagefind.search(new URLSearchParams(location.search).get('q'));
const first = found.results.length ? await found.results[0].data() : null;
window.__result = {ms: performance.now() - started, count: found.results.length, first: first && first.url,
  top: (await Promise.all(found.results.slice(0, 10).map(r => r.data()))).map(d => d.url)};
</script>"""


class Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@contextlib.contextmanager
def served(folder: Path):
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=str(folder)))
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}/"
    finally:
        httpd.shutdown()


def gzip_size(response) -> int:
    """The response's size as a static host sends it, gzip level 6; 0 if the page closed meanwhile."""
    try:
        return len(gzip.compress(response.body(), 6))
    except Exception:  # the page was closed before the body was read: not part of the measure
        return 0


def expected(site: Path) -> dict[str, set[str]]:
    """For each query, the products whose Vietnamese name has every query word as a word prefix."""
    (data_file,) = (site / "search").glob("data-vi-*.json")
    products = json.loads(data_file.read_text(encoding="utf-8"))["products"]
    names = [(row[0], search_words(row[1])) for row in products]
    return {query: {slug for slug, words in names
                    if all(any(w.startswith(q) for w in words) for q in search_words(query))}
            for query in QUERIES}


def slug_of(url: str) -> str:
    return url.rstrip("/").rsplit("/", 1)[-1]


def recall_at_10(found: list[str], relevant: set[str]) -> float:
    return len(set(found[:10]) & relevant) / min(10, len(relevant)) if relevant else 1.0


def measure_ours(browser, base: str, relevant: dict[str, set[str]]) -> dict:
    first_bytes, first_ms, keystrokes, recalls = [], [], [], []
    for query in QUERIES:
        context = browser.new_context(service_workers="block")
        page = context.new_page()
        bodies: list[tuple[str, int]] = []
        page.on("response", lambda r, bodies=bodies: bodies.append((r.url, gzip_size(r))) if r.ok else None)
        page.add_init_script(OBSERVE_FIRST_RESULT)
        page.goto(base + "search/?q=" + query.replace(" ", "+"))
        page.wait_for_function("window.__firstResult !== null")
        first = page.evaluate("window.__firstResult")
        first_ms.append(first)
        # what had arrived when the first result appeared, by the page's own clock (files fetched
        # after it, such as the whole index and the descriptions, may arrive while this runs)
        arrived = set(page.evaluate("t => performance.getEntries().filter(e => e.responseEnd && e.responseEnd <= t)"
                                    ".map(e => e.name)", first))
        page.wait_for_timeout(200)  # every response's body read
        first_bytes.append(sum(size for url, size in bodies if url in arrived))
        hrefs = page.eval_on_selector_all(".result-title", "els => els.slice(0, 10).map(e => e.href)")
        recalls.append(recall_at_10([slug_of(h) for h in hrefs], relevant[query]))
        page.wait_for_selector(".search-complete")  # typing is timed with every product and description in
        keystrokes += page.evaluate(KEYSTROKE, query)
        context.close()
    return summary(first_bytes, first_ms, keystrokes, recalls)


def measure_pagefind(browser, site: Path, base: str, relevant: dict[str, set[str]]) -> dict:
    first_bytes, first_ms, recalls = [], [], []
    for query in QUERIES:
        context = browser.new_context()
        page = context.new_page()
        bodies: list[int] = []
        page.on("response", lambda r, bodies=bodies: bodies.append(gzip_size(r)) if r.ok else None)
        page.goto(base + "pagefind-bench.html?q=" + query.replace(" ", "+"))
        page.wait_for_function("window.__result !== undefined", timeout=60_000)
        result = page.evaluate("window.__result")
        page.wait_for_timeout(200)
        first_ms.append(result["ms"])
        first_bytes.append(sum(bodies))  # includes the other nine results' fragments: a results list needs them
        recalls.append(recall_at_10([slug_of(u) for u in result["top"]], relevant[query]))
        context.close()
    return summary(first_bytes, first_ms, [], recalls)


def summary(first_bytes: list[int], first_ms: list[float], keystrokes: list[float], recalls: list[float]) -> dict:
    return {
        "bytes_before_first_result": int(statistics.median(first_bytes)),
        "bytes_before_first_result_max": max(first_bytes),
        "first_result_ms": round(statistics.median(first_ms), 1),
        "keystroke_ms_median": round(statistics.median(keystrokes), 2) if keystrokes else None,
        "keystroke_ms_p95": round(statistics.quantiles(keystrokes, n=20)[-1], 2) if len(keystrokes) > 1 else None,
        "keystroke_ms_worst": round(max(keystrokes), 2) if keystrokes else None,
        "recall_at_10": round(statistics.mean(recalls), 3),
    }


def index_with_pagefind(site: Path) -> None:
    shutil.rmtree(site / "pagefind", ignore_errors=True)
    subprocess.run([sys.executable, "-m", "pagefind", "--site", str(site), "--glob", "products/*/index.html",
                    "--quiet"], check=True)
    (site / "pagefind-bench.html").write_text(PAGEFIND_PAGE, encoding="utf-8")


def build_search_only(content: Path, site: Path) -> None:
    """The search pages, their data and the assets, without the other pages: how `--search-only`
    checks that 50k products still work without building (and making QR codes for) 250k pages."""
    import datetime as dt

    from cnnt.content.config import load_config
    from cnnt.content.load import LoadOptions, load_catalogue
    from cnnt.content.vocab import load_vocabularies
    from cnnt.engine import extras
    from cnnt.site import search
    from cnnt.site.pages import build_pages
    from cnnt.site.render import Renderer
    from cnnt.system.write import copy_tree, write_bytes

    date = dt.date.fromisoformat(BUILD_DATE)
    vocab = load_vocabularies()
    config = load_config(BENCH.parent / "site.yaml", date, BENCH.parent)
    catalogue = load_catalogue(LoadOptions(content, BENCH.parent, date, vocab))
    indexes = search.build_indexes(catalogue, vocab, config, {})
    renderer = Renderer(BENCH.parent / "templates", config, vocab, catalogue, {}, {})
    shutil.rmtree(site, ignore_errors=True)
    for page in build_pages(catalogue, config, vocab, indexes):
        if page.template == "search.html":
            write_bytes(site, page.output, renderer.render(page).encode("utf-8"))
    copy_tree(BENCH.parent / "static", site / "static")
    extras.write_search(indexes, BENCH.parent / "static", site)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000])
    parser.add_argument("--no-pagefind", action="store_true")
    parser.add_argument("--search-only", action="store_true",
                        help="build only the search pages and data (no Pagefind: it needs the product pages)")
    parser.add_argument("--save-baseline", action="store_true")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    baseline = json.loads(BASELINE.read_text()) if BASELINE.is_file() else {}
    figures = {}
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        for size in args.sizes:
            site = OUT / f"search-site-{size}"
            if args.search_only:
                build_search_only(content_for(size), site)
            else:
                run_build(content_for(size), site, force=True)
            relevant = expected(site)
            engines = {"ours": None} if args.no_pagefind or args.search_only else {"ours": None, "pagefind": None}
            if "pagefind" in engines:
                index_with_pagefind(site)
            with served(site) as base:
                engines["ours"] = measure_ours(browser, base, relevant)
                if "pagefind" in engines:
                    engines["pagefind"] = measure_pagefind(browser, site, base, relevant)
            figures[str(size)] = engines
            print_figures(size, engines, baseline.get(str(size), {}).get("ours"))
        browser.close()
    if args.save_baseline:
        BASELINE.write_text(json.dumps(figures, indent=2) + "\n")
        print(f"baseline saved to {BASELINE.relative_to(BENCH.parent)}")
    return 0


def print_figures(size: int, engines: dict, baseline: dict | None) -> None:
    print(f"\n{size:,} products, {len(QUERIES)} queries typed without marks")
    rows = [("bytes before first result (gzip, median)", "bytes_before_first_result", "{:,}"),
            ("bytes before first result (gzip, most)", "bytes_before_first_result_max", "{:,}"),
            ("time to first result, ms (median)", "first_result_ms", "{}"),
            ("keystroke → results and counts, ms (median)", "keystroke_ms_median", "{}"),
            ("keystroke, ms (95th percentile)", "keystroke_ms_p95", "{}"),
            ("keystroke, ms (worst)", "keystroke_ms_worst", "{}"),
            ("recall@10", "recall_at_10", "{}")]
    print(f"  {'':46}" + "".join(f"{name:>14}" for name in engines) + ("   baseline" if baseline else ""))
    for label, key, form in rows:
        cells = "".join(f"{form.format(e[key]) if e[key] is not None else '—':>14}" for e in engines.values())
        print(f"  {label:46}{cells}" + (f"   {form.format(baseline[key])}" if baseline and baseline.get(key) is not None else ""))


if __name__ == "__main__":
    sys.exit(main())
