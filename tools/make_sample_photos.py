"""Paint the sample catalogue's illustrative photos: `python tools/make_sample_photos.py`.

No photo of a real product is shipped (nothing here may be downloaded, and the project must be
free to publish its samples): each picture is drawn — a backdrop, a table, a shaped subject with
light and shadow, a little grain — so pages show the layout real photos get. Deterministic.
"""
from __future__ import annotations

import random
from pathlib import Path

from PIL import Image, ImageDraw, ImageFilter

CONTENT = Path(__file__).resolve().parent.parent / "content"
SIZE = (1600, 1200)

# entry folder → (file name, subject, backdrop colour, subject colour)
PHOTOS = {
    "products/kho-muc-my-thuyen": ("kho-muc.jpg", "pieces", (214, 196, 170), (236, 214, 176)),
    "products/tom-kho-tan-phat-loi": ("tom-kho.jpg", "pieces", (188, 205, 214), (226, 96, 62)),
    "products/may-cho-tom-an-tu-dong": ("may-cho-tom-an.jpg", "machine", (176, 196, 186), (52, 120, 182)),
    "products/ca-phe-arabica-cau-dat": ("ca-phe.jpg", "jar", (222, 208, 188), (92, 58, 38)),
    "products/nuoc-mam-ca-com-40-do": ("nuoc-mam.jpg", "bottle", (206, 214, 204), (170, 96, 34)),
    "products/che-shan-tuyet-co-thu": ("che-shan-tuyet.jpg", "jar", (204, 218, 196), (84, 120, 62)),
    "products/binh-may-tre-dan": ("binh-may.jpg", "vase", (232, 222, 204), (178, 134, 82)),
    "products/dua-tre-mai-chau": ("dua-tre.jpg", "sticks", (218, 226, 214), (196, 160, 102)),
    "products/keo-dua-thanh-long": ("keo-dua.jpg", "pieces", (230, 214, 196), (246, 236, 214)),
    "products/may-say-lua": ("may-say-lua.jpg", "machine", (200, 204, 210), (160, 62, 48)),
    "products/ao-so-mi-nam": ("ao-so-mi.jpg", "cloth", (214, 220, 228), (238, 240, 246)),
    "products/banh-pia-sau-rieng": ("banh-pia.jpg", "pieces", (226, 204, 176), (232, 188, 112)),
    "facilities/tan-phat-loi": ("xuong.jpg", "workshop", (196, 208, 214), (120, 140, 150)),
    "facilities/ca-phe-di-linh": ("vuon-ca-phe.jpg", "field", (168, 200, 232), (70, 120, 60)),
    "facilities/may-tre-phu-vinh": ("xuong-dan.jpg", "workshop", (222, 206, 180), (150, 110, 70)),
}


def backdrop(colour: tuple[int, int, int], rng: random.Random) -> Image.Image:
    """A soft studio backdrop over a table edge."""
    image = Image.new("RGB", SIZE, colour)
    draw = ImageDraw.Draw(image)
    for y in range(SIZE[1]):
        shade = int(26 * y / SIZE[1])
        draw.line([(0, y), (SIZE[0], y)], fill=tuple(max(0, c - shade) for c in colour))
    table = tuple(max(0, c - 60) for c in colour)
    draw.rectangle([0, 820, SIZE[0], SIZE[1]], fill=table)
    return image


def subject(image: Image.Image, kind: str, colour: tuple[int, int, int], rng: random.Random) -> None:
    draw = ImageDraw.Draw(image)
    dark = tuple(max(0, c - 70) for c in colour)
    light = tuple(min(255, c + 40) for c in colour)
    if kind == "pieces":
        for _ in range(28):
            x, y = rng.randint(420, 1180), rng.randint(560, 900)
            w, h = rng.randint(70, 150), rng.randint(30, 70)
            draw.ellipse([x, y, x + w, y + h], fill=rng.choice([colour, light, dark]), outline=dark)
    elif kind in ("jar", "bottle", "vase"):
        neck = {"jar": 180, "bottle": 70, "vase": 120}[kind]
        top = {"jar": 360, "bottle": 220, "vase": 300}[kind]
        draw.rectangle([800 - neck // 2, top, 800 + neck // 2, top + 110], fill=dark)
        draw.ellipse([560, top + 80, 1040, 900], fill=colour, outline=dark, width=6)
        draw.ellipse([640, top + 160, 720, 820], fill=light)
        if kind == "vase":
            for y in range(top + 140, 880, 36):
                draw.line([(590, y), (1010, y)], fill=dark, width=5)
    elif kind == "machine":
        draw.rounded_rectangle([520, 380, 1080, 860], radius=40, fill=colour, outline=dark, width=8)
        draw.rectangle([600, 460, 1000, 560], fill=light)
        for x in (600, 1000):
            draw.ellipse([x - 70, 820, x + 70, 960], fill=(40, 40, 44))
    elif kind == "sticks":
        for i in range(22):
            x = 560 + i * 22
            draw.line([(x, 500 + (i % 3) * 10), (x + 60, 900)], fill=rng.choice([colour, dark, light]), width=14)
    elif kind == "cloth":
        draw.polygon([(620, 380), (980, 380), (1100, 520), (1010, 560), (1010, 900), (590, 900), (590, 560), (500, 520)],
                     fill=colour, outline=(150, 156, 168))
        draw.line([(800, 390), (800, 900)], fill=(170, 176, 190), width=4)
    elif kind == "workshop":
        for x in range(200, 1400, 300):
            draw.rectangle([x, 520, x + 220, 820], fill=colour, outline=dark, width=6)
            draw.rectangle([x + 30, 560, x + 190, 640], fill=light)
        draw.polygon([(120, 520), (800, 200), (1480, 520)], fill=dark)
    elif kind == "field":
        for row in range(8):
            y = 640 + row * 60
            for x in range(rng.randint(-40, 0), SIZE[0], 110):
                draw.ellipse([x, y - 50, x + 100, y + 30], fill=rng.choice([colour, dark, light]))
    draw.ellipse([480, 880, 1120, 960], fill=(0, 0, 0, 60))


def grain(image: Image.Image, rng: random.Random) -> Image.Image:
    noise = Image.effect_noise(SIZE, 12).convert("RGB")
    return Image.blend(image.filter(ImageFilter.GaussianBlur(1.2)), noise, 0.06)


def main() -> None:
    for folder, (name, kind, back, colour) in PHOTOS.items():
        rng = random.Random(name)
        image = backdrop(back, rng)
        subject(image, kind, colour, rng)
        target = CONTENT / folder / name
        target.parent.mkdir(parents=True, exist_ok=True)
        grain(image, rng).save(target, "JPEG", quality=80, optimize=True, progressive=True)
        print(f"{target.relative_to(CONTENT.parent)}: {target.stat().st_size // 1024} KB")


if __name__ == "__main__":
    main()
