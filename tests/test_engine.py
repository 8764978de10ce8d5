"""The engine (cnnt/engine/incremental.py): a build that renders only what changed makes, byte for byte, the site a
clean build makes, after any sequence of changes; a cache it cannot trust is never used.

The differential test applies seeded random sequences of changes to a copy of the sample catalogue
(entries of every kind added, edited, renamed, withdrawn and removed; translations; photos;
templates; static files; settings; vocabularies; the build date; broken edits that fail and are then fixed), and
after each one compares the incremental build with a clean build of the same inputs. Each seed applies
every kind of change once, so each run covers the same ground in the same time."""
from __future__ import annotations

import contextlib
import datetime as dt
import difflib
import io
import multiprocessing
import os
import pickle
import random
import re
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import pytest
from conftest import BUILD_DATE, ROOT, snapshot, warm_caches
from markupsafe import Markup
from PIL import Image

import build as cli
from cnnt.content import load
from cnnt.content.errors import BuildFailed
from cnnt.content.model import Catalogue
from cnnt.contribute.removal import remove_entry
from cnnt.engine import extras, pipeline
from cnnt.engine import incremental as engine
from cnnt.engine.model import BuildOptions, BuildReport, Caches, StageTimer
from cnnt.site.search import SearchCache
from cnnt.system import gitfiles

SEEDS = (1, 2, 3)  # each applies every kind of change once, in its own order


class Work:
    """A copy of the sample catalogue, its templates, static files and settings, built incrementally
    into `site/` and cleanly into `clean/` (with the vocabularies in `vocabularies`, a copy), each
    starting with the photo derivatives, link previews and QR codes a build of the sample left
    (`conftest.warm_caches`)."""

    def __init__(self, root: Path, vocabularies: Path | None = None) -> None:
        self.root, self.vocabularies = root, vocabularies
        shutil.copytree(ROOT / "content", root / "content")
        shutil.copytree(ROOT / "templates", root / "templates")
        shutil.copytree(ROOT / "static", root / "static")
        shutil.copyfile(ROOT / "site.yaml", root / "site.yaml")
        warm_caches(root / "site", root / "clean", root / "preview")
        self.date = BUILD_DATE
        self.counter = 0

    @property
    def content(self) -> Path:
        return self.root / "content"

    def options(self, out: str, *extra: str) -> BuildOptions:
        args = cli.parse_args(["build", "--content", str(self.content), "--out", str(self.root / out),
                               "--templates", str(self.root / "templates"), "--static", str(self.root / "static"),
                               "--config", str(self.root / "site.yaml"), "--date", self.date, "--jobs", "1", *extra])
        return cli.options_from(args)

    def build(self) -> BuildReport:
        try:
            return pipeline.build(self.options("site"))
        except BuildFailed as failure:
            pytest.fail("\n".join(str(error) for error in failure.errors))

    def clean(self) -> dict[str, bytes]:
        pipeline.build(self.options("clean", "--force"))
        return snapshot(self.root / "clean")

    def fresh_name(self, stem: str) -> str:
        self.counter += 1
        return f"{stem}-{self.counter}"


def photo(rng: random.Random) -> bytes:
    stream = io.BytesIO()
    Image.new("RGB", (rng.randint(300, 500), rng.randint(200, 400)),
              (rng.randrange(256), rng.randrange(256), rng.randrange(256))).save(stream, "JPEG")
    return stream.getvalue()


def replace_file(path: Path, data: bytes) -> None:
    """As an editor or git writes a file: whole, under a new inode."""
    partial = path.with_name(path.name + ".part")
    partial.write_bytes(data)
    os.replace(partial, path)


def edit_text(path: Path, change) -> None:
    replace_file(path, change(path.read_text(encoding="utf-8")).encode("utf-8"))


def set_field(text: str, name: str, value: str) -> str:
    """Front matter `name: value`, replacing the line if there is one."""
    head, sep, body = text[4:].partition("\n---\n")
    lines, inside = [], False
    for line in head.split("\n"):
        inside = line.startswith(f"{name}:") or (inside and line.startswith((" ", "-")))
        if not inside:
            lines.append(line)
    return "---\n" + "\n".join([*lines, f"{name}: {value}"]) + sep + body


def mains(work: Work, kind: str) -> list[Path]:
    folder = work.content / kind
    found = [path for path in folder.glob("*.md") if not path.name.endswith(".en.md")]
    return sorted(found + list(folder.glob("*/index.md")))


def live(work: Work, kind: str) -> list[Path]:
    return [path for path in mains(work, kind) if "withdrawn:" not in path.read_text(encoding="utf-8")]


def slug_of(main: Path) -> str:
    return main.parent.name if main.name == "index.md" else main.name[: -len(".md")]


# -- the changes -------------------------------------------------------------------------------------

def edit_description(work: Work, rng: random.Random) -> None:
    main = rng.choice(mains(work, rng.choice(["products", "facilities", "fairs", "decisions"])))
    edit_text(main, lambda text: text.rstrip("\n") + f"\n\nThêm một câu số {rng.randrange(1000)}.\n")


def edit_summary(work: Work, rng: random.Random) -> None:
    main = rng.choice(live(work, "products"))
    edit_text(main, lambda text: set_field(text, "summary", f"Tóm tắt mới số {rng.randrange(1000)}."))


def rename_product_name(work: Work, rng: random.Random) -> None:
    main = rng.choice(live(work, "products"))
    edit_text(main, lambda text: set_field(text, "name", f"{rng.choice('ABCĐXƯ')} sản phẩm {rng.randrange(1000)}"))


def change_group(work: Work, rng: random.Random) -> None:
    main = rng.choice(live(work, "products"))
    edit_text(main, lambda text: set_field(text, "group", rng.choice(["food", "handicraft", "machinery", "other"])))


def edit_facility(work: Work, rng: random.Random) -> None:
    main = rng.choice(live(work, "facilities"))
    number = f"09{rng.randrange(10**8):08d}"
    edit_text(main, lambda text: set_field(set_field(text, "name", f"Cơ sở {rng.randrange(1000)}"),
                                           "contact", f"{{phone: {number}, zalo: {number}}}"))


def add_product(work: Work, rng: random.Random) -> None:
    facility = slug_of(rng.choice(live(work, "facilities")))
    slug = work.fresh_name("san-pham-moi")
    awards = rng.choice(["", "awards:\n  - {level: commune, year: 2025}\n", "awards:\n  - {level: provincial, year: 2024}\n"])
    text = (f"---\nname: Sản phẩm mới {slug}\nfacility: {facility}\ngroup: food\nsummary: Mới làm.\n{awards}"
            f"export_markets: [{rng.choice(['JP', 'KR', 'US'])}]\n---\nMô tả.\n")
    if rng.random() < 0.5:
        (work.content / "products" / slug).mkdir()
        replace_file(work.content / "products" / slug / "anh.jpg", photo(rng))
        replace_file(work.content / "products" / slug / "index.md",
                     text.replace("group: food\n", "group: food\nimages: [anh.jpg]\n").encode())
    else:
        replace_file(work.content / "products" / f"{slug}.md", text.encode())


def rename_product(work: Work, rng: random.Random) -> None:
    """A new file name, the old one in `aliases` (its translation and bundle move with it)."""
    main = rng.choice(live(work, "products"))
    old, new = slug_of(main), work.fresh_name(slug_of(main)[:20].rstrip("-"))
    text = main.read_text(encoding="utf-8")
    aliases = re.search(r"^aliases: \[(.*)\]$", text, re.M)
    names = [name.strip() for name in aliases.group(1).split(",")] if aliases else []
    text = set_field(text, "aliases", f"[{', '.join([*names, old])}]")
    for decision in mains(work, "decisions"):  # the centre lists it by its new name
        text_of = decision.read_text(encoding="utf-8")
        renamed = re.sub(rf"(?<=[\[ ,]){re.escape(old)}(?=[\],])", new, text_of)
        if renamed != text_of:
            replace_file(decision, renamed.encode())
    if main.name == "index.md":
        main.parent.rename(main.parent.with_name(new))
        replace_file(main.parent.with_name(new) / "index.md", text.encode())
    else:
        translation = main.with_name(f"{old}.en.md")
        if translation.is_file():
            translation.rename(main.with_name(f"{new}.en.md"))
        main.unlink()
        replace_file(main.with_name(f"{new}.md"), text.encode())


def move_unpublished_bundle(work: Work, rng: random.Random) -> None:
    """A bundle product whose address is not in the record yet (as in the preview, which records
    nothing), its folder renamed and nothing in it changed: every page listing it must link to its
    new address. (Its text is the same, so an entry's digest must count where it is.)"""
    facility = slug_of(rng.choice(live(work, "facilities")))
    slug, new = work.fresh_name("san-pham-chua-dang"), work.fresh_name("san-pham-da-doi")
    (work.content / "products" / slug).mkdir()
    replace_file(work.content / "products" / slug / "anh.jpg", photo(rng))
    replace_file(work.content / "products" / slug / "index.md",
                 (f"---\nname: Sản phẩm chưa đăng {slug}\nfacility: {facility}\ngroup: food\nimages: [anh.jpg]\n"
                  f"summary: Mới làm.\n---\nMô tả.\n").encode())
    work.build()
    record = work.content / "published-urls.txt"
    record.write_text("".join(line for line in record.read_text(encoding="utf-8").splitlines(keepends=True)
                              if slug not in line), encoding="utf-8")
    (work.content / "products" / slug).rename(work.content / "products" / new)


def withdraw(work: Work, rng: random.Random) -> None:
    main = rng.choice(live(work, "products"))
    edit_text(main, lambda text: set_field(text, "withdrawn", "{date: 2025-12-01, reason: Ngừng sản xuất}"))


def remove_added(work: Work, rng: random.Random) -> None:
    """`build.py remove` of a product this sequence added (a published sample one must be withdrawn),
    one no award decision names (`remove` refuses those, rightly: `add_decision` may have named it)."""
    decisions = "".join(decision.read_text(encoding="utf-8") for decision in mains(work, "decisions"))
    added = [main for main in mains(work, "products") if slug_of(main).startswith("san-pham-moi")
             and not re.search(rf"(?<=[\[ ,]){re.escape(slug_of(main))}(?=[\],])", decisions)]
    if not added:
        return add_product(work, rng)
    catalogue = pipeline.check(work.options("site"))
    remove_entry("product", slug_of(rng.choice(added)), catalogue, work.content, ("vi", "en"),
                 work.content / "published-urls.txt")


def translate(work: Work, rng: random.Random) -> None:
    """Add, change or take away an English translation."""
    main = rng.choice(live(work, "products"))
    translation = main.with_name("index.en.md" if main.name == "index.md" else f"{slug_of(main)}.en.md")
    if translation.is_file() and rng.random() < 0.4:
        translation.unlink()
    else:
        replace_file(translation, f"---\nname: English name {rng.randrange(1000)}\n---\nIn English.\n".encode())


def change_photo(work: Work, rng: random.Random) -> None:
    """A bundle's photo replaced by another picture, under the same name."""
    bundles = [main for main in live(work, "products") + live(work, "facilities")
               if main.name == "index.md" and "images:" in main.read_text(encoding="utf-8")]
    main = rng.choice(bundles)
    name = re.search(r"^images: \[([^,\]]+)", main.read_text(encoding="utf-8"), re.M).group(1).strip()
    replace_file(main.parent / name, photo(rng))


