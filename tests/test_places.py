"""Addresses in the 2025 administrative units: the official lists, `commune`, old-form addresses,
place names written as provinces, and where the codes go (pages, vCards, data, schemas)."""
from __future__ import annotations

import csv
import datetime as dt
import json
import os
import re
import subprocess
import sys

import pytest
import yaml
from conftest import ROOT

from cnnt.content import places
from cnnt.content.load import LoadOptions, load_catalogue
from cnnt.content.model import Province
from cnnt.content.text import fold
from cnnt.content.vocab import VOCABULARY_DIR, load_vocabularies

VOCAB = load_vocabularies()
OFFICIAL = places.official()


def facility(extra: str, province: str = "Cà Mau") -> str:
    return f"---\nname: Cơ sở Thử\nkind: household\nprovince: {province}\n{extra}contact: {{phone: 0900 000 002}}\n---\n"


# ---- the official lists, and the little this project adds to them ---------------------------------

def test_the_official_lists_hold_34_provinces_and_3321_communes():
    assert len(OFFICIAL.provinces) == 34 and len(VOCAB.provinces) == 34
    communes = [c for province in places.official_communes().values() for c in province]
    assert len(communes) == 3321 and len({c.code for c in communes}) == 3321
    assert {c.kind for c in communes} == {"xã", "phường", "đặc khu"}


def test_provinces_file_keeps_only_what_the_official_lists_lack_and_agrees_with_them():
    rows = yaml.safe_load((VOCABULARY_DIR / "provinces.yaml").read_text(encoding="utf-8"))
    official = {p.codename.replace("_", "-"): p for p in OFFICIAL.provinces.values()}
    assert set(rows) == set(official)  # the same 34 units
    for code, row in rows.items():
        term = VOCAB.provinces.by_code[code]
        assert term.extra["official_code"] == official[code].code
        # the name shown is the official one (a city may drop its `Thành phố` prefix)
        assert fold(official[code].name).endswith(fold(term.vi)), code
        assert set(row) <= {"en", "former", "aliases", "vi"}, code
        for extra in row.get("former", []):  # former spellings the official lists do not carry
            assert fold(extra) not in {fold(name) for name in official[code].former}, (code, extra)
    for province in official.values():  # every former province the converter knows is accepted
        for former in province.former:
            match = VOCAB.provinces.lookup(former)
            assert match is not None and match.term.extra["official_code"] == province.code, former


# ---- commune: checked against the 2025 list, former names mapped ----------------------------------

@pytest.mark.parametrize("written, province, code, former", [
    ("Phường Lý Văn Lâm", "Cà Mau", "32014", None),
    ("ly van lam", "Cà Mau", "32014", None),          # without marks or prefix
    ("Xã Đầm Dơi", "Cà Mau", "32152", None),
    ("thị trấn Đầm Dơi", "Cà Mau", "32152", "thị trấn Đầm Dơi"),  # a former town
    ("TT Dam Doi", "Cà Mau", "32152", "TT Dam Doi"),
    ("Phường 8", "Bạc Liêu", "31825", "Phường 8"),   # the former province narrows it down
    ("32152", "Cà Mau", "32152", None),               # an official code
    ("Bát Tràng", "Hà Nội", "00583", None),
])
def test_commune_is_read_against_the_official_list(make_site, tmp_path, written, province, code, former):
    run = make_site({"facilities/thu.md": facility(f"commune: {written}\n", province)}, command="check")
    assert run.code == 0, run.err
    read = load_catalogue(LoadOptions(tmp_path / "content", tmp_path, dt.date(2026, 12, 1), VOCAB)).facilities["thu"]
    assert (read.commune.code if read.commune else None) == code
    assert read.commune_former == former


def test_a_former_name_that_became_several_communes_is_a_warning_listing_them(make_site):
    run = make_site({"facilities/thu.md": facility("commune: Phường 8\n")})
    assert run.code == 0 and (run.site / "facilities/thu/index.html").is_file()
    warning = [line for line in run.err.splitlines() if "thu.md:5:" in line]
    assert len(warning) == 1 and "cảnh báo | warning" in warning[0]
    assert "Phường 8 (Thành phố Bạc Liêu) → Phường Bạc Liêu (31825)" in warning[0]
    assert "Phường 8 (Thành phố Cà Mau) → Phường Lý Văn Lâm (32014)" in warning[0]


