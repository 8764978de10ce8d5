"""Nothing lost when the world misbehaves: builds killed at any moment, full and read-only disks, two
builds at once, a preview under an edit storm, and caches that were damaged or edited by hand.

Every case compares with a clean build of the same content, byte for byte. Kills are placed by
`fault_harness.py` at named moments (not at random times), so each run covers the same ground."""
from __future__ import annotations

import contextlib
import io
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from conftest import BUILD_DATE, FACILITY, ROOT, snapshot
from PIL import Image

HARNESS = Path(__file__).resolve().parent / "fault_harness.py"
BUILD = [sys.executable, str(ROOT / "build.py")]


def photo(colour: tuple[int, int, int]) -> bytes:
    stream = io.BytesIO()
    Image.new("RGB", (400, 300), colour).save(stream, "PNG")
    return stream.getvalue()


def catalogue_a() -> dict[str, str | bytes]:
    files: dict[str, str | bytes] = {
        "facilities/htx-mau.md": FACILITY,
        "facilities/htx-hai/index.md": FACILITY.replace("HTX Mẫu", "HTX Hai").replace("contact:", "images: [logo.png]\ncontact:"),
        "facilities/htx-hai/logo.png": photo((200, 40, 40)),
        "decisions/tinh-2024.md": "---\nnumber: 5/QĐ-UBND\ndate: 2024-05-02\nissuer: UBND tỉnh Cà Mau\n"
                                  "level: provincial\nproducts: [banh-0, banh-1]\n---\n",
    }
    for number in range(10):
        facility = "htx-mau" if number % 2 else "htx-hai"
        files[f"products/banh-{number}.md"] = (f"---\nname: Bánh số {number}\nfacility: {facility}\ngroup: food\n"
                                               f"summary: Bánh thứ {number}.\n---\nMô tả bánh {number}.\n")
    return files


def catalogue_b() -> dict[str, str | bytes]:
    """A with a new product that has a new photo, and an edited one."""
    files = catalogue_a()
    files["products/banh-moi/index.md"] = "---\nname: Bánh mới\nfacility: htx-mau\ngroup: food\nimages: [anh.png]\n---\n"
    files["products/banh-moi/anh.png"] = photo((40, 160, 60))
    files["products/banh-3.md"] = str(files["products/banh-3.md"]).replace("Bánh thứ 3.", "Bánh thứ ba, ngon hơn.")
    return files


# Content files are dated the same whenever a test writes them: the sitemap and feeds give each
# entry its files' day, and a reference built before midnight must equal a site built after it.
WRITTEN_AT = 1_763_812_800  # 2025-11-22 12:00 UTC


def write_content(folder: Path, files: dict[str, str | bytes]) -> None:
    for relative, data in files.items():
        path = folder / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data if isinstance(data, bytes) else data.encode("utf-8"))
        os.utime(path, (WRITTEN_AT, WRITTEN_AT))


def build_args(work: Path, *extra: str) -> list[str]:
    return ["--content", str(work / "content"), "--out", str(work / "site"), "--date", BUILD_DATE, "--jobs", "1",
            *extra]


def run_build(work: Path, *extra: str) -> subprocess.CompletedProcess:
    return subprocess.run([*BUILD, *build_args(work, *extra)], capture_output=True, text=True, timeout=300)


def recorded(work: Path) -> list[str]:
    text = (work / "content/published-urls.txt").read_text(encoding="utf-8")
    assert text.startswith("# Every address") and text.endswith("\n"), text[-200:]
    return [line for line in text.splitlines() if line and not line.startswith("#")]


@pytest.fixture(scope="module")
def references(tmp_path_factory) -> dict[str, object]:
    """Clean builds of A and of B, and A's whole working folder (content, record, site, cache)."""
    found: dict[str, object] = {}
    for name, files in (("a", catalogue_a()), ("b", catalogue_b())):
        work = tmp_path_factory.mktemp(f"reference-{name}")
        write_content(work / "content", files)
        done = run_build(work)
        assert done.returncode == 0, done.stderr
        found[name] = work
        found[f"{name}-site"] = snapshot(work / "site")
        found[f"{name}-record"] = recorded(work)
    assert found["a-site"] != found["b-site"]
    return found


