"""QR codes stage: a code for the absolute address of every product, facility and fair page.

zxing-cpp makes each code (its writer is zint's C encoder, which picks the mask by the standard's
penalty rules, in ~0.1 ms a code: a first 10k-product build makes 24,000 of them). The code's
images are kept in a cache keyed by the address, so a page's code is made once in its life, not
on every build. Pages show the code as an SVG image and offer it for download as SVG and PNG (for
print) without extra files: both are data URIs, which gzip shares with the image on the page.

A build holds no code in memory: `CodeStore` reads a page's code from the cache when the page is
rendered. (Held all at once they were 3.4 KB an address, 85 MB at 10k products and 420 MB at 50k,
read and checked on every build though an edit renders a few dozen pages.)
"""
from __future__ import annotations

import base64
import contextlib
import hashlib
import os
import re
import sqlite3
import struct
import zlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from PIL import Image

from ..system import parallel
from ..system.write import write_atomic

ERROR_CORRECTION = "M"   # 15% of the code may be damaged (a creased card, a glare) and it still reads
PNG_MODULE_PIXELS = 12   # a 45-module code → 540 px: 4.6 cm at 300 dpi, sharp for print
PNG_COMPRESSION = 3      # zlib level: 4× faster than the default for a third more bytes (~1 KB a code)
CACHE_VERSION = 6  # bump when the codes change (encoder, error correction, quiet zone, PNG size)
DARK, LIGHT = 0, 255     # zxing-cpp's pixel values
_AS_DIGITS = bytes.maketrans(bytes([DARK, LIGHT]), b"10")


@dataclass(frozen=True)
class QRCode:
    """One code: the address it holds, its width in modules, and the images pages embed. The images
    are made once, with the code, and cached: pages only insert them."""

    url: str
    size: int           # modules across, quiet zone included
    svg_data_uri: str
    png_data_uri: str

    @property
    def png(self) -> bytes:
        return base64.b64decode(self.png_data_uri.split(",", 1)[1])


def make_code(url: str) -> QRCode:
    import zxingcpp  # (here: most builds make no code)
    code = zxingcpp.create_barcode(url, zxingcpp.BarcodeFormat.QRCode, ec_level=ERROR_CORRECTION)
    image = code.to_image(scale=1, add_quiet_zones=True)  # a byte a module, with the standard 4-module quiet zone
    size = image.shape[0]
    pixels = bytes(memoryview(image))  # type: ignore[arg-type]  # zxing's Image has the buffer protocol
    svg_uri = "data:image/svg+xml," + _for_data_uri(svg(pixels.translate(_AS_DIGITS).decode("ascii"), size))
    png_uri = "data:image/png;base64," + base64.b64encode(png(pixels, size)).decode("ascii")
    return QRCode(url, size, svg_uri, png_uri)


def svg(modules: str, size: int) -> str:
    """A crisp, scalable SVG: one stroked path, a relative move and a line per run of dark modules
    ("1" in `modules`, row after row). The rows are cut apart so that a run never wraps. Each run's
    command, with the light modules before it, is looked up (`_Moves`) rather than worked out: the
    same few hundred come back in every code of a size, and a loop over the runs in Python was 0.8 ms
    a code, most of a first build's QR time."""
    moves = _MOVES.get(size) or _MOVES.setdefault(size, _Moves(size))
    rows = "\n".join([modules[start:start + size] for start in range(0, len(modules), size)])
    # (without the light end, where the pattern would try every position and fail)
    path = "".join(map(moves.__getitem__, _RUN.findall(rows.rstrip("0\n"))))
    return (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {size} {size}" shape-rendering="crispEdges">'
            f'<rect width="{size}" height="{size}" fill="#fff"/><path stroke="#000" d="M0,.5{path}"/></svg>')


_RUN = re.compile("[0\n]*1+")  # a run of dark modules, with the light ones (and the row ends) before it


class _Moves(dict[str, str]):
    """The path command of a run as `_RUN` finds it, for codes `size` modules across: a move from the
    end of the run before (or the path's start, at the left of the first row) and a line."""

    def __init__(self, size: int) -> None:
        super().__init__()
        self.size = size

    def __missing__(self, run: str) -> str:
        dark = len(run) - run.index("1")
        if "\n" in run:  # from the end of the last run in an earlier row: `size` less the light after it
            before = self.size - run.index("\n")  # where the run before ended
            left = len(run) - dark - run.rindex("\n") - 1  # light modules in the run's own row
            move = f"m{left - before},{run.count(chr(10))}h{dark}"
        else:
            move = f"m{len(run) - dark},0h{dark}"
        self[run] = move
        return move


