"""Write stage: the new site is made in a temporary folder beside the output and swapped in at
the end, so a failed or killed build leaves the previous site exactly as it was.

What the build promises, whatever happens to it (each is a test in tests/test_faults.py):

- the output folder is always a complete site, the old one or the new one: the two folders are
  exchanged in one system call (Linux `renameat2(RENAME_EXCHANGE)`), so there is no moment
  without it; leftovers of a killed build are swept by the next one;
- files the build keeps (the record of published addresses, the caches' indexes) are replaced
  whole (`write_atomic`), never truncated;
- the replaced site is kept beside the output as the next build's starting point (the spare,
  `.<out>.spare`) when the engine asks for it: an incremental build then rewrites only the files that
  differ, instead of making a folder and a link for each of 30,000 pages; it is written like any
  staging folder (a file is replaced, never written into, as it may share its data with the live
  site through a hard link), and a failed build deletes it;
- one build at a time per output folder (`output_lock`): a second build, or a build beside
  `serve`, stops at once with a message saying who holds the folder;
- a full disk or a folder that cannot be written is a plain message naming the folder (`disk_errors`),
  never a traceback, and nothing half-made is left behind.
"""
from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import errno
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

from ..content.errors import BuildFailed, ContentError, OutputFailed

try:
    import fcntl
except ImportError:  # not on Windows: there, two builds at once are not prevented
    fcntl = None  # type: ignore[assignment]

RENAME_EXCHANGE = 2


@contextmanager
def atomic_output(out_dir: Path, reuse_spare: bool = False, keep_spare: bool = False) -> Iterator[Path]:
    """Yield a staging folder; on success it replaces `out_dir`, on any error it is removed.

    The staging folder is empty, or with `reuse_spare` the spare (`spare_folder`): the site the last
    build replaced, which the caller brings up to date. With `keep_spare` the site replaced now
    becomes the next spare; otherwise it is deleted (in the background)."""
    out_dir = out_dir.resolve()
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    sweep_leftovers(out_dir)
    staging = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.new-", dir=out_dir.parent))
    spare = spare_folder(out_dir)
    if spare.is_dir():
        if reuse_spare:
            os.replace(spare, staging)  # onto the empty folder just made: one rename
        else:
            _discard(spare, out_dir)
    try:
        yield staging
        staging.chmod(0o755)
        if not out_dir.exists():
            os.replace(staging, out_dir)
            return
        if not _exchange(staging, out_dir):  # no atomic exchange here: two renames, a moment apart
            old = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.old-", dir=out_dir.parent))
            os.replace(out_dir, old / out_dir.name)
            os.replace(staging, out_dir)
            os.replace(old / out_dir.name, staging)
            old.rmdir()
        # `staging` now holds the previous site
        if keep_spare:
            _keep_as_spare(staging, spare)
        else:
            _discard(staging, out_dir)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def spare_folder(out_dir: Path) -> Path:
    """Where the site the last build replaced is kept for the next one (see `atomic_output`)."""
    out_dir = out_dir.resolve()
    return out_dir.parent / f".{out_dir.name}.spare"


def _keep_as_spare(replaced: Path, spare: Path) -> None:
    """The site just replaced, kept for the next build (killed before this, it is a leftover)."""
    os.replace(replaced, spare)


def _discard(folder: Path, out_dir: Path) -> None:
    """Delete a folder beside `out_dir` in the background, first moved under a leftover's name (swept
    by the next build if need be), so that its own name is free at once."""
    leftover = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.old-", dir=out_dir.parent))
    os.replace(folder, leftover / out_dir.name)
    discard_tree(leftover)


def sweep_leftovers(out_dir: Path) -> None:
    """Remove what a killed or failed build left beside the output (callers hold the output lock)."""
    for pattern in (f".{out_dir.name}.old-*", f".{out_dir.name}.new-*"):
        for leftover in out_dir.parent.glob(pattern):
            discard_tree(leftover)


