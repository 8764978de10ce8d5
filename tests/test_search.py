"""Search: the shared folding vectors, the index the build writes, and the search page in Chromium."""
from __future__ import annotations

import json
import re
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from conftest import ROOT

from cnnt.content.text import fold, place_name, search_words, sort_key
from cnnt.site.search import province_text, shard_key

VECTORS = json.loads((Path(__file__).parent / "fold_vectors.json").read_text(encoding="utf-8"))["vectors"]


# -- folding: Python and JavaScript give the same answers ------------------------------------------

@pytest.mark.parametrize("vector", VECTORS, ids=lambda v: repr(v["text"])[:30])
def test_python_folding_vectors(vector):
    assert fold(vector["text"]) == vector["fold"]
    assert search_words(vector["text"]) == vector["words"]


def test_javascript_folding_vectors(visit, server):
    page = visit()
    page.goto(server + "search/")
    got = page.evaluate("vs => vs.map(v => [CNNTSearch.fold(v.text), CNNTSearch.words(v.text)])", VECTORS)
    assert got == [[v["fold"], v["words"]] for v in VECTORS]


# -- the index -------------------------------------------------------------------------------------

def search_data(site: Path, lang: str, kind: str = "data") -> dict:
    (path,) = (site / "search").glob(f"{kind}-{lang}-*.json")
    return json.loads(path.read_text(encoding="utf-8"))


def test_index_counts_former_provinces_under_current_units_and_only_valid_awards(sample_site):
    data = search_data(sample_site, "vi")
    assert len(data["provinces"]) == 34
    rows = {row[0]: row for row in data["products"]}
    facilities = {f[0]: f for f in data["facilities"]}
    # Công Thành Tâm is filed under Sóc Trăng, now part of Cần Thơ
    assert data["provinces"][facilities["cong-thanh-tam"][2]][0] == "can-tho"
    # Khô mực Mỹ Thuyền: national award in force, an expired provincial one beside it
    assert data["levels"][rows["kho-muc-my-thuyen"][4]][0] == "national"
    assert all(row[4] == -1 or 0 <= row[4] < 4 for row in rows.values())
    # a certification filter is offered only for schemes some product holds in force: VietGAP's one
    # certificate has expired, HACCP has one in force beside an expired one
    schemes = [code for code, _ in data["certifications"]]
    assert "haccp" in schemes and "vietgap" not in schemes
    assert all(any(schemes.index(code) in row[-2] for row in rows.values()) for code in schemes)
    # names are listed in Vietnamese alphabetical order, so sorting by name costs nothing
    names = [row[1] for row in data["products"]]
    assert names.index("Đũa tre Mai Châu") > names.index("Cà phê hạt Robusta Di Linh")
    assert names.index("Đũa tre Mai Châu") < names.index("Giỏ mây đựng đồ")


def test_english_index_has_english_names_and_vietnamese_fallbacks(sample_site):
    rows = {row[0]: row for row in search_data(sample_site, "en")["products"]}
    assert rows["kho-muc-my-thuyen"][1:3] == ["My Thuyen dried squid", "Khô mực Mỹ Thuyền"]
    assert rows["muoi-tom-tan-phat-loi"][1:3] == ["Muối tôm", ""]  # not translated: the Vietnamese name, once


def test_description_words_are_indexed_with_gaps(sample_site):
    data, text = search_data(sample_site, "vi"), search_data(sample_site, "vi", "text")
    assert text["words"] == sorted(text["words"])
    postings = {}
    for word, gaps in zip(text["words"], text["ids"]):
        numbers = [sum(gaps[: i + 1]) for i in range(len(gaps))]
        assert numbers == sorted(set(numbers)) and numbers[-1] < len(data["products"])
        postings[word] = {data["products"][n][0] for n in numbers}
    # "trắng ngà" is in the description of Khô mực Mỹ Thuyền
    assert postings["trang"] >= {"kho-muc-my-thuyen"} and "kho-muc-my-thuyen" in postings["ngà".replace("à", "a")]
    assert not set(text["common"]) & set(postings)


