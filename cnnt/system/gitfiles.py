"""What git knows of the files it tracks. A deploy runner starts from a fresh checkout: every file is
new to the file system (another inode, the time of the checkout), so whatever a build recognised a
file by (its size and time) is gone; but git still names each file by its content (its blob id).
The images stage asks git for those names rather than reading every photo again (gigabytes, for a
catalogue of phone photos).

A blob id is only given for a file whose working copy is what git's index holds: tracked, not in
conflict, no flag telling git not to look at it (assume-unchanged, skip-worktree), and not listed by
`git diff-files`, which compares the file with the index (and, for a file written in the same
instant as the index, its content). Anything else, or no git at all, gives no id: the caller reads
the file."""
from __future__ import annotations

import os
import subprocess

GIT_TIMEOUT_S = 60
# Asking git takes tens of milliseconds: callers ask only when files of at least this many bytes are
# new to them (a fresh checkout), about what this machine hashes, or reads and checks, in that time.
ASK_GIT_BYTES = 64 << 20
CACHED = "H"  # `git ls-files -v`: an entry git looks at as usual (lower case: assume-unchanged; S: skip-worktree)
REGULAR_MODES = ("100644", "100755")


def blob_ids(files: list[str]) -> dict[str, str]:
    """Each of `files` (paths as strings) that git tracks unchanged → its blob id."""
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


def _git(folder: str, *arguments: str, locks: bool = False) -> str | None:
    """What git prints (paths relative to `folder`), or None where it cannot say: no git, not a work
    tree, a repository git will not read (another owner), or any other failure. Without `locks`, git
    writes nothing (the index included)."""
    try:
        done = subprocess.run(["git", "-C", folder, *arguments], capture_output=True, timeout=GIT_TIMEOUT_S,
                              env={**os.environ, "GIT_OPTIONAL_LOCKS": "1" if locks else "0"},
                              stdin=subprocess.DEVNULL)
    except (OSError, subprocess.SubprocessError):
        return None
    if done.returncode != 0:
        return None
    return done.stdout.decode("utf-8", "surrogateescape")
