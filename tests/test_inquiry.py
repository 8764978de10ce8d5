"""Asking for a quote: the written message and its links, and the inquiry list kept on the device,
shared as a link, one message per facility."""
from __future__ import annotations

import json
from urllib.parse import parse_qs, unquote, urlsplit

import pytest
from html_inspect import parse


def quote_links(page_file) -> list[str]:
    """The quote section's buttons (the contact buttons above have no message)."""
    parsed = parse(page_file)
    return [attrs["href"] for attrs in parsed.all("a")
            if attrs.get("href", "").startswith(("sms:", "mailto:")) and "body=" in attrs["href"]]


def test_product_page_offers_a_written_message_in_its_language(sample_site):
    page = (sample_site / "products/kho-muc-my-thuyen/index.html").read_text(encoding="utf-8")
    assert "Chào Công ty TNHH Mỹ Thuyền, tôi quan tâm đến sản phẩm “Khô mực Mỹ Thuyền”" in page
    assert "(đơn hàng tối thiểu: 200 kg)" in page  # the product's minimum order
    english = (sample_site / "en/products/kho-muc-my-thuyen/index.html").read_text(encoding="utf-8")
    assert "Hello My Thuyen Co., Ltd., I am interested in “My Thuyen dried squid”" in english
    assert "Could you send me a quote (minimum order: 200 kg)?" in english
    sms = next(href for href in quote_links(sample_site / "products/kho-muc-my-thuyen/index.html")
               if href.startswith("sms:"))
    number, query = sms[len("sms:"):].split("?", 1)
    assert number.replace("+", "").isdigit()
    body = parse_qs(query)["body"][0]
    assert body.startswith("Chào Công ty TNHH Mỹ Thuyền") and "products/kho-muc-my-thuyen/" in body
    mail = next(href for href in quote_links(sample_site / "products/kho-muc-my-thuyen/index.html")
                if href.startswith("mailto:"))
    fields = parse_qs(urlsplit(mail).query)
    assert fields["subject"] == ["Hỏi giá: Khô mực Mỹ Thuyền"] and fields["body"][0] == body


def test_shortlist_data_lists_what_is_offered(sample_site):
    data = json.loads((sample_site / "shortlist/data-vi.json").read_text(encoding="utf-8"))
    english = json.loads((sample_site / "en/../shortlist/data-en.json").read_text(encoding="utf-8"))
    assert data["products"]["kho-muc-my-thuyen"][:3] == ["Khô mực Mỹ Thuyền", "my-thuyen", "200 kg"]
    assert english["products"]["kho-muc-my-thuyen"][0] != "Khô mực Mỹ Thuyền"
    assert data["facilities"]["my-thuyen"][0] == "Công ty TNHH Mỹ Thuyền"
    withdrawn = json.loads((sample_site / "data/products.json").read_text(encoding="utf-8"))
    gone = [row["slug"] for row in withdrawn if row.get("withdrawn")]
    assert gone and not set(gone) & set(data["products"])


@pytest.mark.parametrize("width", [360, 1280])
def test_a_buyer_keeps_a_list_shares_it_and_sends_one_message_per_maker(visit, server, width):
    page = visit(width, 800)
    for slug in ("kho-muc-my-thuyen", "muoi-tom-tan-phat-loi", "tom-kho-tan-phat-loi"):
        page.goto(server + f"products/{slug}/")
        button = page.locator("[data-shortlist-add]")
        assert button.get_attribute("aria-pressed") == "false"
        button.click()
        assert button.get_attribute("aria-pressed") == "true"
    assert page.locator("[data-shortlist-link]").inner_text() == "Xem danh sách hỏi giá (3)"
    page.locator("[data-shortlist-link]").click()
    page.wait_for_selector(".shortlist-group")
    assert page.locator("[data-shortlist-status]").inner_text() == "3 sản phẩm của 2 cơ sở"
    groups = page.locator(".shortlist-group")
    assert groups.count() == 2
    tan_phat_loi = page.locator(".shortlist-group[data-facility=tan-phat-loi]")
    message = tan_phat_loi.locator("textarea").input_value()
    assert message.startswith("Chào HTX Tân Phát Lợi") and "- Muối tôm" in message and "- Tôm khô Tân Phát Lợi" in message
    sms = tan_phat_loi.locator("a[href^='sms:']").get_attribute("href")
    assert unquote(sms.split("body=", 1)[1]) == message  # one message for both products of that maker
    # take one off: it leaves the list on this device
    page.locator("[data-remove=muoi-tom-tan-phat-loi]").click()
    assert page.locator("[data-shortlist-status]").inner_text() == "2 sản phẩm của 2 cơ sở"
    assert page.evaluate("JSON.parse(localStorage.getItem('cnnt-shortlist'))") == ["kho-muc-my-thuyen", "tom-kho-tan-phat-loi"]
    # share: the link carries the list; opened elsewhere (no list stored there) it shows it and can keep it
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    page.evaluate("delete navigator.share")
    page.locator("[data-shortlist-share]").click()
    page.wait_for_function("document.querySelector('[data-shortlist-status]').textContent === 'Đã sao chép đường liên kết'")
    link = page.evaluate("navigator.clipboard.readText()")
    assert link.endswith("shortlist/#kho-muc-my-thuyen,tom-kho-tan-phat-loi")
    other = page.context.browser.new_context(viewport={"width": width, "height": 800})
    try:
        friend = other.new_page()
        friend.goto(link)
        friend.wait_for_selector(".shortlist-group")
        assert friend.locator("[data-shortlist-status]").inner_text().startswith("Danh sách được chia sẻ với bạn.")
        assert friend.locator("[data-remove]").count() == 0
        friend.locator("[data-shortlist-keep]").click()
        assert friend.evaluate("JSON.parse(localStorage.getItem('cnnt-shortlist'))") == [
            "kho-muc-my-thuyen", "tom-kho-tan-phat-loi"]
        assert friend.locator("[data-remove]").count() == 2
    finally:
        other.close()


def test_the_zalo_button_copies_the_message_before_opening_zalo(browser, server):
    context = browser.new_context(viewport={"width": 360, "height": 800})
    try:
        context.grant_permissions(["clipboard-read", "clipboard-write"])
        context.route("https://zalo.me/**", lambda route: route.fulfill(status=200, body="zalo"))  # never leaves
        page = context.new_page()
        page.goto(server + "products/kho-muc-my-thuyen/")
        message = page.locator("#quote-text").input_value()
        with page.expect_navigation(url="https://zalo.me/**"):
            page.locator(".quote a.zalo").click()
        assert page.evaluate("navigator.clipboard.readText()") == message
    finally:
        context.close()


def test_the_inquiry_list_is_not_in_the_sitemap(sample_site):
    """The page is the same empty shell for everyone (each list is on its own device): nothing to
    offer a search engine, so the sitemap leaves it out."""
    assert (sample_site / "shortlist/index.html").is_file()
    assert "shortlist/" not in (sample_site / "sitemap.xml").read_text(encoding="utf-8")
