"""Link previews that never show a blank: an entry without photos gets a 1200×630 image made at build
time (its name, its facility and province, its current award level as a badge), so a link shared on
Zalo or Facebook shows what it is.

Images are named by a digest of what they show and how they are drawn, kept in the cache folder like
photo derivatives (made once, pruned when unused) and published under `media/`. The text is drawn in
Roboto (the `font-roboto` package: Vietnamese marks included); the colours are the stylesheet's own
(`--brand`, `--national`, …), read from `static/style.css`.
"""
from __future__ import annotations

import hashlib
import io
import os
import re
import textwrap
import unicodedata
import zlib
from collections.abc import Iterable
from dataclasses import dataclass, fields
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from PIL import Image, ImageColor, ImageDraw, ImageFont

from ..content.config import SiteConfig
from ..content.model import Catalogue, Facility, Product
from ..system import parallel
from ..system.write import link_all, write_atomic
from . import urls
from .images import files_as_recorded, read_checked, write_checked

if TYPE_CHECKING:
    from PIL._imaging import ImagingCore  # what Image.im is: Pillow's image in C

SIZE = (1200, 630)
CARDS_WORTH_A_WORKER = 50  # fewer cards are drawn in-process (see `draw_missing`)
OPERATION = "og-v4"  # change when the drawing changes: new names, so old images are never reused
DEFAULT_COLOURS = {"brand": "#0b5d3b", "national": "#8a1c1c", "regional": "#6b3fa0", "provincial": "#0b5d3b",
                   "commune": "#3d5a80"}


@dataclass(frozen=True)
class Card:
    """What one preview image shows."""

    title: str
    subtitle: str      # the English name, when it differs
    line: str          # facility · province, or dates · place
    badge: str         # the current award level, or "" for none
    badge_colour: str
    site: str
    background: str

    @cached_property
    def key(self) -> str:
        # not dataclasses.astuple(), which copies deeply: a second for a 10k-product catalogue's cards
        shown = [getattr(self, name) for name in _CARD_FIELDS]
        digest = hashlib.blake2b(digest_size=10)
        digest.update(f"{OPERATION}\0".encode() + "\0".join(shown).encode("utf-8"))
        return digest.hexdigest()

    @property
    def url(self) -> str:
        return f"media/og-{self.key}.jpg"


_CARD_FIELDS = tuple(field.name for field in fields(Card))  # (fields() takes 50 µs a call)


def stylesheet_colours(static_dir: Path) -> dict[str, str]:
    """The level and brand colours as the stylesheet defines them."""
    colours = dict(DEFAULT_COLOURS)
    css = static_dir / "style.css"
    if css.is_file():
        colours.update(re.findall(r"--([a-z-]+):\s*(#[0-9a-fA-F]{6})", css.read_text(encoding="utf-8")))
    return colours


def cards_for(catalogue: Catalogue, config: SiteConfig, colours: dict[str, str]) -> dict[str, Card]:
    """An entry's page path → the card of each product, facility and fair that has no photo of its own."""
    site = config.title.vi
    cards = cards_of(catalogue, config, colours, catalogue.every_product.values(), catalogue.every_facility.values())
    for fair in catalogue.fairs.values():
        place = fair.city or (fair.province.term.vi if fair.province else "") or "Online"
        cards[urls.fair(fair)] = Card(fair.name.vi, _other(fair.name.vi, fair.name.en),
                                           f"{fair.start:%d/%m/%Y} – {fair.end:%d/%m/%Y} · {place}", "", "", site,
                                           colours["brand"])
    return cards


def cards_of(catalogue: Catalogue, config: SiteConfig, colours: dict[str, str], products: Iterable[Product],
             facilities: Iterable[Facility] = ()) -> dict[str, Card]:
    """The cards of these products and facilities, those without a photo of their own, by page path."""
    site = config.title.vi
    cards: dict[str, Card] = {}
    for product in products:
        if product.images:
            continue
        facility = catalogue.facility_of(product)
        award = catalogue.current.get(product.slug)
        badge = f"{award.level.vi} {award.year} · {award.level.en}" if award else ""
        cards[urls.product(product)] = Card(
            product.name.vi, _other(product.name.vi, product.name.en),
            f"{facility.name.vi} · {facility.province.term.vi}", badge,
            colours.get(award.level.code, colours["brand"]) if award else "", site, colours["brand"])
    for facility in facilities:
        if not facility.images:
            cards[urls.facility(facility)] = Card(
                facility.name.vi, _other(facility.name.vi, facility.name.en),
                f"{facility.kind.vi} · {facility.province.term.vi}", "", "", site, colours["brand"])
    return cards


