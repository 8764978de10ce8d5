"""Shared fixtures: a tiny site built from a dict of files, and the built sample catalogue."""
from __future__ import annotations

import shutil
import sys
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