def edit_fair(work: Work, rng: random.Random) -> None:
    main = rng.choice(mains(work, "fairs"))
    edit_text(main, lambda text: set_field(text, "venue", f"Nhà văn hoá số {rng.randrange(100)}"))


def add_decision(work: Work, rng: random.Random) -> None:
    product = slug_of(rng.choice(live(work, "products")))
    slug = work.fresh_name("quyet-dinh")
    replace_file(work.content / "decisions" / f"{slug}.md",
                 (f"---\nnumber: \"{rng.randrange(10000)}/QĐ-UBND-{slug}\"\ndate: 2025-03-0{rng.randint(1, 9)}\n"
                  f"issuer: UBND tỉnh Cà Mau\nlevel: provincial\nproducts: [{product}]\n---\nQuyết định.\n").encode())


def edit_template(work: Work, rng: random.Random) -> None:
    edit_text(work.root / "templates" / "base.html", lambda text: text + f"{{# edit {rng.randrange(1000)} #}}\n<!-- {rng.randrange(1000)} -->\n")


def edit_static(work: Work, rng: random.Random) -> None:
    """The style sheet edited, a static file added, and one deleted (the preview kept it)."""
    static = work.root / "static"
    edit_text(static / "style.css", lambda text: text + f"\n/* {rng.randrange(1000)} */\n")
    (static / "banner").mkdir(exist_ok=True)
    replace_file(static / "banner" / f"{work.fresh_name('tet')}.js", f"// {rng.randrange(1000)}\n".encode())
    (static / "placeholder.svg").unlink(missing_ok=True)


def edit_settings(work: Work, rng: random.Random) -> None:
    edit_text(work.root / "site.yaml", lambda text: re.sub(r"per_page: \d+", f"per_page: {rng.choice([12, 24, 48])}", text))


def edit_vocabulary(work: Work, rng: random.Random) -> None:
    """A product group's English name (every page of a product of it shows it), or a new group."""
    assert work.vocabularies is not None, "a copy (the `vocabularies` fixture): the package's are never changed"
    groups = work.vocabularies / "product_groups.yaml"
    if rng.random() < 0.5:
        edit_text(groups, lambda text: re.sub(r'(handicraft: \{vi: "[^"]*", en: ")[^"]*', rf"\1Crafts {rng.randrange(1000)}", text))
    else:
        edit_text(groups, lambda text: text + f'tea{rng.randrange(1000)}: {{vi: "Chè", en: "Tea"}}\n')


def change_date(work: Work, rng: random.Random) -> None:
    work.date = rng.choice(["2026-11-22", "2026-01-02", "2027-03-04"])


CHANGES = [edit_description, edit_summary, rename_product_name, change_group, edit_facility, add_product,
           rename_product, move_unpublished_bundle, withdraw, remove_added, translate, change_photo, edit_fair,
           add_decision, edit_template, edit_static, edit_settings, edit_vocabulary, change_date]
CONTENT_CHANGES = {edit_description, edit_summary, rename_product_name, edit_facility, translate, edit_fair}


def break_and_fix(work: Work, rng: random.Random) -> None:
    """An edit with an error: the build fails and leaves the site as it was; the fix builds."""
    main = rng.choice(live(work, "products"))
    before_text, before_site = main.read_bytes(), snapshot(work.root / "site")
    edit_text(main, lambda text: set_field(text, "group", "khong-co-nhom-nay"))
    with pytest.raises(BuildFailed):
        pipeline.build(work.options("site"))
    assert snapshot(work.root / "site") == before_site
    replace_file(main, before_text)


@pytest.mark.parametrize("seed", SEEDS)
def test_random_changes_build_what_a_clean_build_builds(tmp_path, seed, vocabularies):
    rng = random.Random(seed)
    work = Work(tmp_path, vocabularies)
    work.build()
    incremental = 0
    changes = rng.sample(CHANGES, len(CHANGES))  # every kind of change, in an order of the seed's
    changes.insert(len(changes) // 2, break_and_fix)
    for step, change in enumerate(changes):
        change(work, rng)
        report = work.build()
        incremental += report.rendered < report.pages
        if change in CONTENT_CHANGES:
            assert report.clean == "" and report.rendered < report.pages, (change.__name__, report.clean)
        site, clean = snapshot(tmp_path / "site"), work.clean()
        assert site.keys() == clean.keys(), (step, change.__name__, site.keys() ^ clean.keys())
        differing = [path for path in site if site[path] != clean[path]]
        assert differing == [], (step, change.__name__, differing[:10], first_difference(site, clean, differing))
    assert incremental >= len(CONTENT_CHANGES), "content changes reuse the previous build"


# -- the preview, by the same changes -------------------------------------------------------------------

PREVIEW_SEEDS = (4,)  # (each seed some 40 clean builds: one keeps the suite's time in bounds)
MISTAKES = ("content", "template", "settings")  # a file of each kind given a mistake, then mended


def with_mistake(work: Work, rng: random.Random, kind: str) -> tuple[Path, str]:
    """A file of that kind, and its text with a mistake in it."""
    if kind == "content":
        file = rng.choice(live(work, "products"))
        return file, set_field(file.read_text(encoding="utf-8"), "group", "khong-co-nhom-nay")
    if kind == "template":
        file = work.root / "templates/product.html"
        return file, file.read_text(encoding="utf-8").replace("{% block main %}", "{% block main %}{% if %}", 1)
    file = work.root / "site.yaml"
    return file, file.read_text(encoding="utf-8").replace("per_page: ", "per_page: many # ", 1)


class Watched:
    """What the preview's file watcher would name after a change: every file and folder of the inputs
    added, removed or written since the last look; a folder added or removed alone, at times (a
    watcher may name a folder renamed and not the files in it), and at times the temporary file an
    editor saved through (gone by then)."""

    def __init__(self, work: Work, rng: random.Random) -> None:
        self.roots = [work.content, work.root / "templates", work.root / "static", work.root / "site.yaml",
                      work.vocabularies]
        self.rng, self.seen = rng, self.look()

    def look(self) -> dict[Path, tuple[int, int, int, bool]]:
        found = {}
        for root in self.roots:
            for path in [root, *root.rglob("*")] if root.is_dir() else [root]:
                info = path.stat()
                found[path] = (info.st_mtime_ns, info.st_size, info.st_ino, path.is_dir())
        return found

    def changed(self) -> list[Path]:
        now, before = self.look(), self.seen
        self.seen = now
        written = {path for path in now.keys() & before.keys() if now[path] != before[path] and not now[path][3]}
        came, went = now.keys() - before.keys(), before.keys() - now.keys()
        folders = {path for path in came if now[path][3]} | {path for path in went if before[path][3]}
        alone = self.rng.random() < 0.5
        named = written | {path for path in came | went
                           if not (alone and any(folder in path.parents for folder in folders))}
        temporary = {path.with_name(path.name + ".part") for path in written if self.rng.random() < 0.5}
        return sorted(named | temporary)


@pytest.mark.parametrize("seed", PREVIEW_SEEDS)
def test_random_changes_in_the_preview_give_what_a_clean_build_gives(tmp_path, seed, vocabularies):
    """The preview's own ways to bring the site up to date (a quick edit, pages laid out again, a
    template's renderer, settings planned again, a full build) against a clean build, after each of
    the changes the build's differential test makes, and after a mistake in an entry, a template
    or the settings, with an edit saved while it is there, then mended. As `serve` does: the watcher
    names what changed (at times two changes at once); the browser shows a page, written before its reload, two others are asked for
    before their turn, and the other pages and files follow (`finish`), at times after a second
    change saved before it, or before the rest of it."""
    from cnnt.engine.preview import Preview
    rng = random.Random(seed)
    work = Work(tmp_path, vocabularies)
    options = cli.options_from(cli.parse_args([
        "serve", "--content", str(work.content), "--out", str(tmp_path / "preview"), "--templates",
        str(tmp_path / "templates"), "--static", str(tmp_path / "static"), "--config", str(tmp_path / "site.yaml"),
        "--date", work.date, "--jobs", "1"]))
    preview, watched = Preview(options), Watched(work, rng)
    preview.rebuild()
    changes = [change for change in CHANGES if change is not change_date]  # the preview's date is fixed
    steps: list = rng.sample(changes, len(changes))
    for mistake in MISTAKES:
        steps.insert(rng.randrange(len(steps)), mistake)
    for step, change in enumerate(steps):
        viewing = [rng.choice(sorted(preview.pages))]
        if isinstance(change, str):
            file, wrong = with_mistake(work, rng, change)
            right = file.read_bytes()
            replace_file(file, wrong.encode())
            preview.rebuild(watched.changed(), viewing)
            assert [Path(error.path).name for error in preview.errors] == [file.name], (step, change)
            edit_summary(work, rng)  # saved while the mistake is there: it stays shown
            preview.rebuild(watched.changed(), viewing)
            assert file.name in [Path(error.path).name for error in preview.errors], (step, change, preview.errors)
            replace_file(file, right)
        else:
            change(work, rng)
            if rng.random() < 0.25:  # another with it, named to the same rebuild (as `git pull` brings them)
                rng.choice(changes)(work, rng)
            elif rng.random() < 0.3:  # another saved before the work after the reload, or some of it
                preview.rebuild(watched.changed(), viewing)
                if rng.random() < 0.5:
                    preview.settle()
                edit_description(work, rng)
        preview.rebuild(watched.changed(), viewing)
        assert not preview.errors, (step, change, preview.errors)
        for output in rng.sample(sorted(preview.unwritten), min(2, len(preview.unwritten))):
            preview.settle_for(output)  # pages asked for before their turn
        preview.finish()
        site = snapshot(tmp_path / "preview")
        pipeline.build(replace(options, out_dir=tmp_path / "clean", force=True))
        clean = snapshot(tmp_path / "clean")
        name = change if isinstance(change, str) else change.__name__
        assert site.keys() == clean.keys(), (step, name, "only the preview's:", sorted(site.keys() - clean.keys()),
                                             "only the clean build's:", sorted(clean.keys() - site.keys()))
        differing = [path for path in site if site[path] != clean[path]]
        assert differing == [], (step, name, differing[:10], first_difference(site, clean, differing))


def first_difference(site: dict[str, bytes], clean: dict[str, bytes], differing: list[str]) -> str:
    """The first lines that differ in the first file that does, to say what went stale."""
    mine, theirs = site[differing[0]].decode(errors="replace"), clean[differing[0]].decode(errors="replace")
    lines = list(difflib.unified_diff(theirs.splitlines(), mine.splitlines(), "clean", "incremental", lineterm="", n=1))
    return "\n".join(lines[:20])


# -- a cache that cannot be trusted ------------------------------------------------------------------

def truncated(path: Path, work: Work) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def flipped(path: Path, work: Work) -> None:
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))


def wrong_checksum(path: Path, work: Work) -> None:
    """Every pickle whole, the checksum at the end not theirs: read, and still refused."""
    data = bytearray(path.read_bytes())
    data[-1] ^= 0x01
    path.write_bytes(bytes(data))


