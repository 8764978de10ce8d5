"""Write stage: the new site is made in a temporary folder beside the output and swapped in at
the end, so a failed or killed build leaves the previous site exactly as it was.

What the build promises, whatever happens to it (each is a test in tests/test_faults.py):

- the output folder is always a complete site, the old one or the new one: the two folders are
  exchanged in one system call (Linux `renameat2(RENAME_EXCHANGE)`), so there is no moment
  without it; leftovers of a killed build are swept by the next one;
- files the build keeps (the record of published addresses, the caches' indexes) are replaced
  whole (`write_atomic`), never truncated;
- one build at a time per output folder (`output_lock`): a second build, or a build beside
  `serve`, stops at once with a message saying who holds the folder;
- a full disk or a folder that cannot be written is a plain message naming the folder (`disk_errors`),
  never a traceback, and nothing half-made is left behind.
"""
from __future__ import annotations

import ctypes
import ctypes.util
import errno
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from ..content.errors import BuildFailed, ContentError

try:
    import fcntl
except ImportError:  # not on Windows: there, two builds at once are not prevented
    fcntl = None  # type: ignore[assignment]

RENAME_EXCHANGE = 2


@contextmanager
def atomic_output(out_dir: Path) -> Iterator[Path]:
    """Yield an empty staging folder; on success it replaces `out_dir`, on any error it is removed."""
    out_dir = out_dir.resolve()
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    sweep_leftovers(out_dir)
    staging = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.new-", dir=out_dir.parent))
    try:
        yield staging
        staging.chmod(0o755)
        if out_dir.exists():
            if not _exchange(staging, out_dir):  # no atomic exchange here: two renames, a moment apart
                old = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.old-", dir=out_dir.parent))
                os.replace(out_dir, old / out_dir.name)
                os.replace(staging, out_dir)
                staging = old
            discard_tree(staging)  # after the exchange, `staging` holds the previous site
        else:
            os.replace(staging, out_dir)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


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
        raise BuildFailed([disk_error(where, exc.errno, exc.strerror or str(exc))]) from None
    except sqlite3.OperationalError as exc:  # "database or disk is full", "attempt to write a readonly database"
        raise BuildFailed([disk_error(str(folder), None, str(exc))]) from None


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


def write_atomic(path: Path, data: bytes | Iterable[bytes], durable: bool = True) -> None:
    """Replace a file whole: written beside it, flushed to disk, then renamed over it. A reader (or
    a build killed half-way) sees the old content or the new, never a part. `durable=False` skips
    the flush to disk, for a cache that checks its files anyway (an fsync costs about half a millisecond)."""
    partial = path.with_name(f".{path.name}.{os.getpid()}.part")
    try:
        with open(partial, "wb") as stream:
            for part in [data] if isinstance(data, bytes) else data:  # parts: a large file is never whole in memory
                stream.write(part)
            if durable:
                stream.flush()
                os.fsync(stream.fileno())
        os.replace(partial, path)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise


def write_bytes(root: Path, relative: str, data: bytes) -> None:
    """Write one file under root, creating its folder."""
    target = os.path.join(root, relative)
    _make_folder(os.path.dirname(target))
    with open(target, "wb") as stream:
        stream.write(data)


def _make_folder(folder: str) -> None:
    """makedirs() with one system call in the usual case (a page's own folder, in a folder that
    exists): makedirs looks at the parent first, and a build makes 30,000 folders."""
    try:
        os.mkdir(folder)
    except FileExistsError:
        pass
    except FileNotFoundError:
        os.makedirs(folder, exist_ok=True)


def link_or_copy(source: Path, target: Path) -> None:
    """Publish a cached file: a hard link where the disk allows (no bytes copied), else a copy."""
    if target.exists():
        return
    try:
        os.link(source, target)
    except OSError:
        shutil.copyfile(source, target)


def link_into(old_root: Path, root: Path, relative: str) -> bool:
    """Put `relative` of a previous site into the one being made, as a hard link where the disk
    allows (no bytes copied), else a copy; False when the previous site lacks it. (Files are never
    written in place afterwards: a linked file is shared with the previous site until it is swapped.)"""
    source, target = os.path.join(old_root, relative), os.path.join(root, relative)
    _make_folder(os.path.dirname(target))
    try:
        os.link(source, target)
    except FileNotFoundError:
        return False
    except OSError:
        try:
            shutil.copyfile(source, target)
        except FileNotFoundError:
            return False
    return True


def write_text(root: Path, relative: str, text: str) -> None:
    write_bytes(root, relative, text.encode("utf-8"))


def copy_tree(source: Path, target: Path) -> None:
    if source.is_dir():
        shutil.copytree(source, target, dirs_exist_ok=True)
