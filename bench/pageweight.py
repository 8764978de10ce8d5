#!/usr/bin/env python3
"""Page-weight benchmark: what a phone downloads to show a product page a QR code opened.

    python bench/pageweight.py                 # the sample catalogue
    python bench/pageweight.py --size 1000     # a synthetic catalogue (bench/generate.py) too

For every product page (both languages) it adds the gzip size (level 6, as a static host serves it)
of the HTML and of every stylesheet and script the page loads, photos excepted, and prints the
median and the heaviest against the budget of 25 KB. It also lists anything the page would load from
another site (there must be nothing). Figures only: it never fails on size.
"""
from __future__ import annotations

import argparse
import gzip
import re
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(BENCH))

from benchmark import BUILD_DATE, OUT, content_for  # noqa: E402

BUDGET = 25 * 1024
ASSET = re.compile(r'<(?:link[^>]+rel="stylesheet"[^>]+href|script[^>]+src)="([^"]+)"')
REMOTE = re.compile(r'(?:src|href)="(?:https?:)?//[^"]+"[^>]*>')


def gzip_size(data: bytes) -> int:
    return len(gzip.compress(data, 6))


def weigh(site: Path) -> list[tuple[int, str]]:
    """(bytes, page) for every product page, HTML plus its CSS and JavaScript, gzipped."""
    weights = []
    asset_sizes: dict[Path, int] = {}
    for page in sorted([*site.glob("products/*/index.html"), *site.glob("en/products/*/index.html")]):
        html = page.read_bytes()
        if b'http-equiv="refresh"' in html:
            continue  # a former address that redirects
        total = gzip_size(html)
        for href in ASSET.findall(html.decode("utf-8")):
            asset = (page.parent / href).resolve()
            asset_sizes.setdefault(asset, gzip_size(asset.read_bytes()))
            total += asset_sizes[asset]
        weights.append((total, str(page.parent.relative_to(site))))
    return weights


def remote_loads(site: Path) -> list[str]:
    """Tags in product pages that would load something from another host (links to websites aside)."""
    found = []
    for page in site.glob("products/*/index.html"):
        for tag in REMOTE.findall(page.read_text(encoding="utf-8")):
            if not tag.startswith(("href=\"http", "href=\"//")) or "stylesheet" in tag:
                found.append(f"{page}: {tag[:80]}")
    return found


def build(content: Path, out: Path) -> None:
    subprocess.run([sys.executable, str(ROOT / "build.py"), "--content", str(content), "--out", str(out),
                    "--date", BUILD_DATE, "--force"], check=True, capture_output=True)


def report(label: str, site: Path) -> None:
    weights = sorted(weigh(site))
    sizes = [size for size, _ in weights]
    heaviest, page = weights[-1]
    print(f"\n{label}: {len(weights)} product pages, HTML + CSS + JS, gzip (budget {BUDGET / 1024:.0f} KB)")
    print(f"  median  {statistics.median(sizes) / 1024:6.1f} KB")
    print(f"  heaviest {heaviest / 1024:5.1f} KB  {page}")
    print(f"  over budget: {sum(size > BUDGET for size in sizes)}")
    remote = remote_loads(site)
    print(f"  third-party resources: {len(remote)}" + "".join(f"\n    {line}" for line in remote[:5]))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", type=int, help="also weigh a synthetic catalogue of this many products")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(dir=BENCH) as temporary:
        sample = Path(temporary) / "site"
        build(ROOT / "content", sample)
        report("sample catalogue", sample)
    if args.size:
        site = OUT / f"weight-site-{args.size}"
        build(content_for(args.size), site)
        report(f"synthetic catalogue of {args.size:,}", site)
    return 0


if __name__ == "__main__":
    sys.exit(main())
