"""The catalogue model: one frozen dataclass per content type, built only by `load`."""
from __future__ import annotations

import datetime as dt
import zlib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from functools import cached_property

from .errors import ContentError
from .places import Commune
from .text import sort_key
from .vocab import Term

# A typical-product certificate is valid from its year until 31 December of the fourth year
# counting that year: an award of 2022 is valid until 31/12/2025.
AWARD_VALID_YEARS = 4


@dataclass(frozen=True)
class Localized:
    """A text in Vietnamese, with an English translation when the entry has one."""

    vi: str
    en: str | None = None

    def get(self, lang: str) -> str:
        return self.en if lang == "en" and self.en else self.vi

    __getitem__ = get  # templates write `product.name[lang]`

    def __bool__(self) -> bool:
        return bool(self.vi or self.en)


@dataclass(frozen=True)
class Description:
    """An entry's description, as HTML (`load.render_markdown`), in Vietnamese and, when translated, in
    English: what `Localized` gives, kept compressed. It is the longest text of an entry, and held as
    Python strings (two bytes a Vietnamese character) the descriptions were a fifth of a build's
    memory after loading: 35 MB at 10,000 products, 175 MB at 50,000; compressed, a quarter of that.
    A page unpacks the one it shows (15 µs); `packed` lets the search data tell an unchanged text
    without unpacking it."""

    packed_vi: bytes = b""
    packed_en: bytes | None = None  # None: not translated (an empty translation counts as none)

    @classmethod
    def of(cls, vi: str, en: str | None = None) -> Description:
        return cls(_pack(vi), _pack(en) if en else None)

    @property
    def vi(self) -> str:
        return _unpack(self.packed_vi)

    @property
    def en(self) -> str | None:
        return None if self.packed_en is None else _unpack(self.packed_en)

    def packed(self, lang: str) -> bytes:
        """The compressed form of what `get(lang)` gives."""
        return self.packed_en if lang == "en" and self.packed_en is not None else self.packed_vi

    def get(self, lang: str) -> str:
        return _unpack(self.packed(lang))

    __getitem__ = get  # as `Localized`: templates write `product.description[lang]`

    def __bool__(self) -> bool:
        return bool(self.packed_vi or self.packed_en)


def _pack(text: str) -> bytes:
    # level 1: a sixth faster than the default (6) at 10k products' 15,000 texts, for 4% more bytes
    return zlib.compress(text.encode("utf-8"), 1) if text else b""


def _unpack(packed: bytes) -> str:
    return zlib.decompress(packed).decode("utf-8") if packed else ""


@dataclass(frozen=True)
class Award:
    """Recognition as a typical CNNT product at one level, in one year."""

    level: Term
    year: int
    decision: str | None = None
    issuer: str | None = None
    region: Term | None = None
    written_level: str | None = None  # e.g. `district`, shown as "formerly district level"
    line: int | None = field(default=None, compare=False)  # where the entry writes it, for messages
    # Set when awards are resolved against the centre's decisions (`awards.resolve`): the slug of
    # the registered decision that backs this award, or None for an award the facility declared;
    # and whether it counts toward the product's current level (site.yaml `declared_awards`).
    registered: str | None = None
    counts: bool = True

    @property
    def declared(self) -> bool:
        """Written by the facility, not backed by a decision the centre registered."""
        return self.registered is None

    @property
    def valid_until(self) -> dt.date:
        return dt.date(self.year + AWARD_VALID_YEARS - 1, 12, 31)

    def is_valid(self, on: dt.date) -> bool:
        return self.year <= on.year and on <= self.valid_until


def best_award(awards: tuple[Award, ...], on: dt.date) -> Award | None:
    """The highest award that counts and is valid on the given day (the most recent among equals):
    a product's current level. An expired or uncounted declared award never is."""
    valid = [award for award in awards if award.counts and award.is_valid(on)]
    return max(valid, key=lambda award: (award.level.rank, award.year, not award.declared), default=None)