_MOVES: dict[int, _Moves] = {}


def _for_data_uri(text: str) -> str:
    """Percent-escape what would end a data URI (`#`) or an HTML attribute (`"`), start markup, or
    make the URL invalid (a space: the path uses commas so that only the few between attributes are
    escaped); the rest stays as it is (urllib's quote() does the same in 20 times the time)."""
    for character, escaped in (("%", "%25"), ("#", "%23"), ('"', "%22"), ("<", "%3C"), (">", "%3E"), ("&", "%26"),
                               (" ", "%20")):
        text = text.replace(character, escaped)
    return text


def png(pixels: bytes, size: int) -> bytes:
    """A 1-bit PNG, PNG_MODULE_PIXELS per module and 300 dpi: small, and every edge sharp when
    printed. Written directly (it is four chunks) because Pillow's PNG encoder took 0.6 ms a code,
    most of a first build's QR time. Each module row is one line of pixels, then the same line
    again and again (PNG's "Up" filter over a line of zeros), which compresses to almost nothing."""
    width = size * PNG_MODULE_PIXELS
    rows = Image.frombytes("L", (size, size), pixels).convert("1", dither=Image.Dither.NONE)
    packed = rows.resize((width, size), Image.Resampling.NEAREST).tobytes()  # 1 bit a pixel, 1 = white
    stride = len(packed) // size
    same_as_above = (b"\x02" + bytes(stride)) * (PNG_MODULE_PIXELS - 1)
    lines = b"".join(b"\x00" + packed[start:start + stride] + same_as_above for start in range(0, len(packed), stride))
    dots_per_metre = round(300 / 0.0254)
    return (b"\x89PNG\r\n\x1a\n"
            + _png_chunk(b"IHDR", struct.pack(">IIBBBBB", width, width, 1, 0, 0, 0, 0))
            + _png_chunk(b"pHYs", struct.pack(">IIB", dots_per_metre, dots_per_metre, 1))
            + _png_chunk(b"IDAT", zlib.compress(lines, PNG_COMPRESSION))
            + _png_chunk(b"IEND", b""))


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


# -- the cache -------------------------------------------------------------------------------------

def codes_for(urls: list[str], cache_file: Path, jobs: int | None = None) -> CodeStore:
    """Codes for every address, as a mapping that reads each from the cache when asked. Codes not
    made before are made here (in parallel) and kept; codes no longer used are dropped from the
    cache. One SQLite file: tens of thousands of small files would cost more to open than the codes
    cost to read. A cache that cannot be read is made anew."""
    wanted = list(dict.fromkeys(urls))
    cache_file.parent.mkdir(parents=True, exist_ok=True)
    record = _Record(cache_file, wanted)
    if record.holds():
        return CodeStore(cache_file, frozenset(wanted))
    for attempt in (1, 2):
        try:
            _make_missing(cache_file, wanted, jobs)
            record.write()
            return CodeStore(cache_file, frozenset(wanted))
        except sqlite3.DatabaseError:
            if attempt == 2:
                raise
            cache_file.unlink(missing_ok=True)
    raise AssertionError("unreachable")


def _make_missing(cache_file: Path, wanted: list[str], jobs: int | None) -> None:
    """Make and keep the codes the cache does not have; drop the ones no address needs."""
    with contextlib.closing(_open(cache_file)) as db, db:
        db.execute("CREATE TEMP TABLE wanted (url TEXT PRIMARY KEY)")
        db.executemany("INSERT INTO wanted VALUES (?)", ((url,) for url in wanted))
        db.execute("DELETE FROM codes WHERE url NOT IN (SELECT url FROM wanted)")
        missing = [url for (url,) in db.execute("SELECT url FROM wanted WHERE url NOT IN (SELECT url FROM codes)")]
        # kept run by run as the workers make them: all at once, the 120,000 codes of a first 50k
        # build (3.4 KB each) were the peak of its memory
        for made in parallel.imap_runs(make_codes, missing, jobs):
            db.executemany("INSERT INTO codes VALUES (?, ?, ?, ?, ?)",
                           ((c.url, c.size, c.svg_data_uri, c.png_data_uri, code_digest(c)) for c in made))


