"""Open data: the catalogue's tables under `/data/` as CSV (UTF-8 with a byte-order mark, so Excel
shows Vietnamese), as JSON, and all together as one XLSX workbook (a sheet per table, numbers as
numbers, dates as dates), with `/data.json`, a DCAT-style catalogue of the files.

Each table is declared once (`TABLES`: its columns, their types and their meaning in both languages);
the files, the data dictionary on the `/data/` page and the statistics page (`statistics.py`) are all
made from the same rows, so they cannot disagree.

A text cell that begins with `=`, `+`, `-`, `@`, a tab or a carriage return is written so that no
spreadsheet runs it as a formula: a `'` before it in CSV, and an explicit text cell in XLSX.
"""
from __future__ import annotations

import csv
import datetime as dt
import io
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any


from . import urls
from ..content.config import SiteConfig
from ..content.model import Catalogue

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
LICENCE = "https://creativecommons.org/licenses/by/4.0/"


@dataclass(frozen=True)
class Column:
    name: str
    kind: str   # text, integer, number, date, boolean
    vi: str
    en: str

    def __getitem__(self, lang: str) -> str:  # templates write `column[lang]`
        return self.en if lang == "en" else self.vi


@dataclass(frozen=True)
class Table:
    name: str
    vi: str
    en: str
    columns: tuple[Column, ...]
    rows: Callable[[Catalogue, SiteConfig], list[dict[str, Any]]]

    def __getitem__(self, lang: str) -> str:
        return self.en if lang == "en" else self.vi


def _c(name: str, kind: str, vi: str, en: str) -> Column:
    return Column(name, kind, vi, en)


# -- the rows ----------------------------------------------------------------------------------------

def product_rows(catalogue: Catalogue, config: SiteConfig) -> list[dict[str, Any]]:
    rows = []
    for product in sorted(catalogue.every_product.values(), key=lambda p: p.slug):
        facility = catalogue.facility_of(product)
        current = catalogue.current.get(product.slug)
        withdrawal = catalogue.withdrawal_of(product)
        stars = [c.stars for c in product.certifications if c.stars and not c.is_expired(catalogue.build_date)]
        rows.append({
            "slug": product.slug, "name_vi": product.name.vi, "name_en": product.name.en or "",
            "facility": facility.slug, "facility_name": facility.name.vi,
            "province_code": facility.province.term.code, "province": facility.province.term.vi,
            "province_official_code": facility.province.term.extra["official_code"],
            "commune_code": facility.commune.code if facility.commune else "",
            "group": product.group.code, "current_level": current.level.code if current else "",
            "current_level_year": current.year if current else None,
            "current_level_verified": (not current.declared) if current else None,
            "ocop_stars": max(stars) if stars else None,
            "certifications": " ".join(dict.fromkeys(c.scheme.code for c in product.certifications
                                                      if not c.is_expired(catalogue.build_date))),
            "export_markets": " ".join(m.code for m in product.export_markets),
            "domestic_channels": "; ".join(product.domestic_channels),
            "capacity_amount": product.capacity.amount if product.capacity else None,
            "capacity_unit": product.capacity.unit if product.capacity else "",
            "moq": product.moq.vi, "hs_code": product.hs_code or "",
            "withdrawn": withdrawal.date if withdrawal else None,
            "url": config.base_url + urls.product(product),
        })
    return rows


def facility_rows(catalogue: Catalogue, config: SiteConfig) -> list[dict[str, Any]]:
    rows = []
    for facility in sorted(catalogue.every_facility.values(), key=lambda f: f.slug):
        rows.append({
            "slug": facility.slug, "name_vi": facility.name.vi, "name_en": facility.name.en or "",
            "kind": facility.kind.code, "province_code": facility.province.term.code,
            "province": facility.province.term.vi, "former_province": facility.province.former or "",
            "province_official_code": facility.province.term.extra["official_code"],
            "commune_code": facility.commune.code if facility.commune else "",
            "commune": facility.commune.name if facility.commune else "",
            "address": facility.address or "", "address_as_written": facility.address_former or "",
            "phone": facility.contact.phone or "",
            "zalo": facility.contact.zalo or "", "email": facility.contact.email or "",
            "website": facility.contact.website or "", "founded": facility.founded, "employees": facility.employees,
            "latitude": facility.location.lat if facility.location else None,
            "longitude": facility.location.lon if facility.location else None,
            "withdrawn": facility.withdrawn.date if facility.withdrawn else None,
            "url": config.base_url + urls.facility(facility),
        })
    return rows


