"""Printed links never break: former slugs redirect, and a committed record of every address the
site has published makes `check` fail when a build would drop one.

The record (`content/published-urls.txt`) lists the product, facility and fair pages (the ones QR
codes and booth cards print), one site-relative path a line. Each build adds the new ones; nothing
removes a line, so a renamed or deleted entry must leave a redirect (`aliases` in the entry that
replaced it) for `check` to pass.
"""
from __future__ import annotations

import difflib
from pathlib import Path
from urllib.parse import urlsplit

from ..content.config import SiteConfig
from ..content.errors import ContentError, display_path, hint
from ..content.model import Catalogue
from .pages import entry_paths
from .urls import lang_prefix
from ..system.write import write_atomic

RECORD_FILE = "published-urls.txt"
RECORD_HEADER = """\
# Every address of a product, facility or fair page this catalogue has published (QR codes and booth
# cards print them). `python build.py` adds new ones; never delete a line: when an entry is renamed,
# add its old file name to `aliases` in the entry, and the old address will redirect; an entry no longer
# offered gets `withdrawn:`; one published by mistake is taken out with `python build.py remove`.
# Mọi địa chỉ trang sản phẩm, cơ sở, hội chợ đã xuất bản (mã QR và thẻ gian hàng in chúng). Không xoá
# dòng nào: khi đổi tên mục nhập, thêm tên tệp cũ vào `aliases` của mục nhập để địa chỉ cũ tự chuyển tiếp.
"""


def addresses(catalogue: Catalogue, config: SiteConfig) -> tuple[set[str], dict[str, str]]:
    """The permanent pages this build makes, and each former path → the page it redirects to."""
    live: set[str] = set()
    moved: dict[str, str] = {}
    for lang in config.languages:
        prefix = lang_prefix(lang)
        for path, former in entry_paths(catalogue):
            live.add(prefix + path)
            moved.update((prefix + old, prefix + path) for old in former)
    return live, moved


def read_record(record_file: Path) -> list[tuple[int, str]]:
    """(line number, path) of each recorded address; an absent record is empty."""
    if not record_file.is_file():
        return []
    lines = record_file.read_text(encoding="utf-8").splitlines()
    return [(number, line.strip()) for number, line in enumerate(lines, 1)
            if line.strip() and not line.lstrip().startswith("#")]


def check_record(record_file: Path, live: set[str], moved: dict[str, str], display_root: Path) -> list[ContentError]:
    """Every recorded address is still built, or redirects."""
    where = display_path(record_file, display_root)
    errors = []
    for number, path in read_record(record_file):
        if path in live or path in moved:
            continue
        folder, _, slug = path.rstrip("/").rpartition("/")
        candidates = [p.rstrip("/").rpartition("/")[2] for p in live if p.rstrip("/").rpartition("/")[0] == folder]
        close = difflib.get_close_matches(slug, candidates, n=1, cutoff=0.5)
        vi, en = hint(f"địa chỉ `{path}` đã được in (mã QR) nhưng bản dựng này không còn trang đó: thêm "
                      f"`aliases: [{slug}]` vào mục nhập thay thế nó",
                      f"`{path}` was published (QR codes print it) but this build no longer makes it: add "
                      f"`aliases: [{slug}]` to the entry that replaced it",
                      f"content/{folder.removeprefix('en/')}/{close[0]}" if close else None)
        errors.append(ContentError(where, number, "url", vi, en))
    return errors


def update_record(record_file: Path, live: set[str]) -> bool:
    """Add the addresses published for the first time; returns whether the record changed."""
    recorded = {path for _, path in read_record(record_file)}
    if live <= recorded and record_file.is_file():
        return False
    body = "\n".join(sorted(recorded | live))
    write_atomic(record_file, (RECORD_HEADER + body + "\n").encode("utf-8"))  # never truncated, even if killed
    return True


def forget(record_file: Path, paths: list[str]) -> list[str]:
    """Take addresses out of the record (an entry removed on purpose); returns those it held."""
    if not record_file.is_file():
        return []
    unwanted = set(paths)
    lines = record_file.read_text(encoding="utf-8").splitlines(keepends=True)
    kept = [line for line in lines if line.strip() not in unwanted]
    forgotten = [line.strip() for line in lines if line.strip() in unwanted]
    if forgotten:
        write_atomic(record_file, "".join(kept).encode("utf-8"))
    return forgotten


def redirects_file(moved: dict[str, str], config: SiteConfig) -> str:
    """`_redirects` (Netlify, Cloudflare Pages and others): `old new 301`, from the site's own path."""
    base = urlsplit(config.base_url).path
    return "".join(f"{base}{old} {base}{new} 301\n" for old, new in sorted(moved.items()))


def nginx_redirects(moved: dict[str, str], config: SiteConfig) -> str:
    """The same redirects for nginx (`include` it in the site's `server` block)."""
    base = urlsplit(config.base_url).path
    return ("# Made by build.py from `aliases`: include in the server block · tạo tự động từ `aliases`\n"
            + "".join(f"location = {base}{old} {{ return 301 {base}{new}; }}\n" for old, new in sorted(moved.items())))


def htaccess(moved: dict[str, str], config: SiteConfig) -> str:
    """The same redirects for Apache (read from the site's root when `AllowOverride` permits)."""
    base = urlsplit(config.base_url).path
    return ("# Made by build.py from `aliases` · tạo tự động từ `aliases`\n"
            + "".join(f"Redirect 301 {base}{old} {base}{new}\n" for old, new in sorted(moved.items())))
