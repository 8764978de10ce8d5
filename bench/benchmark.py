#!/usr/bin/env python3
"""Build-speed benchmark: prints figures, compares them with bench/baseline.json; never fails on speed.

    python bench/benchmark.py                      # 1k and 10k products, 3 runs each
    python bench/benchmark.py --sizes 1000 --repeat 1
    python bench/benchmark.py --save-baseline      # record this machine's figures as the baseline
    python bench/benchmark.py --sizes 10000 --repeat 5 --vs ../old   # cold builds, alternated with another checkout's

For each size it generates a synthetic catalogue (bench/generate.py) once, then times, in a fresh
process each time:
  first      nothing at all from before: no output, no cache (every QR code is made);
  cold       no previous output, with the cache of QR codes and photo derivatives that every build
             after the first has (kept in .cache/ beside the output; the deploy workflow keeps it
             with actions/cache): parse, validate, render and write everything;
  unchanged  the same inputs again: the build sees nothing changed and leaves the output as is;
  edited     one product's summary changed (three edits one after another, see `edit_and_build`): the
             engine re-reads that entry and renders only the pages that show it, into the spare
             (cnnt/engine/incremental.py);
  renamed    one product's name changed, keeping its place in the listings (three edits likewise): a
             name is also in the search data and in the open-data tables, whose files are made again.
Wall time is the median of the runs; CPU time (user + system, all processes) shows how much of it
was work rather than waiting. Peak memory is the largest resident size of any one process of a
build (its own or a worker's), for each kind of build. Output goes to bench/out/runs/ (inside the
project: on some machines /tmp is a much slower file system).

The machine's own speed is printed beside the figures: a fixed piece of pure-Python work, timed
before and after each size. On a shared virtual machine it varies with the neighbours (by up to 1.8
times within an hour on the development machine); a build that is slower together with it was
slowed by the machine, not by the code.

`--vs CHECKOUT` compares cold builds instead: this checkout's and CHECKOUT's (another clone or a git
worktree, at the code to compare with; its own build.py builds), each with the QR codes and link
previews its own first build made (untimed), run in turn, A B then B A, so that a machine whose
speed drifts slows both alike; the ratio is taken pair by pair, and its median printed with its spread.

Every timed build writes to a folder that never existed, and the outputs are deleted only at the
end, because ext4 will not reuse an inode freed in the last 1 to 5 minutes: a build started just
after deleting a 30,000-file site spent 12 s more in the kernel looking for free inodes. For the
same reason a run starts only once 5 minutes have passed since the last run deleted its outputs.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import timeit
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
OUT = BENCH / "out"
RUNS = OUT / "runs"
DELETED_AT = OUT / ".runs-deleted-at"
INODE_RECENCY_S = 300  # ext4's longest "recently deleted" window (RECENTCY_DIRTY in fs/ext4/ialloc.c)
BASELINE = BENCH / "baseline.json"
BUILD_DATE = "2026-11-22"
GENERATOR_VERSION = "2"  # bump when generate.py changes what it writes


def content_for(size: int) -> Path:
    """The synthetic catalogue of `size` products, generated once and reused."""
    folder = OUT / f"content-{size}"
    marker = folder / ".generated"
    if marker.is_file() and marker.read_text() == GENERATOR_VERSION:
        return folder
    shutil.rmtree(folder, ignore_errors=True)
    subprocess.run([sys.executable, str(BENCH / "generate.py"), str(size), str(folder)], check=True)
    marker.write_text(GENERATOR_VERSION)
    return folder


def run_build(content: Path, site: Path, force: bool, code: Path = ROOT) -> dict:
    """One build in a fresh process: wall and CPU seconds, peak memory, pages, whether it was skipped.
    `code`: the checkout whose build.py builds (deploy.py compares two)."""
    command = [sys.executable, str(code / "build.py"), "--content", str(content), "--out", str(site),
               "--date", BUILD_DATE, "--timings"] + (["--force"] if force else [])
    compile_code(code)
    with tempfile.TemporaryFile() as errors:
        started = time.perf_counter()
        build = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=errors, cwd=code)
        output = build.stdout.read().decode() if build.stdout else ""
        # Waited for here rather than by subprocess: `wait4` gives this build's own usage, its workers'
        # within it (the largest process's peak, not the largest of every build run so far)
        _, status, usage = os.wait4(build.pid, 0)
        wall = time.perf_counter() - started
        build.returncode = os.waitstatus_to_exitcode(status)
        errors.seek(0)
        if build.returncode != 0:
            sys.exit(f"build failed:\n{errors.read().decode(errors='replace')[-3000:]}")
    pages = re.search(r"\| (\d+) pages", output)
    rendered = re.search(r"\| (\d+) changed pages? rendered", output)
    stages = dict(re.findall(r"(\w+) ([\d.]+) s", output.splitlines()[-1])) if "load" in output else {}
    return {
        "wall": wall,
        "cpu": usage.ru_utime + usage.ru_stime,
        "peak_mb": usage.ru_maxrss / 1024,
        "pages": int(pages.group(1)) if pages else 0,
        "skipped": "Nothing changed" in output,
        "rendered": int(rendered.group(1)) if rendered else int(pages.group(1)) if pages else 0,
        "stages": {stage: float(seconds) for stage, seconds in stages.items()},
    }


def compile_code(code: Path) -> None:
    """Write the package's compiled bytecode (`__pycache__`), untimed, as a checkout's first run does.
    Every run after reads it. Where the environment sets PYTHONDONTWRITEBYTECODE, as this development
    machine's does, no run wrote it: every timed build compiled the whole package from source first,
    some 80 ms of `python build.py --help` (0.43–0.57 s against 0.38–0.45 s, a loaded hour), which
    a user pays once."""
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(code / "cnnt")], check=True,
                   stdout=subprocess.DEVNULL)


def settle(limit: float = 180) -> None:
    """Wait until the disk is idle, so a timed run does not pay for the one before it.

    Deleting a 10k-product site leaves the kernel discarding blocks for tens of seconds after
    `rm` returns, which slowed the next build by up to half; the kernel's I/O pressure figure
    (Linux PSI) says when that is over. Where PSI is missing, wait a fixed time instead."""
    os.sync()
    pressure = Path("/proc/pressure/io")
    if not pressure.is_file():
        time.sleep(10)
        return
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        some = pressure.read_text().split("\n")[0]
        if float(some.split("avg10=")[1].split()[0]) < 0.5:
            return
        time.sleep(2)


def machine_speed() -> float:
    """Seconds a fixed piece of pure-Python work takes, best of 3 (see the module docstring)."""
    def work() -> None:
        seen: dict[str, int] = {}
        for number in range(300_000):
            seen[f"{number % 5000}-{number & 7}"] = number
    return round(min(timeit.repeat(work, number=1, repeat=3)), 3)


def measure(size: int, repeat: int) -> dict:
    content = content_for(size)
    firsts, colds, unchanged, edited, renamed = [], [], [], [], []
    speed_before = machine_speed()
    for run in range(repeat):
        first_site = RUNS / f"first-{size}-{run}"
        settle()
        firsts.append(run_build(content, first_site, force=True))
        site = RUNS / f"cold-{size}-{run}"
        shutil.copytree(cache_of(first_site), cache_of(site))  # the codes and photos made before
        settle()
        colds.append(run_build(content, site, force=True))
        unchanged.append(run_build(content, site, force=False))
        assert unchanged[-1]["skipped"], "an unchanged rebuild should do no work"
        edited.extend(edit_and_build(content, site, rb"^(summary: )", rb"\1(edited %d) "))
        renamed.extend(edit_and_build(content, site, rb"^(name: .*)$", rb"\1 (edited %d)"))
    cold_wall = statistics.median(run["wall"] for run in colds)
    pages = colds[0]["pages"]
    return {
        "machine_s": [speed_before, machine_speed()],
        "products": size,
        "pages": pages,
        "first_s": round(statistics.median(run["wall"] for run in firsts), 2),
        "first_stages_s": median_stages(firsts),
        "cold_s": round(cold_wall, 2),
        "cold_cpu_s": round(statistics.median(run["cpu"] for run in colds), 2),
        "pages_per_s": round(pages / cold_wall),
        "cold_peak_mb": round(max(run["peak_mb"] for run in colds)),
        "cold_stages_s": median_stages(colds),
        "unchanged_s": round(statistics.median(run["wall"] for run in unchanged), 2),
        "edited_s": round(statistics.median(run["wall"] for run in edited), 2),
        "edited_rendered": round(statistics.median(run["rendered"] for run in edited)),
        "edited_stages_s": median_stages(edited),
        "edited_peak_mb": round(max(run["peak_mb"] for run in edited)),
        "renamed_s": round(statistics.median(run["wall"] for run in renamed), 2),
        "renamed_rendered": round(statistics.median(run["rendered"] for run in renamed)),
        "renamed_stages_s": median_stages(renamed),
        "renamed_peak_mb": round(max(run["peak_mb"] for run in renamed)),
        "runs": repeat,
    }


def edit_and_build(content: Path, site: Path, line: bytes, edited: bytes) -> list[dict]:
    """Three one-entry edits, each built: a line of a product (the regular expression `line`) changed
    as `edited` says (its `%d` the edit's number), then changed again twice. The first starts from an
    empty staging folder, as the build before it was a clean one; the others start from the spare (the
    site the build before replaced), as every build after a merged pull request does: the median is
    theirs. Each edit is new: putting the line back as it was would find its pages ready in the spare
    and render none. The entry is put back as it was afterwards."""
    entry = sorted((content / "products").glob("*.md"))[1]
    original = entry.read_bytes()
    runs = []
    try:
        for number in (1, 2, 3):
            changed = re.sub(line, edited.replace(b"%d", str(number).encode()), original, count=1, flags=re.M)
            assert changed != original, f"{entry} has no line {line!r}"
            entry.write_bytes(changed)
            runs.append(run_build(content, site, force=False))
            assert 0 < runs[-1]["rendered"] < runs[-1]["pages"], "an edit should render only what it changed"
    finally:
        entry.write_bytes(original)
    return runs


def cache_of(site: Path) -> Path:
    """Where build.py keeps the QR codes and photo derivatives of an output folder."""
    return site.parent / ".cache" / site.name


def median_stages(runs: list[dict]) -> dict[str, float]:
    return {stage: statistics.median(run["stages"].get(stage, 0) for run in runs) for stage in runs[0]["stages"]}


def measure_against(size: int, repeat: int, other: Path) -> dict[str, list[dict]]:
    """Cold builds of this checkout and `other`, alternated (see the module docstring): each run's
    figures, by checkout."""
    content = content_for(size)
    codes = {"this": ROOT, "other": other}
    firsts = {}
    for name, code in codes.items():  # each version's own QR codes and link previews (their caches differ)
        firsts[name] = RUNS / f"first-{name}-{size}"
        settle()
        run_build(content, firsts[name], force=True, code=code)
    runs: dict[str, list[dict]] = {"this": [], "other": []}
    for number in range(repeat):
        for name in ("this", "other") if number % 2 == 0 else ("other", "this"):
            site = RUNS / f"cold-{name}-{size}-{number}"
            shutil.copytree(cache_of(firsts[name]), cache_of(site))
            settle()
            runs[name].append(run_build(content, site, force=True, code=codes[name]))
    return runs


def report_against(size: int, other: Path, runs: dict[str, list[dict]]) -> str:
    def spread(values: list[float], unit: str) -> str:
        return f"{statistics.median(values):.2f}{unit} median ({min(values):.2f}–{max(values):.2f})"

    lines = [f"{size:>6} products, cold builds alternated with {other}, {len(runs['this'])} pairs:"]
    for name, label in (("this", "this checkout"), ("other", str(other))):
        found = runs[name]
        lines.append(f"    {label}: wall {spread([run['wall'] for run in found], ' s')}, "
                     f"CPU {spread([run['cpu'] for run in found], ' s')}, "
                     f"peak {max(run['peak_mb'] for run in found):.0f} MB per process")
    pairs = list(zip(runs["this"], runs["other"]))
    lines.append(f"    this / other, pair by pair: wall {spread([a['wall'] / b['wall'] for a, b in pairs], '×')}, "
                 f"CPU {spread([a['cpu'] / b['cpu'] for a, b in pairs], '×')}")
    return "\n".join(lines)


def wait_for_inode_recency() -> None:
    """Start only when inodes freed by the last run's clean-up may be reused (see the docstring)."""
    if DELETED_AT.is_file():
        wait = float(DELETED_AT.read_text()) + INODE_RECENCY_S - time.time()
        if wait > 0:
            print(f"waiting {wait:.0f} s: the last run deleted its outputs less than 5 minutes ago", flush=True)
            time.sleep(wait)


def delete_runs() -> None:
    shutil.rmtree(RUNS, ignore_errors=True)
    DELETED_AT.write_text(str(time.time()))


def compare(figures: dict, baseline: dict | None) -> str:
    if not baseline:
        return ""
    parts = []
    for key in ("first_s", "cold_s", "unchanged_s", "edited_s", "renamed_s"):
        if key in baseline and baseline[key]:
            change = (figures[key] - baseline[key]) / baseline[key] * 100
            parts.append(f"{key} {change:+.0f}% ({baseline[key]})")
    if baseline.get("machine_s"):
        parts.append(f"machine speed then: {seconds_list(baseline['machine_s'])}")
    return "\n    vs baseline     " + "; ".join(parts) if parts else ""


def seconds_list(values: list[float]) -> str:
    return " and ".join(f"{value:.3f} s" for value in values)


def report(size: int, figures: dict, baseline: dict | None) -> str:
    def stages(key: str) -> str:
        return ", ".join(f"{stage} {seconds:.2f} s" for stage, seconds in figures[key].items())
    return (f"{size:>6} products, {figures['pages']} pages (vi + en), median of {figures['runs']}:\n"
            f"    first build     {figures['first_s']:6.2f} s wall (no cache: every QR code made)\n"
            f"                    ({stages('first_stages_s')})\n"
            f"    cold build      {figures['cold_s']:6.2f} s wall, {figures['cold_cpu_s']:6.2f} s CPU, "
            f"{figures['pages_per_s']} pages/s, peak {figures['cold_peak_mb']} MB per process\n"
            f"                    ({stages('cold_stages_s')})\n"
            f"    unchanged       {figures['unchanged_s']:6.2f} s\n"
            f"    one entry edited {figures['edited_s']:5.2f} s wall, {figures['edited_rendered']} pages rendered, "
            f"peak {figures['edited_peak_mb']} MB per process\n"
            f"                    ({stages('edited_stages_s')})\n"
            f"    one name edited {figures['renamed_s']:5.2f} s wall, {figures['renamed_rendered']} pages rendered, "
            f"peak {figures['renamed_peak_mb']} MB per process\n"
            f"                    ({stages('renamed_stages_s')})\n"
            f"    machine speed   {seconds_list(figures['machine_s'])} "
            f"(a fixed piece of Python work, before and after; lower is faster)"
            f"{compare(figures, baseline)}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="1000,10000", help="comma-separated product counts")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--save-baseline", action="store_true")
    parser.add_argument("--no-baseline", action="store_true", help="do not compare with the saved baseline")
    parser.add_argument("--vs", type=Path, metavar="CHECKOUT",
                        help="time cold builds only, alternated with another checkout's (see above)")
    args = parser.parse_args()
    if args.vs is not None and not (args.vs / "build.py").is_file():
        parser.error(f"--vs {args.vs}: no build.py there (give a checkout of the project)")
    if args.vs is not None and args.save_baseline:
        parser.error("--vs times cold builds only, against another checkout: there is no baseline to save")
    OUT.mkdir(exist_ok=True)
    baseline = {} if args.no_baseline or not BASELINE.is_file() else json.loads(BASELINE.read_text())
    results = {}
    if RUNS.exists():  # left by an interrupted run
        delete_runs()
    wait_for_inode_recency()
    try:
        for size in (int(s) for s in args.sizes.split(",")):
            if args.vs is not None:
                print(report_against(size, args.vs, measure_against(size, args.repeat, args.vs.resolve())), flush=True)
                continue
            figures = measure(size, args.repeat)
            results[str(size)] = figures
            print(report(size, figures, baseline.get(str(size))), flush=True)
    finally:
        delete_runs()
    if args.save_baseline:
        BASELINE.write_text(json.dumps(results, indent=2) + "\n")
        print(f"baseline saved to {BASELINE.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
