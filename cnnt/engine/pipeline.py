"""The whole build, one straight line: config → load → pages → render → write (atomically)."""
from __future__ import annotations

import contextlib
import itertools
import shutil
import time
from dataclasses import replace
from pathlib import Path

from ..content import kinds
from ..content.config import SiteConfig, load_config
from ..content.errors import BuildFailed, ContentError
from ..content.load import KINDS, DigestMemo, LoadOptions, digests_kept, load_catalogue
from ..content.model import Catalogue, Facility, Product
from ..content.vocab import VOCABULARY_DIR, Vocabularies, load_vocabularies
from ..site import (
    images,
    previews,
    qr,
    redirects,
    search,
    statistics,
    urls,
)
from ..site.pages import PERMANENT_TEMPLATES, Page, build_pages, search_page
from ..site.render import Renderer, syntax_mistakes
from ..system import gitfiles, parallel
from ..system.write import (
    atomic_output,
    disk_errors,
    link_into,
    output_lock,
    recording,
    remove_files,
    spare_folder,
    write_atomic,
    write_bytes,
    write_text,
)
from . import incremental
from .extras import Ahead, Kept, Tables, write_besides_pages, write_data
from .fingerprint import folder_digest, input_fingerprint
from .model import BuildOptions, BuildReport, Caches, KeptSearch, Plan, StageTimer

PACKAGE_DIR = incremental.PACKAGE_DIR
FINGERPRINT_FILE = ".build-fingerprint"
PENDING = "pending"


def check_folders(options: BuildOptions) -> None:
    """A mistyped --content or --templates must not build an empty site, or fail as a bug."""
    errors = []
    if not options.content_dir.is_dir():
        errors.append(ContentError(str(options.content_dir), None, None, "không có thư mục nội dung này",
                                   "this content folder does not exist"))
    elif not any((options.content_dir / kind).is_dir() for kind in KINDS):
        errors.append(ContentError(str(options.content_dir), None, None,
                                   "thư mục nội dung phải có `facilities/` hoặc `products/`",
                                   "the content folder must contain `facilities/` or `products/`"))
    for template in ("base.html", "home.html", kinds.PRODUCT.template, kinds.FACILITY.template):
        if not (options.templates_dir / template).is_file():
            errors.append(ContentError(str(options.templates_dir / template), None, None,
                                       "thiếu mẫu trang (template)", "template is missing"))
    if errors:
        raise BuildFailed(errors)


def check_output(options: BuildOptions) -> None:
    """The output folder is replaced whole, so it must be new, empty, or a site this tool built:
    `--out .` or a mistyped folder must never delete someone's files. The build and the preview both
    ask (the preview asked nothing, and replaced a folder of notes with its site)."""
    check_apart(options)
    out = options.out_dir
    if not out.exists():
        return
    if not out.is_dir():
        vi, en = "đây là một tệp, không phải thư mục đầu ra", "this is a file, not an output folder"
    elif (out / FINGERPRINT_FILE).is_file() or not any(out.iterdir()):
        return
    else:
        vi = "thư mục này không phải trang do build.py tạo ra; để không xoá mất tệp, hãy chọn thư mục khác hoặc xoá nó trước"
        en = "this folder is not a site build.py made; to avoid deleting files, choose another folder or remove it first"
    raise BuildFailed([ContentError(str(out), None, "--out", vi, en)])


