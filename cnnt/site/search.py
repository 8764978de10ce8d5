"""Search stage: the static index the search page loads, one per language, and the service worker
that keeps the search page and its data working offline.

The browser (static/search.js) does the matching. The index is split so the first result needs few
bytes on a weak connection, however large the catalogue:

- `head`: the facets' terms, the answer to the empty query (its first page of products and every
  facet's counts), and the list of shards with their sizes. Loaded first.
- `shards`: for each word prefix (the first three letters of a folded word, or the whole word when
  shorter), the products with such a word in their name, facility name or tags, with their facilities
  (`_shard`).
  A query's results all have its most selective word's prefix, so the first result needs that one
  shard only (`shard_key`; search.js does the same).
- `data`: per product its name, facility, facets and thumbnail: enough to search names, facility
  names and tags and to count facets. Loaded after the first result, and first when the query has no
  word of three letters or the address ticks filters.
- `text`: an inverted index of the words of the descriptions and summaries, loaded after the first
  results are shown. Words found in more than a quarter of the products tell buyers nothing and
  would make the file large; they are listed as `common` and the browser treats them as matching
  every description.
"""
from __future__ import annotations

import bisect
import datetime as dt
import hashlib
import itertools
import json
import sys
import zlib
from array import array
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TypeAlias

from ..content.config import SiteConfig
from .editor import ADMIN_DIR
from .images import PhotoSet
from ..content.markdown import plain_text
from ..content.model import Catalogue, Product
from ..content.text import distinct_words, fold, place_name, search_words, slugify, sort_key
from ..content.vocab import Term, Vocabularies

COMMON_WORD_SHARE = 0.25
SEARCH_DIR = "search"


@dataclass(frozen=True)
class SearchFile:
    path: str  # relative to the site root; named by a digest of the content, so it can be cached forever
    stored: bytes  # the content, or (`packed`) the content compressed
    packed: bool = False

    @classmethod
    def named(cls, stem: str, content: bytes, packed: bool = False) -> SearchFile:
        """`packed`: kept compressed, for the head and shards, which a build holds from the search
        stage to its end and the engine's cache keeps between builds: 28 MB of JSON at 10k products,
        5 MB packed. A build whose files the live site already holds never unpacks them
        (`write_named` links the file)."""
        path = f"{SEARCH_DIR}/{stem}-{hashlib.blake2b(content, digest_size=5).hexdigest()}.json"
        return cls(path, zlib.compress(content, 1), True) if packed else cls(path, content)

    def content(self) -> bytes:
        """The file's bytes (a method: a packed file is unpacked on each call)."""
        return zlib.decompress(self.stored) if self.packed else self.stored


@dataclass(frozen=True)
class SearchIndex:
    """The index files of one language."""

    lang: str
    data: SearchFile
    text: SearchFile
    head: SearchFile
    shards: tuple[SearchFile, ...] = ()

    @property
    def files(self) -> tuple[SearchFile, ...]:
        return (self.head, self.data, self.text, *self.shards)

    @property
    def offline(self) -> tuple[SearchFile, ...]:
        """What the service worker keeps ahead of need: shards only speed up a first visit."""
        return (self.head, self.data, self.text)


class SearchCache:
    """Kept between builds (by the engine's cache and by `serve`): the words of each searchable text,
    the last description index of each language, which an edit that keeps the products in place
    updates instead of rebuilding, and the head and shards, made again only when `data` changed (an
    edited description leaves them as they were). Words are kept by text, so an untranslated
    product's English words (the same text as its Vietnamese) are worked out once."""

    def __init__(self) -> None:
        # A text's words are kept by a digest of the text, in a sorted tuple of words each held once:
        # kept by the text itself, in sets, they took 160 MB at 10k products (a set of 150 words is
        # a table of 512 slots), and a third of the time to read the engine's cache.
        self._words: dict[bytes, tuple[str, ...]] = {}
        self._used: dict[bytes, tuple[str, ...]] = {}  # by the build under way
        # per language: the products' slugs, their words, and word → the products' positions, in
        # arrays (which the engine's cache reads as one string of bytes each: as lists, a sixth of
        # a second at 10k products)
        self.postings: dict[str, tuple[list[str], list[tuple[str, ...]], dict[str, Postings]]] = {}
        # per language: the last `data` file's content, and the head and shards made from it
        self.split: dict[str, tuple[bytes, SearchFile, tuple[SearchFile, ...]]] = {}

    def words(self, product: Product, lang: str) -> tuple[str, ...]:
        summary = product.summary[lang]
        # kept by a digest of the text as written (HTML, compressed as the catalogue holds it): its
        # plain text is worked out, and the description unpacked, only when new
        digest = hashlib.blake2b(summary.encode("utf-8") + b"\0" + product.description.packed(lang),
                                 digest_size=16).digest()
        words = self._used.get(digest) or self._words.get(digest)
        if words is None:
            words = tuple(sorted(map(sys.intern, distinct_words(
                f"{summary} {plain_text(product.description[lang])}"))))
        self._used[digest] = words
        return words

    def forget_unused(self) -> None:
        """Keep only the words of texts the last build used."""
        self._words, self._used = self._used, {}


