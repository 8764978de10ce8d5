"""Search stage: the static index the search page loads, one per language, and the service worker
that keeps the search page and its data working offline.

The browser (static/search.js) does the matching. The index is split in two so the first result
needs few bytes on a weak connection:

- `data`: per product its name, facility, facets and thumbnail — enough to search names, facility
  names and tags and to count facets. Loaded first.
- `text`: an inverted index of the words of the descriptions and summaries, loaded after the first
  results are shown. Words found in more than a quarter of the products tell buyers nothing and
  would make the file large; they are listed as `common` and the browser treats them as matching
  every description.
"""
from __future__ import annotations

import bisect
import datetime as dt
import hashlib
import json
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from .config import SiteConfig
from .images import PhotoSet
from .markdown import plain_text
from .model import Catalogue, Product
from .text import distinct_words, slugify, sort_key
from .vocab import Term, Vocabularies

COMMON_WORD_SHARE = 0.25
SEARCH_DIR = "search"


@dataclass(frozen=True)
class SearchFile:
    path: str  # relative to the site root; named by a digest of the content, so it can be cached forever
    content: bytes


@dataclass(frozen=True)
class SearchIndex:
    """The index files of one language."""

    lang: str
    data: SearchFile
    text: SearchFile


class SearchCache:
    """Kept by `serve` between builds: the words of each searchable text, and the last description
    index of each language, which an edit that keeps the products in place updates instead of
    rebuilding. Words are kept by text, so an untranslated product's English words (the same text
    as its Vietnamese) are worked out once."""

    def __init__(self) -> None:
        self._words: dict[str, frozenset[str]] = {}
        self._used: dict[str, frozenset[str]] = {}  # by the build under way
        self.postings: dict[str, tuple[list[str], list[frozenset[str]], dict[str, list[int]]]] = {}

    def words(self, product: Product, lang: str) -> frozenset[str]:
        text = f"{product.summary[lang]} {plain_text(product.description[lang])}"
        words = self._used.get(text, self._words.get(text))
        if words is None:
            words = frozenset(distinct_words(text))
        self._used[text] = words
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


def build_index(catalogue: Catalogue, vocab: Vocabularies, lang: str, photos: dict[str, PhotoSet],
                cache: SearchCache) -> SearchIndex:
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
    schemes = [t for t in vocab.certification_schemes
               if any(c.scheme == t and not c.is_expired(on) for p in products for c in p.certifications)]
    channels = channel_terms(products)
    level_at, province_at, group_at, market_at, kind_at, scheme_at = (
        _positions(terms) for terms in (levels, provinces, groups, markets, kinds, schemes))
    channel_at = {term.code: number for number, term in enumerate(channels)}
    stars = sorted({s for p in products if (s := ocop_stars(p, on))}, reverse=True)
    data = {
        "levels": [[t.code, t.name(lang), t.rank] for t in levels],
        "ocop": [[str(n), f"{n} ★"] for n in stars],
        "certifications": _terms(schemes, lang),
        "provinces": _terms(provinces, lang),
        "groups": _terms(groups, lang),
        "kinds": _terms(kinds, lang),
        "channels": _terms(channels, lang),
        "markets": _terms(markets, lang),
        "facilities": [[f.slug, f.name[lang], province_at[f.province.term.code], kind_at[f.kind.code]]
                       for f in facilities],
        "products": [_product_row(p, lang, catalogue, facility_index, level_at, group_at, market_at, photos)
                     + [stars.index(s) if (s := ocop_stars(p, on)) else -1,
                        sorted({scheme_at[c.scheme.code] for c in p.certifications if not c.is_expired(on)}),
                        sorted({channel_at[slugify(name)] for name in p.domestic_channels if slugify(name)})]
                     for p in products],
    }
    return SearchIndex(lang, _file(f"data-{lang}", data), _file(f"text-{lang}", _text_index(products, lang, cache)))


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
        postings = defaultdict(list)
        for number, product_words in enumerate(word_sets):
            for word in product_words:
                postings[word].append(number)
    cache.postings[lang] = (slugs, word_sets, postings)
    limit = max(COMMON_WORD_SHARE * len(products), 20)
    common = sorted(word for word, ids in postings.items() if len(ids) > limit)
    words = sorted(word for word in postings if len(postings[word]) <= limit)
    # Gaps between ascending numbers are small and compress well.
    return {"common": common, "words": words, "ids": [_gaps(postings[word]) for word in words]}


def _update_postings(before: list[frozenset[str]], after: list[frozenset[str]],
                     postings: dict[str, list[int]]) -> dict[str, list[int]]:
    """The same products in the same places, some with new words: move only what changed."""
    for number, (old, new) in enumerate(zip(before, after)):
        if old is new:
            continue
        for word in old - new:
            postings[word].remove(number)
            if not postings[word]:
                del postings[word]
        for word in new - old:
            bisect.insort(postings.setdefault(word, []), number)
    return postings


def _gaps(numbers: list[int]) -> list[int]:
    return [number - previous for previous, number in zip([0] + numbers, numbers)]


def _terms(terms: list[Term], lang: str) -> list[list[str]]:
    return [[t.code, t.name(lang)] for t in terms]


def _positions(terms: list[Term]) -> dict[str, int]:
    return {term.code: number for number, term in enumerate(terms)}


def _file(stem: str, value: object) -> SearchFile:
    content = json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    digest = hashlib.blake2b(content, digest_size=5).hexdigest()
    return SearchFile(f"{SEARCH_DIR}/{stem}-{digest}.json", content)


def service_worker(indexes: dict[str, SearchIndex], assets: dict[str, bytes]) -> bytes:
    """`sw.js`: precaches the search pages, their data and the assets, so the search works offline
    after one visit (at a fair, the network comes and goes). Its cache is named by a digest of what it
    holds, so a new build replaces the old cache instead of mixing with it."""
    pages = [f"{'' if lang == 'vi' else lang + '/'}{SEARCH_DIR}/" for lang in indexes]
    files = [file for index in indexes.values() for file in (index.data, index.text)]
    digest = hashlib.blake2b(digest_size=8)
    for file in files:
        digest.update(file.path.encode())
    for name, content in sorted(assets.items()):
        digest.update(name.encode() + content)
    precache = pages + [file.path for file in files] + sorted(assets)
    return SERVICE_WORKER.replace("__VERSION__", digest.hexdigest()).replace(
        "__PRECACHE__", json.dumps(precache)).encode("utf-8")


SERVICE_WORKER = """\
// Generated by build.py (cnnt/search.py). Keeps the search pages, their data and the site's assets
// in the phone's cache; pages are fetched fresh when the network answers, and from the cache when not.
'use strict';
const CACHE = 'cnnt-__VERSION__';
const PRECACHE = __PRECACHE__;
const NETWORK_WAIT_MS = 4000;

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
  if (request.method !== 'GET' || new URL(request.url).origin !== self.location.origin) return;
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
