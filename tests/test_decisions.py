"""Award decisions: the centre's register makes an award verified; a declared award says so, and counts
toward a product's level only as site.yaml decides; entries are plain files."""
from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest
from conftest import ROOT
from test_serve import edit, preview, same_as_full_build  # noqa: F401  (the preview fixture)

PRODUCT = "---\nname: Bánh\nfacility: htx-mau\ngroup: food\n{awards}---\nMô tả.\n"
NATIONAL = "awards:\n  - {level: national, year: 2025}\n"
DECISION = ("---\nnumber: 77/QĐ-BCT\ndate: 2025-09-01\nissuer: Bộ Công Thương\nlevel: national\n"
            "products: [banh]\n---\nKỳ bình chọn cấp quốc gia 2025.\n")


def with_policy(tmp_path: Path, policy: str) -> tuple[str, ...]:
    config = tmp_path / "site-policy.yaml"
    settings = (ROOT / "site.yaml").read_text(encoding="utf-8")
    assert "\ndeclared_awards: show\n" in settings
    config.write_text(settings.replace("\ndeclared_awards: show\n", f"\ndeclared_awards: {policy}\n"), encoding="utf-8")
    return ("--config", str(config))


def national_listing(site: Path) -> str:
    listing = site / "awards/national/index.html"
    return listing.read_text(encoding="utf-8") if listing.is_file() else ""


# -- the sample catalogue ---------------------------------------------------------------------------

def test_sample_decisions_have_pages_linked_from_badges(sample_site):
    vi = (sample_site / "decisions/quoc-gia-2024/index.html").read_text(encoding="utf-8")
    en = (sample_site / "en/decisions/quoc-gia-2024/index.html").read_text(encoding="utf-8")
    for page in (vi, en):
        assert "2512/QĐ-BCT" in page and "Bộ Công Thương" in page
        assert 'products/kho-muc-my-thuyen/"' in page and 'products/che-shan-tuyet-co-thu/"' in page
    assert "Quyết định số 2512/QĐ-BCT" in vi and "Decision No. 2512/QĐ-BCT" in en
    assert "The Ministry of Industry and Trade" in en  # the translation's body
    product = (sample_site / "en/products/kho-muc-my-thuyen/index.html").read_text(encoding="utf-8")
    assert re.search(r'<a href="[./]*en/decisions/quoc-gia-2024/">Verified by decision No. 2512/QĐ-BCT', product)
    # the header badge itself links the decision that granted the current level
    assert re.search(r'<a class="badge badge-national" href="[./]*en/decisions/quoc-gia-2024/"', product)
    listing = (sample_site / "en/decisions/index.html").read_text(encoding="utf-8")
    years = [int(year) for year in re.findall(r'<h2 id="year-(\d{4})">', listing)]
    assert years == sorted(years, reverse=True) and len(years) >= 5
    assert len(set(re.findall(r'href="[./]*(?:en/)?decisions/([a-z0-9-]+)/"', listing))) == 24


def test_sample_keeps_a_few_declared_awards_and_says_so(sample_site):
    vi = (sample_site / "products/ao-so-mi-nam/index.html").read_text(encoding="utf-8")
    en = (sample_site / "en/products/ao-so-mi-nam/index.html").read_text(encoding="utf-8")
    header = vi.split('<header class="entry-head">')[1].split("</header>")[0]
    assert "Cơ sở tự khai" in vi and "không tính vào cấp hiện tại" in vi and "(tự khai)" not in header
    assert "Declared by the facility" in en and "not counted toward the current level" in en
    assert "badge-declared" in en and "No award in force" in en  # shown, not counted (the default)
    declared = sum("award-declared" in page.read_text(encoding="utf-8")
                   for page in (sample_site / "products").glob("*/index.html"))
    assert 3 <= declared < 20


# -- the centre's choice for declared awards ----------------------------------------------------------

def test_declared_awards_are_shown_not_counted_by_default(make_site):
    run = make_site({"products/banh.md": PRODUCT.format(awards=NATIONAL)})
    assert run.code == 0, run.err
    assert "products/banh/" not in national_listing(run.site)
    page = (run.site / "en/products/banh/index.html").read_text(encoding="utf-8")
    assert "Declared by the facility" in page and "No award in force" in page
    assert search_level(run.site) == -1  # search facets and counts follow the same rule
    run = make_site({"products/banh.md": PRODUCT.format(awards=NATIONAL), "decisions/qg.md": DECISION})
    assert search_level(run.site) != -1


def search_level(site: Path) -> int:
    """The level index the search data gives product `banh` (-1: none in force)."""
    data = json.loads(next((site / "search").glob("data-vi-*.json")).read_text(encoding="utf-8"))
    return next(row[4] for row in data["products"] if row[0] == "banh")