def check_apart(options: BuildOptions) -> None:
    """The output folder (and so what lies beside it: its cache, the spare, the staging folder) is
    apart from everything the build reads: inside `static/` the site was copied into itself at every build
    (hundreds of megabytes, then a name too long); inside the content, every build read the last
    one's output as its input, and never found the site up to date; holding an input, it would be
    replaced with the site."""
    out = options.out_dir.resolve()
    for vi, en, path in (("thư mục nội dung", "the content folder", options.content_dir),
                         ("thư mục mẫu trang", "the templates folder", options.templates_dir),
                         ("thư mục tệp tĩnh", "the static files folder", options.static_dir),
                         ("mã nguồn của trình dựng trang", "the site generator's code", PACKAGE_DIR),
                         ("tệp cấu hình", "the settings file", options.config_file)):
        read = path.resolve()
        if out == read or out.is_relative_to(read) or read.is_relative_to(out):
            raise BuildFailed([ContentError(
                str(options.out_dir), None, "--out",
                f"thư mục đầu ra phải nằm ngoài {vi} (`{path}`) và không được chứa nó; hãy chọn thư mục khác, như `site`",
                f"the output folder must lie outside {en} (`{path}`) and not hold it; choose another folder, such as `site`")])


def check(options: BuildOptions) -> Catalogue:
    """Validate configuration and content; raise BuildFailed with every error. Writes nothing."""
    check_folders(options)
    config = load_config(options.config_file, options.build_date, options.display_root, options.preview_url)
    catalogue = _load(options, config, load_vocabularies())
    _check_addresses(options, catalogue, config)
    return catalogue


def check_site(options: BuildOptions) -> Catalogue:
    """`python build.py check`: the content, as `check` checks it, and the templates' syntax; raise
    BuildFailed with every error of both."""
    mistakes = syntax_mistakes(options.templates_dir) if options.templates_dir.is_dir() else []
    try:
        catalogue = check(options)
    except BuildFailed as failure:
        raise BuildFailed(mistakes + failure.errors, failure.warnings) from None
    if mistakes:
        raise BuildFailed(mistakes, list(catalogue.warnings))
    return catalogue


def build(options: BuildOptions) -> BuildReport:
    """Build the site into `out_dir`: an unchanged input set leaves the previous output as it is, a
    changed one renders only the pages that changed (engine/incremental.py); `force` builds everything anew."""
    started = time.perf_counter()
    check_folders(options)
    check_output(options)
    config = load_config(options.config_file, options.build_date, options.display_root, options.preview_url,
                         options.deploy)
    # what an earlier build read of the text files: those unchanged since are not read again
    known = {} if options.force else incremental.read_digests(options.digests_file)
    digests: DigestMemo = {}
    with disk_errors(options.out_dir), output_lock(options.out_dir, options.lock_file), digests_kept(digests, known), \
            gitfiles.answers_kept():
        reading_from = time.time_ns()  # the clock that gives files their change times
        fingerprint = input_fingerprint(options)
        settled = incremental.settled_digests(digests, reading_from)
        if settled != known:
            write_atomic(options.digests_file, incremental.digests_file(settled), durable=False)
        site_stamp = _stamp_of(options.out_dir)
        if not options.force and site_stamp == fingerprint and published_images_intact(options):
            return BuildReport(0, 0, 0, time.perf_counter() - started, skipped=True)
        with parallel.batch_memory():
            return _build(options, config, fingerprint, site_stamp, started)


def published_images_intact(options: BuildOptions) -> bool:
    """Whether the cached images the site publishes (hard links to them) are as they were made: one
    damaged in place since is damaged in the live site too, though no input changed."""
    return images.PhotoCache(options.cache_dir).intact() and previews.intact(options.previews_dir)


