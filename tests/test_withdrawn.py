"""Products and facilities come and go: a withdrawn entry's printed address keeps answering, an entry
published by mistake is removed with its record, `new` never guesses, and one cause gives one message."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from conftest import FACILITY
from test_serve import preview  # noqa: F401  (the preview fixture)

PRODUCT = "---\nname: {name}\nfacility: {facility}\ngroup: food\n{extra}---\nMô tả.\n"
KEPT = PRODUCT.format(name="Bánh tét", facility="htx-mau", extra="")
RETIRED = PRODUCT.format(name="Bánh ú", facility="htx-mau",
                         extra="awards:\n  - {level: provincial, year: 2024}\n"
                               "withdrawn: {date: 2026-05-01, reason: Ngừng sản xuất}\n")
RETIRED_EN = "---\nname: Pyramid dumpling\nwithdrawn: {reason: No longer made}\n---\n"
CLOSED = FACILITY.replace("HTX Mẫu", "HTX Đóng").replace("contact:", "withdrawn: {date: 2026-01-15}\ncontact:")
NEIGHBOUR = FACILITY.replace("HTX Mẫu", "HTX Láng giềng")


def page(site: Path, path: str) -> str:
    return (site / path / "index.html").read_text(encoding="utf-8")


def search_slugs(site: Path) -> set[str]:
    data = json.loads(next((site / "search").glob("data-vi-*.json")).read_text(encoding="utf-8"))
    return {row[0] for row in data["products"]}


def test_a_withdrawn_product_keeps_its_address_and_leaves_listings(make_site, tmp_path):
    run = make_site({"products/banh-tet.md": KEPT, "products/banh-u.md": RETIRED, "products/banh-u.en.md": RETIRED_EN})
    assert run.code == 0, run.err
    vi, en = page(run.site, "products/banh-u"), page(run.site, "en/products/banh-u")
    assert "Sản phẩm này không còn được sản xuất" in vi and "Ngừng sản xuất" in vi and "01/05/2026" in vi
    assert "This product is no longer offered" in en and "No longer made" in en and "Pyramid dumpling" in en
    assert "Cấp tỉnh 2024" in vi  # the awards it held
    assert 'products/banh-tet/"' in vi  # the facility's other products instead
    assert '<meta name="robots" content="noindex">' in vi
    # gone from listings, search, counts and its facility's page
    assert "banh-u" not in page(run.site, "a-z") and "banh-u" not in page(run.site, "groups/food")
    assert "banh-u" not in page(run.site, "facilities/htx-mau")
    assert search_slugs(run.site) == {"banh-tet"}
    assert re.search(r'<span class="count">1</span>', page(run.site, "groups"))
    # its printed address is recorded and answers, so check passes without an alias
    record = (tmp_path / "content/published-urls.txt").read_text(encoding="utf-8")
    assert "\nproducts/banh-u/\n" in record and "\nen/products/banh-u/\n" in record
    assert make_site({}, command="check").code == 0


def test_a_closed_facility_points_to_similar_products_nearby(make_site):
    run = make_site({"facilities/htx-dong.md": CLOSED, "facilities/htx-lang-gieng.md": NEIGHBOUR,
                     "products/mam.md": PRODUCT.format(name="Mắm", facility="htx-dong", extra=""),
                     "products/mam-khac.md": PRODUCT.format(name="Mắm khác", facility="htx-lang-gieng", extra="")})
    assert run.code == 0, run.err
    closed = page(run.site, "en/facilities/htx-dong")
    assert "This facility has closed" in closed and "Since 15 Jan 2026" in closed
    assert 'products/mam/"' in closed  # its former products, whose pages answer too
    assert "Similar products in Ca Mau" in closed and 'products/mam-khac/"' in closed
    product = page(run.site, "products/mam")
    assert "Cơ sở này đã ngừng hoạt động" in product and "HTX Đóng (đã ngừng hoạt động)" in product
    assert "htx-dong" not in page(run.site, "facilities") and search_slugs(run.site) == {"mam-khac"}
    assert not (run.site / "cards/htx-dong").exists()


def test_withdrawn_is_checked(make_site):
    future = RETIRED.replace("2026-05-01", "2027-01-01")
    no_date = RETIRED.replace("date: 2026-05-01, ", "")
    run = make_site({"products/a.md": future, "products/b.md": no_date,
                     "products/c.md": KEPT, "products/c.en.md": RETIRED_EN}, command="check")
    assert run.code == 1
    assert "content/products/a.md:7: withdrawn.date: " in run.err and "2027-01-01 is not possible" in run.err
    assert "content/products/b.md:7: withdrawn.date: " in run.err and "required field is missing" in run.err
    assert "content/products/c.en.md:3: withdrawn: " in run.err and "the Vietnamese entry has no `withdrawn`" in run.err


def test_an_upcoming_fair_cannot_have_a_closed_facility(make_site):
    fair = ("---\nname: Hội chợ\nstart: {day}\nend: {day}\nvenue: Nhà văn hoá\nprovince: Cà Mau\n"
            "participants:\n  - {{facility: htx-dong, booth: A1}}\n---\n")
    files = {"facilities/htx-dong.md": CLOSED}
    run = make_site({**files, "fairs/hoi-cho.md": fair.format(day="2026-12-20")}, command="check")
    assert run.code == 1 and "content/fairs/hoi-cho.md:8: participants[1].facility: " in run.err
    assert "facility `htx-dong` closed" in run.err
    run = make_site({**files, "fairs/hoi-cho.md": fair.format(day="2025-12-20")})
    assert run.code == 0, run.err  # a past fair keeps its record; its page leaves the closed facility out
    assert "htx-dong" not in page(run.site, "fairs/hoi-cho")


# -- removing an entry published by mistake ----------------------------------------------------------

def test_remove_takes_out_the_entry_and_its_recorded_addresses(make_site, tmp_path):
    trial = PRODUCT.format(name="Thử", facility="htx-mau", extra="aliases: [thu-cu]\n")
    assert make_site({"products/banh-tet.md": KEPT, "products/thu/index.md": trial,
                      "products/thu/index.en.md": "---\nname: Trial\n---\n"}).code == 0
    record = tmp_path / "content/published-urls.txt"
    assert "products/thu/" in record.read_text(encoding="utf-8")
    (tmp_path / "content/products/thu").rename(tmp_path / "thu")  # deleted by hand: refused, as before
    run = make_site({}, command="check")
    assert run.code == 1 and "`products/thu/` was published" in run.err
    (tmp_path / "thu").rename(tmp_path / "content/products/thu")
    run = make_site({}, command="remove", extra=("product", "thu"))
    assert run.code == 0, run.err
    assert not (tmp_path / "content/products/thu").exists()
    assert "2 địa chỉ" in run.out  # vi and en (its former slug was never published here)
    text = record.read_text(encoding="utf-8")
    assert "products/thu/" not in text and "products/banh-tet/" in text and text.startswith("# Every address")
    assert make_site({}, command="check").code == 0


def test_remove_refuses_what_others_still_name(make_site):
    run = make_site({"products/banh-tet.md": KEPT}, command="remove", extra=("facility", "htx-mau"))
    assert run.code == 1 and "content/products/banh-tet.md: facility: " in run.err and "still names `htx-mau`" in run.err
    run = make_site({}, command="remove", extra=("product", "khong-co"))
    assert run.code == 1 and "there is no entry `khong-co` in content/products/" in run.err
    with pytest.raises(SystemExit, match="usage: python build.py remove product"):
        make_site({}, command="remove", extra=("photo", "x"))


# -- `new` never guesses ---------------------------------------------------------------------------

def test_new_without_facility_leaves_it_to_fill_in(make_site, tmp_path):
    other = FACILITY.replace("HTX Mẫu", "HTX Khác")
    assert make_site({"facilities/a-truoc.md": other}, command="new", extra=("product", "banh-moi")).code == 0
    text = (tmp_path / "content/products/banh-moi.md").read_text(encoding="utf-8")
    assert 'facility: ""' in text and "a-truoc" not in text  # the first facility is not filled in
    run = make_site({}, command="check")
    assert run.code == 1 and "content/products/banh-moi.md:7: facility: " in run.err
    assert "write the file name of the facility that makes this product" in run.err


def test_new_keeps_the_name_as_given(make_site, tmp_path):
    extra = ("product", "banh-tet-la-cam", "--facility", "htx-mau", "--name", "Bánh tét lá cẩm: loại 1")
    assert make_site({}, command="new", extra=extra).code == 0
    text = (tmp_path / "content/products/banh-tet-la-cam.md").read_text(encoding="utf-8")
    assert 'name: "Bánh tét lá cẩm: loại 1"' in text
    run = make_site({}, extra=("--force",))
    assert run.code == 0 and "Bánh tét lá cẩm: loại 1" in page(run.site, "products/banh-tet-la-cam")


def test_new_asks_in_a_terminal(tmp_path):
    import datetime as dt

    from cnnt.contribute.scaffold import new_entry
    (tmp_path / "facilities").mkdir()
    for slug in ("htx-a", "htx-b"):
        (tmp_path / f"facilities/{slug}.md").write_text(FACILITY, encoding="utf-8")
    answers = iter(["2", "Mắm cá lóc"])
    path = new_entry("product", "mam", tmp_path, None, dt.date(2026, 11, 22), ask=lambda question: next(answers))
    text = path.read_text(encoding="utf-8")
    assert "facility: htx-b" in text and "name: Mắm cá lóc" in text


# -- one cause, one message ----------------------------------------------------------------------------

def test_an_entry_with_errors_is_not_also_reported_missing(make_site):
    wrong = FACILITY.replace("province: Cà Mau", "province: Long Xuyen Xa")
    decision = "---\nnumber: 1/QĐ\ndate: 2024-01-02\nissuer: UBND\nlevel: provincial\nproducts: [hong]\n---\n"
    run = make_site({"facilities/htx-mau.md": wrong, "products/a.md": KEPT, "products/b.md": KEPT,
                     "products/hong.md": KEPT.replace("group: food", "group: fud"), "decisions/d.md": decision},
                    command="check")
    assert run.code == 1
    assert [line.split(": ")[0] for line in run.error_lines] == ["content/facilities/htx-mau.md:4",
                                                                 "content/products/hong.md:4"]
    assert "no facility" not in run.err and "no product" not in run.err


def test_the_preview_follows_a_withdrawal_and_its_reversal(preview, tmp_path):  # noqa: F811
    from test_serve import edit, same_as_full_build
    content = preview.options.content_dir
    product = content / "products/khan-bong.md"
    edit(product, "group:", "withdrawn: {date: 2026-10-01, reason: Ngừng sản xuất}\ngroup:")
    preview.rebuild([product])
    preview.finish()
    assert not preview.errors
    assert "Sản phẩm này không còn được sản xuất" in page(preview.options.out_dir, "products/khan-bong")
    same_as_full_build(preview, tmp_path)
    edit(product, "withdrawn: {date: 2026-10-01, reason: Ngừng sản xuất}\n", "")
    preview.rebuild([product])
    preview.finish()
    assert "không còn được sản xuất" not in page(preview.options.out_dir, "products/khan-bong")
    same_as_full_build(preview, tmp_path / "again")
