"""Photos: private (no metadata), upright, sRGB, responsive, cached, and safe to publish."""
import io
import re
import struct
from pathlib import Path

from html_inspect import parse
from PIL import Image, ImageChops, ImageCms, ImageDraw, ImageOps

from cnnt.content import photos
from cnnt.site import images

PRODUCT = "---\nname: Bánh phồng tôm\nfacility: htx-mau\ngroup: food\nimages: {images}\n---\nMô tả.\n"


def jpeg(width=1600, height=1200, colour=(200, 40, 40), **save) -> bytes:
    stream = io.BytesIO()
    Image.new("RGB", (width, height), colour).save(stream, "JPEG", quality=90, **save)
    return stream.getvalue()


def swapped_primaries_profile() -> bytes:
    """An RGB profile unlike sRGB: sRGB with its red and blue primaries exchanged."""
    data = bytearray(ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes())
    count = struct.unpack(">I", data[128:132])[0]
    entries = {bytes(data[132 + 12 * i:136 + 12 * i]): 132 + 12 * i for i in range(count)}
    red, blue = entries[b"rXYZ"], entries[b"bXYZ"]
    data[red + 4:red + 12], data[blue + 4:blue + 12] = data[blue + 4:blue + 12], data[red + 4:red + 12]
    return bytes(data)


def gps_exif(orientation: int) -> bytes:
    exif = Image.Exif()
    exif[0x0112] = orientation
    exif[0x010F] = "PhoneMaker"
    exif.get_ifd(0x8825).update({1: "N", 2: (10.0, 45.0, 30.0), 3: "E", 4: (106.0, 40.0, 12.0)})
    return exif.tobytes()


def derivatives(site: Path) -> list[Path]:
    return sorted(path for path in (site / "media").iterdir() if not path.name.startswith("og-"))  # photos only