def plan(options: BuildOptions, config: SiteConfig, timer: StageTimer, caches: Caches | None = None,
         previous: Plan | None = None, search_of: Plan | None = None, ahead: Ahead | None = None) -> Plan:
    """Load and check everything, and lay out every page; raise BuildFailed before anything is written.
    `previous`: a plan of the same templates and settings, whose renderer the new one takes over.
    `search_of`: a plan whose search indexes are kept, for the preview to make anew after the reload.
    `ahead`: given the catalogue and the open-data tables as soon as they are checked."""
    caches = caches or Caches()
    vocab = load_vocabularies()
    catalogue = _load(options, config, vocab, caches.entries, caches.entry_files)
    live, moved = _check_addresses(options, catalogue, config)
    tables = Tables(catalogue, config)
    if ahead is not None:
        ahead.begin(catalogue, tables, config, options)
    timer.lap("load")
    photos = _prepare_photos(catalogue, options)
    # a build: a worker makes the search data while this process goes on to the pages (`_search_data`)
    in_worker = ahead is not None and len(catalogue.products) >= SEARCH_WORKER_PRODUCTS
    with _search_data(catalogue, vocab, config, photos, caches, search_of) as searching:
        if in_worker:
            searching.start(options.jobs)
        cards = previews.cards_for(catalogue, config, previews.stylesheet_colours(options.static_dir))
        drawn = previews.prepare(cards, options.previews_dir, options.jobs, caches.previews)
        timer.lap("images")
        stats = statistics.statistics(tables.rows(), catalogue.build_date)
        if ahead is not None:  # (begun: see `Tables`)
            tables.let_go()
        pages = build_pages(catalogue, config, vocab, None, stats)  # all but the search pages
        if ahead is not None:  # (a copy: the search pages are added to `pages` below)
            ahead.sign(incremental.Describer(catalogue, photos, incremental.entry_tokens(caches.entries)), list(pages))
        timer.lap("pages")
        urls = frozenset(config.base_url + page.url for page in pages if page.template in PERMANENT_TEMPLATES)
        if urls != caches.codes.keys():
            if isinstance(caches.codes, qr.CodeStore):
                caches.codes.close()
            caches.codes = qr.codes_for(sorted(urls), options.qr_cache, options.jobs)
        timer.lap("qr")
        indexes, caches.search = searching.result()
    pages += [search_page(lang, indexes[lang]) for lang in config.languages]
    timer.lap("search")  # (waiting for the worker, in a build)
    renderer = Renderer(options.templates_dir, config, vocab, catalogue, photos, caches.codes,
                        reuse=previous.renderer if previous else None, drawn=drawn,
                        compiled=template_cache(options))
    return Plan(config, vocab, catalogue, live, moved, photos, indexes, pages, caches.codes, renderer, drawn,
                None if ahead is not None else tables.rows())


def _search_data(catalogue: Catalogue, vocab: Vocabularies, config: SiteConfig, photos: dict[str, images.PhotoSet],
                 caches: Caches, search_of: Plan | None) -> parallel.Later[SearchData]:
    """The search indexes and the cache they were made with (`search.build_indexes`), or `search_of`'s
    indexes. Made in a worker once `start`ed, beside the link previews, pages and QR codes: half a
    second of a one-entry build at 10k products. A build's cache is a file (`KeptSearch`), which the
    worker reads, and replaces by the next, whose name it sends back with the indexes (a worker that
    failed leaves the same to this process), so the build's own process never holds it. Beside a
    worker making the open data too (three processes on two cores), a forced 10k build was no slower
    for it (3 pairs alternated) and held 15 MB less at its peak. The preview's cache is
    `caches.search`, updated in this process."""
    if search_of is not None:
        return parallel.Later(lambda: (dict(search_of.indexes), caches.search))
    return parallel.Later(_search_indexes, catalogue, vocab, config, photos, caches)


SearchData = tuple[dict[str, search.SearchIndex], search.SearchCache | KeptSearch]
# Fewer products are searched faster than a worker starts and sends its work back (the sample's 37: 5 ms)
SEARCH_WORKER_PRODUCTS = 1000


def _search_indexes(catalogue: Catalogue, vocab: Vocabularies, config: SiteConfig, photos: dict[str, images.PhotoSet],
                    caches: Caches) -> SearchData:
    kept = caches.search
    if isinstance(kept, search.SearchCache):  # the preview's
        return search.build_indexes(catalogue, vocab, config, photos, kept), kept
    cache = incremental.read_search_cache(kept.folder, kept.name)  # a build's: read and written here, in the worker
    indexes = search.build_indexes(catalogue, vocab, config, photos, cache)
    return indexes, replace(kept, name=incremental.write_search_cache(cache, kept.folder))


