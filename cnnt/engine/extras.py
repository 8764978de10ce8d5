"""What a build writes besides its pages: static files, search data, vCards, redirects, schemas, the
editor, the open data, the sitemap and feeds, and the photos; the groups of them taken from the live
site while what they are made from is the same (`Kept`); and what it begins in workers as soon as the
catalogue is checked or the pages are laid out (`Ahead`). `pipeline` writes the open data after the
pages and the rest while workers sign the pages; the preview writes the same files after a reload.

May import: `cnnt.content`, `cnnt.site`, `cnnt.system`; `incremental` and `model`."""
from __future__ import annotations

import contextlib
import datetime as dt
import os
import shutil
import sys
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

from ..content.config import SiteConfig
from ..content.kinds import BY_MODEL as KINDS_BY_MODEL
from ..content.model import Catalogue, Entry, Facility, Product
from ..site import editor, exports, feeds, images, inquiry, previews, redirects, schema, search, sitemap, urls, vendor
from ..site.pages import Page
from ..site.vcard import facility_vcard
from ..system import parallel
from ..system.write import copy_tree, left_by_an_editor, link_into, write_bytes, write_named, write_text
from . import incremental
from .model import BuildOptions, Plan


def write_extras(site: Plan, options: BuildOptions, root: Path, kept: Kept | None = None,
                 vcards: Iterable[Facility] | None = None, ahead: Ahead | None = None) -> Kept:
    """Everything but the pages: `write_besides_pages`, then the open-data files (from `ahead`'s
    worker, if given). `kept`: what of the live site may be kept (the preview makes everything)."""
    kept = kept or Kept()
    write_besides_pages(site, options, root, vcards, ahead, kept)
    write_data(site, root, kept, ahead)
    return kept


def write_besides_pages(site: Plan, options: BuildOptions, root: Path, vcards: Iterable[Facility] | None = None,
                        ahead: Ahead | None = None, kept: Kept | None = None) -> None:
    """What a build writes but its pages and the open data (which a worker may still be making):
    static files, search data, vCards (of `vcards`, if given: the others are in place), redirects,
    schemas, the editor, sitemap, feeds (with the pages' dates from `ahead`'s worker, if given) and
    photos. `kept`: the live site, and the groups of files it may give."""
    write_site_files(site, options, root, vcards, kept)
    dates = ahead.dates if ahead is not None else None
    write_discovery(site, options, root, dates.result() if dates is not None else None, kept)
    publish_images(site, options, root)


def write_site_files(site: Plan, options: BuildOptions, root: Path, vcards: Iterable[Facility] | None = None,
                     kept: Kept | None = None) -> None:
    """What `write_extras` writes but the open data and what search engines read: static files,
    search data (linked from `kept`'s live site where it has them), vCards (of `vcards`, if given),
    redirects, schemas and the editor."""
    copy_tree(options.static_dir, root / "static")
    write_search(site.indexes, options.static_dir, root, kept.old_site if kept else None)
    for facility in site.catalogue.facilities.values() if vcards is None else vcards:
        write_vcard(site, facility, root)
    write_redirects(site, root)
    for name, text in schema.schema_files(site.vocab).items():
        write_text(root, name, text)
    write_editor(site, options, root, kept=kept)


def write_editor(site: Plan, options: BuildOptions, root: Path, assets: bool = True, kept: Kept | None = None) -> None:
    """The form editor at /admin/: its configuration, made from the schemas and the catalogue's entries
    (kept from the live site while those entries' names are the same: a fifth of a second at 10k
    products), and (`assets`) its files, pinned in package-lock.json (kept from the live site while
    the pins are the same: 6 MB read and written again by every build). Without them (no `npm ci`, no
    network) the page says how to get them."""
    kept = kept or Kept()
    if assets:
        try:
            kept.write(root, "editor-assets", vendor.pins_key(), lambda: vendor.editor_assets(options.npm_cache).items())
        except OSError as exc:
            print(f"cảnh báo · warning: {editor.ADMIN_DIR}/: {exc}", file=sys.stderr)
            write_text(root, f"{editor.ADMIN_DIR}/index.html", editor.missing_page(str(exc)))
            return
    # what the configuration is made from besides the schemas, settings and build date (in `page_key`)
    names = [(kind.folder, entry.slug, entry.name.vi) for entries, kind in
             ((site.catalogue.facilities, KINDS_BY_MODEL[Facility]), (site.catalogue.products, KINDS_BY_MODEL[Product]))
             for entry in entries.values()]
    kept.write(root, "editor", names,
               lambda: editor.editor_files(site.vocab, site.config, site.catalogue, vendor.IMPORTS).items())