class _Record:
    """What the cache held when a build last made it up to date: a digest of the addresses, and the
    file's marks (size, times, inode) then, kept beside it. While both are the same, the cache holds
    a code for every address and no other, and is not gone through again (70 ms of a one-entry build's
    own time at 10k products: 24,000 addresses put into a table and compared). A row missing or damaged
    all the same is made again when its page asks for it (`CodeStore`): a wrong code is never printed."""

    def __init__(self, cache_file: Path, wanted: list[str]) -> None:
        self.cache_file, self.file = cache_file, cache_file.with_name(cache_file.name + ".made")
        self.digest = hashlib.blake2b("\n".join(wanted).encode("utf-8", "surrogatepass"), digest_size=16).hexdigest()

    def _line(self) -> str | None:
        try:
            stat = os.stat(self.cache_file)
        except OSError:
            return None
        return f"{CACHE_VERSION} {self.digest} {stat.st_size} {stat.st_mtime_ns} {stat.st_ctime_ns} {stat.st_ino}"

    def holds(self) -> bool:
        try:
            said = self.file.read_text(encoding="ascii")
        except (OSError, UnicodeDecodeError):
            return False
        return said == self._line()

    def write(self) -> None:
        line = self._line()
        if line is None:
            self.file.unlink(missing_ok=True)
        else:
            write_atomic(self.file, line.encode("ascii"), durable=False)


def make_codes(urls: list[str]) -> list[QRCode]:
    """The codes of a run of addresses (a worker's task: one address each, passing the tasks and
    their answers would cost more than making the codes)."""
    return [make_code(url) for url in urls]


class CodeStore(Mapping[str, QRCode]):
    """The code of each address in `urls`, read from the cache file when a page asks for it. Each
    process (render workers are forked) opens the file once, read-only. A row whose digest does not
    match what it holds (damaged, or edited by hand), or a file that cannot be read, gives a code
    made there and then: a wrong code is never printed, and a build never fails for its cache."""

    def __init__(self, cache_file: Path, urls: frozenset[str]) -> None:
        self.cache_file = cache_file
        self.urls = urls
        self._connections: dict[int, sqlite3.Connection] = {}  # process id → its connection

    def __getitem__(self, url: str) -> QRCode:
        if url not in self.urls:
            raise KeyError(url)
        try:
            row = self._connection().execute("SELECT size, svg, png, digest FROM codes WHERE url = ?",
                                             (url,)).fetchone()
        except sqlite3.Error:
            row = None
        if row is not None:
            code = QRCode(url, row[0], row[1], row[2])
            if code_digest(code) == row[3]:
                return code
        return make_code(url)

    def __contains__(self, url: object) -> bool:  # without reading the code
        return url in self.urls

    def __iter__(self) -> Iterator[str]:
        return iter(self.urls)

    def __len__(self) -> int:
        return len(self.urls)

    def _connection(self) -> sqlite3.Connection:
        # A connection opened before a fork is never used after it, in either process (SQLite forbids it).
        pid = os.getpid()
        db = self._connections.get(pid)
        if db is None:
            db = sqlite3.connect(f"{self.cache_file.resolve().as_uri()}?mode=ro", uri=True, check_same_thread=False)
            self._connections[pid] = db
        return db

    def __getstate__(self) -> dict:  # connections stay with the process that opened them
        return {**self.__dict__, "_connections": {}}

    def close(self) -> None:
        """Close this process's connection (the preview makes a new store after each change of addresses)."""
        db = self._connections.pop(os.getpid(), None)
        if db is not None:
            db.close()


def code_digest(code: QRCode) -> str:
    """What a cached row must match: a digest of the address and the images made for it."""
    digest = hashlib.blake2b(digest_size=16)
    for part in (code.url, str(code.size), code.svg_data_uri, code.png_data_uri):
        digest.update(part.encode() + b"\0")
    return digest.hexdigest()


def _open(cache_file: Path) -> sqlite3.Connection:
    """The cache, made anew when it is damaged or was written by another version of this module."""
    for attempt in (1, 2):
        try:
            db = sqlite3.connect(cache_file)
            if db.execute("PRAGMA user_version").fetchone()[0] != CACHE_VERSION:
                db.execute("DROP TABLE IF EXISTS codes")
                db.execute("CREATE TABLE codes (url TEXT PRIMARY KEY, size INTEGER, svg TEXT, png TEXT, digest TEXT)")
                db.execute(f"PRAGMA user_version = {CACHE_VERSION}")
            return db
        except sqlite3.DatabaseError:
            if attempt == 2:
                raise
            cache_file.unlink(missing_ok=True)
    raise AssertionError("unreachable")
