"""JSON Schemas of the front matter, made from the loader's own field lists and vocabularies, so the
editor's checks and the build's checks never disagree on what a field is called or which values a
vocabulary holds. Published with the site (`schemas/`) and kept in the repository (`schemas/`,
`python build.py schema`), where entries made by `python build.py new` point to them for editors
with the YAML language server.

The validator is more lenient than an enum can say (case, marks and tone placement do not matter
in vocabulary values), so the schemas list the usual spellings: the code, the Vietnamese and English
names, and the aliases and former names of each term.
"""
from __future__ import annotations

import json
from importlib.metadata import version

from ..content import kinds, load
from ..content.fields import MIN_YEAR
from ..content.places import official_communes, official_provinces
from ..content.vocab import Vocabularies, Vocabulary

COMMUNES_FILE = "communes.json"  # beside the schemas: the official communes, for editors' pick lists
SCHEMA_DIR = "schemas"
SLUG = {"type": "string", "pattern": load.SLUG.pattern}
TEXT = {"type": "string"}
WEB_URL = {"type": "string", "pattern": "^https?://"}
PHONE = {"type": "string", "pattern": r"^\+?[0-9][0-9 .()-]{6,20}$"}
# `x-past`: not after the build date, as the loader checks (the editor's forms set their maximum from it)
YEAR = {"type": "integer", "minimum": MIN_YEAR, "x-past": True}
DATE = {"type": "string", "pattern": r"^\d{4}-\d{2}-\d{2}$"}


def text(limit: int, description: str) -> dict:
    return {"type": "string", "maxLength": limit, "description": description}


def listing(item: dict, description: str) -> dict:
    return {"type": "array", "items": item, "description": description}


def mapping(properties: dict, required: tuple[str, ...] = (), description: str = "") -> dict:
    schema = {"type": "object", "properties": properties, "additionalProperties": False}
    if required:
        schema["required"] = list(required)
    if description:
        schema["description"] = description
    return schema


def spellings(vocabulary: Vocabulary, description: str) -> dict:
    """A vocabulary field; `x-vocabulary` names the vocabulary, for the editor's select."""
    return {"enum": vocabulary.spellings(), "description": description, "x-vocabulary": vocabulary.name}


def codes(vocabulary: Vocabulary, description: str, exclude: tuple[str, ...] = ()) -> dict:
    """Country codes, upper or lower case (`KR`, `kr`)."""
    return {"enum": sorted({c for t in vocabulary if t.code not in exclude for c in (t.code, t.code.lower())}),
            "description": description, "x-vocabulary": vocabulary.name}


def entry(kind: str, description: str) -> dict:
    """Another entry's file name (slug); `x-entries` says which kind, for the editor's choice of entries."""
    return {**SLUG, "description": description, "x-entries": kind}


def provinces(vocabulary: Vocabulary) -> dict:
    """The provinces, each with its spellings, its name and its official code (`x-official-code`)."""
    return {"anyOf": [{"enum": vocabulary.spellings(term), "title": term.vi,
                       "x-official-code": term.extra["official_code"]} for term in vocabulary],
            "description": "Tỉnh, thành phố (34 đơn vị từ 1/7/2025, tên cũ được chấp nhận) · province",
            "x-vocabulary": vocabulary.name}


def communes() -> dict:
    """The official 2025 communes by province, with their codes: what `commune` is checked against."""
    communes = official_communes()
    return {"source": f"vietnam-provinces {version('vietnam-provinces')} (Tổng cục Thống kê · "
                      "National Statistics Office), 1/7/2025",
            "provinces": [{"code": code, "name": province.name,
                           "communes": [{"code": c.code, "name": c.name} for c in communes[code]]}
                          for code, province in official_provinces().items()]}