def _other(vi: str, en: str | None) -> str:
    return en if en and en != vi else ""


def prepare(cards: dict[str, Card], cache_dir: Path, jobs: int | None = None,
            checked: CheckedImages | None = None) -> dict[str, str]:
    """Make the images not made before (in parallel), drop the unused ones; `kind/slug` → site path.
    `checked`: the images drawn or found whole (`_whole`), which the preview keeps between rebuilds;
    empty, it is read from the folder's record (`RECORD`), which is written again when it changed."""
    checked = {} if checked is None else checked
    if not checked:
        checked.update(read_record(cache_dir))
    recorded = dict(checked)
    drawn = draw_missing(cards, cache_dir, jobs, checked)
    inside = _inside(cache_dir)
    wanted = {f"og-{card.key}.jpg" for card in cards.values()}
    for path in [path for path in checked if path.removeprefix(inside) not in wanted]:
        del checked[path]  # no longer used
    for name in set(os.listdir(cache_dir)) - wanted - {RECORD}:
        os.unlink(inside + name)
        checked.pop(inside + name, None)
    if checked != recorded:
        write_record(cache_dir, checked)
    return drawn


# What `_whole` knows of the images, kept beside them as photo derivatives' manifest is, so that a
# forced or clean build (which trusts nothing else the engine kept) still finds an image damaged in place.
RECORD = "checked.txt"


def read_record(cache_dir: Path) -> CheckedImages:
    """The folder's record: each image's size, time and CRC when drawn or found whole; none when the
    record is missing or damaged (its digest: `images.read_checked`)."""
    inside, found = _inside(cache_dir), {}
    for line in read_checked(cache_dir / RECORD):
        parts = line.split(" ")
        if len(parts) == 4 and parts[1].isdigit() and parts[2].isdigit() and parts[3].isdigit():
            found[inside + parts[0]] = (int(parts[1]), int(parts[2]), int(parts[3]))
    return found


def _inside(cache_dir: Path) -> str:
    """The folder's path with a separator after it: an image's path is this and its name. (Joined
    so, not by os.path.join, 36,000 paths a build took a twentieth of a second less at 10k products.)"""
    return os.path.join(str(cache_dir), "")


def intact(cache_dir: Path) -> bool:
    """Whether every image the record names has the size and time recorded (`images.PhotoCache.intact`)."""
    return files_as_recorded(cache_dir, (line.split(" ") for line in read_checked(cache_dir / RECORD)))


def write_record(cache_dir: Path, checked: CheckedImages) -> None:
    cache_dir.mkdir(parents=True, exist_ok=True)
    write_checked(cache_dir / RECORD, [f"{os.path.basename(path)} {size} {time} {crc}"
                                       for path, (size, time, crc) in sorted(checked.items())])


def draw_missing(cards: dict[str, Card], cache_dir: Path, jobs: int | None, checked: CheckedImages) -> dict[str, str]:
    """Make the images not made before, in parallel when there are many; `kind/slug` → site path.
    (The preview, after a rename, draws a few this way and leaves the unused ones to the next `prepare`.)"""
    cache_dir.mkdir(parents=True, exist_ok=True)
    wanted = {card.key: card for card in cards.values()}
    folder, inside = str(cache_dir), _inside(cache_dir)  # strings: as Path objects, 12,000 cost a tenth of a second
    missing = [card for key, card in sorted(wanted.items()) if not _whole(f"{inside}og-{key}.jpg", checked)]
    # a task is a run of cards: one card each, passing the tasks and their answers cost the build as
    # much as a fifth of the drawing; a few cards are drawn here (a card takes milliseconds, starting
    # the workers a tenth of a second)
    runs = [(missing[run.start:run.stop], folder) for run in parallel.chunks(len(missing), jobs)]
    workers = jobs if len(missing) >= CARDS_WORTH_A_WORKER else 1
    for made in parallel.imap_unordered(draw_to_cache, runs, workers):
        checked.update(made)  # drawn whole just now: no need to read them
    return {entry: card.url for entry, card in cards.items()}