def unpack(shard: dict) -> list[list]:
    """A shard's rows as [position in data, product row, facility row], as search.js reads them."""
    rows, number = [], 0
    for gap, product in zip(shard["i"], shard["p"]):
        number += gap
        rows.append([number, product, shard["f"][product[3]]])
    return rows


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_head_answers_the_empty_query_and_each_shard_holds_its_words(sample_site, lang):
    head, data = search_data(sample_site, lang, "head"), search_data(sample_site, lang)
    rows = [[number, row, data["facilities"][row[3]]] for number, row in enumerate(data["products"])]
    assert head["total"] == len(rows) and head["first"] == rows[:30]
    for name in ("levels", "provinces", "groups", "markets", "channels"):
        assert head[name] == data[name]
    # the empty query's counts, worked out again from the whole data
    provinces = [0] * len(data["provinces"])
    for row in data["products"]:
        provinces[data["facilities"][row[3]][2]] += 1
    assert head["counts"][3] == provinces and sum(head["counts"][4]) == len(rows)
    assert all(path for path, _ in head["shards"].values()), "a catalogue this small has no prefix too common"
    shards = {key: unpack(json.loads((sample_site / "search" / path).read_text(encoding="utf-8")))
              for key, (path, _) in head["shards"].items()}
    assert all(len(shards[key]) == size for key, (_, size) in head["shards"].items())
    def searched(row: list) -> set[str]:  # the words of its name, other name, facility, tags and province
        texts = (row[1][1], row[1][2], row[2][1], row[1][8], province_text(data["provinces"][row[2][2]], *row[2][4:]))
        return {word for text in texts for word in search_words(text)}

    for row in rows:
        for word in searched(row):  # every product is in the shard of each word a buyer may find it by
            found = {number: (product, facility) for number, product, facility in shards[shard_key(word)]}
            product, facility = found[row[0]]
            assert product[:3] + product[4:] == row[1][:3] + row[1][4:] and facility == row[2], (word, row[1][0])
    for key, found in shards.items():  # and only there
        for row in found:
            assert any(shard_key(word) == key for word in searched(row))


def test_a_province_is_searched_by_the_other_names_buyers_use():
    """"Daklak coffee", "Saigon", "TPHCM", "Hanoi" on the Vietnamese pages: the vocabulary's other
    spellings and the English name are searched; "Thành phố …" is not (every city's products would
    share the shards of "thanh" and "pho"), nor a name that is the code's words again."""
    from cnnt.content.vocab import load_vocabularies
    from cnnt.site.search import _province_term
    provinces = {term.code: term for term in load_vocabularies().provinces}
    assert _province_term(provinces["dak-lak"], "en") == ["dak-lak", "Dak Lak", "Đắc Lắc Daklak"]
    assert _province_term(provinces["ho-chi-minh"], "en") == ["ho-chi-minh", "Ho Chi Minh City", "TPHCM TP.HCM HCM Sài Gòn Saigon"]
    assert _province_term(provinces["ha-noi"], "vi") == ["ha-noi", "Hà Nội", "Hanoi"]
    assert _province_term(provinces["ha-noi"], "en") == ["ha-noi", "Hanoi"]
    assert _province_term(provinces["ca-mau"], "vi") == ["ca-mau", "Cà Mau"]
    assert {"sai", "gon", "saigon", "tphcm", "hcm", "city"} <= set(search_words(province_text(
        _province_term(provinces["ho-chi-minh"], "vi"))))
    assert set(search_words(province_text(_province_term(provinces["ha-noi"], "vi")))) == {"ha", "noi", "hanoi"}


def test_service_worker_precaches_search_pages_and_data(sample_site):
    worker = (sample_site / "sw.js").read_text()
    precache = json.loads(worker.split("const PRECACHE = ", 1)[1].split(";\n", 1)[0])
    assert {"search/", "en/search/", "static/search.js", "static/style.css"} <= set(precache)
    for path in precache:
        assert (sample_site / path / ("index.html" if path.endswith("/") else "")).is_file(), path


# -- the page --------------------------------------------------------------------------------------

def results(page) -> list[str]:
    return page.locator("[data-results] .result-title").all_inner_texts()


def type_query(page, text: str) -> None:
    box = page.get_by_label("Tìm sản phẩm, cơ sở, từ khoá")
    box.fill("")
    box.press_sequentially(text)


def open_filters(page) -> None:
    """On a phone the filters wait behind their button: open the panel (a wide screen shows them)."""
    toggle = page.locator("[data-filters-toggle]")
    if toggle.is_visible() and toggle.get_attribute("aria-expanded") == "false":
        toggle.click()


def facet(page, legend: str, option: str):
    open_filters(page)
    return page.locator("fieldset", has_text=legend).get_by_role("checkbox", name=option)


def facet_count(page, legend: str, option: str) -> int:
    open_filters(page)
    label = page.locator("fieldset", has_text=legend).locator("label", has_text=option)
    return int(label.locator(".facet-count").text_content())