def test_a_district_maps_to_its_communes_and_two_communes_of_one_name_are_told_apart(make_site):
    district = OFFICIAL.find("96", "huyện Đầm Dơi")
    assert district.commune is None and len(district.communes) == 7
    assert "Xã Đầm Dơi" in {c.name for c in district.communes}
    twins = OFFICIAL.find("82", "Tân Thạnh")  # two communes of Đồng Tháp share the name
    assert len(twins.communes) == 2 and not twins.former
    run = make_site({"facilities/thu.md": facility("commune: Tân Thạnh\n", "Đồng Tháp")}, command="check")
    assert run.code == 0 and "cảnh báo | warning" in run.err and "(hoặc mã)" in run.err
    chosen = twins.communes[0].code
    run = make_site({"facilities/thu.md": facility(f'commune: "{chosen}"\n', "Đồng Tháp")}, command="check")
    assert run.code == 0 and "warning" not in run.err


@pytest.mark.parametrize("written, expected", [
    ("Phường Xyz", "không có trong danh sách xã, phường, đặc khu của Cà Mau"),
    ("Bát Tràng", "there is one in: Thành phố Hà Nội"),
    ("Lý Văn Lem", "did you mean `Lý Văn Lâm`?"),
    ("32014x", "is not a commune"),
])
def test_an_unknown_commune_is_an_error_at_its_line(make_site, written, expected):
    run = make_site({"facilities/thu.md": facility(f"commune: {written}\n")}, command="check")
    assert run.code == 1
    assert any(line.startswith("content/facilities/thu.md:5: commune:") and expected in line
               for line in run.err.splitlines()), run.err


def test_a_code_of_another_province_is_refused(make_site):
    run = make_site({"facilities/thu.md": facility('commune: "00583"\n')}, command="check")  # Bát Tràng, Hà Nội
    assert run.code == 1 and "thu.md:5: commune:" in run.err


def test_commune_and_address_that_disagree_are_a_warning(make_site):
    run = make_site({"facilities/thu.md": facility("commune: Phường Tân Thành\naddress: Phường 8, TP. Cà Mau\n")},
                    command="check")
    assert run.code == 0 and "Phường Tân Thành" in run.err and "Phường Lý Văn Lâm" in run.err


# ---- a place name written as a province ------------------------------------------------------------

@pytest.mark.parametrize("written, province", [
    ("Long Xuyên", "An Giang"), ("thành phố Long Xuyên", "An Giang"), ("Đầm Dơi", "Cà Mau"),
    ("huyện Mai Châu", "Phú Thọ"), ("Bát Tràng", "Hà Nội"), ("Phan Thiết", "Lâm Đồng"),
])
def test_a_place_name_in_province_suggests_its_province(make_site, written, province):
    run = make_site({"facilities/thu.md": facility("", written)}, command="check")
    assert run.code == 1
    line = next(line for line in run.err.splitlines() if "thu.md:4: province:" in line)
    assert f"nay thuộc {province}" in line and f"now in {province}; write `province: {province}`" in line
    assert "Hưng Yên" not in line


def test_a_place_name_of_several_provinces_lists_them(make_site):
    run = make_site({"facilities/thu.md": facility("", "Tân Hưng")}, command="check")
    assert run.code == 1 and "several provinces (" in run.err and "Cà Mau" in run.err


# ---- addresses written the old way -----------------------------------------------------------------