def schemas(vocab: Vocabularies) -> dict[str, dict]:
    """name → JSON Schema (draft 2020-12) of the front matter of that kind of file."""
    image = {"anyOf": [TEXT, mapping({"src": TEXT, "alt": text(300, "Mô tả ảnh · alt text")}, ("src",))]}
    common = {
        "name": text(200, "Tên · name"),
        "summary": text(load.SUMMARY_MAX, "Một câu giới thiệu · one sentence"),
        "images": listing(image, "Ảnh trong thư mục của mục nhập · photos in the entry's folder"),
        "aliases": listing(SLUG, "Tên tệp cũ, để địa chỉ cũ vẫn dùng được · former slugs, which keep redirecting"),
    }
    withdrawn = mapping({"date": {**DATE, "x-past": True, "description": "Ngày ngừng · since when"},
                         "reason": text(300, "Lý do · why")}, ("date",),
                        "Không còn sản xuất / ngừng hoạt động: trang vẫn mở, rời danh sách · no longer offered: the page "
                        "stays, listings drop it")
    province = provinces(vocab.provinces)
    facility = {
        **common,
        "kind": spellings(vocab.facility_kinds, "Loại hình · kind of facility"),
        "province": province,
        "commune": {**text(100, "Xã, phường, đặc khu (3.321 đơn vị từ 1/7/2025, theo danh sách chính thức; tên hoặc "
                                "mã; tên cũ được chấp nhận) · commune, ward or special zone since 1 July 2025 (official "
                                "list; name or code; former names are accepted)"),
                    "examples": ["Phường Lý Văn Lâm", "Xã Đầm Dơi", "32152"], "x-official-list": COMMUNES_FILE},
        "address": text(300, "Địa chỉ; viết theo cách cũ cũng được, trang hiển thị theo đơn vị hành chính mới · "
                             "address; the old form is accepted and shown in the 2025 form"),
        "location": mapping({"lat": {"type": "number", "minimum": -90, "maximum": 90, "description": "Vĩ độ · latitude"},
                             "lon": {"type": "number", "minimum": -180, "maximum": 180,
                                     "description": "Kinh độ · longitude"}}, ("lat", "lon"),
                            "Toạ độ WGS84 · coordinates"),
        "founded": {"type": "integer", "minimum": 1800, "x-past": True, "description": "Năm thành lập · year founded"},
        "employees": {"type": "integer", "minimum": 0, "description": "Số lao động · workers"},
        "contact": {**mapping({"phone": {**PHONE, "description": "Điện thoại · phone"},
                               "zalo": {**PHONE, "description": "Số Zalo · Zalo number"},
                               "email": {"type": "string", "pattern": "^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$",
                                         "description": "Email"},
                               "website": {**WEB_URL, "description": "Trang web · website"}},
                              description="Liên hệ · contact"), "minProperties": 1},
        "maintainers": listing({"type": "string", "pattern": "^@?[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38}$"},
                               "Tên GitHub được sửa mục nhập · GitHub users who may change these entries"),
        "withdrawn": withdrawn,
        "support": listing(mapping({"year": {**YEAR, "description": "Năm · year"},
                                    "programme": {"enum": list(load.SUPPORT_PROGRAMMES),
                                                  "description": "Chương trình: national (quốc gia), local (địa phương) "
                                                                 "· programme"},
                                    "activity": text(300, "Hoạt động · activity"),
                                    "activity_kind": spellings(vocab.support_activities, "Loại hoạt động · kind of activity"),
                                    "amount_vnd": {"type": "integer", "minimum": 0,
                                                   "description": "Kinh phí hỗ trợ · support, đồng"},
                                    "counterpart_vnd": {"type": "integer", "minimum": 0,
                                                        "description": "Kinh phí đối ứng · the facility's own funds, đồng"},
                                    "status": spellings(vocab.support_statuses, "Tình trạng · status"),
                                    "jobs": {"type": "integer", "minimum": 0, "description": "Việc làm tạo ra · jobs created"},
                                    "project": text(300, "Đề án, quyết định · project or decision")},
                                   ("year", "programme", "activity")), "Hỗ trợ khuyến công · support received"),
    }
    product = {
        **common,
        "facility": entry("facility", "Cơ sở sản xuất (tên tệp) · the facility that makes it (its file name)"),
        "group": spellings(vocab.product_groups, "Nhóm sản phẩm · product group"),
        "awards": listing(mapping({"level": spellings(vocab.award_levels, "Cấp · level"),
                                   "year": {**YEAR, "description": "Năm công nhận · year of the decision"},
                                   "decision": {**TEXT, "description": "Số quyết định · decision number"},
                                   "issuer": {**TEXT, "description": "Cơ quan ra quyết định · issued by"},
                                   "region": spellings(vocab.regions, "Khu vực · region")}, ("level", "year")),
                          "Công nhận SP CNNT tiêu biểu · awards"),
        "export_markets": listing(codes(vocab.countries, "Quốc gia · country"), "Thị trường xuất khẩu, mã quốc gia "
                                  "ISO 3166-1 · export markets, country codes"),
        "domestic_channels": listing(TEXT, "Kênh trong nước · domestic channels"),
        "certifications": listing(mapping({"scheme": spellings(vocab.certification_schemes, "Chứng nhận · scheme"),
                                           "grade": {"type": ["string", "integer"],
                                                     "description": "Hạng (OCOP: số sao 3–5) · grade (OCOP: stars)"},
                                           "number": {**TEXT, "description": "Số giấy chứng nhận · certificate number"},
                                           "year": {**YEAR, "description": "Năm cấp · year issued"},
                                           "expires": {**DATE, "description": "Hết hạn · expires"}}, ("scheme",)),
                                  "Chứng nhận · certifications"),
        "capacity": mapping({"amount": {"type": "number", "minimum": 0, "description": "Số lượng · amount"},
                             "unit": {**TEXT, "description": "Đơn vị, ví dụ t/year · unit, e.g. t/year"}},
                            ("amount", "unit"),
                            "Công suất · capacity"),
        "moq": text(200, "Đơn tối thiểu · minimum order"),
        "packaging": text(300, "Đóng gói · packaging"),
        "shelf_life": text(200, "Hạn dùng · shelf life"),
        "hs_code": {"type": "string", "pattern": load.HS_CODE.pattern, "description": "Mã HS · HS code"},
        "lead_time": text(200, "Thời gian giao · lead time"),
        "tags": listing({"type": "string", "maxLength": 60}, "Từ khoá · search words"),
        "withdrawn": withdrawn,
    }
    fair = {
        **common,
        "start": {**DATE, "description": "Ngày bắt đầu · first day"},
        "end": {**DATE, "description": "Ngày kết thúc · last day"},
        "venue": text(300, "Địa điểm (không cần với hội chợ trực tuyến) · venue (not for an online fair)"),
        "province": {**province, "description": "Hội chợ trong nước: tỉnh, thành phố · a fair in Viet Nam: its province"},
        "country": codes(vocab.countries, "Hội chợ ở nước ngoài: mã quốc gia ISO 3166-1 · a fair abroad: its country code",
                         exclude=("VN",)),
        "city": text(100, "Thành phố (với `country`) · city (with `country`)"),
        "online": {**WEB_URL, "description": "Hội chợ trực tuyến: địa chỉ · an online fair: its address"},
        "organiser": text(200, "Đơn vị tổ chức · organiser"),
        "participants": listing(mapping({"facility": entry("facility", "Cơ sở · facility"),
                                         "booth": {"type": ["string", "integer"], "description": "Gian hàng · booth"}},
                                        ("facility", "booth")), "Cơ sở và số gian hàng · facilities and booths"),
        "website": WEB_URL,
    }
    decision = {
        "number": text(100, "Số quyết định như đã ký, duy nhất · the decision's number as signed, unique"),
        "date": {**DATE, "x-past": True,
                 "description": "Ngày ký; năm của nó là năm công nhận · day signed; its year is the award's"},
        "issuer": text(200, "Cơ quan ký · who signed it"),
        "level": spellings(vocab.award_levels, "Cấp công nhận · award level"),
        "region": spellings(vocab.regions, "Khu vực (chỉ cấp khu vực) · region, regional level only"),
        "products": {**listing(entry("product", "Sản phẩm · product"),
                             "Tên tệp các sản phẩm được công nhận · the products' slugs"),
                     "minItems": 1, "uniqueItems": True},
        "document": {**WEB_URL, "description": "Liên kết bản quyết định đã ký · link to the signed scan"},
        "summary": common["summary"],
    }
    documents = {
        **{kind.name: ({"facility": facility, "product": product, "fair": fair, "decision": decision}[kind.name],
                       kind.fields, kind.required) for kind in kinds.KINDS},
        "translation": ({"name": common["name"], "summary": common["summary"],
                         "withdrawn": mapping({"reason": text(300, "Lý do, tiếng Anh · why, in English")}, ("reason",)),
                         **{name: text(limit, f"`{name}` bằng tiếng Anh (sản phẩm, hội chợ) · `{name}` in English")
                            for name, limit in load.TRANSLATED_TEXTS.items()}},
                        load.TRANSLATION_FIELDS, ()),
    }
    return {name: _document(name, {field: properties[field] for field in fields}, required)
            for name, (properties, fields, required) in documents.items()}


def _document(name: str, properties: dict, required: tuple[str, ...]) -> dict:
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": f"{name}.schema.json",
        "title": f"CNNT catalogue: {name} front matter",
        **mapping(properties, required),
    }


def schema_files(vocab: Vocabularies) -> dict[str, str]:
    """`schemas/<name>.schema.json` → its text, as written to the site and to the repository."""
    files = {f"{SCHEMA_DIR}/{name}.schema.json": json.dumps(schema, ensure_ascii=False, indent=1) + "\n"
             for name, schema in schemas(vocab).items()}
    files[f"{SCHEMA_DIR}/{COMMUNES_FILE}"] = json.dumps(communes(), ensure_ascii=False, separators=(",", ":")) + "\n"
    return files
