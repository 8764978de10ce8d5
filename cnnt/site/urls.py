"""Every page's address, in one place.

Pages, templates, the search script, vCards, feeds, sitemaps, redirects, link previews and the open
data all take their paths from here; none builds one by hand (tests/test_urls.py fails if a template
or script does). A path is relative to a language's root (`products/keo-dua/`); `lang_prefix` puts
the English pages under `en/`. Printed QR codes carry these addresses, so an entry's path must stay
what it is: a renamed entry keeps its old one as a redirect (`aliases`).
"""
from __future__ import annotations

from typing import Protocol

HOME = ""
# The sections of the site: an index page each, and for the term sections a listing per term.
TERM_SECTIONS = ("awards", "provinces", "groups", "markets", "ocop", "certifications", "kinds", "channels")
SECTIONS = (*TERM_SECTIONS, "a-z", "facilities", "fairs", "decisions", "search", "statistics", "data", "print",
            "shortlist")


class Named(Protocol):
    @property
    def slug(self) -> str: ...


def lang_prefix(lang: str) -> str:
    """Where a language's pages are: Vietnamese at the root, others under their code."""
    return "" if lang == "vi" else f"{lang}/"


def section(name: str) -> str:
    """A section's index: `provinces/`, `search/`, `a-z/`…"""
    if name not in SECTIONS:
        raise ValueError(f"no section {name!r}")
    return f"{name}/"


def term(section_name: str, code: str) -> str:
    """A term's listing in a section: `provinces/ca-mau/`, `markets/jp/`."""
    return f"{section(section_name)}{code.lower()}/"


def product(entry: Named) -> str:
    return entry_path("products", entry.slug)


def facility(entry: Named) -> str:
    return entry_path("facilities", entry.slug)


def fair(entry: Named) -> str:
    return entry_path("fairs", entry.slug)


def decision(slug: str) -> str:
    """A registered decision's page (award badges link to it by the decision's slug)."""
    return entry_path("decisions", slug)


def entry_path(folder: str, slug: str) -> str:
    """An entry's page (or a former slug's redirect) by the folder its file is in."""
    return f"{folder}/{slug}/"


def page(base: str, number: int) -> str:
    """Page `number` of a paginated listing (the first is the listing itself)."""
    return base if number == 1 else f"{base}page/{number}/"


def vcard(entry: Named) -> str:
    """A facility's contact card, beside its page."""
    return f"{facility(entry)}{entry.slug}.vcf"


def booth_cards(entry: Named) -> str:
    """A facility's printable sheet of booth cards."""
    return f"cards/{entry.slug}/"


def booth_cards_of_fair(entry: Named) -> str:
    """The booth cards of every exhibitor of a fair, in booth order."""
    return f"{fair(entry)}cards/"


def printed_fair(entry: Named, paper: str = "a4") -> str:
    """The print-ready catalogue of a fair's exhibitors."""
    return printed("fairs", entry.slug, paper)


def printed(section_name: str, code: str, paper: str = "a4") -> str:
    """A print-ready catalogue of a fair's exhibitors or a term's products, A4 or A5:
    `print/provinces/ca-mau/`, `print/fairs/<slug>/a5/`."""
    return f"{section('print')}{section_name}/{code.lower()}/" + ("" if paper == "a4" else f"{paper}/")


def feed(lang: str) -> str:
    """The Atom feed of a language's new and changed entries."""
    return f"{lang_prefix(lang)}feed.xml"


# The open data, at the site's root (one set for every language)
WORKBOOK = "data/catalogue.xlsx"
DATA_CATALOGUE = "data.json"  # the DCAT description of the tables


def table(name: str, extension: str) -> str:
    """An open-data table as CSV or JSON: `data/products.csv`."""
    return f"data/{name}.{extension}"


def shortlist_data(lang: str) -> str:
    """What the inquiry list shows, for one language (made from the open-data rows)."""
    return f"{section('shortlist')}data-{lang}.json"


def patterns() -> dict[str, str]:
    """Entry paths with `{slug}` in place of the slug, for the search script to fill in."""
    return {"product": product(_Slug()), "facility": facility(_Slug())}


class _Slug:
    slug = "{slug}"
