"""What git knows of the files it tracks: their content's names, and the days of their last commits.

A deploy runner starts from a fresh checkout: every file is new to the file system (another inode,
the time of the checkout), so whatever a build recognised a file by (its size and time) is gone; but
git still names each file by its content (its blob id). The input fingerprint asks git for those
names (`blob_ids`) when most of the content's text files are new to it: a text file's digest is its
blob id (`load._read_digest`), so it need not be read. The loading of bundles and the images stage
take their photos' names from the same answer (`answers_kept`), or ask for them when their photos are
many bytes, rather than reading every photo again (gigabytes, for a catalogue of phone photos).

A blob id is only given for a file whose working copy is what git's index holds: tracked, not in
conflict, no flag telling git not to look at it (assume-unchanged, skip-worktree), and not listed by
`git diff-files`, which compares the file with the index (and, for a file written in the same
instant as the index, its content). Anything else, or no git at all, gives no id: the caller reads
the file.

The sitemap and feeds date each entry by its files' last commit (`commit_dates`), kept from build
to build with the commit they were read up to."""
from __future__ import annotations

import contextlib
import datetime as dt
import os
import pickle
import subprocess
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from .write import write_atomic

GIT_TIMEOUT_S = 60
# Asking git takes tens of milliseconds: callers ask only when files of at least this many bytes are
# new to them (a fresh checkout), about what this machine hashes, or reads and checks, in that time.
ASK_GIT_BYTES = 64 << 20
CACHED = "H"  # `git ls-files -v`: an entry git looks at as usual (lower case: assume-unchanged; S: skip-worktree)
REGULAR_MODES = ("100644", "100755")


# Files new to a build that are at least this many, and half of those it looks at, make the input
# fingerprint ask git for the content's blob ids (a fresh checkout: 15,000 text files were read again
# in 0.18 s at 10k products; git named them all in 0.08-0.10 s).
ASK_GIT_FILES = 1000

Marks = tuple[int, int, int, int]  # a file's size, modification time, inode and change time
# Within `answers_kept` (a build): each file git was asked about → its marks just before, and its blob
# id (None: git did not name it)
_ANSWERS: list[dict[str, tuple[Marks, str | None]]] = []


@contextmanager
def answers_kept() -> Iterator[None]:
    """Within it, git is asked about a file once: the input fingerprint asks for the whole content of
    a fresh checkout, and the loading of bundles and the images stage take their photos' ids from that
    answer, each only while the file's marks are those it had when git was asked (it may be saved
    again during the build). The preview, which runs for hours, asks each time."""
    _ANSWERS.append({})
    try:
        yield
    finally:
        _ANSWERS.pop()


def marks(stat: os.stat_result) -> Marks:
    return stat.st_size, stat.st_mtime_ns, stat.st_ino, stat.st_ctime_ns


def blob_ids_if_large(sizes: dict[str, int]) -> dict[str, str]:
    """`blob_ids` of these files (path → size in bytes), asked only when they add up to
    `ASK_GIT_BYTES` (a fresh checkout's photos) or git was asked about them already in this build
    (`answers_kept`); {} otherwise, and the caller reads them."""
    if sum(sizes.values()) >= ASK_GIT_BYTES or _answered(sizes):
        return blob_ids(list(sizes))
    return {}


def blob_ids(files: list[str], stats: dict[str, os.stat_result] | None = None) -> dict[str, str]:
    """Each of `files` (paths as strings) that git tracks unchanged → its blob id. `stats`: the
    files' own, just taken, if the caller has them."""
    if not files:
        return {}
    if _answered(files):
        return _kept_ids(files)
    if _ANSWERS:  # the marks before git is asked: a file saved after them has others when looked up
        stats = stats or _stats(files)
        files = [file for file in files if file in stats]
    ids = _ask(files)
    if _ANSWERS and stats is not None:
        _ANSWERS[-1].update((file, (marks(stats[file]), ids.get(file))) for file in files)
    return ids


def _answered(files: Iterable[str]) -> bool:
    return bool(_ANSWERS) and all(file in _ANSWERS[-1] for file in files)


def _kept_ids(files: list[str]) -> dict[str, str]:
    """What git said of these files in this build, for those whose marks are still the same."""
    kept, ids = _ANSWERS[-1], {}
    for file, stat in _stats(files).items():
        before, blob = kept[file]
        if blob is not None and before == marks(stat):
            ids[file] = blob
    return ids


def _stats(files: list[str]) -> dict[str, os.stat_result]:
    found = {}
    for file in files:
        with contextlib.suppress(OSError):
            found[file] = os.stat(file)
    return found


def _ask(files: list[str]) -> dict[str, str]:
    """Each of `files` that git tracks unchanged → its blob id, as git says now."""
    if not files:
        return {}
    try:
        folder = os.path.commonpath(files)
    except ValueError:  # absolute and relative paths mixed
        return {}
    if not os.path.isdir(folder):  # a single file
        folder = os.path.dirname(folder) or "."
    # Files written in the same second as the index (most of a small checkout) are "racily clean":
    # git must read them to know. Refreshing the index has it read them once and note it, as the
    # `git status` of the sitemap's dates would next (it then finds nothing to read); the refresh
    # says "needs update" of a changed file, and may find the index locked: either way diff-files
    # below still compares every file.
    _git(folder, "update-index", "-q", "--refresh", locks=True)
    listed = _git(folder, "ls-files", "--stage", "-v", "-z")
    changed = _git(folder, "diff-files", "--name-only", "--relative", "-z")
    if listed is None or changed is None:
        return {}
    dirty = set(changed.split("\0"))
    tracked = {}
    for record in listed.split("\0"):
        info, _, name = record.partition("\t")
        fields = info.split(" ")
        if len(fields) == 4 and fields[0] == CACHED and fields[1] in REGULAR_MODES and fields[3] == "0" \
                and name not in dirty:
            tracked[os.path.join(folder, name)] = fields[2]
    return {file: tracked[file] for file in files if file in tracked}