def fresh_a(references: dict[str, object], work: Path) -> Path:
    """A working folder as A's build left it (with its cache), then edited into B."""
    shutil.copytree(references["a"], work, symlinks=True)
    write_content(work / "content", catalogue_b())
    return work


# -- killed at any moment --------------------------------------------------------------------------

KILL_POINTS = [
    ("cnnt.engine.pipeline.input_fingerprint", 1, "after"),      # before anything is written
    ("cnnt.site.images.write_atomic", 1, "before"),            # the photo cache's index of keys
    ("cnnt.site.images.write_atomic", 1, "after"),
    ("cnnt.site.images._save", 1, "before"),                   # the new photo's derivatives
    ("cnnt.site.images._save", 4, "after"),
    ("cnnt.site.images.write_atomic", 2, "before"),            # sizes
    ("cnnt.site.images.write_atomic", 3, "before"),            # the derivatives' manifest
    ("os.fsync", 2, "after"),                             # an index written beside, not yet in place
    ("cnnt.site.qr.make_code", 1, "before"),                   # the QR code cache
    ("cnnt.site.qr.code_digest", 3, "after"),                  # inside its transaction
    ("cnnt.engine.pipeline.write_bytes", 1, "before"),           # writing pages
    ("cnnt.engine.pipeline.write_bytes", 25, "before"),
    ("cnnt.engine.pipeline.write_bytes", 55, "after"),
    ("cnnt.engine.extras.write_bytes", 1, "before"),             # search files, vCards, the editor, open data
    ("cnnt.engine.extras.write_bytes", 12, "after"),
    ("cnnt.engine.extras.write_text", 1, "before"),              # redirects, schemas
    ("cnnt.engine.pipeline.write_text", 1, "before"),            # the site stamped "pending"
    ("cnnt.site.images.publish", 1, "before"),
    ("cnnt.system.write._exchange", 1, "before"),                # swapping the output
    ("cnnt.system.write._exchange", 1, "after"),
    ("cnnt.system.write._keep_as_spare", 1, "before"),          # the replaced site, kept as the spare
    ("cnnt.system.write._keep_as_spare", 1, "after"),
    ("cnnt.site.redirects.write_atomic", 1, "before"),         # the record of published addresses
    ("os.fsync", 4, "after"),                             # the record, written beside, not yet in place
    ("cnnt.site.redirects.write_atomic", 1, "after"),
    ("cnnt.engine.pipeline.write_bytes", 40, "before"),
]


@pytest.mark.parametrize("target,nth,when", KILL_POINTS, ids=[f"{t}-{n}-{w}" for t, n, w in KILL_POINTS])
def test_a_killed_build_leaves_the_old_site_or_the_new(references, tmp_path, target, nth, when):
    work = fresh_a(references, tmp_path / "work")
    killed = subprocess.run([sys.executable, str(HARNESS), target, str(nth), when, "--", *build_args(work)],
                            capture_output=True, text=True, timeout=300)
    assert killed.returncode == -signal.SIGKILL, f"the point was never reached: {killed.stdout}{killed.stderr}"
    site = snapshot(work / "site")
    assert site in (references["a-site"], references["b-site"]), "the output is neither the old site nor the new"
    record = recorded(work)
    assert set(references["a-record"]) <= set(record) <= set(references["b-record"])
    recovered = run_build(work)
    assert recovered.returncode == 0, recovered.stderr
    assert snapshot(work / "site") == references["b-site"]
    assert recorded(work) == references["b-record"]


