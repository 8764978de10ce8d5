"""The preview's engine: the last good build kept in memory, and the cheapest way to bring it up to
date after an edit (serve.py watches files, serves the folder and reloads the browser).

- The first build is a normal one. Afterwards `Preview` keeps the last good build in memory (parsed
  entries, search words, QR codes, compiled templates, and a signature of what each page shows, by
  the build's own rule, `incremental.Describer`) and, after an edit to content, re-renders only the
  pages whose signature changed: one product edited re-renders that product, its facility, their
  cards and listings, and the search data. It keeps the digest of every content file too, and reads
  again only the files the watcher names or whose size, time or inode changed.
- An edit to products or facilities that keeps their addresses and photos (and a product's
  facility, a facility's province, commune and kind) is not planned again (`_quick`): the edited
  files are parsed again and the pages that show them re-rendered; an edit that moves a product to
  other listings (a new group, level, market, rating…) or an entry in the orders by name lays the
  pages out again and re-renders those that differ.
- A change to the code rebuilds everything; a change to static files copies them. A change to
  templates renders every page again from the same plan, the pages the browser shows first (below),
  once every template reads without a syntax mistake. A change to settings or vocabularies plans
  again (the parse results kept if they still hold) and renders every page again the same way.
- When an edit breaks validation, the last good site stays in place and `errors` holds every error
  (file, line, message) until they are fixed; `warnings` are the last good build's. A rebuild that
  fails once it has written pages (a full disk, a template), or with a bug, leaves the next to build
  everything.
- Pages are written in place, not swapped in whole as a build's are: a preview publishes nothing,
  and an edit shows in the browser within half a second.
- What a reloaded page does not show waits until after the reload. Of the pages an edit changes (a
  product moved in A–Z changes 1,400 listing pages at 10k products), those the browser shows
  (`rebuild(viewing=…)`) are written at once; the others (`unwritten`) once it has reloaded
  (`settle`), some at a time, giving way to an edit saved meanwhile, which carries those left over.
  A request for one of them is answered after it is written (`settle_for`). Then what the next edit
  reads of a move (`settle`), then the search data, the open-data files and the sitemap's dates
  (`finish`), which runs in steps and gives way to the next edit too.
"""
from __future__ import annotations

import bisect
import datetime as dt
import os
import threading
import time
import traceback
from collections.abc import Collection, Iterable, Iterator
from collections.abc import Set as AbstractSet
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any, cast

from ..content import awards, kinds
from ..content.config import SiteConfig, load_config
from ..content.errors import BuildFailed, ContentError, OutputFailed, counted, display_path
from ..content.load import DigestMemo, EntryFiles, digests_kept, entry_stamp, forget_digests, parse_entry
from ..content.model import Award, Catalogue, Entry, Facility, Product, best_award
from ..content.text import initial, sort_key
from ..content.vocab import VOCABULARY_DIR
from ..site import exports, images, previews, search, statistics
from ..site.pages import BoothCard, Page, Routes, Selection, build_pages, filter_keys
from ..site.render import Renderer, syntax_mistakes
from ..system import parallel
from ..system.write import (
    atomic_output,
    copy_tree,
    disk_errors,
    files_under,
    left_by_an_editor,
    recording,
    remove_files,
    write_bytes,
    write_text,
)
from . import extras, incremental, pipeline
from .model import BuildOptions, Caches, Plan, StageTimer

PACKAGE_DIR = incremental.PACKAGE_DIR
# Pages written after the reload at a time, the lock taken for each step: an edit saved meanwhile
# waits for one step (a fifth of a second on two cores), not for all the pages a move changed.
WRITE_STEP = 400
# Before many pages are written by a new renderer (a template saved), every product's card, which
# listings show, is rendered, this many at a time: all at once held the lock for seconds at 10k.
CARD_STEP = 2000
SETTLE_FOR_WAIT_S = 10.0


