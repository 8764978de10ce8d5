"""`python build.py new product|facility|decision <slug>`: a new entry that already passes `check`, with every
field explained in Vietnamese and English. Optional fields are written as comments to fill in."""
from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from pathlib import Path

from ..content import kinds
from ..content.errors import BuildFailed, ContentError, hint
from ..content.load import SLUG
from ..content.text import nfc, slugify

PRODUCT = """\
---
# yaml-language-server: $schema={schema}
# Tên sản phẩm (bắt buộc) · product name (required)
name: {name}
# Tên tệp của cơ sở sản xuất trong content/facilities/, ví dụ my-thuyen (bắt buộc)
# · the file name of the facility that makes it, in content/facilities/, e.g. my-thuyen (required)
facility: {facility}
# Nhóm (bắt buộc): handicraft (thủ công mỹ nghệ), food (chế biến nông-lâm-thủy sản, thực phẩm),
# machinery (máy móc, cơ khí), other · product group (required)
group: food
# Một câu giới thiệu, tối đa 200 ký tự · one sentence, at most 200 characters
# summary: Bánh được làm từ tôm đất tươi.
# Công nhận sản phẩm CNNT tiêu biểu: level là commune (cấp xã), provincial (tỉnh), regional (khu vực,
# kèm region: north, central-highlands, south) hoặc national (quốc gia); year là năm công nhận
# · awards: level commune/provincial/regional/national, year of the decision
# awards:
#   - {{level: provincial, year: 2025, decision: "123/QĐ-UBND", issuer: UBND tỉnh}}
# Thị trường xuất khẩu, mã quốc gia 2 chữ · export markets, two-letter country codes
# export_markets: [KR, JP]
# Kênh bán trong nước · domestic sales channels
# domestic_channels: [Co.opmart, Shopee]
# Chứng nhận: ocop (grade là số sao 3–5), vietgap, haccp, iso22000… · certifications
# certifications:
#   - {{scheme: ocop, grade: 4, year: 2024}}
# Công suất · production capacity
# capacity: {{amount: 100, unit: t/year}}
# Đơn hàng tối thiểu, đóng gói, hạn dùng, thời gian giao hàng · minimum order, packaging, shelf life, lead time
# moq: 100 kg
# packaging: Túi 500 g, thùng 10 kg
# shelf_life: 12 tháng
# lead_time: 2 tuần
# Mã HS (trong dấu ngoặc kép) · HS code, in quotes
# hs_code: "0306.17"
# Từ khoá giúp tìm kiếm · words that help search
# tags: [đặc sản, quà biếu]
# Ảnh: đặt mục nhập trong thư mục content/products/<slug>/index.md, ảnh bên cạnh · photos beside index.md in a folder
# images: [anh-san-pham.jpg]
# Tên tệp cũ, nếu bạn đổi tên tệp này · former file names, if you rename this file
# aliases: [ten-cu]
# Không còn sản xuất: trang vẫn mở (mã QR đã in), nhưng rời danh sách · no longer made: the page stays, listings drop it
# withdrawn: {{date: 2026-05-01, reason: Ngừng sản xuất}}
---
Giới thiệu sản phẩm bằng tiếng Việt: nguyên liệu, cách làm, điểm đặc biệt.
(Describe the product in Vietnamese; an English version goes in {slug}.en.md.)
"""

FACILITY = """\
---
# yaml-language-server: $schema={schema}
# Tên giao dịch (bắt buộc) · trading name (required)
name: {name}
# Loại hình (bắt buộc): cooperative (HTX), company (công ty), household (hộ kinh doanh),
# private-enterprise (DNTN), other · kind (required)
kind: household
# Tỉnh, thành phố (bắt buộc); tên cũ trước 2025 cũng được · province (required); pre-2025 names are accepted
province: Cà Mau
# Liên hệ (bắt buộc, ít nhất một mục) · contact (required, at least one)
contact:
  phone: 0900 000 000
  # zalo: 0900 000 000
  # email: lienhe@example.com
  # website: https://example.com
# Xã, phường, đặc khu (từ 1/7/2025; tên cũ, kể cả thị trấn, cũng được và được đổi sang tên mới)
# · commune, ward or special zone (since 1 July 2025; a former name, a town's too, is accepted and mapped)
# commune: Xã Đầm Dơi
# Địa chỉ; ghi theo cách cũ cũng được: trang hiện theo đơn vị mới, kèm "trước đây: …"
# · address; the old form is accepted: pages show the 2025 form with "formerly: …"
# address: Ấp 1, xã Đầm Dơi, tỉnh Cà Mau
# Toạ độ để hiện bản đồ · coordinates for a map link
# location: {{lat: 9.17, lon: 105.15}}
# Năm thành lập, số lao động · year founded, number of workers
# founded: 2010
# employees: 25
# Một câu giới thiệu · one sentence
# summary: Cơ sở chế biến thủy sản khô.
# Tên GitHub được sửa các mục nhập của cơ sở · GitHub user names who may change this facility's entries
# maintainers: [ten-github]
# Hỗ trợ khuyến công đã nhận · industrial-extension support received
# support:
#   - {{year: 2024, programme: local, activity: Hỗ trợ máy sấy, amount_vnd: 150000000}}
# Logo và ảnh (thư mục content/facilities/<slug>/index.md) · logo and photos (in a bundle folder)
# images: [logo.png]
# Tên tệp cũ, nếu bạn đổi tên tệp này · former file names, if you rename this file
# aliases: [ten-cu]
# Ngừng hoạt động: trang vẫn mở, sản phẩm rời danh sách · closed: the page stays, its products leave the listings
# withdrawn: {{date: 2026-05-01, reason: Ngừng hoạt động}}
---
Giới thiệu cơ sở bằng tiếng Việt. (Describe the facility in Vietnamese.)
"""