def lengthened(path: Path, work: Work) -> None:
    """Bytes after the checksum (two writers, a copy gone wrong)."""
    path.write_bytes(path.read_bytes() + b"\x00" * 7)


def garbage(path: Path, work: Work) -> None:
    path.write_bytes(b"not a cache at all")


def rewritten(path: Path, change) -> None:
    """The cache read, changed by `change(state)`, and written back whole (its digest right)."""
    state = engine.read_state(path)
    assert state is not None
    change(state)
    path.write_bytes(engine.state_bytes(state))


def other_version(path: Path, work: Work) -> None:
    rewritten(path, lambda state: setattr(state, "code", "an older version"))


def other_content(path: Path, work: Work) -> None:
    rewritten(path, lambda state: setattr(state, "content_dir", str(work.root / "elsewhere")))


def other_site(path: Path, work: Work) -> None:
    """The output folder was rebuilt by something else (a preview, another build) since."""
    (work.root / "site" / pipeline.FINGERPRINT_FILE).write_text("preview")


def lying_signatures(path: Path, work: Work) -> None:
    """A cache that reads whole but describes another site than the one in the output folder."""
    rewritten(path, lambda state: setattr(state, "stamp", "some other build"))


def damaged_entry(path: Path, work: Work) -> None:
    """One bucket of parse results damaged inside a file whose digest is right."""
    def damage(state: engine.State) -> None:
        number, bucket = next(iter(state.buckets.items()))
        state.buckets[number] = engine.Bucket(bucket.files, b"\x80\x05not a pickle")
    rewritten(path, damage)


DAMAGES = [truncated, flipped, wrong_checksum, lengthened, garbage, other_version, other_content, other_site,
           lying_signatures, damaged_entry]
REASONS = {truncated: "no cache", flipped: "no cache", wrong_checksum: "no cache", lengthened: "no cache",
           garbage: "no cache", other_version: "another version",
           other_content: "another content folder", other_site: "not the site", lying_signatures: "not the site",
           damaged_entry: "no cache"}


@pytest.mark.parametrize("damage", DAMAGES, ids=[d.__name__ for d in DAMAGES])
def test_a_cache_that_cannot_be_trusted_gives_a_clean_build(tmp_path, damage):
    work = Work(tmp_path)
    work.build()
    cache = work.options("site").engine_file
    assert engine.read_state(cache) is not None
    # the site's pages are made wrong on purpose: only a build that trusts nothing puts them right
    (tmp_path / "site" / "index.html").write_text("stale")
    edit_summary(work, random.Random(0))
    damage(cache, work)
    report = work.build()
    assert REASONS[damage] in report.clean and report.rendered == report.pages
    assert snapshot(tmp_path / "site") == work.clean()
    after = work.build()  # and the cache it wrote is good again
    assert after.skipped


def test_an_empty_entry_folder_fails_the_next_build_as_it_fails_a_clean_one(tmp_path):
    """A bundle's folder made and its `index.md` not yet put in it (or saved elsewhere) fails a clean
    build. The next build after a good one fails the same: the folder counts among its inputs (it
    said "nothing changed"). Taken away, the site is the one before."""
    work = Work(tmp_path)
    work.build()
    before = snapshot(tmp_path / "site")
    (work.content / "products" / "san-pham-moi").mkdir()
    for options in (work.options("site"), work.options("clean", "--force")):
        with pytest.raises(BuildFailed) as failed:
            pipeline.build(options)
        assert [(error.path, error.en) for error in failed.value.errors] == \
            [(str(work.content / "products" / "san-pham-moi"), "entry folder has no `index.md` file")]
    (work.content / "products" / "san-pham-moi").rmdir()
    assert work.build().skipped and snapshot(tmp_path / "site") == before


def test_a_file_name_that_is_not_utf8_is_named_not_an_internal_error(tmp_path):
    """A name with a byte that is no UTF-8 (git and Linux allow any): the build names the file, as
    the check does, where it stopped with an internal error (its inputs' digest encoded the name)."""
    work = Work(tmp_path)
    work.build()
    bad = os.fsencode(work.content / "products") + b"/banh\xff.md"
    with open(bad, "wb") as stream:
        stream.write((ROOT / "content/products/banh-in.md").read_bytes())
    for options in (work.options("site"), work.options("clean", "--force")):
        with pytest.raises(BuildFailed) as failed:
            pipeline.build(options)
        assert [error.en.split(":")[0] for error in failed.value.errors] == ["file name `banh\udcff` is not a valid slug"]
    os.unlink(bad)
    assert work.build().skipped


def test_a_named_pipe_among_the_inputs_is_named_and_never_read(tmp_path):
    """A named pipe where an entry would be (no git checkout makes one, an accident can): the build
    after a good one names it, as a clean build and the check do. (Read for the inputs' digest, it
    held the build for ever: run in a process of its own, with a time limit.)"""
    import sys
    work = Work(tmp_path)
    work.build()
    os.mkfifo(work.content / "products" / "ong.md")
    command = [sys.executable, str(ROOT / "build.py"), "--content", str(work.content), "--out", str(tmp_path / "site"),
               "--templates", str(tmp_path / "templates"), "--static", str(tmp_path / "static"),
               "--config", str(tmp_path / "site.yaml"), "--date", BUILD_DATE]
    result = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert result.returncode == 1 and "products/ong.md: " in result.stderr and "not a regular file" in result.stderr


def test_an_edit_renders_few_pages_and_the_rest_are_linked(tmp_path):
    work = Work(tmp_path)
    work.build()
    before = (tmp_path / "site" / "404.html").stat().st_ino
    shards = search_files(tmp_path / "site", "shard-")
    edit_summary(work, random.Random(5))
    report = work.build()
    assert report.clean == "" and 0 < report.rendered < report.pages // 5, report
    assert (tmp_path / "site" / "404.html").stat().st_ino == before, "an unchanged page is the same file, linked"
    # a summary is in no product row: the search files made from the rows are linked, not written again
    assert shards and search_files(tmp_path / "site", "shard-") == shards


KEPT_FILES = ("admin/config.json", "admin/rules.json", "sitemap.xml", "data/products.csv", "data/catalogue.xlsx",
              "admin/sveltia/npm/index.js", "admin/vendor/immutable.js")


def test_files_made_from_what_an_edit_left_alone_are_linked_and_made_again_once_it_changes(tmp_path):
    """The editor's configuration (made from the entries' names), its pinned files (from the pins),
    the sitemap (from the pages and their days) and the open data (from the tables) are taken from the
    live site while what they are made from is the same, and made again as soon as it is not."""
    def inodes() -> dict[str, int]:
        return {name: (tmp_path / "site" / name).stat().st_ino for name in KEPT_FILES}

    work = Work(tmp_path)
    work.build()
    # a product of one file, so that its day is its file's (an entry's is the latest of its files')
    main = next(path for path in live(work, "products")
                if path.name != "index.md" and not path.with_name(f"{slug_of(path)}.en.md").exists())
    slug, times = slug_of(main), main.stat()
    before = inodes()
    edit_text(main, lambda text: set_field(text, "summary", "Tóm tắt mới."))
    os.utime(main, ns=(times.st_atime_ns, times.st_mtime_ns))  # the same day: no date in the sitemap changes
    assert work.build().clean == ""
    assert inodes() == before, "nothing they are made from changed: linked from the live site"

    edit_text(main, lambda text: set_field(text, "name", "Sản phẩm mới đặt tên"))
    os.utime(main, ns=(times.st_atime_ns, times.st_mtime_ns))
    work.build()
    now = inodes()
    assert now["admin/config.json"] != before["admin/config.json"] and now["sitemap.xml"] == before["sitemap.xml"]
    assert f"Sản phẩm mới đặt tên ({slug})" in (tmp_path / "site/admin/config.json").read_text(encoding="utf-8")

    day = dt.datetime(2021, 3, 4, 12, tzinfo=dt.timezone.utc).timestamp()
    os.utime(main, (day, day))  # only the entry's day changes
    edit_text(main, lambda text: text + "\n")
    os.utime(main, (day, day))
    work.build()
    assert inodes()["sitemap.xml"] != before["sitemap.xml"]
    assert f"/products/{slug}/</loc><lastmod>2021-03-04</lastmod>" in (tmp_path / "site/sitemap.xml").read_text()
    site, clean = snapshot(tmp_path / "site"), work.clean()
    assert {name: site[name] for name in KEPT_FILES} == {name: clean[name] for name in KEPT_FILES}


def search_files(site: Path, prefix: str) -> dict[str, int]:
    """The site's search files of that kind, each with its inode (its identity as a file)."""
    return {path.name: path.stat().st_ino for path in (site / "search").glob(f"{prefix}*")}


def test_an_edit_pickles_again_only_the_bucket_of_its_entry(tmp_path):
    work = Work(tmp_path)
    work.build()
    cache = work.options("site").engine_file
    before = engine.read_state(cache)
    edited = live(work, "products")[0]
    edit_text(edited, lambda text: set_field(text, "summary", "Một dòng mới · A new line"))
    work.build()
    after = engine.read_state(cache)
    assert before is not None and after is not None and before.buckets.keys() == after.buckets.keys()
    changed = {number for number, bucket in after.buckets.items() if bucket != before.buckets[number]}
    assert changed == {engine.bucket_of(str(edited))}
    assert [file for file, _ in after.buckets[engine.bucket_of(str(edited))].files].count(str(edited)) == 1
    # every entry is in the bucket its file names, and the buckets read back as the entries
    entries = engine.unpacked(after.buckets)
    assert all(engine.bucket_of(file) == number for number, bucket in after.buckets.items() for file, _ in bucket.files)
    assert entries[str(edited)][1][0].summary.vi == "Một dòng mới · A new line"
    assert len(entries) == sum(len(bucket.files) for bucket in after.buckets.values()) > 20


def test_a_build_lets_go_of_the_buckets_pickles_and_copies_them_from_the_last_cache_file(tmp_path):
    """Held through the build, the pickles were 88 MB at 50k products. Once unpickled they are let go;
    the next cache file copies them from the last one, or, when that file is not the one read any
    more, pickles the results again."""
    work = Work(tmp_path)
    work.build()
    cache = work.options("site").engine_file
    state = engine.read_state(cache)
    assert state is not None and state.buckets
    blobs = {number: bucket.blob for number, bucket in state.buckets.items()}
    reuse = engine.reusable(state, Path(state.content_dir), state.stamp, state.load_key, state.page_key)
    assert reuse.entries and reuse.buckets.keys() == blobs.keys()
    assert all(bucket.blob is None and bucket.stored is not None for bucket in reuse.buckets.values())
    assert reuse.previous is not None and not reuse.previous.buckets

    def written() -> dict[int, bytes | None]:
        stream = io.BytesIO()
        engine.write_state(stream, state, engine.buckets_of(reuse.entries, reuse.buckets, reuse.unpickled))
        target = tmp_path / "next.pickle"
        target.write_bytes(stream.getvalue())
        again = engine.read_state(target)
        assert again is not None and engine.unpacked(again.buckets).keys() == reuse.entries.keys()
        return {number: bucket.blob for number, bucket in again.buckets.items()}

    assert written() == blobs  # copied as they were
    cache.write_bytes(engine.state_bytes(engine.State(**{**vars(state), "made": {"x": ("y", ())}})))  # another file
    assert all(bucket.stored.read() is None for bucket in reuse.buckets.values() if bucket.stored)
    assert written() == {number: engine.pickled_results(results) for number, results in reuse.unpickled.items()}
    cache.unlink()
    assert written() == {number: engine.pickled_results(results) for number, results in reuse.unpickled.items()}


