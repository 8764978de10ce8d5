"""What search engines read: `sitemap.xml` (every page meant to be found, in each language with its
`hreflang` alternates and, for entry pages, `lastmod` from the content) and `robots.txt`.

Pages that must not be indexed say so themselves (`noindex`): redirects, booth cards, printable
catalogues, withdrawn entries, the 404 page, and every page of a local preview.

`lastmod` is the day an entry's files last changed: the date of the last git commit that touched
them (so two builds of one commit agree), or the file's own time for a change not committed yet
or a content folder outside git.
"""
from __future__ import annotations

import datetime as dt
import math
import os
from collections.abc import Iterator
from pathlib import Path
from xml.sax.saxutils import escape

from ..content.config import SiteConfig
from ..system import gitfiles
from .pages import Page
from .urls import lang_prefix

# Pages of these templates are not for search engines (each also says `noindex`).
NOT_INDEXED = frozenset({"404.html", "redirect.html", "cards.html", "withdrawn.html", "print.html", "print-index.html",
                         "search.html", "shortlist.html"})
ATTRIBUTE_ENTITIES = {'"': "&quot;", "\n": "&#10;", "\r": "&#13;", "\t": "&#9;"}
URLS_PER_FILE = 50_000  # the sitemap protocol's limit; a larger site gets an index of several files


def indexed_paths(pages: list[Page], config: SiteConfig) -> list[str]:
    """The paths (without language prefix) of the pages the sitemap lists, in order."""
    return sorted({page.path for page in pages if page.template not in NOT_INDEXED and page.lang == config.languages[0]})


def sitemap_files(paths: list[str], config: SiteConfig, changed: dict[str, dt.date]
                  ) -> Iterator[tuple[str, Iterator[bytes]]]:
    """(file name, its UTF-8 XML in pieces) of `sitemap.xml`, or of the `sitemap-N.xml` parts of a
    large site and their index, listing `paths` (`indexed_paths`). `changed` gives a path its
    last-modified day. Each file is made as it is written, a few hundred addresses at a time: at
    50,000 products the parts are 60 MB, and made whole (their lines, then the text, then its bytes)
    they were the peak of a build's memory."""
    urls = _Urls(config, paths, changed)
    if urls.count <= URLS_PER_FILE:
        yield "sitemap.xml", _urlset(urls, 0, urls.count)
        return
    names = [f"sitemap-{n + 1}.xml" for n in range(math.ceil(urls.count / URLS_PER_FILE))]
    for n, name in enumerate(names):
        yield name, _urlset(urls, n * URLS_PER_FILE, min((n + 1) * URLS_PER_FILE, urls.count))
    index = "".join(f"<sitemap><loc>{escape(config.base_url + name)}</loc></sitemap>\n" for name in names)
    yield "sitemap.xml", iter([('<?xml version="1.0" encoding="UTF-8"?>\n'
                                '<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n'
                                f"{index}</sitemapindex>\n").encode("utf-8")])


class _Urls:
    """The `<url>`s of the sitemap: each page in each language, one after another, each naming all of
    them as alternates. Escaping works character by character, so each language's start of address
    is escaped once, and each path once (escaping every whole address took most of the time for
    14,000 pages)."""

    def __init__(self, config: SiteConfig, paths: list[str], changed: dict[str, dt.date]) -> None:
        self.languages, self.paths, self.changed = config.languages, paths, changed
        self.starts = {lang: _escaped(config.base_url + lang_prefix(lang)) for lang in config.languages}
        self.default = _escaped(config.base_url)
        self.count = len(paths) * len(self.languages)

    def between(self, first: int, end: int) -> Iterator[str]:
        """The `<url>`s from the `first` to before the `end`, counted over every page's languages."""
        languages = len(self.languages)
        for number in range(first // languages, math.ceil(end / languages)):
            lines = self.of(self.paths[number], self.changed.get(self.paths[number]))
            start = number * languages
            yield from lines[max(first - start, 0): end - start]

    def of(self, path: str, day: dt.date | None) -> list[str]:
        escaped = _escaped(path)
        alternates = "".join(f'<xhtml:link rel="alternate" hreflang="{other}" href="{self.starts[other]}{escaped}"/>'
                             for other in self.languages)
        alternates += f'<xhtml:link rel="alternate" hreflang="x-default" href="{self.default}{escaped}"/>'
        lastmod = f"<lastmod>{day.isoformat()}</lastmod>" if day else ""
        return [f"<url><loc>{self.starts[lang]}{escaped}</loc>{lastmod}{alternates}</url>\n" for lang in self.languages]


def _escaped(text: str) -> str:
    """`text` escaped for XML, inside an element or a double-quoted attribute (as `quoteattr` does)."""
    return escape(text, ATTRIBUTE_ENTITIES)


URLS_PER_PIECE = 500  # the `<url>`s made and encoded together (`_urlset`)


def _urlset(urls: _Urls, first: int, end: int) -> Iterator[bytes]:
    yield (b'<?xml version="1.0" encoding="UTF-8"?>\n'
           b'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" xmlns:xhtml="http://www.w3.org/1999/xhtml">\n')
    for start in range(first, end, URLS_PER_PIECE):
        yield "".join(urls.between(start, min(start + URLS_PER_PIECE, end))).encode("utf-8")
    yield b"</urlset>\n"


def robots_txt(config: SiteConfig, preview: bool) -> str:
    if preview:  # a local preview is never to be indexed
        return "User-agent: *\nDisallow: /\n"
    return f"User-agent: *\nAllow: /\n\nSitemap: {config.base_url}sitemap.xml\n"


def change_dates(files: list[str], kept: Path | None = None) -> dict[str, dt.date]:
    """The day each file last changed: its last commit's, or its own time where git cannot say.
    `kept`: a file in which the commits' days are kept from build to build (see `gitfiles.commit_dates`).
    (Paths as strings throughout: as Path objects they took most of the time for 20,000 files.)"""
    committed = gitfiles.commit_dates(os.path.dirname(files[0]), kept) if files else {}
    dates = {}
    folders: dict[str, str] = {}  # resolved once per folder: resolving each of 20,000 files took a second
    for file in files:
        parent, name = os.path.split(file)
        folder = folders.get(parent)
        if folder is None:
            folder = folders[parent] = os.path.realpath(parent)
        day = committed.get(os.path.join(folder, name))
        if day is None:
            try:
                day = dt.datetime.fromtimestamp(os.stat(file).st_mtime, dt.timezone.utc).date()
            except OSError:
                continue
        dates[file] = day
    return dates
