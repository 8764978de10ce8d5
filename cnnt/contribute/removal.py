"""`python build.py remove product|facility|fair <slug>`: take an entry out on purpose (a trial, a
duplicate), with its files and its recorded addresses, so the centre never edits the record by hand.

An entry that was really offered is better retired with `withdrawn:`: its printed QR codes keep
answering. `remove` is for what should never have been published; it refuses an entry that others
still name (a facility's products, a fair's booth, a decision's list), naming them.
"""
from __future__ import annotations

import shutil
from pathlib import Path

from ..content import kinds
from ..content.errors import BuildFailed, ContentError
from ..content.model import Catalogue
from ..site import redirects, urls
from ..site.urls import lang_prefix

FOLDERS = {kind.name: kind.folder for kind in kinds.KINDS if kind.removable}


def remove_entry(kind: str, slug: str, catalogue: Catalogue, content_dir: Path, languages: tuple[str, ...],
                 record_file: Path) -> tuple[list[Path], list[str]]:
    """Delete the entry's files and forget its addresses; (files removed, addresses forgotten)."""
    folder = FOLDERS[kind]
    entries = catalogue.every(folder)
    where = str(content_dir / folder / slug)
    entry = entries.get(slug)
    if entry is None:
        raise BuildFailed([ContentError(where, None, None, f"không có mục nhập `{slug}` trong content/{folder}/",
                                        f"there is no entry `{slug}` in content/{folder}/")])
    users = named_by(kind, slug, catalogue)
    if users:
        raise BuildFailed([ContentError(source, None, field,
                                        f"mục nhập này còn ghi `{slug}`: sửa hoặc xoá nó trước (hoặc dùng `withdrawn:`)",
                                        f"this entry still names `{slug}`: change or remove it first (or use `withdrawn:`)")
                           for source, field in users])
    files = entry_files(content_dir / folder, slug)
    paths = [lang_prefix(lang) + urls.entry_path(folder, name) for lang in languages for name in (slug, *entry.aliases)]
    for path in files:
        shutil.rmtree(path) if path.is_dir() else path.unlink()
    return files, redirects.forget(record_file, paths)


def named_by(kind: str, slug: str, catalogue: Catalogue) -> list[tuple[str, str]]:
    """(file, field) of every entry that names this one."""
    if kind == "facility":
        found = [(p.source, "facility") for p in catalogue.every_product.values() if p.facility_slug == slug]
        found += [(f.source, "participants") for f in catalogue.fairs.values()
                  if any(booth.facility_slug == slug for booth in f.participants)]
        return found
    if kind == "product":
        return [(d.source, "products") for d in catalogue.decisions.values() if slug in d.products]
    return []


def entry_files(folder: Path, slug: str) -> list[Path]:
    """The entry's file and translation, or its bundle folder."""
    candidates = [folder / slug, folder / f"{slug}.md", folder / f"{slug}.en.md"]
    return [path for path in candidates if path.exists() or path.is_symlink()]