class Preview:
    """The last good build and how to bring it up to date after an edit."""

    def __init__(self, options: BuildOptions) -> None:
        self.options = options
        self.caches = Caches(previews={})
        self.plan: Plan | None = None
        self.signatures: dict[str, str] = {}
        self.describer: incremental.Describer | None = None  # what pages show: of the last good plan
        self.shows: dict[str, AbstractSet[tuple[str, str]]] = {}  # page output → the entries it shows
        self.containing: dict[tuple[str, str], set[str]] = {}  # ("product", slug) → outputs of pages showing it
        self.digests: DigestMemo = {}  # content files' digests, each read again once the watcher names it
        self.pages: dict[str, Page] = {}
        self.replaced: list[Product | Facility] = []  # entries edited away, kept so their ids are never reused
        self.search_stale = False  # after an edit to entries: the search data
        self.data_stale = False  # after an edit that changed the open-data tables: their files
        self.discovery_stale = False  # after any edit: the sitemap's and feeds' dates
        self.files_stale = False  # after settings saved: every file but the pages, and those no longer made
        # Saved but not yet built with, while the last good plan stays the one served. `replan_due`:
        # settings, vocabularies, or templates saved while the content had errors, or content saved
        # while a template had a mistake (every rebuild plans again until one succeeds: `_replan`).
        # `templates_due`: templates, from the rebuild that names them until one built with them
        # succeeds (their syntax is checked; a template saved alone takes a renderer of them,
        # `_new_templates`, and an edit of content plans again); meanwhile no page left for after
        # the reload is written with the templates of before.
        self.replan_due = False
        self.templates_due = False
        self.unbuilt: list[Path] = []  # the files named to the rebuilds that failed since the last good one
        self.editor_stale = False  # after a quick rename: the editor's choices of entries name them
        self.errors: list[ContentError] = []
        self.lock = threading.Lock()
        self.dates: dict[str, dt.date] | None = None  # entry pages → day last changed (None: not read yet)
        self.touched: list[Product | Facility] = []  # entries a quick edit changed, for their pages' dates
        self.asked = 0  # rebuilds asked for: `finish` stops between steps when one is waiting
        # pages a move laid out again, to describe after the reload (`_describe_pending`)
        self.undescribed: list[tuple[incremental.Describer, list[Page]]] = []
        # the pages (outputs) whose file is behind `pages`: changed by an edit while the browser showed
        # others, written after the reload (`settle`), or at once when asked for (`settle_for`)
        self.unwritten: set[str] = set()
        self.load_key = ""  # what the parse results in `caches` depend on besides their files (pipeline.engine_keys)
        self.data_files: tuple[str, ...] = ()  # the open-data files last written
        self.made_site = False  # whether a full build of this preview has written the site folder

    @property
    def warnings(self) -> tuple[ContentError, ...]:
        """What the last good build asks facilities to look at (an old commune name that became several)."""
        return self.plan.catalogue.warnings if self.plan is not None else ()

    @property
    def last(self) -> Plan:
        """The last good plan: every path but the first full build has one."""
        assert self.plan is not None, "a full build comes first"
        return self.plan

    def rebuild(self, changed: Iterable[Path] = (), viewing: Collection[str] | None = None) -> str:
        """Bring the site up to date; returns a line for the terminal. Errors are kept in `errors`.
        `viewing`: the files of the pages the browser shows (`products/x/index.html`). Of the pages an
        edit changes, those are written now and the others after the reload (`settle`); None writes
        all now."""
        changed = [Path(path).absolute() for path in changed]
        self.asked += 1
        with self.lock:
            started = time.perf_counter()
            forget_digests(self.digests, changed)
            # with what failed to build since the last good one: else an entry saved while another had a
            # mistake was left out, once that was mended, by the quick way (which reads what it is named)
            changed = list(dict.fromkeys([*self.unbuilt, *changed]))
            try:
                with self._failures_kept():
                    count = self._rebuild(changed)
                    # those shown now, or every one if no browser is to reload
                    self._write(set(self.unwritten) if viewing is None else self.unwritten & set(viewing))
            except _Failed as failed:
                self.unbuilt = changed
                return failed.line
            self.errors, self.unbuilt = [], []
            line = f"{count} trang dựng lại | pages rebuilt, {time.perf_counter() - started:.2f} s"
            if self.unwritten:
                later = len(self.unwritten)
                line += f" ({later} trang viết sau khi tải lại | {later} written after the reload)"
            return line

    @contextmanager
    def _failures_kept(self) -> Iterator[None]:
        """Work on the site, its failures kept in `errors` and raised as `_Failed` with the terminal's line."""
        try:
            # the collector tuned as for a build: it keeps millions of objects (parallel.batch_memory)
            with disk_errors(self.options.out_dir), digests_kept(self.digests), parallel.batch_memory():
                yield
        except BuildFailed as failure:
            if isinstance(failure, OutputFailed):  # pages may be part written: trust none of them
                self._forget_output()
            self.errors = failure.errors
            raise _Failed(f"{len(self.errors)} lỗi, vẫn giữ trang cũ | {counted(len(self.errors), 'error')}, "
                          "the last good site is kept") from failure
        except Exception as exc:  # a bug: the preview goes on, and the next edit builds everything again
            traceback.print_exc()
            self._forget_output()
            self.errors = [internal_error(exc)]
            raise _Failed("lỗi nội bộ: xem ở trên | internal error: see above") from exc

    def _forget_output(self) -> None:
        """After a rebuild that failed while writing (or for a reason unknown): the next is a full one."""
        self.plan, self.undescribed, self.unwritten = None, [], set()
        self.replan_due = self.templates_due = False

    def _write(self, outputs: AbstractSet[str]) -> None:
        """Render these pages of `unwritten` from the last good build, now (on every core if many)."""
        pages = [self.pages[output] for output in outputs if output in self.pages]
        if pages:
            pipeline.render_all(self.last.renderer, pages, self.options.out_dir, self.options.jobs)
        self.unwritten -= outputs

    def _written_in_steps(self, asked: int) -> None:
        """Every page of `unwritten` written, some at a time, the lock taken for each step; it stops
        when an edit came meanwhile (it goes first; the pages left stay in `unwritten`, which it adds to).
        While templates saved are not yet built with (`templates_due`: one has a mistake), none is
        written: the last good renderer reads a template it has not yet read from the disk, the broken
        one, so the writing failed, and the rebuild that mends it built everything."""
        while True:
            with self.lock:
                self.unwritten &= self.pages.keys()
                if self.asked != asked or not self.unwritten or self.templates_due:
                    return
                with self._failures_kept():
                    if len(self.unwritten) >= WRITE_STEP and \
                            pipeline.render_cards_ahead(self.last.renderer, self.options.jobs, CARD_STEP):
                        continue  # cards first, a step each
                    self._write(set(sorted(self.unwritten)[:WRITE_STEP]))

    def settle_for(self, output: str) -> None:
        """A request for a page an edit changed that is not written yet: written now, before it is
        served. If a rebuild holds the lock for long (a full one: a minute at 10k products), the page
        as it is is served after `SETTLE_FOR_WAIT_S` rather than keep the server waiting."""
        if output not in self.unwritten or not self.lock.acquire(timeout=SETTLE_FOR_WAIT_S):
            return
        try:
            if output in self.unwritten and not self.templates_due:  # (as `_written_in_steps`)
                with self._failures_kept():
                    self._write({output})
        except _Failed:
            pass  # its errors show over the page served
        finally:
            self.lock.release()

    def _rebuild(self, changed: list[Path]) -> int:
        """The cheapest way to bring the site up to date after these changes; the pages it wrote."""
        if self.plan is None or self._output_gone() or any(self._needs_full_build(path) for path in changed):
            return self._full()
        if not self.errors:  # (with errors, the update below finds them again)
            changed = [path for path in changed if not self._gone_unread(path) and not self._an_editors_file(path)]
            if not changed:
                return 0
        if any(self._is_static(path) for path in changed):
            self._static()  # whatever else changed with them (a `git pull` changes several kinds at once)
        if any(self._in_templates(path) for path in changed):
            self.templates_due = True  # until a rebuild with them succeeds; their syntax is checked
        if any(self._is_setting(path) for path in changed):
            return self._replan()
        if all(self._is_static(path) for path in changed):
            if self.errors:  # what failed before fails still: nothing it read has changed
                raise BuildFailed(self.errors)
            return 0
        if all(self._in_templates(path) or self._is_static(path) for path in changed):
            # errors in the content (not a template's syntax) are found again by planning again:
            # `_new_templates` reads no content
            if self.replan_due or any(not self._in_templates(Path(error.path).absolute()) for error in self.errors):
                return self._replan()
            return self._new_templates()
        # Templates saved with content, or saved before and not built with yet: planned again, with a
        # renderer of the templates (the update keeps the renderer, and rendered none of it)
        if self.replan_due or self.templates_due:
            return self._replan()
        self._describe_pending()  # what the pages of the last move or settings show: an edit reads it
        count = self._quick(changed)
        return self._update() if count is None else count

    def _output_gone(self) -> bool:
        """Whether the site folder lost the stamp the preview's full build left in it: deleted (or
        replaced) while the preview ran, it holds none of the pages the next edit does not write,
        which wrote only its own and left a site of 400 files without a home page."""
        return not (self.options.out_dir / pipeline.FINGERPRINT_FILE).is_file()

    # -- what kind of change ---------------------------------------------------------------------

    def _needs_full_build(self, path: Path) -> bool:
        """The code: what the last plan holds was made by it."""
        return _inside(path, PACKAGE_DIR) and not _inside(path, VOCABULARY_DIR) and not left_by_an_editor(path.name)

    def _is_setting(self, path: Path) -> bool:
        """`site.yaml` or a vocabulary: the pages and files are laid out again (`_replan`)."""
        return path == self.options.config_file or _inside(path, VOCABULARY_DIR)

    def _in_templates(self, path: Path) -> bool:
        return _inside(path, self.options.templates_dir)

    def _an_editors_file(self, path: Path) -> bool:
        """A file an editor keeps beside a template, a vocabulary or the code (the watcher passes
        emacs's `#footer.html#`, which it saves every few seconds): read by no build, so no page
        changes. (Beside an entry, it is left to the update, which reads no such file either.)"""
        return left_by_an_editor(path.name) and any(_inside(path, folder) for folder in (
            self.options.templates_dir, VOCABULARY_DIR, PACKAGE_DIR))

    def _is_static(self, path: Path) -> bool:
        return _inside(path, self.options.static_dir)

    def _gone_unread(self, path: Path) -> bool:
        """A content file that is gone and that the last build never read: the temporary file an
        editor saves through (gedit, Kate, TextEdit and `sed -i` write one, then rename it over the
        entry). Left in, it sent a one-line edit down the slowest path. An entry's text (`.md`), a
        photo, and a folder that held either are never taken for one."""
        if path.suffix == ".md" or not _inside(path, self.options.content_dir) or path.exists():
            return False
        inside = os.path.join(str(path), "")
        read = [*self.caches.entries, *self.last.photos]
        return not any(file == str(path) or file.startswith(inside) for file in read)

    # -- the three ways to rebuild ------------------------------------------------------------------

    def _full(self) -> int:
        """Everything, as a build does, into the output folder (atomically)."""
        # Until one succeeds, every rebuild is a full one: the last plan's renderer has the templates
        # of before, its parse results the settings and vocabularies of before.
        self._forget_output()
        # A folder the preview did not make is never replaced. Once it has made one, the folder is its
        # own even without the stamp: deleted, the work after a reload may have written in it again.
        if not self.made_site:
            pipeline.check_output(self.options)
        self.caches = Caches(previews={})
        self.dates, self.touched = None, []  # the build read every date; the next `finish` reads them again
        config = self._config()
        timer = StageTimer()
        plan = pipeline.plan(self.options, config, timer, self.caches)
        with atomic_output(self.options.out_dir) as staging:
            pipeline.render_all(plan.renderer, plan.pages, staging, self.options.jobs)
            self.data_files = extras.write_extras(plan, self.options, staging).made["data"][1]
            # a preview's output is never skipped as "unchanged" by a later build
            write_text(staging, pipeline.FINGERPRINT_FILE, "preview")
        self.load_key = pipeline.engine_keys(self.options, config)[0]
        self._keep(plan, self._describer(plan))
        self.unwritten = set()
        self.made_site = True
        return len(plan.pages)

    def _replan(self) -> int:
        """Settings (`site.yaml`) or vocabularies changed: planned again, with the parse results kept
        when what they depend on is the same (`engine_keys`), and every page rendered again, those the
        browser shows now and the others after the reload, like a template's. After the reload too:
        what each page shows (`settle`), the search data, the open data, and every other file, written
        again, and those the site no longer has deleted (`finish`). (Built again whole, a setting saved
        at 10k products took 46 s to show.) A change to the languages builds everything: every file
        of a language comes or goes. Templates saved while the content has errors come here too, and
        the templates' syntax is checked with the content, when templates were saved since the last
        good rebuild (`templates_due`; reading them all takes 0.05–0.25 s, which a setting
        saved alone never waits for). If it fails, the last good site stays, and every rebuild plans
        again until one succeeds (`replan_due`)."""
        old = self.last
        self.replan_due = True
        config = self._config()
        if config.languages != old.config.languages:
            return self._full()
        mistakes = syntax_mistakes(self.options.templates_dir) if self.templates_due else []
        load_key = pipeline.engine_keys(self.options, config)[0]
        if load_key != self.load_key:  # the parse results kept are of the new key from here on
            self.caches = replace(self.caches, entries={})
            self.load_key = load_key
        try:
            plan = pipeline.plan(self.options, config, StageTimer(), self.caches, search_of=old)
        except BuildFailed as failure:
            if not mistakes or type(failure) is not BuildFailed:  # (OutputFailed: the site is not trusted)
                raise
            raise BuildFailed(mistakes + failure.errors, failure.warnings) from None
        if mistakes:
            raise BuildFailed(mistakes, list(plan.catalogue.warnings))
        self._keep(plan, self._describer(plan), later=True)
        self.unwritten = set(self.pages)
        self.search_stale = self.data_stale = self.discovery_stale = self.files_stale = True
        self.replan_due = self.templates_due = False
        self.dates, self.touched = None, []  # content saved since the last good plan changed its day
        return len(self.pages)

    def _new_templates(self) -> int:
        """Templates changed, and nothing they are given: the same pages, rendered again by a renderer of
        the new templates: those the browser shows now, the others after the reload (`settle`), like
        an edit's. (Built again whole, a template saved at 10k products took a minute to show.) A
        syntax mistake in any template stops here, at its file and line, with the last good site
        kept; a mistake that shows only when a page renders fails that page's writing, and the next
        rebuild builds everything. Until the mistake is mended, an edit of content plans again
        (`templates_due`), which finds the mistake too: rendered with the templates of before, the
        edit hid the mistake."""
        self.templates_due = True
        mistakes = syntax_mistakes(self.options.templates_dir)
        if mistakes:
            raise BuildFailed(mistakes)
        plan = self.last
        renderer = Renderer(self.options.templates_dir, plan.config, plan.vocab, plan.catalogue, plan.photos,
                            plan.codes, drawn=plan.drawn, compiled=pipeline.template_cache(self.options))
        self.plan = replace(plan, renderer=renderer)
        self.unwritten = set(self.pages)
        self.templates_due = False
        return len(self.pages)

    def _static(self) -> None:
        """Styles or scripts: copied, with the service worker that caches them (no page is rendered).
        Those deleted from the static folder are deleted from the site: they stayed until a full build."""
        source, copied = self.options.static_dir, self.options.out_dir / "static"
        copy_tree(source, copied)
        there = files_under(copied) if copied.is_dir() else set()
        remove_files(copied, there - (files_under(source) if source.is_dir() else set()))
        extras.write_search(self.last.indexes, self.options.static_dir, self.options.out_dir)

    def _update(self) -> int:
        """Content changed: plan again from the caches, write only the pages whose signature changed."""
        out = self.options.out_dir
        # the search data waits for the reload (`finish`): two seconds at 10k products
        plan = pipeline.plan(self.options, self._config(), StageTimer(), self.caches, self.last,
                             search_of=self.last)
        describer = self._describer(plan)
        signatures = describer.page_signatures(plan.pages, self.options.jobs)
        stale = [page for page in plan.pages if self.signatures.get(page.output) != signatures[page.output]]
        # written by `rebuild` as a build renders them: on both cores when there are many (a product
        # renamed to another initial moves it in every listing it is in: 1,500 pages at 10k products)
        self.unwritten.update(page.output for page in stale)
        gone = set(self.signatures) - set(signatures)
        for output in gone:
            (out / output).unlink(missing_ok=True)
        known = {id(facility) for facility in self.last.catalogue.facilities.values()}
        for facility in plan.catalogue.facilities.values():
            if id(facility) not in known:
                extras.write_vcard(plan, facility, out)
        extras.write_redirects(plan, out)
        extras.write_editor(plan, self.options, out, assets=False)  # its choices of entries
        # after the reload (`finish`): the open-data files (the workbook alone takes seconds at 10k
        # products), also when an earlier edit's are still to write, and every entry's date
        data_stale = self.data_stale or plan.tables != self.last.tables
        extras.publish_images(plan, self.options, out)
        for url in images.published(self.last.photos) - images.published(plan.photos):  # a photo replaced
            (out / url).unlink(missing_ok=True)
        # A page whose signature is the same shows the same entries (an entry's digest names its
        # file, so its kind and slug), so only the changed pages are walked again for them.
        files_stale = self.files_stale  # settings saved before this edit: their files are still to write
        self._keep(plan, describer, signatures, describer.signatures(stale), gone)
        self.data_stale, self.discovery_stale, self.dates, self.touched = data_stale, True, None, []
        self.search_stale, self.files_stale = True, files_stale
        return len(stale)

    def _describer(self, plan: Plan) -> incremental.Describer:
        """What pages show, by the rule the build uses (engine/incremental.py)."""
        return incremental.Describer(plan.catalogue, plan.photos, incremental.entry_tokens(self.caches.entries))

    def _drawn(self, catalogue: Catalogue, plan: Plan, renamed: list[Product | Facility],
               makers_products: list[Product]) -> dict[str, str]:
        """The link previews after these entries were renamed: theirs, and a facility's products', whose
        cards name it, drawn if new (the old ones are left to the next full `prepare` to drop)."""
        products = [item for item in renamed if isinstance(item, Product)] + makers_products
        colours = previews.stylesheet_colours(self.options.static_dir)
        cards = previews.cards_of(catalogue, plan.config, colours, products,
                                  [item for item in renamed if isinstance(item, Facility)])
        return {**plan.drawn, **previews.draw_missing(cards, self.options.previews_dir, self.options.jobs,
                                                      self.caches.previews)}

    def _keep(self, plan: Plan, describer: incremental.Describer, signatures: dict[str, str] | None = None,
              described: incremental.Described | None = None, gone: AbstractSet[str] = frozenset(),
              later: bool = False) -> None:
        """Remember a complete build: its pages, what each shows, and which pages show each entry.
        After a full build every page is described (`later`: after the reload, in `settle`: five
        seconds at 10k products); after an update, `signatures` are every page's and `described` holds
        the changed pages (and the entries they show), `gone` the pages removed."""
        if later:
            signatures, described, self.shows, self.containing = {}, {}, {}, {}
        elif signatures is None or described is None:
            described = describer.signatures(plan.pages)
            signatures = {output: signature for output, (signature, _) in described.items()}
            self.shows, self.containing = {}, {}
        self.undescribed = [(describer, plan.pages)] if later else []  # else all described above
        self._remember(described, gone)
        self.plan, self.describer = plan, describer
        self.pages = {page.output: page for page in plan.pages}
        self.signatures = signatures
        self.replaced = []
        self.search_stale = self.data_stale = self.discovery_stale = self.editor_stale = self.files_stale = False

    def _remember(self, described: incremental.Described, gone: Iterable[str]) -> None:
        """Which entries the `described` pages show, and which pages show each entry; `gone` pages none."""
        for output in [*gone, *described]:
            for key in self.shows.pop(output, ()):
                self.containing[key].discard(output)
        for output, (_, shown) in described.items():
            self.shows[output] = shown
            for key in shown:
                self.containing.setdefault(key, set()).add(output)

    def _quick(self, changed: list[Path]) -> int | None:
        """An edit to existing product or facility files that keeps every address and photo, and each
        product's facility: re-parse those files, re-render the pages that show them. The search data
        follows in `finish()`, after the browser has reloaded. None when the edit does more than that
        (a new, removed or renamed file; a photo saved over; another facility, photo list, or a
        facility's province, commune or kind…).

        A new name draws the entry's link preview again (and its products', for a facility), and so
        does a product's new level. An edit that keeps the entry's place in every order by name and
        in every listing re-renders only the pages that show it; one that moves it (a new name, group,
        level, market, OCOP rating, certification or channel) lays out the pages again
        (`_lay_out_again`)."""
        plan = self.last
        catalogue = catalogue_before = plan.catalogue
        cached = self.caches.entries
        assert self.describer is not None, "kept with the plan"
        tokens = self.describer.tokens  # new entries are added: the old ones stay, never to be shown again
        if any(path.suffix != ".md" for path in changed):  # a photo: its derivatives are made in a full update
            return None
        mains = {_main_file(path) for path in changed}
        if any(str(main) not in cached or not main.is_file() for main in mains):
            return None
        if any(_translation_came_or_went(cached[str(main)][2]) for main in mains):
            return None  # the entry's files are found again
        load_options = pipeline.load_options_for(self.options, plan.config, plan.vocab)
        decisions = awards.DecisionIndex.of(catalogue.decisions.values())
        swaps: dict[int, Product | Facility] = {}  # id of an old entry → the entry edited
        edited: list[Product | Facility] = []  # the old entries
        products, facilities = dict(catalogue.products), dict(catalogue.facilities)
        resolved, current = dict(catalogue.awards), dict(catalogue.current)
        moves = False  # a new name moves an entry in an order by name
        for main in mains:
            entry = cached[str(main)][2]
            result = parse_entry(load_options, entry)
            item, errors = result[0], result[1]
            if isinstance(item, Product):
                resolved[item.slug], award_errors = awards.resolve(item, decisions, load_options.declared_awards)
                current[item.slug] = best_award(resolved[item.slug], catalogue.build_date)
                errors = errors + award_errors
            if any(not error.warning for error in errors):
                raise BuildFailed([error for error in errors if not error.warning])
            if errors:  # warnings only: the full path reports them with the rest
                return None
            old: Product | Facility | None = (catalogue.products.get(entry.slug) if isinstance(item, Product) else
                                              catalogue.facilities.get(entry.slug) if isinstance(item, Facility) else None)
            if old is None or not _same_place(old, item):
                return None
            assert isinstance(item, (Product, Facility)), "of the old entry's type"
            moves = moves or not _same_listings(old, item, catalogue, current) or \
                (old.name.vi != item.name.vi and not _same_rank(old, item, catalogue))
            if isinstance(item, Product):
                products[item.slug] = item
            else:
                facilities[item.slug] = item
            swaps[id(old)] = item
            edited.append(old)
            cached[str(main)] = (entry_stamp(entry), result, entry)
            tokens[id(item)] = incremental.entry_token(str(main), cached[str(main)][0])
        # the edited files have no warning now (else this is no quick edit): the last build's for them go
        edited_files = {display_path(main, self.options.display_root) for main in mains}
        warnings = tuple(warning for warning in catalogue.warnings if warning.path not in edited_files)
        if moves:  # the orders by name are worked out again
            catalogue = replace(catalogue, products=products, facilities=facilities, current=current, awards=resolved,
                                warnings=warnings)
        else:
            catalogue = catalogue.with_edits(swaps, products=products, facilities=facilities, current=current,
                                             awards=resolved, warnings=warnings)
        renamed = [swaps[id(old)] for old in edited if swaps[id(old)].name != old.name]
        # a product's link preview shows its name and its level: drawn again when either changed
        redrawn = renamed + [swaps[id(old)] for old in edited if isinstance(old, Product) and swaps[id(old)].name == old.name
                             and current[old.slug] != catalogue_before.current[old.slug]]
        makers = [item for item in swaps.values() if isinstance(item, Facility)]
        makers_products = _products_of(makers, catalogue)  # one pass over every product, for all below
        renamed_makers = {item.slug for item in renamed if isinstance(item, Facility)}
        renamed_makers_products = [product for product in makers_products if product.facility_slug in renamed_makers]
        drawn = self._drawn(catalogue, plan, redrawn, renamed_makers_products) if redrawn else plan.drawn
        renderer = Renderer(self.options.templates_dir, plan.config, plan.vocab, catalogue, plan.photos, plan.codes,
                            reuse=plan.renderer, drawn=drawn)
        renderer.keep_unchanged(plan.renderer, {item.slug for item in swaps.values() if isinstance(item, Product)} |
                                {product.slug for product in makers_products}, {item.slug for item in makers})
        plan = replace(plan, catalogue=catalogue, renderer=renderer, drawn=drawn)
        keys = {(incremental.ENTRY_KINDS[type(item)], item.slug) for item in swaps.values()}
        # a facility's name is on its products' cards, in every listing that shows them
        keys |= {(incremental.ENTRY_KINDS[Product], product.slug) for product in renamed_makers_products}
        showing = set().union(*(self.containing.get(key, set()) for key in keys))
        self.replaced.extend(edited)
        describer = self.describer.after_edits(catalogue, tokens, edited)
        count = (self._lay_out_again(plan, describer, showing) if moves else
                 self._render_again(plan, describer, showing, swaps))
        for item in swaps.values():
            if isinstance(item, Facility):
                extras.write_vcard(plan, item, self.options.out_dir)
        if redrawn:  # the images the pages now name
            previews.republish(self.last.drawn, plan.drawn, self.options.previews_dir, self.options.out_dir)
        if renamed:  # the editor's choices (`finish`) show the names
            self.editor_stale = True
        self.plan, self.describer = plan, describer
        self.search_stale = self.discovery_stale = True
        self.touched.extend(swaps.values())
        return count

    def _render_again(self, plan: Plan, describer: incremental.Describer, showing: set[str],
                      swaps: dict[int, Product | Facility]) -> int:
        """Edits that move nothing: the pages that show an edited entry (`showing`), with the edited
        entries in place of the old ones, rendered again (by `rebuild`: now if shown, else after the
        reload)."""
        routes = Routes(plan.catalogue, plan.config, plan.vocab, plan.indexes)
        for output in showing:
            page = _renewed(self.pages[output], swaps, routes)
            self.pages[output] = page
            self.signatures[output] = describer.describe(page)
        self.unwritten |= showing
        plan.pages[:] = list(self.pages.values())
        return len(showing)

    def _lay_out_again(self, plan: Plan, describer: incremental.Describer, showing: set[str]) -> int:
        """Edits that move entries in the orders by name or between listings: every page laid out
        again from the edited catalogue, and rendered again if it shows an edited entry (`showing`) or
        differs from the page it replaces (an entry moved in or out, to another page of a listing, a
        letter's first page…).
        Any other page shows the same entries, unchanged, in the same places: its signature stands.
        Those rendered are described after the reload (`_describe_pending`). (Planning again took
        4–6 s at 10k products: reading, checking, signing every page.)"""
        numbers = statistics.statistics(_rows(plan), plan.catalogue.build_date)  # `finish` counts them again
        pages = build_pages(plan.catalogue, plan.config, plan.vocab, plan.indexes, numbers)
        stale = [page for page in pages if page.output in showing or not _same_page(self.pages.get(page.output), page)]
        outputs = {page.output for page in pages}
        gone = [output for output in self.pages if output not in outputs]
        self.unwritten.update(page.output for page in stale)  # written once laid out (`rebuild`)
        for output in gone:
            (self.options.out_dir / output).unlink(missing_ok=True)
            del self.signatures[output]
        self._remember({}, gone)
        self.undescribed.append((describer, stale))  # after the reload: a third of a second for 1,500 pages
        self.pages = {page.output: page for page in pages}
        plan.pages[:] = pages
        return len(stale)

    def _describe_pending(self) -> None:
        """The signatures of the pages the last move or settings laid out again, and the entries they
        show: the next edit of content reads them (to find the pages that show its entry), so it works
        them out first if `settle` has not. (Settings saved again plan everything again: not needed.)"""
        for describer, pages in self.undescribed:
            described = describer.signatures(pages)
            self.signatures.update((output, signature) for output, (signature, _) in described.items())
            self._remember(described, ())
        self.undescribed = []

    def settle(self) -> str | None:
        """What waits for the browser's reload but not for the next edit: the pages a move laid out
        again, described (a third of a second at 10k products), which the next edit reads (else it
        does that first); then the pages edits changed while the browser showed others, written (a
        second when a product moved in A–Z), in steps that give way to an edit saved meanwhile.
        `serve` calls it once the browser has reloaded. Returns the terminal's line if it failed (its
        errors are in `errors`, and the next rebuild builds everything)."""
        asked = self.asked
        try:
            with self.lock, self._failures_kept():
                self._describe_pending()
            self._written_in_steps(asked)
        except _Failed as failed:
            return failed.line
        return None

    def finish(self) -> None:
        """Work that may wait until the browser has reloaded: the search data after a quick edit, the
        open-data files and numbers, the sitemap's dates, the editor's choices after a quick rename.
        Done in steps, the lock taken for each: when another edit is waiting, it stops between steps
        and that edit's rebuild goes first (its own `finish` then does the work, so the site ends up
        the same)."""
        asked = self.asked
        if self.settle() is not None:
            return
        with self.lock:
            if self.asked != asked or self.errors or \
                    not (self.search_stale or self.data_stale or self.discovery_stale or self.files_stale):
                return
            plan = self.last
        if self.search_stale and not self._finish_search(plan, asked):
            return
        if not self._finish_data(plan, asked):
            return
        with self.lock:  # the edit's day, in the sitemap and feeds: after a quick edit, only its entries' files
            if self.asked != asked or self.search_stale:
                return
            if self.dates is None:
                self.dates = extras.page_dates(plan.catalogue, self.options)
            else:
                self.dates.update(extras.entry_dates(list(self.touched), self.options))
            self.touched.clear()
            with recording(self.options.out_dir) as written:
                extras.write_discovery(plan, self.options, self.options.out_dir, self.dates)
                if self.files_stale:
                    self._write_files(plan)
            if self.files_stale:  # (the open data is written above, and its names stay)
                kept = written | set(self.pages) | set(self.data_files) | {pipeline.FINGERPRINT_FILE}
                remove_files(self.options.out_dir, files_under(self.options.out_dir) - kept)
            self.discovery_stale = self.files_stale = False
            if self.editor_stale:
                extras.write_editor(plan, self.options, self.options.out_dir, assets=False)
                self.editor_stale = False

    def _write_files(self, plan: Plan) -> None:
        """Every file of the site but the pages, the open data and what search engines read."""
        extras.write_site_files(plan, self.options, self.options.out_dir)
        extras.publish_images(plan, self.options, self.options.out_dir)

    def _search_cache(self) -> search.SearchCache:
        """The search cache, which the preview keeps in memory (a build keeps it in a file: `KeptSearch`)."""
        if not isinstance(self.caches.search, search.SearchCache):
            self.caches.search = incremental.read_search_cache(self.caches.search.folder, self.caches.search.name)
        return self.caches.search

    def _finish_search(self, plan: Plan, asked: int) -> bool:
        """The search data and the numbers after an edit; False if another edit came first."""
        indexes: dict[str, search.SearchIndex] = {}

        def give_way() -> None:  # between the steps of a language's index: an edit waiting goes first
            if self.asked != asked:
                raise _GaveWay

        for lang in plan.config.languages:  # a second each at 10k products
            with self.lock:
                if self.asked != asked:
                    return False
                try:
                    indexes[lang] = search.build_index(plan.catalogue, plan.vocab, lang, plan.photos,
                                                       self._search_cache(), give_way)
                except _GaveWay:
                    return False
        with self.lock:
            if self.asked != asked:
                return False
            self._search_cache().forget_unused()
            self._write_search_if_changed(plan.indexes, indexes)
            plan.indexes.clear()
            plan.indexes.update(indexes)
            for output, page in list(self.pages.items()):
                if page.template == "search.html":
                    page = Page(page.path, page.lang, page.template, {**page.context, "index": indexes[page.lang]})
                    self.pages[output] = page
                    if self.describer is not None:  # else the next update renders it again, unchanged
                        self.signatures[output] = self.describer.describe(page)
                    write_bytes(self.options.out_dir, output, plan.renderer.render(page).encode("utf-8"))
            self._refresh_numbers(plan)
            plan.pages[:] = list(self.pages.values())
            self.search_stale = False
        return True

    def _finish_data(self, plan: Plan, asked: int) -> bool:
        """The open-data files, if an edit changed their tables; False if another edit came first.
        A worker makes them (seconds at 10k products) without the lock, so an edit saved meanwhile
        does not wait for them, nor the server for the interpreter."""
        with self.lock:
            if self.asked != asked:
                return False
            if not self.data_stale:
                return True
            tables = dict(_rows(plan))  # an edit replaces the lists, but may clear the dict
        with parallel.Later(extras.open_data_files, tables, plan.config, plan.catalogue.build_date) as made:
            made.start(self.options.jobs)
            files = made.result()
        with self.lock:
            if self.asked != asked:
                return False
            for path, content in files.items():
                write_bytes(self.options.out_dir, path, content)
            self.data_files, self.data_stale = tuple(files), False
        return True

    def _refresh_numbers(self, plan: Plan) -> None:
        """After a quick edit: the open-data files and the statistics they count (a phone number, a
        support project or a certification can change them without moving any page)."""
        tables = exports.table_rows(plan.catalogue, plan.config)
        if tables == plan.tables:
            return
        assert self.describer is not None, "kept with the plan"
        _rows(plan).clear()
        _rows(plan).update(tables)
        self.data_stale = True  # written in the next step of `finish`
        stats = statistics.statistics(tables, plan.catalogue.build_date)
        routes = Routes(plan.catalogue, plan.config, plan.vocab, plan.indexes, stats)
        for output, page in list(self.pages.items()):
            if page.template == "statistics.html":
                page = routes.statistics(page.lang)
                self.pages[output] = page
                self.signatures[output] = self.describer.describe(page)
                write_bytes(self.options.out_dir, output, plan.renderer.render(page).encode("utf-8"))

    def _write_search_if_changed(self, old: dict[str, search.SearchIndex], new: dict[str, search.SearchIndex]) -> None:
        """New index files (and the service worker naming them) when their content changed; the old
        files go. Files are named by a digest of their content, so equal names mean equal files."""
        before = {file.path for index in old.values() for file in index.files}
        after = {file.path for index in new.values() for file in index.files}
        if before != after:
            extras.write_search(new, self.options.static_dir, self.options.out_dir)
            for path in before - after:
                (self.options.out_dir / path).unlink(missing_ok=True)

    def _config(self) -> SiteConfig:
        options = self.options
        return load_config(options.config_file, options.build_date, options.display_root, options.preview_url)


