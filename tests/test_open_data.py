"""The centre's numbers: open data read back with real readers (csv, openpyxl), the statistics page's
figures recomputed from those files, support projects as the seeds describe them, and cells that no
spreadsheet may run as formulas."""
from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
from collections import Counter, defaultdict
from pathlib import Path

import openpyxl
from conftest import BUILD_DATE, FACILITY
from markupsafe import escape
from test_serve import edit, preview, same_as_full_build  # noqa: F401  (the preview fixture)

from cnnt.site.exports import TABLES, safe_text, to_json

TODAY = dt.date.fromisoformat(BUILD_DATE)


def read_csv(site: Path, table: str) -> list[dict[str, str]]:
    raw = (site / f"data/{table}.csv").read_bytes()
    assert raw.startswith("\ufeff".encode("utf-8"))  # Excel reads UTF-8 only with its mark
    return list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))


def figures(site: Path, path: str = "statistics/index.html") -> dict[str, dict[str, int]]:
    """Each table of the statistics page: data-key → data-value (and the headline figures under "")."""
    page = (site / path).read_text(encoding="utf-8")
    found: dict[str, dict[str, int]] = {"": {}}
    for name, body in re.findall(r'<table class="stat" data-table="([a-z_]+)">(.*?)</table>', page, re.S):
        found[name] = {key: int(value) for key, value in re.findall(r'data-key="([^"]+)" data-value="(\d+)"', body)}
    for key, value in re.findall(r'<strong data-key="([^"]+)" data-value="(\d+)"', page):
        found[""][key] = int(value)
    return found


# -- the files ----------------------------------------------------------------------------------------

def test_every_table_in_every_format_reads_back_the_same(sample_site):
    book = openpyxl.load_workbook(sample_site / "data/catalogue.xlsx")
    assert book.sheetnames == [table.name for table in TABLES]
    for table in TABLES:
        rows = read_csv(sample_site, table.name)
        data = json.loads((sample_site / f"data/{table.name}.json").read_text(encoding="utf-8"))
        sheet = list(book[table.name].iter_rows(values_only=True))
        assert list(sheet[0]) == [column.name for column in table.columns] == list(rows[0]) if rows else True
        assert len(rows) == len(data) == len(sheet) - 1 > 0, table.name
        for row, item, cells in zip(rows, data, sheet[1:]):
            for column, cell in zip(table.columns, cells):
                value, text = item[column.name], row[column.name]
                if column.kind in ("integer", "number"):
                    assert cell is None if value is None else (cell == value and isinstance(cell, (int, float))), column.name
                    assert text == ("" if value is None else str(value))
                elif column.kind == "date":
                    assert (cell is None and value is None) or (cell.date().isoformat() == value == text), column.name
                elif column.kind == "boolean":
                    assert cell is None if value is None else cell is value and text == str(value).lower()
                else:  # text; one that a spreadsheet would compute is written with a ' first in CSV
                    assert (cell or "") == value and text == (safe_text(value) if value else "")
                    assert safe_text(value) == value or value[0] in "=+-@\t\r"


def test_products_and_support_carry_what_the_centre_reports(sample_site):
    products = {row["slug"]: row for row in read_csv(sample_site, "products")}
    squid = products["kho-muc-my-thuyen"]
    assert squid["current_level"] == "national" and squid["current_level_verified"] == "true" and squid["ocop_stars"] == "4"
    assert squid["province_code"] == "ca-mau" and squid["withdrawn"] == ""
    assert products["keo-dua-la-dua"]["withdrawn"] == "2025-06-30"  # counted apart, not dropped
    support = read_csv(sample_site, "support")
    group = [row for row in support if row["facility"] == "lap-xuong-vinh-chau"][0]
    assert (group["programme"], group["activity_kind"], group["amount_vnd"], group["counterpart_vnd"], group["status"],
            group["jobs"]) == ("national", "machinery", "300000000", "371600000", "accepted", "12")