# (province as written, address as written, the 2025 form; None: it cannot be said without doubt,
# shown as written). The first group are the sample facilities' places, from the seed articles.
ADDRESSES = [
    ("Cà Mau", "ấp Tân Phong, thị trấn Đầm Dơi, huyện Đầm Dơi", "ấp Tân Phong, Xã Đầm Dơi, Cà Mau"),
    ("Yên Bái", "xã Suối Giàng, huyện Văn Chấn, tỉnh Yên Bái", "Xã Văn Chấn, Lào Cai"),
    ("Sóc Trăng", "Khóm Wathpich, Phường 2, thị xã Vĩnh Châu", "Khóm Wathpich, Phường Vĩnh Châu, Thành phố Cần Thơ"),
    ("Sóc Trăng", "Phường 1, thị xã Vĩnh Châu, tỉnh Sóc Trăng", "Phường Vĩnh Châu, Thành phố Cần Thơ"),
    ("Bình Thuận", "Phường Phú Hài, TP. Phan Thiết", "Phường Phú Thuỷ, Lâm Đồng"),
    ("Bến Tre", "thị trấn Mỏ Cày, huyện Mỏ Cày Nam, tỉnh Bến Tre", "Xã Mỏ Cày, Vĩnh Long"),
    ("Hòa Bình", "thị trấn Mai Châu, huyện Mai Châu, tỉnh Hòa Bình", "Xã Mai Châu, Phú Thọ"),
    ("Nam Định", "thị trấn Xuân Trường, huyện Xuân Trường, tỉnh Nam Định", "Xã Xuân Trường, Ninh Bình"),
    ("Lâm Đồng", "thị trấn Di Linh, huyện Di Linh", "Xã Di Linh, Lâm Đồng"),
    ("Thái Nguyên", "phường Cải Đan, thành phố Sông Công, tỉnh Thái Nguyên", "Phường Sông Công, Thái Nguyên"),
    ("Hà Nội", "thôn Phú Vinh, xã Phú Nghĩa, huyện Chương Mỹ, TP Hà Nội",
     "thôn Phú Vinh, Xã Phú Nghĩa, Thành phố Hà Nội"),
    ("Thừa Thiên Huế", "Phường Phú Hội, thành phố Huế, Thừa Thiên Huế", "Phường Thuận Hóa, Thành phố Huế"),
    # Cà Mau and Bạc Liêu, numbered wards of two former cities
    ("Cà Mau", "Phường 8, Thành phố Cà Mau", "Phường Lý Văn Lâm, Cà Mau"),
    ("Cà Mau", "Số 12, đường Lý Thường Kiệt, Phường 8, TP. Cà Mau, Tỉnh Cà Mau",
     "Số 12, đường Lý Thường Kiệt, Phường Lý Văn Lâm, Cà Mau"),
    ("Cà Mau", "Khóm 2, P.9, TP Cà Mau, tỉnh Cà Mau, Việt Nam", "Khóm 2, Phường An Xuyên, Cà Mau"),
    ("Bạc Liêu", "Khóm 1, Phường 1, thành phố Bạc Liêu", "Khóm 1, Phường Bạc Liêu, Cà Mau"),
    ("Cà Mau", "Khóm 1, Phường 1, thành phố Bạc Liêu, tỉnh Bạc Liêu", "Khóm 1, Phường Bạc Liêu, Cà Mau"),
    ("Cà Mau", "ấp Xóm Mới, xã Khánh Hưng, huyện Trần Văn Thời, tỉnh Cà Mau", "ấp Xóm Mới, Xã Khánh Hưng, Cà Mau"),
    ("Cà Mau", "Phuong 1, Ca Mau", "Phường An Xuyên, Cà Mau"),  # typed without marks
    # across the country
    ("An Giang", "phường Mỹ Bình, thành phố Long Xuyên, tỉnh An Giang", "Phường Long Xuyên, An Giang"),
    ("Kiên Giang", "phường Vĩnh Thanh Vân, thành phố Rạch Giá", "Phường Rạch Giá, An Giang"),
    ("Hồ Chí Minh", "Phường Bến Nghé, Quận 1, TP.HCM", "Phường Sài Gòn, Thành phố Hồ Chí Minh"),
    ("Bình Dương", "phường Phú Cường, thành phố Thủ Dầu Một, tỉnh Bình Dương",
     "Phường Thủ Dầu Một, Thành phố Hồ Chí Minh"),
    ("Quảng Nam", "phường Minh An, thành phố Hội An, tỉnh Quảng Nam", "Phường Hội An, Thành phố Đà Nẵng"),
    ("Hải Dương", "xã Cẩm Văn, huyện Cẩm Giàng, tỉnh Hải Dương", "Xã Tuệ Tĩnh, Thành phố Hải Phòng"),
    ("Bắc Ninh", "xã Vân Hà, huyện Việt Yên, tỉnh Bắc Giang", "Phường Vân Hà, Bắc Ninh"),  # now a town (thị xã)
    ("Đồng Tháp", "phường 1, thành phố Sa Đéc, tỉnh Đồng Tháp", "Phường Sa Đéc, Đồng Tháp"),
    ("Tiền Giang", "xã Tân Thạnh, huyện Tân Phú Đông", "Xã Tân Thới, Đồng Tháp"),
    ("Quảng Ninh", "phường Hồng Gai, thành phố Hạ Long", "Phường Hồng Gai, Quảng Ninh"),
    ("Khánh Hòa", "phường Vĩnh Hải, thành phố Nha Trang, Khánh Hòa", "Phường Bắc Nha Trang, Khánh Hòa"),
    ("Long An", "xã Long Hựu Đông, huyện Cần Đước, tỉnh Long An", "Xã Long Hựu, Tây Ninh"),
    ("Hoà Bình", "Bản Lác, xã Chiềng Châu, huyện Mai Châu", "Bản Lác, Xã Mai Hạ, Phú Thọ"),
    # ambiguous: a commune split between several, a district, a name of several places, a commune
    # that was not in the district written
    ("Hà Nội", "Số 1, phố Hàng Trống, phường Hàng Trống, quận Hoàn Kiếm, Hà Nội", None),
    ("Hà Nội", "xã Bát Tràng, huyện Gia Lâm, Hà Nội", None),
    ("Cà Mau", "thị trấn Năm Căn, huyện Năm Căn", None),
    ("Cà Mau", "huyện Đầm Dơi", None),
    ("Cà Mau", "Phường 8", None),
    ("Hồ Chí Minh", "Phường 8, Quận 3, Thành phố Hồ Chí Minh", None),
    ("Vĩnh Long", "ấp Phú Lợi, xã Phú Đức, huyện Long Hồ", None),
    ("Nghệ An", "xã Nghi Phong, huyện Nghi Lộc, tỉnh Nghệ An", None),
]