class _Failed(Exception):
    """Work on the site failed; its errors are in `Preview.errors`, `line` is for the terminal."""

    def __init__(self, line: str) -> None:
        super().__init__(line)
        self.line = line


class _GaveWay(Exception):
    """`finish` stopped in the middle of a step for an edit that was waiting."""


def internal_error(exc: Exception) -> ContentError:
    """A bug in the generator, as the preview shows it in the browser (the traceback is in the terminal)."""
    return ContentError(PACKAGE_DIR.name, None, None,
                        f"lỗi nội bộ của trình dựng trang ({type(exc).__name__}: {exc}): xem chi tiết trong cửa sổ "
                        "lệnh và báo lỗi; lần lưu sau sẽ dựng lại toàn bộ",
                        f"internal error in the site generator ({type(exc).__name__}: {exc}): see the terminal "
                        "for details and report it; the next save builds everything again")


def _inside(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents


def _rows(plan: Plan) -> dict[str, list[dict]]:
    """The open-data tables, which the preview's plans keep (made without `ahead`: see `extras.Tables`)."""
    assert plan.tables is not None, "a plan made without `ahead`"
    return plan.tables


def _main_file(path: Path) -> Path:
    """The entry file a changed file belongs to: `x.en.md` → `x.md`, a bundle's photo → its `index.md`."""
    if path.name.endswith(".en.md"):
        return path.with_name(path.name[: -len(".en.md")] + ".md")
    if path.suffix != ".md":
        return path.parent / "index.md"
    return path


def _translation_came_or_went(entry: EntryFiles) -> bool:
    """A translation saved for an entry that had none, or one deleted: the files the entry was found
    with are not its files now (read with them, a new translation was left out)."""
    name = "index.en.md" if entry.main.name == "index.md" else entry.main.name.removesuffix(".md") + ".en.md"
    return entry.main.with_name(name).is_file() != (entry.translation is not None)


def _same_place(old: Product | Facility, new: Entry | None) -> bool:
    """Whether an edited entry keeps its address, its photos and, for a product, its facility: what
    the quick path cannot follow (pages that come or go, photos to derive, a facility's pages, cards
    and fairs)."""
    if type(old) is not type(new) or not isinstance(new, (Product, Facility)):
        return False
    if (old.slug, old.aliases, old.withdrawn) != (new.slug, new.aliases, new.withdrawn):
        return False
    if [(image.file, image.alt) for image in old.images] != [(image.file, image.alt) for image in new.images]:
        return False
    if isinstance(new, Facility) and isinstance(old, Facility):  # province pages list communes; /kinds/ the kind
        return (old.province.term, old.commune, old.kind) == (new.province.term, new.commune, new.kind)
    return isinstance(new, Product) and isinstance(old, Product) and old.facility_slug == new.facility_slug


def _same_listings(old: Product | Facility, new: Product | Facility, catalogue: Catalogue,
                   current: dict[str, Award | None]) -> bool:
    """Whether an edited product stays in every listing it was in, and in no other, but those ordered
    by name: its group, level (`current`: the products' levels after the edit), markets, and what the
    buyers' filters read (OCOP stars, certifications, channels). Else the pages are laid out again."""
    if not isinstance(old, Product) or not isinstance(new, Product):
        return True  # a facility that leaves its listings is not a quick edit (`_same_place`)
    on = catalogue.build_date
    return (old.group, old.export_markets, catalogue.current[old.slug], filter_keys(old, on)) == \
        (new.group, new.export_markets, current[new.slug], filter_keys(new, on))


def _products_of(entries: Iterable[Product | Facility], catalogue: Catalogue) -> list[Product]:
    """The products, withdrawn ones too, of the facilities among these entries (their cards name it)."""
    makers = {entry.slug for entry in entries if isinstance(entry, Facility)}
    return [product for product in catalogue.every_product.values() if product.facility_slug in makers] if makers else []


def _same_rank(old: Product | Facility, new: Product | Facility, catalogue: Catalogue) -> bool:
    """Whether an entry's new name keeps its place in every order by name: under the same letter in
    the A–Z listings, and strictly between the same neighbours of its kind, withdrawn ones included
    (a name equal to another's would be ordered by slug in some lists, by reading order in others)."""
    if initial(old.name.vi) != initial(new.name.vi):
        return False
    ordered = catalogue.sorted_products if isinstance(old, Product) else catalogue.sorted_facilities
    withdrawn = catalogue.withdrawn_products if isinstance(old, Product) else catalogue.withdrawn_facilities
    place = bisect.bisect_left(ordered, (sort_key(old.name.vi), old.slug),
                               key=lambda entry: (sort_key(entry.name.vi), entry.slug))
    if place == len(ordered) or ordered[place] is not old:
        return False
    low, high = sorted((sort_key(old.name.vi), sort_key(new.name.vi)))
    if place > 0 and not sort_key(ordered[place - 1].name.vi) < low:
        return False
    if place + 1 < len(ordered) and not high < sort_key(ordered[place + 1].name.vi):
        return False
    return not any(low <= sort_key(entry.name.vi) <= high for entry in withdrawn.values())


def _renewed(page: Page, swaps: dict[int, Product | Facility], routes: Routes) -> Page:
    """The page again, with edited entries in place of the old ones."""
    edited = swaps.get(id(page.context.get("product")))
    if page.template == kinds.PRODUCT.template and isinstance(edited, Product):
        return routes.product(edited, page.lang)
    edited = swaps.get(id(page.context.get("facility")))
    if page.template == kinds.FACILITY.template and isinstance(edited, Facility):
        return routes.facility(edited, page.lang)
    return Page(page.path, page.lang, page.template, cast(dict, _swap(page.context, swaps)))


def _same_page(old: Page | None, new: Page) -> bool:
    """Whether a page laid out again is the one it replaces: the same template and an equal context,
    entries compared as the objects they are (an unchanged entry is the same object, found equal at
    once)."""
    return old is not None and old.template == new.template and old.context == new.context


def _swap(value: Any, swaps: dict[int, Product | Facility]) -> Any:
    if id(value) in swaps:
        return swaps[id(value)]
    if isinstance(value, BoothCard):
        return replace(value, facility=_swap(value.facility, swaps), product=_swap(value.product, swaps))
    if isinstance(value, Selection):
        return replace(value, products=_swap(value.products, swaps))
    if isinstance(value, dict):
        return {key: _swap(item, swaps) for key, item in value.items()}
    if isinstance(value, list):
        return [_swap(item, swaps) for item in value]
    if isinstance(value, tuple) and not hasattr(value, "_fields"):
        return tuple(_swap(item, swaps) for item in value)
    return value
