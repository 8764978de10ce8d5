"""Asking for a quote: the message a buyer sends a maker, and the data of the inquiry list.

A product page offers a message written for the buyer, in the page's language, naming the product,
the facility and the minimum order, to send by SMS, e-mail or Zalo. The inquiry list (`shortlist/`)
lives on the buyer's device (static/inquiry.js keeps the products' slugs in localStorage: no server,
no account) and sends one message per facility. What the list shows comes from a data file per
language, made from the open-data rows, so it changes exactly when they do.
"""
from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

from . import urls
from ..content.model import Facility, Product, dial


def quote_message(product: Product, facility: Facility, lang: str, strings: dict[str, str], url: str) -> str:
    """`Chào HTX …, tôi quan tâm đến sản phẩm “…” … Xin cho tôi báo giá (đơn hàng tối thiểu: …).`"""
    moq = strings["quote_moq"].format(moq=product.moq[lang]) if product.moq else ""
    return strings["quote_message"].format(facility=facility.name[lang], product=product.name[lang], url=url, moq=moq)


def encoded(message: str) -> str:
    """A message as a link carries it; encoded once for both links (it is the costly part)."""
    return quote(message)


def sms_link(number: str, body: str) -> str:
    """An SMS with the (encoded) message written in: `?&body=` is read by both Android and iOS."""
    return f"sms:{dial(number)}?&body={body}"


def mail_link(address: str, subject: str, body: str) -> str:
    return f"mailto:{address}?subject={quote(subject)}&body={body}"


def shortlist_files(tables: dict[str, list[dict[str, Any]]], languages: tuple[str, ...]) -> dict[str, bytes]:
    """`shortlist/data-<lang>.json`: each product still offered (name, facility, minimum order, page)
    and each open facility (name, phone, Zalo, e-mail, page)."""
    files = {}
    for lang in languages:
        name = "name_en" if lang == "en" else "name_vi"
        products = {row["slug"]: [row[name] or row["name_vi"], row["facility"], row["moq"], row["url"]]
                    for row in tables["products"] if row["withdrawn"] is None}
        facilities = {row["slug"]: [row[name] or row["name_vi"], row["phone"], row["zalo"], row["email"], row["url"]]
                      for row in tables["facilities"] if row["withdrawn"] is None}
        data = {"products": products, "facilities": facilities}
        files[urls.shortlist_data(lang)] = json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    return files
