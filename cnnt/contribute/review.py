"""What a pull request shows its reviewers: error annotations on the changed lines, and CODEOWNERS
made from the facilities' `maintainers` (who may change what is judged in `ownership`).

An entry belongs to its facility: a facility file to that facility, a product to the facility it
names. The centre's maintainers (`maintainers` in site.yaml) own everything, and alone own what
only the centre may change: decisions, vocabularies, settings and the record of published addresses.
"""
from __future__ import annotations

from pathlib import Path

from ..content.errors import ContentError
from ..content.model import Catalogue

CODEOWNERS_HEADER = """\
# Made by `python build.py codeowners` from the `maintainers` of each facility and of the centre
# (site.yaml). Do not edit by hand: change `maintainers` and run the command again.
# Tạo bởi `python build.py codeowners` từ `maintainers` của từng cơ sở và của trung tâm; không sửa tay.
"""


# What only the centre's maintainers may change, whatever a facility's line says (last match wins).
CENTRE_PATHS = ("/content/decisions/", "/content/fairs/", "/content/published-urls.txt", "/cnnt/content/vocabularies/",
                "/site.yaml", "/.github/")


def annotation(error: ContentError) -> str:
    """A GitHub Actions workflow command: the error appears on that line of the pull request's diff."""
    properties = [f"file={_property(error.path.encode('utf-8', 'surrogateescape').decode('utf-8', 'replace'))}"]
    if error.line:
        properties.append(f"line={error.line}")
    if error.field:
        properties.append(f"title={_property(error.field)}")
    command = "warning" if error.warning else "error"
    return f"::{command} {','.join(properties)}::{_data(f'{error.vi} | {error.en}')}"


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
    entries = [(facility.source, facility) for facility in catalogue.every_facility.values()]
    entries += [(product.source, catalogue.facility_of(product)) for product in catalogue.every_product.values()]
    for source, facility in sorted(entries, key=lambda entry: entry[0]):
        owners = " ".join(dict.fromkeys([f"@{user}" for user in facility.maintainers] + centre_owners.split()))
        if owners:
            lines.extend(f"{path} {owners}\n" for path in entry_paths(source))
    if centre_owners:  # last, so that no facility's line can match these
        lines.append("\n# Chỉ trung tâm · the centre's alone\n")
        lines.extend(f"{path} {centre_owners}\n" for path in CENTRE_PATHS)
    return "".join(lines)