@pytest.mark.parametrize("query,expected", [
    ("dua tre", "Đũa tre Mai Châu"),
    ("vinh hoa phat", "Bánh phồng tôm Vĩnh Hoà Phát"),
    ("Vĩnh Hòa Phát", "Bánh phồng tôm Vĩnh Hoà Phát"),
    ("banh phong", "Bánh phồng tôm Vĩnh Hoà Phát"),
    ("DI LINH", "Cà phê Arabica rang xay Di Linh Xanh"),
])
def test_typing_without_marks_finds_products(visit, server, query, expected):
    page = visit()
    page.goto(server + "search/")
    type_query(page, query)
    page.wait_for_function("t => [...document.querySelectorAll('.result-title')].some(a => a.textContent === t)",
                           arg=expected)
    # a thumbnail, the facility, the province and the badge come with each result
    result = page.locator(".result", has=page.get_by_role("link", name=expected, exact=True))
    assert result.locator("img").count() == 1 and result.locator(".badge").count() == 1
    assert "·" in result.locator(".result-meta").inner_text()
    page.wait_for_function("q => new URLSearchParams(location.search).get('q') === q", arg=query)


def test_prefix_matching_and_ranking(visit, server):
    page = visit()
    page.goto(server + "search/")
    type_query(page, "banh p")  # still typing "bánh phồng" / "bánh pía"
    page.wait_for_function("document.querySelectorAll('.result-title').length >= 3")
    found = results(page)
    assert {"Bánh phồng tôm Vĩnh Hoà Phát", "Bánh phồng tôm Tân Phát Lợi", "Bánh pía sầu riêng trứng muối"} <= set(found)
    # a product named after the query ranks above one that only mentions it elsewhere
    type_query(page, "tom")
    page.wait_for_function("document.querySelectorAll('.result-title').length > 3")
    found = results(page)
    named = [i for i, name in enumerate(found) if "tôm" in name.lower()]
    unnamed = [i for i, name in enumerate(found) if "tôm" not in name.lower()]
    assert named and (not unnamed or max(named) < min(unnamed)), found


def test_exact_marks_rank_above_folded_matches(visit, server):
    """Without marks, "ca" matches "Cà phê…" and "Mắm cá lóc" alike (the coffee first: equal matches
    come by award level, then in alphabetical order); the marks typed lift the products that have them
    exactly."""
    page = visit()
    page.goto(server + "search/")
    page.wait_for_selector(".search-complete")  # descriptions too: they add matches such as "Tôm khô…"
    type_query(page, "ca")
    page.wait_for_function("document.querySelector('.result-title')?.textContent === 'Cà phê Arabica rang xay Di Linh Xanh'")
    plain = results(page)
    assert plain.index("Cà phê hạt Robusta Di Linh") < plain.index("Mắm cá lóc")
    type_query(page, "cà")
    page.wait_for_function("document.querySelector('.result-title')?.textContent.startsWith('Cà phê')")
    type_query(page, "cá")
    page.wait_for_function("document.querySelector('.result-title')?.textContent === 'Nước mắm cá cơm 40 độ đạm'")
    marked = results(page)
    assert marked.index("Mắm cá lóc") < marked.index("Cà phê hạt Robusta Di Linh")
    assert set(marked) == set(plain)  # folded matches are still listed, below


def test_equal_matches_come_by_award_level_then_by_name(visit, server):
    """"cà phê" is the start of three names: the national award first, then the regional, then the
    provincial (alphabetical order would put "hạt Robusta" before "rang xay Đắk Mil"); the product
    that has the words only in its description comes last. With no query, and when sorted by name,
    the order is alphabetical, as the head's first page (made by the build) has it."""
    page = visit()
    page.goto(server + "search/")
    page.wait_for_selector(".search-complete")
    type_query(page, "cà phê")
    page.wait_for_function("document.querySelectorAll('.result-title').length === 4")
    assert results(page) == ["Cà phê Arabica rang xay Di Linh Xanh", "Cà phê rang xay Đắk Mil",
                             "Cà phê hạt Robusta Di Linh", "Máy cho tôm ăn tự động"]
    page.select_option("select[name=sort]", "name")
    page.wait_for_function("document.querySelector('.result-title')?.textContent === 'Cà phê Arabica rang xay Di Linh Xanh'"
                           " && document.querySelectorAll('.result-title')[1].textContent === 'Cà phê hạt Robusta Di Linh'")
    assert results(page)[:3] == ["Cà phê Arabica rang xay Di Linh Xanh", "Cà phê hạt Robusta Di Linh",
                                 "Cà phê rang xay Đắk Mil"]
    page.select_option("select[name=sort]", "relevance")
    type_query(page, "")
    page.wait_for_function("document.querySelectorAll('.result-title').length > 20")
    names = results(page)
    assert names == sorted(names, key=sort_key)


