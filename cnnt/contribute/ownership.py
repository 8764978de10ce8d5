"""Who may change what, judged from what a change does rather than from the names it is given.

`python build.py owners --author USER --base COMMIT` asks git for every path that differs between
COMMIT and the working tree (in a pull request's check, the pull request's merge commit), with
renames split into a deletion and an addition, and groups the paths by the entry they belong to:
`products/x.md`, `products/x.en.md`, `products/x/index.md` and `products/x/photo.jpg` are all the
entry `products/x`. Each entry is then read as it was at COMMIT and as it is now:

- an entry belongs to its facility: a facility to itself, a product to the facility it names. The
  author must maintain every facility an entry belonged to before the change and belongs to after
  it, as the facilities' `maintainers` were at COMMIT (a change cannot make its author a
  maintainer); only a facility the change creates is judged by its new `maintainers`;
- credentials are the centre's: a product's `awards`, `certifications` and `facility`, a facility's
  `support` (the funding and jobs the centre reports), and every file
  that is not a facility's or product's entry (decisions, fairs, the record of published addresses,
  vocabularies, templates, code, site.yaml);
- entries are plain files: a link or another special file is refused for anyone.

The centre's maintainers (`maintainers` in site.yaml, as it was at COMMIT) may change anything.
"""
from __future__ import annotations

import os
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import yaml

from ..content import kinds
from ..content.errors import ContentError, ErrorList
from ..content.frontmatter import Value, read_document
from ..system import gitfiles

FACILITY_KINDS = tuple(kind.folder for kind in kinds.KINDS if kind.facility_owned)  # a facility's own entries
# What only the centre records, by kind of entry (see kinds.py): a product's awards, certifications and
# maker; a facility's khuyến công support (the funding and jobs the centre's statistics report).
CREDENTIALS = {kind.folder: kind.credentials for kind in kinds.KINDS if kind.credentials}
REGULAR_MODES = ("100644", "100755")


class GitError(Exception):
    """git could not answer (no repository, an unknown commit)."""


@dataclass(frozen=True)
class EntryState:
    """An entry's front matter at one point of the change (None: no entry, or unreadable)."""

    exists: bool
    front: dict | None


@dataclass(frozen=True)
class Change:
    """One path the change touches, relative to the repository's top, and whether it is now a
    plain file (False for a link, a submodule or another special file)."""

    path: str
    regular: bool


class Repository:
    """The few git questions the check asks, about one commit and the working tree."""

    def __init__(self, folder: Path) -> None:
        self.top = Path(self._git(folder, "rev-parse", "--show-toplevel").decode().strip())

    @staticmethod
    def _git(folder: Path, *args: str) -> bytes:
        try:  # (paths are paths, never patterns: a file named `*.md` must not stand for every entry)
            done = gitfiles.run(str(folder), *args)
        except (OSError, subprocess.SubprocessError) as exc:
            raise GitError(str(exc)) from exc
        if done.returncode != 0:
            raise GitError(done.stderr.decode(errors="replace").strip())
        return done.stdout

    def git(self, *args: str) -> bytes:
        return self._git(self.top, *args)

    def verify(self, commit: str) -> str:
        try:
            return self.git("rev-parse", "--verify", "--quiet", f"{commit}^{{commit}}").decode().strip()
        except GitError:
            raise GitError(f"git has no commit `{commit}`") from None

    def changes(self, base: str) -> list[Change]:
        """Every path that differs between `base` and the working tree, untracked files included;
        a rename is its deletion and its addition, so neither side goes unjudged."""
        raw = self.git("diff", "--raw", "--no-renames", "--no-ext-diff", "-z", base, "--").split(b"\0")
        changes = []
        for header, path in zip(raw[0::2], raw[1::2]):
            new_mode = header.decode().split()[1]
            changes.append(Change(os.fsdecode(path), new_mode in REGULAR_MODES or new_mode == "000000"))
        for path in self.git("ls-files", "--others", "--exclude-standard", "-z").split(b"\0"):
            if path:
                on_disk = self.top / os.fsdecode(path)
                changes.append(Change(os.fsdecode(path), on_disk.is_file() and not on_disk.is_symlink()))
        return changes

    def read(self, commit: str, path: str) -> bytes | None:
        """A file as it was at `commit`; None if it was not there (or was not a plain file)."""
        try:
            kind = self.git("cat-file", "-t", f"{commit}:{path}").decode().strip()
            mode = self.git("ls-tree", commit, "--", path).split(b" ", 1)[0].decode()
        except GitError:
            return None
        if kind != "blob" or mode not in REGULAR_MODES:
            return None
        return self.git("show", f"{commit}:{path}")

    def read_now(self, path: str) -> bytes | None:
        """A file as it is in the working tree; None if absent or not a plain file."""
        on_disk = self.top / path
        if on_disk.is_symlink() or not on_disk.is_file():
            return None
        return on_disk.read_bytes()