def template_cache(options: BuildOptions) -> Path:
    """Where Jinja keeps compiled templates between builds: it takes one only when its template's
    source is the same. The folder is named for this code (whose compiler writes them: see
    render._CodeGenerator), and those of other versions are removed."""
    folder = options.templates_cache / incremental.code_version()[:16]
    if not folder.is_dir():
        shutil.rmtree(options.templates_cache, ignore_errors=True)
        folder.mkdir(parents=True)
    return folder


def engine_keys(options: BuildOptions, config: SiteConfig) -> tuple[str, str]:
    """(load_key, page_key): what parse results, and what every page, depend on besides the content."""
    vocabularies = folder_digest([VOCABULARY_DIR])
    load_key = incremental.key(incremental.code_version(), vocabularies, options.build_date, config.declared_awards,
                          str(options.display_root), str(options.content_dir.resolve()))
    page_key = incremental.key(load_key, folder_digest([options.templates_dir, options.static_dir]),
                          options.config_file.read_bytes(), options.preview_url, options.deploy)
    return load_key, page_key


def _build(options: BuildOptions, config: SiteConfig, fingerprint: str, site_stamp: str | None,
           started: float) -> BuildReport:
    timer = StageTimer()
    load_key, page_key = engine_keys(options, config)
    if options.force:
        reuse = incremental.Reuse(why_clean="--force")
    else:
        reuse = incremental.reusable(incremental.read_state(options.engine_file), options.content_dir, site_stamp,
                                load_key, page_key)
    caches = Caches(entries=reuse.entries, search=KeptSearch(options.engine_file.parent, reuse.search),
                    entry_files=False)
    kept = Kept(reuse.made, None if reuse.why_clean else options.out_dir, page_key)  # (a clean build takes nothing)
    # What publishing held (every page laid out: 185 MB at 50k products) is let go before the cache is
    # packed and written, which then adds nothing to the peak: it was the peak of a one-entry build.
    report, signatures, written, live = _publish(options, config, timer, reuse, caches, kept, page_key)
    if options.preview_url is None:  # a preview publishes nothing
        redirects.update_record(options.record_file, live)
    del live  # (an address for each entry in each language: 120,000 at 50k products)
    assert isinstance(caches.search, KeptSearch), "a build's (see `Caches`)"
    state = incremental.State(incremental.code_version(), str(options.content_dir.resolve()), load_key, page_key,
                              {}, caches.search.name, incremental.Signed.of(signatures), kept.made, fingerprint,
                              incremental.Paths.of(written | signatures.keys()), incremental.next_spare(reuse))
    del signatures, written  # (packed above: the signatures' dict alone is some 35 MB at 50k products)
    buckets = incremental.buckets_of(caches.entries, reuse.buckets, reuse.unpickled)
    write_atomic(options.engine_file, lambda stream: incremental.write_state(stream, state, buckets), durable=False)
    incremental.forget_search_caches(caches.search.folder, keep=caches.search.name)
    write_atomic(options.out_dir / FINGERPRINT_FILE, fingerprint.encode())
    timer.lap("write")
    return replace(report, seconds=time.perf_counter() - started)


