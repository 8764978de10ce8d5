"""Structured data (schema.org, as JSON-LD) for entry pages: what search engines and link previews read
about a product, a facility, a fair and where each page sits (its breadcrumb trail).

The data is made from the page's own context, in the page's language, with absolute addresses. It
goes into a `<script type="application/ld+json">` element, so `<`, `>` and `&` are written as JSON
escapes: nothing a facility writes can close the element or open another.
"""
from __future__ import annotations

import json
from typing import Any

from markupsafe import Markup

from . import urls
from ..content import kinds
from ..content.config import SiteConfig
from ..content.model import Award, Catalogue, Facility, Fair, Product
from .pages import Page
from ..content.places import street_part
from .urls import lang_prefix
from ..content.vocab import Vocabularies

CONTEXT = "https://schema.org"


class StructuredData:
    """Builds the JSON-LD of one page from its template and context."""

    def __init__(self, config: SiteConfig, catalogue: Catalogue, vocab: Vocabularies,
                 strings: dict[str, dict[str, str]], image_of: Any) -> None:
        self.base_url = config.base_url
        self.centre = config.centre
        self.catalogue = catalogue
        self.vocab = vocab
        self.strings = strings
        self.image_of = image_of  # entry → absolute address of its link-preview image, or None

    def script(self, page: Page) -> Markup:
        found = self.of(page)
        return script(found) if found else Markup("")

    def of(self, page: Page) -> list[dict] | None:
        context = page.context
        if page.template == kinds.PRODUCT.template:
            product = context["product"]
            return [self.product(product, context["facility"], context["awards"], page.lang),
                    self.breadcrumb(page.lang, [(product.group[page.lang], urls.term("groups", product.group.code)),
                                                (product.name[page.lang], page.path)])]
        if page.template == kinds.FACILITY.template:
            facility = context["facility"]
            return [self.facility(facility, context["products"], page.lang),
                    self.breadcrumb(page.lang, [(self.strings[page.lang]["all_facilities"], urls.section("facilities")),
                                                (facility.name[page.lang], page.path)])]
        if page.template == kinds.FAIR.template:
            fair = context["fair"]
            return [self.fair(fair, page.lang),
                    self.breadcrumb(page.lang, [(self.strings[page.lang]["fairs"], urls.section("fairs")),
                                                (fair.name[page.lang], page.path)])]
        if page.template == kinds.DECISION.template:
            decision = context["decision"]
            return [self.breadcrumb(page.lang, [(self.strings[page.lang]["decisions"], urls.section("decisions")),
                                                (decision.name[page.lang], page.path)])]
        return None

    def url(self, lang: str, path: str) -> str:
        return self.base_url + lang_prefix(lang) + path

    def product(self, product: Product, facility: Facility, awards: tuple[Award, ...], lang: str) -> dict:
        maker = {"@type": "Organization", "name": facility.name[lang], "url": self.url(lang, urls.facility(facility))}
        data: dict[str, Any] = {
            "@context": CONTEXT, "@type": "Product", "name": product.name[lang],
            "url": self.url(lang, urls.product(product)), "sku": product.slug,
            "category": product.group[lang], "brand": {"@type": "Brand", "name": facility.name[lang]},
            "manufacturer": maker,
            "countryOfOrigin": {"@type": "Country", "name": self.vocab.countries.by_code["VN"][lang]},
        }
        if product.summary:
            data["description"] = product.summary[lang]
        image = self.image_of(product)
        if image:
            data["image"] = image
        valid = [award for award in awards if award.is_valid(self.catalogue.build_date)]
        if valid:
            data["award"] = [self.award_text(award, lang) for award in valid]
        certifications = [self.certification(cert, lang) for cert in product.certifications
                          if not cert.is_expired(self.catalogue.build_date)]
        if certifications:
            data["hasCertification"] = certifications
        return data

    def award_text(self, award: Award, lang: str) -> str:
        text = f"{self.strings[lang]['awards']}: {award.level[lang]} {award.year}"
        if award.region:
            text += f" ({award.region[lang]})"
        if award.decision:
            text += f", {self.strings[lang]['decision']} {award.decision}"
        if award.declared:
            text += f" ({self.strings[lang]['declared']})"
        return text

    def certification(self, cert: Any, lang: str) -> dict:
        name = cert.scheme[lang] + (f" {cert.stars}★" if cert.stars else f" {cert.grade}" if cert.grade else "")
        data: dict[str, Any] = {"@type": "Certification", "name": name}
        if cert.number:
            data["certificationIdentification"] = cert.number
        if cert.expires:
            data["expires"] = cert.expires.isoformat()
        return data

    def facility(self, facility: Facility, products: list[Product], lang: str) -> dict:
        address: dict[str, Any] = {"@type": "PostalAddress", "addressRegion": facility.province.term[lang],
                                   "addressCountry": "VN"}
        if facility.address:
            address["streetAddress"] = street_part(facility.address, facility.commune, facility.province.names)
        if facility.commune:
            address["addressLocality"] = facility.commune[lang]
        data: dict[str, Any] = {
            "@context": CONTEXT, "@type": "LocalBusiness", "name": facility.name[lang],
            "url": self.url(lang, urls.facility(facility)), "address": address,
        }
        if facility.summary:
            data["description"] = facility.summary[lang]
        contact = facility.contact
        if contact.phone or contact.zalo:
            data["telephone"] = contact.phone or contact.zalo
        if contact.email:
            data["email"] = contact.email
        if contact.website:
            data["sameAs"] = [contact.website]
        if facility.location:
            data["geo"] = {"@type": "GeoCoordinates", "latitude": facility.location.lat,
                           "longitude": facility.location.lon}
        if facility.founded:
            data["foundingDate"] = str(facility.founded)
        if facility.employees is not None:
            data["numberOfEmployees"] = {"@type": "QuantitativeValue", "value": facility.employees}
        image = self.image_of(facility)
        if image:
            data["image"] = image
        if products:
            data["makesOffer"] = [{"@type": "Offer", "itemOffered": {
                "@type": "Product", "name": product.name[lang], "url": self.url(lang, urls.product(product))}}
                for product in products]
        return data

    def fair(self, fair: Fair, lang: str) -> dict:
        data: dict[str, Any] = {
            "@context": CONTEXT, "@type": "Event", "name": fair.name[lang],
            "url": self.url(lang, urls.fair(fair)), "startDate": fair.start.isoformat(), "endDate": fair.end.isoformat(),
            "eventStatus": "https://schema.org/EventScheduled",
            "location": self.place(fair, lang),
            "eventAttendanceMode": ("https://schema.org/OnlineEventAttendanceMode" if fair.online
                                    else "https://schema.org/OfflineEventAttendanceMode"),
            # the organiser as the fair's entry names it; else the centre that publishes it
            "organizer": {"@type": "Organization", "name": fair.organiser[lang] or self.centre.name[lang]},
        }
        if fair.website:
            data["organizer"]["url"] = fair.website
        if fair.summary:
            data["description"] = fair.summary[lang]
        return data

    def place(self, fair: Fair, lang: str) -> dict:
        if fair.online:
            return {"@type": "VirtualLocation", "url": fair.online}
        address: dict[str, Any] = {"@type": "PostalAddress"}
        if fair.country:
            address["addressCountry"] = fair.country.code
            if fair.city:
                address["addressLocality"] = fair.city
        else:
            address["addressCountry"] = "VN"
            if fair.province:
                address["addressRegion"] = fair.province.term[lang]
        return {"@type": "Place", "name": fair.venue[lang] or fair.name[lang], "address": address}

    def breadcrumb(self, lang: str, trail: list[tuple[str, str]]) -> dict:
        items = [(self.strings[lang]["home"], "")] + trail
        return {"@context": CONTEXT, "@type": "BreadcrumbList", "itemListElement": [
            {"@type": "ListItem", "position": number, "name": name, "item": self.url(lang, path)}
            for number, (name, path) in enumerate(items, 1)]}


def script(data: object) -> Markup:
    """A JSON-LD element whose text no content can break out of."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    text = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return Markup(f'<script type="application/ld+json">{text}</script>')

