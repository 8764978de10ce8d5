"""Images stage: photos → upright, sRGB, metadata-free derivatives in a few widths (WebP + JPEG)
and a 1200×630 link-preview crop, named by a hash of the source and the operation.

Derivatives are kept in a cache folder between builds: a photo whose derivatives exist is never
decoded again, and derivatives no entry uses any more are removed. Work is spread over the cores.
"""
from __future__ import annotations

import hashlib
import io
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageCms, ImageOps

from ..content import photos  # noqa: F401 (its import sets Pillow's pixel limit before any photo is opened)

from ..system import gitfiles, parallel
from ..system.write import link_all, write_atomic

WIDTHS = (360, 720, 1200)
PREVIEW_SIZE = (1200, 630)   # OpenGraph: what Zalo and Facebook show for a shared link
WEBP_QUALITY = 78
JPEG_QUALITY = 82
# Changing how derivatives are made must change their names, so old ones are not reused.
OPERATION = f"v2:{WIDTHS}:{PREVIEW_SIZE}:webp{WEBP_QUALITY}:jpeg{JPEG_QUALITY}:srgb:no-metadata:chained"


_SRGB = ImageCms.createProfile("sRGB")


@dataclass(frozen=True)
class Rendition:
    url: str      # path under the site root, e.g. media/3f2a…-720.webp
    width: int
    height: int


@dataclass(frozen=True)
class PhotoSet:
    """Everything a page needs to show one photo."""

    webp: tuple[Rendition, ...]
    jpeg: tuple[Rendition, ...]
    preview: Rendition

    @property
    def fallback(self) -> Rendition:
        """The JPEG an old browser loads: the middle width, or the largest there is."""
        return self.jpeg[min(1, len(self.jpeg) - 1)]


def source_key(path: Path) -> str:
    """Names a photo's derivatives: the source bytes and how they are made."""
    digest = hashlib.blake2b(OPERATION.encode(), digest_size=10)
    with path.open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _file_names(key: str, width: int, height: int) -> tuple[list[tuple[str, int, int]], list[tuple[str, int, int]], str]:
    """Which widths a photo gets (never upscaled), as (name, width, height) for WebP and JPEG."""
    widths = [w for w in WIDTHS if w < width] + [min(width, WIDTHS[-1])]
    sizes = [(w, round(height * w / width)) for w in sorted(set(widths))]
    return ([(f"{key}-{w}.webp", w, h) for w, h in sizes], [(f"{key}-{w}.jpg", w, h) for w, h in sizes],
            f"{key}-preview.jpg")


def _upright_srgb(path: Path, longest: int) -> Image.Image:
    """Decode (at reduced scale where JPEG allows), apply EXIF orientation, convert to sRGB, drop metadata."""
    image: Image.Image = Image.open(path)
    # JPEG can decode straight at 1/2, 1/4 or 1/8 size, much faster; Pillow keeps both sides at
    # least `longest`, so the widest derivative is never made from fewer pixels than it shows.
    image.draft("RGB", (longest, longest))
    image = ImageOps.exif_transpose(image)
    profile = image.info.get("icc_profile")
    has_alpha = image.mode in ("RGBA", "LA") or (image.mode == "P" and "transparency" in image.info)
    image = image.convert("RGBA" if has_alpha else "RGB")
    if profile:
        try:
            source = ImageCms.ImageCmsProfile(io.BytesIO(profile))
            converted = ImageCms.profileToProfile(image, source, _SRGB, outputMode=image.mode)
            image = converted if converted is not None else image  # None only when converting in place
        except (ImageCms.PyCMSError, OSError):
            pass  # a broken profile: keep the pixels as they are rather than refuse the photo
    clean = Image.new(image.mode, image.size)  # a new image carries no EXIF, XMP, IPTC or ICC
    clean.paste(image)
    return clean