def test_a_whole_word_ranks_above_the_start_of_a_longer_one(visit, server):
    """"trà" (tea) is a whole word of "Hồng trà Suối Giàng" and only the start of "Tràng" in "Bình gốm
    men lam Bát Tràng" (pottery), which comes first in alphabetical order: the tea ranks first, with
    marks or without, and the pottery is still listed (the buyer may be typing "Tràng")."""
    page = visit()
    page.goto(server + "search/")
    page.wait_for_selector(".search-complete")
    for query in ("trà", "tra"):
        type_query(page, query)
        page.wait_for_function("document.querySelector('.result-title')?.textContent === 'Hồng trà Suối Giàng'")
        assert "Bình gốm men lam Bát Tràng" in results(page)
    type_query(page, "tràng")  # the whole word now: the pottery first
    page.wait_for_function("document.querySelector('.result-title')?.textContent === 'Bình gốm men lam Bát Tràng'")


@pytest.mark.parametrize("lang,query", [("vi", "ha noi"), ("vi", "Hà Nội"), ("vi", "hanoi"), ("en", "hanoi"),
                                        ("en", "ha noi")])
def test_a_province_is_searched_as_buyers_write_it(browser, server, sample_site, lang, query):
    """"Gốm Hà Nội", "cà phê Lâm Đồng": buyers name the place. A province's name (in the page's
    language) and its code's words find its facilities' products, with the first results from a shard
    as after the whole index (held back here, then let through), and beside a product word narrow."""
    data = search_data(sample_site, lang)
    ha_noi = [term[0] for term in data["provinces"]].index("ha-noi")
    expected = {row[1] for row in data["products"] if data["facilities"][row[3]][2] == ha_noi}
    assert 1 < len(expected) < len(data["products"])
    with shard_then_index(browser, server, lang, query) as (page, from_shard):
        assert set(from_shard) == expected
        assert set(results(page)) == expected
        page.locator("#search-q").fill("")
        page.locator("#search-q").press_sequentially("gom " + query)
        vase = "Bình gốm men lam Bát Tràng" if lang == "vi" else "Bat Trang blue-glaze vase"
        page.wait_for_function("t => document.querySelector('.result-title')?.textContent === t", arg=vase)
        assert set(results(page)) < expected


@pytest.mark.parametrize("lang,query", [("vi", "Bình Thuận"), ("vi", "binh thuan"), ("en", "binh thuan")])
def test_a_former_province_finds_the_facilities_that_wrote_it(browser, server, sample_site, lang, query):
    """Buyers still name the 63 provinces ("nước mắm Bình Thuận", "kẹo dừa Bến Tre"). A facility that
    wrote a former province is found by it, and only such a facility: Bình Thuận is now part of Lâm
    Đồng, whose other facilities (Đà Lạt's coffee) are not Bình Thuận's. The result says so."""
    data = search_data(sample_site, lang)
    lam_dong = [term[0] for term in data["provinces"]].index("lam-dong")
    in_lam_dong = {row[1] for row in data["products"] if data["facilities"][row[3]][2] == lam_dong}
    expected = {row[1] for row in data["products"] if data["facilities"][row[3]][4:] == [place_name("Bình Thuận", lang)]}
    assert expected and expected < in_lam_dong
    with shard_then_index(browser, server, lang, query) as (page, from_shard):
        assert set(from_shard) == expected
        assert set(results(page)) == expected
        formerly = "trước đây là Bình Thuận" if lang == "vi" else "formerly Binh Thuan"
        assert all(meta.endswith(f"Lâm Đồng ({formerly})" if lang == "vi" else f"Lam Dong ({formerly})")
                   for meta in page.locator("[data-results] .result-meta").all_inner_texts())
        page.locator("#search-q").fill("")
        page.locator("#search-q").press_sequentially("lam dong")  # the province now: every one of its facilities
        page.wait_for_function("ts => { const shown = [...document.querySelectorAll('.result-title')].map(a => a.textContent);"
                               " return ts.every(t => shown.includes(t)); }", arg=sorted(in_lam_dong))


