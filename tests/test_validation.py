"""Validation: every invalid entry under tests/invalid/ gives exactly the messages in its expected.txt."""
import re
from pathlib import Path

import pytest
from conftest import BUILD_DATE, ROOT, cli

INVALID = Path(__file__).resolve().parent / "invalid"
CASES = sorted(path.name for path in INVALID.iterdir() if path.is_dir())


@pytest.mark.parametrize("case", CASES)
def test_invalid_entries_give_exact_messages(case, capsys, monkeypatch):
    folder = INVALID / case
    monkeypatch.chdir(folder)  # messages name paths as a facility sees them: content/products/…
    code = cli.main(["check", "--content", "content", "--date", BUILD_DATE, "--config", str(ROOT / "site.yaml")])
    captured = capsys.readouterr()
    assert code == 1
    assert "Traceback" not in captured.err
    assert captured.err == (folder / "expected.txt").read_text(encoding="utf-8")


def test_every_problem_in_every_file_is_reported_at_once(make_site):
    run = make_site({
        "products/a.md": "---\nname: A\nfacility: htx-mau\ngroup: foods\n---\n",
        "products/b.md": "---\nname: B\nfacility: nowhere\ngroup: food\nexprot_markets: [KR]\n---\n",
        "facilities/c.md": "---\nname: C\nkind: household\nprovince: Atlantis\ncontact: {phone: 0900 000 009}\n---\n",
    }, command="check")
    assert run.code == 1
    fields = [line.split(": ")[1] for line in run.error_lines]
    # b.md's unknown facility is found although the same file has another problem
    assert sorted(fields) == ["exprot_markets", "facility", "group", "province"]
    assert "4 lỗi, chưa ghi gì ra thư mục site | 4 errors, nothing was written" in run.err


def test_a_build_with_errors_writes_nothing(make_site):
    run = make_site({"products/a.md": "---\nname: A\nfacility: htx-mau\ngroup: foods\n---\n"})
    assert run.code == 1 and not run.site.exists()


PRODUCT = "---\nname: Bánh\nfacility: htx-mau\ngroup: food\n{extra}---\nMô tả.\n"


def test_former_province_is_mapped_and_noted(make_site):
    facility = "---\nname: Cơ sở Sóc Trăng\nkind: household\nprovince: Sóc Trăng\ncontact: {phone: 0900 000 010}\n---\n"
    product = "---\nname: Bánh pía\nfacility: co-so\ngroup: food\n---\nMô tả.\n"
    run = make_site({"facilities/co-so.md": facility, "products/banh-pia.md": product})
    assert run.code == 0, run.err
    vi = (run.site / "facilities/co-so/index.html").read_text()
    en = (run.site / "en/facilities/co-so/index.html").read_text()
    assert "Cần Thơ" in vi and "trước đây là Sóc Trăng" in vi
    assert "Can Tho" in en and "formerly Soc Trang" in en
    # the product's page says it too: a buyer who searched for Sóc Trăng is not left wondering
    for path, said in (("products/banh-pia/index.html", "Cần Thơ</a> (trước đây là Sóc Trăng)</dd>"),
                       ("en/products/banh-pia/index.html", "Can Tho</a> (formerly Soc Trang)</dd>")):
        assert said in (run.site / path).read_text(), path


@pytest.mark.parametrize("written", ["Hoà Bình", "Hòa Bình", "hoa binh", "HOÀ BÌNH"])
def test_province_spellings_match(make_site, written):
    import unicodedata
    for form in ("NFC", "NFD"):
        facility = f"---\nname: Cơ sở\nkind: household\nprovince: {unicodedata.normalize(form, written)}\ncontact: {{zalo: 0900 000 011}}\n---\n"
        run = make_site({"facilities/co-so.md": facility}, command="check")
        assert run.code == 0, run.err


def test_district_level_is_read_as_commune(make_site):
    decision = "---\nnumber: 7/QĐ-UBND\ndate: 2024-05-02\nissuer: UBND huyện\nlevel: district\nproducts: [banh]\n---\n"
    run = make_site({"products/banh.md": PRODUCT.format(extra="awards:\n  - {level: district, year: 2024}\n"),
                     "decisions/xa-2024.md": decision})
    assert run.code == 0, run.err
    assert (run.site / "awards/commune/index.html").read_text().count('href="../../products/banh/"') == 1