# image file → its size, time and a CRC-32 of its bytes, when drawn or found whole
CheckedImages = dict[str, tuple[int, int, int]]


def _whole(path: str, checked: CheckedImages) -> bool:
    """A JPEG from start to end marker, with the bytes it had when drawn or first found whole
    (`checked`): one cut short, written over or damaged in place (which reaches the published site
    too, a hard link to it) is drawn again. A file with the size and time it had then is not read: one
    call, not five (a write gives a file a new time; a deploy runner's restored cache keeps them). Any
    other is read whole, and found whole is added to `checked`. (Read with plain system calls:
    Python's buffered files cost more than the reading, 12,000 times.)"""
    try:
        stat = os.stat(path)
    except OSError:
        return False  # (not drawn yet: nothing to open)
    known = checked.get(path)
    if known is not None and known[:2] == (stat.st_size, stat.st_mtime_ns):
        return True
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return False
    try:
        stat = os.fstat(fd)  # (the marks of what is read)
        data = os.read(fd, stat.st_size + 1)
    except OSError:
        return False
    finally:
        os.close(fd)
    if not (len(data) == stat.st_size >= 5 and data.startswith(b"\xff\xd8\xff") and data.endswith(b"\xff\xd9")):
        return False
    crc = zlib.crc32(data)
    if known is not None and crc != known[2]:
        return False
    checked[path] = (stat.st_size, stat.st_mtime_ns, crc)
    return True


def draw_to_cache(job: tuple[list[Card], str]) -> CheckedImages:
    """Draw these cards into the cache folder; what `_whole` will know of each."""
    cards, folder = job
    made = {}
    for card in cards:
        target = os.path.join(folder, f"og-{card.key}.jpg")
        data = draw(card)
        write_atomic(Path(target), data, durable=False)  # a cut-short image is drawn again (`_whole`)
        stat = os.stat(target)
        made[target] = (stat.st_size, stat.st_mtime_ns, zlib.crc32(data))
    return made


def draw(card: Card) -> bytes:
    """The image: the site's colour, the name large, the maker's line, the level as a badge."""
    image = _base(card.site, card.background).copy()
    pen = ImageDraw.Draw(image)
    inked = []  # the rows each line's ink spans
    y = 70
    for line in textwrap.wrap(card.title, width=28)[:3]:
        inked.append(write(image, (70, y), line, "RobotoBold", 68, "#ffffff"))
        y += 82
    if card.subtitle:
        inked.append(write(image, (70, y + 4), textwrap.shorten(card.subtitle, 60), "RobotoItalic", 38, "#dcebe3"))
        y += 56
    inked.append(write(image, (70, y + 18), textwrap.shorten(card.line, 70), "Roboto", 38, "#eef5f1"))
    if card.badge:  # below the maker's line, with room for its descenders (three lines and a subtitle reach 390)
        top = max(440, y + 18 + 72)
        width = pen.textlength(card.badge, font=_font("RobotoBold", 36))
        pen.rounded_rectangle((70, top, 70 + width + 56, top + 72), radius=36, fill=card.badge_colour,
                              outline="#ffffff", width=3)
        inked += [(top, top + 73), write(image, (98, top + 15), card.badge, "RobotoBold", 36, "#ffffff")]
    return jpeg(image, card.site, card.background, min(top for top, _ in inked), max(bottom for _, bottom in inked))


# -- the JPEG, a row of blocks at a time ---------------------------------------------------------

BLOCK_ROWS = 16  # pixel rows in a row of a JPEG's blocks, with the colour at half resolution (4:2:0)
# (optimize=True would save 5% of bytes for 60% more time, and give each image tables of its own)
JPEG_OPTIONS = {"quality": 82, "subsampling": "4:2:0", "restart_marker_rows": 1}
_RESTART = re.compile(rb"\xff[\xd0-\xd7]")  # RST0–RST7: in the coded data, a 0xFF byte is otherwise 0xFF 0x00