@contextmanager
def shard_then_index(browser, server: str, lang: str, query: str):
    """The search page opened with `query`: yields the page and the results its first shard gave,
    found while the whole index was held back; the page has the whole index by then."""
    context = browser.new_context(service_workers="block")
    page = context.new_page()
    held: list = []
    whole_index = re.compile(r".*/search/(data|text)-.*\.json$")
    page.route(whole_index, lambda route: held.append(route))
    prefix = "" if lang == "vi" else "en/"
    try:
        page.goto(server + f"{prefix}search/?q=" + query.replace(" ", "+"))
        page.wait_for_selector(".search-ready .result-title")
        from_shard = results(page)
        page.unroute(whole_index)  # lets the held requests through, and the descriptions' index after them
        held.clear()
        page.wait_for_selector(".search-complete")
        yield page, from_shard
    finally:
        while held:
            held.pop().continue_()
        context.close()


def test_descriptions_are_searched_after_names(visit, server):
    """"trắng ngà" (ivory white) is in one description, in no name, facility or tag: it is found, and
    first, as both words are whole words there. Two others have one whole word and the start of
    the other: "trang trí" and "ngày" in a description, or "Sóc Trăng", the province its facility
    wrote, and "ngày"; the province, as in every field, counts more than the description."""
    page = visit()
    page.goto(server + "search/")
    page.wait_for_selector(".search-complete")
    expected = ["Khô mực Mỹ Thuyền", "Lạp xưởng tôm Vĩnh Châu", "Bình mây tre đan Phú Vinh"]
    for query in ("trang nga", "trắng ngà"):
        type_query(page, query)
        page.wait_for_function("e => JSON.stringify([...document.querySelectorAll('.result-title')]"
                               ".map(a => a.textContent)) === JSON.stringify(e)", arg=expected)


def test_facets_count_live_and_combine(visit, server):
    page = visit(1280, 900)
    page.goto(server + "search/")
    page.wait_for_selector(".search-ready")
    total = len(page.locator(".result").all()) if page.locator("[data-more]").is_hidden() else None
    national = facet_count(page, "Cấp công nhận", "Cấp quốc gia")
    assert national > 0
    facet(page, "Cấp công nhận", "Cấp quốc gia").check()
    page.wait_for_function("n => document.querySelectorAll('.result').length === n", arg=national)
    # OR within a facet: adding the regional level adds its products
    regional = facet_count(page, "Cấp công nhận", "Cấp khu vực")
    facet(page, "Cấp công nhận", "Cấp khu vực").check()
    page.wait_for_function("n => document.querySelectorAll('.result').length === n", arg=national + regional)
    # AND across facets: province counts reflect the chosen levels, and empty values fold away, after
    # the values that have results
    ca_mau = facet_count(page, "Tỉnh, thành phố", "Cà Mau")
    assert 0 < ca_mau < national + regional
    ha_tinh = facet(page, "Tỉnh, thành phố", "Hà Tĩnh")
    assert ha_tinh.is_hidden() and facet_count(page, "Tỉnh, thành phố", "Hà Tĩnh") == 0
    shown = page.locator("[data-facet=province] label").evaluate_all(
        "labels => labels.map(l => [l.hidden, +l.querySelector('.facet-count').textContent])")
    assert shown == sorted(shown, key=lambda row: row[0]) and all(count > 0 for hidden, count in shown if not hidden)
    facet(page, "Tỉnh, thành phố", "Cà Mau").check()
    page.wait_for_function("n => document.querySelectorAll('.result').length === n", arg=ca_mau)
    # the level counts now reflect the province, not the levels chosen
    assert facet_count(page, "Cấp công nhận", "Cấp quốc gia") + facet_count(page, "Cấp công nhận", "Cấp khu vực") == ca_mau
    # the query narrows every count
    type_query(page, "kho muc")
    page.wait_for_function("document.querySelectorAll('.result').length === 1")
    assert facet_count(page, "Cấp công nhận", "Cấp quốc gia") == 1
    query = parse_qs(urlsplit(page.url).query)
    assert query["level"] == ["national", "regional"] and query["province"] == ["ca-mau"]
    assert total is None or total > national


def test_state_in_the_url_restores_the_view_and_back_button(visit, server):
    page = visit()
    page.goto(server + "search/?q=ca%20phe&group=food&sort=name")
    page.wait_for_selector(".search-complete")  # the list compared below is the final one
    assert page.get_by_label("Tìm sản phẩm, cơ sở, từ khoá").input_value() == "ca phe"
    assert facet(page, "Nhóm sản phẩm", "Thực phẩm").is_checked()
    assert page.get_by_label("Sắp xếp").input_value() == "name"
    found = results(page)
    assert found == sorted(found, key=lambda n: __import__("cnnt.content.text", fromlist=["sort_key"]).sort_key(n)) and found
    facet(page, "Thị trường xuất khẩu", "Hàn Quốc").check()
    assert "market=KR" in page.url
    page.go_back()
    page.wait_for_function("!location.search.includes('market=')")
    page.wait_for_function("() => !document.querySelector('input[name=market][value=KR]').checked")
    assert results(page) == found