def check_change(content_dir: Path, config_file: Path, author: str, base: str | None,
                 named: Sequence[str] = ()) -> list[ContentError]:
    """A problem for everything in the change from `base` (default HEAD) to the working tree that
    `author` may not do; `named` are further paths (from the current folder) to judge as changed."""
    author = author.removeprefix("@")
    try:
        repo = Repository(content_dir)
        commit = repo.verify(base or "HEAD")
        changes = repo.changes(commit)
    except GitError as exc:
        return [ContentError("--base" if base else str(content_dir), None, None,
                             f"git không trả lời được: {exc}", f"git could not answer: {exc}")]
    prefix = PurePosixPath(os.path.relpath(content_dir.resolve(), repo.top.resolve()).replace(os.sep, "/"))
    changes += [Change(PurePosixPath(os.path.relpath(Path(name).resolve(), repo.top.resolve())).as_posix(), True)
                for name in named]
    judge = Judge(repo, commit, prefix, author, _centre_at(repo, commit, config_file))
    return judge.errors(changes)


def _centre_at(repo: Repository, commit: str, config_file: Path) -> set[str]:
    """The centre's maintainers as site.yaml named them at `commit` (the file as it is now when it
    is outside the repository or new), lower-cased: a change cannot appoint its own author."""
    try:
        relative = config_file.resolve().relative_to(repo.top.resolve()).as_posix()
        raw = repo.read(commit, relative)
    except ValueError:
        raw = None
    if raw is None:
        raw = config_file.read_bytes() if config_file.is_file() else b""
    try:
        data = yaml.safe_load(raw.decode("utf-8")) or {}
    except (yaml.YAMLError, UnicodeDecodeError):
        return set()
    users = data.get("maintainers") if isinstance(data, dict) else None
    return {str(user).removeprefix("@").lower() for user in users or [] if isinstance(user, str)}


