#!/usr/bin/env python3
"""Deploy benchmark: what a merged pull request costs the deploy workflow, which `benchmark.py` does
not show. Prints figures; never fails on speed.

    python bench/deploy.py                                   # 10k products, 2,000 with a photo, 5,000 commits
    python bench/deploy.py --products 1000 --bundles 200 --commits 500 --edits 3
    python bench/deploy.py --code ../other-checkout          # the same, built by another checkout's build.py

The catalogue is the synthetic one of `benchmark.py` (bench/generate.py), with `--bundles` of its
products made bundles holding a photo of their own, in a git repository with `--commits` commits of
history (one to three products' summaries changed in each, written with `git fast-import`). It is
built once. Then, `--edits` times: one product's summary is changed and committed, the repository
is cloned anew at the same path (as a runner checks it out: every file new, with its own inode and
time), and the site is built with the output, spare and `.cache/` of the build before (which the
workflow restores from actions/cache). Each build is timed in a fresh process.

The clone's index is written a second after its files and refreshed, as a checkout of many files
gives: files written within the same second as git's index are "racily clean", and git must read
them to know them (in a small clone, all of them). Everything lives in bench/out/deploy-*/; run two
checkouts' builds one after the other, several times (`--code`), to compare them on a machine whose
speed drifts.
"""
from __future__ import annotations

import argparse
import random
import re
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

from PIL import Image

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(BENCH))
from benchmark import OUT, content_for, run_build  # noqa: E402

GIT = ["git", "-c", "user.name=bench", "-c", "user.email=bench@example.com", "-c", "commit.gpgsign=false"]
EDITED = re.compile(rb"(?m)^summary: .*$")


def git(top: Path, *args: str, stdin: bytes | None = None) -> str:
    return subprocess.run([*GIT, *args], cwd=top, check=True, capture_output=True, input=stdin).stdout.decode()


def make_repository(products: int, bundles: int, commits: int) -> Path:
    """The catalogue in its own repository, made once for these numbers."""
    folder = OUT / f"deploy-{products}-{bundles}-{commits}"
    repo = folder / "repo"
    if (folder / ".made").is_file():
        return repo
    shutil.rmtree(folder, ignore_errors=True)
    shutil.copytree(content_for(products), repo)
    (repo / ".generated").unlink(missing_ok=True)
    make_bundles(repo, bundles)
    git(repo, "init", "-q")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "catalogue")
    git(repo, "fast-import", "--quiet", stdin=history(repo, commits))
    git(repo, "checkout", "-q", "-f")
    (folder / ".made").write_text("")
    return repo


def make_bundles(repo: Path, count: int) -> None:
    """The first `count` products as bundles, each with a 640×480 photo of its own (about 150 KB)."""
    rng = random.Random(1)
    products = sorted(path for path in (repo / "products").glob("*.md") if not path.name.endswith(".en.md"))
    for path in products[:count]:
        folder = path.with_suffix("")
        folder.mkdir()
        text = path.read_text(encoding="utf-8")
        (folder / "index.md").write_text("---\nimages: [anh.jpg]\n" + text.removeprefix("---\n"), encoding="utf-8")
        path.unlink()
        english = path.with_name(f"{path.stem}.en.md")
        if english.exists():
            english.rename(folder / "index.en.md")
        photo = Image.effect_noise((640, 480), 60).convert("RGB")
        photo.paste((rng.randrange(256), rng.randrange(256), rng.randrange(256)), (0, 0, 200, 200))
        photo.save(folder / "anh.jpg", "JPEG", quality=85)


def history(repo: Path, commits: int) -> bytes:
    """`git fast-import` input: `commits` commits after HEAD, an hour apart, each changing the summary
    of one to three products."""
    rng = random.Random(2)
    mains = sorted(path.relative_to(repo).as_posix() for path in (repo / "products").rglob("*.md")
                   if not path.name.endswith(".en.md"))
    texts: dict[str, bytes] = {}
    head = git(repo, "rev-parse", "HEAD").strip()
    branch = git(repo, "symbolic-ref", "HEAD").strip()
    when = 1_700_000_000
    stream = []
    for number in range(commits):
        when += 3600
        message = f"edit {number}".encode()
        stream.append(f"commit {branch}\ncommitter bench <bench@example.com> {when} +0000\n"
                      f"data {len(message)}\n".encode() + message + b"\n")
        if number == 0:
            stream.append(f"from {head}\n".encode())
        for name in rng.sample(mains, rng.randint(1, 3)):
            text = texts.get(name) or (repo / name).read_bytes()
            text = texts[name] = EDITED.sub(f"summary: Bản sửa số {number}.".encode(), text, count=1)
            stream.append(f"M 100644 inline {name}\ndata {len(text)}\n".encode() + text + b"\n")
    return b"".join(stream)


def cloned_again(repo: Path) -> None:
    """The repository cloned anew at its own path, its index written a second after its files."""
    old = repo.with_name("repo-before")
    shutil.rmtree(old, ignore_errors=True)
    repo.rename(old)
    subprocess.run(["git", "clone", "-q", str(old), str(repo)], check=True, capture_output=True)
    shutil.rmtree(old)
    time.sleep(1.1)
    git(repo, "update-index", "-q", "--really-refresh")


def deploys(repo: Path, site: Path, edits: int, code: Path) -> list[dict]:
    runs = []
    main = sorted(path for path in (repo / "products").rglob("*.md") if not path.name.endswith(".en.md"))[-1]
    for number in range(edits):
        main.write_bytes(EDITED.sub(f"summary: Bản sửa khi xuất bản {number} {time.time()}.".encode(),
                                    main.read_bytes(), count=1))
        git(repo, "commit", "-qam", f"deploy {number}")
        cloned_again(repo)
        runs.append(run_build(repo, site, force=False, code=code))
    return runs


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--products", type=int, default=10_000)
    parser.add_argument("--bundles", type=int, default=2_000, help="products made bundles with a photo")
    parser.add_argument("--commits", type=int, default=5_000, help="commits of history")
    parser.add_argument("--edits", type=int, default=3, help="deploys timed, each of one edit")
    parser.add_argument("--code", type=Path, default=ROOT, help="the checkout whose build.py builds")
    args = parser.parse_args()
    repo = make_repository(args.products, args.bundles, args.commits)
    site = repo.parent / f"site-{args.code.resolve().name}"
    if not site.is_dir():
        first = run_build(repo, site, force=False, code=args.code)
        print(f"first build {first['wall']:.2f} s (photo derivatives, link previews and QR codes made)", flush=True)
    runs = deploys(repo, site, args.edits, args.code)
    walls = [run["wall"] for run in runs]
    print(f"{args.products} products, {args.bundles} with a photo, {args.commits} commits; code: {args.code}")
    print(f"  a deploy of one edit  {statistics.median(walls):.2f} s median ({', '.join(f'{w:.2f}' for w in walls)}), "
          f"{statistics.median(run['rendered'] for run in runs):.0f} pages rendered")
    stages = {stage: statistics.median(run["stages"].get(stage, 0) for run in runs) for stage in runs[0]["stages"]}
    print("    (" + ", ".join(f"{stage} {seconds:.2f} s" for stage, seconds in stages.items()) + ")")
    return 0


if __name__ == "__main__":
    sys.exit(main())