def test_english_search_finds_english_and_vietnamese_names(visit, server):
    page = visit()
    page.goto(server + "en/search/")
    box = page.get_by_label("Search products, facilities, keywords")
    box.press_sequentially("squid")
    page.wait_for_function("document.querySelector('.result-title')?.textContent === 'My Thuyen dried squid'")
    box.fill("")
    box.press_sequentially("kho muc")
    page.wait_for_function("document.querySelector('.result-title')?.textContent === 'My Thuyen dried squid'")
    href = page.get_by_role("link", name="My Thuyen dried squid").get_attribute("href")
    page.get_by_role("link", name="My Thuyen dried squid").click()
    assert page.url.endswith("/en/products/kho-muc-my-thuyen/"), href


def test_header_search_box_leads_to_search_and_keyboard_works(visit, server):
    page = visit()
    page.goto(server + "awards/")
    page.get_by_role("search").get_by_label("Tìm sản phẩm, cơ sở, từ khoá").fill("nuoc mam")
    page.keyboard.press("Enter")
    page.wait_for_url("**/search/?q=nuoc+mam")
    page.wait_for_function("document.querySelectorAll('.result-title').length > 0")
    assert all("Nước mắm" in name or "nước mắm" in name.lower() for name in results(page)[:1])
    status = page.locator("[role=status]")
    assert status.get_attribute("aria-live") == "polite" and "sản phẩm" in status.inner_text()
    # keyboard: Tab from the query reaches the sort menu, then the filters button; Enter opens the
    # panel, Tab reaches a facet; Escape closes it and gives focus back; focus is visible
    page.get_by_label("Tìm sản phẩm, cơ sở, từ khoá").focus()
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "search-sort"
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.getAttribute('aria-controls')") == "search-filters"
    page.keyboard.press("Enter")
    assert page.locator("#search-filters").is_visible()
    page.keyboard.press("Tab")
    focused = page.evaluate("document.activeElement.name")
    assert focused == "level"
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline != "none"
    page.keyboard.press("Escape")
    assert page.locator("#search-filters").is_hidden()
    assert page.evaluate("document.activeElement.getAttribute('aria-controls')") == "search-filters"


def test_search_works_offline_after_one_visit(browser, server):
    context = browser.new_context()
    try:
        page = context.new_page()
        page.goto(server + "search/")
        page.wait_for_selector(".search-ready")
        page.evaluate("navigator.serviceWorker.ready.then(() => true)")
        page.wait_for_function("caches.keys().then(k => k.length > 0)")
        context.set_offline(True)
        page.goto(server + "en/search/?q=coffee")  # never opened online: precached
        page.wait_for_selector(".search-ready")
        page.wait_for_function("document.querySelectorAll('.result-title').length > 0")
        assert any("Coffee" in name or "coffee" in name for name in results(page))
        page.goto(server + "search/?q=dua%20tre")
        page.wait_for_function("document.querySelector('.result-title')?.textContent === 'Đũa tre Mai Châu'")
    finally:
        context.close()


def test_without_javascript_the_search_falls_back_to_listings(browser, server):
    context = browser.new_context(java_script_enabled=False)
    try:
        page = context.new_page()
        page.goto(server + "products/kho-muc-my-thuyen/")
        page.get_by_role("search").get_by_label("Tìm sản phẩm, cơ sở, từ khoá").fill("kho muc")
        page.get_by_role("search").get_by_role("button").click()
        page.wait_for_url("**/search/?q=kho+muc")
        page.get_by_role("link", name="Sản phẩm từ A đến Z").click()
        assert page.url.endswith("/a-z/")
    finally:
        context.close()


def test_hostile_names_show_as_text_in_results(make_site, browser):
    from browser import serve_folder
    from test_build import XSS
    run = make_site({"products/xss.md": XSS})
    assert run.code == 0, run.err
    context = browser.new_context(service_workers="block")
    try:
        page = context.new_page()
        dialogs = []
        page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
        with serve_folder(run.site) as address:
            page.goto(address + "search/?q=script")
            page.wait_for_function("document.querySelectorAll('.result-title').length === 1")
            assert results(page) == ["<script>alert('name')</script>"]
            page.wait_for_timeout(200)
        assert dialogs == [] and page.locator(".result script").count() == 0
    finally:
        context.close()