def build_indexes(catalogue: Catalogue, vocab: Vocabularies, config: SiteConfig,
                  photos: dict[str, PhotoSet], cache: SearchCache | None = None) -> dict[str, SearchIndex]:
    cache = cache or SearchCache()
    indexes = {lang: build_index(catalogue, vocab, lang, photos, cache) for lang in config.languages}
    cache.forget_unused()
    return indexes


def _carry_on() -> None:
    """A `build_index` that nothing interrupts."""


def build_index(catalogue: Catalogue, vocab: Vocabularies, lang: str, photos: dict[str, PhotoSet],
                cache: SearchCache, give_way: Callable[[], None] = _carry_on) -> SearchIndex:
    """`give_way` is called between the steps (each a few tenths of a second at 10k products): the
    preview's raises when an edit is waiting, which goes first. The cache stays whole wherever it
    stops."""
    # Listed in alphabetical order of the name shown, so the browser sorts by name for free.
    products = sorted(catalogue.products.values(), key=lambda p: (sort_key(p.name[lang]), p.slug))
    facilities = catalogue.sorted_facilities
    facility_index = {facility.slug: number for number, facility in enumerate(facilities)}
    levels = vocab.level_order
    provinces = sorted(vocab.provinces, key=lambda term: sort_key(term.name(lang)))
    markets = sorted({m.code: m for p in products for m in p.export_markets}.values(),
                     key=lambda term: sort_key(term.name(lang)))
    groups = list(vocab.product_groups)
    kinds = list(vocab.facility_kinds)
    on = catalogue.build_date
    held = {c.scheme.code for p in products for c in p.certifications if not c.is_expired(on)}
    schemes = [t for t in vocab.certification_schemes if t.code in held]
    channels = channel_terms(products)
    level_at, province_at, group_at, market_at, kind_at, scheme_at = (
        _positions(terms) for terms in (levels, provinces, groups, markets, kinds, schemes))
    channel_at = {term.code: number for number, term in enumerate(channels)}
    stars = sorted({s for p in products if (s := ocop_stars(p, on))}, reverse=True)
    data: dict[str, list] = {
        "levels": [[t.code, t.name(lang), t.rank] for t in levels],
        "ocop": [[str(n), f"{n} ★"] for n in stars],
        "certifications": _terms(schemes, lang),
        "provinces": [_province_term(term, lang) for term in provinces],
        "groups": _terms(groups, lang),
        "kinds": _terms(kinds, lang),
        "channels": _terms(channels, lang),
        "markets": _terms(markets, lang),
        # the province a facility was in before 2025 ("Bến Tre") is last, if another: buyers still search by it
        "facilities": [[f.slug, f.name[lang], province_at[f.province.term.code], kind_at[f.kind.code]]
                       + ([place_name(f.province.was, lang)] if f.province.was else []) for f in facilities],
        "products": [_product_row(p, lang, catalogue, facility_index, level_at, group_at, market_at, photos)
                     + [stars.index(s) if (s := ocop_stars(p, on)) else -1,
                        sorted({scheme_at[c.scheme.code] for c in p.certifications if not c.is_expired(on)}),
                        sorted({channel_at[slugify(name)] for name in p.domestic_channels if slugify(name)})]
                     for p in products],
    }
    data_file = _file(f"data-{lang}", data)
    give_way()
    split = cache.split.get(lang)
    if split is None or split[0] != data_file.content():  # the head and shards are made from `data` alone
        rows = [[number, row, data["facilities"][row[3]]] for number, row in enumerate(data["products"])]
        split = cache.split[lang] = (data_file.content(), *_head_and_shards(lang, data, rows))
        give_way()
    return SearchIndex(lang, data_file, _file(f"text-{lang}", _text_index(products, lang, cache)), split[1], split[2])