@dataclass(frozen=True)
class Certification:
    scheme: Term
    grade: str | None = None
    stars: int | None = None
    number: str | None = None
    year: int | None = None
    expires: dt.date | None = None

    def is_expired(self, on: dt.date) -> bool:
        return self.expires is not None and self.expires < on


@dataclass(frozen=True)
class Contact:
    phone: str | None = None
    zalo: str | None = None
    email: str | None = None
    website: str | None = None

    @property
    def tel_link(self) -> str | None:
        return "tel:" + dial(self.phone) if self.phone else None

    @property
    def zalo_link(self) -> str | None:
        return "https://zalo.me/" + dial(self.zalo).lstrip("+") if self.zalo else None


def dial(number: str) -> str:
    """The digits (and a leading +) of a phone number as written: `0290 3 831 234` → `02903831234`."""
    return ("+" if number.strip().startswith("+") else "") + "".join(ch for ch in number if ch.isdigit())


@dataclass(frozen=True)
class Location:
    lat: float
    lon: float

    @property
    def map_link(self) -> str:
        return f"https://www.openstreetmap.org/?mlat={self.lat}&mlon={self.lon}#map=16/{self.lat}/{self.lon}"


@dataclass(frozen=True)
class Support:
    """Khuyến công support a facility received."""

    year: int
    programme: str  # national | local
    activity: str
    amount_vnd: int | None = None       # the programme's support
    project: str | None = None          # the project (đề án) or decision it was granted under
    activity_kind: Term | None = None   # machinery, demonstration, training, fairs, brand, cleaner-production, other
    counterpart_vnd: int | None = None  # the facility's own funds (kinh phí đối ứng)
    status: Term | None = None          # approved, in-progress, accepted (nghiệm thu)
    jobs: int | None = None             # jobs created


@dataclass(frozen=True)
class Capacity:
    amount: float
    unit: str


@dataclass(frozen=True)
class Withdrawal:
    """A product no longer made, or a facility closed: its page stays (printed QR codes lead there) and
    says so, but it leaves listings, search and counts."""

    date: dt.date
    reason: Localized = Localized("")


@dataclass(frozen=True)
class Image:
    source: str              # path relative to the entry file, as written
    file: str                # absolute path on disk
    alt: str | None = None   # the entry's own description of the photo; pages fall back to the name
    line: int | None = None  # where the entry names it, for messages about the file itself


@dataclass(frozen=True)
class Province:
    """Where a facility is: a current unit, and the former name it wrote if it used one."""

    term: Term
    former: str | None = None
    # The province it was in before 1 July 2025, when that was another than the unit's own: the one it
    # wrote (`former`), or the one its commune was in (Xã Mỏ Cày, Vĩnh Long: Bến Tre). Pages say it
    # ("trước đây là Bến Tre") and buyers search by it; the open data gives `former` as written.
    was: str | None = None

    @property
    def names(self) -> tuple[str, ...]:
        """Every name an address may end with for this province (current, official, former)."""
        extra = self.term.extra
        return (self.term.vi, extra.get("official_name", self.term.vi), *extra.get("former", ()),
                *extra.get("aliases", ()))


@dataclass(frozen=True)
class Facility:
    slug: str
    source: str
    name: Localized
    kind: Term
    province: Province
    contact: Contact
    summary: Localized = Localized("")
    description: Description = Description()
    address: str | None = None   # in the 2025 form when the facility's could be converted without doubt
    address_former: str | None = None  # the address as written, when it was converted
    commune: Commune | None = None     # the 2025 commune, ward or special zone (`commune`, or from `address`)
    commune_former: str | None = None  # the pre-2025 name written in `commune`, when it was one
    location: Location | None = None
    founded: int | None = None
    employees: int | None = None
    maintainers: tuple[str, ...] = ()
    support: tuple[Support, ...] = ()
    images: tuple[Image, ...] = ()
    aliases: tuple[str, ...] = ()  # former slugs: their URLs keep working (printed QR codes)
    withdrawn: Withdrawal | None = None