def publish_images(site: Plan, options: BuildOptions, root: Path) -> None:
    images.publish(site.photos, options.cache_dir, root)
    previews.publish(site.drawn, options.previews_dir, root)


class Kept:
    """Groups of files a build takes from the live site (`old_site`) while what they are made from is
    the same as when it made them (`previous`: each group's digest and files), else makes anew. What
    every page depends on (templates, settings, vocabularies, build date, code: `page_key`) is in each
    digest. `made` is what the next build is given. Without an old site (a clean build, the
    preview), everything is made."""

    def __init__(self, previous: dict[str, incremental.Made] | None = None, old_site: Path | None = None,
                 page_key: str = "") -> None:
        self.previous = previous or {}
        self.old_site, self.page_key = old_site, page_key
        self.made: dict[str, incremental.Made] = {}

    def digest(self, inputs: object) -> str:
        return incremental.tree_key(self.page_key, inputs)

    def write(self, root: Path, group: str, inputs: object,
              make: Callable[[], Iterable[tuple[str, bytes | Iterable[bytes]]]]) -> None:
        """Write `group`'s files, made from `inputs` by `make` as (path, content) pairs: each is written
        as it comes, so a group need not be held whole (the sitemap's parts)."""
        def written() -> tuple[str, ...]:
            paths = []
            for path, content in make():
                write_bytes(root, path, content)
                paths.append(path)
            return tuple(paths)
        self.place(root, group, self.digest(inputs), written)

    def place(self, root: Path, group: str, digest: str, put: Callable[[], tuple[str, ...]]) -> None:
        """Take `group`'s files from the live site if `digest` (of what they are made from) is the one
        they were made with; else `put` them into `root`, which gives their paths."""
        before, files = self.previous.get(group, ("", ()))
        if (self.page_key and self.old_site is not None and before == digest
                and all(link_into(self.old_site, root, path) for path in files)):
            self.made[group] = (digest, files)
            return
        self.made[group] = (digest, put())


class Ahead:
    """What a build begins in workers as soon as `plan` has checked the catalogue, while the build goes
    on with the search data, pages and signatures (which use one core but for the signatures):
    - the open-data files (the workbook alone takes seconds at 10k products), unless the last build's
      can be kept (`kept`, see `write_data`); written by the worker into `folder`, from which the
      build links them (`open_data_into`);
    - each entry page's day of last change, for the sitemap and feeds (`page_dates`: a file's time, or
      one `git log` of the whole history, which grows with every merged pull request);
    - once `plan` has laid the pages out, their signatures (`sign`), while the build makes the QR codes
      and waits for the search data.
    Used as a context, it ends the workers on the way out."""

    def __init__(self, kept: Kept, jobs: int | None) -> None:
        self.kept, self.jobs = kept, jobs
        self.digest = ""  # what says two builds' files are the same: their tables, and what every page depends on
        self.files: parallel.Later[tuple[str, ...]] | None = None  # their paths, in `folder`
        self.folder = Path()
        self.dates: parallel.Later[dict[str, dt.date]] | None = None
        self.making_files = False  # whether the open-data files are made anew (a worker's work for seconds)
        self.describer: incremental.Describer | None = None
        self.signing: tuple[list[Page], Callable[[], dict[str, str]]] | None = None  # the pages, their signatures
        self._stack = contextlib.ExitStack()

    def begin(self, catalogue: Catalogue, tables: Tables, config: SiteConfig, options: BuildOptions) -> None:
        """Begin the work; the build may then let go of `tables` (`Tables.let_go`): a worker forked here has them."""
        self.digest = self.kept.digest(tables.rows())
        self.folder = options.open_data_dir
        self.files = parallel.Later(open_data_into, self.folder, tables, config, catalogue.build_date)
        self.making_files = self.digest != self.kept.previous.get("data", ("", ()))[0]
        if self.making_files:
            self.files.start(self.jobs)
        self.dates = parallel.Later(page_dates, catalogue, options)
        self.dates.start(self.jobs)

    def sign(self, describer: incremental.Describer, pages: list[Page]) -> None:
        """Begin signing `pages` in workers, unless a worker makes the open-data files: beside it, they
        would slow the build's own work on two cores, and the build signs the pages once the search
        data is in. `signing` gives the pages and what waits for their signatures."""
        self.describer = describer
        if not self.making_files:
            self.signing = (pages, self._stack.enter_context(describer.signing(pages, self.jobs)))

    def signed(self) -> dict[str, str]:
        """The signatures of the pages given to `sign`, once all have come; its workers then end."""
        assert self.signing is not None, "signed() follows sign()"
        try:
            return self.signing[1]()
        finally:
            self._stack.close()

    def __enter__(self) -> Ahead:
        return self

    def __exit__(self, *exc: object) -> None:
        self._stack.close()
        for work in (self.files, self.dates):
            if work is not None:
                work.stop()