@pytest.mark.parametrize("width,height", [(360, 640), (1280, 900)])
def test_search_page_is_accessible(visit, server, width, height):
    from test_e2e import check_accessible
    page = visit(width, height)
    page.goto(server + "search/?q=tre")
    page.wait_for_selector(".search-ready")
    check_accessible(page)
    unlabelled = page.eval_on_selector_all(
        "input:not([type=hidden]), select", "els => els.filter(e => !e.labels || !e.labels.length).length")
    assert unlabelled == 0


def test_on_a_phone_results_come_first_and_filters_open_in_a_panel(visit, server):
    page = visit(360, 640)
    page.goto(server + "search/")
    page.wait_for_selector(".search-ready .result")
    first = page.locator(".result").first.bounding_box()
    assert first["y"] + first["height"] < 640  # a result on the first screen, no scrolling
    assert page.locator("#search-filters").is_hidden()
    toggle = page.locator("[data-filters-toggle]")
    assert toggle.get_attribute("aria-expanded") == "false" and page.locator("[data-active]").is_hidden()
    toggle.click()
    assert toggle.get_attribute("aria-expanded") == "true" and page.locator("#search-filters").is_visible()
    facet(page, "Sao OCOP", "4 ★").check()
    facet(page, "Tỉnh, thành phố", "Cà Mau").check()
    done = page.locator("[data-filters-done]")
    page.wait_for_function("document.querySelector('[data-filters-done]').textContent.includes('(')")
    count = len(page.locator(".result").all())
    assert done.inner_text() == f"Xem kết quả ({count})"
    done.click()
    assert page.locator("#search-filters").is_hidden() and page.locator("[data-active]").inner_text() == "2 đang chọn"
    page.locator("[data-filters-toggle]").click()
    page.locator("[data-filters-clear]").click()
    page.wait_for_function("!location.search.includes('ocop')")
    assert page.locator("[data-active]").is_hidden() and page.locator("[data-filters-clear]").is_hidden()


@pytest.mark.parametrize("facet_name, option, check", [
    ("Sao OCOP", "5 ★", lambda text: "ocop" in text),
    ("Chứng nhận", "HACCP", lambda text: "haccp" in text),
    ("Loại hình cơ sở", "Hợp tác xã", lambda text: "cooperative" in text),
    ("Nơi bán trong nước", "Co.opmart", lambda text: "Co.opmart" in text),
])
def test_the_filters_buyers_ask_for(visit, server, sample_site, facet_name, option, check):
    """OCOP stars, certifications in force, the kind of maker and where to buy: each filter keeps
    exactly the products whose entries say so."""
    page = visit(1280, 900)
    page.goto(server + "search/")
    page.wait_for_selector(".search-ready")
    expected = facet_count(page, facet_name, option)
    assert expected > 0
    facet(page, facet_name, option).check()
    page.wait_for_function("n => document.querySelectorAll('.result').length === n", arg=expected)
    for href in page.locator(".result-title").evaluate_all("links => links.map(a => a.getAttribute('href'))"):
        slug = href.rstrip("/").rsplit("/", 1)[-1]
        files = [p for p in (ROOT / "content/products").glob(f"{slug}*") if not p.name.endswith(".en.md")]
        entry = (files[0] / "index.md" if files[0].is_dir() else files[0]).read_text(encoding="utf-8")
        if facet_name == "Loại hình cơ sở":
            facility = re.search(r"^facility: (\S+)", entry, re.M).group(1)
            folder = ROOT / "content/facilities"
            found = list(folder.glob(f"{facility}.md")) + list(folder.glob(f"{facility}/index.md"))
            entry = found[0].read_text(encoding="utf-8")
        assert check(entry), slug


