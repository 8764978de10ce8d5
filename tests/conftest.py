"""Shared fixtures: a tiny site built from a dict of files, and the built sample catalogue."""
from __future__ import annotations

import atexit
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from browser import browser, server, visit  # noqa: E402,F401  (fixtures for the browser tests)

import build as cli  # noqa: E402  (the command line, driven in-process)
from cnnt.engine.pipeline import FINGERPRINT_FILE  # noqa: E402

BUILD_DATE = "2026-11-22"


def snapshot(site: Path) -> dict[str, bytes]:
    """Every file of a site (but the stamp of its inputs, which counts photos by modification time)."""
    return {path.relative_to(site).as_posix(): path.read_bytes() for path in sorted(site.rglob("*"))
            if path.is_file() and path.name != FINGERPRINT_FILE}


FACILITY = """---
name: HTX Mẫu
kind: cooperative
province: Cà Mau
contact: {phone: 0900 000 001, zalo: 0900 000 001}
---
Mô tả cơ sở.
"""


@dataclass
class Run:
    code: int
    out: str
    err: str
    site: Path

    @property
    def error_lines(self) -> list[str]:
        return [line for line in self.err.splitlines() if line and ": " in line and not line[0].isdigit()]


@pytest.fixture
def make_site(tmp_path, capsys, monkeypatch):
    """Write `files` (path → text or bytes) under a content folder and run a command on it."""

    def run(files: dict[str, str | bytes], command: str = "build", date: str = BUILD_DATE,
            extra: tuple[str, ...] = (), with_facility: bool = True) -> Run:
        content = tmp_path / "content"
        if with_facility:
            files = {"facilities/htx-mau.md": FACILITY, **files}
        for relative, data in files.items():
            path = content / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data if isinstance(data, bytes) else data.encode("utf-8"))
        monkeypatch.chdir(tmp_path)
        args = [command, "--content", str(content), "--out", str(tmp_path / "site"), "--date", date, *extra]
        code = cli.main(args)
        captured = capsys.readouterr()
        return Run(code, captured.out, captured.err, tmp_path / "site")

    return run


@pytest.fixture
def vocabularies(tmp_path, monkeypatch) -> Path:
    """A copy of the vocabularies, which builds and the preview read instead of the package's own
    (which ship with the code, and no test may change). The interface's strings (`ui_strings.yaml`)
    are still read from the package: the renderer takes them from there when it is imported."""
    from cnnt.content import vocab
    from cnnt.engine import fingerprint, pipeline
    from cnnt.engine import preview as engine_preview
    folder = tmp_path / "vocabularies"
    shutil.copytree(vocab.VOCABULARY_DIR, folder)
    for module in (pipeline, fingerprint, engine_preview):
        monkeypatch.setattr(module, "VOCABULARY_DIR", folder)
    monkeypatch.setattr(pipeline, "load_vocabularies", lambda: vocab.load_vocabularies(folder))
    return folder


@pytest.fixture(scope="session")
def sample_site(tmp_path_factory) -> Path:
    """The bundled sample catalogue, built once for the session."""
    out = tmp_path_factory.mktemp("sample") / "site"
    assert cli.main(["build", "--out", str(out), "--date", BUILD_DATE, "--force"]) == 0
    return out


# What a build of the sample makes once and keeps in `.cache/<out>/` for the next, as a deploy runner's
# restored cache holds it: photo derivatives, link previews and QR codes, each named by what it
# shows. Made from nothing, they were 5.5 of the 7 seconds of a first build of a copy of the sample
# (in one process; 2.7 of the preview's 5.2 s), and some sixty tests start from one: the engine's
# tests twice, the site and the clean build it is compared with.
WARM_PARTS = ("images", "previews", "qr-codes.sqlite")
_SAMPLE_CACHE: list[Path] = []


def sample_cache() -> Path:
    """The cache folder of the sample catalogue built once, in a process of its own (a test's patches
    never reach it), for this test session."""
    if not _SAMPLE_CACHE:
        top = Path(tempfile.mkdtemp(prefix="sample-cache-"))
        atexit.register(shutil.rmtree, top, True)
        subprocess.run([sys.executable, str(ROOT / "build.py"), "--out", str(top / "site"), "--date", BUILD_DATE],
                       cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
        _SAMPLE_CACHE.append(top / ".cache" / "site")
    return _SAMPLE_CACHE[0]


def warm_caches(*outs: Path) -> None:
    """Give builds into these output folders the sample's photo derivatives, link previews and QR
    codes (`WARM_PARTS`), with the times they were written (the derivatives' manifest checks them):
    their first build then makes only what a copy of the sample changed. Not for a test of what a first
    build makes."""
    source = sample_cache()
    for out in outs:
        target = out.parent / ".cache" / out.name
        target.mkdir(parents=True, exist_ok=True)
        for part in WARM_PARTS:
            if (source / part).is_dir():
                shutil.copytree(source / part, target / part)
            else:
                shutil.copy2(source / part, target / part)