def award_rows(catalogue: Catalogue, config: SiteConfig) -> list[dict[str, Any]]:
    rows = []
    for slug in sorted(catalogue.every_product):
        for award in catalogue.awards_of(catalogue.every_product[slug]):
            rows.append({
                "product": slug, "level": award.level.code, "year": award.year,
                "region": award.region.code if award.region else "", "decision": award.decision or "",
                "issuer": award.issuer or "", "verified": not award.declared, "counts": award.counts,
                "valid_until": award.valid_until, "valid": award.is_valid(catalogue.build_date),
            })
    return rows


def decision_rows(catalogue: Catalogue, config: SiteConfig) -> list[dict[str, Any]]:
    return [{"slug": d.slug, "number": d.number, "date": d.date, "issuer": d.issuer, "level": d.level.code,
             "region": d.region.code if d.region else "", "products_count": len(d.products),
             "products": " ".join(d.products), "document": d.document or "",
             "url": config.base_url + urls.decision(d.slug)}
            for d in sorted(catalogue.decisions.values(), key=lambda d: d.slug)]


def support_rows(catalogue: Catalogue, config: SiteConfig) -> list[dict[str, Any]]:
    rows = []
    for facility in sorted(catalogue.every_facility.values(), key=lambda f: f.slug):
        for item in facility.support:
            rows.append({
                "facility": facility.slug, "year": item.year, "programme": item.programme,
                "activity_kind": item.activity_kind.code if item.activity_kind else "",
                "activity": item.activity, "amount_vnd": item.amount_vnd, "counterpart_vnd": item.counterpart_vnd,
                "status": item.status.code if item.status else "", "jobs": item.jobs, "project": item.project or "",
            })
    return rows


def fair_rows(catalogue: Catalogue, config: SiteConfig) -> list[dict[str, Any]]:
    return [{"slug": fair.slug, "name_vi": fair.name.vi, "name_en": fair.name.en or "", "start": fair.start,
             "end": fair.end, "venue": fair.venue.vi,
             "province_code": fair.province.term.code if fair.province else "",
             "country": fair.country.code if fair.country else ("" if fair.online else "VN"),
             "city": fair.city or "", "online": fair.online or "", "participants_count": len(fair.participants),
             "url": config.base_url + urls.fair(fair)}
            for fair in sorted(catalogue.fairs.values(), key=lambda f: f.slug)]