def test_translation_overrides_text_and_keeps_the_rest(make_site):
    run = make_site({
        "products/banh.md": PRODUCT.format(extra="export_markets: [KR]\n"),
        "products/banh.en.md": "---\nname: Cake\n---\nEnglish **description**.\n",
    })
    assert run.code == 0, run.err
    en = (run.site / "en/products/banh/index.html").read_text()
    assert "<h1>Cake</h1>" in en and "<strong>description</strong>" in en and "South Korea" in en
    assert "<h1>Bánh</h1>" in (run.site / "products/banh/index.html").read_text()


def test_translation_without_front_matter_replaces_only_the_body(make_site):
    run = make_site({"products/banh.md": PRODUCT.format(extra=""), "products/banh.en.md": "Just the body.\n"})
    assert run.code == 0, run.err
    en = (run.site / "en/products/banh/index.html").read_text()
    assert "<h1>Bánh</h1>" in en and "Just the body." in en


def test_bundle_entry_with_translation_and_photo(make_site):
    run = make_site({
        "products/banh/index.md": PRODUCT.format(extra="images: [anh.jpg]\n"),
        "products/banh/index.en.md": "---\nname: Cake\n---\n",
        "products/banh/anh.jpg": small_jpeg(),
    })
    assert run.code == 0, run.err
    html = (run.site / "products/banh/index.html").read_text()
    assert re.search(r'<img src="\.\./\.\./media/[0-9a-f]{20}-400\.jpg"', html)
    assert "<h1>Cake</h1>" in (run.site / "en/products/banh/index.html").read_text()


def small_jpeg() -> bytes:
    import io

    from PIL import Image
    stream = io.BytesIO()
    Image.new("RGB", (400, 300), (180, 90, 30)).save(stream, "JPEG")
    return stream.getvalue()


def test_internal_error_shows_no_traceback(make_site, monkeypatch):
    import cnnt.engine.pipeline
    monkeypatch.setattr(cnnt.engine.pipeline, "build_pages", lambda *a: 1 / 0)
    run = make_site({})
    assert run.code == 2 and "Traceback" not in run.err and "--debug" in run.err


@pytest.mark.parametrize("written, code, former", [
    ("Tỉnh Cà Mau", "ca-mau", None), ("tỉnh Bạc Liêu", "ca-mau", "Bạc Liêu"), ("TP. Cần Thơ", "can-tho", None),
    ("Thành phố Huế", "hue", None), ("TP Hồ Chí Minh", "ho-chi-minh", None), ("T. Sóc Trăng", "can-tho", "Sóc Trăng"),
    ("Thừa Thiên Huế", "hue", "Thừa Thiên Huế"), ("Sài Gòn", "ho-chi-minh", None),
])
def test_province_with_administrative_prefix(written, code, former):
    from cnnt.content.vocab import load_vocabularies
    match = load_vocabularies().provinces.lookup(written)
    assert match is not None and match.term.code == code and match.former == former


def test_prefix_alone_or_unknown_name_still_fails():
    from cnnt.content.vocab import load_vocabularies
    provinces = load_vocabularies().provinces
    assert provinces.lookup("Tỉnh") is None and provinces.lookup("Tỉnh Atlantis") is None


@pytest.mark.parametrize("written, code", [("HTX", "cooperative"), ("DNTN", "private-enterprise"), ("hộ kinh doanh", "household")])
def test_facility_kind_abbreviations(written, code):
    from cnnt.content.vocab import load_vocabularies
    assert load_vocabularies().facility_kinds.lookup(written).term.code == code


def test_facility_written_by_name_suggests_its_slug(make_site):
    run = make_site({"products/banh.md": "---\nname: Bánh\nfacility: HTX Mẫu\ngroup: food\n---\n"}, command="check")
    assert run.code == 1
    assert "products/banh.md:3: facility: " in run.err and "did you mean `htx-mau`?" in run.err