def _on_white(image: Image.Image) -> Image.Image:
    if image.mode != "RGBA":
        return image
    background = Image.new("RGB", image.size, (255, 255, 255))
    background.paste(image, mask=image.getchannel("A"))
    return background


def make_derivatives(job: tuple[str, str, str]) -> tuple[str, int, int, str | None]:
    """Write one photo's derivatives into the cache folder; returns (key, width, height, problem)."""
    path, key, cache = Path(job[0]), job[1], Path(job[2])
    try:
        with Image.open(path) as original:  # the upright size, read from the header, names the files
            width, height = original.size[::-1] if _rotated(original) else original.size
        image = _upright_srgb(path, WIDTHS[-1])
        _write_derivatives(image, key, width, height, cache)
    except (OSError, ValueError, Image.DecompressionBombError) as exc:  # e.g. a truncated file
        if isinstance(exc, OSError) and exc.errno is not None:
            raise  # the system's error (a full disk, a read-only cache), not the photo's: said as such
        return key, 0, 0, str(exc)
    return key, width, height, None


def _write_derivatives(image: Image.Image, key: str, width: int, height: int, cache: Path) -> None:
    """The widest derivative is resized from the photo, each narrower one from the one before, and
    the link preview cut from the widest when it covers the preview (a panorama's is not tall
    enough, and takes the photo). A LANCZOS resize costs by the pixels it reads and was half a
    photo's time; resizing from the width before gives the same picture to within what the eye
    sees (over 50 dB PSNR against resizing from the photo, on the sample's photos), in half the
    resizing time."""
    webp, jpeg, preview = _file_names(key, width, height)
    made: list[Image.Image] = []  # widest first
    for (webp_name, w, h), (jpeg_name, _, _) in zip(reversed(webp), reversed(jpeg)):
        larger = made[-1] if made else image
        resized = larger.resize((w, h), Image.Resampling.LANCZOS) if (w, h) != larger.size else larger
        _save(resized, cache / webp_name, "WEBP", quality=WEBP_QUALITY, method=4)
        _save(_on_white(resized), cache / jpeg_name, "JPEG", quality=JPEG_QUALITY, optimize=True, progressive=True)
        made.append(resized)
    covers = made[0].width >= PREVIEW_SIZE[0] and made[0].height >= PREVIEW_SIZE[1]
    _save(_on_white(ImageOps.fit(made[0] if covers else image, PREVIEW_SIZE, Image.Resampling.LANCZOS)),
          cache / preview, "JPEG", quality=JPEG_QUALITY, optimize=True)


def _rotated(image: Image.Image) -> bool:
    return image.getexif().get(0x0112, 1) in (5, 6, 7, 8)


def _save(image: Image.Image, target: Path, format_: str, **options: object) -> None:
    """Write atomically, so an interrupted build never leaves a half-written derivative in the cache."""
    partial = target.with_name(target.name + ".part")
    image.save(partial, format_, **options)
    os.replace(partial, target)


