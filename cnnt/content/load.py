"""Load stage: find entries, parse and validate every one, resolve references → Catalogue.

Every problem in every file is collected; if there is any, `BuildFailed` carries them all and
nothing is written. Entries are independent until references are resolved, so they are parsed
in worker processes (Markdown rendering is most of the cost).
"""
from __future__ import annotations

import datetime as dt
import hashlib
import os
import re
from collections.abc import Callable, Iterable, Iterator
from collections.abc import Set as AbstractSet
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from stat import S_ISREG
from typing import NamedTuple

from ..system import gitfiles, parallel
from . import awards, kinds, places
from .errors import BuildFailed, ContentError, ErrorList, display_path, hint, suggest
from .fields import MIN_YEAR, Fields
from .frontmatter import read_document
from .markdown import render_markdown
from .model import (
    Award,
    Booth,
    Capacity,
    Catalogue,
    Certification,
    Contact,
    Decision,
    Description,
    Entry,
    Facility,
    Fair,
    Image,
    Localized,
    Location,
    Product,
    Province,
    Support,
    Withdrawal,
)
from .photos import IMAGE_SUFFIXES, check_photo
from .text import fold, slugify
from .vocab import Match, Term, Vocabularies

SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
KINDS = tuple(kind.folder for kind in kinds.KINDS)  # the folders under content/, in reading order
IMAGE_FIELDS = ("src", "alt")
BOOTH_FIELDS = ("facility", "booth")
FAIR_YEARS_AHEAD = 5
# Words of the entry in English; everything else (numbers, codes, dates, places' names) comes from the
# Vietnamese file. `moq`, `packaging`, `shelf_life`, `lead_time` for a product; `venue`, `organiser` for a fair.
TRANSLATED_TEXTS = {"moq": 200, "packaging": 300, "shelf_life": 200, "lead_time": 200, "venue": 300, "organiser": 200}
TRANSLATION_FIELDS = ("name", "summary", "withdrawn", *TRANSLATED_TEXTS)
WITHDRAWN_FIELDS = ("date", "reason")
AWARD_FIELDS = ("level", "year", "decision", "issuer", "region")
CERTIFICATION_FIELDS = ("scheme", "grade", "number", "year", "expires")
CONTACT_FIELDS = ("phone", "zalo", "email", "website")
SUPPORT_FIELDS = ("year", "programme", "activity", "amount_vnd", "project", "activity_kind", "counterpart_vnd",
                  "status", "jobs")
SUPPORT_PROGRAMMES = ("national", "local")
SUMMARY_MAX = 200
HS_CODE = re.compile(r"^\d{4}(?:\.?\d{2}){0,3}$")


@dataclass(frozen=True)
class EntryFiles:
    """Where one entry lives: its main file, its English translation, and its folder."""

    kind: str
    slug: str
    main: Path
    translation: Path | None
    folder: Path

    def __reduce__(self) -> tuple:
        # Its paths pickled as strings, for the parse workers: a pickled Path is rebuilt part by part.
        translation = None if self.translation is None else str(self.translation)
        return _entry_files, (self.kind, self.slug, str(self.main), translation, str(self.folder))


def _entry_files(kind: str, slug: str, main: str, translation: str | None, folder: str) -> EntryFiles:
    return EntryFiles(kind, slug, Path(main), None if translation is None else Path(translation), Path(folder))


@dataclass(frozen=True)
class Reference:
    """A slug an entry names (a product's `facility`, a decision's `products`), checked once every
    entry is read; `kind` is the folder it must be in."""

    source: str
    line: int | None
    field: str
    slug: str
    kind: str = "facilities"


@dataclass(frozen=True)
class LoadOptions:
    content_dir: Path
    display_root: Path
    build_date: dt.date
    vocab: Vocabularies
    declared_awards: str = awards.DEFAULT_DECLARED_POLICY  # site.yaml: do declared awards count?


def load_catalogue(options: LoadOptions, jobs: int | None = None, cache: dict | None = None,
                   entry_files: bool = True) -> Catalogue:
    """Read and check the whole content tree; raise BuildFailed with every error found.

    With a `cache` (kept by `serve` between builds), an entry whose files have not changed since
    the last call is not parsed again. `entry_files`: whether the cache keeps each entry's
    EntryFiles (else None in their place)."""
    entries, errors = discover(options.content_dir, options.display_root)
    if cache is None:
        results = parallel.map_chunks(_parse_entry, [(options, entry) for entry in entries], jobs)
    else:
        results = _parse_changed(options, entries, jobs, cache, entry_files)
    found: dict[type, dict] = {Facility: {}, Product: {}, Fair: {}, Decision: {}}
    references: list[Reference] = []
    broken: set[tuple[str, str]] = set()  # entries with errors of their own
    for entry, (item, entry_errors, entry_references) in zip(entries, results):
        errors.extend(entry_errors)
        references.extend(entry_references)
        if item is not None:
            found[type(item)][item.slug] = item
        else:
            broken.add((entry.kind, entry.slug))
    facilities, products, fairs, decisions = found[Facility], found[Product], found[Fair], found[Decision]
    errors.extend(check_references(references, {"facilities": facilities, "products": products}, broken))
    for kind in (facilities, products, fairs):
        errors.extend(check_aliases(kind))
    errors.extend(awards.check_numbers(decisions.values()))
    index = awards.DecisionIndex.of(decisions.values())
    resolved = {}
    for slug, product in products.items():
        resolved[slug], award_errors = awards.resolve(product, index, options.declared_awards)
        errors.extend(award_errors)
    withdrawn_facilities = {slug: f for slug, f in facilities.items() if f.withdrawn}
    withdrawn_products = {slug: p for slug, p in products.items()
                          if p.withdrawn or p.facility_slug in withdrawn_facilities}
    errors.extend(check_fairs_ahead(fairs, withdrawn_facilities, options.build_date))
    warnings = [error for error in errors if error.warning]
    errors = [error for error in errors if not error.warning]
    if errors:
        raise BuildFailed(errors, warnings)
    facilities = {slug: f for slug, f in facilities.items() if slug not in withdrawn_facilities}
    products = {slug: p for slug, p in products.items() if slug not in withdrawn_products}
    current = awards.current_awards({slug: resolved[slug] for slug in products}, options.build_date)
    return Catalogue(facilities, products, options.build_date, current, fairs, decisions, resolved,
                     withdrawn_products, withdrawn_facilities, tuple(sorted(warnings, key=ContentError.sort_key)))


def check_fairs_ahead(fairs: dict[str, Fair], closed: dict[str, Facility], on: dt.date) -> list[ContentError]:
    """A fair still to come cannot have a booth for a facility that has closed (a past one keeps its record)."""
    since = {slug: facility.withdrawn.date for slug, facility in closed.items() if facility.withdrawn}
    return [ContentError(fair.source, booth.line, f"participants[{number}].facility",
                         f"cơ sở `{booth.facility_slug}` đã ngừng hoạt động (`withdrawn`) "
                         f"từ {since[booth.facility_slug]:%d/%m/%Y}",
                         f"facility `{booth.facility_slug}` closed (`withdrawn`) on {since[booth.facility_slug]}")
            for fair in fairs.values() if not fair.is_past(on)
            for number, booth in enumerate(fair.participants, 1) if booth.facility_slug in closed]


