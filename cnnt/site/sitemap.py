"""What search engines read: `sitemap.xml` (every page meant to be found, in each language with its
`hreflang` alternates and, for entry pages, `lastmod` from the content) and `robots.txt`.

Pages that must not be indexed say so themselves (`noindex`): redirects, booth cards, printable
catalogues, withdrawn entries, the 404 page, and every page of a local preview.

`lastmod` is the day an entry's files last changed: the date of the last git commit that touched
them (so two builds of one commit agree), or the file's own time for a change not committed yet
or a content folder outside git.
"""
from __future__ import annotations

import contextlib
import datetime as dt
import os
import pickle
import subprocess
from pathlib import Path
from xml.sax.saxutils import escape

from ..content.config import SiteConfig
from ..system.write import write_atomic
from .pages import Page
from .urls import lang_prefix

# Pages of these templates are not for search engines (each also says `noindex`).
NOT_INDEXED = frozenset({"404.html", "redirect.html", "cards.html", "withdrawn.html", "print.html", "print-index.html",
                         "search.html", "shortlist.html"})
ATTRIBUTE_ENTITIES = {'"': "&quot;", "\n": "&#10;", "\r": "&#13;", "\t": "&#9;"}
URLS_PER_FILE = 50_000  # the sitemap protocol's limit; a larger site gets an index of several files


def sitemap_files(pages: list[Page], config: SiteConfig, changed: dict[str, dt.date]) -> dict[str, str]:
    """File name → XML: `sitemap.xml`, or an index of `sitemap-N.xml` parts for a large site.
    `changed` gives a page path (without language prefix) its last-modified day."""
    paths = sorted({page.path for page in pages if page.template not in NOT_INDEXED and page.lang == config.languages[0]})
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
    `kept`: a file in which the commits' days are kept from build to build (see `_commit_days`).
    (Paths as strings throughout: as Path objects they took most of the time for 20,000 files.)"""
    committed = _commit_dates(os.path.dirname(files[0]), kept) if files else {}
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


def _commit_dates(folder: str, kept: Path | None = None) -> dict[str, dt.date]:
    """For each file under the repository that holds `folder` and is unchanged since its last commit,
    that commit's day, by its resolved path."""
    try:
        top = _git(folder, "rev-parse", "--show-toplevel").strip()
        days = _commit_days(top, kept)
        dirty = _git(top, "status", "--porcelain", "-z", "--untracked-files=no", "--no-renames")
    except (OSError, subprocess.CalledProcessError):
        return {}
    folders: dict[str, str] = {}  # each folder resolved once (see change_dates)

    def resolved(relative: str) -> str:
        parent, _, name = relative.rpartition("/")
        found = folders.get(parent)
        if found is None:
            found = folders[parent] = os.path.realpath(os.path.join(top, parent))
        return os.path.join(found, name)

    modified = {resolved(entry[3:]) for entry in dirty.split("\0") if len(entry) > 3}
    dates = {resolved(relative): dt.date.fromordinal(day) for relative, day in days.items()}
    return {path: day for path, day in dates.items() if path not in modified}


KEPT_DAYS_VERSION = 1


def _commit_days(top: str, kept: Path | None) -> dict[str, int]:
    """Each file of the repository at `top` (relative, with "/") → the day (an ordinal) of the latest
    commit that changed it. One `git log` of the whole history took 3.5 s for 5,000 commits, and every
    merged pull request adds to it: with `kept`, the days worked out up to the commit the last build
    saw are taken from it, and only the commits since are read. A history rewritten since (that
    commit no longer an ancestor), a damaged file, or another repository: the whole history again."""
    head = _git(top, "rev-parse", "HEAD").strip()
    before = _read_kept(kept, top)
    if before is not None and before[0] == head:
        return before[1]
    if before is not None and _is_ancestor(top, before[0], head):
        days = dict(before[1])
        for relative, day in _log_days(top, f"{before[0]}..{head}").items():
            days[relative] = max(day, days.get(relative, day))
    else:
        days = _log_days(top, head)
    if kept is not None:
        with contextlib.suppress(OSError):
            kept.parent.mkdir(parents=True, exist_ok=True)
            write_atomic(kept, pickle.dumps((KEPT_DAYS_VERSION, top, head, days), pickle.HIGHEST_PROTOCOL),
                         durable=False)
    return days


def _log_days(top: str, commits: str) -> dict[str, int]:
    """The files the commits changed → the day of the latest of them that changed each (merges show
    no files of their own: their branches' commits do)."""
    log = _git(top, "log", "--format=%x00%ct", "--name-only", "--no-renames", "-z", commits, "--", ".")
    days: dict[str, int] = {}
    day = None
    for field in log.split("\0"):
        field = field.strip("\n")
        if not field:
            continue
        if field.isdigit() and len(field) >= 9:  # a commit's time, then the files it changed
            day = dt.datetime.fromtimestamp(int(field), dt.timezone.utc).date().toordinal()
            continue
        if day is not None and day > days.get(field, 0):
            days[field] = day
    return days


def _read_kept(kept: Path | None, top: str) -> tuple[str, dict[str, int]] | None:
    """(the commit, the days) a build kept for the repository at `top`; None if there are none."""
    if kept is None:
        return None
    try:
        version, kept_top, head, days = pickle.loads(kept.read_bytes())
    except Exception:  # missing, cut short, damaged, or of another shape
        return None
    if version != KEPT_DAYS_VERSION or kept_top != top or not isinstance(head, str) or not isinstance(days, dict):
        return None
    return head, days


def _is_ancestor(top: str, older: str, newer: str) -> bool:
    """Whether commit `older` is in `newer`'s history (False for an unknown commit, as in a shallow clone)."""
    try:
        _git(top, "merge-base", "--is-ancestor", older, newer)
    except subprocess.CalledProcessError:
        return False
    return True


def _git(folder: str, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=folder, capture_output=True, text=True, check=True,
                          env={**os.environ, "GIT_LITERAL_PATHSPECS": "1"}).stdout
