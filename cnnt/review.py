"""What a pull request needs: error annotations on the changed lines, CODEOWNERS made from the
facilities' `maintainers`, and a check that an author changed only entries that are theirs.

An entry belongs to its facility: a facility file to that facility, a product to the facility it
names. The centre's maintainers (`maintainers` in site.yaml) may change anything.
"""
from __future__ import annotations

import subprocess
from pathlib import Path

from .errors import ContentError, ErrorList
from .frontmatter import read_document
from .model import Catalogue

CODEOWNERS_HEADER = """\
# Made by `python build.py codeowners` from the `maintainers` of each facility and of the centre
# (site.yaml). Do not edit by hand: change `maintainers` and run the command again.
# Tạo bởi `python build.py codeowners` từ `maintainers` của từng cơ sở và của trung tâm; không sửa tay.
"""


def annotation(error: ContentError) -> str:
    """A GitHub Actions workflow command: the error appears on that line of the pull request's diff."""
    properties = [f"file={_property(error.path)}"]
    if error.line:
        properties.append(f"line={error.line}")
    if error.field:
        properties.append(f"title={_property(error.field)}")
    return f"::error {','.join(properties)}::{_data(f'{error.vi} | {error.en}')}"


def _data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _property(text: str) -> str:
    return _data(text).replace(":", "%3A").replace(",", "%2C")


# -- CODEOWNERS --------------------------------------------------------------------------------------

def entry_paths(source: str) -> list[str]:
    """The paths in the repository that make an entry: its file and translation, or its folder."""
    path = Path(source)
    if path.name == "index.md":
        return [f"/{path.parent.as_posix()}/"]
    stem = path.name[: -len(".md")]
    return [f"/{path.as_posix()}", f"/{path.with_name(stem + '.en.md').as_posix()}"]


def codeowners(catalogue: Catalogue, centre: tuple[str, ...]) -> str:
    """One line per entry file: the facility's maintainers, and the centre's, may approve it."""
    centre_owners = " ".join(f"@{user}" for user in centre)
    lines = [CODEOWNERS_HEADER]
    if centre_owners:
        lines.append(f"* {centre_owners}\n")
    entries = [(facility.source, facility) for facility in catalogue.facilities.values()]
    entries += [(product.source, catalogue.facility_of(product)) for product in catalogue.products.values()]
    for source, facility in sorted(entries, key=lambda entry: entry[0]):
        owners = " ".join(dict.fromkeys([f"@{user}" for user in facility.maintainers] + centre_owners.split()))
        if owners:
            lines.extend(f"{path} {owners}\n" for path in entry_paths(source))
    return "".join(lines)


# -- who may change what -------------------------------------------------------------------------------

def check_ownership(catalogue: Catalogue, changed: list[str], author: str, centre: tuple[str, ...],
                    content_dir: str = "content", base: str | None = None) -> list[ContentError]:
    """A problem for every changed file the author may not change. `changed` are paths from the
    repository root (as `git diff --name-only` prints them); `base` is the commit the pull request
    starts from, to find the facility a deleted or moved product belonged to."""
    author = author.removeprefix("@")
    if base is not None and subprocess.run(["git", "rev-parse", "--verify", "--quiet", f"{base}^{{commit}}"],
                                           capture_output=True).returncode != 0:
        # an unknown base would let a product moved away from its facility through unseen
        return [ContentError("--base", None, None, f"không tìm thấy commit `{base}` trong git",
                             f"git has no commit `{base}`")]
    if author.lower() in {user.lower() for user in centre}:
        return []
    errors = []
    for path in changed:
        for facility_slug in _owners_of(path, catalogue, content_dir, base):
            facility = catalogue.facilities.get(facility_slug) if facility_slug else None
            maintainers = {user.lower() for user in facility.maintainers} if facility else set()
            if author.lower() in maintainers:
                continue
            if facility_slug is None:
                vi = f"chỉ người quản lý của trung tâm được sửa tệp này; @{author} không có trong `maintainers` của site.yaml"
                en = f"only the centre's maintainers may change this file; @{author} is not in `maintainers` of site.yaml"
            else:
                vi = (f"tệp này thuộc cơ sở `{facility_slug}`; @{author} không có trong `maintainers` của cơ sở đó "
                      f"(nhờ trung tâm xem xét, hoặc thêm bạn vào `maintainers`)")
                en = (f"this file belongs to facility `{facility_slug}`; @{author} is not among its `maintainers` "
                      f"(ask the centre to review, or to add you to `maintainers`)")
            errors.append(ContentError(path, None, "maintainers", vi, en))
    return errors


def _owners_of(path: str, catalogue: Catalogue, content_dir: str, base: str | None) -> list[str | None]:
    """The facilities a changed file belongs to (a product moved between facilities belongs to both);
    [None] when only the centre may change it."""
    parts = Path(path).parts
    prefix = Path(content_dir).parts
    if parts[: len(prefix)] != prefix or len(parts) < len(prefix) + 2:
        return [None]
    kind, name = parts[len(prefix)], parts[len(prefix) + 1]
    slug = name.split(".", 1)[0]
    if kind == "facilities":
        return [slug]
    if kind != "products":
        return [None]
    owners = []
    product = catalogue.products.get(slug)
    if product is not None:
        owners.append(product.facility_slug)
    if base is not None:
        before = _facility_in(base, path) or _facility_in(base, str(Path(*parts[: len(prefix) + 2]) / "index.md"))
        if before and before not in owners:
            owners.append(before)
    return owners or [None]


def _facility_in(commit: str, path: str) -> str | None:
    """The `facility` a product file named at a commit, read with git; None if there was no such file."""
    shown = subprocess.run(["git", "show", f"{commit}:{path}"], capture_output=True)
    if shown.returncode != 0:
        return None
    document = read_document(shown.stdout, ErrorList(path))
    value = document.front.get("facility") if document else None
    return str(value.data) if value is not None and isinstance(value.data, str) else None
