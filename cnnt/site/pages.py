"""Pages stage: every route of the site and the explicit context its template receives.

Paths are relative to the site root and end in `/` (written as `index.html`); Vietnamese
pages live at the root and English ones under `en/`, with the same path after the prefix.
"""
from __future__ import annotations

import datetime as dt
import math
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import cached_property

from ..content import kinds
from . import urls
from ..content.config import SiteConfig
from ..content.model import Catalogue, Decision, Facility, Product
from ..content import places
from ..content.places import Commune
from .search import SearchIndex, channel_terms, ocop_stars
from ..content.text import initial, slugify, sort_key
from .urls import lang_prefix
from ..content.vocab import Term, Vocabularies

RECENT_AWARDS_ON_HOME = 12
RECENT_LEVELS = ("national", "regional")
SIMILAR_SHOWN = 12  # products offered instead on the page of one no longer offered


@dataclass(frozen=True, slots=True)
class Page:
    """One HTML file to write: where, in which language, with which template and context."""

    path: str
    lang: str
    template: str
    context: dict = field(default_factory=dict, compare=False)
    # Worked out as the page is made: a build asks each of its 30,000 pages for them several times
    # (as cached properties, making them and asking took about 1.6 times as long).
    url: str = field(init=False, repr=False, compare=False)
    output: str = field(init=False, repr=False, compare=False)  # the file: `…/index.html` for a folder path

    def __post_init__(self) -> None:
        url = lang_prefix(self.lang) + self.path
        object.__setattr__(self, "url", url)  # (frozen)
        object.__setattr__(self, "output", url + "index.html" if url.endswith("/") or not url else url)

    @property
    def served_anywhere(self) -> bool:
        """A 404 page is served in place of any missing URL, so its links cannot be relative."""
        return self.template == "404.html"


@dataclass(frozen=True, slots=True)
class Pagination:
    number: int
    count: int
    paths: tuple[str, ...]

    @property
    def previous(self) -> str | None:
        return self.paths[self.number - 2] if self.number > 1 else None

    @property
    def next(self) -> str | None:
        return self.paths[self.number] if self.number < self.count else None


@dataclass(frozen=True, slots=True)
class BoothCard:
    """One cut-out card: a facility (product None) or one of its products, and the page its code opens."""

    facility: Facility
    product: Product | None
    path: str
    booth: str | None = None


MAX_PRINTED = 100          # a printed brochure of more products than this (34 A4 sheets) is narrowed first
PAPER_SIZES = ("a4", "a5")  # A4 sheets, or an A5 booklet


@dataclass(frozen=True)
class Selection:
    """Products the centre prints together, with the pages that print them."""

    code: str  # a fair's slug, a term's code
    title: str
    section: str  # fairs, awards, provinces, groups
    products: list[Product]  # compared too: the preview finds the pages a rename changed by equality

    @property
    def path(self) -> str:
        return urls.printed(self.section, self.code)

    @property
    def path_a5(self) -> str:
        return urls.printed(self.section, self.code, "a5")

    @property
    def printable(self) -> bool:
        return 0 < len(self.products) <= MAX_PRINTED


@dataclass(frozen=True)
class CommuneCount:
    """A commune of a province's page: the 2025 unit and how many facilities are in it."""

    commune: Commune
    count: int
    was: str | None = None  # the province its land was in before 1 July 2025, if another (places.joined_province)


@dataclass(frozen=True)
class TermCount:
    """A line of an index page: a vocabulary term, how many products it has, and its listing."""

    term: Term
    count: int
    path: str | None


@dataclass(frozen=True)
class Letter:
    letter: str
    anchor: str
    path: str  # the listing page where this letter starts


def letter_anchor(letter: str) -> str:
    """The HTML id of a letter's heading in an A–Z list (ASCII, for any letter)."""
    return f"letter-{ord(letter):x}"