def open_data_files(tables: dict[str, list[dict]], config: SiteConfig, day: dt.date) -> dict[str, bytes]:
    """Site path → content: the tables as CSV, JSON and one workbook, their catalogue, the shortlist's."""
    return dict(each_open_data_file(tables, config, day))


def each_open_data_file(tables: dict[str, list[dict]], config: SiteConfig, day: dt.date) -> Iterator[tuple[str, bytes]]:
    """`open_data_files` one at a time, each made once the one before is taken (written, by a build)."""
    yield from exports.each_data_file(tables, config, day)
    yield from inquiry.shortlist_files(tables, config.languages).items()


class Tables:
    """The open-data tables' rows, which a build holds only while it digests and counts them and forks
    the worker that writes their files (`let_go`): held to the end, they were 17 MB at 10,000 products
    (some 85 MB at 50,000) in the build's own process and in every worker forked from it after. Asked
    for again (the worker failed, or the files the last build made are missing from the live site),
    they are made again from the catalogue."""

    def __init__(self, catalogue: Catalogue, config: SiteConfig) -> None:
        self.catalogue, self.config = catalogue, config
        self._rows: dict[str, list[dict]] | None = exports.table_rows(catalogue, config)

    def rows(self) -> dict[str, list[dict]]:
        if self._rows is None:
            return exports.table_rows(self.catalogue, self.config)
        return self._rows

    def let_go(self) -> None:
        self._rows = None


def open_data_into(folder: Path, tables: Tables, config: SiteConfig, day: dt.date) -> tuple[str, ...]:
    """`open_data_files`, written into `folder` (emptied first); their paths. What `Ahead`'s worker
    sends back: sent through a pipe, the files themselves (90 MB at 50,000 products) were held twice
    by the build at once, the peak of its memory."""
    shutil.rmtree(folder, ignore_errors=True)
    paths = []
    for path, content in each_open_data_file(tables.rows(), config, day):
        write_bytes(folder, path, content)
        paths.append(path)
    return tuple(paths)