SPARE_KILL_POINTS = [
    ("cnnt.engine.pipeline.write_bytes", 1, "before"),           # rendering into the spare
    ("cnnt.engine.pipeline.remove_files", 1, "after"),           # what the new site lacks, deleted
    ("cnnt.system.write._exchange", 1, "after"),
    ("cnnt.system.write._keep_as_spare", 1, "after"),
]


@pytest.mark.parametrize("target,nth,when", SPARE_KILL_POINTS, ids=[f"{t}-{n}-{w}" for t, n, w in SPARE_KILL_POINTS])
def test_a_killed_build_that_started_from_the_spare_leaves_the_old_site_or_the_new(references, tmp_path, target,
                                                                                      nth, when):
    """As above, for a build that brings the spare (the site before the last) up to date rather than
    filling an empty folder."""
    work = tmp_path / "work"
    shutil.copytree(references["a"], work, symlinks=True)
    earlier = catalogue_a()
    earlier["products/banh-0.md"] = str(earlier["products/banh-0.md"]).replace("Bánh thứ 0.", "Bánh thứ không.")
    for files in (earlier, catalogue_a()):  # the spare: A with another banh-0; B adds a page it lacks
        write_content(work / "content", files)
        assert run_build(work).returncode == 0
    assert (work / ".site.spare/products/banh-0/index.html").is_file()
    write_content(work / "content", catalogue_b())
    killed = subprocess.run([sys.executable, str(HARNESS), target, str(nth), when, "--", *build_args(work)],
                            capture_output=True, text=True, timeout=300)
    assert killed.returncode == -signal.SIGKILL, f"the point was never reached: {killed.stdout}{killed.stderr}"
    assert snapshot(work / "site") in (references["a-site"], references["b-site"])
    recovered = run_build(work)
    assert recovered.returncode == 0, recovered.stderr
    assert snapshot(work / "site") == references["b-site"]
    edited = catalogue_b()  # and the build after recovery, from whatever spare it left, is right too
    edited["products/banh-5.md"] = str(edited["products/banh-5.md"]).replace("Bánh thứ 5.", "Bánh năm.")
    write_content(work / "content", edited)
    assert run_build(work).returncode == 0
    assert "Bánh năm." in (work / "site/products/banh-5/index.html").read_text(encoding="utf-8")
    assert not [p for p in (work / "site").rglob("*") if p.is_dir() and not any(p.iterdir())]


# -- full and read-only disks ------------------------------------------------------------------------

@contextlib.contextmanager
def mounted(folder: Path, size: str) -> Path:
    """A small tmpfs (a disk that fills up); skipped where mounting is not allowed."""
    folder.mkdir(parents=True)
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(folder)], capture_output=True)
    if done.returncode != 0:
        if os.environ.get("CI"):
            raise RuntimeError(f"CI runs as root and can mount a tmpfs: {done.stderr!r}")
        pytest.skip(f"cannot mount a tmpfs here (needs root): {done.stderr.decode(errors='replace').strip()}")
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], capture_output=True)


def plain_failure(done: subprocess.CompletedProcess, where: Path, *words: str) -> None:
    assert done.returncode == 1, (done.returncode, done.stderr)
    assert "Traceback" not in done.stderr and "Internal error" not in done.stderr, done.stderr
    assert str(where) in done.stderr, done.stderr
    for word in words:
        assert word in done.stderr, done.stderr