DECISION = """\
---
# yaml-language-server: $schema={schema}
# Quyết định công nhận sản phẩm CNNT tiêu biểu: dữ liệu của trung tâm, chỉ trung tâm được sửa.
# A decision recognising typical CNNT products: the centre's data, changed only by the centre.
# Số quyết định như đã ký, không trùng (bắt buộc) · the number as signed, unique (required)
number: ""
# Ngày ký YYYY-MM-DD; năm của nó là năm công nhận (bắt buộc) · day signed; its year is the award's (required)
date: {today}
# Cơ quan ký (bắt buộc) · who signed it (required)
issuer: UBND tỉnh …
# Cấp: commune, provincial, regional (kèm region: north, central-highlands, south), national (bắt buộc)
level: provincial
# region: south
# Tên tệp các sản phẩm được công nhận, ít nhất một (bắt buộc) · the products' file names, at least one (required)
products: []
# Liên kết bản quyết định đã ký · link to the signed scan
# document: https://…
# Một câu giới thiệu kỳ bình chọn · one sentence about the round
# summary: Bình chọn sản phẩm CNNT tiêu biểu cấp tỉnh năm …
---
Kỳ bình chọn: hội đồng, số sản phẩm dự thi, tiêu chí. (Describe the round in Vietnamese; English in {slug}.en.md.)
"""
FOLDERS = {kind.name: kind.folder for kind in kinds.KINDS if kind.scaffold}


Ask = Callable[[str], str]  # shows a question in the terminal, returns the answer


def new_entry(kind: str, slug: str, content_dir: Path, facility: str | None, today: dt.date,
              name: str | None = None, ask: Ask | None = None) -> Path:
    """Write content/<kind>s/<slug>.md; refuse a bad slug, an existing entry or an unknown facility.

    A product's facility is never guessed: without `facility`, `ask` (given in a terminal) asks for it,
    else the entry gets an empty `facility:` that `check` refuses, saying what to write there."""
    folder = content_dir / FOLDERS[kind]
    target = folder / f"{slug}.md"
    problem = None
    if not SLUG.match(slug):
        problem = hint(f"`{slug}` không phải tên tệp hợp lệ: chữ thường không dấu, số và `-`",
                       f"`{slug}` is not a valid slug: lowercase ASCII letters, digits and `-`", slugify(slug) or None)
    elif target.exists() or (folder / slug).exists():
        problem = ("đã có mục nhập này", "this entry already exists")
    elif kind == "product":
        known = sorted(path.name.split(".")[0] for path in (content_dir / "facilities").glob("*")
                       if not path.name.endswith(".en.md"))
        if facility is None and ask is not None and known:
            facility = _choose_facility(known, ask)
        if facility is not None and facility not in known:
            problem = hint(f"không có cơ sở `{facility}` (ghi --facility <tên tệp của cơ sở>)",
                           f"no facility `{facility}` (give --facility <the facility's file name>)",
                           None)
    if problem:
        raise BuildFailed([ContentError(str(target), None, None, *problem)])
    folder.mkdir(parents=True, exist_ok=True)
    if name is None and ask is not None and kind != "decision":
        name = ask("Tên (có dấu), Enter để ghi sau · name, with its marks (Enter: fill in later): ").strip() or None
    name = nfc(name.strip()) if name and name.strip() else slug.replace("-", " ").capitalize()
    template = {"product": PRODUCT, "facility": FACILITY, "decision": DECISION}[kind]
    target.write_text(template.format(schema=f"../../schemas/{kind}.schema.json", name=yaml_text(name), slug=slug,
                                      facility=yaml_text(facility or ""), today=today.isoformat()), encoding="utf-8")
    return target


def _choose_facility(known: list[str], ask: Ask) -> str | None:
    """The facility's file name, typed or picked by number from the list; None to fill in later."""
    listing = "\n".join(f"  {number}. {slug}" for number, slug in enumerate(known, 1))
    answer = ask(f"{listing}\nCơ sở sản xuất (số hoặc tên tệp; Enter để ghi sau) · "
                 f"the facility (number or file name; Enter: fill in later): ").strip()
    if answer.isdigit() and 1 <= int(answer) <= len(known):
        return known[int(answer) - 1]
    return answer or None


def yaml_text(value: str) -> str:
    """A text as a YAML value: plain where that reads the same, else double-quoted (JSON is YAML)."""
    if value and not set(value) & set(":#{}[],&*!|>'\"%@`\\") and value == value.strip() and value[0] not in "-?":
        return value
    return json.dumps(value, ensure_ascii=False)