def convert(province: str, address: str) -> places.Conversion:
    match = VOCAB.provinces.lookup(province)
    return OFFICIAL.convert(match.term.extra["official_code"], address, Province(match.term, match.former).names)


def test_at_least_30_old_addresses_across_provinces():
    assert len(ADDRESSES) >= 30
    assert len({VOCAB.provinces.lookup(p).term.code for p, _, _ in ADDRESSES}) >= 15


@pytest.mark.parametrize("province, address, expected", ADDRESSES)
def test_old_address_in_the_2025_form(province, address, expected):
    conversion = convert(province, address)
    assert conversion.address == expected if expected else conversion.address is None
    if expected:
        assert conversion.former and conversion.commune is not None and conversion.commune.name in expected


@pytest.mark.parametrize("province, address", [
    ("Cà Mau", "Ấp Mẫu, xã Đầm Dơi, tỉnh Cà Mau"), ("Cà Mau", "ấp 3, xã Tân Hưng, Cà Mau"),
    ("Hà Nội", "Xã Bát Tràng, thành phố Hà Nội"), ("Lâm Đồng", "Phường Phan Thiết, tỉnh Lâm Đồng"),
])
def test_an_address_already_in_the_2025_form_is_kept(province, address):
    conversion = convert(province, address)
    assert conversion.address == address and not conversion.former and conversion.commune is not None


# ---- where the 2025 form and the codes go ------------------------------------------------------------

