"""QR codes, booth cards, vCards, fairs and addresses that never break: decoded with a real decoder."""
from __future__ import annotations

import base64
import contextlib
import io
import os
import random
import re
from pathlib import Path
from urllib.parse import unquote

import pypdfium2
import pytest
import zxingcpp
from conftest import FACILITY
from PIL import Image

from cnnt.site import qr

BASE_URL = "https://catalogue.example.org/"
PRODUCT = """---
name: Bánh tráng Mẫu
facility: htx-mau
group: food
---
Bánh tráng phơi sương.
"""


def decode_all(image: Image.Image) -> list[str]:
    return sorted(result.text for result in zxingcpp.read_barcodes(image))


def page_of(site: Path, url: str) -> Path:
    """The built file an absolute address of the site leads to."""
    assert url.startswith(BASE_URL), url
    return site / url[len(BASE_URL):] / "index.html"


def data_uri_image(uri: str) -> Image.Image:
    if uri.startswith("data:image/png;base64,"):
        return Image.open(io.BytesIO(base64.b64decode(uri.split(",", 1)[1])))
    raise AssertionError(uri[:40])


# -- the codes -------------------------------------------------------------------------------------

def test_code_decodes_to_its_address_from_png_and_svg(tmp_path):
    url = BASE_URL + "en/products/banh-phong-tom-vinh-hoa-phat/"
    code = qr.make_code(url)
    assert decode_all(Image.open(io.BytesIO(code.png))) == [url]
    svg = unquote(code.svg_data_uri.split(",", 1)[1])
    assert f'viewBox="0 0 {code.size} {code.size}"' in svg
    # inserted in HTML attributes as they are: nothing that ends a data URI or an attribute, or starts markup
    assert not set("#\"<>& ") & set(code.svg_data_uri + code.png_data_uri)
    assert Image.open(io.BytesIO(code.png)).size == (code.size * qr.PNG_MODULE_PIXELS,) * 2
    assert code.size == 45  # version 5 (37 modules) and the 4-module quiet zone on each side
    image = Image.open(io.BytesIO(code.png))
    assert image.mode == "1" and round(image.info["dpi"][0]) == 300
    assert zxingcpp.read_barcode(image).extra["ECLevel"] == "M"


def svg_dark_modules(svg: str) -> set[tuple[int, int]]:
    """The (x, y) modules an SVG code's path draws: `M0,.5` then `m<dx>,<dy>h<run>` steps."""
    path = re.search(r' d="M0,\.5((?:m-?\d+,-?\d+h\d+)*)"', svg)
    assert path, svg[:200]
    x = y = 0
    dark = set()
    for dx, dy, run in re.findall(r"m(-?\d+),(-?\d+)h(\d+)", path[1]):
        x, y = x + int(dx), y + int(dy)
        dark.update((x + step, y) for step in range(int(run)))
        x += int(run)
    return dark


