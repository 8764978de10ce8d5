"""What says a build's inputs changed: one digest of everything a build reads (`input_fingerprint`),
which an output folder keeps (`.build-fingerprint`) so that a build of the same inputs writes nothing.

May import: `cnnt.content`, `cnnt.site`, `cnnt.system`; `incremental` and `model`."""
from __future__ import annotations

import hashlib
import os
from pathlib import Path
from stat import S_ISREG

from ..content.load import name_texts_by_git, text_digest
from ..content.photos import IMAGE_SUFFIXES
from ..content.vocab import VOCABULARY_DIR
from ..site import redirects, vendor
from ..system import gitfiles
from ..system.write import left_by_an_editor
from .incremental import PACKAGE_DIR
from .model import BuildOptions


def input_fingerprint(options: BuildOptions) -> str:
    """A digest of everything a build reads: content, templates, static files, code, vocabularies,
    configuration and the build date (award validity depends on it), and the commit the content's
    repository is at: the sitemap and feeds date each page by its files' last commit, which a commit
    of files already built changes, and no file with it."""
    digest = hashlib.blake2b(digest_size=20)
    digest.update(f"{options.build_date.isoformat()}\0{options.config_file.read_bytes()!r}".encode())
    digest.update(folder_digest([options.content_dir], content=True).encode())
    digest.update(f"commit:{gitfiles.head_commit(str(options.content_dir))}".encode())
    digest.update(folder_digest([options.templates_dir, options.static_dir, PACKAGE_DIR, VOCABULARY_DIR]).encode())
    digest.update(vendor.pins_key().encode())  # the editor's pinned packages
    return digest.hexdigest()


def folder_digest(folders: list[Path], content: bool = False) -> str:
    """A digest of every file and folder under `folders`. Photos count by size and modification time,
    as make and rsync do: reading gigabytes of them on every build would cost more than the build it
    saves. A folder counts by its name: an empty one can fail a build (an entry's folder without
    its `index.md`), and left out, the next build said nothing had changed. `content`: the folders are
    the content's, so each file's day of last change counts too, as the sitemap and feeds show it
    where git cannot say (a file saved again unchanged on another day moves its page's date), and the
    text files of a fresh checkout are named by git (`load.name_texts_by_git`) rather than read. Names that
    are not UTF-8 count as their bytes (the check names them): encoded strictly, they stopped the
    build with an internal error. A file that is not a regular one counts by its kind: read, a named
    pipe held the build for ever. A repository's own files (`VERSION_CONTROL`) are not inputs."""
    digest = hashlib.blake2b(digest_size=20)
    for folder in folders:
        digest.update(f"{folder}\0".encode("utf-8", "surrogateescape"))
        found = [(path, relative) for path, relative in _files(folder) if relative != redirects.RECORD_FILE]
        stats = {path: _stat(path) for path, relative in found if not relative.endswith("/")}
        photos = {path for path in stats if os.path.splitext(path)[1].lower() in IMAGE_SUFFIXES}
        if content:
            name_texts_by_git(stats, photos)
        for path, relative in found:
            digest.update(relative.encode("utf-8", "surrogateescape") + b"\0")
            if relative.endswith("/"):
                continue  # a folder: its name is all it adds
            stat = stats[path]
            if stat is None:  # a link to nothing (a photo moved away: the entry's check names it): what
                digest.update(b"link\0" + os.fsencode(os.readlink(path)))  # it says is its content
                continue
            if not S_ISREG(stat.st_mode):  # a pipe or a device (the check names it): never read
                digest.update(f"special:{stat.st_mode}".encode())
                continue
            if content:
                digest.update(f"{stat.st_mtime // 86400:.0f}:".encode())
            if path in photos:
                digest.update(f"{stat.st_size}:{stat.st_mtime_ns}:{stat.st_ino}".encode())
            else:  # the entry stamps take the digests from here (load.text_digest)
                digest.update(text_digest(path, stat).encode())
    return digest.hexdigest()


def _stat(path: str) -> os.stat_result | None:
    """The file's stat; None for a link to nothing (not a disk error: see `folder_digest`)."""
    try:
        return os.stat(path)
    except FileNotFoundError:
        if not os.path.islink(path):
            raise
        return None


# What version control keeps at the top of what it tracks (`.git` is a file in a submodule or
# worktree). A content folder that is its repository's top holds `.git`, whose packs hold every photo
# ever committed: read as content, they were most of a deploy's fingerprint (0.65 s of it at 10k
# products), and git's own work (a fetch, a `gc`) made the site look out of date. Only at the top:
# deeper, such a name is a folder a pull request may add, and an entry's photo may lie in it.
VERSION_CONTROL = frozenset({".git", ".hg", ".svn"})


def _files(folder: Path) -> list[tuple[str, str]]:
    """Every folder and file under `folder` (but Python's caches, version control's files at its
    top, and what an editor keeps beside a file, none of which a build reads) and its path relative
    to it, a folder's ending in `/`, in a stable order. (os.walk and plain strings: pathlib took half
    a second for 12,000 entries.)"""
    found = []
    for parent, folders, names in os.walk(folder):
        prefix = os.path.relpath(parent, folder).replace(os.sep, "/")
        left_out = VERSION_CONTROL if prefix == "." else frozenset()
        folders[:] = sorted(name for name in folders if name != "__pycache__" and name not in left_out)
        if prefix != ".":
            found.append((parent, f"{prefix}/"))
        inside = os.path.join(parent, "")  # (joined once: os.path.join for each of 15,000 files took 30 ms)
        for name in sorted(name for name in names if not left_by_an_editor(name) and name not in left_out):
            found.append((inside + name, name if prefix == "." else f"{prefix}/{name}"))
    return found