def test_pages_vcard_structured_data_and_exports_use_the_2025_form(make_site):
    run = make_site({"facilities/thu.md": facility("address: Số 12, Phường 8, TP. Cà Mau, tỉnh Cà Mau\n"),
                     "facilities/hai.md": facility("commune: Lý Văn Lâm\n").replace("Thử", "Hai"),
                     "products/p.md": "---\nname: Khô cá\nfacility: thu\ngroup: food\n---\n"})
    assert run.code == 0, run.err
    page = (run.site / "facilities/thu/index.html").read_text(encoding="utf-8")
    assert "Số 12, Phường Lý Văn Lâm, Cà Mau" in page
    assert "trước đây: Số 12, Phường 8, TP. Cà Mau, tỉnh Cà Mau" in page
    english = (run.site / "en/facilities/thu/index.html").read_text(encoding="utf-8")
    assert "formerly: Số 12, Phường 8" in english and "Ly Van Lam Ward" in english
    vcard = (run.site / "facilities/thu/thu.vcf").read_text(encoding="utf-8")
    assert "ADR;TYPE=WORK:;;Số 12;Phường Lý Văn Lâm;Cà Mau;;Việt Nam" in vcard
    data = json.loads(page.split('<script type="application/ld+json">')[1].split("</script>")[0])
    business = next(item for item in (data if isinstance(data, list) else [data]) if item["@type"] == "LocalBusiness")
    assert business["address"]["streetAddress"] == "Số 12"
    assert business["address"]["addressLocality"] == "Phường Lý Văn Lâm"
    province_page = (run.site / "provinces/ca-mau/index.html").read_text(encoding="utf-8")
    assert "Phường Lý Văn Lâm <span class=\"count\">2 cơ sở</span>" in province_page
    english_province = (run.site / "en/provinces/ca-mau/index.html").read_text(encoding="utf-8")
    assert "Ly Van Lam Ward <span class=\"count\">2 facilities</span>" in english_province
    with open(run.site / "data/facilities.csv", encoding="utf-8-sig", newline="") as stream:
        rows = {row["slug"]: row for row in csv.DictReader(stream)}
    assert rows["thu"]["province_official_code"] == "96" and rows["thu"]["commune_code"] == "32014"
    assert rows["thu"]["address_as_written"] == "Số 12, Phường 8, TP. Cà Mau, tỉnh Cà Mau"
    assert rows["hai"]["commune"] == "Phường Lý Văn Lâm" and rows["htx-mau"]["commune_code"] == ""
    with open(run.site / "data/products.csv", encoding="utf-8-sig", newline="") as stream:
        product = next(csv.DictReader(stream))
    assert product["province_official_code"] == "96" and product["commune_code"] == "32014"


def test_schemas_carry_the_official_codes():
    schema = json.loads((ROOT / "schemas/facility.schema.json").read_text(encoding="utf-8"))
    provinces = schema["properties"]["province"]["anyOf"]
    assert len(provinces) == 34
    ca_mau = next(p for p in provinces if p["title"] == "Cà Mau")
    assert ca_mau["x-official-code"] == "96" and "Bạc Liêu" in ca_mau["enum"]
    assert schema["properties"]["commune"]["x-official-list"] == "communes.json"
    communes = json.loads((ROOT / "schemas/communes.json").read_text(encoding="utf-8"))
    listed = {c["code"]: c["name"] for p in communes["provinces"] for c in p["communes"]}
    assert len(listed) == 3321 and listed["32014"] == "Phường Lý Văn Lâm"


GUARD = """
import sys
FORBIDDEN = ("geopy", "shapely", "vietnamadminunits")
def guard(event, args):
    if event in ("socket.connect", "socket.getaddrinfo", "socket.gethostbyname", "socket.sendto"):
        sys.stderr.write("network used: %s\\n" % event)
        raise RuntimeError("network use in a build")
    if event == "import" and args[0].split(".")[0] in FORBIDDEN:
        sys.stderr.write("forbidden import: %s\\n" % args[0])
        raise ImportError(args[0])
sys.addaudithook(guard)
"""


