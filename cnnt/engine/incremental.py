"""The engine: bring an output folder up to date by writing only what changed. `build` and `serve` both
run it.

A build keeps what it learnt in `.cache/<out>/engine.pickle` (`State`): every entry's parse result
with a stamp of its files (in buckets, `Bucket`), the name of the file that keeps the search words
(`write_search_cache`), and a signature of each page it wrote (packed into a few strings, `Signed`:
as dicts and sets, the last build's signatures and file lists held 108 MB through a build at 50k
products).
The next build
- re-reads only the entries whose files changed (`load.entry_stamp`: content of the text files, size,
  time and inode of photos, or, after a fresh checkout, git's name of their content);
- plans every page as a clean build does (the checks, listings and search run over the whole
  catalogue, so a build that passes is a build a clean one would pass);
- renders only the pages (and vCards) whose signature changed, into a staging folder that then
  replaces the output in one step as a clean build's does (`write.atomic_output`): a failed or killed
  build leaves the old site;
- starts that folder from the spare, the site the last build replaced (`Spare`), not from an empty
  one: what the spare holds with the same signature stays, what the live site holds with the same
  signature is linked from it (no bytes copied), and what the new site lacks is deleted. (Starting
  empty meant a folder and a link for each of 30,000 pages: two seconds at 10k products.)
- writes every other file again (feeds, vCards, redirects…), except the groups of files kept while
  what they are made from is the same (`Made`: the open-data files, whose workbook alone takes
  seconds; the editor's configuration; the sitemap), and the search files, which are named by their
  content: one the folder or the live site already holds is kept or linked.

A page's signature (`Describer`) is what it shows: its template and context, with each entry stood for
by a digest of its text and translation, its photos' derivatives (named by their content), and, for a
product, its facility's digest and its current award, which its card shows. Anything outside the
content (templates, static files, vocabularies, settings, the build date, this code and the
libraries it renders with) is in `page_key`: when it changes, every page is rendered again;
`load_key` does the same for the parse results.

Beside it, `.cache/<out>/digests.pickle` keeps each text file's digest with the marks it had when
read (`load.marks`: size, time, inode and change time), so the next build reads again only the files
written since; a file changed less than `SETTLING_NS` before the build is left out (`settled_digests`).

The cache is trusted only when all of these hold, else the build is a clean one: it reads whole (a
checksum of its bytes), it was written by this version of the code, for this content folder, and the
output folder still holds the site it describes (the stamp in `.build-fingerprint`); the spare is used
only when its own stamp is the one the state gives it. Tests prove the result byte for byte against
clean builds after random sequences of edits (tests/test_engine.py).
"""
from __future__ import annotations

import hashlib
import importlib.metadata
import io
import itertools
import marshal
import os
import pickle
import re
import sys
import zlib
from collections.abc import Callable, Iterable, Iterator
from collections.abc import Set as AbstractSet
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import BinaryIO

from ..content import kinds
from ..content.load import DigestMemo
from ..content.model import Catalogue, Decision, Facility, Fair, Product
from ..site.images import PhotoSet
from ..site.pages import BoothCard, Page, Pagination, Selection
from ..site.search import SearchCache, SearchIndex
from ..system import parallel

MAGIC = b"CNNT-ENGINE-5\n"  # 5: buckets' pickles written raw after their headers; signatures packed
BUCKETS = 64  # entries are kept in this many pickles, each entry in the one its file names (`bucket_of`)
CHECK_SIZE = 4  # the file's CRC-32: it finds damage (a cut, a flipped byte) in a quarter of blake2b's time
# What renders and parses besides this package: a new version of one may change a page.
LIBRARIES = ("jinja2", "markupsafe", "markdown", "pyyaml", "pillow", "nh3", "zxing-cpp", "xlsxwriter",
             "vietnam-provinces", "vietnamadminunits")
PACKAGE_DIR = Path(__file__).resolve().parent.parent  # the whole cnnt package


# A group of files made from one set of inputs (the open data, the editor's configuration, the
# sitemap): a digest of those inputs and the files' paths. A build takes the group from the live
# site when the digest is the same (`extras.Kept`).
Made = tuple[str, tuple[str, ...]]


# -- the pages' record, packed ---------------------------------------------------------------------------

DIGEST_SIZE = 16  # bytes of `key`'s digests (32 hex digits)
CAPITALS = re.compile("[A-F]")
PATHS_A_PIECE = 4096  # paths (and some 64 times as many bytes) packed or unpacked at once


