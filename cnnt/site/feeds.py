"""Atom feeds, one per language (`feed.xml`, `en/feed.xml`): products newly recognised, by the date of
the decision the centre registered, and fairs still to come. A buyer's or journalist's feed reader,
or the centre's own newsletter tool, follows the catalogue without visiting it."""
from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from functools import partial
from xml.sax.saxutils import escape, quoteattr

from . import urls
from ..content.config import SiteConfig
from ..content.model import Catalogue, Decision, Fair, Product
from .urls import lang_prefix

ENTRIES = 100  # the newest ones; a feed is news, not the catalogue


def atom_feed(catalogue: Catalogue, config: SiteConfig, lang: str, strings: dict[str, str],
              changed: dict[str, dt.date]) -> str:
    """The feed of one language. `changed` gives a page path its last-modified day (for fairs)."""
    base = config.base_url + lang_prefix(lang)
    # what each entry will show, newest first, before any is written out: a catalogue's decisions
    # name every product recognised (at 50,000 products, written out whole they were 60 MB to keep 100)
    news: list[tuple[dt.date, Callable[[], str]]] = []
    for decision in catalogue.sorted_decisions:
        for slug in decision.products:
            product = catalogue.products.get(slug)
            if product is not None:  # (else no longer offered)
                news.append((decision.date, partial(_award_entry, catalogue, decision, product, base, lang, strings)))
    for fair in catalogue.sorted_fairs:
        if not fair.is_past(catalogue.build_date):
            day = changed.get(urls.fair(fair), catalogue.build_date)
            news.append((day, partial(_fair_entry, fair, day, base, lang, strings)))
    news.sort(key=lambda item: item[0], reverse=True)
    entries = [(day, write()) for day, write in news[:ENTRIES]]
    updated = entries[0][0] if entries else catalogue.build_date
    title = f"{config.title[lang]}: {strings['feed_title']}"
    return ('<?xml version="1.0" encoding="utf-8"?>\n'
            f'<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="{lang}">\n'
            f"<id>{escape(config.base_url + urls.feed(lang))}</id>\n<title>{escape(title)}</title>\n"
            f"<updated>{_time(updated)}</updated>\n"
            f"<author><name>{escape(config.centre.name[lang])}</name></author>\n"
            f'<link rel="self" type="application/atom+xml" href={quoteattr(config.base_url + urls.feed(lang))}/>\n'
            f'<link rel="alternate" type="text/html" href={quoteattr(base)}/>\n'
            + "".join(entry for _, entry in entries) + "</feed>\n")


def _award_entry(catalogue: Catalogue, decision: Decision, product: Product, base: str, lang: str,
                 strings: dict[str, str]) -> str:
    facility = catalogue.facility_of(product)
    title = f"{product.name[lang]}: {decision.level[lang]} {decision.year}"
    summary = (f"{facility.name[lang]}, {facility.province.term[lang]}. "
               f"{strings['decision_title'].format(number=decision.number)}, {decision.issuer}.")
    return _entry(f"{base}{urls.product(product)}#{decision.slug}", title, decision.date, base + urls.product(product),
                  summary, base + urls.decision(decision.slug))


def _fair_entry(fair: Fair, day: dt.date, base: str, lang: str, strings: dict[str, str]) -> str:
    when = strings["fair_dates"].format(start=fair.start.isoformat(), end=fair.end.isoformat())
    return _entry(base + urls.fair(fair), fair.name[lang], day, base + urls.fair(fair),
                  f"{when}. {fair.summary[lang]}".strip(), None)


def _entry(identity: str, title: str, day: dt.date, link: str, summary: str, related: str | None) -> str:
    extra = f'<link rel="related" href={quoteattr(related)}/>' if related else ""
    return (f"<entry><id>{escape(identity)}</id><title>{escape(title)}</title><updated>{_time(day)}</updated>"
            f'<link rel="alternate" type="text/html" href={quoteattr(link)}/>{extra}'
            f"<summary>{escape(summary)}</summary></entry>\n")


def _time(day: dt.date) -> str:
    return f"{day.isoformat()}T00:00:00Z"