# -- the days of the last commits --------------------------------------------------------------------

def head_commit(folder: str) -> str:
    """The commit the repository holding `folder` is at; "" where git cannot say."""
    found = _git(folder, "rev-parse", "-q", "--verify", "HEAD")
    return found.strip() if found is not None else ""


def commit_dates(folder: str, kept: Path | None = None) -> dict[str, dt.date]:
    """For each file under the repository that holds `folder` and is unchanged since its last commit,
    that commit's day, by its resolved path; {} where git cannot say. `kept`: a file in which the
    days are kept from build to build (see `_commit_days`)."""
    found = _git(folder, "rev-parse", "--show-toplevel")
    if found is None:
        return {}
    top = found.strip()
    days = _commit_days(top, kept)
    dirty = _git(top, "status", "--porcelain", "-z", "--untracked-files=no", "--no-renames", locks=True)
    if days is None or dirty is None:
        return {}
    folders: dict[str, str] = {}  # each folder resolved once (resolving each of 20,000 files took a second)

    def resolved(relative: str) -> str:
        parent, _, name = relative.rpartition("/")
        found = folders.get(parent)
        if found is None:
            found = folders[parent] = os.path.realpath(os.path.join(top, parent))
        return os.path.join(found, name)

    modified = {resolved(entry[3:]) for entry in dirty.split("\0") if len(entry) > 3}
    dates = {resolved(relative): dt.date.fromordinal(day) for relative, day in days.items()}
    return {path: day for path, day in dates.items() if path not in modified}


KEPT_DAYS_VERSION = 1


def _commit_days(top: str, kept: Path | None) -> dict[str, int] | None:
    """Each file of the repository at `top` (relative, with "/") → the day (an ordinal) of the latest
    commit that changed it; None where git cannot say. One `git log` of the whole history took 3.5 s
    for 5,000 commits, and every merged pull request adds to it: with `kept`, the days worked out up
    to the commit the last build saw are taken from it, and only the commits since are read. A
    history rewritten since (that commit no longer an ancestor), a damaged file, or another
    repository: the whole history again."""
    head = _git(top, "rev-parse", "HEAD")
    if head is None:
        return None
    head = head.strip()
    before = _read_kept(kept, top)
    if before is not None and before[0] == head:
        return before[1]
    if before is not None and _git(top, "merge-base", "--is-ancestor", before[0], head) is not None:
        since = _log_days(top, f"{before[0]}..{head}")
        if since is None:
            return None
        days = dict(before[1])
        for relative, day in since.items():
            days[relative] = max(day, days.get(relative, day))
    else:
        whole = _log_days(top, head)
        if whole is None:
            return None
        days = whole
    if kept is not None:
        with contextlib.suppress(OSError):
            kept.parent.mkdir(parents=True, exist_ok=True)
            write_atomic(kept, pickle.dumps((KEPT_DAYS_VERSION, top, head, days), pickle.HIGHEST_PROTOCOL),
                         durable=False)
    return days


def _log_days(top: str, commits: str) -> dict[str, int] | None:
    """The files the commits changed → the day of the latest of them that changed each (merges show
    no files of their own: their branches' commits do)."""
    log = _git(top, "log", "--format=%x00%ct", "--name-only", "--no-renames", "-z", commits, "--", ".")
    if log is None:
        return None
    days: dict[str, int] = {}
    day = None
    for field in log.split("\0"):
        field = field.strip("\n")
        if not field:
            continue
        if field.isdigit() and len(field) >= 9:  # a commit's time, then the files it changed
            day = dt.datetime.fromtimestamp(int(field), dt.timezone.utc).date().toordinal()
            continue
        if day is not None and day > days.get(field, 0):
            days[field] = day
    return days


def _read_kept(kept: Path | None, top: str) -> tuple[str, dict[str, int]] | None:
    """(the commit, the days) a build kept for the repository at `top`; None if there are none."""
    if kept is None:
        return None
    try:
        version, kept_top, head, days = pickle.loads(kept.read_bytes())
    except Exception:  # missing, cut short, damaged, or of another shape
        return None
    if version != KEPT_DAYS_VERSION or kept_top != top or not isinstance(head, str) or not isinstance(days, dict):
        return None
    return head, days


def run(folder: str, *arguments: str, locks: bool = False) -> subprocess.CompletedProcess[bytes]:
    """git run in `folder`, the one way the package runs it: paths are paths, never patterns (a file
    named `*.md` stands for itself); it never waits for input, nor longer than `GIT_TIMEOUT_S`;
    without `locks`, it writes nothing (the index included). Raises OSError or SubprocessError when
    git cannot be run or does not end."""
    return subprocess.run(["git", "-C", folder, *arguments], capture_output=True, timeout=GIT_TIMEOUT_S,
                          env={**os.environ, "GIT_OPTIONAL_LOCKS": "1" if locks else "0", "GIT_LITERAL_PATHSPECS": "1"},
                          stdin=subprocess.DEVNULL)


def _git(folder: str, *arguments: str, locks: bool = False) -> str | None:
    """What git prints (paths relative to `folder`), or None where it cannot say: no git, not a work
    tree, a repository git will not read (another owner), or any other failure."""
    try:
        done = run(folder, *arguments, locks=locks)
    except (OSError, subprocess.SubprocessError):
        return None
    if done.returncode != 0:
        return None
    return done.stdout.decode("utf-8", "surrogateescape")