def test_uppercase_extension_is_reported_not_ignored(make_site):
    run = make_site({"products/banh.MD": "---\nname: Bánh\nfacility: htx-mau\ngroup: food\n---\n"}, command="check")
    assert run.code == 1 and "the file extension must be lowercase: `.md`" in run.err


def test_a_translation_gives_the_english_words_of_a_product_and_a_fair(make_site):
    run = make_site({
        "products/p.md": "---\nname: Khô cá\nfacility: htx-mau\ngroup: food\nmoq: 100 kg\npackaging: Túi 500 g\n"
                         "shelf_life: 12 tháng\nlead_time: 2 tuần\ncapacity: {amount: 300, unit: t/year}\n---\n",
        "products/p.en.md": "---\nname: Dried fish\npackaging: Bags of 500 g\nshelf_life: 12 months\nlead_time: 2 weeks\n---\n",
        "fairs/f.md": "---\nname: Hội chợ\nstart: 2026-12-10\nend: 2026-12-12\nvenue: Nhà văn hoá tỉnh\nprovince: Cà Mau\n"
                      "organiser: Trung tâm Khuyến công\n---\n",
        "fairs/f.en.md": "---\nname: Fair\nvenue: Provincial Culture House\norganiser: Industrial Extension Centre\n---\n",
    })
    assert run.code == 0, run.err
    vi = (run.site / "products/p/index.html").read_text(encoding="utf-8")
    en = (run.site / "en/products/p/index.html").read_text(encoding="utf-8")
    assert "<dd>Túi 500 g</dd>" in vi and "<dd>12 tháng</dd>" in vi and "<dd>300 tấn/năm</dd>" in vi
    assert "<dd>Bags of 500 g</dd>" in en and "<dd>12 months</dd>" in en and "<dd>2 weeks</dd>" in en
    assert "<dd>300 t/year</dd>" in en and "<dd>100 kg</dd>" in en  # not translated: the Vietnamese words
    fair = (run.site / "en/fairs/f/index.html").read_text(encoding="utf-8")
    assert "<dd>Provincial Culture House</dd>" in fair and "<dd>Industrial Extension Centre</dd>" in fair
    assert "Nhà văn hoá tỉnh" in (run.site / "fairs/f/index.html").read_text(encoding="utf-8")


def test_a_translated_word_the_entry_does_not_have_is_an_error(make_site):
    run = make_site({
        "products/p.md": "---\nname: Khô cá\nfacility: htx-mau\ngroup: food\n---\n",
        "products/p.en.md": "---\nname: Dried fish\nvenue: Hall\nmoq: 100 kg\n---\n",
    }, command="check")
    assert run.code == 1
    assert "content/products/p.en.md:3: venue: `venue` không có ở mục nhập này | this entry has no `venue`" in run.err
    assert "content/products/p.en.md:4: moq: `moq` không có ở mục nhập này | this entry has no `moq`" in run.err


@pytest.mark.parametrize("written, vi, en", [
    ("t/year", "tấn/năm", "t/year"), ("tấn/năm", "tấn/năm", "t/year"), ("chiếc / tháng", "chiếc / tháng", "pieces / month"),
    ("máy/năm", "máy/năm", "machines/year"), ("thùng/năm", "thùng/năm", "thùng/year"),
])
def test_capacity_units_read_in_the_page_language(written, vi, en):
    from cnnt.content.vocab import load_vocabularies
    vocab = load_vocabularies()
    assert vocab.unit_in(written, "vi") == vi and vocab.unit_in(written, "en") == en


def test_counts_in_messages_are_in_good_english():
    """"1 error", "2 errors": every count the command line and the preview print (the Vietnamese
    noun does not change)."""
    from cnnt.content.errors import BuildFailed, ContentError, counted
    assert [counted(n, "error") for n in (0, 1, 2)] == ["0 errors", "1 error", "2 errors"]
    assert counted(1, "facility", "facilities") == "1 facility" and counted(3, "facility", "facilities") == "3 facilities"
    mistake = ContentError("products/a.md", 2, "group", "sai", "wrong")
    assert str(BuildFailed([mistake])) == "1 error" and str(BuildFailed([mistake, mistake])) == "2 errors"