def test_declared_awards_count_when_the_centre_says_so(make_site, tmp_path):
    run = make_site({"products/banh.md": PRODUCT.format(awards=NATIONAL)}, extra=with_policy(tmp_path, "count"))
    assert run.code == 0, run.err
    assert 'href="../../products/banh/"' in national_listing(run.site)
    card = national_listing(run.site)
    assert "badge-declared" in card and "(tự khai)" in card  # counted, still marked as declared


def test_declared_awards_can_be_refused(make_site, tmp_path):
    run = make_site({"products/banh.md": PRODUCT.format(awards=NATIONAL)}, command="check",
                    extra=with_policy(tmp_path, "refuse"))
    assert run.code == 1
    assert "content/products/banh.md:6: awards: " in run.err and "declared_awards: refuse" in run.err
    run = make_site({"products/banh.md": PRODUCT.format(awards=NATIONAL), "decisions/qg.md": DECISION},
                    command="check", extra=with_policy(tmp_path, "refuse"))
    assert run.code == 0, run.err  # the same award, registered


def test_an_unknown_policy_is_reported_with_a_suggestion(make_site, tmp_path):
    run = make_site({}, command="check", extra=with_policy(tmp_path, "counts"))
    assert run.code == 1 and "site-policy.yaml:25: declared_awards: " in run.err
    assert "`counts` must be `show`" in run.err and "did you mean `count`?" in run.err


def test_a_registered_decision_gives_its_products_the_award(make_site):
    run = make_site({"products/banh.md": PRODUCT.format(awards=""), "decisions/qg.md": DECISION})
    assert run.code == 0, run.err
    assert 'href="../../products/banh/"' in national_listing(run.site)
    page = (run.site / "products/banh/index.html").read_text(encoding="utf-8")
    assert re.search(r'<a href="[./]*decisions/qg/">Đã xác minh theo quyết định số 77/QĐ-BCT', page)
    assert "badge-declared" not in page


def test_a_forged_award_citing_a_real_decision_fails_at_its_line(make_site):
    forged = PRODUCT.format(awards='awards:\n  - {level: national, year: 2025, decision: "77/QĐ-BCT"}\n')
    run = make_site({"products/banh.md": PRODUCT.format(awards=""), "products/gia.md": forged.replace("Bánh", "Giả"),
                     "decisions/qg.md": DECISION}, command="check")
    assert run.code == 1
    assert "content/products/gia.md:6: awards: " in run.err and "does not list product `gia`" in run.err


# -- only plain files --------------------------------------------------------------------------------

@pytest.mark.parametrize("link,target", [
    ("products/banh.md", "/etc/passwd"),
    ("products/banh.en.md", "../facilities/htx-mau.md"),
    ("products/goi/index.md", "../../facilities/htx-mau.md"),
    ("decisions", "/tmp"),
])
def test_links_in_content_are_refused_whatever_they_point_to(make_site, tmp_path, link, target):
    files = {"products/goi/anh.txt": "x"} if link.startswith("products/goi/") else {}
    if link == "products/banh.en.md":
        files["products/banh.md"] = PRODUCT.format(awards="")
    make_site(files, command="check")  # lays out the content folder
    path = tmp_path / "content" / link
    path.parent.mkdir(parents=True, exist_ok=True)
    os.symlink(target, path)
    run = make_site({}, command="check")
    assert run.code == 1 and "Traceback" not in run.err
    assert f"content/{link}: " in run.err and "not a regular file" in run.err
    assert "root:" not in run.err  # nothing of what a link points to is read


# -- the preview follows the register --------------------------------------------------------------

def test_the_preview_follows_a_new_decision(preview, tmp_path):  # noqa: F811
    content = preview.options.content_dir
    page = preview.options.out_dir / "en/products/ao-so-mi-nam/index.html"
    assert "Declared by the facility" in page.read_text(encoding="utf-8")
    (content / "decisions/ninh-binh-2023.md").write_text(
        "---\nnumber: 404/QĐ-UBND\ndate: 2023-08-01\nissuer: UBND tỉnh Nam Định\nlevel: provincial\n"
        "products: [ao-so-mi-nam]\n---\n", encoding="utf-8")
    preview.rebuild([content / "decisions/ninh-binh-2023.md"])
    assert not preview.errors
    assert "Verified by decision No. 404/QĐ-BCT" not in page.read_text(encoding="utf-8")
    assert "Verified by decision No. 404/QĐ-UBND" in page.read_text(encoding="utf-8")
    same_as_full_build(preview, tmp_path)
    # an in-place edit of the product keeps the verified award (the quick path resolves awards too)
    edit(content / "products/ao-so-mi-nam/index.md", "vải cotton", "vải cotton mềm")
    preview.rebuild([content / "products/ao-so-mi-nam/index.md"])
    preview.finish()  # the search data, written after the browser reloads
    assert not preview.errors and "Verified by decision No. 404/QĐ-UBND" in page.read_text(encoding="utf-8")
    same_as_full_build(preview, tmp_path)