class Judge:
    """Works out, entry by entry, which facilities a change touches and what it changes."""

    def __init__(self, repo: Repository, commit: str, content: PurePosixPath, author: str, centre: set[str]) -> None:
        self.repo = repo
        self.commit = commit
        self.content = content
        self.author = author
        self.is_centre = author.lower() in centre

    def errors(self, changes: list[Change]) -> list[ContentError]:
        errors: list[ContentError] = []
        entries: dict[tuple[str, str], list[str]] = {}
        for change in sorted(changes, key=lambda c: c.path):
            if not change.regular:
                errors.append(ContentError(change.path, None, None,
                                           "không phải tệp thường (liên kết tượng trưng, submodule hoặc tệp đặc biệt): "
                                           "chỉ chấp nhận tệp thường",
                                           "not a regular file (a symbolic link, a submodule or a special file): "
                                           "only plain files are accepted"))
            entry = self.entry_of(change.path)
            if entry is None:
                if not self.is_centre:
                    errors.append(centre_only(change.path, self.author))
            else:
                entries.setdefault(entry, []).append(change.path)
        if not self.is_centre:
            for (kind, slug), paths in entries.items():
                errors.extend(self.judge_entry(kind, slug, paths))
        return errors

    def entry_of(self, path: str) -> tuple[str, str] | None:
        """(kind, slug) of the facility's or product's entry a path belongs to; None for any other file."""
        parts, prefix = PurePosixPath(path).parts, self.content.parts
        if parts[: len(prefix)] != prefix:
            return None
        inside = parts[len(prefix):]
        if len(inside) < 2 or inside[0] not in FACILITY_KINDS or inside[1].startswith("."):
            return None
        if len(inside) == 2 and not inside[1].endswith(".md"):
            return None  # a loose file beside the entries is nobody's entry
        slug = inside[1] if len(inside) > 2 else inside[1].split(".", 1)[0]
        return inside[0], slug

    # -- reading an entry before and after -------------------------------------------------------

    def main_files(self, kind: str, slug: str) -> list[str]:
        folder = self.content / kind
        return [(folder / f"{slug}.md").as_posix(), (folder / slug / "index.md").as_posix()]

    def state(self, kind: str, slug: str, before: bool) -> EntryState:
        for path in self.main_files(kind, slug):
            raw = self.repo.read(self.commit, path) if before else self.repo.read_now(path)
            if raw is not None:
                document = read_document(raw, ErrorList(path))
                return EntryState(True, plain(document.front) if document and document.front else None)
        return EntryState(False, None)

    def maintainers(self, facility: str) -> set[str]:
        """A facility's maintainers before the change; for a facility the change creates, after it."""
        state = self.state("facilities", facility, before=True)
        if not state.exists:
            state = self.state("facilities", facility, before=False)
        users = (state.front or {}).get("maintainers") or []
        users = users if isinstance(users, list) else [users]
        return {str(user).removeprefix("@").lower() for user in users}

    # -- the rules ---------------------------------------------------------------------------------

    def judge_entry(self, kind: str, slug: str, paths: list[str]) -> list[ContentError]:
        before, after = self.state(kind, slug, True), self.state(kind, slug, False)
        where = paths[0]
        if (before.exists and before.front is None) or (after.exists and after.front is None):
            return [ContentError(where, None, None,
                                 "không đọc được phần khai báo đầu tệp để biết mục nhập thuộc cơ sở nào; sửa các lỗi "
                                 "mà `check` báo trước",
                                 "the entry's front matter cannot be read to tell which facility it belongs to; fix "
                                 "the errors `check` reports first")]
        owners = [owner for owner in (_owner(kind, slug, before), _owner(kind, slug, after)) if owner]
        errors = [not_maintainer(where, facility, self.author)
                  for facility in dict.fromkeys(owners) if self.author.lower() not in self.maintainers(facility)]
        if not owners:
            errors.append(centre_only(where, self.author))
        if after.exists:
            earlier = self.earlier(slug, before, after) if kind == "products" else before
            errors.extend(self.credentials(kind, where, slug, owners[0] if owners else "?", earlier, after))
        return errors

    def earlier(self, slug: str, before: EntryState, after: EntryState) -> EntryState:
        """What a product was before: itself, or, when it is new and names a former slug in `aliases`
        that the change removed, that entry (a rename keeps its awards without the centre)."""
        if before.exists:
            return before
        aliases = (after.front or {}).get("aliases") or []
        for alias in aliases if isinstance(aliases, list) else [aliases]:
            alias = str(alias)
            if alias != slug and not self.state("products", alias, False).exists:
                former = self.state("products", alias, True)
                if former.exists:
                    return former
        return before

    def credentials(self, kind: str, where: str, slug: str, facility: str, before: EntryState,
                    after: EntryState) -> list[ContentError]:
        errors = []
        for field in CREDENTIALS[kind]:
            old = (before.front or {}).get(field)
            new = (after.front or {}).get(field)
            if before.exists and old == new or not before.exists and (field == "facility" or not new):
                continue
            owner = str(new or old)
            if kind == "facilities":
                errors.append(ContentError(
                    where, None, field,
                    f"`support` (hỗ trợ khuyến công của cơ sở `{slug}`) là số liệu trung tâm ghi và báo cáo: chỉ người "
                    f"quản lý của trung tâm được thêm, sửa hoặc xoá; @{self.author} hãy gửi quyết định hỗ trợ cho trung tâm",
                    f"`support` (facility `{slug}`'s khuyến công support) is what the centre records and reports: only "
                    f"the centre's maintainers may add, change or remove it; @{self.author}, send the support "
                    f"decision to the centre"))
                continue
            errors.append(ContentError(
                where, None, field,
                f"`{field}` là thông tin xác nhận (giải thưởng, chứng nhận, cơ sở sản xuất) của sản phẩm `{slug}` "
                f"(cơ sở `{facility}`): "
                f"chỉ người quản lý của trung tâm được thêm, sửa hoặc xoá; @{self.author} hãy gửi quyết định hoặc "
                f"giấy chứng nhận cho trung tâm",
                f"`{field}` of product `{slug}` (facility `{facility}`) is a credential (awards, certifications, "
                f"the maker): only the "
                f"centre's maintainers may add, change or remove it; @{self.author}, send the decision or "
                f"certificate to the centre" + ("" if field != "facility" else f" (now `{owner}`)")))
        return errors


def _owner(kind: str, slug: str, state: EntryState) -> str | None:
    if not state.exists or state.front is None:
        return None
    if kind == "facilities":
        return slug
    facility = state.front.get("facility")
    return str(facility) if isinstance(facility, str) and facility else None


def plain(front: dict[str, Value]) -> dict:
    """Front matter as plain data (scalars as written), to compare two versions of an entry: a
    change of layout or quoting is no change."""
    def value(item: Value) -> object:
        if isinstance(item.data, list):
            return [value(element) for element in item.data]
        if isinstance(item.data, dict):
            return {key: value(element) for key, element in item.data.items()}
        return item.raw.strip() if isinstance(item.raw, str) else item.data
    return {key: value(item) for key, item in front.items()}


def not_maintainer(path: str, facility: str, author: str) -> ContentError:
    return ContentError(path, None, "maintainers",
                        f"tệp này thuộc cơ sở `{facility}`; @{author} không có trong `maintainers` của cơ sở đó "
                        f"(nhờ trung tâm xem xét, hoặc thêm bạn vào `maintainers`)",
                        f"this file belongs to facility `{facility}`; @{author} is not among its `maintainers` "
                        f"(ask the centre to review, or to add you to `maintainers`)")


def centre_only(path: str, author: str) -> ContentError:
    return ContentError(path, None, None,
                        f"chỉ người quản lý của trung tâm được sửa tệp này (quyết định công nhận, hội chợ, danh mục, "
                        f"cấu hình, mã nguồn); @{author} không có trong `maintainers` của site.yaml",
                        f"only the centre's maintainers may change this file (decisions, fairs, vocabularies, "
                        f"settings, code); @{author} is not in `maintainers` of site.yaml")