@dataclass(frozen=True, slots=True)
class Paths:
    """Paths kept from one build to the next, packed: their UTF-8 in one bytes object, a NUL between
    each two. At 50k products a site has 229,936 files: as a set, their list held 13 MB beside the
    signatures, whose paths it shared; packed, 8 MB. Neither needs the pickler's table of every
    object it writes (62 MB more to write the state at 50k), nor its copy of a long string."""

    count: int
    text: bytes

    @classmethod
    def of(cls, paths: Iterable[str]) -> Paths:
        paths = list(paths)
        # joined and encoded a piece at a time: an object a path, even for a moment, is what packing spares
        text = b"\0".join("\0".join(paths[at:at + PATHS_A_PIECE]).encode("utf-8", "surrogateescape")
                          for at in range(0, len(paths), PATHS_A_PIECE))  # (a file's name need not be UTF-8)
        if text.count(b"\0") != max(len(paths) - 1, 0):
            raise ValueError("a path holds a NUL character")
        return cls(len(paths), text)

    def unpacked(self) -> list[str]:
        return list(self)

    def __iter__(self) -> Iterator[str]:
        """The paths, unpacked a piece at a time."""
        if not self.count:
            return
        text, start = self.text, 0
        while (end := text.find(b"\0", start + PATHS_A_PIECE * 64)) >= 0:
            yield from text[start:end].decode("utf-8", "surrogateescape").split("\0")
            start = end + 1
        yield from text[start:].decode("utf-8", "surrogateescape").split("\0")


@dataclass(frozen=True, slots=True)
class Signed:
    """Pages' and vCards' signatures kept from one build to the next (`State`, `Spare`): their paths
    (`Paths`) and their digests, 16 bytes each, in one bytes object in the same order. As a dict, the
    168,810 signatures of 50k products held 33 MB, and a build after an edit held three such: the live
    site's, the spare's and its own; packed, 9 MB."""

    paths: Paths
    digests: bytes

    @classmethod
    def of(cls, signatures: dict[str, str]) -> Signed:
        text = "".join(signatures.values())
        digests = bytes.fromhex(text)  # (which passes over spaces and takes capitals: both would not come back)
        if len(text) != 2 * len(digests) or len(digests) != DIGEST_SIZE * len(signatures) or CAPITALS.search(text):
            raise ValueError("a signature is not a digest of `key`")
        return cls(Paths.of(signatures), digests)

    def unpacked(self) -> dict[str, str]:
        text, step = self.digests.hex(), 2 * DIGEST_SIZE
        return dict(zip(self.paths.unpacked(), (text[at:at + step] for at in range(0, len(text), step)), strict=True))

    def same_in(self, signatures: dict[str, str]) -> list[bool]:
        """For each of `signatures` (in its order), whether this record gives its path the same
        signature. A build's paths are most often the last build's, in the same order, or the first or
        last of them (its vCards, its pages): then the two are walked side by side, a piece of the
        record unpacked at a time. Else the record is unpacked into a dict for the while."""
        count = len(signatures)
        for skip in dict.fromkeys((0, self.paths.count - count)):  # (once if the same)
            if skip >= 0 and (same := self._walked(signatures, skip)) is not None:
                return same
        places = {path: at for at, path in enumerate(self.paths)}
        return [(at := places.get(path)) is not None and self._digest(at) == signature
                for path, signature in signatures.items()]

    def _walked(self, signatures: dict[str, str], skip: int) -> list[bool] | None:
        """`same_in`, if `signatures` has this record's paths from the `skip`th on, in order; else None."""
        if skip + len(signatures) > self.paths.count:
            return None
        mine = itertools.islice(self.paths, skip, None)
        same = []
        for at, (path, mine_path) in enumerate(zip(signatures, mine), skip):
            if path != mine_path:
                return None
            same.append(self._digest(at) == signatures[path])
        return same

    def _digest(self, at: int) -> str:
        return self.digests[at * DIGEST_SIZE:(at + 1) * DIGEST_SIZE].hex()


NO_PAGES = Signed(Paths(0, b""), b"")


@dataclass
class State:
    """What one build leaves for the next."""

    code: str                      # `code_version()` of the build that wrote it
    content_dir: str               # the content folder it read, resolved
    load_key: str                  # the inputs the parse results depend on besides their own files
    page_key: str                  # the inputs every page depends on besides the content
    buckets: dict[int, Bucket]     # the entries' parse results, by `bucket_of` their file
    search: str                    # the search cache's file in the cache folder (`write_search_cache`)
    signatures: Signed             # page output path → digest of what it shows
    made: dict[str, Made] = field(default_factory=dict)  # groups of files kept while their inputs are the same
    stamp: str = ""                # the `.build-fingerprint` of the site it describes
    files: Paths = NO_PAGES.paths  # every file of that site
    spare: Spare | None = None     # the site before it, kept as the next build's staging folder


@dataclass(frozen=True)
class Bucket:
    """Some entries' parse results, pickled together: one pickle a bucket, not one an entry, reads in
    half the time (objects and strings the entries share are made once: the names of a model's fields,
    classes, vocabulary terms) and holds less. A bucket none of whose entries changed is written back
    as it was read; an edit pickles again only its entry's bucket. Once its results are unpickled
    (`reusable`), a bucket lets go of its pickle and keeps where it lies in the cache file (`Stored`),
    from which the next cache file copies it: held through the build, the pickles were 88 MB of a
    one-entry build's memory at 50k products."""

    files: tuple[tuple[str, tuple], ...]  # (entry file, stamp), in the order of the results
    blob: bytes | None                    # the pickled list of their parse results; None once let go
    stored: Stored | None = field(default=None, compare=False)  # where the file read held `blob`

    def pickled(self) -> bytes | None:
        """Its pickle, held or copied from where it was read; None if that file no longer holds it."""
        return self.blob if self.blob is not None else self.stored.read() if self.stored else None