@dataclass
class PhotoCache:
    """Derivatives kept between builds in `folder`, with the size of each source photo."""

    folder: Path

    def __post_init__(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)

    def sizes_file(self) -> Path:
        return self.folder / "sizes.txt"

    def keys_file(self) -> Path:
        return self.folder / "keys.txt"

    def manifest_file(self) -> Path:
        return self.folder / "files.txt"

    def read_manifest(self) -> dict[str, tuple[int, int]]:
        """Each derivative as it was written: name → (size, modification time). A file that no longer
        matches (truncated, overwritten, edited) is made again rather than published."""
        written = {}
        for line in read_checked(self.manifest_file()):
            parts = line.split(" ")
            if len(parts) == 3 and parts[1].isdigit() and parts[2].isdigit():
                written[parts[0]] = (int(parts[1]), int(parts[2]))
        return written

    def write_manifest(self, sizes: dict[str, tuple[int, int]]) -> None:
        lines = []
        for key, size in sorted(sizes.items()):
            for name in _all_names(key, *size):
                stat = os.stat(self.folder / name)
                lines.append(f"{name} {stat.st_size} {stat.st_mtime_ns}")
        write_checked(self.manifest_file(), lines)

    def blobs_file(self) -> Path:
        return self.folder / "blobs.txt"

    def source_keys(self, files: list[str]) -> dict[str, str]:
        """Each photo's key, re-hashed only when its size or modification time changed: hashing
        every photo again cost most of a warm build (500 phone photos are about 2 GB). A deploy
        runner's fresh checkout gives every photo a new time: there, git's blob id of each photo it
        tracks unchanged is looked up among those met before (`blobs.txt`), and only the photos
        neither names are read."""
        known: dict[tuple[str, int, int], str] = {}
        for line in read_checked(self.keys_file()):
            parts = line.split("\t")
            if len(parts) == 4 and parts[0].isdigit() and parts[1].isdigit():
                known[(parts[3], int(parts[0]), int(parts[1]))] = parts[2]
        stats = {file: os.stat(file) for file in files}
        blobs = gitfiles.blob_ids_if_large({file: stat.st_size for file, stat in stats.items()
                                            if (file, stat.st_size, stat.st_mtime_ns) not in known})
        keys_of_blobs = self.read_blob_keys()
        keys, lines = {}, []
        for file in files:
            stat = stats[file]
            keys[file] = (known.get((file, stat.st_size, stat.st_mtime_ns)) or keys_of_blobs.get(blobs.get(file, ""))
                          or source_key(Path(file)))
            lines.append(f"{stat.st_size}\t{stat.st_mtime_ns}\t{keys[file]}\t{file}")
        write_checked(self.keys_file(), lines)
        met = {blob: keys[file] for file, blob in blobs.items()}
        used = set(keys.values())
        kept = {blob: key for blob, key in keys_of_blobs.items() if key in used} | met
        if kept != keys_of_blobs:  # (photos no longer used are dropped)
            write_checked(self.blobs_file(), [f"{blob} {key}" for blob, key in sorted(kept.items())])
        return keys

    def read_blob_keys(self) -> dict[str, str]:
        """git blob id → the key of the photo it names (both are named by the bytes alone)."""
        found = {}
        for line in read_checked(self.blobs_file()):
            parts = line.split(" ")
            if len(parts) == 2:
                found[parts[0]] = parts[1]
        return found

    def read_sizes(self) -> dict[str, tuple[int, int]]:
        sizes = {}
        for line in read_checked(self.sizes_file()):
            parts = line.split(" ")
            if len(parts) == 3 and parts[1].isdigit() and parts[2].isdigit():
                sizes[parts[0]] = (int(parts[1]), int(parts[2]))
        return sizes

    def intact(self) -> bool:
        """Whether every derivative the manifest names is as it was written (one stat each): the live
        site shares their files, so one damaged since must make a build that finds nothing else changed
        run all the same."""
        return files_as_recorded(self.folder, (line.split(" ") for line in read_checked(self.manifest_file())))

    def complete(self, key: str, size: tuple[int, int] | None, written: dict[str, tuple[int, int]]) -> bool:
        """Whether every derivative of a photo is there, as it was written."""
        if size is None:
            return False
        for name in _all_names(key, *size):
            try:
                stat = os.stat(self.folder / name)
            except OSError:
                return False
            if written.get(name) != (stat.st_size, stat.st_mtime_ns):
                return False
        return True

    def prune(self, keep: set[str]) -> None:
        """Remove derivatives of photos no entry uses any more (and half-written ones)."""
        for path in self.folder.iterdir():
            if path.name not in INDEX_FILES and path.name.split("-")[0] not in keep or path.name.endswith(".part"):
                path.unlink()


INDEX_FILES = ("sizes.txt", "keys.txt", "files.txt", "blobs.txt")
CHECK_PREFIX = "# blake2b "