def _parse_changed(options: LoadOptions, entries: list[EntryFiles], jobs: int | None, cache: dict,
                   entry_files: bool = True) -> list:
    """`cache`: entry file, as a string → (stamp, parse result, its EntryFiles or None: `entry_files`),
    kept by the caller.
    An entry whose stamp is the same takes its EntryFiles from `entries` (the engine's cache file does
    not keep them: rebuilding their paths was a fifth of the time it took to read it). (Keys as
    strings: as Path objects, made from the cache file and hashed, they took 0.2 s at 10k products.)"""
    mains = [str(entry.main) for entry in entries]
    stamps = {main: entry_stamp(entry) for main, entry in zip(mains, entries)}
    _name_bundle_files_by_git(stamps, {main: entry.folder for main, entry in zip(mains, entries)}, cache)
    stale = []
    for main, entry in zip(mains, entries):
        kept = cache.get(main)
        if kept is None or not same_files(kept[0], stamps[main]):
            stale.append((main, entry))
        else:  # (its stamp as now, with what git named as before: see `same_files`)
            cache[main] = (_carried(kept[0], stamps[main]), kept[1], entry if entry_files else None)
    results = parallel.map_chunks(_parse_entry, [(options, entry) for _, entry in stale], jobs)
    for (main, entry), result in zip(stale, results):
        cache[main] = (stamps[main], result, entry if entry_files else None)
    for gone in set(cache) - stamps.keys():
        del cache[gone]
    return [cache[main][1] for main in mains]


def same_files(old: tuple, new: tuple) -> bool:
    """Whether two stamps (`entry_stamp`) say the same files: the same text, and each other file of a
    bundle with the same size, time and inode, or named by git by the same content."""
    if old[:2] != new[:2] or len(old) != len(new):
        return False
    return all(before[:4] == now[:4] or (before[0] == now[0] and before[4] is not None and before[4] == now[4])
               for before, now in zip(old[2:], new[2:]))


def _carried(old: tuple, new: tuple) -> tuple:
    """`new`, each file keeping the blob id `old` had for it where git was not asked now and its size,
    time and inode are the same (so the next checkout can still be matched by content)."""
    return (*new[:2], *(now if now[4] is not None or before[:4] != now[:4] else before
                        for before, now in zip(old[2:], new[2:])))


def _name_bundle_files_by_git(stamps: dict[str, tuple], folders: dict[str, Path], cache: dict) -> None:
    """A deploy runner's fresh checkout gives every photo a new time and inode: every bundle would
    be read and checked again. When the other files of bundles whose stamps changed are many bytes
    (`gitfiles.blob_ids_if_large`), git's blob ids of those files are put in their stamps
    (`same_files` then matches them with the last build's). Locally, an edit changes a few."""
    changed = {main: stamp for main, stamp in stamps.items()
               if len(stamp) > 2 and main in cache and not same_files(cache[main][0], stamp)}
    files = {os.path.join(folders[main], part[0]): (main, number) for main, stamp in changed.items()
             for number, part in enumerate(stamp[2:], 2)}
    sizes = {file: stamps[main][number][1] for file, (main, number) in files.items()}
    for file, blob in gitfiles.blob_ids_if_large(sizes).items():
        main, number = files[file]
        stamp = list(stamps[main])
        stamp[number] = (*stamp[number][:4], blob)
        stamps[main] = tuple(stamp)


def parse_entry(options: LoadOptions, entry: EntryFiles) -> tuple:
    """(item or None, errors, references) of one entry: what `load_catalogue` does for each."""
    return _parse_entry((options, entry))


def entry_stamp(entry: EntryFiles) -> tuple:
    """What says an entry's files changed: the content of its text and its translation (an edit
    within the clock's tick, keeping the size, still counts) and, for a bundle, the size, time and
    inode of every other file in its folder (photos: reading them all would cost more than it saves;
    a photo replaced whole, as editors and git do, is a new inode), and a place for git's blob id of
    it (`_name_bundle_files_by_git`)."""
    stamp: list = [_text_stamp(entry.main), _text_stamp(entry.translation) if entry.translation else None]
    if entry.main.name == "index.md":  # (the last part: git's blob id, where `_name_bundle_files_by_git` asks it)
        stamp += [(path.name, *_file_stamp(path), None) for path in sorted(entry.folder.iterdir())
                  if path != entry.main and path != entry.translation]
    return tuple(stamp)


def _text_stamp(path: Path) -> tuple[str, str]:
    try:
        return path.name, text_digest(str(path), os.stat(path))
    except OSError:
        return path.name, "?"


# While a build runs (`digests_kept`): file → its marks when read (`marks`), and the digest of what it
# held. The build's input fingerprint reads every content file first; the entry stamps then need not
# read them again.
DigestMemo = dict[str, tuple[tuple[int, int, int, int], str]]  # file → (size, time, inode, ctime), digest
_TEXT_DIGESTS: list[tuple[DigestMemo, DigestMemo]] = []  # (this build's memo, one known from before)


@contextmanager
def digests_kept(memo: DigestMemo | None = None, known: DigestMemo | None = None) -> Iterator[None]:
    """Within it, each text file is read once while its marks stay the same. The preview passes its own
    `memo`, kept for hours, and takes out of it every file the watcher says changed (`forget_digests`)
    before each rebuild. A build passes a fresh one, and `known`: what an earlier build found, made of
    files that had not changed for a while before it read them (see engine/incremental.py,
    `settled_digests`), so a file saved again since always has another change time."""
    _TEXT_DIGESTS.append(({} if memo is None else memo, known or {}))
    try:
        yield
    finally:
        _TEXT_DIGESTS.pop()


def forget_digests(memo: DigestMemo, paths: Iterable[Path]) -> None:
    """Take these files, and every file under these folders, out of `memo`: they are read again."""
    files = {os.path.abspath(path) for path in paths}
    folders = tuple(os.path.join(path, "") for path in files)
    # The memo holds paths as the build named them, maybe relative: only those that name one of these
    # files or folders are made absolute to compare (all 12,000 of them took 29 ms an edit).
    names = {f"/{os.path.basename(path)}" for path in files}
    for path in [path for path in memo if any(name in f"/{path}" for name in names)]:
        full = os.path.abspath(path)
        if full in files or full.startswith(folders):
            del memo[path]


def marks(stat: os.stat_result) -> tuple[int, int, int, int]:
    """What changes when a file is written: its size, time and inode, and its change time, which no
    program can set back (a file written in place and given its old time again has a new one)."""
    return gitfiles.marks(stat)