def test_a_build_never_reaches_the_network(tmp_path):
    """A build's process that may not use the network (nor import the converter's geocoding code) still
    builds the sample, old-form addresses included; the guard itself is shown to bite."""
    guard = tmp_path / "guard"
    guard.mkdir()
    (guard / "sitecustomize.py").write_text(GUARD)
    environment = {**os.environ, "PYTHONPATH": str(guard)}
    probe = subprocess.run([sys.executable, "-c", "import socket; socket.create_connection(('127.0.0.1', 9))"],
                           env=environment, capture_output=True, text=True, timeout=60)
    assert probe.returncode != 0 and "network used: socket." in probe.stderr
    for command in (["check"], ["--out", str(tmp_path / "site"), "--jobs", "2"]):
        result = subprocess.run([sys.executable, "build.py", *command], cwd=ROOT, env=environment,
                                capture_output=True, text=True, timeout=300)
        assert result.returncode == 0, result.stderr
        assert "network used" not in result.stderr and "forbidden import" not in result.stderr
    page = (tmp_path / "site/facilities/che-suoi-giang/index.html").read_text(encoding="utf-8")
    assert "Xã Văn Chấn, Lào Cai" in page and "trước đây: xã Suối Giàng, huyện Văn Chấn, tỉnh Yên Bái" in page


def test_the_province_a_commune_was_in_is_named_and_searched(make_site):
    """A facility that writes the 2025 unit (Vĩnh Long) and its commune (Xã Mỏ Cày) was in Bến Tre
    before: its pages say so and buyers find it by "Bến Tre", as if it had written that; the open data
    keeps what it wrote. A commune of the unit's own former land (Phường Long Châu) says nothing."""
    def maker(name: str, commune: str) -> str:
        return (f"---\nname: {name}\nkind: household\nprovince: Vĩnh Long\ncommune: {commune}\n"
                "contact: {phone: 0900 000 010}\n---\n")
    run = make_site({"facilities/mo-cay.md": maker("Kẹo Mỏ Cày", "Mỏ Cày"),
                     "facilities/long-chau.md": maker("Bánh Long Châu", "Phường Long Châu"),
                     "products/keo.md": "---\nname: Kẹo dừa\nfacility: mo-cay\ngroup: food\n---\n",
                     "products/banh.md": "---\nname: Bánh tét\nfacility: long-chau\ngroup: food\n---\n"})
    assert run.code == 0, run.err
    for path, said in (("facilities/mo-cay/index.html", "Vĩnh Long (trước đây là Bến Tre)"),
                       ("en/facilities/mo-cay/index.html", "Vinh Long (formerly Ben Tre)"),
                       ("products/keo/index.html", "Vĩnh Long</a> (trước đây là Bến Tre)")):
        assert said in (run.site / path).read_text(encoding="utf-8"), path
    for path in ("facilities/long-chau/index.html", "products/banh/index.html"):
        assert "trước đây là" not in (run.site / path).read_text(encoding="utf-8"), path
    (data_file,) = (run.site / "search").glob("data-vi-*.json")
    rows = {row[0]: row for row in json.loads(data_file.read_text(encoding="utf-8"))["facilities"]}
    assert rows["mo-cay"][4:] == ["Bến Tre"] and rows["long-chau"][4:] == []
    with open(run.site / "data/facilities.csv", encoding="utf-8-sig", newline="") as stream:
        written = {row["slug"]: row["former_province"] for row in csv.DictReader(stream)}
    assert written["mo-cay"] == "" and written["long-chau"] == ""
    # the province's page lists its communes with facilities, each with the province it was in, if another
    for path, said in (("provinces/vinh-long/index.html", "(trước đây thuộc Bến Tre)"),
                       ("en/provinces/vinh-long/index.html", "(formerly in Ben Tre)")):
        communes = (run.site / path).read_text(encoding="utf-8").split('<details class="communes">', 1)[1]
        items = re.findall(r"<li>(.*?)</li>", communes.split("</details>", 1)[0])
        (mo_cay,) = [item for item in items if "Mỏ Cày" in item or "Mo Cay" in item]
        (long_chau,) = [item for item in items if "Long Châu" in item or "Long Chau" in item]
        assert len(items) == 2 and said in mo_cay and "note" not in long_chau, (path, items)
