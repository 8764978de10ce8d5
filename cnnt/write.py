"""Write stage: the new site is made in a temporary folder beside the output and swapped in at
the end, so a failed build leaves the previous site exactly as it was."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator


@contextmanager
def atomic_output(out_dir: Path) -> Iterator[Path]:
    """Yield an empty staging folder; on success it replaces `out_dir`, on any error it is removed."""
    out_dir = out_dir.resolve()
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    for leftover in out_dir.parent.glob(f".{out_dir.name}.old-*"):
        discard_tree(leftover)  # from an earlier build whose clean-up was interrupted
    staging = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.new-", dir=out_dir.parent))
    try:
        yield staging
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    staging.chmod(0o755)
    if out_dir.exists():
        old = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.old-", dir=out_dir.parent))
        os.replace(out_dir, old / out_dir.name)
        os.replace(staging, out_dir)
        discard_tree(old)
    else:
        os.replace(staging, out_dir)


def discard_tree(path: Path) -> None:
    """Delete a replaced site without making the build wait for it.

    Removing tens of thousands of files takes seconds on some disks (12 s for a 10k-product
    site here), so a detached process does it; a leftover is swept by the next build."""
    subprocess.Popen(
        [sys.executable, "-c", "import shutil, sys; shutil.rmtree(sys.argv[1], ignore_errors=True)", str(path)],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )


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


def write_text(root: Path, relative: str, text: str) -> None:
    write_bytes(root, relative, text.encode("utf-8"))


def copy_tree(source: Path, target: Path) -> None:
    if source.is_dir():
        shutil.copytree(source, target, dirs_exist_ok=True)