def test_a_full_disk_leaves_the_previous_site_and_says_so(references, tmp_path):
    with mounted(tmp_path / "disk", "16m") as disk:  # the site and its cache take 8 MB, 7 of them the editor
        work = tmp_path / "work"  # the content on a roomy disk; the site and its cache on the small one
        write_content(work / "content", catalogue_a())
        out = ["--content", str(work / "content"), "--out", str(disk / "site"), "--date", BUILD_DATE]
        assert subprocess.run([*BUILD, *out], capture_output=True).returncode == 0
        before = snapshot(disk / "site")
        files = catalogue_b()
        for number in range(12):  # photos that do not compress: their derivatives fill the disk
            files[f"products/to-{number}/index.md"] = "---\nname: To\nfacility: htx-mau\ngroup: food\nimages: [anh.png]\n---\n"
            stream = io.BytesIO()
            Image.frombytes("RGB", (1200, 900), os.urandom(1200 * 900 * 3)).save(stream, "PNG")
            files[f"products/to-{number}/anh.png"] = stream.getvalue()
        write_content(work / "content", files)
        done = subprocess.run([*BUILD, *out], capture_output=True, text=True, timeout=300)
        plain_failure(done, disk, "disk is full", "the previous site is untouched")
        assert snapshot(disk / "site") == before
        time.sleep(0.5)
        assert not [p.name for p in disk.iterdir() if p.name.startswith(".site.")]  # nothing half-made left


def test_a_read_only_output_leaves_the_previous_site_and_says_so(references, tmp_path):
    with mounted(tmp_path / "disk", "20m") as disk:
        work = disk / "work"
        write_content(work / "content", catalogue_a())
        assert run_build(work).returncode == 0
        before = snapshot(work / "site")
        shutil.copytree(work / "content", tmp_path / "content")  # the content stays writable elsewhere
        write_content(tmp_path / "content", catalogue_b())
        assert subprocess.run(["mount", "-o", "remount,ro", str(disk)]).returncode == 0
        done = subprocess.run([*BUILD, "--content", str(tmp_path / "content"), "--out", str(work / "site"),
                               "--date", BUILD_DATE], capture_output=True, text=True, timeout=300)
        plain_failure(done, disk, "read-only")
        assert snapshot(work / "site") == before


# -- two at once ---------------------------------------------------------------------------------------