def test_outputs_carry_no_metadata_are_upright_and_srgb(make_site):
    xmp = b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF><rdf:Description GPSLatitude="10,45N"/></rdf:RDF></x:xmpmeta>'
    photo = jpeg(1600, 1200, (255, 0, 0), exif=gps_exif(orientation=6), icc_profile=swapped_primaries_profile(), xmp=xmp)
    run = make_site({"products/banh/index.md": PRODUCT.format(images="[anh.jpg]"), "products/banh/anh.jpg": photo})
    assert run.code == 0, run.err
    outputs = derivatives(run.site)
    assert {p.suffix for p in outputs} == {".jpg", ".webp"} and len(outputs) == 7  # 3 widths × 2 formats + preview
    for path in outputs:
        data = path.read_bytes()
        for marker in (b"Exif", b"PhoneMaker", b"xmpmeta", b"Photoshop 3.0", b"ICC_PROFILE", b"10,45N"):
            assert marker not in data, (path.name, marker)
        with Image.open(path) as image:
            assert not image.getexif() and "icc_profile" not in image.info and "xmp" not in image.info
            if "preview" not in path.name:
                assert image.height > image.width, "EXIF orientation 6 must make a landscape photo portrait"
            r, g, b = image.convert("RGB").getpixel((image.width // 2, image.height // 2))[:3]
            assert b > 150 and r < 90, f"{path.name}: red in a red/blue-swapped profile is blue in sRGB"


def test_widths_are_never_upscaled_and_names_follow_the_source(make_site):
    run = make_site({"products/banh/index.md": PRODUCT.format(images="[nho.png]"),
                     "products/banh/nho.png": (lambda s: (Image.new("RGB", (500, 250), "green").save(s, "PNG"), s.getvalue())[1])(io.BytesIO())})
    assert run.code == 0, run.err
    widths = sorted({int(re.search(r"-(\d+)\.", p.name).group(1)) for p in derivatives(run.site) if "preview" not in p.name})
    assert widths == [360, 500]
    with Image.open(next(p for p in derivatives(run.site) if p.name.endswith("-500.jpg"))) as image:
        assert image.size == (500, 250)


def detailed(width: int, height: int, seed: int) -> Image.Image:
    """A picture with detail at every scale (noise over shapes), where a blurred derivative shows."""
    import random
    rng = random.Random(seed)
    image = Image.new("RGB", (width, height), (90, 140, 60))
    pen = ImageDraw.Draw(image)
    for _ in range(60):
        x, y = rng.randrange(width), rng.randrange(height)
        pen.ellipse((x, y, x + rng.randint(20, 400), y + rng.randint(20, 400)), fill=tuple(rng.randrange(256) for _ in "rgb"))
    return Image.blend(image, Image.effect_noise((width, height), 60).convert("RGB"), 0.3)


def psnr(a: Image.Image, b: Image.Image) -> float:
    """How close two pictures of one size are, in decibels (above 40: the same to the eye)."""
    import math
    assert a.size == b.size
    histogram = ImageChops.difference(a.convert("RGB"), b.convert("RGB")).histogram()  # R, G, B: 256 each
    error = sum(count * (level % 256) ** 2 for level, count in enumerate(histogram))
    return 99.0 if error == 0 else 10 * math.log10(255 ** 2 * a.size[0] * a.size[1] * 3 / error)


def test_each_derivative_shows_the_photo_as_a_resize_of_the_photo_itself_would(tmp_path, monkeypatch):
    """Narrower widths are resized from the widest derivative, and the link preview cut from it,
    to save time: each must still be, before it is encoded, what resizing the photo itself gives. A
    panorama's widest derivative is not as tall as the preview, which then comes from the photo
    (made from the derivative, it would be blown up and blurred: 28 dB here)."""
    saved: dict[str, Image.Image] = {}
    monkeypatch.setattr(images, "_save", lambda image, target, *_, **__: saved.__setitem__(target.name, image.copy()))
    for size in ((1600, 1200), (1200, 1600), (3000, 900), (800, 600)):  # landscape, portrait, panorama, small
        source = tmp_path / f"{size[0]}x{size[1]}.png"
        picture = detailed(*size, seed=size[0])
        picture.save(source)
        key, width, height, problem = images.make_derivatives((str(source), images.source_key(source), str(tmp_path)))
        assert problem is None and (width, height) == size
        webp, jpeg_names, preview = images._file_names(key, width, height)
        expected = {name: picture.resize((w, h), Image.Resampling.LANCZOS) for name, w, h in webp + jpeg_names}
        expected[preview] = ImageOps.fit(picture, images.PREVIEW_SIZE, Image.Resampling.LANCZOS)
        assert sorted(saved) == sorted(expected)
        for name, image in expected.items():
            assert saved[name].size == image.size and psnr(saved[name], image) > 45, (name, psnr(saved[name], image))
        saved.clear()


def test_page_markup_is_responsive_and_shift_free(make_site):
    run = make_site({"products/banh/index.md": PRODUCT.format(images="[{src: a.jpg, alt: Bánh phồng tôm trong túi}, b.jpg]"),
                     "products/banh/a.jpg": jpeg(), "products/banh/b.jpg": jpeg(colour=(0, 90, 200))})
    assert run.code == 0, run.err
    page = parse(run.site / "products/banh/index.html")
    photos = [a for a in page.all("img") if "placeholder" not in a.get("class", "")]
    first, second = photos[:2]
    assert first["alt"] == "Bánh phồng tôm trong túi" and first["loading"] == "eager"
    assert second["alt"] == "Ảnh: Bánh phồng tôm" and second["loading"] == "lazy"
    assert first["width"] == "720" and first["height"] == "540" and first["src"].endswith("-720.jpg")
    assert all(w in first["srcset"] for w in ("360w", "720w", "1200w"))
    webp = page.all("source")[0]
    assert webp["type"] == "image/webp" and webp["srcset"].count(".webp") == 3 and webp["sizes"]
    meta = {a.get("property"): a.get("content") for a in page.all("meta") if a.get("property")}
    assert re.fullmatch(r"https://catalogue\.example\.org/media/[0-9a-f]{20}-preview\.jpg", meta["og:image"])
    with Image.open(run.site / meta["og:image"].split("example.org/")[1]) as preview:
        assert preview.size == (1200, 630)
    en = parse(run.site / "en/products/banh/index.html")
    assert [a["alt"] for a in en.all("img") if a.get("loading") == "eager"] == ["Photo: Bánh phồng tôm"]


def test_entries_without_photos_get_a_placeholder(make_site):
    run = make_site({"products/banh.md": PRODUCT.format(images="[]")})
    assert run.code == 0, run.err
    page = parse(run.site / "products/banh/index.html")
    placeholders = [a for a in page.all("img") if "placeholder" in a.get("class", "")]
    assert placeholders and all(a["src"].endswith("static/placeholder.svg") and a["alt"] == "" for a in placeholders)
    assert (run.site / "static/placeholder.svg").is_file()


def test_cache_is_reused_without_decoding_and_stale_derivatives_removed(make_site, monkeypatch):
    files = {"products/banh/index.md": PRODUCT.format(images="[a.jpg]"), "products/banh/a.jpg": jpeg()}
    assert make_site(files).code == 0
    cache = Path.cwd() / ".cache" / "site" / "images"
    assert cache.is_dir()
    before = {p.name for p in cache.iterdir()}

    def no_decoding(*args, **kwargs):
        raise AssertionError("a photo with cached derivatives was decoded again")

    monkeypatch.setattr(images, "_upright_srgb", no_decoding)
    changed = dict(files, **{"products/banh/index.md": files["products/banh/index.md"].replace("Mô tả", "Mô tả mới")})
    run = make_site(changed)
    assert run.code == 0, run.err
    assert {p.name for p in cache.iterdir()} == before
    monkeypatch.undo()
    replaced = dict(changed, **{"products/banh/a.jpg": jpeg(colour=(10, 200, 10))})
    assert make_site(replaced).code == 0
    after = {p.name for p in cache.iterdir()}
    assert not (after & before - {"sizes.txt", "keys.txt", "files.txt"}), "derivatives of the replaced photo are removed"
    assert len(after) == 10  # 7 derivatives, sizes.txt, keys.txt, files.txt


def test_truncated_photo_is_an_error_not_a_crash(make_site):
    broken = jpeg(2000, 1500)[:-20000]
    run = make_site({"products/banh/index.md": PRODUCT.format(images="[a.jpg]"), "products/banh/a.jpg": broken})
    assert run.code == 1 and "Traceback" not in run.err
    assert re.search(r"content/products/banh/index\.md:5: images: `a\.jpg`: ", run.err), run.err
    assert not run.site.exists()


def test_check_photo_limits(tmp_path, monkeypatch):
    path = tmp_path / "a.jpg"
    path.write_bytes(jpeg(100, 100))
    assert photos.check_photo(path) is None
    monkeypatch.setattr(photos, "MAX_BYTES", 100)
    assert "too large" in photos.check_photo(path)[1]
