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
import os
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


def sitemap_files(paths: list[str], config: SiteConfig, changed: dict[str, dt.date]) -> dict[str, str]:
    """File name → XML: `sitemap.xml`, or an index of `sitemap-N.xml` parts for a large site, listing
    `paths` (`indexed_paths`). `changed` gives a path its last-modified day."""
    urls = _Urls(config)
    entries = [entry for path in paths for entry in urls.of(path, changed.get(path))]
    if len(entries) <= URLS_PER_FILE:
        return {"sitemap.xml": _urlset(entries)}
    parts = {f"sitemap-{n + 1}.xml": _urlset(entries[start:start + URLS_PER_FILE])
             for n, start in enumerate(range(0, len(entries), URLS_PER_FILE))}
    index = "".join(f"<sitemap><loc>{escape(config.base_url + name)}</loc></sitemap>\n" for name in parts)
    return {**parts, "sitemap.xml": ('<?xml version="1.0" encoding="UTF-8"?>\n'
                                     '<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n'
                                     f"{index}</sitemapindex>\n")}


class _Urls:
    """The `<url>` of a page in each language, each naming all of them as alternates. Escaping works
    character by character, so each language's start of address is escaped once, and each path once
    (escaping every whole address took most of the time for 14,000 pages)."""

    def __init__(self, config: SiteConfig) -> None:
        self.languages = config.languages
        self.starts = {lang: _escaped(config.base_url + lang_prefix(lang)) for lang in config.languages}
        self.default = _escaped(config.base_url)

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


def _urlset(entries: list[str]) -> str:
    return ('<?xml version="1.0" encoding="UTF-8"?>\n'
            '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" xmlns:xhtml="http://www.w3.org/1999/xhtml">\n'
            + "".join(entries) + "</urlset>\n")


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
