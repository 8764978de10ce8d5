"""QR codes stage: a code for the absolute address of every product, facility and fair page.

segno makes each code (with the standard's choice of mask, which takes it ~6 ms a code in pure
Python); the code's images are kept in a cache keyed by the address, so a page's code is made once
in its life, not on every build. Pages show the code as an SVG image and offer it for
download as SVG and PNG (for print) without extra files: both are data URIs, which gzip shares with
the image on the page.
"""
from __future__ import annotations

import base64
import contextlib
import io
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import segno
from PIL import Image

from . import parallel

ERROR_CORRECTION = "m"   # 15% of the code may be damaged (a creased card, a glare) and it still reads
QUIET_ZONE = 4           # modules of white around the code, as the standard requires
PNG_MODULE_PIXELS = 12   # a 45-module code → 540 px: 4.6 cm at 300 dpi, sharp for print
CACHE_VERSION = 3  # bump when the codes change (error correction, quiet zone, PNG size)


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


def _dark_runs(row: str) -> list[tuple[int, int]]:
    """(start, length) of each run of dark modules ("1") in a row."""
    runs = []
    x = row.find("1")
    while x >= 0:
        end = row.find("0", x)
        end = len(row) if end < 0 else end
        runs.append((x, end - x))
        x = row.find("1", end)
    return runs


def make_code(url: str) -> QRCode:
    code = segno.make(url, error=ERROR_CORRECTION, micro=False, boost_error=False)
    rows = tuple("".join("1" if dark else "0" for dark in row) for row in code.matrix_iter(border=QUIET_ZONE))
    # `#` would end a data URI and `"` an HTML attribute: both escaped; the rest stays readable
    svg_uri = "data:image/svg+xml," + quote(svg(rows), safe=" /:=',.-")
    png_uri = "data:image/png;base64," + base64.b64encode(_png(rows)).decode("ascii")
    return QRCode(url, len(rows), svg_uri, png_uri)


def svg(rows: tuple[str, ...]) -> str:
    """A crisp, scalable SVG: one stroked path, a relative move and a line per run of dark modules."""
    commands = []
    x, y = 0, None
    for row_number, row in enumerate(rows):
        for start, length in _dark_runs(row):
            if y is None:
                commands.append(f"M{start} {row_number}.5h{length}")
            else:
                commands.append(f"m{start - x} {row_number - y}h{length}")
            x, y = start + length, row_number
    size = len(rows)
    return (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {size} {size}" shape-rendering="crispEdges">'
            f'<rect width="{size}" height="{size}" fill="#fff"/><path stroke="#000" d="{"".join(commands)}"/></svg>')


def _png(rows: tuple[str, ...]) -> bytes:
    """A 1-bit PNG, PNG_MODULE_PIXELS per module: small, and every edge sharp when printed."""
    size = len(rows)
    image = Image.frombytes("1", (size, size), b"".join(_packed(row) for row in rows))
    image = image.resize((size * PNG_MODULE_PIXELS,) * 2, Image.Resampling.NEAREST)
    buffer = io.BytesIO()
    image.save(buffer, "PNG", dpi=(300, 300))
    return buffer.getvalue()


def _packed(row: str) -> bytes:
    """One row as 1-bit pixels (1 = white in PIL's mode "1", so dark modules are 0), padded to bytes."""
    bits = "".join("0" if module == "1" else "1" for module in row)
    bits += "1" * (-len(bits) % 8)
    return int(bits, 2).to_bytes(len(bits) // 8, "big")


# -- the cache -------------------------------------------------------------------------------------

def codes_for(urls: list[str], cache_file: Path, jobs: int | None = None) -> dict[str, QRCode]:
    """Codes for every address: from the cache when made before, else made (in parallel) and kept.
    Codes no longer used are dropped from the cache. One SQLite file: tens of thousands of small
    files would cost more to open than the codes cost to read."""
    wanted = list(dict.fromkeys(urls))
    cache_file.parent.mkdir(parents=True, exist_ok=True)
    with contextlib.closing(_open(cache_file)) as db, db:
        db.execute("CREATE TEMP TABLE wanted (url TEXT PRIMARY KEY)")
        db.executemany("INSERT INTO wanted VALUES (?)", ((url,) for url in wanted))
        db.execute("DELETE FROM codes WHERE url NOT IN (SELECT url FROM wanted)")
        codes = {row[0]: QRCode(*row) for row in db.execute("SELECT url, size, svg, png FROM codes")}
        made = parallel.map_chunks(make_code, [url for url in wanted if url not in codes], jobs)
        db.executemany("INSERT INTO codes VALUES (?, ?, ?, ?)",
                       ((c.url, c.size, c.svg_data_uri, c.png_data_uri) for c in made))
    codes.update((code.url, code) for code in made)
    return codes


def _open(cache_file: Path) -> sqlite3.Connection:
    """The cache, made anew when it is damaged or was written by another version of this module."""
    for attempt in (1, 2):
        try:
            db = sqlite3.connect(cache_file)
            if db.execute("PRAGMA user_version").fetchone()[0] != CACHE_VERSION:
                db.execute("DROP TABLE IF EXISTS codes")
                db.execute("CREATE TABLE codes (url TEXT PRIMARY KEY, size INTEGER, svg TEXT, png TEXT)")
                db.execute(f"PRAGMA user_version = {CACHE_VERSION}")
            return db
        except sqlite3.DatabaseError:
            if attempt == 2:
                raise
            cache_file.unlink(missing_ok=True)
    raise AssertionError("unreachable")
