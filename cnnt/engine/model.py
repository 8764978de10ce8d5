"""What the engine's parts hand to one another: a build's options (`BuildOptions`), what it knows
before it writes (`Plan`), what the preview keeps between builds (`Caches`), and what it reports
(`BuildReport`, timed by `StageTimer`).

May import: `cnnt.content`, `cnnt.site`, `cnnt.system`."""
from __future__ import annotations

import datetime as dt
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from ..content.config import SiteConfig
from ..content.errors import ContentError
from ..content.model import Catalogue
from ..content.vocab import Vocabularies
from ..site import images, previews, qr, redirects, search
from ..site.pages import Page
from ..site.render import Renderer

try:
    import resource
except ImportError:  # not on Windows
    resource = None  # type: ignore[assignment]


@dataclass(frozen=True)
class BuildOptions:
    content_dir: Path
    out_dir: Path
    config_file: Path
    templates_dir: Path
    static_dir: Path
    build_date: dt.date
    display_root: Path
    jobs: int | None = None
    force: bool = False
    preview_url: str | None = None  # set by `serve`: stands in for a missing base_url; records nothing
    deploy: bool = False  # a build for publishing: a placeholder base_url is refused

    @property
    def cache_dir(self) -> Path:
        """Where photo derivatives are kept between builds: beside the output, never published, one per
        output folder (each build prunes what it does not use, so two sites must not share one)."""
        return self.out_dir.parent / ".cache" / self.out_dir.name / "images"

    @property
    def npm_cache(self) -> Path:
        """The editor's packages, when node_modules lacks them: downloaded once, shared by every output."""
        return self.out_dir.parent / ".cache" / "npm"

    @property
    def previews_dir(self) -> Path:
        """Link-preview images drawn for entries without photos."""
        return self.cache_dir.parent / "previews"

    @property
    def lock_file(self) -> Path:
        """Held by the one build or preview writing to `out_dir`."""
        return self.cache_dir.parent / "lock"

    @property
    def engine_file(self) -> Path:
        """What the engine keeps between builds (see engine/incremental.py)."""
        return self.cache_dir.parent / "engine.pickle"

    @property
    def digests_file(self) -> Path:
        """The text files' digests, kept for the next build (see incremental.read_digests)."""
        return self.cache_dir.parent / "digests.pickle"

    @property
    def commit_days_file(self) -> Path:
        """The day of each file's last commit, up to the commit the last build saw (see gitfiles.commit_dates)."""
        return self.cache_dir.parent / "commit-days.pickle"

    @property
    def qr_cache(self) -> Path:
        return self.cache_dir.parent / "qr-codes.sqlite"

    @property
    def open_data_dir(self) -> Path:
        """Where a worker writes the open-data files, for the build to link into its site (`extras.Ahead`)."""
        return self.cache_dir.parent / "open-data"

    @property
    def templates_cache(self) -> Path:
        """Compiled templates (see `template_cache`)."""
        return self.cache_dir.parent / "templates"

    @property
    def record_file(self) -> Path:
        return self.content_dir / redirects.RECORD_FILE


@dataclass(frozen=True)
class BuildReport:
    pages: int
    products: int
    facilities: int
    seconds: float
    skipped: bool = False
    rendered: int = 0  # pages rendered; the others were the previous build's, unchanged
    clean: str = ""  # why the build reused nothing of the previous one, if it did not
    stages: dict[str, float] = field(default_factory=dict)
    cpu: dict[str, float] = field(default_factory=dict)
    warnings: tuple[ContentError, ...] = ()


class StageTimer:
    """Wall and CPU time per pipeline stage, for `--timings` and the benchmark script. CPU time
    counts worker processes too (each stage's workers have ended when it does)."""

    def __init__(self) -> None:
        self.stages: dict[str, float] = {}
        self.cpu: dict[str, float] = {}
        self._last = time.perf_counter()
        self._last_cpu = _cpu_seconds()

    def lap(self, stage: str) -> None:
        now, cpu = time.perf_counter(), _cpu_seconds()
        self.stages[stage] = round(now - self._last, 3)
        self.cpu[stage] = round(cpu - self._last_cpu, 3)
        self._last, self._last_cpu = now, cpu


def _cpu_seconds() -> float:
    """User and system time of this process and of its ended workers (this process's alone where
    the platform does not count workers)."""
    if resource is None:
        return time.process_time()
    own, workers = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + workers.ru_utime + workers.ru_stime


@dataclass
class Plan:
    """Everything a build knows before it writes: the checked catalogue and every page to write.
    `serve` keeps the last one, to work out what an edit changes."""

    config: SiteConfig
    vocab: Vocabularies
    catalogue: Catalogue
    live: set[str]
    moved: dict[str, str]
    photos: dict[str, images.PhotoSet]
    indexes: dict[str, search.SearchIndex]
    pages: list[Page]
    codes: Mapping[str, qr.QRCode]
    renderer: Renderer
    drawn: dict[str, str]  # `kind/slug` → the link-preview image drawn for an entry without photos
    # the open-data tables' rows (exports, statistics); None in a build's plan, which lets go of them (`extras.Tables`)
    tables: dict[str, list[dict]] | None


@dataclass(frozen=True)
class KeptSearch:
    """Where a build keeps the search cache: a file of `folder` (the engine's cache folder) named
    `name` ("" for none yet), which the worker making the search data reads, and which it replaces by
    another for the next build (`incremental.read_search_cache`, `write_search_cache`). The build's
    own process never holds the cache: 37 MB of objects at 10k products, 190 MB at 50k."""

    folder: Path
    name: str = ""


@dataclass
class Caches:
    """What a long-running preview keeps between builds so an edit costs little."""

    entries: dict = field(default_factory=dict)      # entry file (a string) → (stamp, parse result, EntryFiles)
    # whether `entries` keep their EntryFiles, where the preview finds an edited entry's files to parse
    # it again; a build needs them only while it loads (their paths: 42 MB at 50,000 products)
    entry_files: bool = True
    # the preview keeps it as it is; a build, in a file (`KeptSearch`) that only its search worker reads
    search: search.SearchCache | KeptSearch = field(default_factory=lambda: search.SearchCache())
    codes: Mapping[str, qr.QRCode] = field(default_factory=dict)  # a qr.CodeStore once made
    # link previews drawn or found whole (`previews.prepare`): the preview keeps them between edits; a
    # build reads them from their record beside the images, so an image is read only when it changed
    previews: previews.CheckedImages = field(default_factory=dict)
