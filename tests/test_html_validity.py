"""Every page the build writes is valid HTML, its stylesheet valid CSS and its SVG files valid SVG, as the
Nu Html Checker (the W3C validator's engine, npm `vnu-jar`, pinned in package-lock.json) judges them."""
from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path
from urllib.parse import unquote

import pytest
from conftest import ROOT

VNU = ROOT / "node_modules/vnu-jar/build/dist/vnu.jar"
# Warnings looked at and kept, each with its reason (none at present): (text in the message, why).
ACCEPTED_WARNINGS: list[tuple[str, str]] = []
PAGE_TYPES = ["index.html", "en/index.html", "404.html", "en/404.html", "search/index.html", "en/search/index.html",
              "products/kho-muc-my-thuyen/index.html", "en/products/kho-muc-my-thuyen/index.html",
              "facilities/my-thuyen/index.html", "fairs/hoi-cho-cnnt-ca-mau-2026/index.html",
              "fairs/hoi-cho-cnnt-ca-mau-2026/cards/index.html", "cards/my-thuyen/index.html",
              "products/khan-bong-cotton/index.html", "decisions/index.html", "decisions/quoc-gia-2024/index.html",
              "awards/index.html", "awards/national/index.html", "a-z/index.html", "facilities/index.html",
              "fairs/index.html"]


def require_checker() -> None:
    """Skip where the checker is not installed, but never in CI, where .ci/run installs it."""
    missing = [what for what, there in (("java", shutil.which("java")), (str(VNU), VNU.is_file())) if not there]
    if missing:
        if os.environ.get("CI"):
            raise RuntimeError(f"{', '.join(missing)} missing: .ci/run installs them (npm ci, default-jre-headless)")
        pytest.skip(f"{', '.join(missing)} missing (npm ci; apt-get install default-jre-headless)")


def check(*paths: Path) -> list[str]:
    """The checker's messages, `file:line.column: type: text`, over the given files and folders."""
    done = subprocess.run(["java", "-jar", str(VNU), "--format", "gnu", "--also-check-css", "--also-check-svg",
                           "--skip-non-html", *map(str, paths)], capture_output=True, text=True, timeout=600)
    messages = [line for line in done.stderr.splitlines() if line.strip()]
    assert done.returncode == 0 or messages, done.stderr  # a crash of the checker is not a pass
    return messages


def unexplained(messages: list[str]) -> list[str]:
    return [message for message in messages
            if not any(text in message for text, _ in ACCEPTED_WARNINGS if ": error:" not in message)]


def qr_svgs(site: Path, folder: Path) -> list[Path]:
    """The SVG QR codes the pages carry as data URIs (and offer for download), as files."""
    folder.mkdir()
    written = []
    for number, page in enumerate(["products/kho-muc-my-thuyen/index.html", "en/facilities/my-thuyen/index.html",
                                   "fairs/hoi-cho-cnnt-ca-mau-2026/index.html"]):
        uri = re.search(r'src="data:image/svg\+xml,([^"]+)"', (site / page).read_text(encoding="utf-8"))
        assert uri, page
        written.append(folder / f"qr-{number}.svg")
        written[-1].write_text(unquote(uri[1]), encoding="utf-8")
    return written


def test_every_page_stylesheet_and_svg_is_valid(sample_site, tmp_path):
    require_checker()
    missing = [page for page in PAGE_TYPES if not (sample_site / page).is_file()]
    assert not missing, missing  # every page type is in what is checked
    pages = len(list(sample_site.rglob("*.html")))
    svgs = list(sample_site.rglob("*.svg")) + qr_svgs(sample_site, tmp_path / "qr")
    assert pages > 250 and len(svgs) >= 5
    messages = check(sample_site, *svgs)
    problems = unexplained(messages)
    assert not problems, "\n".join(problems[:40]) + f"\n({len(problems)} in all)"


def test_the_checker_would_catch_an_error(tmp_path):
    """The test above can fail: a page with the faults this project once had is reported, by file and line."""
    require_checker()
    bad = tmp_path / "bad.html"
    bad.write_text('<!doctype html>\n<html lang="vi">\n<head><title>x</title></head>\n<body>\n'
                   '<form action=""></form>\n<img src="data:image/svg+xml,%3Csvg a b%3E" alt="">\n</body>\n</html>\n')
    messages = check(bad)
    assert any(re.search(r'bad\.html":\d+\.\d+-\d+\.\d+: error: .*“action”', message) for message in messages), messages
    assert any("Space is not allowed" in message for message in messages), messages