@dataclass(frozen=True)
class Stored:
    """Where a bucket's pickle lies in the cache file it was read from: the file (its path, and its
    inode, size and time then), the pickle's place and size, and its CRC-32. The next cache file is
    written beside that one and renamed over it, so the old file is there to copy from."""

    path: str
    marks: tuple[int, int, int]  # the file's inode, size and modification time when read
    offset: int
    size: int
    check: int

    def read(self) -> bytes | None:
        """The pickle, or None if the file is no longer the one read (another build replaced it)."""
        try:
            with open(self.path, "rb") as file:
                if _file_marks(file) != self.marks:
                    return None
                file.seek(self.offset)
                blob = file.read(self.size)
        except OSError:
            return None
        return blob if len(blob) == self.size and zlib.crc32(blob) == self.check else None


def _file_marks(file: BinaryIO) -> tuple[int, int, int]:
    stat = os.fstat(file.fileno())
    return stat.st_ino, stat.st_size, stat.st_mtime_ns


def bucket_of(file: str) -> int:
    """The bucket an entry file is kept in: the same from build to build (Python's `hash` of a string
    is not), whatever other entries come or go."""
    return zlib.crc32(file.encode("utf-8", "surrogateescape")) % BUCKETS


@dataclass(frozen=True)
class Spare:
    """What the spare folder holds: the site the last build replaced (see write.atomic_output). A build
    brings it up to date rather than filling an empty folder: its pages whose signature is the same
    stay as they are, the others are linked from the live site or rendered, the files the new site
    does not have are deleted."""

    stamp: str                     # its `.build-fingerprint`
    page_key: str                  # its signatures compare with a build's only if the keys are the same
    files: Paths
    signatures: Signed


@dataclass
class Reuse:
    """What a build may take from the previous one (all empty for a clean build)."""

    # entry file (a string) → (stamp, parse result, None), as `load` leaves them in a build
    entries: dict = field(default_factory=dict)
    buckets: dict[int, Bucket] = field(default_factory=dict)  # as the state had them
    unpickled: dict[int, list] = field(default_factory=dict)  # each bucket's parse results, as unpickled from it
    search: str = ""               # the search cache's file (`State.search`)
    signatures: Signed = NO_PAGES  # the live site's
    made: dict[str, Made] = field(default_factory=dict)
    why_clean: str = ""            # why nothing of the old site is reused, for --timings
    previous: State | None = None  # the state, when it describes the live site (which becomes the spare)


_CODE: str | None = None