def wait_for(condition, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def test_a_second_build_on_the_same_output_stops_with_a_message(references, tmp_path):
    work = fresh_a(references, tmp_path / "work")
    lock = work / ".cache/site/lock"
    # the first build pauses half-way through writing pages, holding the output
    first = subprocess.Popen([sys.executable, "-c", PAUSED_BUILD, *build_args(work)],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        wait_for(lambda: lock.is_file() and lock.read_text().strip() == str(first.pid) and (work / "paused").exists())
        second = run_build(work, "--force")
        assert second.returncode == 1 and f"another build or preview (process {first.pid})" in second.stderr
        assert "Traceback" not in second.stderr
        (work / "paused").unlink()
        assert first.wait(120) == 0, first.stderr.read()
    finally:
        first.kill()
    assert snapshot(work / "site") == references["b-site"]


PAUSED_BUILD = """
import os, sys, time
sys.path.insert(0, %r)
import build
from cnnt.engine import pipeline
write = pipeline.write_bytes
calls = []
def paused(*args):
    calls.append(1)
    if len(calls) == 10:
        open(os.path.join(sys.argv[sys.argv.index("--out") + 1], "..", "paused"), "w").close()
        while os.path.exists(os.path.join(sys.argv[sys.argv.index("--out") + 1], "..", "paused")):
            time.sleep(0.05)
    return write(*args)
pipeline.write_bytes = paused
sys.exit(build.main(sys.argv[1:]))
""" % str(ROOT)  # noqa: UP031 (the script names its folder with repr, quotes and all)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextlib.contextmanager
def preview_server(work: Path):
    port = free_port()
    server = subprocess.Popen([*BUILD, "serve", "--port", str(port), *build_args(work)[:-2]],
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    address = f"http://127.0.0.1:{port}/"
    try:
        wait_for(lambda: server.poll() is not None or _answers(address), 120)
        assert server.poll() is None, server.stdout.read()
        yield server, address
    finally:
        server.send_signal(signal.SIGINT)
        try:
            server.wait(20)
        except subprocess.TimeoutExpired:
            server.kill()


def _answers(address: str) -> bool:
    try:
        return urllib.request.urlopen(address, timeout=2).status == 200
    except OSError:
        return False


def test_a_build_beside_the_preview_stops_with_a_message(references, tmp_path):
    work = fresh_a(references, tmp_path / "work")
    with preview_server(work) as (server, _):
        done = run_build(work)
        assert done.returncode == 1 and f"another build or preview (process {server.pid})" in done.stderr
    assert run_build(work, "--force").returncode == 0  # once the preview has stopped
    assert snapshot(work / "site") == references["b-site"]


# -- the preview under an edit storm ---------------------------------------------------------------

def save_by_rename(path: Path, text: str) -> None:
    """How many editors save: a temporary file beside, renamed over the original."""
    partial = path.with_name(f".{path.name}.swp")
    partial.write_text(text, encoding="utf-8")
    os.replace(partial, path)


def test_the_preview_survives_an_edit_storm_and_ends_on_the_clean_site(references, tmp_path):
    work = fresh_a(references, tmp_path / "work")
    products = work / "content/products"
    with preview_server(work) as (server, address):
        started = time.monotonic()
        for number in range(100):  # a hundred saves in about ten seconds
            product = products / f"banh-{number % 10}.md"
            text = product.read_text(encoding="utf-8")
            kind = number % 5
            if kind == 0:
                product.write_text(text.replace("summary: Bánh", f"summary: Lần {number}. Bánh", 1), encoding="utf-8")
            elif kind == 1:
                save_by_rename(product, text.replace("Mô tả", f"Mô tả {number}", 1))
            elif kind == 2:
                product.unlink()
                time.sleep(0.02)
                product.write_text(text, encoding="utf-8")
            elif kind == 3:
                product.write_text(text.replace("group: food", "group: [food"), encoding="utf-8")  # invalid YAML
                time.sleep(0.03)
                product.write_text(text, encoding="utf-8")
            else:  # a bundle folder renamed, then back
                (products / "banh-moi").rename(products / "banh-moi-2")
                time.sleep(0.03)
                (products / "banh-moi-2").rename(products / "banh-moi")
            time.sleep(max(0.0, started + (number + 1) * 0.1 - time.monotonic()))
            if number % 10 == 0:
                assert server.poll() is None and _answers(address), "the preview stopped answering"
        # end on known content: B, written again over every edit
        write_content(work / "content", catalogue_b())
        fresh = tmp_path / "fresh"
        shutil.copytree(work / "content", fresh / "content")
        # the clean build of the same content, as a preview makes it, without serving
        done = subprocess.run([sys.executable, "-c", CLEAN_PREVIEW_BUILD, "serve", "--content", str(fresh / "content"),
                               "--out", str(fresh / "site"), "--date", BUILD_DATE], capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
        clean = snapshot(fresh / "site")
        wait_for(lambda: snapshot(work / "site") == clean, 60)
        assert server.poll() is None and _answers(address)


CLEAN_PREVIEW_BUILD = """
import sys
sys.path.insert(0, %r)
import build
from cnnt.engine import pipeline
args = build.parse_args(sys.argv[1:])
pipeline.build(build.options_from(args))
""" % str(ROOT)  # noqa: UP031 (the script names its folder with repr, quotes and all)


# -- damaged caches ------------------------------------------------------------------------------------

def corrupt_qr_rows(cache: Path) -> None:
    """Swap two codes' images by hand: each row then holds another page's code."""
    db = sqlite3.connect(cache / "qr-codes.sqlite")
    rows = db.execute("SELECT url, svg, png FROM codes ORDER BY url LIMIT 2").fetchall()
    db.execute("UPDATE codes SET svg = ?, png = ? WHERE url = ?", (rows[1][1], rows[1][2], rows[0][0]))
    db.commit()
    db.close()


def delete_qr_rows(cache: Path) -> None:
    """Every row deleted, the file's size and time put back: only its change time tells."""
    before = os.stat(cache / "qr-codes.sqlite")
    with contextlib.closing(sqlite3.connect(cache / "qr-codes.sqlite")) as db, db:
        db.execute("DELETE FROM codes")
    os.utime(cache / "qr-codes.sqlite", ns=(before.st_atime_ns, before.st_mtime_ns))
    assert os.stat(cache / "qr-codes.sqlite").st_size == before.st_size


def truncate(path: Path) -> None:
    path.write_bytes(path.read_bytes()[: len(path.read_bytes()) // 3])


def derivative(cache: Path, suffix: str) -> Path:
    return sorted((cache / "images").glob(f"*{suffix}"))[0]


DAMAGE = {
    "qr rows swapped": corrupt_qr_rows,
    "qr database truncated": lambda cache: truncate(cache / "qr-codes.sqlite"),
    "qr database garbage": lambda cache: (cache / "qr-codes.sqlite").write_bytes(os.urandom(5000)),
    "qr record garbage": lambda cache: (cache / "qr-codes.sqlite.made").write_bytes(os.urandom(60)),
    "qr rows deleted, record kept": lambda cache: delete_qr_rows(cache),
    "photo keys edited": lambda cache: (cache / "images/keys.txt").write_text(
        (cache / "images/keys.txt").read_text().replace("\t", "\t1", 1)),
    "photo keys truncated": lambda cache: truncate(cache / "images/keys.txt"),
    "photo sizes edited": lambda cache: (cache / "images/sizes.txt").write_text(
        (cache / "images/sizes.txt").read_text().replace(" 400 ", " 401 ", 1)),
    "derivative truncated": lambda cache: truncate(derivative(cache, "-400.webp")),
    "derivative replaced by another photo's": lambda cache: shutil.copyfile(
        sorted((cache / "images").glob("*-360.webp"))[-1], sorted((cache / "images").glob("*-360.webp"))[0]),
    "manifest garbage": lambda cache: (cache / "images/files.txt").write_bytes(os.urandom(300)),
    "link preview written over in place": lambda cache: written_over(sorted((cache / "previews").glob("og-*.jpg"))[0]),
    "link previews' record garbage": lambda cache: (cache / "previews/checked.txt").write_bytes(os.urandom(300)),
    "lock file garbage": lambda cache: (cache / "lock").write_bytes(b"\xff\x00 not a pid"),
    "compiled templates garbage": lambda cache: [path.write_bytes(os.urandom(200))
                                                 for path in (cache / "templates").rglob("*.cache")],
    "compiled template edited": lambda cache: edit_compiled_template(cache),
}


def written_over(path: Path) -> None:
    """Bytes in the middle of a JPEG zeroed, in place (its first and last bytes, the markers, kept): the
    published site, a hard link to it, shows the damage too."""
    data = path.read_bytes()
    with path.open("r+b") as stream:
        stream.seek(len(data) // 3)
        stream.write(bytes(len(data) // 3))


def edit_compiled_template(cache: Path) -> None:
    """Change a text the product page writes, inside its compiled code: Jinja's own check (of the
    template's source) would not see it, and every product page would say it."""
    for path in (cache / "templates").rglob("*.cache"):
        data = path.read_bytes()
        if b"breadcrumb" in data:
            path.write_bytes(data.replace(b"breadcrumb", b"BREADCRUMB"))


@pytest.mark.parametrize("damage", list(DAMAGE), ids=list(DAMAGE))
def test_a_damaged_cache_is_noticed_and_never_published(references, tmp_path, damage):
    work = tmp_path / "work"
    shutil.copytree(references["b"], work, symlinks=True)  # B built, with its cache
    assert len(list((work / ".cache/site/images").glob("*-360.webp"))) == 2
    DAMAGE[damage](work / ".cache/site")
    done = run_build(work, "--force")
    assert done.returncode == 0, done.stderr
    assert snapshot(work / "site") == references["b-site"]
