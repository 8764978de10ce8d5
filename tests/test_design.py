"""What a buyer sees, measured in Chromium at 360 and 1280 px: the product page in two columns on a
wide screen, the contact bar in reach on a phone, cards of equal height whose images fill them, a
menu that shows it goes on, the words of the reader's language."""
from __future__ import annotations

import re

from conftest import ROOT


def box(page, selector: str) -> dict:
    return page.locator(selector).first.bounding_box()


def test_product_page_is_two_columns_on_a_wide_screen(visit, server):
    page = visit(1280, 900)
    page.goto(server + "products/kho-muc-my-thuyen/")
    photo, title = box(page, ".entry > .photos"), box(page, ".entry-head h1")
    assert title["x"] > photo["x"] + photo["width"] - 1  # name, award and contact to the right of the photos
    assert abs(title["y"] - photo["y"]) < 60
    assert page.locator(".contact-bar").is_hidden()


def test_on_a_phone_calling_zalo_and_saving_stay_in_reach(visit, server):
    page = visit(360, 640)
    page.goto(server + "products/kho-muc-my-thuyen/")
    bar = page.locator(".contact-bar")
    assert bar.is_visible()
    before = bar.bounding_box()
    assert before["y"] + before["height"] == 640  # at the bottom of the screen
    page.mouse.wheel(0, 1500)
    page.wait_for_timeout(200)
    assert bar.bounding_box()["y"] == before["y"]  # still there after scrolling
    links = bar.locator("a").evaluate_all("links => links.map(a => a.getAttribute('href'))")
    assert links[0].startswith("tel:") and links[1].startswith("https://zalo.me/") and links[2].endswith(".vcf")
    # the page's end is not hidden behind the bar: scrolled to the bottom, the footer ends above it
    page.evaluate("window.scrollTo(0, document.documentElement.scrollHeight)")
    page.wait_for_timeout(200)
    footer = box(page, ".site-footer")
    assert footer["y"] + footer["height"] <= before["y"] + 1


def test_cards_have_equal_heights_and_images_fill_them(visit, server):
    page = visit(1280, 900)
    page.goto(server + "a-z/")
    rows: dict[int, list[dict]] = {}
    for card in page.locator(".card").all():
        b = card.bounding_box()
        rows.setdefault(round(b["y"]), []).append(b)
        image = card.locator("img").first.bounding_box()
        assert abs(image["width"] - b["width"]) <= 2, (b, image)  # the photo or placeholder spans the card
    assert any(len(row) > 1 for row in rows.values())
    for row in rows.values():
        assert max(b["height"] for b in row) - min(b["height"] for b in row) <= 1


def test_on_a_phone_the_menu_shows_it_goes_on(visit, server):
    page = visit(360, 640)
    page.goto(server + "")
    nav = page.locator(".main-nav")
    overflowing = nav.evaluate("n => n.scrollWidth > n.clientWidth")
    faded = nav.evaluate("n => getComputedStyle(n).maskImage || getComputedStyle(n).webkitMaskImage")
    assert overflowing and "gradient" in faded
    last = nav.locator("a").last
    last.scroll_into_view_if_needed()
    assert last.is_visible()


def test_units_and_words_in_the_reader_language(visit, server):
    page = visit(1280, 900)
    page.goto(server + "products/kho-muc-my-thuyen/")
    assert "120 tấn/năm" in page.locator(".facts").inner_text()
    page.goto(server + "en/products/kho-muc-my-thuyen/")
    facts = page.locator(".facts").inner_text()
    assert "120 t/year" in facts and "12 months at 0–4 °C" in facts and "2 weeks" in facts
    page.goto(server + "en/fairs/hoi-cho-cnnt-ca-mau-2026/")
    assert "Provincial Sports Hall, Ward 9, Ca Mau" in page.locator("main").inner_text()


def screen_css() -> str:
    """The stylesheet without its print block (set in points, for paper)."""
    css = (ROOT / "static" / "style.css").read_text(encoding="utf-8")
    start = css.index("@media print {\n  @page")
    depth, end = 0, start
    for end in range(start, len(css)):
        depth += {"{": 1, "}": -1}.get(css[end], 0)
        if css[end] == "}" and depth == 0:
            break
    return re.sub(r"/\*.*?\*/", "", css[:start] + css[end + 1:], flags=re.S)


def test_type_sizes_and_spacing_come_from_the_scales():
    """Sizes are steps of one type scale and margins, paddings and gaps steps of one spacing scale
    (`:root` in static/style.css), so pages keep one rhythm as they are added to."""
    css = screen_css()
    assert re.findall(r"font-size: [0-9.]+rem", css) == [], "a font size outside --text-*"
    loose = [value for prop, value in re.findall(r"\b((?:margin|padding|gap)[a-z-]*): ([^;}]*)", css)
             for number in re.findall(r"([0-9]*\.?[0-9]+)rem", value) if .2 < float(number) <= 2]
    assert loose == [], "a margin, padding or gap outside --space-* (hairlines ≤ .2rem and widths > 2rem aside)"
    for step in ("--text-sm", "--text-base", "--text-xl", "--space-1", "--space-4", "--space-6"):
        assert f"{step}:" in css