@dataclass(frozen=True)
class Product:
    slug: str
    source: str
    name: Localized
    facility_slug: str
    group: Term
    summary: Localized = Localized("")
    description: Description = Description()
    awards: tuple[Award, ...] = ()
    export_markets: tuple[Term, ...] = ()
    domestic_channels: tuple[str, ...] = ()
    certifications: tuple[Certification, ...] = ()
    capacity: Capacity | None = None
    # words a translation may give in English (`<slug>.en.md`); empty when not written
    moq: Localized = Localized("")
    packaging: Localized = Localized("")
    shelf_life: Localized = Localized("")
    hs_code: str | None = None
    lead_time: Localized = Localized("")
    tags: tuple[str, ...] = ()
    images: tuple[Image, ...] = ()
    aliases: tuple[str, ...] = ()  # former slugs: their URLs keep working (printed QR codes)
    withdrawn: Withdrawal | None = None

    def current_award(self, on: dt.date) -> Award | None:
        """The highest award still valid on the given day (the most recent among equals)."""
        return best_award(self.awards, on)


@dataclass(frozen=True)
class Decision:
    """A decision of recognition (quyết định công nhận sản phẩm CNNT tiêu biểu): the centre's record
    of which products were recognised at which level, and the only source of a verified award."""

    slug: str
    source: str
    number: str                      # as signed: `1234/QĐ-UBND`
    date: dt.date                    # its year is the award's year
    issuer: str
    level: Term
    products: tuple[str, ...]        # slugs of the products it recognises
    name: Localized = Localized("")  # "Quyết định số …" / "Decision No. …"
    region: Term | None = None       # regional level only
    document: str | None = None      # a link to the signed scan
    summary: Localized = Localized("")
    description: Description = Description()
    aliases: tuple[str, ...] = ()
    number_line: int | None = field(default=None, compare=False)

    @property
    def year(self) -> int:
        return self.date.year


@dataclass(frozen=True)
class Booth:
    facility_slug: str
    booth: str
    line: int | None = None


@dataclass(frozen=True)
class Fair:
    """A trade fair: where and when, and which facilities have which booth."""

    slug: str
    source: str
    name: Localized
    start: dt.date
    end: dt.date
    venue: Localized = Localized("")   # required but for an online fair; English in the translation
    province: Province | None = None   # a fair in Viet Nam
    participants: tuple[Booth, ...] = ()
    website: str | None = None
    summary: Localized = Localized("")
    description: Description = Description()
    aliases: tuple[str, ...] = ()
    country: Term | None = None        # a fair abroad: its country (not VN) and city
    city: str | None = None
    online: str | None = None          # an online fair: where it takes place
    organiser: Localized = Localized("")

    def is_past(self, on: dt.date) -> bool:
        return self.end < on


Entry = Facility | Product | Fair | Decision  # what one file under content/ describes


