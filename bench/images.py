#!/usr/bin/env python3
"""Photo benchmark: `python bench/images.py [--photos 500]` prints cold and warm build times for a
catalogue whose products carry that many 12-megapixel phone photos, and the bytes saved.

The photos (4000×3000 JPEG with GPS and orientation EXIF, like a phone's) are generated once into
bench/out/. Twenty painted scenes give 25 files each, made distinct by a JPEG comment segment:
decoding costs the same as for unique photos, and every file hashes differently, so nothing is
shared in the cache. Cold: no cache, no output. Warm: the same build again with --force (every
page rendered and written, photos taken from the cache).
"""
from __future__ import annotations

import argparse
import io
import random
import shutil
import subprocess
import sys
import time
from pathlib import Path

from PIL import Image, ImageDraw

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
OUT = BENCH / "out"
PHOTOS_PER_PRODUCT = 5
FACILITY = "---\nname: HTX Ảnh\nkind: cooperative\nprovince: Cà Mau\ncontact: {phone: 0900 000 001}\n---\nMô tả.\n"


def scene(seed: int) -> bytes:
    """A 12-megapixel 'phone photo': shapes, gradient, sensor-like noise, EXIF with GPS."""
    rng = random.Random(seed)
    image = Image.new("RGB", (4000, 3000), tuple(rng.randint(60, 220) for _ in range(3)))
    draw = ImageDraw.Draw(image)
    for _ in range(40):
        x, y = rng.randint(0, 3600), rng.randint(0, 2600)
        draw.ellipse([x, y, x + rng.randint(100, 900), y + rng.randint(100, 900)],
                     fill=tuple(rng.randint(0, 255) for _ in range(3)))
    image = Image.blend(image, Image.effect_noise((4000, 3000), 40).convert("RGB"), 0.15)
    exif = Image.Exif()
    exif[0x0112] = rng.choice([1, 6, 8])
    exif.get_ifd(0x8825).update({1: "N", 2: (9.0, 10.0, 30.0), 3: "E", 4: (105.0, 9.0, 12.0)})
    stream = io.BytesIO()
    image.save(stream, "JPEG", quality=92, exif=exif.tobytes())
    return stream.getvalue()


def with_comment(jpeg: bytes, text: str) -> bytes:
    """The same photo as other bytes: a COM segment right after the start-of-image marker."""
    payload = text.encode()
    return jpeg[:2] + b"\xff\xfe" + (len(payload) + 2).to_bytes(2, "big") + payload + jpeg[2:]


def catalogue(count: int) -> Path:
    folder = OUT / f"photos-{count}"
    marker = folder / ".generated"
    if marker.is_file():
        return folder
    shutil.rmtree(folder, ignore_errors=True)
    (folder / "facilities").mkdir(parents=True)
    (folder / "facilities" / "htx-anh.md").write_text(FACILITY, encoding="utf-8")
    scenes = [scene(seed) for seed in range(20)]
    for product in range(count // PHOTOS_PER_PRODUCT):
        bundle = folder / "products" / f"san-pham-{product:04d}"
        bundle.mkdir(parents=True)
        names = []
        for photo in range(PHOTOS_PER_PRODUCT):
            index = product * PHOTOS_PER_PRODUCT + photo
            name = f"anh-{photo}.jpg"
            (bundle / name).write_bytes(with_comment(scenes[index % len(scenes)], f"photo {index}"))
            names.append(name)
        (bundle / "index.md").write_text(
            f"---\nname: Sản phẩm {product}\nfacility: htx-anh\ngroup: food\nimages: [{', '.join(names)}]\n---\n"
            "Mô tả sản phẩm.\n", encoding="utf-8")
    marker.write_text("1")
    return folder


def build(content: Path, out: Path) -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, str(ROOT / "build.py"), "--content", str(content), "--out", str(out),
                    "--date", "2026-11-22", "--force"], check=True, capture_output=True)
    return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--photos", type=int, default=500)
    args = parser.parse_args()
    sys.path.insert(0, str(BENCH))
    from benchmark import settle

    content = catalogue(args.photos)
    site = OUT / f"photos-site-{args.photos}"
    shutil.rmtree(site, ignore_errors=True)
    shutil.rmtree(site.parent / ".cache" / site.name, ignore_errors=True)
    settle()
    cold = build(content, site)
    warm = build(content, site)
    originals = sum(p.stat().st_size for p in content.rglob("*.jpg"))
    published = sum(p.stat().st_size for p in (site / "media").iterdir())
    served_per_photo = sum(p.stat().st_size for p in (site / "media").glob("*-720.webp")) / args.photos
    print(f"{args.photos} photos of 12 megapixels ({originals / 1e6:.0f} MB):\n"
          f"    cold build  {cold:6.1f} s   ({args.photos / cold:.1f} photos/s, both cores)\n"
          f"    warm build  {warm:6.1f} s   (derivatives from the cache, no photo decoded)\n"
          f"    published   {published / 1e6:.0f} MB for all widths and formats, {100 * (1 - published / originals):.0f}% "
          f"less than the originals\n"
          f"    a phone downloads {served_per_photo / 1e3:.0f} KB per photo (720 px WebP) instead of "
          f"{originals / args.photos / 1e6:.1f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