def write_data(site: Plan, root: Path, kept: Kept, ahead: Ahead | None = None) -> None:
    """The open-data files, kept from the live site while the tables they are made from are the same;
    else made here, or linked from the folder `ahead`'s worker wrote them into."""
    if ahead is None or ahead.files is None:
        tables = site.tables
        assert tables is not None, "held by a plan made without `ahead` (the preview's)"
        kept.write(root, "data", tables, lambda: each_open_data_file(tables, site.config, site.catalogue.build_date))
        return
    work, folder = ahead.files, ahead.folder

    def linked() -> tuple[str, ...]:
        paths = work.result()
        for path in paths:
            if not link_into(folder, root, path):
                raise FileNotFoundError(f"{folder / path}: written by the open data's worker, now missing")
        return paths
    try:
        kept.place(root, "data", ahead.digest, linked)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def write_redirects(site: Plan, root: Path) -> None:
    """Former addresses → current ones, for the hosts that read a file of them (the redirect pages
    work everywhere): `_redirects`, `.htaccess` (Apache), `nginx-redirects.conf`."""
    write_text(root, "_redirects", redirects.redirects_file(site.moved, site.config))
    write_text(root, ".htaccess", redirects.htaccess(site.moved, site.config))
    write_text(root, "nginx-redirects.conf", redirects.nginx_redirects(site.moved, site.config))


def write_discovery(site: Plan, options: BuildOptions, root: Path, dates: dict[str, dt.date] | None = None,
                    kept: Kept | None = None) -> None:
    """What search engines and feed readers read: sitemap, robots.txt (and feeds). `dates`: each entry
    page's day of last change, when the caller keeps them (the preview); else they are read here.
    `kept`: the sitemap is kept from the live site while its pages and their days are the same."""
    preview = options.preview_url is not None
    changed = page_dates(site.catalogue, options) if dates is None else dates
    paths = sitemap.indexed_paths(site.pages, site.config)
    days = [(path, changed.get(path)) for path in paths]
    (kept or Kept()).write(root, "sitemap", days, lambda: sitemap.sitemap_files(paths, site.config, changed))
    write_text(root, "robots.txt", sitemap.robots_txt(site.config, preview))
    for lang in site.config.languages:
        write_text(root, urls.feed(lang),
                   feeds.atom_feed(site.catalogue, site.config, lang, site.renderer.strings_by_lang[lang], changed))


def page_dates(catalogue: Catalogue, options: BuildOptions) -> dict[str, dt.date]:
    """Each entry page's path → the day its entry's files last changed."""
    entries: list[Entry] = [*catalogue.products.values(), *catalogue.facilities.values(), *catalogue.fairs.values(),
                            *catalogue.decisions.values()]
    return entry_dates(entries, options)


def entry_dates(entries: list[Entry], options: BuildOptions) -> dict[str, dt.date]:
    """These entries' pages → the day each entry's files last changed (git's, or the files' own)."""
    files_of = {KINDS_BY_MODEL[type(entry)].path(entry): _entry_files(entry, options) for entry in entries}
    dates = sitemap.change_dates([file for files in files_of.values() for file in files], options.commit_days_file)
    return {path: max(dates[file] for file in files if file in dates)
            for path, files in files_of.items() if any(file in dates for file in files)}


def _entry_files(entry: Entry, options: BuildOptions) -> list[str]:
    """An entry's main file, its translation if there is one, and its photos. (Paths as strings:
    as Path objects, they were most of the time it takes to date 12,000 entries.)"""
    main = os.path.join(options.display_root, entry.source)
    translation = main[: -len(".md")] + ".en.md"
    files = [main, translation] if os.path.isfile(translation) else [main]
    return files + [str(image.file) for image in getattr(entry, "images", ())]


def write_vcard(site: Plan, facility: Facility, root: Path) -> None:
    write_bytes(root, urls.vcard(facility), facility_vcard(facility, site.config.base_url + urls.facility(facility)))


def write_search(indexes: dict[str, search.SearchIndex], static_dir: Path, staging: Path,
                 old_site: Path | None = None) -> None:
    """The index files (named by their content: one already there, or in `old_site`, is not written
    again) and the service worker that keeps them, with the assets, for offline use."""
    for index in indexes.values():
        for file in index.files:
            write_named(staging, file.path, file.content, old_site)  # (unpacked only if written)
    assets = {f"static/{path.relative_to(static_dir).as_posix()}": path.read_bytes()  # as `copy_tree` copies them
              for path in sorted(static_dir.rglob("*")) if path.is_file() and not left_by_an_editor(path.name)}
    write_bytes(staging, "sw.js", search.service_worker(indexes, assets))