def test_signed_pages_packed_compare_as_their_dicts_would():
    """The signatures a build keeps for the next (`Signed`) are packed, and compared where they lie when
    the paths are the same (or the first or last of them); the answer is a dict's, whatever changed."""
    rng = random.Random(7)
    names = ["index.html", "sản-phẩm/bánh/index.html", "vcard/\udcff.vcf", "en/x/index.html"]
    for _ in range(300):
        paths = [f"{number}/{rng.choice(names)}" for number in range(rng.randrange(30))]
        old = {path: engine.key(rng.random()) for path in paths}
        change = rng.randrange(6)
        new = {**{f"new/{number}": engine.key(number) for number in range(change == 4 and 3)},
               **{path: old[path] for path in (
                   paths[:rng.randrange(len(paths) + 1)] if change == 1 else
                   paths[rng.randrange(len(paths) + 1):] if change == 2 else
                   rng.sample(paths, len(paths)) if change == 3 else [] if change == 5 else paths)}}
        for path in rng.sample(list(new), min(len(new), rng.randrange(3))):
            new[path] = engine.key(rng.random())
        record, new_record = engine.Signed.of(old), engine.Signed.of(new)
        assert record.unpacked() == old and new_record.unpacked() == new
        assert record.same_in(new) == [old.get(path) == signature for path, signature in new.items()]
    for wrong in ({"a\0b": engine.key(1)}, {"a": "not a digest"}, {"a": engine.key(1).upper()},
                  {"a": "  " + engine.key(1)[2:], "b": engine.key(2) + "00"}):
        with pytest.raises(ValueError):
            engine.Signed.of(wrong)
    assert engine.Paths.of([]).unpacked() == [] and engine.Paths.of(["", "é"]).unpacked() == ["", "é"]


def test_paths_are_packed_and_unpacked_a_piece_at_a_time(monkeypatch):
    monkeypatch.setattr(engine, "PATHS_A_PIECE", 3)
    rng = random.Random(3)
    for _ in range(1000):
        paths = [rng.choice(["", "a", "bé/index.html", "c/\udcff.jpg", "x" * rng.randrange(300)])
                 for _ in range(rng.randrange(40))]
        packed = engine.Paths.of(paths)
        assert packed.count == len(paths) and list(packed) == packed.unpacked() == paths
    with pytest.raises(ValueError):
        engine.Paths.of(["a", "b\0c"])


def test_the_cache_is_written_without_its_pickle_ever_whole_in_memory(tmp_path):
    """At 50k products the state's pickle is some 250 MB (the search files, every page's signature):
    pickled into memory and then written, it was the peak of a cold build's memory. It is pickled
    straight into the file, and reads back the same."""
    import tracemalloc

    from cnnt.system.write import write_atomic
    work = Work(tmp_path)
    work.build()
    state = engine.read_state(work.options("site").engine_file)
    assert state is not None
    state.signatures = engine.Signed.of({**state.signatures.unpacked(), **{  # 20 MB
        f"page-{number}/{'x' * 10_000}/index.html": f"{number:032x}" for number in range(2000)}})
    size = len(engine.state_bytes(state))
    target = tmp_path / "written.pickle"
    tracemalloc.start()
    try:
        write_atomic(target, lambda stream: engine.write_state(stream, state, state.buckets.items()), durable=False)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert size > 20_000_000 and peak < size / 10, (size, peak)
    again = engine.read_state(target)
    assert again is not None and again.signatures == state.signatures and again.buckets == state.buckets
    assert target.read_bytes() == engine.state_bytes(state)


def test_the_cache_is_read_without_its_file_ever_whole_in_memory(tmp_path):
    """Read whole and then unpickled, the file was held twice beside what it holds (118 MB at 10k
    products). It is unpickled straight from the file, its checksum worked out on the way."""
    import tracemalloc
    work = Work(tmp_path)
    work.build()
    cache = work.options("site").engine_file
    state = engine.read_state(cache)
    assert state is not None
    state.signatures = engine.Signed.of({**state.signatures.unpacked(), **{  # 20 MB
        f"page-{number}/{'x' * 10_000}/index.html": f"{number:032x}" for number in range(2000)}})
    cache.write_bytes(engine.state_bytes(state))
    size = cache.stat().st_size
    tracemalloc.start()
    try:
        again = engine.read_state(cache)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert again is not None and again.signatures == state.signatures and again.buckets == state.buckets
    # what it holds (the signatures, 20 MB) and little more: read whole first, the peak was 3 times that
    assert size > 20_000_000 and peak < size * 1.3, (size, peak)


def test_a_render_worker_killed_leaves_its_pages_to_the_build(tmp_path, monkeypatch, capsys):
    """A page worker ended by the kernel (memory gone) left the build waiting for ever; its pages are
    now rendered by the build itself, which says so, and the site is whole."""
    work, parent, once = Work(tmp_path), os.getpid(), tmp_path / "killed"
    real_write = pipeline.write_bytes

    def write_or_die(root, path, content):  # in a page worker: the first one to write dies
        if os.getpid() != parent and not once.exists():
            once.touch()
            os.kill(os.getpid(), signal.SIGKILL)
        return real_write(root, path, content)

    monkeypatch.setattr(pipeline, "write_bytes", write_or_die)
    report = pipeline.build(work.options("site", "--jobs", "2"))
    assert once.exists() and report.rendered == report.pages
    assert "a worker process ended unexpectedly (signal 9" in capsys.readouterr().err
    monkeypatch.undo()
    assert snapshot(tmp_path / "site") == work.clean()


def test_a_build_lets_go_of_the_cards_once_its_pages_are_rendered(tmp_path, monkeypatch):
    """The cards and contact buttons kept for pages (some 200 MB at 50k products) are dropped
    before the files written after the pages (the open data, the engine's cache), which need none,
    add to the build's memory."""
    kept: list[int] = []
    write_data = extras.write_data

    def counting(site, *args, **kwargs):
        kept.append(len(site.renderer._reusable))
        return write_data(site, *args, **kwargs)

    monkeypatch.setattr(pipeline, "write_data", counting)
    monkeypatch.setattr(pipeline.parallel, "MIN_ITEMS_PER_WORKER", 1)  # the cards rendered ahead, as at scale
    work = Work(tmp_path)
    work.build()
    site = tmp_path / "site"
    assert kept == [0] and (site / "index.html").is_file() and 'class="card-title"' in (site / "index.html").read_text()


def test_the_search_head_and_shards_are_kept_packed_and_unpacked_only_to_be_written(tmp_path, monkeypatch):
    """The head and shards (28 MB of JSON at 10k products), held from the search stage to the end
    of a build and kept in the engine's cache, are kept compressed; the site gets their bytes. An
    edit that leaves them as they were links them from the live site and never unpacks one."""
    from cnnt.site import search
    work = Work(tmp_path)
    work.build()
    state = engine.read_state(work.options("site").engine_file)
    assert state is not None
    cache = engine.read_search_cache(work.options("site").engine_file.parent, state.search)
    kept = [file for _, head, shards in cache.split.values() for file in (head, *shards)]
    assert len(kept) > 4 and all(file.packed for file in kept)
    assert sum(len(file.stored) for file in kept) < sum(len(file.content()) for file in kept)
    for file in kept:
        assert (tmp_path / "site" / file.path).read_bytes() == file.content()
    unpacked: list[str] = []
    content = search.SearchFile.content

    def counting(file: search.SearchFile) -> bytes:
        if file.packed:
            unpacked.append(file.path)
        return content(file)

    monkeypatch.setattr(search.SearchFile, "content", counting)
    edit_text(live(work, "products")[0], lambda text: set_field(text, "summary", "Một dòng mới · A new line"))
    work.build()
    assert unpacked == [] and search_files(tmp_path / "site", "shard-")


def test_force_builds_everything_anew(tmp_path):
    work = Work(tmp_path)
    work.build()
    heads = search_files(tmp_path / "site", "head-")
    report = pipeline.build(work.options("site", "--force"))
    assert report.clean == "--force" and report.rendered == report.pages
    again = search_files(tmp_path / "site", "head-")  # the same files by name, but none taken from the old site
    assert again.keys() == heads.keys() and not set(again.values()) & set(heads.values())


# -- the spare: the replaced site, brought up to date by the next build --------------------------------

def spare_of(work: Work) -> Path:
    return work.root / ".site.spare"


def test_the_replaced_site_is_the_next_staging_folder(tmp_path):
    """The third build starts from the first build's folders (kept as the spare) instead of making
    a folder for each page: its page folders are the first site's, and what it left out is gone."""
    work = Work(tmp_path)
    work.build()
    folders = {path.relative_to(tmp_path / "site"): path.stat().st_ino
               for path in (tmp_path / "site" / "products").iterdir()}
    add_product(work, random.Random(3))
    work.build()
    assert spare_of(work).is_dir() and not (spare_of(work) / "products" / "san-pham-moi-1").exists()
    rename_product(work, random.Random(4))
    edit_summary(work, random.Random(5))
    report = work.build()
    assert report.clean == "" and report.rendered < report.pages
    kept = {path.relative_to(tmp_path / "site"): path.stat().st_ino for path in (tmp_path / "site" / "products").iterdir()}
    assert {name for name in kept if kept[name] == folders.get(name)}, "the first site's folders were reused"
    assert snapshot(tmp_path / "site") == work.clean()  # the renamed product's old folder went, with its files
    assert not [path for path in tmp_path.iterdir() if path.name.startswith(".site.") and path.name != ".site.spare"]


@pytest.mark.parametrize("damage", ["stamp", "missing", "force"])
def test_a_spare_that_cannot_be_trusted_is_not_used(tmp_path, damage):
    work = Work(tmp_path)
    work.build()
    edit_summary(work, random.Random(1))
    work.build()
    # a wrong page in the spare (a file of its own: most are hard links the live site shares), which
    # only a build that does not trust the spare leaves out
    (spare_of(work) / "404.html").unlink()
    (spare_of(work) / "404.html").write_text("stale")
    if damage == "stamp":
        (spare_of(work) / pipeline.FINGERPRINT_FILE).write_text("some other build")
    elif damage == "missing":
        shutil.rmtree(spare_of(work))
    if damage == "force":
        pipeline.build(work.options("site", "--force"))
        edit_summary(work, random.Random(2))  # the spare is the site the forced build replaced, not described
    edit_summary(work, random.Random(3))
    report = work.build()
    assert report.rendered < report.pages

def damage_in_place(path: Path, change) -> None:
    """As a stray program or a hand in the cache writes a file: in place (with a new time), so that every
    hard link to it (the live site's, the spare's) sees the damage."""
    data = path.read_bytes()
    with path.open("r+b") as stream:
        stream.truncate(0)
        stream.write(change(data))


