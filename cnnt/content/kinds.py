"""The kinds of content entry, declared once: what each is called, where its files are, its fields,
its page, who may change it, and which commands make or remove one.

Loading (`load`), the pages and their addresses (`pages`, `structured`), the JSON Schemas (`schema`),
`new` (`scaffold`), `remove` (`removal`), the review of pull requests (`ownership`), the preview
(`serve`) and the form editor (`editor`) read this table; none lists the kinds itself. Adding a kind
means a row here, its model (`model`) and its table in `Catalogue.every`, its parser
(`load.PARSERS`), its table of open data (`exports.TABLES`; tests hold these to this table), its
template and its documentation.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..site import urls
from .model import Decision, Facility, Fair, Product


@dataclass(frozen=True)
class Kind:
    name: str                      # one entry, as commands and messages say it: `product`
    folder: str                    # under content/: `products`
    label: tuple[str, str]         # the entries, as the form editor lists them: (Vietnamese, English)
    model: type                    # the dataclass `load` makes of an entry
    fields: tuple[str, ...]        # front matter fields, in the order `new` writes them
    required: tuple[str, ...]
    template: str                  # the entry's page
    path: Callable[[Any], str]     # the entry's page address (urls.py)
    facility_owned: bool = False   # a facility's maintainers may change these entries
    credentials: tuple[str, ...] = ()  # fields only the centre may change, even in a facility's entry
    scaffold: bool = False         # `python build.py new <name>` starts one
    removable: bool = False        # `python build.py remove <name>` takes one out
    permanent: bool = False        # printed QR codes point to its page: its address never breaks


FACILITY = Kind(
    "facility", "facilities", ("Cơ sở", "Facilities"), Facility,
    ("name", "kind", "province", "commune", "address", "location", "founded", "employees", "summary",
     "contact", "maintainers", "support", "images", "aliases", "withdrawn"),
    ("name", "kind", "province", "contact"), "facility.html", urls.facility,
    # a facility's khuyến công support: the funding and jobs the centre's statistics report
    facility_owned=True, credentials=("support",), scaffold=True, removable=True, permanent=True)
PRODUCT = Kind(
    "product", "products", ("Sản phẩm", "Products"), Product,
    ("name", "facility", "group", "awards", "export_markets", "domestic_channels", "certifications", "summary",
     "capacity", "moq", "packaging", "shelf_life", "hs_code", "lead_time", "tags", "images", "aliases", "withdrawn"),
    ("name", "facility", "group"), "product.html", urls.product,
    # a product's awards, certifications and maker are the centre's to record
    facility_owned=True, credentials=("awards", "certifications", "facility"), scaffold=True, removable=True,
    permanent=True)
FAIR = Kind(
    "fair", "fairs", ("Hội chợ", "Fairs"), Fair,
    ("name", "start", "end", "venue", "province", "country", "city", "online", "organiser", "participants",
     "website", "summary", "aliases"),
    ("name", "start", "end"), "fair.html", urls.fair, removable=True, permanent=True)
DECISION = Kind(
    "decision", "decisions", ("Quyết định công nhận", "Award decisions"), Decision,
    ("number", "date", "issuer", "level", "region", "products", "document", "summary"),
    ("number", "date", "issuer", "level", "products"), "decision.html", lambda d: urls.decision(d.slug),
    scaffold=True)

KINDS: tuple[Kind, ...] = (FACILITY, PRODUCT, FAIR, DECISION)  # the order entries are read in
BY_NAME = {kind.name: kind for kind in KINDS}
BY_FOLDER = {kind.folder: kind for kind in KINDS}
BY_MODEL: dict[type, Kind] = {kind.model: kind for kind in KINDS}
