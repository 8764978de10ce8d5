"""Which files may be published as photos: checked when content is read, before any is decoded
(site/images.py makes the derivatives of those that pass)."""
from __future__ import annotations

import warnings
from pathlib import Path

from PIL import Image, UnidentifiedImageError

MAX_BYTES = 25 * 1024 * 1024
MAX_PIXELS = 60_000_000      # a 50-megapixel phone photo passes; a decompression bomb does not
ACCEPTED_FORMATS = {"JPEG": "JPEG", "PNG": "PNG", "WEBP": "WebP"}
IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".webp"}
Image.MAX_IMAGE_PIXELS = MAX_PIXELS  # Pillow itself refuses anything larger, whatever the caller


def check_photo(path: Path) -> tuple[str, str] | None:
    """Why a file cannot be published as a photo (vi, en), or None. Reads the header only."""
    size = path.stat().st_size
    if size > MAX_BYTES:
        return (f"ảnh quá lớn ({size // 1_048_576} MB, tối đa {MAX_BYTES // 1_048_576} MB)",
                f"photo too large ({size // 1_048_576} MB, at most {MAX_BYTES // 1_048_576} MB)")
    with path.open("rb") as stream:
        head = stream.read(16)
    if head[4:8] == b"ftyp" and head[8:12] in (b"heic", b"heix", b"mif1", b"msf1", b"hevc"):
        return ("ảnh HEIC của iPhone chưa được hỗ trợ: hãy chuyển sang JPEG (trên iPhone: Cài đặt › Camera › "
                "Định dạng › Tương thích nhất) rồi thêm lại",
                "iPhone HEIC photos are not supported: convert to JPEG (on the iPhone: Settings › Camera › "
                "Formats › Most Compatible) and add it again")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)  # the pixel check below says it
            with Image.open(path) as image:
                if image.format not in ACCEPTED_FORMATS:
                    return (f"định dạng {image.format} không được hỗ trợ: dùng JPEG, PNG hoặc WebP",
                            f"{image.format} is not supported: use JPEG, PNG or WebP")
                width, height = image.size
                if width * height > MAX_PIXELS:
                    return (f"ảnh {width}×{height} quá nhiều điểm ảnh (tối đa {MAX_PIXELS // 1_000_000} triệu)",
                            f"{width}×{height} photo has too many pixels (at most {MAX_PIXELS // 1_000_000} million)")
                image.verify()  # structure and checksums, without decoding the pixels
    except Image.DecompressionBombError:
        return ("ảnh quá nhiều điểm ảnh", "photo has too many pixels")
    except UnidentifiedImageError:
        return ("tệp này không phải ảnh JPEG, PNG hay WebP", "this file is not a JPEG, PNG or WebP image")
    except (OSError, SyntaxError, ValueError) as exc:
        return (f"không đọc được ảnh ({exc})", f"cannot read the photo ({exc})")
    return None