def test_the_data_catalogue_describes_every_file(sample_site):
    catalogue = json.loads((sample_site / "data.json").read_text(encoding="utf-8"))
    assert catalogue["@type"] == "dcat:Catalog" and catalogue["license"] and catalogue["modified"] == BUILD_DATE
    assert [d["identifier"].rsplit("/", 1)[1] for d in catalogue["dataset"]] == [t.name for t in TABLES]
    for dataset in catalogue["dataset"]:
        assert dataset["title"] and dataset["description"] and dataset["license"] and dataset["publisher"]["name"]
        media = {d["mediaType"] for d in dataset["distribution"]}
        assert media == {"text/csv", "application/json",
                         "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}
        for distribution in dataset["distribution"]:
            path = distribution["downloadURL"].removeprefix("https://catalogue.example.org/")
            assert (sample_site / path).is_file(), path


def test_the_data_page_lists_the_files_and_their_dictionary(sample_site):
    vi = (sample_site / "data/index.html").read_text(encoding="utf-8")
    en = (sample_site / "en/data/index.html").read_text(encoding="utf-8")
    for table in TABLES:
        assert f'data/{table.name}.csv"' in vi and f'data/{table.name}.json"' in en
        for column in table.columns:
            assert f"<code>{column.name}</code>" in en and str(escape(column.en)) in en and str(escape(column.vi)) in vi
    assert "catalogue.xlsx" in vi and "data.json" in en


def test_cells_never_run_as_formulas(make_site):
    hostile = '=HYPERLINK("http://evil.example","Click")'
    product = (f"---\nname: {json.dumps(hostile)}\nfacility: htx-mau\ngroup: food\nmoq: \"+1 thùng\"\n"
               f"domestic_channels: [\"@shop\", \"-5 kho\"]\n---\n")
    run = make_site({"products/banh.md": product})
    assert run.code == 0, run.err
    row = read_csv(run.site, "products")[0]
    assert row["name_vi"] == "'" + hostile and row["moq"] == "'+1 thùng" and row["domestic_channels"] == "'@shop; -5 kho"
    sheet = openpyxl.load_workbook(run.site / "data/catalogue.xlsx")["products"]
    header = [cell.value for cell in sheet[1]]
    name = sheet.cell(row=2, column=header.index("name_vi") + 1)
    assert name.data_type == "s" and name.value == hostile  # a text cell, shown as written, never computed
    assert json.loads((run.site / "data/products.json").read_text())[0]["name_vi"] == hostile


def test_the_workbook_is_the_same_bytes_for_the_same_data(make_site, tmp_path):
    first = make_site({}, extra=("--force",))
    workbook = (first.site / "data/catalogue.xlsx").read_bytes()
    again = make_site({}, extra=("--force",))
    assert (again.site / "data/catalogue.xlsx").read_bytes() == workbook


# -- one set of numbers ---------------------------------------------------------------------------------

def test_the_statistics_page_equals_what_the_exports_say(sample_site):
    products = read_csv(sample_site, "products")
    offered = [row for row in products if not row["withdrawn"]]
    facilities = read_csv(sample_site, "facilities")
    awards = read_csv(sample_site, "awards")
    support = read_csv(sample_site, "support")
    fairs = read_csv(sample_site, "fairs")
    for path in ("statistics/index.html", "en/statistics/index.html"):
        page = figures(sample_site, path)
        assert page[""]["products"] == len(offered) and page[""]["facilities"] == len([f for f in facilities if not f["withdrawn"]])
        assert page[""]["withdrawn_products"] == len(products) - len(offered) == 1
        levels = Counter(row["current_level"] for row in offered if row["current_level"])
        assert page["current_by_level"] == {level: levels.get(level, 0) for level in ("national", "regional", "provincial", "commune")}
        by_year: dict[str, set] = defaultdict(set)
        for award in awards:
            if award["counts"] == "true":
                by_year[f"{award['year']}/{award['level']}"].add(award["product"])
        assert {key: value for key, value in page["recognised_by_year"].items() if value} == {k: len(v) for k, v in by_year.items()}
        provinces = Counter(row["province_code"] for row in offered)
        awarded = Counter(row["province_code"] for row in offered if row["current_level"])
        assert page["by_province"] == {**provinces, **{f"{code}/awarded": awarded.get(code, 0) for code in provinces}}
        assert page["by_group"] == {**Counter(row["group"] for row in offered),
                                    **{f"{g}/awarded": n for g, n in Counter(row["group"] for row in offered if row["current_level"]).items()},
                                    **{f"{g}/awarded": 0 for g in {row["group"] for row in offered} - {row["group"] for row in offered if row["current_level"]}}}
        assert page["ocop"] == {str(k): v for k, v in Counter(int(r["ocop_stars"]) for r in offered if r["ocop_stars"]).items()}
        markets = Counter(code for row in offered for code in row["export_markets"].split())
        assert page["markets"] == dict(markets.most_common(10))
        totals = {"projects": len(support), "amount_vnd": sum(int(r["amount_vnd"] or 0) for r in support),
                  "counterpart_vnd": sum(int(r["counterpart_vnd"] or 0) for r in support),
                  "jobs": sum(int(r["jobs"] or 0) for r in support)}
        assert {key.removeprefix("support/"): value for key, value in page[""].items() if key.startswith("support/")} == totals
        per_year = defaultdict(int)
        for row in support:
            per_year[f"{row['year']}/{row['programme']}/amount_vnd"] += int(row["amount_vnd"] or 0)
        assert {k: v for k, v in page["support"].items() if k.endswith("/amount_vnd")} == per_year
        assert page["fairs_by_year"] == {str(k): v for k, v in Counter(row["start"][:4] for row in fairs).items()}


def test_awards_expiring_within_a_year_are_listed_for_reminders(sample_site):
    awards = read_csv(sample_site, "awards")
    offered = {row["slug"] for row in read_csv(sample_site, "products") if not row["withdrawn"]}
    soon = {f"{a['product']}/{a['level']}/{a['year']}" for a in awards
            if a["counts"] == "true" and a["valid"] == "true" and a["product"] in offered
            and dt.date.fromisoformat(a["valid_until"]) <= TODAY + dt.timedelta(days=365)}
    page = (sample_site / "statistics/index.html").read_text(encoding="utf-8")
    listed = set(re.findall(r'<tr data-key="([^"]+)">', page))
    assert listed == soon and soon  # awards of 2023 end on 31/12/2026


def test_charts_are_static_svg_with_a_text_alternative(sample_site):
    page = (sample_site / "en/statistics/index.html").read_text(encoding="utf-8")
    charts = re.findall(r'<svg viewBox="[^"]+" width="360" height="\d+" role="img" aria-labelledby="([a-z_-]+)-title">\s*'
                        r'<title id="\1-title">([^<]+)</title>', page)
    assert len(charts) >= 5
    assert any("Products by award level in force: National level" in title for _, title in charts)
    assert "<script" not in page.split("<main")[1]


# -- support projects ----------------------------------------------------------------------------------

def test_support_projects_are_checked_and_shown(make_site):
    item = "{year: 2024, programme: national, activity: Máy sấy, activity_kind: %s, amount_vnd: 300000000, counterpart_vnd: %s, status: %s, jobs: 7}"
    bad = FACILITY.replace("contact:", "support:\n  - " + item % ("machine", "-5", "done") + "\ncontact:")
    run = make_site({"facilities/htx-mau.md": bad}, command="check")
    assert run.code == 1
    assert "support[1].activity_kind: " in run.err and "did you mean `machinery`?" in run.err
    assert "support[1].counterpart_vnd: " in run.err and "support[1].status: " in run.err
    good = FACILITY.replace("contact:", "support:\n  - " + item % ("machinery", "371600000", "nghiệm thu") + "\ncontact:")
    run = make_site({"facilities/htx-mau.md": good})
    assert run.code == 0, run.err
    page = (run.site / "en/facilities/htx-mau/index.html").read_text(encoding="utf-8")
    assert "Advanced machinery and equipment" in page and "Accepted on completion" in page and "7 jobs" in page
    assert "371,600,000 ₫" in page
    assert figures(run.site)[""]["support/jobs"] == 7


def test_old_support_entries_stay_valid(make_site):
    old = FACILITY.replace("contact:", "support:\n  - {year: 2019, programme: local, activity: Máy, amount_vnd: 5}\ncontact:")
    assert make_site({"facilities/htx-mau.md": old}, command="check").code == 0


# -- the preview keeps them in step --------------------------------------------------------------------

def test_the_preview_updates_numbers_and_files_after_an_edit(preview, tmp_path):  # noqa: F811
    content = preview.options.content_dir
    out = preview.options.out_dir
    before = figures(out)[""]["support/jobs"]
    preview.rebuild([edit(content / "facilities/my-thuyen.md", "status: accepted, jobs: 5}", "status: accepted, jobs: 9}")])
    preview.finish()
    assert figures(out)[""]["support/jobs"] == before + 4
    assert any(row["jobs"] == "9" for row in read_csv(out, "support"))
    same_as_full_build(preview, tmp_path)


def test_a_table_made_json_a_row_at_a_time_is_what_json_writes_of_it_whole():
    """`to_json` writes each row on its own (json's own encoder, with an indent, made a whole table as
    a list of small strings: some 300 MB at 50,000 products); the bytes are those of the whole."""
    import random
    rng = random.Random(11)
    words = ["", "Bánh tráng", 'a "quoted"\nline', "tab\there", "\\", "</script>", "😀", "\u2028", "0", "null"]

    def value(depth: int = 0):
        makers = [lambda: None, lambda: True, lambda: rng.randrange(-10**6, 10**6), lambda: rng.random() * 1e6,
                  lambda: rng.choice(words),  # (a date only as a row's own value, as in the tables)
                  lambda: dt.date(2026, 1, 1) + dt.timedelta(days=rng.randrange(400)) if depth == 0 else "2026-01-01",
                  lambda: [], lambda: [value(depth + 1) for _ in range(rng.randrange(3))],
                  lambda: {rng.choice(words): value(depth + 1) for _ in range(rng.randrange(3))}]
        return makers[rng.randrange(9 if depth < 2 else 7)]()

    def whole(rows: list[dict]) -> bytes:
        data = [{name: (item.isoformat() if isinstance(item, dt.date) else item) for name, item in row.items()}
                for row in rows]
        return (json.dumps(data, ensure_ascii=False, indent=1) + "\n").encode("utf-8")

    for _ in range(300):
        rows = [{f"c{number}{rng.choice(words)}": value() for number in range(rng.randrange(4))}
                for _ in range(rng.randrange(5))]
        assert to_json(TABLES[0], rows) == whole(rows), rows