def _publish(options: BuildOptions, config: SiteConfig, timer: StageTimer, reuse: incremental.Reuse, caches: Caches,
             kept: Kept, page_key: str) -> tuple[BuildReport, dict[str, str], set[str], set[str]]:
    """Plan the site and bring the output folder up to date (in a staging folder that replaces it);
    the report, every page's and vCard's signature, the other files written, and the addresses of
    the permanent pages (`redirects.addresses`)."""
    with Ahead(kept, options.jobs) as ahead:
        site = plan(options, config, timer, caches, ahead=ahead)
        describer = ahead.describer
        assert describer is not None, "given by `plan` once the pages are laid out"
        vcards = {urls.vcard(facility): facility for facility in site.catalogue.facilities.values()}
        signatures = describer.vcard_signatures(vcards)
        spare = incremental.take_spare(reuse, _stamp_of(spare_folder(options.out_dir)), page_key)
        with atomic_output(options.out_dir, reuse_spare=spare is not None, keep_spare=True) as staging, \
                recording(staging) as written:
            # Workers sign the pages (begun in `plan`) while this process writes the files no page
            # signature decides (a third of a second of a one-entry build at 10k products); but not
            # beside a worker making the open data: on two cores, a forced build took a second longer
            # that way (median of 5), and the pages are signed here, the files written after them.
            early = ahead.signing is not None
            with contextlib.ExitStack() as waiting:
                signed = ahead.signed if ahead.signing else waiting.enter_context(
                    describer.signing(site.pages, options.jobs))
                vcards_to_make = keep_unchanged(signatures, reuse.signatures, spare, options.out_dir, staging)
                new_vcards = [facility for path, facility in vcards.items() if path in vcards_to_make]
                if early:
                    write_besides_pages(site, options, staging, new_vcards, ahead, kept)
                    timer.lap("extras")  # (while the workers sign the pages)
                page_signatures = signed()
            if ahead.signing:  # the search pages, laid out after the others were given to the workers
                page_signatures = {**page_signatures, **{page.output: describer.describe(page)
                                                         for page in site.pages[len(ahead.signing[0]):]}}
            signatures.update(page_signatures)
            timer.lap("signatures")
            to_make = keep_unchanged(page_signatures, reuse.signatures, spare, options.out_dir, staging)
            fresh = [page for page in site.pages if page.output in to_make]
            del to_make, page_signatures  # (not in the render workers: 15 MB at 50k products, in a cold build)
            render_all(site.renderer, fresh, staging, options.jobs)
            site.renderer.forget_reused()  # (the files written next render no card)
            parallel.give_back_memory()  # what the cards held
            timer.lap("render")
            if not early:
                write_besides_pages(site, options, staging, new_vcards, ahead, kept)
            write_data(site, staging, kept, ahead)
            # Stamped "pending" until the record of addresses holds everything this site publishes: a
            # build killed in between leaves a stamp that matches nothing, so the next build is not
            # skipped as unchanged and completes the record (and the engine's cache, which describes a
            # site by its stamp, is not trusted).
            write_text(staging, FINGERPRINT_FILE, PENDING)
            if spare is not None:
                remove_files(staging, (path for path in spare.files if path not in signatures and path not in written))
            del spare  # (see `take_spare`)
    report = BuildReport(len(site.pages), len(site.catalogue.products), len(site.catalogue.facilities), 0.0,
                         rendered=len(fresh), clean=reuse.why_clean, stages=timer.stages, cpu=timer.cpu,
                         warnings=site.catalogue.warnings)
    return report, signatures, written, site.live


def _stamp_of(site: Path) -> str | None:
    """The `.build-fingerprint` of a site folder (the output or the spare), None if it has none."""
    stamp = site / FINGERPRINT_FILE
    return stamp.read_text(errors="replace") if stamp.is_file() else None


def keep_unchanged(signatures: dict[str, str], live: incremental.Signed, spare: incremental.Spare | None,
                   old_site: Path, staging: Path) -> set[str]:
    """Bring the files of `staging` that have a signature (pages, vCards) up to date where nothing
    need be made: one the spare holds with the same signature stays, one the live site (`old_site`)
    holds with the same signature is linked from it. Returns the files left to make."""
    in_spare = spare.signatures.same_in(signatures) if spare is not None else itertools.repeat(False)
    in_live = live.same_in(signatures)
    return {output for output, spared, linkable in zip(signatures, in_spare, in_live)
            if not spared and not (linkable and link_into(old_site, staging, output))}


def _check_addresses(options: BuildOptions, catalogue: Catalogue, config: SiteConfig) -> tuple[set[str], dict[str, str]]:
    """Every address ever published is still built or redirects; else the build stops here."""
    live, moved = redirects.addresses(catalogue, config)
    errors = redirects.check_record(options.record_file, live, moved, options.display_root)
    if errors:
        raise BuildFailed(errors)
    return live, moved