COMMON_SHARD_ROWS = 2000  # a shard of fewer rows is written however common its prefix (see `_head_and_shards`)
SHARD_PREFIX = 3  # letters of a folded word that name its shard (search.js reads it from the head)
PAGE_SIZE = 30  # results shown at first (search.js reads it from the head)


def shard_key(word: str) -> str:
    """The shard a folded word's products are in: its first letters, when they make a file name."""
    prefix = word[:SHARD_PREFIX]
    return prefix if prefix.isascii() and prefix.isalnum() else "_"


def _head_and_shards(lang: str, data: dict[str, list], rows: list[list]) -> tuple[SearchFile, tuple[SearchFile, ...]]:
    """The first file the search page loads, and the shards of product rows by word prefix.
    A row is [position in `data`, the product's row in `data`, its facility's row in `data`]."""
    by_key: dict[str, list[int]] = defaultdict(list)
    places = [{shard_key(word) for word in search_words(province_text(term))} for term in data["provinces"]]
    for number, (_, product, facility) in enumerate(rows):
        keys = {shard_key(word) for text in (product[1], product[2], facility[1], product[8], *facility[4:])
                for word in search_words(text)} | places[facility[2]]
        for key in keys:
            by_key[key].append(number)
    # A prefix most products have ("đặc sản" in every tag list) would be a shard as large as `data`:
    # none is written, and a query with no other word waits for `data`.
    common = max(COMMON_WORD_SHARE * len(rows), COMMON_SHARD_ROWS)
    pieces = _ShardPieces(data)
    shard_files = {key: SearchFile.named(f"shard-{lang}-{key}", pieces.shard(found), packed=True)
                   for key, found in sorted(by_key.items()) if len(found) <= common}
    head: dict[str, object] = {name: data[name] for name in ("levels", "ocop", "certifications", "provinces", "groups", "kinds",
                                          "channels", "markets")}
    head["total"] = len(rows)
    head["page_size"], head["shard_prefix"] = PAGE_SIZE, SHARD_PREFIX
    head["first"] = rows[:PAGE_SIZE]
    head["counts"] = _empty_query_counts(data)
    # key → [file, rows], or [None, rows] for a prefix too common to have a shard
    head["shards"] = {key: [shard_files[key].path.removeprefix(f"{SEARCH_DIR}/") if key in shard_files else None,
                            len(found)] for key, found in sorted(by_key.items())}
    return _file(f"head-{lang}", head, packed=True), tuple(shard_files.values())


def province_text(term: list[str], former: str = "") -> str:
    """What a buyer may type for a facility's province ([code, name, other names] in `data`): its name in
    the page's language and its code's words, the Vietnamese name without marks ("Hanoi" and "ha noi" on
    the English pages), its other names (`_province_term`), and the province it was in before 1 July
    2025 if another (`Bến Tre`, now part of Vĩnh Long: `Province.was`). search.js searches the same
    (`provinceText`)."""
    return " ".join([term[1], term[0].replace("-", " "), *term[2:], former]).rstrip()


class _ShardPieces:
    """Writes shards from JSON pieces made once per product and facility (a product is in a dozen
    shards; serialising its row for each took longer than the rest of the search stage).

    A shard as it travels: `i` the rows' positions in `data` as gaps, `p` their product rows with the
    facility (4th column) counted in `f`, this shard's facilities, each once. (A row whole with its
    facility's row was twice the bytes: facilities repeat, and positions grow.)"""

    def __init__(self, data: dict[str, list]) -> None:
        self.products = data["products"]
        self.before = [_json(row[:3])[:-1] for row in self.products]  # `[slug,name,other` …
        self.after = [_json(row[4:])[1:] for row in self.products]    # … `level,…]`
        self.facilities = [_json(facility) for facility in data["facilities"]]

    def shard(self, numbers: list[int]) -> bytes:
        local: dict[int, int] = {}
        rows = []
        for number in numbers:  # ascending
            at = local.setdefault(self.products[number][3], len(local))
            rows.append(f"{self.before[number]},{at},{self.after[number]}")
        facilities = ",".join(self.facilities[facility] for facility in local)
        return (f'{{"i":{_json(_gaps(numbers))},"p":[{",".join(rows)}],"f":[{facilities}]}}').encode("utf-8")