TABLES = (
    Table("products", "Sản phẩm", "Products", (
        _c("slug", "text", "Tên tệp, định danh", "Identifier (file name)"),
        _c("name_vi", "text", "Tên", "Name (Vietnamese)"), _c("name_en", "text", "Tên tiếng Anh", "Name (English)"),
        _c("facility", "text", "Cơ sở sản xuất (định danh)", "Facility (identifier)"),
        _c("facility_name", "text", "Tên cơ sở", "Facility name"),
        _c("province_code", "text", "Mã tỉnh (34 đơn vị từ 2025)", "Province code (2025 units)"),
        _c("province", "text", "Tỉnh, thành phố", "Province"),
        _c("province_official_code", "text", "Mã tỉnh chính thức (Tổng cục Thống kê)", "Official province code"),
        _c("commune_code", "text", "Mã xã, phường chính thức của cơ sở", "Official code of the facility's commune"),
        _c("group", "text", "Nhóm sản phẩm", "Product group"),
        _c("current_level", "text", "Cấp công nhận còn hiệu lực cao nhất", "Highest award level in force"),
        _c("current_level_year", "integer", "Năm của cấp đó", "Year of that award"),
        _c("current_level_verified", "boolean", "Có quyết định đã đăng ký", "Backed by a registered decision"),
        _c("ocop_stars", "integer", "Số sao OCOP còn hiệu lực", "OCOP stars in force"),
        _c("certifications", "text", "Chứng nhận còn hiệu lực", "Certifications in force"),
        _c("export_markets", "text", "Thị trường xuất khẩu (mã ISO)", "Export markets (ISO codes)"),
        _c("domestic_channels", "text", "Kênh trong nước", "Domestic channels"),
        _c("capacity_amount", "number", "Công suất", "Capacity"),
        _c("capacity_unit", "text", "Đơn vị công suất", "Capacity unit"),
        _c("moq", "text", "Đơn hàng tối thiểu", "Minimum order"), _c("hs_code", "text", "Mã HS", "HS code"),
        _c("withdrawn", "date", "Ngừng sản xuất từ (trống: còn)", "No longer offered since (empty: offered)"),
        _c("url", "text", "Trang", "Page"),
    ), product_rows),
    Table("facilities", "Cơ sở sản xuất", "Facilities", (
        _c("slug", "text", "Định danh", "Identifier"), _c("name_vi", "text", "Tên", "Name"),
        _c("name_en", "text", "Tên tiếng Anh", "Name (English)"), _c("kind", "text", "Loại hình", "Kind"),
        _c("province_code", "text", "Mã tỉnh", "Province code"), _c("province", "text", "Tỉnh, thành phố", "Province"),
        _c("former_province", "text", "Tên tỉnh cũ đã ghi", "Former province as written"),
        _c("province_official_code", "text", "Mã tỉnh chính thức (Tổng cục Thống kê)", "Official province code"),
        _c("commune_code", "text", "Mã xã, phường chính thức (từ 1/7/2025)", "Official commune code (since 1 July 2025)"),
        _c("commune", "text", "Xã, phường, đặc khu", "Commune, ward or special zone"),
        _c("address", "text", "Địa chỉ (theo đơn vị hành chính mới)", "Address (2025 units)"),
        _c("address_as_written", "text", "Địa chỉ như cơ sở đã ghi, khi đã đổi sang cách ghi mới",
           "Address as the facility wrote it, when converted"), _c("phone", "text", "Điện thoại", "Phone"),
        _c("zalo", "text", "Zalo", "Zalo"), _c("email", "text", "Email", "Email"), _c("website", "text", "Trang web", "Website"),
        _c("founded", "integer", "Năm thành lập", "Year founded"), _c("employees", "integer", "Số lao động", "Workers"),
        _c("latitude", "number", "Vĩ độ", "Latitude"), _c("longitude", "number", "Kinh độ", "Longitude"),
        _c("withdrawn", "date", "Ngừng hoạt động từ", "Closed since"), _c("url", "text", "Trang", "Page"),
    ), facility_rows),
    Table("awards", "Công nhận", "Awards", (
        _c("product", "text", "Sản phẩm (định danh)", "Product (identifier)"), _c("level", "text", "Cấp", "Level"),
        _c("year", "integer", "Năm", "Year"), _c("region", "text", "Khu vực", "Region"),
        _c("decision", "text", "Số quyết định", "Decision number"), _c("issuer", "text", "Cơ quan", "Issuer"),
        _c("verified", "boolean", "Có quyết định đã đăng ký", "Backed by a registered decision"),
        _c("counts", "boolean", "Tính vào cấp của sản phẩm", "Counts toward the product's level"),
        _c("valid_until", "date", "Hiệu lực đến", "Valid until"),
        _c("valid", "boolean", "Còn hiệu lực vào ngày dựng", "Valid on the build date"),
    ), award_rows),
    Table("decisions", "Quyết định công nhận", "Award decisions", (
        _c("slug", "text", "Định danh", "Identifier"), _c("number", "text", "Số quyết định", "Number"),
        _c("date", "date", "Ngày ký", "Date signed"), _c("issuer", "text", "Cơ quan ký", "Issuer"),
        _c("level", "text", "Cấp", "Level"), _c("region", "text", "Khu vực", "Region"),
        _c("products_count", "integer", "Số sản phẩm", "Products"), _c("products", "text", "Sản phẩm", "Products (identifiers)"),
        _c("document", "text", "Bản scan", "Signed scan"), _c("url", "text", "Trang", "Page"),
    ), decision_rows),
    Table("support", "Hỗ trợ khuyến công", "Khuyến công support", (
        _c("facility", "text", "Cơ sở (định danh)", "Facility (identifier)"), _c("year", "integer", "Năm", "Year"),
        _c("programme", "text", "Chương trình: national, local", "Programme: national, local"),
        _c("activity_kind", "text", "Loại hoạt động", "Kind of activity"), _c("activity", "text", "Hoạt động", "Activity"),
        _c("amount_vnd", "integer", "Kinh phí hỗ trợ (đồng)", "Support (đồng)"),
        _c("counterpart_vnd", "integer", "Kinh phí đối ứng (đồng)", "Facility's own funds (đồng)"),
        _c("status", "text", "Tình trạng", "Status"), _c("jobs", "integer", "Việc làm tạo ra", "Jobs created"),
        _c("project", "text", "Đề án, quyết định", "Project or decision"),
    ), support_rows),
    Table("fairs", "Hội chợ", "Fairs", (
        _c("slug", "text", "Định danh", "Identifier"), _c("name_vi", "text", "Tên", "Name"),
        _c("name_en", "text", "Tên tiếng Anh", "Name (English)"), _c("start", "date", "Ngày bắt đầu", "Start"),
        _c("end", "date", "Ngày kết thúc", "End"), _c("venue", "text", "Địa điểm", "Venue"),
        _c("province_code", "text", "Mã tỉnh (trong nước)", "Province code (in Viet Nam)"),
        _c("country", "text", "Quốc gia (mã ISO)", "Country (ISO code)"), _c("city", "text", "Thành phố", "City"),
        _c("online", "text", "Địa chỉ trực tuyến", "Online address"),
        _c("participants_count", "integer", "Số gian hàng", "Booths"), _c("url", "text", "Trang", "Page"),
    ), fair_rows),
)