def code_version() -> str:
    """A digest of this package's source and the versions of the libraries it renders with."""
    global _CODE
    if _CODE is None:
        digest = hashlib.blake2b(digest_size=16)
        digest.update(sys.version.encode())
        for name in LIBRARIES:
            try:
                digest.update(f"{name}={importlib.metadata.version(name)}\0".encode())
            except importlib.metadata.PackageNotFoundError:
                digest.update(f"{name}=?\0".encode())
        for path in sorted(PACKAGE_DIR.rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts:
                digest.update(path.relative_to(PACKAGE_DIR).as_posix().encode() + b"\0" + path.read_bytes())
        _CODE = digest.hexdigest()
    return _CODE


# Values a signature holds as they are, found by their exact type before anything else is tried.
PLAIN = frozenset({str, int, float, bool, type(None)})


def key(*parts: object) -> str:
    """A digest of plain values (strings, numbers, None, tuples and lists of them…), made from their
    marshal rather than their repr: a third less time for the signatures of every page (0.49 → 0.36 s
    for 10k products in one process). Marshal's version 2 writes each value as what it is, never a
    reference to one met before nor a mark that a string is interned, so equal parts give equal
    bytes in every process. Parts it cannot write (a date, a subclass of str) are digested from their
    repr, which starts with another byte than a marshalled tuple ("(")."""
    try:
        data = marshal.dumps(parts, 2)  # type: ignore[arg-type]  # what it cannot write raises ValueError
    except ValueError:
        data = b"r" + repr(parts).encode()
    return hashlib.blake2b(data, digest_size=16).hexdigest()


def tree_key(*parts: object) -> str:
    """`key` of a tree of plain values (dicts, lists, strings, numbers, dates, no cycles), made from
    its pickle rather than its repr: 0.13 s rather than 0.33 s for the open-data tables of 10k
    products. The pickler keeps no memo of the objects it meets (`fast`), so equal trees give equal
    digests however their objects are shared."""
    stream = io.BytesIO()
    pickler = pickle.Pickler(stream, pickle.HIGHEST_PROTOCOL)
    pickler.fast = True
    pickler.dump(parts)
    return hashlib.blake2b(stream.getbuffer(), digest_size=16).hexdigest()


# -- the cache file -----------------------------------------------------------------------------------

def read_state(path: Path) -> State | None:
    """The state a previous build saved, or None if there is none or it is damaged in any way.

    The file: a mark, then the pickle of the state without its buckets, then each bucket as the
    pickle of (number, files, size of its pickle) followed by its pickle as it is (`Stored` copies it
    from there), then a checksum of all that (`CHECK_SIZE`). It is unpickled straight from the file,
    the checksum worked out on the way and compared at the end: read whole first, the file was held
    twice while it was unpickled (118 MB at 10k products, beside what it holds). What a damaged file
    gave is thrown away, whatever it was."""
    try:
        with open(path, "rb") as file:
            marks = _file_marks(file)
            size = marks[1] - len(MAGIC) - CHECK_SIZE
            if size <= 0 or file.read(len(MAGIC)) != MAGIC:
                return None
            payload = _CheckedReader(file, size)
            state = pickle.load(payload)
            if not isinstance(state, State):
                return None
            while payload.left:
                number, files, blob_size = pickle.load(payload)
                offset = len(MAGIC) + size - payload.left
                blob = payload.read(blob_size)
                if len(blob) != blob_size:
                    return None
                stored = Stored(os.path.abspath(path), marks, offset, blob_size, zlib.crc32(blob))
                state.buckets[number] = Bucket(files, blob, stored)
            if file.read(CHECK_SIZE) != payload.check.to_bytes(CHECK_SIZE, "big"):
                return None
    except Exception:  # unreadable, cut short, any damage, or classes that changed shape
        return None
    return state


class _CheckedReader:
    """The first `size` bytes of `file` (the pickles of the cache file, not its checksum), read as
    the unpickler asks for them; keeps the CRC-32 of what was read (`_Checksummed` writes it)."""

    def __init__(self, file: io.BufferedReader, size: int) -> None:
        self.file, self.left, self.check = file, size, 0

    def read(self, size: int = -1) -> bytes:
        data = self.file.read(self.left if size < 0 else min(size, self.left))
        self._took(data)
        return data

    def readinto(self, buffer: bytearray | memoryview) -> int:
        view = memoryview(buffer).cast("B")[:self.left]
        count = self.file.readinto(view)
        self._took(view[:count])
        return count

    def readline(self) -> bytes:
        data = self.file.readline(self.left)
        self._took(data)
        return data

    def _took(self, data: bytes | memoryview) -> None:
        self.left -= len(data)
        self.check = zlib.crc32(data, self.check)


def checked_payload(path: Path, magic: bytes) -> memoryview | None:
    """What a cache file holds between its mark and its checksum (`CHECK_SIZE`), or None if it is
    missing, of another kind, cut short or damaged."""
    try:
        raw = path.read_bytes()
    except OSError:
        return None
    if not raw.startswith(magic) or len(raw) <= len(magic) + CHECK_SIZE:
        return None
    payload = memoryview(raw)[len(magic):-CHECK_SIZE]
    if zlib.crc32(payload).to_bytes(CHECK_SIZE, "big") != raw[-CHECK_SIZE:]:
        return None
    return payload


def write_state(stream: BinaryIO, state: State, buckets: Iterable[tuple[int, Bucket]]) -> None:
    """The cache file (`read_state` reads it), pickled straight into `stream`: neither the state (at
    50k products some 250 MB of pickle: the search files and every page's signature) nor the
    buckets (`buckets_of` makes them one at a time) are ever held whole as bytes. Pickled into
    memory first, the state was the peak of a cold build's memory."""
    stream.write(MAGIC)
    checked = _Checksummed(stream)
    pickle.dump(replace(state, buckets={}), checked, pickle.HIGHEST_PROTOCOL)
    for number, bucket in buckets:
        if bucket.blob is None:
            raise ValueError(f"bucket {number} holds no pickle to write")
        pickle.dump((number, bucket.files, len(bucket.blob)), checked, pickle.HIGHEST_PROTOCOL)
        checked.write(bucket.blob)
    stream.write(checked.check.to_bytes(CHECK_SIZE, "big"))


class _Checksummed:
    """A stream that passes what is written on, and keeps the CRC-32 of it (`checked_payload`)."""

    def __init__(self, stream: BinaryIO) -> None:
        self.stream, self.check = stream, 0

    def write(self, data: bytes) -> int:
        self.check = zlib.crc32(data, self.check)
        return self.stream.write(data)


SEARCH_CACHE = "search-cache"  # its files: search-cache-<blake2b of the bytes>.pickle
SEARCH_CACHE_DIGEST = 16


def write_search_cache(cache: SearchCache, folder: Path) -> str:
    """The search cache pickled into a file of `folder` named by a digest of its bytes; its name, which
    the engine's cache keeps (`State.search`). Written by the worker that made the search data, read
    by the next build's (`read_search_cache`): the build's own process never holds it (see
    `model.KeptSearch`). The file of the last build stays until the engine's cache names this one
    (`forget_search_caches`): a build that fails leaves the old state and the file it names."""
    folder.mkdir(parents=True, exist_ok=True)
    partial = folder / f".{SEARCH_CACHE}.{os.getpid()}.part"
    try:
        with open(partial, "wb") as stream:  # pickled into the file as it goes: never whole in memory
            hashing = _Hashing(stream)
            pickle.dump(cache, hashing, pickle.HIGHEST_PROTOCOL)
        name = _search_cache_name(hashing.digest)
        os.replace(partial, folder / name)
    finally:
        partial.unlink(missing_ok=True)
    return name


def read_search_cache(folder: Path, name: str) -> SearchCache:
    """The search cache in `folder`/`name` if its bytes are the ones its name says; else an empty one
    (missing, damaged, or of classes that changed shape: the search data is then made whole, the same
    files in more time)."""
    if not name:
        return SearchCache()
    cache = None
    try:
        with open(folder / name, "rb") as file:  # read twice as it goes, never whole (110 MB at 50k)
            digest = _search_digest()
            for chunk in iter(lambda: file.read(1 << 20), b""):
                digest.update(chunk)
            if _search_cache_name(digest) == name:
                file.seek(0)
                cache = pickle.load(file)
    except Exception:
        cache = None
    return cache if isinstance(cache, SearchCache) else SearchCache()


def _search_digest() -> hashlib.blake2b:
    return hashlib.blake2b(digest_size=SEARCH_CACHE_DIGEST)


def forget_search_caches(folder: Path, keep: str) -> None:
    """Remove the search caches' files but `keep` (the one the engine's cache now names)."""
    for path in folder.glob(f"{SEARCH_CACHE}-*.pickle"):
        if path.name != keep:
            path.unlink(missing_ok=True)


def _search_cache_name(digest: hashlib.blake2b) -> str:
    return f"{SEARCH_CACHE}-{digest.hexdigest()}.pickle"


class _Hashing:
    """A stream that passes what is written on, and keeps the digest that names a search cache's file."""

    def __init__(self, stream: BinaryIO) -> None:
        self.stream, self.digest = stream, _search_digest()

    def write(self, data: bytes) -> int:
        self.digest.update(data)
        return self.stream.write(data)


def state_bytes(state: State) -> bytes:
    """A state read from its file, as a file again (tests change one and write it back)."""
    stream = io.BytesIO()
    write_state(stream, state, state.buckets.items())
    return stream.getvalue()


# -- the text files' digests ---------------------------------------------------------------------------

DIGESTS_MAGIC = b"CNNT-DIGESTS-2\n"  # 2: the digests are git blob ids (load._read_digest)
# A file whose change time is this close to the build's start, or later, is left out of the digests
# kept for the next build: it may be written again within the same tick of its file system's clock
# (2 s on FAT), and then look the same. Git's index leaves out "racily clean" files the same way.
SETTLING_NS = 2_000_000_000


def read_digests(path: Path) -> DigestMemo:
    """The text files' digests a previous build kept (`digests_file`), or none if the file is missing
    or damaged in any way."""
    payload = checked_payload(path, DIGESTS_MAGIC)
    if payload is None:
        return {}
    try:
        memo = pickle.loads(payload)
    except Exception:  # damage the checksum let through
        return {}
    return memo if isinstance(memo, dict) else {}


def settled_digests(memo: DigestMemo, started_ns: int) -> DigestMemo:
    """What of a build's digests the next build may trust without reading the files again: those of
    files last changed well before the build began (`SETTLING_NS`). The file changed since has another
    change time (`load.marks`), so its digest is not taken."""
    return {path: found for path, found in memo.items() if found[0][3] < started_ns - SETTLING_NS}


def digests_file(memo: DigestMemo) -> bytes:
    """The file `read_digests` reads: a mark, the pickled digests, a checksum of them."""
    payload = pickle.dumps(memo, pickle.HIGHEST_PROTOCOL)
    return DIGESTS_MAGIC + payload + zlib.crc32(payload).to_bytes(CHECK_SIZE, "big")


def reusable(state: State | None, content_dir: Path, site_stamp: str | None, load_key: str, page_key: str) -> Reuse:
    """What of `state` a build of `content_dir` may use, given the stamp its output folder holds."""
    if state is None:
        return Reuse(why_clean="no cache")
    if state.code != code_version():
        return Reuse(why_clean="cache from another version")
    if state.content_dir != str(content_dir.resolve()):
        return Reuse(why_clean="cache from another content folder")
    if site_stamp is None or state.stamp != site_stamp:
        return Reuse(why_clean="the output is not the site the cache describes")
    buckets = state.buckets if state.load_key == load_key else {}
    unpickled: dict[int, list] = {}
    try:
        entries = unpacked(buckets, unpickled)
    except Exception:  # a damaged bucket the file's checksum let through
        return Reuse(why_clean="no cache")
    # the pickles, once unpickled, are let go: the next cache file copies them from this one (`Stored`)
    buckets = {number: replace(bucket, blob=None) if bucket.stored else bucket for number, bucket in buckets.items()}
    # `previous` without the search cache: the build's is `Reuse.search` alone (see pipeline._search_data)
    previous = replace(state, search="", buckets={})
    if state.page_key != page_key:
        return Reuse(entries, buckets, unpickled, state.search, why_clean="templates, settings or date changed",
                     previous=previous)
    return Reuse(entries, buckets, unpickled, state.search, state.signatures, state.made, previous=previous)


def unpacked(buckets: dict[int, Bucket], unpickled: dict[int, list] | None = None) -> dict:
    """Entry file (a string) → (stamp, parse result, None), from the buckets; ValueError if one does not match
    what it lists. `unpickled`: given, each bucket's list of results is put in it."""
    entries = {}
    for number, bucket in buckets.items():
        blob = bucket.pickled()
        if blob is None:
            raise ValueError("a bucket's pickle is no longer where it was read")
        results = pickle.loads(blob)
        if not isinstance(results, list) or len(results) != len(bucket.files):
            raise ValueError("a bucket's results are not the entries it lists")
        for (file, stamp), result in zip(bucket.files, results):
            entries[file] = (stamp, result, None)
        if unpickled is not None:
            unpickled[number] = results
    return entries


def take_spare(reuse: Reuse, spare_stamp: str | None, page_key: str) -> Spare | None:
    """What the spare folder holds, if the state says so and its stamp (`spare_stamp`, None if it
    has none) agrees; its signatures only count if made under the same `page_key`. The state lets go
    of it: its files and signatures (62 MB at 50k products) are held only while the build needs them,
    not when it writes its cache, the peak of a build's memory."""
    spare = reuse.previous.spare if reuse.previous else None
    if reuse.previous:
        reuse.previous.spare = None
    if spare is None or spare_stamp is None or spare.stamp != spare_stamp:
        return None
    return spare if spare.page_key == page_key else replace(spare, signatures=NO_PAGES)


def next_spare(reuse: Reuse) -> Spare | None:
    """What the spare will hold after this build: the live site, if the state described it."""
    state = reuse.previous
    if state is None or not state.files.count:
        return None
    return Spare(state.stamp, state.page_key, state.files, state.signatures)


def buckets_of(entries: dict, before: dict[int, Bucket], unpickled: dict[int, list] | None = None
               ) -> Iterator[tuple[int, Bucket]]:
    """The parse results as the cache file keeps them, a bucket at a time (see `Bucket`): one whose
    entries and stamps are those of the same bucket `before` is not pickled again, nor one whose
    results are still the very objects unpickled from it (`unpickled`, by `unpacked`), with new
    stamps: a fresh checkout renews every photo's time and inode, and every bucket holds a bundle.
    Such a bucket's pickle is copied from the last cache file (`Stored`), or, should that file no
    longer be the one read, pickled again from the results.
    (One pickle of them all held a table of every object in it, about 100 MB at 10,000 products.)"""
    members: dict[int, list[tuple[str, tuple, object]]] = {}
    for file, (stamp, result, _) in entries.items():
        members.setdefault(bucket_of(file), []).append((file, stamp, result))
    for number, found in sorted(members.items()):
        found.sort(key=lambda member: member[0])
        files = tuple((file, stamp) for file, stamp, _ in found)
        kept = before.get(number)
        blob = None
        if kept is not None and (kept.files == files or _same_results(found, kept, (unpickled or {}).get(number))):
            blob = kept.pickled()
        yield number, Bucket(files, blob if blob is not None else pickled_results([result for _, _, result in found]))


def _same_results(found: list[tuple[str, tuple, object]], kept: Bucket, unpickled: list | None) -> bool:
    """Whether these entries (file, stamp, result) are those of `kept`, with the results unpickled
    from it: not parsed again, so its pickle holds them still."""
    return unpickled is not None and len(found) == len(kept.files) == len(unpickled) and all(
        file == kept_file and result is held
        for (file, _, result), (kept_file, _), held in zip(found, kept.files, unpickled))


def pickled_results(results: list) -> bytes:
    """A bucket's pickle of its parse results."""
    return pickle.dumps(results, pickle.HIGHEST_PROTOCOL)


# -- what a page shows -------------------------------------------------------------------------------

ENTRY_KINDS = {model: kind.name for model, kind in kinds.BY_MODEL.items()}


def entry_tokens(entries: dict) -> dict[int, str]:
    """Each parsed entry (by identity) → a digest of where it is (its file: a bundle's text is always
    `index.md`, and its folder names it, so a folder renamed with nothing in it changed moves it) and
    of its text and translation (the first two parts of its stamp): the same while they are. Its
    photos count by their derivatives' names, which the signature holds, not by their files' times,
    which a fresh checkout changes."""
    return {id(result[0]): entry_token(path, stamp) for path, (stamp, result, _) in entries.items()
            if result[0] is not None}


def entry_token(main: str, stamp: tuple) -> str:
    """One entry's token (see `entry_tokens`), from its main file and its stamp."""
    return key(main, stamp[:2])


class Describer:
    """Signatures of pages, from the parts of a plan that every page may read."""

    def __init__(self, catalogue: Catalogue, photos: dict[str, PhotoSet], tokens: dict[int, str],
                 memo: dict[int, str] | None = None) -> None:
        self.facilities = catalogue.facilities
        self.by_facility = catalogue.products_by_facility
        self.current = catalogue.current
        self.photos = photos
        self.tokens = tokens
        self._memo: dict[int, str] = memo or {}  # id of an entry → what pages show of it
        # id of a frozen value (an award, a term, a letter…) → (it, its repr): many pages show the same
        # ones, and a dataclass's repr is slow. Holding the value keeps its id its own.
        self._reprs: dict[int, tuple[object, str]] = {}
        self._plain = self._walker(None)  # the walker when the shown entries are not wanted
        # the last page's context and its parts: pages that share one (an entry's, in each language)
        # come one after another (`signing` orders them so). Kept for every context, the parts were
        # 20 to 45 MB more in each signing worker at 50,000 products, then the peak of a build's memory.
        self._last: tuple[dict, tuple] | None = None

    def after_edits(self, catalogue: Catalogue, tokens: dict[int, str], edited: Iterable[Product | Facility]) -> Describer:
        """The describer of `catalogue`, made from this one's by edits in place (the preview's quick
        path: nothing moves, no product changes facility): what this one worked out of each entry is
        kept, but for the `edited` (old) entries and the products of an edited facility, whose cards
        show its name. An edited entry is a new object, and `tokens` must hold it."""
        stale = set()
        for entry in edited:
            stale.add(id(entry))
            if isinstance(entry, Facility):
                stale.update(id(product) for product in self.by_facility.get(entry.slug, ()))
        return Describer(catalogue, self.photos, tokens, {k: v for k, v in self._memo.items() if k not in stale})

    def token(self, entry: object) -> str:
        """An entry parsed outside the cache (none should be) counts as changed every time."""
        return self.tokens.get(id(entry)) or f"unstamped-{id(entry)}-{os.getpid()}"

    def describe(self, page: Page, shown: set[tuple[str, str]] | None = None) -> str:
        """A signature (a digest) of what a page shows, which changes when anything it shows changes;
        the entries it shows are added to `shown`, as (kind, slug), to find the pages an edited entry
        is on."""
        if shown is None:  # the pages of an entry in each language share their context: walked once
            last = self._last
            if last is None or last[0] is not page.context:
                last = self._last = (page.context, self._parts(page.context, self._plain))
            return key(page.template, page.path, page.lang, last[1])
        return key(page.template, page.path, page.lang, self._parts(page.context, self._walker(shown)))

    @staticmethod
    def _parts(context: dict, part: Callable[[object], object]) -> tuple:
        return tuple((name, part(value)) for name, value in context.items())

    def _walker(self, shown: set[tuple[str, str]] | None) -> Callable[[object], object]:
        """What stands for a value in a signature: an entry by its digest, containers walked, other
        values as they are (their repr goes into the digest). Exact types are looked up first: a
        10k-product catalogue's pages hold 600,000 values."""
        entry_part, memo, kinds_of, reprs = self._entry_part, self._memo, ENTRY_KINDS, self._reprs
        memo_get = memo.get  # the memo holds entries only, all alive: no other value has their id

        def entry(value: Product | Facility | Fair | Decision, kind: str) -> str:
            if shown is not None:
                shown.add((kind, value.slug))
            found = memo.get(id(value))
            if found is None:
                found = memo[id(value)] = key(entry_part(value))
            return found

        def part(value: object) -> object:
            kind = kinds_of.get(type(value))
            if kind is not None:  # an entry: most values are (inlined, as a call each cost 0.1 s)
                found = memo.get(id(value)) if shown is None else None
                return entry(value, kind) if found is None else found  # type: ignore[arg-type]
            kind_of_value = type(value)
            if kind_of_value is list or kind_of_value is tuple:
                if shown is None:  # a list of entries all worked out before (most are) is looked up in C
                    keys = tuple(map(memo_get, map(id, value)))  # type: ignore[call-overload]
                    if None not in keys:
                        return keys
                return tuple(map(part, value))  # type: ignore[call-overload]
            if kind_of_value is dict:
                return tuple((name, part(item)) for name, item in value.items())  # type: ignore[attr-defined]
            if kind_of_value in PLAIN:
                return value
            known = reprs.get(id(value))  # a frozen value met before (most are): `other` need not look
            return other(value) if known is None else known[1]

        def other(value: object) -> object:
            for model, kind in kinds_of.items():  # a subclass of an entry model
                if isinstance(value, model):
                    return entry(value, kind)  # type: ignore[arg-type]
            if isinstance(value, SearchIndex):  # its files are named by a digest of their content
                return tuple(file.path for file in value.files)
            if isinstance(value, BoothCard):
                return part(value.facility), part(value.product) if value.product else None, value.path, value.booth
            if isinstance(value, Selection):  # a printable catalogue: what it shows is its products
                return value.path, value.title, part(value.products)
            if isinstance(value, Pagination):  # its paths digested: spelt out, a listing of n pages held n² paths
                # (the repr of every page's; a signing worker at 50k products: 1,038 → 904 MB)
                return value.number, value.count, key(value.paths)
            if isinstance(value, (list, tuple)):
                return tuple(part(item) for item in value)
            if isinstance(value, dict):
                return tuple((name, part(item)) for name, item in value.items())
            if _frozen(type(value)):
                found = reprs.get(id(value))
                if found is None:
                    found = reprs[id(value)] = (value, repr(value))
                return found[1]
            return value

        return part

    def _entry_part(self, entry: Product | Facility | Fair | Decision) -> tuple:
        """What any page shows of an entry (worked out once per entry, as most pages show many)."""
        if isinstance(entry, Product):  # a card shows its facility's name and the product's level
            facility = self.facilities.get(entry.facility_slug)
            return (self.token(entry), self.token(facility) if facility else None, self.current.get(entry.slug),
                    self._photos_of(entry))
        if isinstance(entry, Facility):  # and a facility's card, how many products it has
            return self.token(entry), len(self.by_facility.get(entry.slug, ())), self._photos_of(entry)
        return (self.token(entry),)

    def _photos_of(self, entry: Product | Facility) -> tuple:
        return tuple(self.photos.get(image.file) for image in entry.images)

    def vcard_signatures(self, vcards: dict[str, Facility]) -> dict[str, str]:
        """Each facility's vCard (by its path) → a signature: it shows only the facility's own
        fields, its address and the site's (which `page_key` holds)."""
        return {path: key("vcard", self.token(facility)) for path, facility in vcards.items()}

    def page_signatures(self, pages: list[Page], jobs: int | None = None) -> dict[str, str]:
        """Each page's output path → its signature, worked out by forked workers (`signing`)."""
        with self.signing(pages, jobs) as signed:
            return signed()

    @contextmanager
    def signing(self, pages: list[Page], jobs: int | None = None) -> Iterator[Callable[[], dict[str, str]]]:
        """`page_signatures`, worked out by forked workers from the start of the block, each a range
        of pages, while the caller goes on (a build writes its other files meanwhile); the caller then
        calls what this gives, which waits for them. The pages that share a context (an entry's, in
        each language) go to the same worker, which walks it once."""
        global _DESCRIBE_JOB
        order = sorted(range(len(pages)), key=lambda index: id(pages[index].context))
        _DESCRIBE_JOB = (self, pages, order)
        try:
            workers = jobs if len(pages) >= parallel.MIN_ITEMS_PER_WORKER * 2 else 1
            with parallel.imap_started(_describe_range, parallel.chunks(len(pages), jobs), workers) as parts:
                done: list[dict[str, str]] = []

                def signed() -> dict[str, str]:
                    if not done:
                        found: list[str] = [""] * len(pages)
                        for places, part in parts:
                            for place, signature in zip(places, part):
                                found[order[place]] = signature
                        done.append({page.output: signature for page, signature in zip(pages, found)})
                    return done[0]
                yield signed
        finally:
            _DESCRIBE_JOB = None

    def signatures(self, pages: Iterable[Page]) -> Described:
        """Each page's output path → (signature, the entries it shows), for the preview: a build needs
        only the signatures (`page_signatures`; at 10,000 products the entries take 50 MB). (A
        link-preview image drawn for an entry is made from its name, its facility's and its award,
        which the signature holds.)"""
        described: Described = {}
        for page in pages:
            entries: set[tuple[str, str]] = set()
            described[page.output] = self.describe(page, entries), entries
        return described


_FROZEN: dict[type, bool] = {}


def _frozen(cls: type) -> bool:
    """Whether values of `cls` are frozen dataclasses, which stay as they were made."""
    found = _FROZEN.get(cls)
    if found is None:
        params = getattr(cls, "__dataclass_params__", None)
        found = _FROZEN[cls] = bool(params is not None and params.frozen)
    return found


# Set just before worker processes fork, so they inherit it instead of receiving it pickled.
_DESCRIBE_JOB: tuple[Describer, list[Page], list[int]] | None = None  # and the order pages are described in


def _describe_range(places: range) -> tuple[range, list[str]]:
    """The signatures of the pages at these places in the job's order."""
    assert _DESCRIBE_JOB is not None, "set by the pool's parent before the workers fork"
    describer, pages, order = _DESCRIBE_JOB
    return places, [describer.describe(pages[order[place]]) for place in places]


Described = dict[str, tuple[str, AbstractSet[tuple[str, str]]]]  # page output → (signature, entries it shows)