def _exchange(first: Path, second: Path) -> bool:
    """Swap two paths in one step (Linux 3.15+); False where the system cannot."""
    if not sys.platform.startswith("linux"):
        return False
    libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
    renameat2 = getattr(libc, "renameat2", None)
    if renameat2 is None:
        return False
    at_cwd = -100
    if renameat2(at_cwd, os.fsencode(first), at_cwd, os.fsencode(second), RENAME_EXCHANGE) == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP):
        return False  # a file system that cannot exchange
    raise OSError(code, os.strerror(code), str(second))


def discard_tree(path: Path) -> None:
    """Delete a replaced site without making the build wait for it.

    Removing tens of thousands of files takes seconds on some disks (12 s for a 10k-product
    site here), so a detached process does it; a leftover is swept by the next build."""
    subprocess.Popen(
        [sys.executable, "-c", "import shutil, sys; shutil.rmtree(sys.argv[1], ignore_errors=True)", str(path)],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )


@contextmanager
def output_lock(out_dir: Path, lock_file: Path) -> Iterator[None]:
    """Hold the output folder for one build or one preview (through `lock_file`, in its cache folder);
    another one stops with a message. The operating system releases it if the process dies."""
    out_dir = out_dir.resolve()
    lock_file.parent.mkdir(parents=True, exist_ok=True)
    if fcntl is None:
        yield
        return
    stream = open(lock_file, "a+")  # noqa: SIM115 (held open until the lock is released below)
    try:
        try:
            fcntl.flock(stream, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            stream.seek(0)
            holder = stream.read().strip() or "?"
            raise BuildFailed([ContentError(str(out_dir), None, "--out",
                                            f"một bản dựng hoặc bản xem trước khác (tiến trình {holder}) đang ghi vào "
                                            f"thư mục này: đợi nó xong, dừng nó, hoặc chọn thư mục khác bằng --out",
                                            f"another build or preview (process {holder}) is writing to this folder: "
                                            f"wait for it, stop it, or choose another folder with --out")]) from None
        stream.seek(0)
        stream.truncate()
        stream.write(str(os.getpid()))
        stream.flush()
        yield
    finally:
        stream.close()  # closing releases the lock; the file stays, harmless


@contextmanager
def disk_errors(folder: Path) -> Iterator[None]:
    """Turn a full disk, a read-only folder or a damaged cache database into a message for people."""
    try:
        yield
    except OSError as exc:
        where = exc.filename if isinstance(exc.filename, str) else str(folder)
        raise OutputFailed([disk_error(where, exc.errno, exc.strerror or str(exc))]) from None
    except sqlite3.OperationalError as exc:  # "database or disk is full", "attempt to write a readonly database"
        raise OutputFailed([disk_error(str(folder), None, str(exc))]) from None


def disk_error(where: str, code: int | None, reason: str) -> ContentError:
    if code == errno.ENOSPC or "full" in reason:
        vi, en = "đĩa đã đầy: giải phóng chỗ trống rồi dựng lại", "the disk is full: free some space and build again"
    elif code in (errno.EACCES, errno.EPERM, errno.EROFS) or "readonly" in reason or "read-only" in reason:
        vi, en = ("không được phép ghi vào đây (thư mục chỉ đọc hoặc thiếu quyền): chọn thư mục khác bằng --out "
                  "hoặc cấp quyền ghi", "this cannot be written (a read-only folder, or no permission): choose "
                  "another folder with --out, or allow writing")
    else:
        vi, en = "không ghi được tệp", "a file could not be written"
    return ContentError(where, None, None, f"{vi} ({reason}); trang cũ vẫn giữ nguyên",
                        f"{en} ({reason}); the previous site is untouched")


def write_atomic(path: Path, data: bytes | Callable[[BinaryIO], object], durable: bool = True) -> None:
    """Replace a file whole: written beside it, flushed to disk, then renamed over it. A reader (or
    a build killed half-way) sees the old content or the new, never a part. `data`: the bytes, or a
    function that writes them to the stream it is given (a large file is then never whole in
    memory). `durable=False` skips the flush to disk, for a cache that checks its files anyway (an
    fsync costs about half a millisecond)."""
    partial = path.with_name(f".{path.name}.{os.getpid()}.part")
    try:
        with open(partial, "wb") as stream:
            if isinstance(data, bytes):
                stream.write(data)
            else:
                data(stream)
            if durable:
                stream.flush()
                os.fsync(stream.fileno())
        os.replace(partial, path)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise


def write_bytes(root: Path, relative: str, data: bytes | Iterable[bytes]) -> None:
    """Write one file under root, creating its folder. A file already there is replaced, never
    written into: in a reused staging folder it may be a hard link that the live site shares.
    `data`: the content, or its pieces (a large file need not be held whole: the sitemap's)."""
    target = os.path.join(root, relative)
    _make_folder(os.path.dirname(target))
    try:
        stream = open(target, "xb")  # noqa: SIM115 (closed below)
    except FileExistsError:
        os.unlink(target)
        stream = open(target, "xb")  # noqa: SIM115
    with stream:
        if isinstance(data, (bytes, bytearray, memoryview)):  # (which the type checker takes for bytes)
            stream.write(data)
        else:
            stream.writelines(data)
    _record(target)


def write_named(root: Path, relative: str, data: Callable[[], bytes], old_root: Path | None = None) -> None:
    """`write_bytes` for a file named by a digest of its content (the search data): one a reused
    staging folder already holds is the same and stays; one the live site (`old_root`) holds is
    linked from it. (An edit leaves most of the 30 MB of search files of 10k products as they were.)
    `data` gives the content, asked for only when the file is written (it may be kept compressed)."""
    target = os.path.join(root, relative)
    if os.path.isfile(target):
        _record(target)
    elif old_root is None or not link_into(old_root, root, relative):
        write_bytes(root, relative, data())


def _make_folder(folder: str) -> None:
    """makedirs() with one system call in the usual case (a page's own folder, in a folder that
    exists): makedirs looks at the parent first, and a build makes 30,000 folders."""
    try:
        os.mkdir(folder)
    except FileExistsError:
        pass
    except FileNotFoundError:
        os.makedirs(folder, exist_ok=True)


def link_all(source_dir: Path, target_dir: Path, names: Iterable[str]) -> None:
    """Publish cached files: each of `names` from `source_dir` into `target_dir`, as a hard link where
    the disk allows (no bytes copied), else a copy. One listing of each folder, and paths as strings:
    12,000 link previews took a fifth of a second as Path objects.

    A file the target folder holds already stays when it is the cached one: a hard link to it (the
    same inode, which the listings give without asking the disk), or a copy with its size and time.
    Otherwise the cache has made the file again since (one damaged in place, through every hard link
    to it, found changed and made anew) and it is replaced: names say what an image shows, not that
    the bytes are right, and a reused staging folder (the spare) holds the damaged file's links."""
    os.makedirs(target_dir, exist_ok=True)
    source, target = str(source_dir), str(target_dir)
    present = _inodes(target)
    cached = _inodes(source) if present else {}
    # (joined as strings with the separator: os.path.join was a third of the time for 12,000 names)
    source, target = os.path.join(source, ""), os.path.join(target, "")
    for name in names:
        path, original = target + name, source + name
        inode = present.get(name)
        if inode is None:
            _link_or_copy(original, path)
        elif inode != cached.get(name) and not _same_copy(original, path):
            partial = f"{path}.{os.getpid()}.part"  # (replaced whole: the preview links into a live folder)
            try:
                _link_or_copy(original, partial)
                os.replace(partial, path)
            finally:
                if os.path.lexists(partial):
                    os.unlink(partial)
        _record(path)


def _inodes(folder: str) -> dict[str, int]:
    with os.scandir(folder) as entries:
        return {entry.name: entry.inode() for entry in entries}


def _link_or_copy(source: str, target: str) -> None:
    try:
        os.link(source, target)
    except OSError:
        shutil.copy2(source, target)  # (with its time: `_same_copy`)


def _same_copy(source: str, target: str) -> bool:
    """Whether `target` is a copy of `source` made by `_link_or_copy` since `source` was last written."""
    try:
        made, copy = os.stat(source), os.stat(target)
    except OSError:
        return False
    return (made.st_ino, made.st_dev) == (copy.st_ino, copy.st_dev) or (
        made.st_size == copy.st_size and made.st_mtime_ns == copy.st_mtime_ns)


def link_into(old_root: Path, root: Path, relative: str) -> bool:
    """Put `relative` of a previous site into the one being made, as a hard link where the disk
    allows (no bytes copied), else a copy; False when the previous site lacks it. (Files are never
    written in place afterwards: a linked file is shared with the previous site until it is swapped.)"""
    source, target = os.path.join(old_root, relative), os.path.join(root, relative)
    _make_folder(os.path.dirname(target))
    try:
        os.link(source, target)
    except FileExistsError:  # a reused staging folder's older copy
        os.unlink(target)
        return link_into(old_root, root, relative)
    except FileNotFoundError:
        return False
    except OSError:
        try:
            shutil.copyfile(source, target)
        except FileNotFoundError:
            return False
    _record(target)
    return True


def write_text(root: Path, relative: str, text: str) -> None:
    write_bytes(root, relative, text.encode("utf-8"))


# What editors keep beside the file they edit: emacs's lock (`.#style.css`, a link to nothing) and
# autosave (`#style.css#`), vim's swap file (`.style.css.swp`), a backup (`style.css~`).
_EDITORS_FILE = re.compile(r"^\.#|^#.*#$|~$|^\..*\.sw[a-z]$")


def left_by_an_editor(name: str) -> bool:
    """Whether a file's name is that of a file an editor keeps beside the one it edits: never
    published, never read as content or a template."""
    return _EDITORS_FILE.search(name) is not None


def copy_tree(source: Path, target: Path) -> None:
    """Copy a folder's files (with their times), replacing files already there rather than writing
    into them (see `write_bytes`). What an editor keeps beside a file is not copied: a swap file
    would publish what is being typed, and emacs's lock, a link to nothing, stopped the build."""
    for folder, _, names in os.walk(source):
        inside = os.path.relpath(folder, source)
        into = target if inside == "." else os.path.join(target, inside)
        os.makedirs(into, exist_ok=True)
        for name in names:
            if left_by_an_editor(name):
                continue
            copy = os.path.join(into, name)
            if os.path.lexists(copy):
                os.unlink(copy)
            shutil.copy2(os.path.join(folder, name), copy)
            _record(copy)


def files_under(root: Path) -> set[str]:
    """Every file under `root`, relative, with "/" (as `recording` gives them). (os.scandir, which
    says what is a folder without a system call: os.walk took four times as long for 10k products.)"""
    found: list[str] = []
    folders = [("", str(root))]
    while folders:
        prefix, folder = folders.pop()
        with os.scandir(folder) as entries:
            for entry in entries:
                if entry.is_dir(follow_symlinks=False):
                    folders.append((f"{prefix}{entry.name}/", entry.path))
                else:
                    found.append(prefix + entry.name)
    return set(found)


def remove_files(root: Path, files: Iterable[str]) -> None:
    """Delete these files under `root` (relative paths), and the folders they leave empty."""
    for relative in files:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(os.path.join(root, relative))
        folder = os.path.dirname(relative)
        while folder:
            try:
                os.rmdir(os.path.join(root, folder))
            except OSError:  # not empty (or gone): the folders above are not empty either
                break
            folder = os.path.dirname(folder)


# -- what a build wrote --------------------------------------------------------------------------

_RECORDING: list[tuple[str, set[str]]] = []


@contextmanager
def recording(root: Path) -> Iterator[set[str]]:
    """The files this process writes under `root` while it lasts (relative, with "/"): the engine
    keeps a site's list of files, to know which a later build must delete from its spare."""
    files: set[str] = set()
    _RECORDING.append((os.path.join(root, ""), files))
    try:
        yield files
    finally:
        _RECORDING.pop()


def _record(target: str) -> None:
    if _RECORDING:
        prefix, files = _RECORDING[-1]
        if target.startswith(prefix):
            files.add(target[len(prefix):].replace(os.sep, "/"))