def entry_paths(catalogue: Catalogue) -> list[tuple[str, tuple[str, ...]]]:
    """Each product, facility and fair page (the ones QR codes print) with the paths it had before."""
    return [(kind.path(entry), tuple(urls.entry_path(kind.folder, alias) for alias in entry.aliases))
            for kind in kinds.KINDS if kind.permanent for entry in catalogue.every(kind.folder).values()]


# The pages a printed QR code or booth card may point to: their addresses must never break.
PERMANENT_TEMPLATES = tuple(kind.template for kind in kinds.KINDS if kind.permanent)


def build_pages(catalogue: Catalogue, config: SiteConfig, vocab: Vocabularies,
                indexes: dict[str, SearchIndex] | None, stats: dict | None = None) -> list[Page]:
    """All pages of the site, in every configured language; without `indexes`, all but the search
    pages (a build lays the others out while a worker makes the search data: `search_page`)."""
    routes = Routes(catalogue, config, vocab, indexes, stats or {})
    return [page for lang in config.languages for page in routes.pages(lang)]


def search_page(lang: str, index: SearchIndex) -> Page:
    return Page(urls.section("search"), lang, "search.html", {"index": index})


class Routes:
    """Groups products the ways buyers browse them, once, and makes the pages for a language."""

    def __init__(self, catalogue: Catalogue, config: SiteConfig, vocab: Vocabularies,
                 indexes: dict[str, SearchIndex] | None, stats: dict | None = None) -> None:
        self.catalogue = catalogue
        self.stats = stats or {}
        self.indexes = indexes
        self.config = config
        self.vocab = vocab
        self._letters_of: dict[str, list[Letter]] = {}  # by the A–Z list's address
        # An entry's page shows the same context in every language: made once, shared (a build made
        # and kept one a language). By the entry's id, which stays its own: the context holds the entry.
        self._entry_contexts: dict[int, dict] = {}

    # Made when a listing first needs them: the preview makes single pages without them.
    @cached_property
    def by_level(self) -> dict[str, list[Product]]:
        current = self.catalogue.current

        def level(product: Product) -> list[str]:
            award = current[product.slug]
            return [award.level.code] if award else []
        return _group(self.catalogue.sorted_products, level)

    @cached_property
    def by_province(self) -> dict[str, list[Product]]:
        return _group(self.catalogue.sorted_products, lambda p: [self.catalogue.facility_of(p).province.term.code])

    @cached_property
    def communes_by_province(self) -> dict[str, list[CommuneCount]]:
        """Each province's 2025 communes where facilities still offered are, with how many, A–Z."""
        counts = Counter((f.province.term.code, f.commune) for f in self.catalogue.facilities.values() if f.commune)
        grouped: dict[str, list[CommuneCount]] = {}
        units = places.official()
        for (province, commune), count in sorted(counts.items(), key=lambda item: sort_key(item[0][1].short)):
            joined = self.vocab.provinces.by_code[province].extra.get("joined", ())
            grouped.setdefault(province, []).append(CommuneCount(commune, count, units.joined_province(commune, joined)))
        return grouped

    @cached_property
    def filters(self) -> dict[str, dict[str, list[str]]]:
        """Each product's `filter_keys`, worked out once for the three listings that read them."""
        on = self.catalogue.build_date
        return {product.slug: filter_keys(product, on) for product in self.catalogue.products.values()}

    @cached_property
    def by_ocop(self) -> dict[str, list[Product]]:
        return _group(self.catalogue.sorted_products, lambda p: self.filters[p.slug]["ocop"])

    @cached_property
    def by_certification(self) -> dict[str, list[Product]]:
        return _group(self.catalogue.sorted_products, lambda p: self.filters[p.slug]["certifications"])

    @cached_property
    def by_kind(self) -> dict[str, list[Product]]:
        return _group(self.catalogue.sorted_products, lambda p: [self.catalogue.facility_of(p).kind.code])

    @cached_property
    def by_channel(self) -> dict[str, list[Product]]:
        return _group(self.catalogue.sorted_products, lambda p: self.filters[p.slug]["channels"])

    @cached_property
    def channels(self) -> list[Term]:
        return channel_terms(self.catalogue.products.values())

    @cached_property
    def former_paths(self) -> list[tuple[str, tuple[str, ...]]]:
        """`entry_paths`, the same in every language."""
        return entry_paths(self.catalogue)

    def ocop_terms(self) -> list[Term]:
        """OCOP ratings, most stars first, as terms of a listing."""
        scheme = self.vocab.certification_schemes.by_code["ocop"]
        return [Term(str(n), f"{n} sao OCOP", f"{n}-star OCOP", n)
                for n in range(int(scheme.extra.get("max", 5)), int(scheme.extra.get("min", 3)) - 1, -1)]

    @cached_property
    def by_group(self) -> dict[str, list[Product]]:
        return _group(self.catalogue.sorted_products, lambda p: [p.group.code])

    @cached_property
    def by_market(self) -> dict[str, list[Product]]:
        return _group(self.catalogue.sorted_products, lambda p: [market.code for market in p.export_markets])

    def pages(self, lang: str) -> Iterable[Page]:
        yield self.home(lang)
        yield Page("404.html", lang, "404.html")
        if self.indexes is not None:
            yield search_page(lang, self.indexes[lang])
        yield from self.fairs(lang)
        yield from self.decisions(lang)
        yield from self.cards(lang)
        yield from self.printables(lang)
        yield self.statistics(lang)
        yield Page(urls.section("data"), lang, "data.html")
        yield Page(urls.section("shortlist"), lang, "shortlist.html")
        for path, former in self.former_paths:
            for old in former:
                yield Page(old, lang, "redirect.html", {"target": path})
        for product in self.catalogue.products.values():
            yield self.product(product, lang)
        for facility in self.catalogue.facilities.values():
            yield self.facility(facility, lang)
        for product in self.catalogue.withdrawn_products.values():
            yield self.withdrawn_product(product, lang)
        for facility in self.catalogue.withdrawn_facilities.values():
            yield self.withdrawn_facility(facility, lang)
        yield from self.term_listings(lang, "awards", self.vocab.level_order, self.by_level, "by_level")
        yield from self.term_listings(lang, "provinces", self._provinces_sorted(lang), self.by_province, "by_province",
                                      lambda code: {"communes": self.communes_by_province.get(code, [])})
        yield from self.term_listings(lang, "groups", list(self.vocab.product_groups), self.by_group, "by_group")
        markets = sorted((self.vocab.countries.by_code[code] for code in self.by_market),
                         key=lambda term: sort_key(term.name(lang)))
        yield from self.term_listings(lang, "markets", markets, self.by_market, "by_market")
        # the filters buyers ask for, as listings too
        yield from self.term_listings(lang, "ocop", self.ocop_terms(), self.by_ocop, "by_ocop")
        yield from self.term_listings(lang, "certifications", list(self.vocab.certification_schemes),
                                      self.by_certification, "by_certification")
        yield from self.term_listings(lang, "kinds", list(self.vocab.facility_kinds), self.by_kind, "by_kind")
        yield from self.term_listings(lang, "channels", self.channels,
                                      self.by_channel, "by_channel")
        yield from self.alphabetical(lang, urls.section("a-z"), "a_z", self.catalogue.sorted_products, "listing.html")
        yield from self.alphabetical(lang, urls.section("facilities"), "all_facilities", self.catalogue.sorted_facilities,
                                     "facilities.html")

    def _provinces_sorted(self, lang: str) -> list[Term]:
        return sorted(self.vocab.provinces, key=lambda term: sort_key(term.name(lang)))

    # -- single pages ----------------------------------------------------------------------

    def home(self, lang: str) -> Page:
        catalogue = self.catalogue
        awarded = [(product, award) for product in catalogue.products.values()
                   if (award := catalogue.current[product.slug]) and award.level.code in RECENT_LEVELS]
        awarded.sort(key=lambda pair: (-pair[1].year, -pair[1].level.rank, sort_key(pair[0].name.vi)))
        recent = [product for product, _ in awarded]
        counts = {
            "products": len(catalogue.products),
            "facilities": len(catalogue.facilities),
            "provinces": len(self.by_province),
            "markets": len(self.by_market),
        }
        levels = _counts(self.vocab.level_order, self.by_level, "awards")
        groups = _counts(self.vocab.product_groups, self.by_group, "groups")
        upcoming = sorted((f for f in catalogue.fairs.values() if not f.is_past(catalogue.build_date)),
                          key=lambda f: f.start)
        return Page(urls.HOME, lang, "home.html", {"counts": counts, "recent": recent[:RECENT_AWARDS_ON_HOME],
                                             "levels": levels, "groups": groups, "fairs": upcoming})

    def product(self, product: Product, lang: str) -> Page:
        context = self._entry_contexts.get(id(product))
        if context is None:
            facility = self.catalogue.facility_of(product)
            others = [p for p in self.catalogue.products_by_facility[facility.slug] if p.slug != product.slug]
            context = self._entry_contexts[id(product)] = {
                "product": product, "facility": facility, "awards": self.catalogue.awards_of(product),
                "current": self.catalogue.current[product.slug], "other_products": others,
            }
        return Page(kinds.PRODUCT.path(product), lang, kinds.PRODUCT.template, context)

    def facility(self, facility: Facility, lang: str) -> Page:
        context = self._entry_contexts.get(id(facility))
        if context is None:
            context = self._entry_contexts[id(facility)] = {
                "facility": facility, "products": self.catalogue.products_by_facility[facility.slug],
                "support": facility.support, "fairs": self.catalogue.fairs_by_facility.get(facility.slug, [])}
        return Page(kinds.FACILITY.path(facility), lang, kinds.FACILITY.template, context)

    # -- entries no longer offered -----------------------------------------------------------------

    def withdrawn_product(self, product: Product, lang: str) -> Page:
        """What it was, and where to go instead: the facility's other products, or, when the facility
        has closed too, products of the same group from its province."""
        catalogue = self.catalogue
        facility = catalogue.facility_of(product)
        if facility.slug in catalogue.facilities:
            instead = catalogue.products_by_facility[facility.slug]
        else:
            instead = self.similar(facility, product.group)
        return Page(urls.product(product), lang, "withdrawn.html", {
            "entry": product, "facility": facility, "withdrawal": catalogue.withdrawal_of(product),
            "awards": catalogue.awards_of(product), "former_products": [], "instead": instead[:SIMILAR_SHOWN],
            "facility_open": facility.slug in catalogue.facilities})

    def withdrawn_facility(self, facility: Facility, lang: str) -> Page:
        catalogue = self.catalogue
        former = sorted((p for p in catalogue.withdrawn_products.values() if p.facility_slug == facility.slug),
                        key=lambda p: (sort_key(p.name.vi), p.slug))
        groups = list(dict.fromkeys(p.group for p in former))
        instead = [p for group in groups for p in self.similar(facility, group)] if groups else self.similar(facility)
        return Page(urls.facility(facility), lang, "withdrawn.html", {
            "entry": facility, "facility": facility, "withdrawal": facility.withdrawn, "awards": (),
            "former_products": former, "instead": instead[:SIMILAR_SHOWN], "facility_open": False})

    def similar(self, facility: Facility, group: Term | None = None) -> list[Product]:
        """Products still offered in the facility's province, of the group if one is given."""
        return [p for p in self.by_province.get(facility.province.term.code, [])
                if group is None or p.group == group]

    # -- fairs and booth cards -------------------------------------------------------------

    def fairs(self, lang: str) -> Iterable[Page]:
        on = self.catalogue.build_date
        fairs = self.catalogue.sorted_fairs
        yield Page(urls.section("fairs"), lang, "fairs.html", {
            "upcoming": sorted((f for f in fairs if not f.is_past(on)), key=lambda f: f.start),
            "past": [f for f in fairs if f.is_past(on)],
        })
        for fair in fairs:  # a facility that has since closed leaves a past fair's list
            booths = [(booth, self.catalogue.facilities[booth.facility_slug]) for booth in fair.participants
                      if booth.facility_slug in self.catalogue.facilities]
            products_of = {f.slug: self.catalogue.products_by_facility[f.slug] for _, f in booths}
            yield Page(kinds.FAIR.path(fair), lang, kinds.FAIR.template, {"fair": fair, "booths": booths, "products_of": products_of})
            yield Page(urls.booth_cards_of_fair(fair), lang, "cards.html", {
                "title_entry": fair, "back": urls.fair(fair),
                "cards": [card for booth, facility in booths for card in self._cards_of(facility, booth.booth)],
            })

    # -- decisions of recognition ---------------------------------------------------------------

    def decisions(self, lang: str) -> Iterable[Page]:
        """The registered decisions by year (newest first) and level, and a page for each one."""
        by_year: dict[int, list[Decision]] = {}
        for decision in self.catalogue.sorted_decisions:
            by_year.setdefault(decision.year, []).append(decision)
        yield Page(urls.section("decisions"), lang, "decisions.html", {"years": list(by_year.items())})
        for decision in self.catalogue.sorted_decisions:
            listed = sorted((self.catalogue.every_product[slug] for slug in decision.products),
                            key=lambda p: (sort_key(p.name.vi), p.slug))
            yield Page(kinds.DECISION.path(decision), lang, kinds.DECISION.template, {
                "decision": decision, "products": [p for p in listed if p.slug in self.catalogue.products],
                "withdrawn": [p for p in listed if p.slug not in self.catalogue.products]})

    def statistics(self, lang: str) -> Page:
        """The centre's numbers, and the products (with their makers) whose awards expire soon."""
        expiring = [(item, self.catalogue.products[item["product"]],
                     self.catalogue.facility_of(self.catalogue.products[item["product"]]))
                    for item in self.stats.get("expiring", [])]
        return Page(urls.section("statistics"), lang, "statistics.html", {"stats": self.stats, "expiring": expiring})

    # -- printable catalogues --------------------------------------------------------------------

    def selections(self, lang: str) -> list[Selection]:
        """What the centre prints brochures of: a fair's exhibitors, an award level, a province, a group."""
        catalogue = self.catalogue
        found = []
        for fair in catalogue.sorted_fairs:
            slugs = dict.fromkeys(booth.facility_slug for booth in fair.participants)
            products = [p for slug in slugs if slug in catalogue.facilities for p in catalogue.products_by_facility[slug]]
            found.append(Selection(fair.slug, fair.name[lang], "fairs", products))
        for section, terms, grouped in (("awards", self.vocab.level_order, self.by_level),
                                        ("provinces", self._provinces_sorted(lang), self.by_province),
                                        ("groups", list(self.vocab.product_groups), self.by_group)):
            found += [Selection(term.code, term[lang], section, grouped[term.code])
                      for term in terms if grouped.get(term.code)]
        return found

    def printables(self, lang: str) -> Iterable[Page]:
        """An A4 and an A5 print-ready catalogue per selection small enough to print (see MAX_PRINTED)."""
        selections = self.selections(lang)
        yield Page(urls.section("print"), lang, "print-index.html", {"selections": selections, "most": MAX_PRINTED})
        for selection in selections:
            if selection.printable:
                for paper in PAPER_SIZES:
                    yield Page(urls.printed(selection.section, selection.code, paper), lang, "print.html", {
                        "selection": selection, "paper": paper,
                        "makers": [self.catalogue.facility_of(product) for product in selection.products]})

    def cards(self, lang: str) -> Iterable[Page]:
        """A printable sheet of booth cards per facility: one for the facility, one per product."""
        for facility in self.catalogue.facilities.values():
            yield Page(urls.booth_cards(facility), lang, "cards.html", {
                "title_entry": facility, "back": urls.facility(facility), "cards": self._cards_of(facility, None),
            })

    def _cards_of(self, facility: Facility, booth: str | None) -> list[BoothCard]:
        products = self.catalogue.products_by_facility[facility.slug]
        return ([BoothCard(facility, None, urls.facility(facility), booth)] +
                [BoothCard(facility, product, urls.product(product), booth) for product in products])

    # -- listings --------------------------------------------------------------------------

    def term_listings(self, lang: str, section: str, terms: Sequence[Term], grouped: dict[str, list[Product]],
                      title_key: str, more: Callable[[str], dict] | None = None) -> Iterable[Page]:
        """An index of terms with counts, and a paginated product listing per non-empty term (`more`:
        what else a term's listing shows, by term code)."""
        lines = _counts(terms, grouped, section)
        yield Page(urls.section(section), lang, "terms.html", {"title_key": title_key, "lines": lines})
        for line in lines:
            if line.path:
                context = {"title_key": title_key, "term": line.term, "parent": urls.section(section)}
                yield from self.paginated(lang, line.path, grouped[line.term.code], "listing.html",
                                          {**context, **(more(line.term.code) if more else {})})

    def alphabetical(self, lang: str, base: str, title_key: str, items: Sequence, template: str) -> Iterable[Page]:
        """A paginated list in Vietnamese alphabetical order, with a jump to each letter."""
        yield from self.paginated(lang, base, items, template, {
            "title_key": title_key, "term": None, "parent": None, "letters": self._letters(base, items),
        })

    def _letters(self, base: str, items: Sequence) -> list[Letter]:
        """Where each letter starts in an A–Z list: the same in every language (Vietnamese names)."""
        if base not in self._letters_of:
            per_page = self.config.per_page
            paths = _page_paths(base, len(items), per_page)
            letters: dict[str, Letter] = {}
            for index, item in enumerate(items):
                letter = initial(item.name.vi)
                if letter not in letters:
                    letters[letter] = Letter(letter, letter_anchor(letter), paths[index // per_page])
            self._letters_of[base] = list(letters.values())
        return self._letters_of[base]

    def paginated(self, lang: str, base: str, items: Sequence, template: str, context: dict) -> Iterable[Page]:
        per_page = self.config.per_page
        paths = _page_paths(base, len(items), per_page)
        for number, path in enumerate(paths, 1):
            chunk = items[(number - 1) * per_page: number * per_page]
            yield Page(path, lang, template, {**context, "items": chunk, "total": len(items),
                                              "pagination": Pagination(number, len(paths), tuple(paths))})


def _counts(terms: Iterable[Term], grouped: dict[str, list[Product]], section: str) -> list[TermCount]:
    """Each term with its number of products, and a link only where there is a listing."""
    return [TermCount(term, len(grouped.get(term.code, [])),
                      urls.term(section, term.code) if grouped.get(term.code) else None)
            for term in terms]


def filter_keys(product: Product, on: dt.date) -> dict[str, list[str]]:
    """The listings of the buyers' filters a product is in: OCOP stars, certifications in force, where to
    buy. The preview compares these before and after an edit to know whether listings move."""
    stars = ocop_stars(product, on)
    return {"ocop": [str(stars)] if stars else [],
            "certifications": list(dict.fromkeys(c.scheme.code for c in product.certifications if not c.is_expired(on))),
            "channels": list(dict.fromkeys(s for name in product.domestic_channels if (s := slugify(name))))}


def _page_paths(base: str, count: int, per_page: int) -> list[str]:
    pages = max(1, math.ceil(count / per_page))
    return [urls.page(base, number) for number in range(1, pages + 1)]


def _group(products: Iterable[Product], keys: Callable[[Product], list[str]]) -> dict[str, list[Product]]:
    """Products under each key, keeping their (alphabetical) order."""
    grouped: dict[str, list[Product]] = defaultdict(list)
    for product in products:
        for key in keys(product):
            grouped[key].append(product)
    return dict(grouped)