def _load(options: BuildOptions, config: SiteConfig, vocab: Vocabularies, cache: dict | None = None,
          entry_files: bool = True) -> Catalogue:
    load_options = load_options_for(options, config, vocab)
    return load_catalogue(load_options, options.jobs, cache, entry_files)


def load_options_for(options: BuildOptions, config: SiteConfig, vocab: Vocabularies) -> LoadOptions:
    return LoadOptions(options.content_dir, options.display_root, options.build_date, vocab, config.declared_awards)


# Set just before worker processes fork, so they inherit it instead of receiving it pickled.
_RENDER_JOB: tuple[Renderer, list[Page], Path] | None = None


def render_all(renderer: Renderer, pages: list[Page], staging: Path, jobs: int | None) -> None:
    """Workers render and write their pages; only the count comes back, not the HTML (sending
    450 MB of pages through pipes to one writer cost more than the writing)."""
    global _RENDER_JOB
    _RENDER_JOB = (renderer, pages, staging)
    try:
        small = len(pages) < parallel.MIN_ITEMS_PER_WORKER * 2
        if not small:
            render_cards_ahead(renderer, jobs)
        parallel.give_back_memory()  # what the cards came in: each worker forked next would count it (20 MB at 50k)
        for _ in parallel.imap_unordered(_render_range, parallel.chunks(len(pages), jobs), 1 if small else jobs):
            pass
    finally:
        _RENDER_JOB = None


def render_cards_ahead(renderer: Renderer, jobs: int | None, limit: int | None = None) -> int:
    """Each page worker shows nearly every product's card (listings, "other products"), and would
    render them all for itself; instead they are rendered once, shared out between workers,
    and the page workers start with all of them. `limit`: at most this many now (the preview
    renders them in steps); returns how many it rendered."""
    global _RENDER_JOB
    keys = [(slug, lang) for lang in renderer.languages for slug in renderer.catalogue.products
            if not renderer.has_card(slug, lang)]  # the preview's renderer may hold most of them
    now = keys[:limit]
    job, _RENDER_JOB = _RENDER_JOB, (renderer, [], Path())  # what the forked workers render cards with
    try:
        renderer.keep_cards(dict(zip(now, parallel.map_chunks(_card_bytes, now, jobs))))
    finally:
        _RENDER_JOB = job
    return len(now)


def _render_job() -> tuple[Renderer, list[Page], Path]:
    assert _RENDER_JOB is not None, "set by the pool's parent before the workers fork"
    return _RENDER_JOB


def _card_bytes(key: tuple[str, str]) -> bytes:
    """A card as the renderer keeps it, UTF-8: sent as strings (two bytes a character, for the
    Vietnamese words) and encoded after, the cards were held twice over, the peak of a 50k build's
    rendering (1,122 MB; 1,008 MB since)."""
    renderer = _render_job()[0]
    slug, lang = key
    return renderer.card_html(renderer.catalogue.products[slug], lang).encode("utf-8")


def _render_range(indexes: range) -> int:
    renderer, pages, staging = _render_job()
    for i in indexes:
        write_bytes(staging, pages[i].output, renderer.render(pages[i]).encode("utf-8"))
    return len(indexes)


def _prepare_photos(catalogue: Catalogue, options: BuildOptions) -> dict[str, images.PhotoSet]:
    """Derivatives of every photo; a photo that passed the checks but cannot be decoded is an error."""
    # withdrawn entries too: their pages stay, and their link previews are their first photo
    entries: list[Product | Facility] = [*catalogue.every_product.values(), *catalogue.every_facility.values()]
    photos, problems = images.prepare_photos([image.file for entry in entries for image in entry.images],
                                             options.cache_dir, options.jobs)
    if problems:
        raise BuildFailed([ContentError(entry.source, image.line, "images",
                                        f"`{image.source}`: không đọc được ảnh ({problems[image.file]})",
                                        f"`{image.source}`: cannot read the photo ({problems[image.file]})")
                           for entry in entries for image in entry.images if image.file in problems])
    return photos