def test_codes_choose_their_mask_and_match_the_svg(tmp_path):
    """The encoder picks each code's mask by the standard's penalty rules, so masks differ between
    addresses; the SVG and the PNG show the same modules."""
    masks = set()
    for number in range(12):
        code = qr.make_code(f"{BASE_URL}products/san-pham-{number}/")
        png = Image.open(io.BytesIO(code.png)).convert("L")
        result = zxingcpp.read_barcode(png)
        masks.add(result.extra["DataMask"])
        svg = unquote(code.svg_data_uri.split(",", 1)[1])
        pixels = png.resize((code.size, code.size), Image.Resampling.NEAREST).tobytes()  # each module's centre
        png_dark = {(index % code.size, index // code.size) for index, value in enumerate(pixels) if value == 0}
        assert svg_dark_modules(svg) == png_dark, number
    assert len(masks) > 2


def test_the_svg_path_draws_exactly_the_dark_modules_of_any_grid():
    """`svg` looks up each run's command by the run and the light before it, across row ends: grids
    with and without a light border, runs touching either edge, full and empty rows, and the same
    size again (the commands kept from before) all draw their own modules and no others."""
    rng = random.Random(13)
    grids = ["0" * 9, "1" * 9, "110" "011" "101", "000" "000" "001", "100" "000" "000"]
    for _ in range(300):
        size = rng.choice([3, 5, 21, 45])
        density = rng.random()
        grids.append("".join("1" if rng.random() < density else "0" for _ in range(size * size)))
    for modules in grids:
        size = int(len(modules) ** 0.5)
        dark = {(index % size, index // size) for index, module in enumerate(modules) if module == "1"}
        assert svg_dark_modules(qr.svg(modules, size)) == dark, modules


def test_a_code_keeps_its_bytes_while_the_cache_version_stays():
    """Codes cached by an earlier build are used as they are while CACHE_VERSION stays the same. A
    change to how a code is drawn must bump it (and this digest), or pages built from the cache and
    pages with new codes would disagree. (Made with numpy since December 2026, with the same bytes.)"""
    code = qr.make_code(BASE_URL + "products/banh-trang-mau/")
    assert (qr.CACHE_VERSION, qr.code_digest(code)) == (6, "1389043cf31348621d8bd43db143ed02")


def test_codes_are_cached_and_stale_ones_dropped(tmp_path, monkeypatch):
    cache = tmp_path / "qr.sqlite"
    first = qr.codes_for([BASE_URL + "a/", BASE_URL + "b/"], cache, jobs=1)

    def forbidden(url):
        raise AssertionError(f"made again: {url}")

    monkeypatch.setattr(qr, "make_code", forbidden)
    again = qr.codes_for([BASE_URL + "a/"], cache, jobs=1)
    assert again[BASE_URL + "a/"] == first[BASE_URL + "a/"]
    monkeypatch.undo()
    import sqlite3
    assert [row[0] for row in sqlite3.connect(cache).execute("SELECT url FROM codes")] == [BASE_URL + "a/"]


def test_a_cache_made_for_the_same_addresses_is_not_gone_through_again(tmp_path, monkeypatch):
    """A build whose addresses are those the cache was last made for, the file unchanged since, does
    not open it to compare (70 ms of a one-entry build at 10k products). Other addresses, a file
    changed by anything else, or a record that is damaged or gone: the cache is gone through again,
    and holds every code once more. A code missing all the same is made when its page asks for it."""
    import sqlite3
    cache, gone_through = tmp_path / "qr.sqlite", []
    real = qr._make_missing
    monkeypatch.setattr(qr, "_make_missing", lambda *args: gone_through.append(1) or real(*args))
    a, b = BASE_URL + "a/", BASE_URL + "b/"

    def rows() -> set[str]:
        with contextlib.closing(sqlite3.connect(cache)) as db:
            return {url for (url,) in db.execute("SELECT url FROM codes")}

    qr.codes_for([a, b], cache, jobs=1)
    qr.codes_for([b, a, a], cache, jobs=1)  # (the same addresses, in another order, or twice: gone through)
    assert len(gone_through) == 2
    codes = qr.codes_for([b, a], cache, jobs=1)
    assert len(gone_through) == 2, "not gone through again"
    assert decode_all(Image.open(io.BytesIO(codes[a].png))) == [a]
    qr.codes_for([a], cache, jobs=1)  # other addresses
    assert len(gone_through) == 3 and rows() == {a}
    qr.codes_for([a], cache, jobs=1)
    assert len(gone_through) == 3
    with contextlib.closing(sqlite3.connect(cache)) as db, db:  # changed by something else
        db.execute("DELETE FROM codes")
    qr.codes_for([a], cache, jobs=1)
    assert len(gone_through) == 4 and rows() == {a}
    record = cache.with_name(cache.name + ".made")
    for damage in (b"\xff\xfe", b"", record.read_bytes().replace(b" ", b"  ", 1), None):
        if damage is None:
            record.unlink()
        else:
            record.write_bytes(damage)
        before = len(gone_through)
        qr.codes_for([a], cache, jobs=1)
        assert len(gone_through) == before + 1 and rows() == {a} and record.is_file()
    cache.unlink()  # the cache gone, the record left
    before = len(gone_through)
    codes = qr.codes_for([a], cache, jobs=1)
    assert len(gone_through) == before + 1 and rows() == {a}
    with contextlib.closing(sqlite3.connect(cache)) as db, db:  # a row lost, the file's marks put back
        before = os.stat(cache)
        db.execute("DELETE FROM codes")
    os.utime(cache, ns=(before.st_atime_ns, before.st_mtime_ns))
    made = []
    monkeypatch.setattr(qr, "make_code", lambda url: made.append(url) or MAKE_CODE(url))
    before = len(gone_through)
    codes = qr.codes_for([a], cache, jobs=1)
    assert decode_all(Image.open(io.BytesIO(codes[a].png))) == [a]
    assert len(gone_through) == before + 1 and made == [a], "the change time told: gone through, the code made again"


def test_new_codes_are_kept_as_they_are_made_never_all_held_at_once(tmp_path):
    """A first 50k build makes 120,000 codes (3.4 KB each): held all at once before they were kept,
    they were the peak of its memory. Each run of codes is kept as it is made; all are in the cache."""
    import sqlite3
    import tracemalloc
    urls = [f"https://example.org/products/san-pham-{number:05d}/" for number in range(4000)]
    tracemalloc.start()
    try:
        qr.codes_for(urls, tmp_path / "codes.sqlite", jobs=1)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    with sqlite3.connect(tmp_path / "codes.sqlite") as db:
        held = db.execute("SELECT count(*), sum(length(svg) + length(png)) FROM codes").fetchone()
    assert held[0] == len(urls) and peak < held[1] / 4, (peak, held)


def test_damaged_cache_is_made_anew(tmp_path):
    cache = tmp_path / "qr.sqlite"
    cache.write_bytes(b"not a database" * 100)
    codes = qr.codes_for([BASE_URL + "x/"], cache, jobs=1)
    assert decode_all(Image.open(io.BytesIO(codes[BASE_URL + "x/"].png))) == [BASE_URL + "x/"]


def test_every_entry_page_shows_its_own_code_with_downloads(sample_site):
    pages = [*sample_site.glob("products/*/index.html"), *sample_site.glob("en/facilities/*/index.html"),
             *sample_site.glob("fairs/*/index.html")]
    checked = 0
    for page in pages:
        html = page.read_text(encoding="utf-8")
        if 'http-equiv="refresh"' in html:
            continue  # a former address: it redirects
        if 'class="entry withdrawn"' in html:
            continue  # no longer offered: nothing to print a code for
        png = re.search(r'href="(data:image/png;base64,[^"]+)" download="qr-[a-z0-9-]+\.png"', html)
        assert png and 'download="qr-' in html and 'data:image/svg+xml,' in html, page
        url = BASE_URL + str(page.parent.relative_to(sample_site)) + "/"
        assert decode_all(data_uri_image(png.group(1))) == [url], page
        checked += 1
    assert checked > 40


# -- base URL --------------------------------------------------------------------------------------

def test_a_build_without_base_url_is_an_error_but_a_preview_works(make_site, tmp_path):
    config = tmp_path / "no-base.yaml"
    config.write_text("title: {vi: Mẫu}\ncentre: {name: {vi: Trung tâm}}\n", encoding="utf-8")
    run = make_site({"products/banh-trang.md": PRODUCT}, extra=("--config", str(config)))
    assert run.code == 1 and "base_url" in run.err and "QR" in run.err
    import build as cli
    from cnnt.engine import pipeline
    args = cli.parse_args(["serve", "--content", str(tmp_path / "content"), "--out", str(tmp_path / "preview"),
                           "--config", str(config), "--date", "2026-11-22", "--port", "8123"])
    report = pipeline.build(cli.options_from(args))
    html = (tmp_path / "preview/products/banh-trang/index.html").read_text(encoding="utf-8")
    png = re.search(r'href="(data:image/png;base64,[^"]+)"', html).group(1)
    assert report.pages and decode_all(data_uri_image(png)) == ["http://127.0.0.1:8123/products/banh-trang/"]
    assert not (tmp_path / "content/published-urls.txt").exists()  # a preview publishes nothing


# -- printed links never break ---------------------------------------------------------------------

def test_renaming_without_alias_fails_and_with_alias_redirects(make_site, tmp_path):
    assert make_site({"products/banh-trang.md": PRODUCT}).code == 0
    record = (tmp_path / "content/published-urls.txt").read_text(encoding="utf-8")
    assert "\nproducts/banh-trang/\n" in record and "\nen/products/banh-trang/\n" in record
    assert "facilities/htx-mau/" in record

    (tmp_path / "content/products/banh-trang.md").rename(tmp_path / "content/products/banh-trang-suong.md")
    for command in ("check", "build"):
        run = make_site({}, command=command)
        assert run.code == 1, run.err
        assert re.search(r"published-urls\.txt:\d+: url: .*`products/banh-trang/`.*aliases: \[banh-trang\]", run.err)
        assert "content/products/banh-trang-suong" in run.err  # the likely new entry is suggested

    renamed = PRODUCT.replace("group: food\n", "group: food\naliases: [banh-trang]\n")
    run = make_site({"products/banh-trang-suong.md": renamed})
    assert run.code == 0, run.err
    redirect = (run.site / "products/banh-trang/index.html").read_text(encoding="utf-8")
    assert 'content="0; url=../../products/banh-trang-suong/"' in redirect
    assert 'rel="canonical" href="https://catalogue.example.org/products/banh-trang-suong/"' in redirect
    assert (run.site / "en/products/banh-trang/index.html").is_file()
    assert "/products/banh-trang/ /products/banh-trang-suong/ 301\n" in (run.site / "_redirects").read_text()
    record = (tmp_path / "content/published-urls.txt").read_text(encoding="utf-8")
    assert "products/banh-trang/" in record and "products/banh-trang-suong/" in record  # nothing forgotten


def test_redirect_page_leads_to_the_new_address_in_a_browser(visit, server):
    page = visit()
    page.goto(server + "products/khan-bong-cotton/")
    page.wait_for_url("**/products/khan-bong/")
    assert page.locator("h1").inner_text() == "Khăn bông cotton"


# -- vCards ----------------------------------------------------------------------------------------

def unfold(text: str) -> list[str]:
    return text.replace("\r\n ", "").split("\r\n")


def test_vcard_has_working_fields_and_escapes(make_site):
    facility = FACILITY.replace("contact: {phone: 0900 000 001, zalo: 0900 000 001}",
                                "contact: {phone: 0900 000 001, zalo: 0911 000 002, email: a@example.com, "
                                "website: 'https://example.com/htx'}\naddress: Ấp 3, xã Mẫu; huyện Cũ, tỉnh Cà Mau")
    run = make_site({"facilities/htx-mau.md": facility}, with_facility=False)
    assert run.code == 0, run.err
    raw = (run.site / "facilities/htx-mau/htx-mau.vcf").read_bytes()
    assert all(len(line) <= 75 for line in raw.split(b"\r\n")) and raw.endswith(b"END:VCARD\r\n")
    lines = unfold(raw.decode("utf-8"))
    assert lines[:2] == ["BEGIN:VCARD", "VERSION:3.0"] and "FN:HTX Mẫu" in lines
    assert "TEL;TYPE=WORK,VOICE:0900 000 001" in lines and "TEL;TYPE=CELL:0911 000 002" in lines
    assert "EMAIL;TYPE=INTERNET:a@example.com" in lines and "URL:https://example.com/htx" in lines
    assert r"ADR;TYPE=WORK:;;Ấp 3\, xã Mẫu\; huyện Cũ;;Cà Mau;;Việt Nam" in lines  # the province has its own field
    page = (run.site / "facilities/htx-mau/index.html").read_text(encoding="utf-8")
    assert 'href="../../facilities/htx-mau/htx-mau.vcf"' in page


def test_long_vcard_lines_fold_between_characters():
    from cnnt.site.vcard import _fold
    line = "NOTE:" + "Đặc sản " * 30
    folded = _fold(line)
    assert all(len(part.encode("utf-8")) <= 75 for part in folded.split("\r\n"))
    assert folded.replace("\r\n ", "") == line


# -- fairs -----------------------------------------------------------------------------------------

def test_fairs_listed_on_home_fairs_page_and_facility(sample_site):
    home = (sample_site / "index.html").read_text(encoding="utf-8")
    assert "Hội chợ sắp diễn ra" in home and "fairs/hoi-cho-cnnt-ca-mau-2026/" in home
    assert "hoi-cho-khuyen-cong-lam-dong-2025" not in home  # past: not on the home page
    fairs = (sample_site / "fairs/index.html").read_text(encoding="utf-8")
    assert fairs.index("hoi-cho-cnnt-ca-mau-2026") < fairs.index("Hội chợ đã diễn ra") < fairs.index("hoi-cho-khuyen-cong-lam-dong-2025")
    fair = (sample_site / "fairs/hoi-cho-cnnt-ca-mau-2026/index.html").read_text(encoding="utf-8")
    assert "A01" in fair and "products/kho-muc-my-thuyen/" in fair and "fairs/hoi-cho-cnnt-ca-mau-2026/cards/" in fair
    english = (sample_site / "en/fairs/hoi-cho-cnnt-ca-mau-2026/index.html").read_text(encoding="utf-8")
    assert "Ca Mau Typical Rural-Industry Products Fair 2026" in english and "10 Dec 2026" in english
    facility = (sample_site / "facilities/my-thuyen/index.html").read_text(encoding="utf-8")
    assert "Gian hàng A01" in facility


# -- printed booth cards, decoded --------------------------------------------------------------------

def printed_codes(page, url: str) -> list[list[str]]:
    """Print a page to an A4 PDF in Chromium, rasterise each sheet at 300 dpi, decode every QR code."""
    page.goto(url)
    page.emulate_media(media="print")
    pdf = pypdfium2.PdfDocument(page.pdf(format="A4", print_background=True))
    return [decode_all(sheet.render(scale=300 / 72).to_pil()) for sheet in pdf]


@pytest.mark.parametrize("path,cards", [("cards/my-thuyen/", 3), ("fairs/hoi-cho-cnnt-ca-mau-2026/cards/", None)])
def test_booth_cards_print_and_every_code_decodes_to_a_built_page(browser, server, sample_site, path, cards):
    context = browser.new_context()
    try:
        page = context.new_page()
        sheets = printed_codes(page, server + path)
        expected = page.locator(".booth-card").count()
        decoded = [url for sheet in sheets for url in sheet]
        assert len(decoded) == expected and (cards is None or expected == cards), (len(decoded), expected)
        assert all(len(sheet) <= 8 for sheet in sheets)  # 2 × 4 cards on an A4 sheet
        for url in decoded:
            assert page_of(sample_site, url).is_file(), url
        if cards is None:
            assert len(sheets) > 1  # the fair's cards run over several sheets
    finally:
        context.close()


def test_on_page_svg_code_decodes_on_screen(visit, server, sample_site):
    page = visit(1280, 900)
    page.goto(server + "en/products/kho-muc-my-thuyen/")
    code = page.locator(".qr img")
    code.scroll_into_view_if_needed()
    shot = Image.open(io.BytesIO(code.screenshot()))
    assert decode_all(shot) == [BASE_URL + "en/products/kho-muc-my-thuyen/"]


def test_product_page_opened_by_a_code_shows_name_award_and_call_without_scrolling(visit, server):
    page = visit(360, 640)
    page.goto(server + "products/kho-muc-my-thuyen/")
    for locator in (page.locator("h1"), page.locator(".entry-head .badge"), page.locator(".entry-head .call").first,
                    page.locator(".entry-head .zalo").first):
        box = locator.bounding_box()
        assert box and box["y"] >= 0 and box["y"] + box["height"] <= 640, (locator, box)
    assert page.evaluate("window.scrollY") == 0


@pytest.mark.parametrize("path", ["fairs/", "fairs/hoi-cho-cnnt-ca-mau-2026/", "en/fairs/hoi-cho-cnnt-ca-mau-2026/cards/",
                                  "cards/my-thuyen/"])
def test_fair_and_card_pages_work_on_a_phone(visit, server, path):
    from test_e2e import check_accessible
    page = visit(360, 640)
    page.goto(server + path)
    check_accessible(page)


def test_codes_are_read_when_asked_and_a_damaged_row_is_made_again(tmp_path, monkeypatch):
    """The build holds no code in memory: each is read from the cache when a page asks, checked
    against its digest, and made there and then if the row is wrong or the file unreadable."""
    cache = tmp_path / "qr.sqlite"
    a, b = BASE_URL + "a/", BASE_URL + "b/"
    codes = qr.codes_for([a, b], cache, jobs=1)
    assert isinstance(codes, qr.CodeStore) and set(codes) == {a, b} and a in codes and BASE_URL + "c/" not in codes
    with pytest.raises(KeyError):
        codes[BASE_URL + "c/"]
    made = []
    monkeypatch.setattr(qr, "make_code", lambda url: made.append(url) or MAKE_CODE(url))
    assert decode_all(Image.open(io.BytesIO(codes[a].png))) == [a] and made == []
    import sqlite3
    db = sqlite3.connect(cache)  # b's images put in a's row, as a hand edit or a bad disk would
    db.execute("UPDATE codes SET svg = (SELECT svg FROM codes WHERE url = ?), png = (SELECT png FROM codes WHERE url = ?) "
               "WHERE url = ?", (b, b, a))
    db.commit()
    db.close()
    assert decode_all(Image.open(io.BytesIO(codes[a].png))) == [a] and made == [a]
    cache.write_bytes(b"not a database" * 100)  # replaced under a running build
    fresh = qr.CodeStore(cache, frozenset([b]))
    assert decode_all(Image.open(io.BytesIO(fresh[b].png))) == [b] and made == [a, b]


MAKE_CODE = qr.make_code
SHARED: dict[str, qr.CodeStore] = {}  # what forked workers inherit, as render workers inherit the renderer


def read_in_worker(url: str) -> bytes:
    return SHARED["codes"][url].png


def test_forked_workers_read_codes_on_their_own_connection(tmp_path):
    import multiprocessing
    urls = [BASE_URL + f"p{n}/" for n in range(20)]
    codes = qr.codes_for(urls, tmp_path / "qr.sqlite", jobs=1)
    before = codes[urls[0]].png  # the parent's connection is open when the workers are forked
    SHARED["codes"] = codes
    with multiprocessing.get_context("fork").Pool(2) as pool:
        pngs = pool.map(read_in_worker, urls)
    assert pngs[0] == before and codes[urls[0]].png == before
    assert [decode_all(Image.open(io.BytesIO(png))) for png in pngs] == [[url] for url in urls]