@dataclass(frozen=True)
class Catalogue:
    """Everything the pages are made from, validated and cross-referenced."""

    facilities: dict[str, Facility]
    products: dict[str, Product]
    build_date: dt.date
    current: dict[str, Award | None] = field(default_factory=dict)
    fairs: dict[str, Fair] = field(default_factory=dict)
    decisions: dict[str, Decision] = field(default_factory=dict)
    # Each product's awards resolved against the decisions (`awards.resolve`): what pages show.
    awards: dict[str, tuple[Award, ...]] = field(default_factory=dict)
    # Entries no longer offered (`withdrawn`, or made by a facility that closed): they keep a page of
    # their own and nothing else; `products` and `facilities` above hold only those still offered.
    withdrawn_products: dict[str, Product] = field(default_factory=dict)
    withdrawn_facilities: dict[str, Facility] = field(default_factory=dict)
    # What `check` asks facilities to look at without failing (`ContentError.warning`).
    warnings: tuple[ContentError, ...] = ()

    @cached_property
    def sorted_fairs(self) -> list[Fair]:
        """Newest first: upcoming and current fairs lead, past ones follow."""
        return sorted(self.fairs.values(), key=lambda f: (f.start, f.slug), reverse=True)

    @cached_property
    def fairs_by_facility(self) -> dict[str, list[Fair]]:
        grouped: dict[str, list[Fair]] = {}
        for fair in self.sorted_fairs:
            for slug in dict.fromkeys(booth.facility_slug for booth in fair.participants):
                grouped.setdefault(slug, []).append(fair)
        return grouped

    @cached_property
    def products_by_facility(self) -> dict[str, list[Product]]:
        grouped: dict[str, list[Product]] = {slug: [] for slug in self.facilities}
        for product in self.sorted_products:
            grouped[product.facility_slug].append(product)
        return grouped

    @cached_property
    def sorted_products(self) -> list[Product]:
        """Products in Vietnamese alphabetical order of their names."""
        return sorted(self.products.values(), key=lambda p: (sort_key(p.name.vi), p.slug))

    @cached_property
    def sorted_facilities(self) -> list[Facility]:
        return sorted(self.facilities.values(), key=lambda f: (sort_key(f.name.vi), f.slug))

    def with_edits(self, swaps: dict[int, Product | Facility], products: dict[str, Product],
                   facilities: dict[str, Facility], current: dict[str, Award | None],
                   awards: dict[str, tuple[Award, ...]], warnings: tuple[ContentError, ...]) -> Catalogue:
        """This catalogue with each entry of `swaps` (by the old entry's id) in place of the old one, for
        edits that move nothing (the preview's quick path), and the tables given: the orders and
        groupings already worked out are kept, with the new entries in them, not sorted again."""
        edited = replace(self, products=products, facilities=facilities, current=current, awards=awards,
                         warnings=warnings)
        for name in _WORKED_OUT:
            if name in self.__dict__:  # where cached_property keeps what it worked out
                edited.__dict__[name] = _swapped(self.__dict__[name], swaps)
        return edited

    def facility_of(self, product: Product) -> Facility:
        found = self.facilities.get(product.facility_slug)
        return found if found is not None else self.withdrawn_facilities[product.facility_slug]

    def withdrawal_of(self, product: Product) -> Withdrawal | None:
        """Why a product is no longer offered: its own withdrawal, or its facility's closing."""
        return product.withdrawn or self.facility_of(product).withdrawn

    @cached_property
    def every_product(self) -> dict[str, Product]:
        """Offered and withdrawn alike (exports, the record of addresses, ownership)."""
        return {**self.products, **self.withdrawn_products}

    @cached_property
    def every_facility(self) -> dict[str, Facility]:
        return {**self.facilities, **self.withdrawn_facilities}

    def every(self, folder: str) -> Mapping[str, Entry]:
        """Every entry of one kind, by the folder kinds.py gives it (`products`), withdrawn ones too:
        the one place that knows which of this catalogue's tables holds each kind."""
        tables: dict[str, Mapping[str, Entry]] = {"facilities": self.every_facility, "products": self.every_product,
                                                  "fairs": self.fairs, "decisions": self.decisions}
        return tables[folder]

    def current_award(self, product: Product) -> Award | None:
        return self.current[product.slug]

    def awards_of(self, product: Product) -> tuple[Award, ...]:
        return self.awards.get(product.slug, product.awards)

    @cached_property
    def sorted_decisions(self) -> list[Decision]:
        """By year, newest first; within a year, the highest level first."""
        return sorted(self.decisions.values(), key=lambda d: (d.year, d.level.rank, d.date, d.slug), reverse=True)


_WORKED_OUT = [name for name, value in vars(Catalogue).items() if isinstance(value, cached_property)]


def _swapped(value: object, swaps: dict[int, Product | Facility]) -> object:
    """Lists and dicts of entries (nested) with the swapped entries in place of the old ones."""
    if isinstance(value, list):
        return [_swapped(item, swaps) for item in value]
    if isinstance(value, dict):
        return {key: _swapped(item, swaps) for key, item in value.items()}
    return swaps.get(id(value), value)