def _json(value: object) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _empty_query_counts(data: dict) -> list[list[int]]:
    """Every facet's counts with no query and nothing ticked, in search.js's FACETS order."""
    facets = ["levels", "ocop", "certifications", "provinces", "groups", "kinds", "channels", "markets"]
    counts = [[0] * len(data[name]) for name in facets]
    for row in data["products"]:
        facility = data["facilities"][row[3]]
        values = [[row[4]] if row[4] >= 0 else [], [row[9]] if row[9] >= 0 else [], row[10], [facility[2]],
                  [row[5]], [facility[3]], row[11], row[6]]
        for facet, found in enumerate(values):
            for value in found:
                counts[facet][value] += 1
    return counts


def ocop_stars(product: Product, on: dt.date) -> int | None:
    """A product's OCOP rating in force: the most stars of its unexpired OCOP certificates."""
    stars = [c.stars for c in product.certifications if c.scheme.code == "ocop" and c.stars and not c.is_expired(on)]
    return max(stars, default=None)


def channel_terms(products: Iterable[Product]) -> list[Term]:
    """Where to buy: every domestic channel products name, as first written, told apart by slug (so
    `Co.opmart` and `coopmart` are one), the most used first."""
    counts: dict[str, int] = defaultdict(int)
    written: dict[str, str] = {}
    for product in products:
        for slug, name in {slugify(name): name for name in reversed(product.domestic_channels)}.items():
            if slug:
                counts[slug] += 1
                written.setdefault(slug, name)
    ranked = sorted(counts, key=lambda key: (-counts[key], sort_key(written[key])))
    return [Term(key, written[key], written[key]) for key in ranked]


def _product_row(product: Product, lang: str, catalogue: Catalogue, facility_index: dict[str, int],
                 level_at: dict[str, int], group_at: dict[str, int], market_at: dict[str, int],
                 photos: dict[str, PhotoSet]) -> list:
    """[slug, name, other name, facility, level or -1, group, [markets], thumbnail or "", tags]; the
    caller adds [OCOP stars or -1, [certifications in force], [domestic channels]]."""
    award = catalogue.current_award(product)
    name = product.name[lang]
    other = product.name.vi if product.name.vi != name else ""  # English pages also find Vietnamese names
    thumbnail = photos[product.images[0].file].webp[0].url if product.images and product.images[0].file in photos else ""
    return [product.slug, name, other, facility_index[product.facility_slug],
            level_at[award.level.code] if award else -1, group_at[product.group.code],
            [market_at[m.code] for m in product.export_markets], thumbnail, " ".join(product.tags)]


def _text_index(products: list[Product], lang: str, cache: SearchCache) -> dict:
    """Word → the products (by position in `data`) whose summary or description has it."""
    slugs = [product.slug for product in products]
    word_sets = [cache.words(product, lang) for product in products]
    previous = cache.postings.get(lang)
    if previous and previous[0] == slugs:
        postings = _update_postings(previous[1], word_sets, previous[2])
    else:
        postings = defaultdict(_no_postings)
        for number, product_words in enumerate(word_sets):
            for word in product_words:
                postings[word].append(number)
        postings = dict(postings)
    cache.postings[lang] = (slugs, word_sets, postings)
    limit = max(COMMON_WORD_SHARE * len(products), 20)
    common = sorted(word for word, ids in postings.items() if len(ids) > limit)
    words = sorted(word for word in postings if len(postings[word]) <= limit)
    # Gaps between ascending numbers are small and compress well.
    return {"common": common, "words": words, "ids": [_gaps(postings[word]) for word in words]}


Postings: TypeAlias = "array[int]"  # typecode "i": positions of products, ascending


def _no_postings() -> Postings:
    return array("i")


def _update_postings(before: list[tuple[str, ...]], after: list[tuple[str, ...]],
                     postings: dict[str, Postings]) -> dict[str, Postings]:
    """The same products in the same places, some with new words: move only what changed."""
    for number, (old_words, new_words) in enumerate(zip(before, after)):
        if old_words is new_words:
            continue
        old, new = set(old_words), set(new_words)
        for word in old - new:
            postings[word].remove(number)
            if not postings[word]:
                del postings[word]
        for word in new - old:
            bisect.insort(postings.setdefault(word, _no_postings()), number)
    return postings


def _gaps(numbers: Sequence[int]) -> list[int]:
    return [number - previous for previous, number in zip(itertools.chain((0,), numbers), numbers)]