def test_first_results_need_neither_the_whole_index_nor_the_descriptions(browser, server):
    """A query is answered from its most selective word's shard, the empty query from the head; the
    whole index, held back here, then takes over with the same answers."""
    context = browser.new_context(service_workers="block")
    page = context.new_page()
    held: list = []
    page.route(re.compile(r".*/search/(data|text)-.*\.json$"), lambda route: held.append(route))
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    try:
        page.goto(server + "search/?q=dua+tre")
        page.wait_for_selector(".search-ready .result-title")
        # (then the coconut candy of a facility that wrote Bến Tre: "dừa" and "Tre" begin so)
        assert results(page)[0] == "Đũa tre Mai Châu" and set(results(page)[1:]) == {"Kẹo dừa Thanh Long", "Kẹo dừa sầu riêng"}
        shards = [url.rsplit("/", 1)[1] for url in requested if "/search/shard-" in url]
        assert len(shards) == 1 and shards[0].startswith(("shard-vi-dua-", "shard-vi-tre-")), shards
        assert page.locator("[data-more]").is_hidden()

        page.goto(server + "search/")
        page.wait_for_selector(".search-ready .result-title")
        early = {"results": results(page), "status": page.locator("[data-status]").inner_text(),
                 "counts": page.eval_on_selector_all(".facet-count", "els => els.map(e => e.textContent)")}
        assert len(early["results"]) == 30 and "37" in early["status"]
        assert page.locator("[data-more]").is_hidden(), "more results once every product is here"
        page.evaluate("document.querySelector('.result').dataset.seen = 'early'")
        while held:
            held.pop().continue_()
        page.wait_for_selector("[data-more]:not([hidden])")
        # the same results stay the same elements: one being tapped is not swapped for its twin
        assert page.evaluate("document.querySelector('.result').dataset.seen") == "early"
        assert results(page) == early["results"] and page.locator("[data-status]").inner_text() == early["status"]
        assert page.eval_on_selector_all(".facet-count", "els => els.map(e => e.textContent)") == early["counts"]
        type_query(page, "dua tre")
        page.wait_for_function("() => document.querySelectorAll('.result-title').length === 3")
        assert results(page)[0] == "Đũa tre Mai Châu" and set(results(page)[1:]) == {"Kẹo dừa Thanh Long", "Kẹo dừa sầu riêng"}
    finally:
        while held:
            held.pop().continue_()
        context.close()


@pytest.mark.parametrize("address", ["search/", "search/?q=tre"])
def test_words_typed_before_the_search_is_ready_are_kept_and_searched(browser, server, address):
    """On weak mobile data the search's first file (the head) can come seconds after the page: what
    the buyer typed meanwhile stays in the box and is searched, and goes into the address (before, the
    box was emptied when the head came, or left with the address's old words)."""
    context = browser.new_context(service_workers="block")
    page = context.new_page()
    held: list = []
    page.route(re.compile(r".*/search/head-.*\.json$"), lambda route: held.append(route))
    try:
        page.goto(server + address)
        page.wait_for_function("() => window.CNNTSearch !== undefined")
        type_query(page, "vinh hoa phat")
        page.wait_for_timeout(100)
        assert held, "the head is held"
        while held:
            held.pop().continue_()
        page.wait_for_selector(".search-ready .result-title")
        page.wait_for_function("() => document.querySelector('.result-title').textContent === 'Bánh phồng tôm Vĩnh Hoà Phát'")
        assert "Đũa tre Mai Châu" not in results(page)  # (the address's words, or the empty query's)
        assert page.get_by_label("Tìm sản phẩm, cơ sở, từ khoá").input_value() == "vinh hoa phat"
        page.wait_for_function("() => new URLSearchParams(location.search).get('q') === 'vinh hoa phat'")
    finally:
        while held:
            held.pop().continue_()
        context.close()


@pytest.mark.parametrize("width", [360, 1280])
def test_search_page_does_not_shift_as_data_arrives(visit, server, width):
    page = visit(width, 800)
    page.add_init_script("""window.__shift = 0; new PerformanceObserver(list => { for (const e of list.getEntries())
        if (!e.hadRecentInput) window.__shift += e.value; }).observe({type: 'layout-shift', buffered: true});""")
    page.goto(server + "search/?province=ca-mau")
    page.wait_for_selector(".search-ready")
    page.wait_for_timeout(800)  # the description index arrives after the first results
    assert page.evaluate("window.__shift") == 0


def test_a_prefix_most_products_share_has_no_shard(monkeypatch):
    """"đặc sản" in every product's tags would make a shard as large as the whole index: the head
    names the prefix without a file, and search.js waits for the whole index for it."""
    import build as cli
    from cnnt.content.config import load_config
    from cnnt.content.vocab import load_vocabularies
    from cnnt.engine import pipeline
    from cnnt.site import search

    options = cli.options_from(cli.parse_args(["check", "--date", "2026-11-22"]))
    catalogue = pipeline.check(options)
    config = load_config(options.config_file, options.build_date, options.display_root)
    monkeypatch.setattr(search, "COMMON_SHARD_ROWS", 2)
    index = search.build_indexes(catalogue, load_vocabularies(), config, {})["vi"]
    head = json.loads(index.head.content())
    common = {key for key, (path, _) in head["shards"].items() if path is None}
    assert common, "some prefix is in more than a quarter of the 37 products"
    assert all(head["shards"][key][1] > len(catalogue.products) / 4 for key in common)
    written = {file.path.removeprefix("search/") for file in index.shards}
    assert written == {path for path, _ in head["shards"].values() if path}