def text_digest(path: str, stat: os.stat_result) -> str:
    """A digest of a text file's bytes (`stat`: the file's, just taken)."""
    if not _TEXT_DIGESTS:
        return _read_digest(path)
    kept, known = _TEXT_DIGESTS[-1]
    now = marks(stat)
    found = kept.get(path) or known.get(path)
    if found is not None and found[0] == now:
        kept[path] = found
        return found[1]
    digest = _read_digest(path)
    kept[path] = (now, digest)
    return digest


def _read_digest(path: str) -> str:
    """git's blob id of the file's bytes: what git's index holds for a file it tracks unchanged, so
    that a digest read and one git gives (`name_texts_by_git`) are the same."""
    with open(path, "rb") as stream:
        data = stream.read()
    digest = hashlib.sha1(b"blob %d\0" % len(data), usedforsecurity=False)
    digest.update(data)
    return digest.hexdigest()


SAMPLED = 100  # text files looked at first by `name_texts_by_git`
SHA1_HEX = 40  # the length of a blob id in a repository of SHA-1 names, the usual kind (not SHA-256)


def name_texts_by_git(stats: dict[str, os.stat_result | None], photos: set[str]) -> None:
    """A fresh checkout, as on a deploy runner, gives every file new marks, so every text file would be
    read again for its digest. When the text files new to this build's digests are many
    (`gitfiles.ASK_GIT_FILES`, and half of them), git is asked instead: a file it tracks unchanged
    gets its blob id as its digest. `stats`: the content's files (path → its stat, just taken; None
    for a link to nothing); the `photos` among them are asked about in the same call, for the stages
    after to take from its answer (`gitfiles.answers_kept`)."""
    if not _TEXT_DIGESTS:
        return
    kept, known = _TEXT_DIGESTS[-1]

    def texts_of(paths: Iterable[str]) -> dict[str, os.stat_result]:
        """The regular files among `paths` that are not photos, with their stats."""
        return {path: stat for path in paths
                if (stat := stats[path]) is not None and S_ISREG(stat.st_mode) and path not in photos}

    def unknown(texts: dict[str, os.stat_result]) -> dict[str, os.stat_result]:
        """Those whose marks are not those of a digest this build knows."""
        return {path: stat for path, stat in texts.items()
                if (before := kept.get(path) or known.get(path)) is None or before[0] != marks(stat)}

    # a sample says first whether most are new (a fresh checkout): a local build looks at no more
    sample = texts_of(list(stats)[:: max(1, len(stats) // SAMPLED)])
    if len(stats) < gitfiles.ASK_GIT_FILES or 2 * len(unknown(sample)) < len(sample):
        return
    texts = texts_of(stats)
    new = unknown(texts)
    if len(new) < gitfiles.ASK_GIT_FILES or 2 * len(new) < len(texts):
        return
    asked = {**new, **{path: stat for path in sorted(photos) if (stat := stats[path]) is not None and S_ISREG(stat.st_mode)}}
    for path, blob in gitfiles.blob_ids(list(asked), asked).items():
        if path in new and len(blob) == SHA1_HEX:
            kept[path] = (marks(new[path]), blob)


def _file_stamp(path: Path) -> tuple[int, int, int]:
    try:
        stat = path.stat()
        return stat.st_size, stat.st_mtime_ns, stat.st_ino
    except OSError:
        return -1, -1, -1


# -- finding entries ---------------------------------------------------------------------------

def discover(content_dir: Path, root: Path) -> tuple[list[EntryFiles], list[ContentError]]:
    """Find single-file and bundle entries and their translations; report naming problems."""
    entries: list[EntryFiles] = []
    errors: list[ContentError] = []
    for kind in KINDS:
        folder = content_dir / kind
        if folder.is_symlink():
            errors.append(_not_regular(folder, root))
            continue
        if not folder.is_dir():
            continue
        mains: dict[str, list[Path]] = {}
        translations: dict[str, list[Path]] = {}
        # scandir: no stat per file. Names are looked at as strings, and a Path made only for a file
        # kept or reported (one for each of 16,000 files, made from its whole path, took a tenth of a second).
        for item in sorted(os.scandir(folder), key=lambda item: item.name):
            name = item.name
            if name.startswith("."):
                continue
            if item.is_symlink() or not (item.is_dir() or item.is_file()):
                errors.append(_not_regular(folder / name, root))
                continue
            if item.is_dir():
                path = folder / name
                errors.extend(_not_regular(inside, root) for inside in _irregular_files(path))
                for inside, target in (("index.md", mains), ("index.en.md", translations)):
                    if (path / inside).is_file() and not (path / inside).is_symlink():
                        target.setdefault(name, []).append(path / inside)
                if not (path / "index.md").is_file() and not (path / "index.en.md").is_file():
                    errors.append(ContentError(display_path(path, root), None, None,
                                               "thư mục mục nhập thiếu tệp `index.md`",
                                               "entry folder has no `index.md` file"))
                continue
            suffix = os.path.splitext(name)[1]
            if suffix != ".md":
                if suffix.lower() == ".md":
                    errors.append(ContentError(display_path(folder / name, root), None, None,
                                               "đuôi tệp phải viết thường: `.md`",
                                               "the file extension must be lowercase: `.md`"))
                continue
            slug, _, language = name[: -len(".md")].partition(".")
            if language not in ("", "en"):
                errors.append(ContentError(display_path(folder / name, root), None, None,
                                           "chỉ hỗ trợ bản dịch tiếng Anh, đặt tên `<slug>.en.md`",
                                           "only English translations are supported, named `<slug>.en.md`"))
                continue
            (translations if language == "en" else mains).setdefault(slug, []).append(folder / name)
        for slug, paths in mains.items():
            errors.extend(_check_slug(slug, paths, root))
        for slug, paths in translations.items():
            if slug not in mains:
                errors.append(ContentError(display_path(paths[0], root), None, None,
                                           f"bản dịch không có mục nhập gốc tiếng Việt (`{slug}.md` hoặc `{slug}/index.md`)",
                                           f"translation has no Vietnamese entry (`{slug}.md` or `{slug}/index.md`)"))
            elif len(paths) > 1:
                errors.append(ContentError(display_path(paths[1], root), None, None,
                                           "có hai bản dịch cho cùng một mục nhập", "two translations of the same entry"))
        for slug, paths in mains.items():
            if len(paths) == 1 and SLUG.match(slug):
                entries.append(EntryFiles(kind, slug, paths[0], translations.get(slug, [None])[0], paths[0].parent))
    return entries, errors


def _not_regular(path: Path, root: Path) -> ContentError:
    """Entries, translations and photos are plain files: a link could make the build read (and publish)
    any file on the machine that builds it, or another facility's entry under this one's name."""
    return ContentError(display_path(path, root), None, None,
                        "không phải tệp thường (liên kết tượng trưng hoặc tệp đặc biệt): hãy thay bằng chính tệp đó",
                        "not a regular file (a symbolic link or a special file): put the file itself here")


def _irregular_files(folder: Path) -> list[Path]:
    """Links and special files anywhere in an entry's folder (links are not followed)."""
    found = []
    for item in os.scandir(folder):  # the types come with the listing: no stat per photo
        if item.is_symlink() or not (item.is_dir() or item.is_file()):
            found.append(Path(item.path))
        elif item.is_dir():
            found.extend(_irregular_files(Path(item.path)))
    return sorted(found)


def _check_slug(slug: str, paths: list[Path], root: Path) -> list[ContentError]:
    if len(paths) == 1 and SLUG.match(slug):
        return []  # as most are: the file is named (a path made relative) only for a message
    where = display_path(paths[0], root)
    if len(paths) > 1:
        return [ContentError(display_path(paths[1], root), None, None,
                             f"trùng tên với `{where}`: mỗi mục nhập chỉ được có một tệp hoặc một thư mục",
                             f"same slug as `{where}`: an entry is either one file or one folder, not both")]
    if not SLUG.match(slug):
        vi, en = hint(f"tên tệp `{slug}` không hợp lệ: chỉ dùng chữ thường không dấu, số và dấu `-`",
                      f"file name `{slug}` is not a valid slug: use lowercase ASCII letters, digits and `-`",
                      slugify(slug) or None)
        return [ContentError(where, None, None, vi, en)]
    return []


# -- parsing one entry -------------------------------------------------------------------------

def _parse_entry(job: tuple[LoadOptions, EntryFiles]) -> tuple[Entry | None, list[ContentError], list[Reference]]:
    """Read one entry and its translation; the item is None when it has errors."""
    options, entry = job
    source = display_path(entry.main, options.display_root)
    errors = ErrorList(source)
    document = read_document(_read_bytes(entry.main, errors), errors)
    if document is None or document.front is None:
        return None, list(errors), []
    kind = kinds.BY_FOLDER[entry.kind]
    fields = Fields(document.front, document.front_line, errors, options.build_date, kind.fields)
    item = PARSERS[kind.name](entry, source, fields, options)
    description = render_markdown(document.body)
    translation_errors: list[ContentError] = []
    if entry.translation is not None:
        english, translation_errors = _parse_translation(entry.translation, options)
        if item is not None:
            item = replace(item, name=Localized(item.name.vi, english.name),
                           summary=Localized(item.summary.vi, english.summary),
                           description=Description.of(description, english.description))
            item, misplaced = _translated_texts(item, english)
            translation_errors += [ContentError(display_path(entry.translation, options.display_root), english.lines[name],
                                                name, f"`{name}` không có ở mục nhập này", f"this entry has no `{name}`")
                                   for name in misplaced]
        withdrawn = getattr(item, "withdrawn", None)
        if item is not None and withdrawn is not None and english.reason:
            item = replace(item, withdrawn=replace(withdrawn, reason=Localized(withdrawn.reason.vi, english.reason)))
        elif english.reason_line is not None and item is not None and withdrawn is None:
            translation_errors.append(ContentError(
                display_path(entry.translation, options.display_root), english.reason_line, "withdrawn",
                "bản tiếng Việt không ghi `withdrawn`: ghi `withdrawn: {date: …}` ở đó trước",
                "the Vietnamese entry has no `withdrawn`: write `withdrawn: {date: …}` there first"))
    elif item is not None:
        item = replace(item, description=Description.of(description))
    references = []
    facility = document.front.get("facility")
    if isinstance(item, Product) and facility is not None:
        references.append(Reference(source, facility.line, "facility", item.facility_slug))
    if isinstance(item, Fair):
        references.extend(Reference(source, booth.line, f"participants[{number}].facility", booth.facility_slug)
                          for number, booth in enumerate(item.participants, 1))
    if isinstance(item, Decision):
        listed = fields.items("products")
        references.extend(Reference(source, value.line, f"products[{number}]", slug, "products")
                          for number, (value, slug) in enumerate(zip(listed, item.products), 1))
    failed = any(not error.warning for error in errors)
    return (None if failed else item), list(errors) + translation_errors, references


def _read_bytes(path: Path, errors: ErrorList) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        errors.add(None, None, f"không đọc được tệp: {exc.strerror}", f"cannot read file: {exc.strerror}")
        return b""


@dataclass(frozen=True)
class English:
    """What a translation (`<slug>.en.md`) may set."""

    name: str | None = None
    summary: str | None = None
    description: str | None = None
    reason: str | None = None          # `withdrawn: {reason: …}`: why it is no longer offered, in English
    reason_line: int | None = None
    texts: dict[str, str] = field(default_factory=dict)  # TRANSLATED_TEXTS given, by field
    lines: dict[str, int | None] = field(default_factory=dict)


def _parse_translation(path: Path, options: LoadOptions) -> tuple[English, list[ContentError]]:
    errors = ErrorList(display_path(path, options.display_root))
    document = read_document(_read_bytes(path, errors), errors, front_required=False)
    if document is None:
        return English(), list(errors)
    fields = Fields(document.front or {}, document.front_line, errors, options.build_date, TRANSLATION_FIELDS,
                    unknown=("bản dịch chỉ được ghi `name`, `summary`, `withdrawn: {reason: …}` và chữ của "
                             f"{', '.join(f'`{name}`' for name in TRANSLATED_TEXTS)}; các trường khác lấy từ bản tiếng Việt",
                             "a translation may only set `name`, `summary`, `withdrawn: {reason: …}` and the words of "
                             f"{', '.join(f'`{name}`' for name in TRANSLATED_TEXTS)}; other fields come from the "
                             "Vietnamese entry"))
    withdrawn = fields.mapping_field("withdrawn", ("reason",))
    english = English(name=fields.text("name", max_len=200), summary=fields.text("summary", max_len=SUMMARY_MAX),
                      description=render_markdown(document.body) if document.body.strip() else None,
                      reason=withdrawn.text("reason", required=True, max_len=300) if withdrawn else None,
                      reason_line=withdrawn.line if withdrawn else None,
                      texts={name: text for name, limit in TRANSLATED_TEXTS.items()
                             if (text := fields.text(name, max_len=limit))},
                      lines={name: value.line for name in TRANSLATED_TEXTS if (value := fields.get(name))})
    return english, list(errors)


def _translated_texts(item: Entry, english: English) -> tuple[Entry, list[str]]:
    """The entry with the English words its translation gives; the names given that it has no field
    for, or whose Vietnamese is not written (an English word for nothing), to report."""
    words: dict[str, Localized] = {}
    misplaced = []
    for name, text in english.texts.items():
        vietnamese = getattr(item, name, None)
        if isinstance(vietnamese, Localized) and vietnamese.vi:
            words[name] = Localized(vietnamese.vi, text)
        else:
            misplaced.append(name)
    # the names were read from `item` itself just above, each a Localized field of its kind
    return (replace(item, **words) if words else item), misplaced  # type: ignore[arg-type]


def _parse_withdrawal(fields: Fields) -> Withdrawal | None:
    """`withdrawn: {date, reason}`: no longer offered since that day (not after the build date)."""
    withdrawn = fields.mapping_field("withdrawn", WITHDRAWN_FIELDS)
    if withdrawn is None:
        return None
    day = withdrawn.past_date("date", required=True)
    reason = withdrawn.text("reason", max_len=300)
    return Withdrawal(day, Localized(reason or "")) if day else None


def _parse_decision(entry: EntryFiles, source: str, fields: Fields, options: LoadOptions) -> Decision | None:
    """A decision of recognition: the centre's record that makes awards verified."""
    vocab = options.vocab
    number = fields.text("number", required=True, max_len=100)
    day = fields.past_date("date", required=True)  # its year is the award's year
    issuer = fields.text("issuer", required=True, max_len=200)
    level = fields.term("level", vocab.award_levels, "cấp công nhận", "award level", required=True)
    region = fields.term("region", vocab.regions, "khu vực", "region")
    _check_region(fields, level, region)
    products = _decision_products(fields)
    document = fields.url("document")
    summary = Localized(fields.text("summary", max_len=SUMMARY_MAX) or "")
    if not (number and day and issuer and level and products):
        return None
    return Decision(slug=entry.slug, source=source, number=number, date=day, issuer=issuer, level=level.term,
                    products=products, name=Localized(f"Quyết định số {number}", f"Decision No. {number}"),
                    region=region.term if region else None, document=document, summary=summary,
                    number_line=fields.mapping["number"].line)


def _decision_products(fields: Fields) -> tuple[str, ...]:
    """The products a decision recognises: slugs, each once, at least one."""
    products: list[str] = []
    items = fields.items("products")
    if fields.get("products", required=True) is not None and not items:
        fields.error("products", fields.mapping.get("products"), "cần ít nhất một sản phẩm",
                     "needs at least one product")
    valid = True
    for index, item in enumerate(items, 1):
        slug = fields.text_of(f"products[{index}]", item)
        if slug is not None and not SLUG.match(slug):
            vi, en = hint(f"`{slug}` không phải tên tệp (slug) của sản phẩm", f"`{slug}` is not a product's slug",
                          slugify(slug) or None)
            fields.error(f"products[{index}]", item, vi, en)
        elif slug is not None and slug in products:
            first = products.index(slug) + 1
            fields.error(f"products[{index}]", item,
                         f"sản phẩm `{slug}` đã có ở products[{first}]: mỗi sản phẩm một lần",
                         f"product `{slug}` is already listed at products[{first}]: list each once")
        valid = valid and slug is not None and SLUG.match(slug) is not None and slug not in products
        products.append(slug or "")
    return tuple(products) if valid else ()


def _parse_facility(entry: EntryFiles, source: str, fields: Fields, options: LoadOptions) -> Facility | None:
    vocab = options.vocab
    name = fields.text("name", required=True, max_len=200)
    kind = fields.term("kind", vocab.facility_kinds, "loại hình cơ sở", "kind of facility", required=True)
    province = fields.term("province", vocab.provinces, "tỉnh, thành phố", "province", required=True)
    contact = _parse_contact(fields)
    # read even when a required field failed, so every problem is reported
    summary = Localized(fields.text("summary", max_len=SUMMARY_MAX) or "")
    locality = _locality(fields, province)
    location = _parse_location(fields)
    founded = fields.year("founded", minimum=1800)
    employees = fields.integer("employees", 0, 1_000_000)
    maintainers = fields.github_users("maintainers")
    support = tuple(sorted(fields.mapping_list("support", SUPPORT_FIELDS, lambda item: _parse_support(item, vocab)),
                         key=lambda s: -s.year))
    images = _parse_images(fields, entry)
    aliases = _parse_aliases(fields, entry.slug)
    withdrawn = _parse_withdrawal(fields)
    if not (name and kind and province and contact):
        return None
    return Facility(slug=entry.slug, source=source, name=Localized(name), kind=kind.term,
                    province=_province_of(province, locality.commune), contact=contact, summary=summary,
                    address=locality.address, address_former=locality.address_former, commune=locality.commune,
                    commune_former=locality.commune_former, location=location, founded=founded, employees=employees,
                    maintainers=maintainers, support=support, images=images, aliases=aliases, withdrawn=withdrawn)


def _province_of(province: Match, commune: places.Commune | None) -> Province:
    """The facility's province, with the one it was in before 1 July 2025 (`Province.was`)."""
    was = province.former
    if was is None and commune is not None:
        was = places.official().joined_province(commune, province.term.extra.get("joined", ()))
    return Province(province.term, province.former, was)


class Locality(NamedTuple):
    address: str | None
    address_former: str | None = None
    commune: places.Commune | None = None
    commune_former: str | None = None


def _locality(fields: Fields, province: Match | None) -> Locality:
    """`commune` checked against the official 2025 list of the facility's province, and `address`
    in the 2025 form when it was written the old way and converts without doubt (places.py)."""
    written = fields.text("commune", max_len=100)
    address = fields.text("address", max_len=300)
    if province is None or not (written or address):
        return Locality(address)
    code = province.term.extra["official_code"]
    # `province: Bạc Liêu` (a former name) says which former province the old names are in
    old_province = places.official().old_province(province.former) if province.former else None
    commune, commune_former = (_parse_commune(fields, written, province.term, old_province) if written
                               else (None, None))
    names = Province(province.term, province.former).names
    conversion = places.official().convert(code, address, names) if address else None
    if conversion is None:
        return Locality(address, None, commune, commune_former)
    found = conversion.commune
    if commune is None and not written:
        commune = found
    elif commune is not None and found is not None and found != commune:
        fields.warn("commune", fields.get("commune"),
                    f"`commune` là {commune.name} nhưng địa chỉ là ở {found.name}: sửa một trong hai",
                    f"`commune` is {commune.name} but the address is in {found.name}: correct one of them")
    if conversion.former and conversion.address is not None:
        return Locality(conversion.address, address, commune, commune_former)
    return Locality(address, None, commune, commune_former)


def _parse_commune(fields: Fields, written: str, province: Term,
                   old_province: str | None) -> tuple[places.Commune | None, str | None]:
    """The 2025 commune `commune` names (a former name is mapped; one that became several is a
    warning listing them, for the facility to choose)."""
    found = places.official().find(province.extra["official_code"], written, old_province)
    value = fields.get("commune")
    if found.commune is not None:
        return found.commune, (written if found.former else None)
    if found.communes:
        listed = _choices(found, places.official().units(province.extra["official_code"]))
        vi_was, en_was = ("trước 1/7/2025 ", "before 1 July 2025 ") if found.former else ("", "")
        fields.warn("commune", value,
                    f"`{written}` {vi_was}ứng với nhiều xã, phường của {province.vi}: {listed}; ghi tên (hoặc mã) "
                    "xã, phường nơi cơ sở đặt trụ sở",
                    f"`{written}` {en_was}matches several communes of {province.en}: {listed}; write the name (or "
                    "code) of the one the facility is in")
        return None, None
    vi = f"`{written}` không có trong danh sách xã, phường, đặc khu của {province.vi} (từ 1/7/2025)"
    en = f"`{written}` is not a commune, ward or special zone of {province.en} (since 1 July 2025)"
    elsewhere = [places.official_provinces()[code].name for code in places.official().provinces_with(written)]
    if elsewhere:
        vi, en = f"{vi}; có ở: {', '.join(elsewhere[:6])}", f"{en}; there is one in: {', '.join(elsewhere[:6])}"
        fields.error("commune", value, vi, en)
    else:
        fields.error("commune", value, *hint(vi, en, places.official().suggest(province.extra["official_code"], written)))
    return None, None


def _choices(found: places.Found, units: places.ProvinceUnits) -> str:
    """The communes to choose from; for former units, which went where (`Phường 8 (Thành phố Bạc Liêu)
    → Phường Bạc Liêu (31825)`)."""
    def named(communes: tuple[places.Commune, ...]) -> str:
        return ", ".join(f"{c.name} ({c.code})" for c in communes[:12]) + (", …" if len(communes) > 12 else "")
    if not found.former or len(found.former) > 6:
        return named(found.communes)
    return "; ".join(f"{unit.ward} ({unit.district}) → {named(units.went.get(unit.key, ()))}" if unit.ward
                     else f"{unit.district} → {named(units.went.get(unit.key, ()))}" for unit in found.former)


def _parse_contact(fields: Fields) -> Contact | None:
    contact_fields = fields.mapping_field("contact", CONTACT_FIELDS, required=True)
    if contact_fields is None:
        return None
    contact = Contact(phone=contact_fields.phone("phone"), zalo=contact_fields.phone("zalo"),
                      email=contact_fields.email("email"), website=contact_fields.url("website"))
    if not any((contact.phone, contact.zalo, contact.email, contact.website)):
        if not any(name in contact_fields.mapping for name in CONTACT_FIELDS):
            fields.error("contact", fields.mapping["contact"],
                         "cần ít nhất một trong `phone`, `zalo`, `email`, `website`",
                         "needs at least one of `phone`, `zalo`, `email`, `website`")
        return None
    return contact


def _parse_location(fields: Fields) -> Location | None:
    location = fields.mapping_field("location", ("lat", "lon"))
    if location is None:
        return None
    lat = location.number("lat", -90, 90, required=True)
    lon = location.number("lon", -180, 180, required=True)
    return Location(lat, lon) if lat is not None and lon is not None else None


def _parse_support(item: Fields, vocab: Vocabularies) -> Support | None:
    year = item.year("year", required=True)
    programme = item.text("programme", required=True)
    if programme is not None and programme not in SUPPORT_PROGRAMMES:
        vi, en = hint(f"`{programme}` phải là `national` (khuyến công quốc gia) hoặc `local` (khuyến công địa phương)",
                      f"`{programme}` must be `national` or `local`", suggest(programme, SUPPORT_PROGRAMMES))
        item.error("programme", item.mapping["programme"], vi, en)
        programme = None
    activity = item.text("activity", required=True, max_len=300)
    amount = item.integer("amount_vnd", 0, 10**13)
    project = item.text("project", max_len=300)
    kind = item.term("activity_kind", vocab.support_activities, "loại hoạt động khuyến công", "kind of support activity")
    status = item.term("status", vocab.support_statuses, "tình trạng đề án", "project status")
    counterpart = item.integer("counterpart_vnd", 0, 10**13)
    jobs = item.integer("jobs", 0, 1_000_000)
    if year is None or programme is None or activity is None:
        return None
    return Support(year, programme, activity, amount, project, kind.term if kind else None, counterpart,
                   status.term if status else None, jobs)


def _parse_images(fields: Fields, entry: EntryFiles) -> tuple[Image, ...]:
    """Photos: `file.jpg` or `{src: file.jpg, alt: "…"}`, relative to the entry file and inside
    its folder, each a real JPEG, PNG or WebP within the size limits."""
    images = []
    items = fields.items("images")
    folder = entry.folder.resolve() if items else entry.folder
    for index, item in enumerate(items, 1):
        label = f"images[{index}]"
        alt = None
        if isinstance(item.data, dict):
            photo = Fields(item.data, item.line, fields.errors, fields.build_date, IMAGE_FIELDS, fields.label(label))
            written, alt = photo.text("src", required=True), photo.text("alt", max_len=300)
        else:
            written = fields.text_of(label, item)
        if written is None:
            continue
        path = (entry.main.parent / written).resolve()
        problem = None
        if os.path.isabs(written) or ".." in Path(written).parts or not path.is_relative_to(folder):
            problem = ("ảnh phải nằm trong thư mục của mục nhập (không dùng `..`, đường dẫn tuyệt đối hay liên kết ra ngoài)",
                       "photos must be inside the entry's folder (no `..`, absolute paths or links pointing out)")
        elif not path.is_file():
            problem = ("không tìm thấy tệp này", "file not found")
        elif path.suffix.lower() not in IMAGE_SUFFIXES:
            problem = check_photo(path) or ("ảnh phải là tệp .jpg, .png hoặc .webp", "photos must be .jpg, .png or .webp files")
        else:
            problem = check_photo(path)
        if problem:
            fields.error("images", item, f"`{written}`: {problem[0]}", f"`{written}`: {problem[1]}")
        else:
            images.append(Image(written, str(path), alt, item.line))
    return tuple(images)


def _parse_product(entry: EntryFiles, source: str, fields: Fields, options: LoadOptions) -> Product | None:
    vocab = options.vocab
    name = fields.text("name", required=True, max_len=200)
    facility = _facility_slug(fields)
    group = fields.term("group", vocab.product_groups, "nhóm sản phẩm", "product group", required=True)
    # read even when a required field failed, so every problem is reported
    summary = Localized(fields.text("summary", max_len=SUMMARY_MAX) or "")
    # newest first, as pages list them
    awards = tuple(sorted(fields.mapping_list("awards", AWARD_FIELDS, lambda item: _parse_award(item, vocab)),
                        key=lambda a: (-a.year, -a.level.rank)))
    export_markets = _parse_markets(fields, vocab)
    domestic_channels = fields.text_list("domestic_channels")
    certifications = fields.mapping_list("certifications", CERTIFICATION_FIELDS,
                                       lambda item: _parse_certification(item, vocab))
    capacity = _parse_capacity(fields)
    moq = Localized(fields.text("moq", max_len=200) or "")
    packaging = Localized(fields.text("packaging", max_len=300) or "")
    shelf_life = Localized(fields.text("shelf_life", max_len=200) or "")
    hs_code = _parse_hs_code(fields)
    lead_time = Localized(fields.text("lead_time", max_len=200) or "")
    tags = fields.text_list("tags", max_len=60)
    images = _parse_images(fields, entry)
    aliases = _parse_aliases(fields, entry.slug)
    withdrawn = _parse_withdrawal(fields)
    if not (name and facility and group):
        return None
    return Product(slug=entry.slug, source=source, name=Localized(name), facility_slug=facility, group=group.term,
                   summary=summary, awards=awards, export_markets=export_markets, domestic_channels=domestic_channels,
                   certifications=certifications, capacity=capacity, moq=moq, packaging=packaging, shelf_life=shelf_life,
                   hs_code=hs_code, lead_time=lead_time, tags=tags, images=images, aliases=aliases, withdrawn=withdrawn)


def _facility_slug(fields: Fields) -> str | None:
    """A product's `facility`; left empty (as `new` leaves it when not told), the message says what to write."""
    value = fields.get("facility", required=True)
    if value is not None and value.is_scalar and isinstance(value.raw, str) and not value.raw.strip():
        fields.error("facility", value,
                     "ghi tên tệp của cơ sở sản xuất ra sản phẩm này (tệp trong content/facilities/, không có `.md`), "
                     "ví dụ `facility: my-thuyen`",
                     "write the file name of the facility that makes this product (a file in content/facilities/, "
                     "without `.md`), for example `facility: my-thuyen`")
        return None
    return fields.text("facility") if value is not None else None


def _parse_fair(entry: EntryFiles, source: str, fields: Fields, options: LoadOptions) -> Fair | None:
    name = fields.text("name", required=True, max_len=200)
    start = _fair_date(fields, "start")
    end = _fair_date(fields, "end")
    where = _fair_place(fields, options.vocab)
    venue = fields.text("venue", required=where is not None and where[2] is None, max_len=300)
    if start and end and end < start:
        fields.error("end", fields.mapping.get("end"), f"ngày kết thúc ({end}) trước ngày bắt đầu ({start})",
                     f"the end ({end}) is before the start ({start})")
    participants = _parse_participants(fields)
    website = fields.url("website")
    summary = Localized(fields.text("summary", max_len=SUMMARY_MAX) or "")
    aliases = _parse_aliases(fields, entry.slug)
    organiser = fields.text("organiser", max_len=200)
    if not (name and start and end and where and (venue or where[2])):
        return None
    province, (country, city), online = where[0], where[1], where[2]
    return Fair(slug=entry.slug, source=source, name=Localized(name), start=start, end=end, venue=Localized(venue or ""),
                province=Province(province.term, province.former, province.former) if province else None,
                country=country, city=city, online=online, participants=participants, website=website, summary=summary,
                aliases=aliases, organiser=Localized(organiser or ""))


PLACE_FIELDS = ("province", "country", "online")


def _fair_place(fields: Fields, vocab: Vocabularies) -> tuple | None:
    """Where a fair is: (province, (country, city), online URL), exactly one of them given. A fair in
    Viet Nam names its province; a fair abroad its country and city; an online fair its address."""
    given = [name for name in PLACE_FIELDS if fields.get(name) is not None]
    if not given:
        fields.error("province", None,
                     "thiếu nơi tổ chức: hội chợ trong nước ghi `province`; ở nước ngoài ghi `country` (mã ISO) và "
                     "`city`; hội chợ trực tuyến ghi `online: https://…`",
                     "where is it? a fair in Viet Nam gives `province`; abroad, `country` (ISO code) and `city`; "
                     "an online fair, `online: https://…`")
        return None
    if len(given) > 1:
        fields.error(given[1], fields.mapping.get(given[1]),
                     f"chỉ ghi một trong `province`, `country`, `online` (đã có `{given[0]}`)",
                     f"give only one of `province`, `country`, `online` (`{given[0]}` is already given)")
        return None
    if given == ["province"]:
        if fields.get("city") is not None:
            fields.error("city", fields.mapping.get("city"), "`city` đi cùng `country` (hội chợ ở nước ngoài)",
                         "`city` goes with `country` (a fair abroad)")
        province = fields.term("province", vocab.provinces, "tỉnh, thành phố", "province")
        return (province, (None, None), None) if province else None
    if given == ["online"]:
        url = fields.url("online")
        return (None, (None, None), url) if url else None
    country = _country(fields, vocab)
    city = fields.text("city", required=True, max_len=100)
    return (None, (country, city), None) if country and city else None


def _country(fields: Fields, vocab: Vocabularies) -> Term | None:
    code = fields.text("country")
    if code is None:
        return None
    term = vocab.countries.by_code.get(code.upper())
    if term is None:
        named = vocab.countries.lookup(code)
        vi, en = hint(f"`{code}` không phải mã quốc gia ISO 3166-1 gồm 2 chữ cái",
                      f"`{code}` is not an ISO 3166-1 two-letter country code", named.term.code if named else None)
        fields.error("country", fields.mapping.get("country"), vi, en)
        return None
    if term.code == "VN":
        fields.error("country", fields.mapping.get("country"), "hội chợ trong nước ghi `province` thay cho `country`",
                     "a fair in Viet Nam gives its `province` instead of `country`")
        return None
    return term


def _fair_date(fields: Fields, name: str) -> dt.date | None:
    """A fair's day: a real date, from 1990 to a few years ahead (a typo like 2206 is caught)."""
    if fields.get(name, required=True) is None:
        return None
    day = fields.date(name)
    latest = fields.build_date.year + FAIR_YEARS_AHEAD
    if day is not None and not MIN_YEAR <= day.year <= latest:
        fields.error(name, fields.mapping.get(name), f"năm {day.year} không hợp lý (từ {MIN_YEAR} đến {latest})",
                     f"year {day.year} is not plausible (from {MIN_YEAR} to {latest})")
        return None
    return day


def _parse_participants(fields: Fields) -> tuple[Booth, ...]:
    """`{facility, booth}` items; a booth number belongs to one facility only."""
    booths = fields.mapping_list("participants", BOOTH_FIELDS, _parse_booth)
    seen: dict[str, int] = {}
    for number, booth in enumerate(booths, 1):
        key = booth.booth.strip().upper()
        if key in seen:
            fields.errors.add(booth.line, fields.label(f"participants[{number}].booth"),
                              f"gian hàng `{booth.booth}` đã có ở participants[{seen[key]}]: mỗi gian hàng chỉ một lần",
                              f"booth `{booth.booth}` is already in participants[{seen[key]}]: each booth once")
        seen.setdefault(key, number)
    return booths


def _parse_booth(item: Fields) -> Booth | None:
    facility = item.text("facility", required=True)
    booth = item.text("booth", required=True, max_len=20)
    return Booth(facility, booth, item.line) if facility and booth else None


def _parse_aliases(fields: Fields, slug: str) -> tuple[str, ...]:
    """Former slugs of the entry: each must look like a slug and differ from the current one."""
    aliases = []
    for index, item in enumerate(fields.items("aliases"), 1):
        text = fields.text_of(f"aliases[{index}]", item)
        if text is None:
            continue
        if not SLUG.match(text):
            vi, en = hint(f"`{text}` không phải tên tệp (slug) hợp lệ", f"`{text}` is not a valid slug", slugify(text) or None)
            fields.error(f"aliases[{index}]", item, vi, en)
        elif text == slug:
            fields.error(f"aliases[{index}]", item, "tên cũ trùng tên hiện tại của mục nhập",
                         "the former slug is the entry's current slug")
        else:
            aliases.append(text)
    return tuple(dict.fromkeys(aliases))


def _parse_award(item: Fields, vocab: Vocabularies) -> Award | None:
    level = item.term("level", vocab.award_levels, "cấp công nhận", "award level", required=True)
    year = item.year("year", required=True)
    region = item.term("region", vocab.regions, "khu vực", "region")
    _check_region(item, level, region)
    decision = item.text("decision", max_len=200)
    issuer = item.text("issuer", max_len=200)
    if level is None or year is None:
        return None
    written = item.mapping["level"].raw
    return Award(level.term, year, decision, issuer, region.term if region else None,
                 written_level=written if written and written.strip().lower() != level.term.code else None,
                 line=item.line)


def _check_region(item: Fields, level: Match | None, region: Match | None) -> None:
    """A regional award or decision names its region; no other level has one."""
    if level and level.term.code == "regional" and region is None and "region" not in item.mapping:
        item.error("region", None, "cấp khu vực cần ghi `region`: north, central-highlands hoặc south",
                   "the regional level needs `region`: north, central-highlands or south")
    if level and level.term.code != "regional" and region is not None:
        item.error("region", item.mapping["region"], "chỉ cấp khu vực (`regional`) mới có `region`",
                   "only the `regional` level has a `region`")


def _parse_certification(item: Fields, vocab: Vocabularies) -> Certification | None:
    scheme = item.term("scheme", vocab.certification_schemes, "chứng nhận", "certification scheme", required=True)
    if scheme is None:
        return None
    stars = None
    grade = None
    if scheme.term.extra.get("graded") == "stars":
        low, high = scheme.term.extra["min"], scheme.term.extra["max"]
        if item.get("grade") is None:
            item.error("grade", None, f"{scheme.term.vi} cần ghi số sao `grade` từ {low} đến {high}",
                       f"{scheme.term.code} needs `grade`, its number of stars from {low} to {high}")
            return None
        stars = item.integer("grade", low, high)
        if stars is None:
            return None
    else:
        grade = item.text("grade", max_len=60)
    return Certification(scheme.term, grade, stars, item.text("number", max_len=100), item.year("year"),
                         item.date("expires"))


def _parse_markets(fields: Fields, vocab: Vocabularies) -> tuple:
    markets = []
    for index, item in enumerate(fields.items("export_markets"), 1):
        label = f"export_markets[{index}]"
        code = fields.text_of(label, item)
        if code is None:
            continue
        term = vocab.countries.by_code.get(code.upper())
        if term is None:
            named = vocab.countries.lookup(code)
            vi, en = hint(f"`{code}` không phải mã quốc gia ISO 3166-1 gồm 2 chữ cái",
                          f"`{code}` is not an ISO 3166-1 two-letter country code",
                          named.term.code if named else None)
            fields.error(label, item, vi, en)
        elif term not in markets:
            markets.append(term)
    return tuple(markets)


def _parse_capacity(fields: Fields) -> Capacity | None:
    capacity = fields.mapping_field("capacity", ("amount", "unit"))
    if capacity is None:
        return None
    amount = capacity.number("amount", 0, 1e12, required=True)
    unit = capacity.text("unit", required=True, max_len=40)
    return Capacity(amount, unit) if amount is not None and unit else None


def _parse_hs_code(fields: Fields) -> str | None:
    code = fields.text("hs_code", max_len=20)
    if code is not None and not HS_CODE.match(code):
        fields.error("hs_code", fields.mapping["hs_code"], "mã HS gồm 4 đến 10 chữ số, ví dụ `0306.17`",
                     "an HS code has 4 to 10 digits, for example `0306.17`")
        return None
    return code


# -- aliases ----------------------------------------------------------------------------------

def check_aliases(entries: dict) -> list[ContentError]:
    """A former slug leads to one entry, and never hides an entry that has that slug now."""
    errors = []
    claimed: dict[str, str] = {}
    for entry in entries.values():
        for alias in entry.aliases:
            if alias in entries:
                errors.append(ContentError(entry.source, None, "aliases",
                                           f"`{alias}` đang là tên của một mục nhập khác ({entries[alias].source})",
                                           f"`{alias}` is the slug of another entry ({entries[alias].source})"))
            elif alias in claimed:
                errors.append(ContentError(entry.source, None, "aliases",
                                           f"`{alias}` đã là tên cũ của {claimed[alias]}",
                                           f"`{alias}` is already a former slug of {claimed[alias]}"))
            else:
                claimed[alias] = entry.source
    return errors


# -- references --------------------------------------------------------------------------------

REFERENCE_NAMES = {"facilities": ("cơ sở", "facility"), "products": ("sản phẩm", "product")}


def check_references(references: list[Reference], entries: dict[str, dict],
                     broken: AbstractSet[tuple[str, str]] = frozenset()) -> list[ContentError]:
    """Every slug an entry names exists in its folder; one written by its name is pointed to its slug.
    An entry that exists but has errors of its own (`broken`) is not reported again as missing: one
    cause, one message, in the file that has it."""
    errors = []
    by_name: dict[str, dict[str, str]] = {}  # each kind's entries by folded name, made only when needed

    def named(kind: str, name: str) -> str | None:
        if kind not in by_name:
            by_name[kind] = {fold(name): slug for slug, entry in entries[kind].items()
                             for name in (entry.name.vi, entry.name.en) if name}
        return by_name[kind].get(fold(name))

    for ref in references:
        found = entries[ref.kind]
        if ref.slug not in found and (ref.kind, ref.slug) not in broken:
            vi_name, en_name = REFERENCE_NAMES[ref.kind]
            vi, en = hint(f"không có {vi_name} `{ref.slug}` trong content/{ref.kind}/ (ghi tên tệp của {vi_name})",
                          f"no {en_name} `{ref.slug}` in content/{ref.kind}/ (write the {en_name}'s file name)",
                          named(ref.kind, ref.slug) or suggest(ref.slug, list(found)))
            errors.append(ContentError(ref.source, ref.line, ref.field, vi, en))
    return errors


# Each kind's parser, by the name the registry (kinds.py) gives it; tests/test_kinds.py holds the two together.
PARSERS: dict[str, Callable[[EntryFiles, str, Fields, LoadOptions], Entry | None]] = {
    "facility": _parse_facility, "product": _parse_product, "fair": _parse_fair, "decision": _parse_decision}