def jpeg(image: Image.Image, site: str, background: str, top: int, bottom: int) -> bytes:
    """The card as a JPEG, in which only the rows of blocks with ink (pixel rows `top` to `bottom`)
    are encoded: the others are the blank card's, encoded once. Encoding is half a card's time, and
    the text covers a third to two thirds of the rows.

    A restart marker after each row of blocks makes every row stand alone in the file (nothing is
    carried over from the row before), and the tables are the standard ones whatever the pixels, so
    rows encoded apart can be put together: the bytes are those of the whole card encoded at once
    (a test compares them). The markers add about 200 bytes to a card of 40 KB; they change its
    bytes, not its pixels, so images drawn before them keep their names (OPERATION)."""
    header, rows = _blank_card(site, background)
    first, last = max(top, 0) // BLOCK_ROWS, -(-min(bottom, SIZE[1]) // BLOCK_ROWS)
    if first < last:
        band = image.crop((0, first * BLOCK_ROWS, SIZE[0], min(last * BLOCK_ROWS, SIZE[1])))
        rows = (*rows[:first], *_rows_of(encoded(band), last - first)[1], *rows[last:])
    coded = [rows[0]]
    for number, row in enumerate(rows[1:]):
        coded += (bytes((0xFF, 0xD0 + number % 8)), row)  # RSTn, n counting 0 to 7 and again
    return header + b"".join(coded) + b"\xff\xd9"


def encoded(image: Image.Image) -> bytes:
    """The whole image as a JPEG with the cards' settings."""
    stream = io.BytesIO()
    image.save(stream, "JPEG", **JPEG_OPTIONS)
    return stream.getvalue()


_BLANK_CARDS: dict[tuple[str, str], tuple[bytes, tuple[bytes, ...]]] = {}


