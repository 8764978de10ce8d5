"""Content errors as values: collected across every file, reported together, never raised at users."""
from __future__ import annotations

import difflib
from dataclasses import dataclass
from pathlib import Path

from .text import fold


def counted(number: int, noun: str, plural: str = "") -> str:
    """"1 error", "2 errors", "1 facility", "2 facilities": counts in messages, in good English
    (Vietnamese nouns do not change with the number)."""
    return f"{number} {noun if number == 1 else plural or noun + 's'}"


def display_path(path: Path, root: Path) -> str:
    """A file as messages name it: relative to where the command runs (`content/products/x.md`)."""
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return path.as_posix()


@dataclass(frozen=True)
class ContentError:
    """One problem in one place, in Vietnamese and English, with a suggestion where one exists."""

    path: str
    line: int | None
    field: str | None
    vi: str
    en: str
    # A warning asks the facility to look (an old commune name that became several): it is
    # reported like an error but does not stop the build.
    warning: bool = False

    def __str__(self) -> str:
        # a file name that is not UTF-8 (kept by Python as surrogates) is shown, never a crash
        path = self.path.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
        where = f"{path}:{self.line}" if self.line else path
        field = f" {self.field}:" if self.field else ""
        flag = " cảnh báo | warning:" if self.warning else ""
        return " ".join(f"{where}:{flag}{field} {self.vi} | {self.en}".split())  # always one line

    def sort_key(self) -> tuple[str, int, str]:
        return (self.path, self.line or 0, self.field or "")


class ErrorList(list[ContentError]):
    """Errors gathered while reading one file; `add` keeps call sites one line long."""

    def __init__(self, path: str) -> None:
        super().__init__()
        self.path = path

    def add(self, line: int | None, field: str | None, vi: str, en: str, warning: bool = False) -> None:
        self.append(ContentError(self.path, line, field, vi, en, warning))


class BuildFailed(Exception):
    """Raised once, after every file was read, when any content error was found."""

    def __init__(self, errors: list[ContentError], warnings: list[ContentError] | None = None) -> None:
        super().__init__(counted(len(errors), "error"))
        self.errors = sorted(errors, key=ContentError.sort_key)
        self.warnings = sorted(warnings or [], key=ContentError.sort_key)

    def __reduce__(self) -> tuple[type[BuildFailed], tuple[list[ContentError], list[ContentError]]]:
        # raised in a worker process, it reaches the parent pickled: with its errors, not its message
        return (type(self), (self.errors, self.warnings))


class OutputFailed(BuildFailed):
    """Writing the site failed part way (a full disk, a template that cannot be rendered): a build's
    staging folder is thrown away, but the preview writes pages in place, so it builds everything
    again next time rather than trust what it knows of the output folder."""


def suggest(value: str, choices: list[str] | tuple[str, ...] | set[str]) -> str | None:
    """The closest choice to a misspelt value (compared folded), or None."""
    folded: dict[str, str] = {}
    for choice in choices:  # the first of equal-looking choices wins: callers list codes first
        folded.setdefault(fold(choice), choice)
    close = difflib.get_close_matches(fold(value), list(folded), n=1, cutoff=0.6)
    return folded[close[0]] if close else None


def hint(vi: str, en: str, suggestion: str | None) -> tuple[str, str]:
    """Append `did you mean …?` to a message pair when there is a suggestion."""
    if suggestion is None:
        return vi, en
    return f"{vi}; có phải là `{suggestion}`?", f"{en}; did you mean `{suggestion}`?"