DAMAGED = {"emptied": lambda data: b"", "cut short": lambda data: data[:len(data) // 2],
           "written over": lambda data: data[:100] + bytes(len(data) - 102) + data[-2:]}


@pytest.mark.parametrize("how", DAMAGED)
@pytest.mark.parametrize("cached", ["photo derivative", "link preview"])
def test_a_damaged_cached_image_is_made_again_and_published_though_the_spare_has_its_name(tmp_path, cached, how):
    """Photo derivatives and link previews are published as hard links to the cache's files, so damage to
    one reaches the live site and the spare the next build starts from. The build finds the cached file
    changed and makes it again (as a new file); the spare's copy has the same name (a digest of what
    the image shows, not of its bytes) but must not stay. (The link previews' "written over" keeps a
    JPEG's first and last bytes, which alone no longer say that one is whole.)"""
    work = Work(tmp_path)
    work.build()
    edit_summary(work, random.Random(1))
    work.build()  # the site it replaced is the spare: the next staging folder
    folder = work.options("site").cache_dir if cached == "photo derivative" else work.options("site").previews_dir
    name = sorted(path.name for path in folder.glob("*.jpg"))[0]
    damage_in_place(folder / name, DAMAGED[how])
    assert (tmp_path / "site" / "media" / name).read_bytes() == (folder / name).read_bytes(), "a hard link"
    edit_summary(work, random.Random(2))
    work.build()
    assert snapshot(tmp_path / "site") == work.clean()

    assert snapshot(tmp_path / "site") == work.clean()



@pytest.mark.parametrize("cached", ["photo derivative", "link preview"])
def test_a_damaged_cached_image_is_published_anew_though_nothing_else_changed(tmp_path, cached):
    """The live site shares the cached images' files: with every input as it was, a build must still not
    leave an image damaged in place published ("nothing changed" looks at the records of the images,
    a stat each, and builds when one differs)."""
    work = Work(tmp_path)
    work.build()
    folder = work.options("site").cache_dir if cached == "photo derivative" else work.options("site").previews_dir
    name = sorted(path.name for path in folder.glob("*.jpg"))[0]
    assert work.build().skipped
    damage_in_place(folder / name, DAMAGED["written over"])
    report = work.build()
    assert not report.skipped and report.rendered == 0, report
    assert snapshot(tmp_path / "site") == work.clean()
    assert work.build().skipped


def damaged_at_random(path: Path, rng: random.Random) -> str:
    """One of five kinds of damage, in place and at a random place, with a new time (see `damage_in_place`)."""
    def flip(data: bytes) -> bytes:
        at = rng.randrange(len(data))
        return data[:at] + bytes([data[at] ^ (1 << rng.randrange(8))]) + data[at + 1:]

    def zero(data: bytes) -> bytes:
        at = rng.randrange(len(data))
        return data[:at] + bytes(len(data[at:at + 512])) + data[at + 512:]

    kinds = {"a bit flipped": flip, "zeroed": zero, "cut short": lambda data: data[:rng.randrange(len(data))],
             "lengthened": lambda data: data + bytes(rng.randrange(256) for _ in range(rng.randint(1, 64))),
             "emptied": lambda data: b""}
    kind = rng.choice(sorted(kinds)) if path.stat().st_size else "lengthened"
    before = path.stat().st_mtime_ns
    damage_in_place(path, kinds[kind])
    os.utime(path, ns=(before + 10**9, before + 10**9))  # a time of its own, whatever the clock's tick
    return kind


@pytest.mark.parametrize("seed", range(4))
def test_any_cache_file_damaged_in_place_gives_the_clean_build_s_site(tmp_path, seed):
    """Whatever file of `.cache/` is damaged, and however, the next build's site is a clean build's:
    with an edit or without, starting from the spare. (Bounded by count: four seeds; a sweep of 40 found
    the damaged images that `link_all` and the link previews' record now catch.)"""
    rng = random.Random(seed)
    work = Work(tmp_path)
    work.build()
    edit_summary(work, rng)
    work.build()
    folder = work.options("site").engine_file.parent
    files = sorted(path for path in folder.rglob("*") if path.is_file() and path.name != "lock")
    # half the draws among the images (most of the files), half among the rest
    images = [path for path in files if path.parent.name in ("images", "previews")]
    victim = rng.choice(images if rng.random() < 0.5 else [path for path in files if path not in images])
    kind = damaged_at_random(victim, rng)
    if rng.random() < 0.7:
        edit_summary(work, rng)
    work.build()
    assert snapshot(tmp_path / "site") == work.clean(), f"{victim.relative_to(folder)}: {kind}"

def checked_out_again(work: Work) -> None:
    """The inputs as a deploy runner's fresh checkout has them: the same paths and bytes, but every
    file new (another inode, the time of the checkout)."""
    for name in ("content", "templates", "static", "site.yaml"):
        path, copy = work.root / name, work.root / f"{name}.checkout"
        if path.is_dir():
            shutil.copytree(path, copy, copy_function=shutil.copyfile)
            shutil.rmtree(path)
        else:
            shutil.copyfile(path, copy)
        os.replace(copy, path)


def test_a_deploy_runner_with_the_restored_cache_renders_only_what_changed(tmp_path, monkeypatch):
    """The deploy workflow starts on a new machine: a fresh checkout, and the output, the spare and
    `.cache/` restored from an archive (actions/cache: a tar, which keeps hard links and file times
    but not inodes). The engine must still trust what it kept: a build there renders only the pages an
    edit changed, and gives the clean build's site. (Stamping files by inode or change time would
    quietly make every deploy a clean build while every local figure stayed good.)"""
    import tarfile
    work = Work(tmp_path)
    work.build()
    edit_summary(work, random.Random(1))
    work.build()  # the live site and the spare now share most files, as after any merged pull request
    kept = ["site", ".site.spare", ".cache"]
    archive = tmp_path.parent / f"{tmp_path.name}-cache.tar"
    with tarfile.open(archive, "w") as tar:
        for name in kept:
            tar.add(tmp_path / name, arcname=name)
    for name in kept:
        shutil.rmtree(tmp_path / name)
    checked_out_again(work)
    with tarfile.open(archive) as tar:
        tar.extractall(tmp_path, filter="tar")
    archive.unlink()
    assert (tmp_path / "site" / "404.html").stat().st_nlink == 2, "the archive kept the hard links"

    parsed: list[str] = []
    parse = load._parse_entry
    monkeypatch.setattr(load, "_parse_entry", lambda job: parsed.append(job[1].slug) or parse(job))
    unchanged = work.build()
    assert unchanged.skipped or unchanged.rendered == 0, unchanged
    edit_summary(work, random.Random(2))
    report = work.build()
    assert report.clean == "" and 0 < report.rendered < report.pages // 5, report
    # Text files are known by their content. A bundle's photos are known by size, time and inode,
    # which a checkout renews, or by git's names of them: outside a repository, as here, those entries
    # are read again (in one, they are not: see the next test).
    bundles = len(list(work.content.glob("*/*/index.md")))
    assert 0 < len(parsed) <= bundles + 1 < len(mains(work, "products")) + len(mains(work, "facilities")), parsed
    monkeypatch.undo()
    assert snapshot(tmp_path / "site") == work.clean()


GIT = ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", "-c", "commit.gpgsign=false"]


def cloned_again(work: Work) -> None:
    """`work`'s repository cloned anew at the same path, as a deploy runner checks it out, with the
    output, spare and cache of the builds before (as the deploy workflow restores them)."""
    clone = work.root.with_name(work.root.name + "-clone")
    subprocess.run([*GIT, "clone", "-q", str(work.root), str(clone)], check=True, capture_output=True)
    for name in ("site", ".site.spare", ".cache"):
        if (work.root / name).exists():
            os.replace(work.root / name, clone / name)
    old = work.root.with_name(work.root.name + "-old")
    os.replace(work.root, old)
    os.replace(clone, work.root)
    shutil.rmtree(old)


def test_a_fresh_clone_reads_again_only_what_changed_its_photos_named_by_git(tmp_path, monkeypatch):
    """A bundle's photos are stamped by size, time and inode, which a checkout renews; on a deploy
    runner git names them by their content instead, so a bundle whose photos git names as the last
    build did is not read again (the first deploy records the names, the next ones use them)."""
    work = Work(tmp_path / "repo")
    (work.root / ".gitignore").write_text("/site/\n/.site.spare/\n/.cache/\n/clean/\n")
    for command in (["init", "-q"], ["add", "-A"], ["commit", "-qm", "catalogue"]):
        subprocess.run([*GIT, *command], cwd=work.root, check=True, capture_output=True)
    work.build()
    monkeypatch.setattr(gitfiles, "ASK_GIT_BYTES", 0)  # (the sample's photos are small: ask git whatever their size)
    parsed: list[str] = []
    parse = load._parse_entry
    monkeypatch.setattr(load, "_parse_entry", lambda job: parsed.append(job[1].slug) or parse(job))
    bundles = {path.parent.name for path in work.content.glob("*/*/index.md")}
    cloned_again(work)
    work.build()
    assert set(parsed) == bundles, "the first clone's build reads the bundles, and notes what git names"
    single = next(path for path in mains(work, "products") if path.name != "index.md")
    edit_text(single, lambda text: set_field(text, "summary", "Sửa tại chỗ, không hỏi git."))
    parsed.clear()
    work.build()  # the bundles' stamps, unchanged, keep what git named
    assert parsed == [slug_of(single)], parsed
    subprocess.run([*GIT, "commit", "-qam", "a summary"], cwd=work.root, check=True, capture_output=True)
    parsed.clear()
    cloned_again(work)
    edited = mains(work, "products")[0]
    edit_text(edited, lambda text: set_field(text, "summary", "Tóm tắt mới sau khi tải lại."))
    pickled: list[list] = []
    pickle_results = engine.pickled_results
    monkeypatch.setattr(engine, "pickled_results", lambda results: pickled.append(results) or pickle_results(results))
    monkeypatch.setattr(gitfiles, "ASK_GIT_FILES", 1)
    read, asked = [], []
    read_digest, ask = load._read_digest, gitfiles._ask
    monkeypatch.setattr(load, "_read_digest", lambda path: read.append(path) or read_digest(path))
    monkeypatch.setattr(gitfiles, "_ask", lambda files: asked.append(files) or ask(files))
    report = work.build()
    assert parsed == [slug_of(edited)] and 0 < report.rendered < report.pages // 5, parsed
    # the content's text files' digests are git's names for them, but the edited file's (the few
    # templates and static files are read); git is asked once, by the input fingerprint, for every
    # file of the content, photos too
    content = [path for path in read if path.startswith(str(work.content))]
    assert content == [str(edited)] and len(asked) == 1, (content, asked)
    # every bundle's stamp is new, but only the edited entry's bucket holds a new result: the others'
    # pickles are kept as they were
    assert len(pickled) == 1 and any(result[0].slug == slug_of(edited) for result in pickled[0] if result[0]), pickled
    monkeypatch.undo()
    assert snapshot(work.root / "site") == work.clean()


def test_writing_into_a_reused_folder_never_changes_the_live_site(tmp_path):
    """The spare shares most files with the live site as hard links: every way the build writes a
    file replaces it, so the live site's copy stays as it was until the swap."""
    from cnnt.system import write
    live, spare, static = tmp_path / "live", tmp_path / "spare", tmp_path / "static"
    for folder in (live, spare, static):
        folder.mkdir()
    names = ["page.html", "linked.html", "style.css"]
    for name in names:
        (live / name).write_text(f"live {name}")
        os.link(live / name, spare / name)
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "linked.html").write_text("other linked.html")
    (static / "style.css").write_text("new style.css")
    with write.recording(spare) as written:
        write.write_bytes(spare, "page.html", b"new page.html")
        assert write.link_into(tmp_path / "other", spare, "linked.html")
        write.copy_tree(static, spare)
    assert [(live / name).read_text() for name in names] == [f"live {name}" for name in names]
    assert [(spare / name).read_text() for name in names] == ["new page.html", "other linked.html", "new style.css"]
    assert written == set(names)
    write.remove_files(spare, ["page.html"])
    assert (live / "page.html").read_text() == "live page.html" and not (spare / "page.html").exists()