def table_rows(catalogue: Catalogue, config: SiteConfig) -> dict[str, list[dict[str, Any]]]:
    """Every table's rows: what the files, the data page and the statistics are made from."""
    return {table.name: table.rows(catalogue, config) for table in TABLES}


# -- the files ----------------------------------------------------------------------------------------

def safe_text(value: str) -> str:
    """A text cell no spreadsheet runs as a formula."""
    return "'" + value if value.startswith(FORMULA_STARTS) else value


def to_csv(table: Table, rows: list[dict[str, Any]]) -> bytes:
    stream = io.StringIO()
    writer = csv.writer(stream, lineterminator="\r\n")
    writer.writerow([column.name for column in table.columns])
    for row in rows:
        writer.writerow([_csv_cell(column, row[column.name]) for column in table.columns])
    return ("\ufeff" + stream.getvalue()).encode("utf-8")


def _csv_cell(column: Column, value: Any) -> str:
    if value is None:
        return ""
    if column.kind == "boolean":
        return "true" if value else "false"
    if column.kind == "date":
        return value.isoformat()
    if column.kind == "text":
        return safe_text(str(value))
    return str(value)


def to_json(table: Table, rows: list[dict[str, Any]]) -> bytes:
    """The rows as `json.dumps(rows, ensure_ascii=False, indent=1)` writes them, and a newline, made a
    row at a time: with an indent, json's encoder is Python's own, which made the whole table as a
    list of small strings first (the worker making the open data grew by some 300 MB for the products
    of a 50,000-product catalogue, its peak: 932 MiB, against 669 MiB made a row at a time). A row's lines each take one more space, as in the list; a
    newline within a value is written `\\n`, so every newline in a row's text is its layout's."""
    if not rows:
        return b"[]\n"
    encoded = [b"[\n"]
    for number, row in enumerate(rows):
        data = {name: (value.isoformat() if isinstance(value, dt.date) else value) for name, value in row.items()}
        text = json.dumps(data, ensure_ascii=False, indent=1).replace("\n", "\n ")
        encoded.append(((",\n " if number else " ") + text).encode())
    encoded.append(b"\n]\n")
    return b"".join(encoded)