def _province_term(term: Term, lang: str) -> list[str]:
    """[code, name] as other terms, and what else buyers call it, if anything: the English name on the
    Vietnamese pages ("Hanoi"), and the other spellings the vocabulary knows ("Daklak", "Sài Gòn",
    "TPHCM"), but not "Thành phố …", whose words half the country's cities share."""
    known = {fold(term.name(lang)), term.code.replace("-", " ")}
    others = []
    for name in ([term.en] if lang == "vi" else []) + list(term.extra.get("aliases", ())):
        folded = fold(name)
        if folded not in known and not folded.startswith(("thanh pho ", "tinh ")):
            known.add(folded)
            others.append(name)
    return [term.code, term.name(lang)] + ([" ".join(others)] if others else [])


def _terms(terms: list[Term], lang: str) -> list[list[str]]:
    return [[t.code, t.name(lang)] for t in terms]


def _positions(terms: list[Term]) -> dict[str, int]:
    return {term.code: number for number, term in enumerate(terms)}


def _file(stem: str, value: object, packed: bool = False) -> SearchFile:
    return SearchFile.named(stem, _json(value).encode("utf-8"), packed)


def service_worker(indexes: dict[str, SearchIndex], assets: dict[str, bytes]) -> bytes:
    """`sw.js`: precaches the search pages, their data and the assets, so the search works offline
    after one visit (at a fair, the network comes and goes). Its cache is named by a digest of what it
    holds, so a new build replaces the old cache instead of mixing with it."""
    pages = [f"{'' if lang == 'vi' else lang + '/'}{SEARCH_DIR}/" for lang in indexes]
    files = [file for index in indexes.values() for file in index.offline]
    digest = hashlib.blake2b(digest_size=8)
    for file in files:
        digest.update(file.path.encode())
    for name, content in sorted(assets.items()):
        digest.update(name.encode() + content)
    precache = pages + [file.path for file in files] + sorted(assets)
    return SERVICE_WORKER.replace("__VERSION__", digest.hexdigest()).replace(
        "__PRECACHE__", json.dumps(precache)).replace("__ADMIN__", json.dumps(f"{ADMIN_DIR}/")).encode("utf-8")


SERVICE_WORKER = """\
// Generated by build.py (cnnt/site/search.py). Keeps the search pages, their data and the site's assets
// in the phone's cache; pages are fetched fresh when the network answers, and from the cache when not.
'use strict';
const CACHE = 'cnnt-__VERSION__';
const PRECACHE = __PRECACHE__;
const NETWORK_WAIT_MS = 4000;
// The form editor is never kept: it must always be the version the site was built with.
const ADMIN = new URL(__ADMIN__, self.registration.scope).pathname;

self.addEventListener('install', (event) => {
  event.waitUntil(caches.open(CACHE).then((cache) => cache.addAll(PRECACHE)).then(() => self.skipWaiting()));
});

self.addEventListener('activate', (event) => {
  event.waitUntil(caches.keys()
    .then((keys) => Promise.all(keys.filter((key) => key.startsWith('cnnt-') && key !== CACHE)
      .map((key) => caches.delete(key))))
    .then(() => self.clients.claim()));
});

function fromNetwork(request) {
  return fetch(request).then((response) => {
    if (response.ok && response.type === 'basic') {
      const copy = response.clone();
      caches.open(CACHE).then((cache) => cache.put(request, copy));
    }
    return response;
  });
}

function withTimeout(promise, ms) {
  return new Promise((resolve, reject) => {
    setTimeout(() => reject(new Error('timeout')), ms);
    promise.then(resolve, reject);
  });
}

self.addEventListener('fetch', (event) => {
  const request = event.request;
  const url = new URL(request.url);
  if (request.method !== 'GET' || url.origin !== self.location.origin || url.pathname.startsWith(ADMIN)) return;
  if (request.mode === 'navigate') {
    // A page: fresh when the network answers in time, else the copy this phone saw last.
    const network = fromNetwork(request);
    event.respondWith(withTimeout(network, NETWORK_WAIT_MS)
      .catch(() => caches.match(request, { ignoreSearch: true }).then((hit) => hit || network)));
  } else {
    // Data files are named by their content and assets change with the cache's name: cache first.
    event.respondWith(caches.match(request).then((hit) => hit || fromNetwork(request)));
  }
});
"""
