"""axe-core, the accessibility engine Lighthouse runs, on every page type in both languages, in
Chromium, at phone and desktop widths: no violation of WCAG 2.1 A/AA or axe's best practices.
axe-core is pinned in package-lock.json (`npm ci`); .ci/run installs it."""
from __future__ import annotations

import os

import pytest
from conftest import ROOT

AXE = ROOT / "node_modules/axe-core/axe.min.js"
RULES = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]
PAGE_TYPES = [
    "", "products/kho-muc-my-thuyen/", "products/muoi-tom-tan-phat-loi/", "facilities/my-thuyen/",
    "fairs/hoi-cho-cnnt-ca-mau-2026/", "fairs/", "decisions/", "decisions/quoc-gia-2024/", "awards/",
    "provinces/", "provinces/ca-mau/", "ocop/", "ocop/4/", "channels/", "a-z/", "facilities/", "search/?q=tom",
    "statistics/", "data/", "print/", "cards/my-thuyen/", "products/keo-dua-la-dua/", "shortlist/", "404.html",
]


def require_axe() -> None:
    if not AXE.is_file():
        if os.environ.get("CI"):
            raise RuntimeError(f"{AXE} missing: .ci/run installs it (npm ci)")
        pytest.skip("axe-core missing (npm ci)")


def violations(page) -> list[str]:
    page.add_script_tag(path=str(AXE))
    found = page.evaluate("rules => axe.run(document, {runOnly: {type: 'tag', values: rules}})"
                          ".then(r => r.violations.map(v => v.id + ': ' + v.help + ' — '"
                          " + v.nodes.slice(0, 3).map(n => n.target.join(' ')).join(' | ')))", RULES)
    return found


@pytest.mark.parametrize("lang", ["", "en/"])
@pytest.mark.parametrize("path", PAGE_TYPES)
def test_no_accessibility_violations(visit, server, path, lang):
    require_axe()
    found = []
    for width, height in ((360, 740), (1280, 900)):
        page = visit(width, height)
        page.goto(server + lang + path)
        if path.startswith("search/"):
            page.wait_for_selector(".search-ready")
        if path == "shortlist/":
            page.evaluate("localStorage.setItem('cnnt-shortlist', JSON.stringify(['kho-muc-my-thuyen', 'tom-kho-tan-phat-loi']))")
            page.reload()
            page.wait_for_selector(".shortlist-group")
        found += [f"{width}px: {v}" for v in violations(page)]
        if path.startswith("search/") and width == 360:  # the filters panel, open
            page.locator("[data-filters-toggle]").click()
            found += [f"{width}px, filters open: {v}" for v in violations(page)]
    assert not found, "\n".join(found)
