"""End to end: drive the built sample catalogue in headless Chromium, as buyers on a phone and a desktop do."""
from __future__ import annotations

import pytest


def check_accessible(page):
    """Landmarks, one h1 and no skipped heading levels, alt text on every image, a labelled nav."""
    assert page.locator("header").count() >= 1 and page.locator("main").count() == 1 and page.locator("footer").count() == 1
    levels = page.eval_on_selector_all("h1,h2,h3,h4,h5,h6", "els => els.map(e => +e.tagName[1])")
    assert levels[0] == 1 and levels.count(1) == 1
    assert all(b - a <= 1 for a, b in zip(levels, levels[1:])), levels
    # every image says what it shows, or is marked decorative with alt="" (thumbnails beside a name)
    assert page.eval_on_selector_all("img", "els => els.filter(e => !e.hasAttribute('alt')).length") == 0
    assert page.eval_on_selector_all("main .photos img:not(.placeholder)", "els => els.filter(e => !e.alt).length") == 0
    assert page.eval_on_selector_all("nav", "els => els.filter(e => !e.getAttribute('aria-label')).length") == 0
    # nothing wider than the screen: no sideways scrolling on a phone
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


@pytest.mark.parametrize("width,height", [(360, 640), (1280, 900)])
def test_buyer_journey_in_vietnamese(visit, server, width, height):
    page = visit(width, height)
    page.goto(server)
    assert page.locator("html").get_attribute("lang") == "vi"
    check_accessible(page)
    page.get_by_role("navigation", name="Điều hướng chính").get_by_role("link", name="Cấp công nhận").click()
    page.get_by_role("link", name="Cấp quốc gia").click()
    assert "Cấp quốc gia" in page.locator("h1").inner_text()
    check_accessible(page)
    page.get_by_role("link", name="Khô mực Mỹ Thuyền").click()
    assert page.locator("h1").inner_text() == "Khô mực Mỹ Thuyền"
    check_accessible(page)
    assert page.get_by_role("link", name="Gọi điện 0900 000 102").first.get_attribute("href") == "tel:0900000102"
    assert page.get_by_role("link", name="Nhắn Zalo 0900 000 102").first.get_attribute("href") == "https://zalo.me/0900000102"
    expired = page.locator(".awards .award-expired")  # the provincial award of 2020
    assert expired.count() == 1 and "Cấp tỉnh 2020" in expired.inner_text() and "Hết hiệu lực" in expired.inner_text()
    page.locator("main .entry-maker").get_by_role("link", name="Công ty TNHH Mỹ Thuyền").click()
    assert page.locator("h1").inner_text() == "Công ty TNHH Mỹ Thuyền"
    check_accessible(page)


def test_buyer_journey_in_english_and_language_switch(visit, server):
    page = visit()
    page.goto(server + "products/may-cho-tom-an-tu-dong/")
    page.get_by_role("navigation", name="Ngôn ngữ").get_by_role("link", name="English").click()
    assert page.url.endswith("/en/products/may-cho-tom-an-tu-dong/")
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.locator("h1").inner_text() == "Automatic shrimp feeder"
    for country in ("China", "South Korea", "Thailand", "Philippines", "Spain"):
        assert page.locator(".facts").get_by_role("link", name=country).count() == 1
    page.locator(".facts").get_by_role("link", name="Spain").click()
    assert page.locator("h1").inner_text().startswith("Spain")
    page.get_by_role("link", name="Automatic shrimp feeder").click()
    page.locator(".entry-maker").get_by_role("link", name="Nguyen Hai Dang Workshop").click()
    check_accessible(page)
    page.get_by_role("navigation", name="Main navigation").get_by_role("link", name="Provinces").click()
    page.get_by_role("link", name="Can Tho").click()
    assert page.get_by_role("link", name="Durian pia cake with salted egg").count() == 1
    page.get_by_role("navigation", name="Language").get_by_role("link", name="Tiếng Việt").click()
    assert page.locator("html").get_attribute("lang") == "vi" and "/en/" not in page.url


def test_facility_page_shows_former_province_and_support(visit, server):
    page = visit()
    page.goto(server + "facilities/cong-thanh-tam/")
    assert page.get_by_text("trước đây là Sóc Trăng").first.is_visible()
    assert page.get_by_role("table").get_by_text("300.000.000 ₫").is_visible()
    page.goto(server + "a-z/")
    page.get_by_role("navigation", name="Chữ cái đầu").get_by_role("link", name="Đ", exact=True).click()
    assert page.url.endswith("#letter-110")


def test_photos_display_in_the_browser(visit, server):
    """The <picture> element really shows a photo: WebP chosen, decoded, at its declared ratio."""
    page = visit()
    page.goto(server + "products/kho-muc-my-thuyen/")
    photo = page.locator("main .photos img").first
    photo.wait_for()
    page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=photo.element_handle())
    current = photo.evaluate("img => img.currentSrc")
    assert current.endswith(".webp"), current
    box = photo.bounding_box()
    assert abs(box["width"] / box["height"] - 4 / 3) < 0.02  # the sample photo is 1600x1200
    page.goto(server + "awards/national/")
    thumbnail = page.locator(".card img").first
    thumbnail.scroll_into_view_if_needed()
    page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=thumbnail.element_handle())


@pytest.mark.parametrize("width,height", [(360, 640), (1280, 900)])
def test_a_buyer_checks_an_award_against_its_decision(visit, server, width, height):
    page = visit(width, height)
    page.goto(server + "en/products/kho-muc-my-thuyen/")
    badge = page.locator(".entry-head a.badge")  # the current level, verified: it links its decision
    assert badge.inner_text() == "National level 2024"
    badge.click()
    assert page.locator("h1").inner_text() == "Decision No. 2512/QĐ-BCT"
    check_accessible(page)
    assert page.get_by_role("link", name="My Thuyen dried squid").count() == 1
    page.get_by_role("link", name="Award decisions").first.click()
    assert page.locator("h1").inner_text() == "Award decisions"
    check_accessible(page)
    page.goto(server + "products/ao-so-mi-nam/")  # declared, not counted: said in words, not only by style
    declared = page.locator(".awards .award-declared")
    assert declared.count() == 1 and "Cơ sở tự khai" in declared.inner_text()
    assert page.locator(".entry-head .badge").inner_text() == "Chưa có công nhận còn hiệu lực"