def _blank_card(site: str, background: str) -> tuple[bytes, tuple[bytes, ...]]:
    if (site, background) not in _BLANK_CARDS:
        _BLANK_CARDS[(site, background)] = _rows_of(encoded(_base(site, background)), -(-SIZE[1] // BLOCK_ROWS))
    return _BLANK_CARDS[(site, background)]


def _rows_of(data: bytes, count: int) -> tuple[bytes, tuple[bytes, ...]]:
    """A JPEG with a restart marker after each of its `count` rows of blocks: (everything up to the
    coded data, each row's coded data)."""
    at = 2  # after SOI; then each segment is a marker and its length, up to and including SOS
    while True:
        marker, length = data[at + 1], int.from_bytes(data[at + 2:at + 4], "big")
        at += 2 + length
        if marker == 0xDA:
            break
    if not data.endswith(b"\xff\xd9"):
        raise ValueError("a JPEG without its end marker")
    rows = tuple(_RESTART.split(data[at:-2]))
    if len(rows) != count:
        raise RuntimeError(f"JPEG with {len(rows)} restart intervals, not a row of blocks each ({count}): "
                           "this Pillow does not write restart markers as asked")
    return data[:at], rows


def write(image: Image.Image, xy: tuple[int, int], text: str, font: str, size: int, fill: str) -> tuple[int, int]:
    """`text` drawn as Pillow draws it, from glyphs and kerned advances kept from card to card: letting
    FreeType draw every line anew was two thirds of a card's time (12,000 cards in a first build).
    Where Pillow places a glyph half a pixel further, this may place it a pixel off. Text with
    combining marks (decomposed, NFD: content is NFC, but a card must never look broken) is left to
    Pillow, which positions the marks. Returns the rows the ink spans (top, bottom: past the last),
    for `jpeg`; (y, y) for none."""
    x, y = xy
    if any(unicodedata.combining(character) for character in text):
        pen = ImageDraw.Draw(image)
        pen.text(xy, text, font=_font(font, size), fill=fill)
        _, top, _, bottom = pen.textbbox(xy, text, font=_font(font, size))
        return (int(top), int(bottom) + 1) if bottom > top else (y, y)  # (+1: a row of margin for rounding)
    position = float(x)
    image.load()  # (the core image, pasted into directly: Image.paste's checks cost more than the paste)
    canvas, colour = image.im, ImageColor.getcolor(fill, image.mode)
    ink_top, ink_bottom = SIZE[1], 0
    for character, following in zip(text, [*text[1:], None]):
        mask, (left, top) = _glyph(font, size, character)
        if mask is not None:
            at = int(position) + left, y + top
            canvas.paste(colour, (*at, at[0] + mask.size[0], at[1] + mask.size[1]), mask)
            ink_top, ink_bottom = min(ink_top, at[1]), max(ink_bottom, at[1] + mask.size[1])
        position += _advance(font, size, character, following)
    return (ink_top, ink_bottom) if ink_bottom > ink_top else (y, y)


_GLYPHS: dict[tuple[str, int, str], tuple[ImagingCore | None, tuple[int, int]]] = {}
_ADVANCES: dict[tuple[str, int, str, str | None], float] = {}


def _glyph(font: str, size: int, character: str) -> tuple[ImagingCore | None, tuple[int, int]]:
    """A character's coverage mask and where it goes from the pen's position (None: nothing inked)."""
    key = (font, size, character)
    if key not in _GLYPHS:
        mask, offset = _font(font, size).getmask2(character, mode="L")
        _GLYPHS[key] = (Image.frombytes("L", mask.size, bytes(mask)).im if mask.size[0] and mask.size[1] else None,
                        offset)
    return _GLYPHS[key]


def _advance(font: str, size: int, character: str, following: str | None) -> float:
    """How far the pen moves after `character`, kerned against the `following` one as the whole line
    would be (the width of the pair, less the following character's own)."""
    key = (font, size, character, following)
    if key not in _ADVANCES:
        face = _font(font, size)
        _ADVANCES[key] = (face.getlength(character + following) - face.getlength(following) if following
                          else face.getlength(character))
    return _ADVANCES[key]


_BASES: dict[tuple[str, str], Image.Image] = {}


def _base(site: str, background: str) -> Image.Image:
    """What every card shares, drawn once: the background and the site's name along the bottom."""
    if (site, background) not in _BASES:
        image = Image.new("RGB", SIZE, background)
        pen = ImageDraw.Draw(image)
        pen.rectangle((0, SIZE[1] - 70, SIZE[0], SIZE[1]), fill="#ffffff")
        pen.text((70, SIZE[1] - 55), textwrap.shorten(site, 70), font=_font("Roboto", 32), fill=background)
        _BASES[(site, background)] = image
    return _BASES[(site, background)]


_FONTS: dict[tuple[str, int], ImageFont.FreeTypeFont] = {}


def _font(name: str, size: int) -> ImageFont.FreeTypeFont:
    if (name, size) not in _FONTS:
        import font_roboto  # (here: most builds draw no card)
        _FONTS[(name, size)] = ImageFont.truetype(font_roboto.font_files[name], size)
    return _FONTS[(name, size)]


def publish(urls: dict[str, str], cache_dir: Path, staging: Path) -> None:
    """Put the images the pages name under <root>/media/ (hard links where the disk allows), and take
    away drawn images no page names any more (the preview publishes into a live folder)."""
    media = staging / "media"
    media.mkdir(exist_ok=True)
    wanted = {url.removeprefix("media/") for url in urls.values()}
    for name in os.listdir(media):
        if name.startswith("og-") and name.endswith(".jpg") and name not in wanted:
            os.unlink(media / name)
    link_all(cache_dir, media, sorted(wanted))


def republish(before: dict[str, str], after: dict[str, str], cache_dir: Path, root: Path) -> None:
    """`publish` for a live folder where a few entries' images changed (the preview's renames): their
    new images linked in, and the old ones that no page names any more taken away."""
    changed = [entry for entry, url in after.items() if before.get(entry) != url]
    link_all(cache_dir, root / "media", sorted({after[entry].removeprefix("media/") for entry in changed}))
    named = set(after.values())
    for url in {url for entry, url in before.items() if after.get(entry) != url} - named:
        (root / url).unlink(missing_ok=True)