@pytest.mark.parametrize("exchange", [True, False], ids=["renameat2", "two renames"])
def test_the_replaced_site_becomes_the_spare_and_the_spare_the_next_staging_folder(tmp_path, monkeypatch, exchange):
    from cnnt.system import write
    if not exchange:  # a system without an atomic exchange
        monkeypatch.setattr(write, "_exchange", lambda first, second: False)
    out = tmp_path / "site"
    for number in (1, 2, 3):
        with write.atomic_output(out, reuse_spare=number == 3, keep_spare=True) as staging:
            if number == 3:  # the first site, to bring up to date
                assert (staging / "index.html").read_text() == "site 1"
            write.write_bytes(staging, "index.html", f"site {number}".encode())
        assert (out / "index.html").read_text() == f"site {number}"
        if number > 1:
            assert (write.spare_folder(out) / "index.html").read_text() == f"site {number - 1}"
    with write.atomic_output(out) as staging:  # a build that keeps no spare deletes the one there
        write.write_bytes(staging, "index.html", b"site 4")
    assert not write.spare_folder(out).exists()
    assert [path.name for path in tmp_path.iterdir() if path.name != "site" and not path.name.startswith(".site.old-")] == []


def test_a_build_reads_each_content_file_once_and_the_preview_what_the_watcher_names(tmp_path):
    """Within a build (`digests_kept`) the entry stamps take the digests the input fingerprint made;
    a file written again in place, at the same size and given its old time back, is read again (its
    change time is new). The preview keeps its digests for hours and reads again each file the
    watcher names, or one in a folder it names."""
    from cnnt.content import load
    path = tmp_path / "a.md"
    path.write_text("one", encoding="utf-8")
    stat = os.stat(path)
    reads = []
    real_open = open

    def counting_open(file, *args, **kwargs):
        reads.append(file)
        return real_open(file, *args, **kwargs)

    with load.digests_kept():
        first = load.text_digest(str(path), stat)
        load.__dict__["open"] = counting_open
        try:
            assert load.text_digest(str(path), os.stat(path)) == first and reads == []
            path.write_text("three", encoding="utf-8")  # another size: read again
            assert load.text_digest(str(path), os.stat(path)) != first and len(reads) == 1
        finally:
            del load.__dict__["open"]
    path.write_text("one", encoding="utf-8")
    stat = os.stat(path)
    assert load.text_digest(str(path), stat) == first
    path.write_text("two", encoding="utf-8")  # in place, at the same size and time as "one"
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert (os.stat(path).st_ino, os.stat(path).st_mtime_ns) == (stat.st_ino, stat.st_mtime_ns)
    assert load.text_digest(str(path), os.stat(path)) != first

    with load.digests_kept():
        before = load.text_digest(str(path), os.stat(path))
        path.write_text("six", encoding="utf-8")  # within one build too
        os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
        assert load.text_digest(str(path), os.stat(path)) != before

    memo: load.DigestMemo = {}
    relative = os.path.relpath(path)  # as a build names it; the watcher names files absolutely
    with load.digests_kept(memo):
        six = load.text_digest(relative, os.stat(path))
    # the memo answers for a file not named, as long as its marks are the same: faked here, as a file
    # written again within the clock's tick of the change time it had would be
    memo[relative] = (load.marks(os.stat(path)), "as read before")
    load.__dict__["open"] = counting_open
    try:
        with load.digests_kept(memo):
            assert load.text_digest(relative, os.stat(path)) == "as read before"
        load.forget_digests(memo, [tmp_path / "b.md"])
        with load.digests_kept(memo):
            assert load.text_digest(relative, os.stat(path)) == "as read before"
        load.forget_digests(memo, [tmp_path])
        with load.digests_kept(memo):
            assert load.text_digest(relative, os.stat(path)) == six
    finally:
        del load.__dict__["open"]
    assert reads == [str(path), relative]