def write_checked(path: Path, lines: list[str]) -> None:
    """An index file, whole, with a digest of its lines as its last line."""
    body = "".join(f"{line}\n" for line in lines)
    digest = hashlib.blake2b(body.encode("utf-8"), digest_size=16).hexdigest()
    write_atomic(path, f"{body}{CHECK_PREFIX}{digest}\n".encode())


def read_checked(path: Path) -> list[str]:
    """An index file's lines; none when it is missing, cut short or changed by hand (its digest
    does not match), so that whatever it described is worked out again."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return []
    body, _, last = text.rstrip("\n").rpartition("\n")
    body = f"{body}\n" if body else ""
    if not last.startswith(CHECK_PREFIX):
        return []
    if hashlib.blake2b(body.encode("utf-8"), digest_size=16).hexdigest() != last[len(CHECK_PREFIX):]:
        return []
    return body.splitlines()


def files_as_recorded(folder: Path, records: Iterable[list[str]]) -> bool:
    """Whether each file of `folder` that `records` name ([name, size, time, …] as text) has that size
    and time. (Each asked for by name within the folder: 12,000 of them in 50 ms rather than 100.)"""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return False
    try:
        for name, size, time, *_ in records:
            try:
                stat = os.stat(name, dir_fd=fd)
            except OSError:
                return False
            if str(stat.st_mtime_ns) != time or str(stat.st_size) != size:
                return False
    except ValueError:  # a line of another shape (the record's digest let it through)
        return False
    finally:
        os.close(fd)
    return True


def _all_names(key: str, width: int, height: int) -> list[str]:
    webp, jpeg, preview = _file_names(key, width, height)
    return [name for name, _, _ in webp + jpeg] + [preview]


def prepare_photos(files: list[str], cache_dir: Path, jobs: int | None = None) -> tuple[dict[str, PhotoSet], dict[str, str]]:
    """Derivatives for every photo file (made only where missing), keyed by the source file, and
    the problems of photos that could not be decoded after all (file → message)."""
    cache = PhotoCache(cache_dir)
    sizes = cache.read_sizes()
    keys = cache.source_keys(sorted(set(files)))
    written = cache.read_manifest()
    missing = [(file, key, str(cache.folder)) for file, key in keys.items()
               if not cache.complete(key, sizes.get(key), written)]
    files_of = {key: file for file, key, _ in missing}
    problems = {}
    for key, width, height, problem in parallel.imap_unordered(make_derivatives, missing, jobs):
        if problem:
            problems[files_of[key]] = problem
        else:
            sizes[key] = (width, height)
    if problems:
        return {}, problems
    used = set(keys.values())
    write_checked(cache.sizes_file(), [f"{k} {w} {h}" for k, (w, h) in sorted(sizes.items()) if k in used])
    cache.prune(used)
    cache.write_manifest({key: sizes[key] for key in used})
    return {file: photo_set(key, *sizes[key]) for file, key in keys.items()}, {}


def photo_set(key: str, width: int, height: int) -> PhotoSet:
    webp, jpeg, preview = _file_names(key, width, height)
    return PhotoSet(tuple(Rendition(f"media/{n}", w, h) for n, w, h in webp),
                    tuple(Rendition(f"media/{n}", w, h) for n, w, h in jpeg),
                    Rendition(f"media/{preview}", *PREVIEW_SIZE))


def publish(photos: dict[str, PhotoSet], cache_dir: Path, staging: Path) -> None:
    """Put the derivatives the site uses under staging/media/ (hard links where the disk allows)."""
    link_all(cache_dir, staging / "media", sorted(url.removeprefix("media/") for url in published(photos)))


def published(photos: dict[str, PhotoSet]) -> set[str]:
    """The site paths of these photos' derivatives (`media/…`)."""
    return {rendition.url for photo in photos.values() for rendition in (*photo.webp, *photo.jpeg, photo.preview)}