def to_xlsx(rows_by_table: dict[str, list[dict[str, Any]]], day: dt.date) -> bytes:
    import xlsxwriter  # (here: most builds keep the last workbook, and importing it takes 30 ms)
    stream = io.BytesIO()
    # constant_memory: each row goes to a temporary file as it is written, its strings inline. Kept
    # in memory, the cells of a 10k-product catalogue took 63 MB (five times that at 50k) for a 7%
    # smaller file; the values are the same, and so are the bytes from one build to the next.
    book = xlsxwriter.Workbook(stream, {"constant_memory": True, "strings_to_formulas": False,
                                        "strings_to_urls": False, "strings_to_numbers": False})
    book.set_properties({"title": "CNNT catalogue", "created": dt.datetime.combine(day, dt.time())})
    bold = book.add_format({"bold": True})
    dates = book.add_format({"num_format": "yyyy-mm-dd"})
    for table in TABLES:
        sheet = book.add_worksheet(table.name)
        for number, column in enumerate(table.columns):
            sheet.write_string(0, number, column.name, bold)
        for line, row in enumerate(rows_by_table[table.name], 1):
            for number, column in enumerate(table.columns):
                _xlsx_cell(sheet, line, number, column, row[column.name], dates)
        sheet.freeze_panes(1, 0)
    book.close()  # its zip entries are dated 1980-01-01 and its properties the build day: reproducible
    return stream.getvalue()


def _xlsx_cell(sheet: Any, line: int, number: int, column: Column, value: Any, dates: Any) -> None:
    if value is None or value == "":
        return
    if column.kind == "date":
        sheet.write_datetime(line, number, dt.datetime.combine(value, dt.time()), dates)
    elif column.kind == "boolean":
        sheet.write_boolean(line, number, bool(value))
    elif column.kind in ("integer", "number"):
        sheet.write_number(line, number, value)
    else:
        sheet.write_string(line, number, str(value))  # a text cell, never a formula


def data_files(rows_by_table: dict[str, list[dict[str, Any]]], config: SiteConfig, day: dt.date) -> dict[str, bytes]:
    """Site path → content: `data/<table>.csv|json`, `data/catalogue.xlsx` and `data.json`."""
    return dict(each_data_file(rows_by_table, config, day))


def each_data_file(rows_by_table: dict[str, list[dict[str, Any]]], config: SiteConfig,
                   day: dt.date) -> Iterator[tuple[str, bytes]]:
    """`data_files` one at a time, each made once the one before is taken: a build writes each before
    the next is made (all held at once, they were 90 MB at 50,000 products)."""
    for table in TABLES:
        yield urls.table(table.name, "csv"), to_csv(table, rows_by_table[table.name])
        yield urls.table(table.name, "json"), to_json(table, rows_by_table[table.name])
    yield urls.WORKBOOK, to_xlsx(rows_by_table, day)
    yield urls.DATA_CATALOGUE, catalogue_description(config, day)


MEDIA_TYPES = {"csv": "text/csv", "json": "application/json",
               "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}


def catalogue_description(config: SiteConfig, day: dt.date) -> bytes:
    """`/data.json`: the datasets and their files, after W3C DCAT (as data.gov-style portals read it)."""
    base = config.base_url

    def distribution(path: str, title: str) -> dict:
        extension = path.rsplit(".", 1)[1]
        return {"@type": "dcat:Distribution", "title": title, "downloadURL": base + path,
                "mediaType": MEDIA_TYPES[extension], "format": extension.upper()}

    datasets = [{
        "@type": "dcat:Dataset", "identifier": base + urls.table(table.name, "csv").removesuffix(".csv"),
        "title": f"{table.vi} · {table.en}",
        "description": "; ".join(f"{c.name}: {c.en}" for c in table.columns),
        "keyword": ["CNNT", "công nghiệp nông thôn", "rural industry", table.name],
        "modified": day.isoformat(), "license": LICENCE,
        "publisher": {"@type": "org:Organization", "name": config.centre.name.vi},
        "distribution": [distribution(urls.table(table.name, "csv"), "CSV (UTF-8)"),
                         distribution(urls.table(table.name, "json"), "JSON"),
                         distribution(urls.WORKBOOK, "XLSX (một trang tính mỗi bảng · a sheet per table)")],
    } for table in TABLES]
    catalogue = {"@context": "https://project-open-data.cio.gov/v1.1/schema/catalog.jsonld", "@type": "dcat:Catalog",
                 "conformsTo": "https://project-open-data.cio.gov/v1.1/schema",
                 "title": f"{config.title.vi} · {config.title.en or config.title.vi}",
                 "description": config.description.vi, "modified": day.isoformat(), "license": LICENCE,
                 "homepage": base + urls.section("data"), "dataset": datasets}
    return (json.dumps(catalogue, ensure_ascii=False, indent=1) + "\n").encode("utf-8")