def test_a_build_reads_again_only_the_text_files_changed_since_the_last(tmp_path, monkeypatch):
    """The digests a build made are kept for the next one (`.cache/<out>/digests.pickle`), but only
    those of files that had not changed for a while when it read them (`SETTLING_NS`); a file
    written since has another change time, whatever its size and time say."""
    from cnnt.content import load
    monkeypatch.setattr(engine, "SETTLING_NS", 0)  # every file written before the build counts as settled
    work = Work(tmp_path)
    work.build()
    digests = work.options("site").digests_file
    kept = engine.read_digests(digests)
    edited = live(work, "products")[0]
    assert str(edited) in kept and len(kept) > 40
    reads: list[str] = []
    real_open = open

    def counting_open(file, *args, **kwargs):
        reads.append(str(file))
        return real_open(file, *args, **kwargs)

    # written in place at the same size, given its old time back: only its change time tells
    stat = edited.stat()
    text = edited.read_text(encoding="utf-8")
    at = max(i for i, char in enumerate(text) if char.isascii() and char.isalpha())  # in the description
    changed = text[:at] + ("q" if text[at] != "q" else "z") + text[at + 1:]
    assert changed != text and len(changed.encode()) == len(text.encode())
    with open(edited, "r+b") as stream:
        stream.write(changed.encode("utf-8"))
    os.utime(edited, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    monkeypatch.setitem(load.__dict__, "open", counting_open)
    report = work.build()
    monkeypatch.delitem(load.__dict__, "open")
    assert reads == [str(edited)] and 0 < report.rendered < report.pages
    assert snapshot(tmp_path / "site") == work.clean()


def test_digests_of_files_changed_just_before_a_build_are_not_kept(tmp_path):
    """A file written within `SETTLING_NS` of the build may be written again within the same tick of
    its file system's clock, and look unchanged: its digest is read again next time."""
    work = Work(tmp_path)
    edited = live(work, "products")[0]
    edit_text(edited, lambda text: set_field(text, "summary", "Vừa sửa · Just edited"))
    work.build()
    kept = engine.read_digests(work.options("site").digests_file)
    assert str(edited) not in kept
    assert all(marks[3] < edited.stat().st_ctime_ns - engine.SETTLING_NS for marks, _ in kept.values())


@pytest.mark.parametrize("damage", ["missing", "truncated", "flipped", "garbage", "not a dict"])
def test_damaged_digests_are_not_used(tmp_path, monkeypatch, damage):
    """Digests that do not read whole are none: every file is read again, and the site is right."""
    monkeypatch.setattr(engine, "SETTLING_NS", 0)
    work = Work(tmp_path)
    work.build()
    digests = work.options("site").digests_file
    good = engine.read_digests(digests)
    # lies that only a damaged file could tell: every file's digest given as another's
    lying = {path: (marks, "0" * 32) for path, (marks, _) in good.items()}
    raw = engine.digests_file(lying)
    damaged = {"missing": b"", "truncated": raw[:-7], "flipped": raw[:60] + bytes([raw[60] ^ 1]) + raw[61:],
               "garbage": b"not a cache at all", "not a dict": engine.digests_file(["a list"])}[damage]
    if damage == "missing":
        digests.unlink()
    else:
        digests.write_bytes(damaged)
    assert engine.read_digests(digests) == {}
    edit_summary(work, random.Random(2))
    work.build()
    assert snapshot(tmp_path / "site") == work.clean()
    assert len(engine.read_digests(digests)) > 40  # written whole again


def test_signatures_from_worker_processes_are_the_ones_one_process_makes(tmp_path, monkeypatch):
    """A build works out page signatures in forked workers (`page_signatures`), the preview in its
    own process: the two must agree on every page, or a build after another would render for nothing
    or, worse, keep a page it should have rendered."""
    work = Work(tmp_path)
    options = work.options("site")
    config = pipeline.load_config(options.config_file, options.build_date, options.display_root)
    caches = Caches()
    plan = pipeline.plan(options, config, StageTimer(), caches)
    describer = engine.Describer(plan.catalogue, plan.photos, engine.entry_tokens(caches.entries))
    assert len(plan.pages) >= 2 * pipeline.parallel.MIN_ITEMS_PER_WORKER  # enough for workers
    real, noted = engine.Describer.describe, tmp_path / "pids"

    def noting_pid(self, page, shown=None):  # in the worker: its process id, where the test can read it
        with open(noted, "a") as stream:
            stream.write(f"{os.getpid()}\n")
        return real(self, page, shown)

    monkeypatch.setattr(engine.Describer, "describe", noting_pid)
    in_workers = describer.page_signatures(plan.pages, jobs=2)
    monkeypatch.undo()
    pids = noted.read_text().split()
    assert len(pids) == len(plan.pages) and str(os.getpid()) not in pids  # every page described by a worker
    assert list(in_workers) == [page.output for page in plan.pages]
    assert in_workers == {output: signature for output, (signature, _) in describer.signatures(plan.pages).items()}


def test_the_pages_are_signed_while_the_other_files_are_written(tmp_path, monkeypatch):
    """The build's own process writes the static files, search data, sitemap, feeds and photos while
    workers sign the pages (`Describer.signing`), and only then waits for the signatures: done one
    after the other, they took a third of a second more of a one-entry build at 10k products. The
    workers begin as soon as the pages are laid out, before the search data is in (its two pages are
    signed by the build itself). Not while a worker makes the open data, as in a forced build: there
    it cost half a second."""
    work, events, pids = Work(tmp_path), [], tmp_path / "pids"
    pipeline.build(work.options("site", "--jobs", "2"))
    edit_text(live(work, "products")[0], lambda text: set_field(text, "summary", "Một câu mới. A new sentence."))
    real_signing, real_files, real_describe = engine.Describer.signing, extras.write_site_files, engine.Describer.describe
    real_search_page = pipeline.search_page

    @contextlib.contextmanager
    def signing(self, pages, jobs=None):
        with real_signing(self, pages, jobs) as signed:
            events.append("workers begin signing")

            def waited():  # the workers were handed the pages at once, not when their work is asked for
                at_work = time.monotonic() + 20
                while not (pids.exists() and pids.read_text()) and time.monotonic() < at_work:
                    time.sleep(0.01)
                events.append("signatures waited for" if pids.exists() else "signatures waited for, no worker begun")
                return signed()
            yield waited

    def write_site_files(*args, **kwargs):
        events.append("other files written")
        return real_files(*args, **kwargs)

    def search_page(lang, index):
        events.append("search data in")
        return real_search_page(lang, index)

    def describe(self, page, shown=None):  # in a worker: its process id, where the test can read it
        with open(pids, "a") as stream:
            stream.write(f"{os.getpid()}\n")
        return real_describe(self, page, shown)

    monkeypatch.setattr(engine.Describer, "signing", signing)
    monkeypatch.setattr(extras, "write_site_files", write_site_files)
    monkeypatch.setattr(engine.Describer, "describe", describe)
    monkeypatch.setattr(pipeline, "search_page", search_page)
    report = pipeline.build(work.options("site", "--jobs", "2"))
    assert events == ["workers begin signing", "search data in", "search data in", "other files written",
                      "signatures waited for"]
    described = pids.read_text().split()
    signers = set(described) - {str(os.getpid())}
    assert len(described) == report.pages and signers and described.count(str(os.getpid())) == 2  # the search pages
    assert report.rendered and not report.clean  # an edit build, which rendered its entry's pages
    # beside a worker making the open data (a forced build makes it), the files are written after the pages
    events.clear()
    pipeline.build(work.options("forced", "--jobs", "2", "--force"))
    assert events == ["search data in", "search data in", "workers begin signing", "signatures waited for",
                      "other files written"]
    monkeypatch.undo()
    clean = work.clean()
    assert snapshot(tmp_path / "site") == clean and snapshot(tmp_path / "forced") == clean


# -- the open-data files, made in a worker while the build goes on -------------------------------------

def data_files_of(site: Path) -> dict[str, bytes]:
    return {path: content for path, content in snapshot(site).items()
            if path.startswith("data") or path.endswith(".xlsx")}


def makers_of(noted: Path) -> list[str]:
    """The process ids that made the open-data files since the last call (see `noting_makers`)."""
    pids = noted.read_text().split() if noted.exists() else []
    noted.unlink(missing_ok=True)
    return pids


def noting_makers(monkeypatch, noted: Path) -> None:
    real = extras.each_open_data_file

    def noting_pid(*args):  # in the worker: its process id, where the test can read it
        with open(noted, "a") as stream:
            stream.write(f"{os.getpid()}\n")
        yield from real(*args)

    monkeypatch.setattr(extras, "each_open_data_file", noting_pid)


def test_the_open_data_files_are_made_in_a_worker_and_equal_those_made_in_process(tmp_path, monkeypatch):
    work, noted = Work(tmp_path), tmp_path / "pids"
    noting_makers(monkeypatch, noted)
    pipeline.build(work.options("site", "--jobs", "2"))
    made = makers_of(noted)
    assert len(made) == 1 and made != [str(os.getpid())], "made once, by a worker"
    assert len(data_files_of(tmp_path / "site")) >= 8
    assert snapshot(tmp_path / "site") == work.clean()  # the clean build (--jobs 1) makes them in-process
    assert makers_of(noted) == [str(os.getpid())]
    edit_summary(work, random.Random(5))  # in no table: the last build's files are kept, and nothing makes them
    pipeline.build(work.options("site", "--jobs", "2"))
    assert makers_of(noted) == []
    rename_product_name(work, random.Random(6))  # in the tables: made again, by a worker
    pipeline.build(work.options("site", "--jobs", "2"))
    made = makers_of(noted)
    assert len(made) == 1 and made != [str(os.getpid())]
    assert snapshot(tmp_path / "site") == work.clean()


def test_the_open_data_files_are_written_one_at_a_time(tmp_path, monkeypatch):
    """Each open-data file is written before the next is made: all held at once, they were 90 MB at
    50,000 products, in the worker that makes them (the largest process of a build that edits a name)."""
    work, events = Work(tmp_path), []
    for name in ("to_csv", "to_json", "to_xlsx", "catalogue_description"):
        real = getattr(extras.exports, name)
        monkeypatch.setattr(extras.exports, name,
                            lambda *args, real=real, name=name: events.append(("made", name)) or real(*args))
    real_write = extras.write_bytes
    monkeypatch.setattr(extras, "write_bytes", lambda root, path, content: events.append(("written", path))
                        or real_write(root, path, content))
    options = work.options("site", "--jobs", "1")
    config = pipeline.load_config(options.config_file, options.build_date, options.display_root)
    site = pipeline.plan(options, config, StageTimer(), Caches())
    assert site.tables is not None
    paths = extras.open_data_into(tmp_path / "data", extras.Tables(site.catalogue, config), config, options.build_date)
    made = [index for index, (what, _) in enumerate(events) if what == "made"]
    assert len(made) >= 8 and all(events[index + 1][0] == "written" for index in made), events
    assert [path for what, path in events if what == "written"] == list(paths)
    assert extras.open_data_files(site.tables, config, options.build_date) == {
        path: (tmp_path / "data" / path).read_bytes() for path in paths}


def test_the_data_worker_sends_back_paths_and_its_folder_is_cleared(tmp_path, monkeypatch):
    """The worker writes the open-data files where the build links them from, and sends back only
    their paths: the files themselves, sent through the pipe, were held twice by the build (its peak
    of memory at 50k products). Its folder does not outlive the build."""
    work, answers = Work(tmp_path), []
    real_result = pipeline.parallel.Later.result

    def noting_answer(self):
        answer = real_result(self)
        if self._function is extras.open_data_into:
            answers.append(answer)
        return answer

    monkeypatch.setattr(pipeline.parallel.Later, "result", noting_answer)
    options = work.options("site", "--jobs", "2")
    pipeline.build(options)
    assert len(answers) == 1 and answers[0], "the worker made the files"
    assert all(isinstance(path, str) for path in answers[0]), "paths, not contents"
    site = snapshot(tmp_path / "site")
    assert {"data/products.csv", "data/catalogue.xlsx"} <= set(answers[0]) <= set(site)
    assert not options.open_data_dir.exists()
    assert site == work.clean()


def test_a_build_lets_go_of_the_open_data_tables_and_makes_them_again_when_asked(tmp_path, monkeypatch):
    """Once digested and counted, and the worker that writes their files forked, a build's plan holds
    no tables (17 MB at 10k products). Asked for again (the worker failed, or the live site lost the
    files the last build made), they are made again from the catalogue, and the files are the same."""
    work, parent, made_here = Work(tmp_path), os.getpid(), []
    real_rows, real_plan = extras.exports.table_rows, pipeline.plan
    plans = []

    def noting_rows(*args):
        if os.getpid() == parent:
            made_here.append(1)
        return real_rows(*args)

    def noting_plan(*args, **kwargs):
        plans.append(real_plan(*args, **kwargs))
        return plans[-1]

    monkeypatch.setattr(extras.exports, "table_rows", noting_rows)
    monkeypatch.setattr(pipeline, "plan", noting_plan)
    pipeline.build(work.options("site", "--jobs", "2"))
    assert plans[-1].tables is None, "let go"
    assert len(made_here) == 1, "made once: the worker had them"
    live = tmp_path / "site" / "data" / "products.csv"
    live.unlink()  # the files the last build made, missing from the live site
    edit_summary(work, random.Random(8))  # in no table: the files would have been kept
    made_here.clear()
    pipeline.build(work.options("site", "--jobs", "2"))
    assert len(made_here) == 2, "made again to write the files"
    assert live.is_file() and snapshot(tmp_path / "site") == work.clean()
    real_into = extras.open_data_into

    def dying_in_worker(folder, tables, *args):
        if os.getpid() != parent:
            os._exit(9)
        return real_into(folder, tables, *args)

    monkeypatch.setattr(extras, "open_data_into", dying_in_worker)
    rename_product_name(work, random.Random(9))  # in the tables: a worker makes the files, and dies
    made_here.clear()
    pipeline.build(work.options("site", "--jobs", "2"))
    assert len(made_here) == 2, "made again by the build, after the worker died"
    assert snapshot(tmp_path / "site") == work.clean()


def noting_search_makers(monkeypatch, noted: Path, fault: str = "") -> None:
    """The search data's maker notes its process id; `fault`: in a worker, it `dies` or `raises`."""
    real, parent = pipeline._search_indexes, os.getpid()
    monkeypatch.setattr(pipeline, "SEARCH_WORKER_PRODUCTS", 1)  # the sample's 37 products are few

    def noting_pid(*args):
        with open(noted, "a") as stream:
            stream.write(f"{os.getpid()}\n")
        if os.getpid() != parent and fault == "dies":
            os._exit(9)
        if os.getpid() != parent and fault == "raises":
            raise MemoryError("in the worker only")
        return real(*args)

    monkeypatch.setattr(pipeline, "_search_indexes", noting_pid)


def test_the_search_cache_is_a_file_only_the_search_worker_reads(tmp_path, monkeypatch):
    """A build's own process never holds the search cache (37 MB of objects at 10k products): the
    worker making the search data reads the last build's file and writes the next, which the engine's
    cache names; the old one is then removed. A file that is not what its name says gives an empty
    cache, and the same site."""
    monkeypatch.setattr(pipeline, "SEARCH_WORKER_PRODUCTS", 1)  # the sample's 37 products are few
    work, parent, noted = Work(tmp_path), str(os.getpid()), tmp_path / "pids"
    folder = work.options("site").engine_file.parent
    real = engine.read_search_cache

    def noting(*args):  # (in the worker: its process id, where the test can read it)
        with open(noted, "a") as stream:
            stream.write(f"{os.getpid()}\n")
        return real(*args)

    monkeypatch.setattr(engine, "read_search_cache", noting)
    pipeline.build(work.options("site", "--jobs", "2"))
    first = sorted(path.name for path in folder.glob("search-cache-*.pickle"))
    edit_summary(work, random.Random(3))
    noted.unlink()
    pipeline.build(work.options("site", "--jobs", "2"))
    read_by = makers_of(noted)
    assert read_by and parent not in read_by, "read by the worker only"
    kept = sorted(path.name for path in folder.glob("search-cache-*.pickle"))
    assert len(first) == len(kept) == 1 and kept != first, "the next build's file replaced the last one's"
    assert kept_search_cache(tmp_path / "site")[0], "with the words' postings"
    assert snapshot(tmp_path / "site") == work.clean()
    (folder / kept[0]).write_bytes(pickle.dumps(SearchCache()) + b"!")  # not the bytes its name says
    assert not real(folder, kept[0]).postings and not real(folder, "").postings
    rename_product_name(work, random.Random(8))
    pipeline.build(work.options("site", "--jobs", "2"))
    assert snapshot(tmp_path / "site") == work.clean()


def kept_search_cache(site: Path) -> tuple:
    """What of the search cache the engine's cache file keeps for the next build, comparably."""
    folder = site.parent / ".cache" / site.name
    state = engine.read_state(folder / "engine.pickle")
    assert state is not None
    cache = engine.read_search_cache(folder, state.search)
    return cache.postings, cache.split, cache._words


def test_the_search_data_is_made_in_a_worker_and_equals_what_one_process_makes(tmp_path, monkeypatch):
    """A build makes the search data in a worker while it lays out the pages, beside the worker making
    the open data or not. What the worker sends back is what one process makes: the search files,
    and the cache the next build starts from."""
    work, noted = Work(tmp_path), tmp_path / "pids"
    noting_search_makers(monkeypatch, noted)
    # the first build and a new name make the open data; a summary is in no table
    for change, in_worker in ((None, True), (edit_summary, True), (rename_product_name, True), (edit_summary, True)):
        if change is not None:
            change(work, random.Random(21))
        pipeline.build(work.options("site", "--jobs", "2"))
        made = makers_of(noted)
        assert len(made) == 1 and (made != [str(os.getpid())]) == in_worker, (change, made)
        assert snapshot(tmp_path / "site") == work.clean()  # the clean build (--jobs 1) makes it in-process
        assert makers_of(noted) == [str(os.getpid())]
        assert kept_search_cache(tmp_path / "site") == kept_search_cache(tmp_path / "clean")


@pytest.mark.parametrize("fault", ["dies", "raises"])
def test_a_search_worker_that_fails_leaves_the_work_to_the_build(tmp_path, monkeypatch, fault):
    work, noted = Work(tmp_path), tmp_path / "pids"
    pipeline.build(work.options("site", "--jobs", "2"))
    noting_search_makers(monkeypatch, noted, fault)
    edit_summary(work, random.Random(22))
    pipeline.build(work.options("site", "--jobs", "2"))
    made = makers_of(noted)
    assert len(made) == 2 and made[1] == str(os.getpid()), "tried by a worker, then made by the build"
    assert snapshot(tmp_path / "site") == work.clean()
    assert kept_search_cache(tmp_path / "site") == kept_search_cache(tmp_path / "clean")
    assert not multiprocessing.active_children(), "no worker is left behind"


def test_tree_keys_are_the_same_for_equal_trees_however_their_objects_are_shared():
    """The open-data tables' digest (`tree_key`) says whether their files can be kept: a table made
    from entries read from the cache shares its strings otherwise than one made from entries parsed
    again, and must still give the same digest."""
    name = "".join(["Nước ", "mắm Cà Mau"])  # one object, in two rows
    shared = {"products": [{"name": name, "day": dt.date(2026, 1, 2)}, {"name": name, "day": dt.date(2026, 1, 2)}]}
    copied = {"products": [{"name": "".join(["Nước ", "mắm Cà Mau"]), "day": dt.date(2026, 1, 2)},
                           {"name": "".join(["Nước ", "mắm Cà Mau"]), "day": dt.date(2026, 1, 2)}]}
    assert engine.tree_key("page key", shared) == engine.tree_key("page key", copied)
    different = {"products": [{"name": name, "day": dt.date(2026, 1, 2)}, {"name": name, "day": dt.date(2026, 1, 3)}]}
    assert engine.tree_key("page key", shared) != engine.tree_key("page key", different)
    assert engine.tree_key("page key", shared) != engine.tree_key("another key", shared)


def test_keys_are_the_same_for_equal_parts_however_their_strings_are_shared_or_interned():
    """Page signatures (`key`) are compared between builds and made in several processes: a digest
    that followed how strings are shared (marshal's references) or interned would render pages again
    that did not change, or, worse, differ between a worker and its parent."""
    name = "".join(["Nước ", "mắm Cà Mau"])
    shared = ("product.html", (name, name, sys.intern("ascii-slug")), 3, 1.5, None, True, [name])
    copied = ("product.html", ("".join(["Nước ", "mắm Cà Mau"]), "".join(["Nước ", "mắm Cà Mau"]),
                               "".join(["ascii-", "slug"])), 3, 1.5, None, True, ["".join(["Nước ", "mắm Cà Mau"])])
    assert engine.key(*shared) == engine.key(*copied)
    assert engine.key(*shared) != engine.key(*shared[:-1])
    assert engine.key(1) != engine.key(True) != engine.key("1") != engine.key(1.0)
    # what marshal cannot write (a date, a str of another class) is digested from its repr, apart
    assert engine.key(dt.date(2026, 1, 2)) == engine.key(dt.date(2026, 1, 2)) != engine.key(dt.date(2026, 1, 3))
    assert engine.key(Markup("<b>")) != engine.key("<b>")
    assert engine.key("r" + repr((Markup("<b>"),))) != engine.key(Markup("<b>"))


def test_the_pages_dates_are_read_in_a_worker_and_equal_those_read_in_process(tmp_path, monkeypatch):
    """The sitemap's and feeds' dates (`page_dates`: git's or the files' own) are read by a worker
    begun once the catalogue is checked (`Ahead`); one that fails leaves them to the build."""
    work, noted, parent = Work(tmp_path), tmp_path / "pids", os.getpid()
    real = extras.page_dates
    failing = []

    def noting_pid(*args):
        with open(noted, "a") as stream:
            stream.write(f"{os.getpid()}\n")
        if failing and os.getpid() != parent:
            raise OSError("a worker that fails")
        return real(*args)

    monkeypatch.setattr(extras, "page_dates", noting_pid)
    pipeline.build(work.options("site", "--jobs", "2"))
    made = makers_of(noted)
    assert len(made) == 1 and made != [str(parent)], "read once, by a worker"
    assert "<lastmod>" in (tmp_path / "site" / "sitemap.xml").read_text()
    assert snapshot(tmp_path / "site") == work.clean()  # the clean build (--jobs 1) reads them in-process
    assert makers_of(noted) == [str(parent)]
    failing.append(True)
    edit_summary(work, random.Random(7))
    pipeline.build(work.options("site", "--jobs", "2"))
    made = makers_of(noted)
    assert len(made) == 2 and made[-1] == str(parent), "the worker failed: the build read them itself"
    assert snapshot(tmp_path / "site") == work.clean()


def test_a_build_reads_no_link_preview_the_last_build_found_whole(tmp_path, monkeypatch):
    """The engine's cache keeps the link previews found whole, by size, time and a CRC of their bytes:
    the next build checks each by one stat instead of reading it. One changed since is read, and drawn
    again."""
    work = Work(tmp_path)
    work.build()
    folder = work.options("site").previews_dir
    images = sorted(folder.glob("og-*.jpg"))
    assert len(images) >= 5
    opened: list[str] = []
    real_open = os.open
    monkeypatch.setattr(os, "open", lambda path, *args, **kwargs: opened.append(str(path)) or real_open(path, *args, **kwargs))
    edit_summary(work, random.Random(12))
    work.build()
    assert [path for path in opened if "/og-" in path] == [], "none read again"
    whole = images[2].read_bytes()
    cut = images[2].with_suffix(".cut")  # replaced by a file cut short, as a crash while drawing it could leave
    cut.write_bytes(whole[:-100])        # (not written in place: the published site shares its data)
    os.replace(cut, images[2])
    opened.clear()
    edit_summary(work, random.Random(13))
    work.build()
    assert [path for path in opened if "/og-" in path] == [str(images[2])]
    assert images[2].read_bytes() == whole, "drawn again"
    assert snapshot(tmp_path / "site") == work.clean()


@pytest.mark.parametrize("fault", ["dies", "raises"])
def test_a_data_worker_that_fails_leaves_the_work_to_the_build(tmp_path, monkeypatch, fault):
    """A worker killed (out of memory, say) or failing: the build makes the files itself, and an
    error the work raises is raised by the build, not lost in the worker or waited on for ever."""
    work = Work(tmp_path)
    real, parent = extras.each_open_data_file, os.getpid()

    def failing_in_worker(*args):
        if os.getpid() != parent:
            if fault == "dies":
                os._exit(9)
            raise MemoryError("in the worker only")
        yield from real(*args)

    monkeypatch.setattr(extras, "each_open_data_file", failing_in_worker)
    pipeline.build(work.options("site", "--jobs", "2"))
    assert snapshot(tmp_path / "site") == work.clean()

    def failing_everywhere(*args):
        raise ValueError("a broken table")

    monkeypatch.setattr(extras, "each_open_data_file", failing_everywhere)
    rename_product_name(work, random.Random(7))
    with pytest.raises(ValueError, match="a broken table"):
        pipeline.build(work.options("site", "--jobs", "2"))
    assert not multiprocessing.active_children(), "no worker is left behind"


def test_pages_signed_in_any_order_get_the_signatures_of_one_by_one(tmp_path):
    """A signing describer keeps only the last page's context walked (pages sharing one come one after
    another in `signing`'s order): kept for every context, the walks were 20 to 45 MB more in each
    signing worker at 50,000 products. Out of that order, or with contexts that only look alike, each page
    still gets its own signature."""
    work = Work(tmp_path)
    options = work.options("site")
    config = pipeline.load_config(options.config_file, options.build_date, options.display_root)
    caches = Caches()
    plan = pipeline.plan(options, config, StageTimer(), caches)
    tokens = engine.entry_tokens(caches.entries)
    one_by_one = {page.output: signature for page in plan.pages for signature in
                  [engine.Describer(plan.catalogue, plan.photos, tokens).describe(page)]}
    shuffled = list(plan.pages)
    random.Random(7).shuffle(shuffled)
    describer = engine.Describer(plan.catalogue, plan.photos, tokens)
    assert {page.output: describer.describe(page) for page in shuffled} == one_by_one
    product = next(page for page in plan.pages if page.template == "product.html" and page.context["other_products"])
    changed = replace(product, context={**product.context, "other_products": []})  # the same page, another context
    assert describer.describe(product) != describer.describe(changed) != describer.describe(product)
    assert len(set(one_by_one.values())) == len(one_by_one)


def test_a_listing_s_pagination_is_signed_by_a_digest_of_its_paths(tmp_path):
    """A page of a listing of n pages names all n paths: spelt out in each page's signature, a listing
    held n² paths (an A–Z list of 50,000 products, 1,000 pages, about 60 MB in a signing worker). The
    digest still changes when a path does."""
    from cnnt.site.pages import Page, Pagination
    describer = engine.Describer(Catalogue({}, {}, dt.date(2026, 1, 1), {}), {}, {})
    paths = tuple(f"a-z/page/{number}/" for number in range(1, 1001))

    def signed(pagination: Pagination) -> str:
        return describer.describe(Page(pagination.paths[pagination.number - 1], "vi", "listing.html",
                                       {"pagination": pagination}))

    part = describer._walker(None)(Pagination(3, len(paths), paths))
    assert len(repr(part)) < 100
    assert signed(Pagination(3, 1000, paths)) == signed(Pagination(3, 1000, tuple(paths)))
    assert signed(Pagination(3, 1000, paths)) != signed(Pagination(3, 1000, paths[:-1] + ("a-z/page/x/",)))
    assert signed(Pagination(3, 1000, paths)) != signed(Pagination(3, 999, paths[:-1]))


def test_a_build_lets_go_of_its_entries_files_once_loaded_and_the_preview_keeps_them(tmp_path, monkeypatch):
    """The preview parses an edited entry again from the files it keeps for it (`EntryFiles`); a build
    needs them only while it loads (their paths: 42 MB at 50,000 products), and its next build
    still reads only what changed."""
    seen: list[dict] = []
    real_plan = pipeline.plan

    def noting(options, config, timer, caches=None, *args, **kwargs):
        seen.append(caches.entries if caches else {})
        return real_plan(options, config, timer, caches, *args, **kwargs)

    monkeypatch.setattr(pipeline, "plan", noting)
    work = Work(tmp_path)
    work.build()
    assert seen[0] and all(files is None for _, _, files in seen[0].values())
    edit_summary(work, random.Random(3))
    report = work.build()
    assert 0 < report.rendered < report.pages
    assert snapshot(tmp_path / "site") == work.clean()
    options = work.options("site")
    caches = Caches()
    real_plan(options, pipeline.load_config(options.config_file, options.build_date, options.display_root),
              StageTimer(), caches)
    assert caches.entries and all(isinstance(files, load.EntryFiles) for _, _, files in caches.entries.values())
