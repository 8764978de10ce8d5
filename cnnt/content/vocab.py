"""Vocabularies (provinces, countries, levels, groups, …) are data files in `vocabularies/`; this reads them."""
from __future__ import annotations

import hashlib
import pickle
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import yaml

from .errors import BuildFailed, ContentError, display_path, hint, suggest
from .places import official_provinces, province_of_place
from .text import fold, match_key, other_tone_placement

VOCABULARY_DIR = Path(__file__).resolve().parent / "vocabularies"


@dataclass(frozen=True)
class Term:
    """One entry of a vocabulary: a stable code and its Vietnamese and English names."""

    code: str
    vi: str
    en: str
    rank: int = 0
    extra: dict = field(default_factory=dict, compare=False, hash=False)
    vocabulary: str = field(default="", compare=False, hash=False, repr=False)  # the one it was read from

    def name(self, lang: str) -> str:
        return self.en if lang == "en" else self.vi

    __getitem__ = name  # templates write `term[lang]`

    def __reduce__(self) -> tuple:
        """A term of the vocabularies this process read is pickled as its name and code, and comes back
        as the same term, not a copy: every entry names a few (a province, a group, markets, levels),
        and copies of them were a third of the time to read the engine's cache of 12,000 entries."""
        loaded = _LOADED.get((self.vocabulary, self.code))
        if loaded is not None and loaded[0] is self:
            return (_loaded_term, (self.vocabulary, self.code, loaded[1]))
        return (Term, (self.code, self.vi, self.en, self.rank, self.extra, self.vocabulary))


# (vocabulary, code) → the term as this process last read it, and a digest of what it says
_LOADED: dict[tuple[str, str], tuple[Term, str]] = {}


def _term_digest(term: Term) -> str:
    return hashlib.blake2b(repr((term.code, term.vi, term.en, term.rank, term.extra)).encode(), digest_size=12).hexdigest()


def _loaded_term(vocabulary: str, code: str, digest: str) -> Term:
    """The term a pickle names (`Term.__reduce__`). One that says something else now, or is gone, makes
    the pickle unreadable, and whoever reads it starts again without it (never with the wrong term)."""
    if not _LOADED:
        load_vocabularies()
    loaded = _LOADED.get((vocabulary, code))
    if loaded is None or loaded[1] != digest:
        raise pickle.UnpicklingError(f"the vocabulary term {vocabulary}:{code} has changed")
    return loaded[0]


@dataclass(frozen=True)
class Match:
    """What a value written in an entry resolved to; `former` is set when it was a pre-2025 name."""

    term: Term
    former: str | None = None


class Vocabulary:
    """Terms looked up by code, alias or name, ignoring case, NFD and tone placement.

    `prefixes` are words people write before a name and that do not change it (`Tỉnh Cà Mau`)."""

    def __init__(self, name: str, terms: list[Term], aliases: dict[str, Match], prefixes: tuple[str, ...] = (),
                 explain: Callable[[str], tuple[str, str] | None] | None = None) -> None:
        self.name = name
        self.explain = explain  # (vi, en) saying what an unknown value is, when it can
        alternatives = "|".join(re.escape(fold(p)) for p in prefixes)
        self._prefix = re.compile(rf"^(?:{alternatives})\s*") if prefixes else None
        self.terms = terms
        self.aliases = aliases
        self.by_code = {term.code: term for term in terms}
        self._exact: dict[str, Match] = {}
        self._folded: dict[str, Match] = {}
        for term in terms:
            for written in (term.code, term.vi, term.en):
                self._index(written, Match(term))
        for written, match in aliases.items():
            self._index(written, match)

    def _index(self, written: str, match: Match) -> None:
        self._exact.setdefault(match_key(written), match)
        self._folded.setdefault(fold(written), match)

    def lookup(self, written: str) -> Match | None:
        """The term a facility meant, matching exactly first, then without diacritics, then
        without an administrative prefix."""
        match = self._exact.get(match_key(written)) or self._folded.get(fold(written))
        if match is None and self._prefix is not None:
            bare = self._prefix.sub("", fold(written), count=1)
            match = self._folded.get(bare) if bare != fold(written) else None
        return match

    def spellings(self, only: Term | None = None) -> list[str]:
        """Every usual way to write a term (or `only` that one), for JSON Schema: code, names, aliases and
        former names, in both tone placements, without marks, in lower and upper case. (The validator
        accepts still more.)"""
        terms = [only] if only else self.terms
        written = [form for term in terms for form in (term.code, term.vi, term.en)]
        written += [alias for alias, match in self.aliases.items() if only is None or match.term == only]
        forms = [form for text in written for form in (text, other_tone_placement(text), fold(text).title())]
        return list(dict.fromkeys(form for text in forms for form in (text, text.lower(), text.upper())))

    def suggestion(self, written: str) -> str | None:
        return suggest(written, [term.code for term in self.terms] + [term.vi for term in self.terms])

    def __iter__(self):
        return iter(self.terms)

    def __len__(self) -> int:
        return len(self.terms)


# libyaml's parser where PyYAML was built with it: the same safe constructor, in a tenth of the time
# (the vocabularies are read on every build).
SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _load(path: Path) -> dict:
    with path.open(encoding="utf-8") as stream:
        return yaml.load(stream, Loader=SAFE_LOADER)  # noqa: S506 (a safe loader)


# Written before a province's name without changing it: `Tỉnh Cà Mau`, `TP. Cần Thơ`.
PROVINCE_PREFIXES = ("tỉnh", "thành phố", "tp.", "tp", "t.")


def _vocabulary(name: str, rows: dict, former_key: str | None = None, prefixes: tuple[str, ...] = (),
                explain: Callable[[str], tuple[str, str] | None] | None = None) -> Vocabulary:
    terms: list[Term] = []
    aliases: dict[str, Match] = {}
    for code, row in rows.items():
        try:
            row = dict(row)
            term = Term(str(code), row.pop("vi"), row.pop("en"), int(row.pop("rank", 0)), row, name)
        except (KeyError, TypeError, ValueError) as exc:
            raise _TermMistake(str(code), exc) from exc
        _LOADED[(name, term.code)] = (term, _term_digest(term))
        terms.append(term)
        for alias in row.get("aliases", []):
            aliases[alias] = Match(term)
        for former in row.get("former", []) if former_key else []:
            aliases[former] = Match(term, former=former)
    return Vocabulary(name, terms, aliases, prefixes, explain)


@dataclass(frozen=True)
class Vocabularies:
    """Every vocabulary the model checks against and the pages show."""

    provinces: Vocabulary
    countries: Vocabulary
    award_levels: Vocabulary
    regions: Vocabulary
    product_groups: Vocabulary
    facility_kinds: Vocabulary
    certification_schemes: Vocabulary
    support_activities: Vocabulary
    support_statuses: Vocabulary
    units: Vocabulary  # the words of capacity units, read part by part (`unit_in`)

    def unit_in(self, written: str, lang: str) -> str:
        """A capacity unit in the reader's language: `t/year` → `tấn/năm`; words not known stay as written."""
        parts = re.split(r"(\s*/\s*)", written)
        return "".join(part if index % 2 else (match.term.name(lang) if (match := self.units.lookup(part)) else part)
                       for index, part in enumerate(parts))

    @cached_property
    def level_order(self) -> list[Term]:
        """Award levels from highest to lowest."""
        return sorted(self.award_levels, key=lambda term: -term.rank)


def province_rows(rows: dict) -> dict:
    """The provinces vocabulary: names, official codes and former provinces from the official lists
    (`places.official_provinces`), the English names and other spellings from `provinces.yaml`."""
    official = {province.codename.replace("_", "-"): province for province in official_provinces().values()}
    merged = {}
    for code, row in rows.items():
        province = official.get(code)
        if province is None:
            raise _UnknownProvince(str(code), suggest(str(code), list(official)))
        try:
            vi = row.get("vi") or province.name.removeprefix("Thành phố ")
            own = {fold(vi), fold(province.name.removeprefix("Thành phố "))}  # its own name before 2025
            joined = [name for name in province.former if fold(name) not in own]  # on 1 July 2025
            former = joined + list(row.get("former", []))
            merged[code] = {"vi": vi, "en": row["en"], "official_code": province.code, "city": province.city,
                            "official_name": province.name, "former": former, "joined": joined,
                            "aliases": [province.name, *row.get("aliases", [])]}
        except (KeyError, TypeError, AttributeError) as exc:
            raise _TermMistake(str(code), exc) from exc
    return merged


# The files last read and what they gave: a build reads the vocabularies once to unpickle its cache's
# terms and once to check the content; the second time they are the same bytes (a tenth of a second).
_LAST_READ: tuple[object, Vocabularies, dict[tuple[str, str], tuple[Term, str]]] | None = None


def load_vocabularies(directory: Path = VOCABULARY_DIR) -> Vocabularies:
    """Read all vocabulary files. They ship with the package, and the centre edits them (the preview
    reads them again when one is saved): a file that is not a vocabulary stops the build with its
    file and line, never as an error in the generator. Files the same, byte for byte, as at the last
    reading give what it gave."""
    global _LAST_READ
    read_as = (str(directory), [(path.name, path.read_bytes()) for path in sorted(directory.glob("*.yaml"))])
    if _LAST_READ is not None and _LAST_READ[0] == read_as:
        _LOADED.update(_LAST_READ[2])  # (terms of another folder read since are not the ones named)
        return _LAST_READ[1]
    _LOADED.clear()
    vocabularies = _read_vocabularies(directory)
    _LAST_READ = (read_as, vocabularies, dict(_LOADED))
    return vocabularies


def _read_vocabularies(directory: Path) -> Vocabularies:
    mistakes: list[ContentError] = []

    def read(name: str, convert: Callable[[dict], dict] | None = None, **options: Any) -> Vocabulary:
        path = directory / f"{name}.yaml"
        try:
            rows = _load(path)
            return _vocabulary(name, convert(rows) if convert else rows, **options)
        except Exception as exc:  # noqa: BLE001 (what the centre wrote wrong, as a mistake in the file)
            mistakes.append(_mistake(path, exc))
            return Vocabulary(name, [], {})

    vocabularies = Vocabularies(
        provinces=read("provinces", province_rows, former_key="former", prefixes=PROVINCE_PREFIXES,
                       explain=province_of_place),
        countries=read("countries"),
        award_levels=read("award_levels"),
        regions=read("regions"),
        product_groups=read("product_groups"),
        facility_kinds=read("facility_kinds"),
        certification_schemes=read("certification_schemes"),
        support_activities=read("support_activities"),
        support_statuses=read("support_statuses"),
        units=read("units"),
    )
    if mistakes:
        raise BuildFailed(mistakes)
    return vocabularies


class _TermMistake(Exception):
    """A term of a vocabulary that is not `code: {vi: …, en: …}` (`rank` a number)."""

    def __init__(self, code: str, cause: Exception) -> None:
        super().__init__(code)
        self.code, self.cause = code, cause


class _UnknownProvince(Exception):
    """A code in `provinces.yaml` that names no province of the official lists."""

    def __init__(self, code: str, suggestion: str | None) -> None:
        super().__init__(code)
        self.code, self.suggestion = code, suggestion


def _mistake(path: Path, exc: Exception) -> ContentError:
    """A vocabulary file that could not be read, as the error a build reports: at its line if known."""
    shown = display_path(path, Path.cwd())
    mark = getattr(exc, "problem_mark", None)
    if isinstance(exc, yaml.YAMLError):
        problem = getattr(exc, "problem", None) or exc
        return ContentError(shown, mark.line + 1 if mark else None, None, f"lỗi cú pháp YAML: {problem}",
                            f"YAML syntax error: {problem}")
    if isinstance(exc, _TermMistake):
        return ContentError(shown, _line_of(path, exc.code), exc.code,
                            f"mỗi mục cần tên `vi` và `en` (và `rank` là một số) ({type(exc.cause).__name__}: "
                            f"{exc.cause})", f"each term needs its `vi` and `en` names (and `rank` a number) "
                            f"({type(exc.cause).__name__}: {exc.cause})")
    if isinstance(exc, _UnknownProvince):
        vi, en = hint("không phải mã của một tỉnh, thành phố trong danh sách chính thức (34 đơn vị từ 1/7/2025)",
                      "not the code of a province in the official list (the 34 units since 1 July 2025)",
                      exc.suggestion)
        return ContentError(shown, _line_of(path, exc.code), exc.code, vi, en)
    return ContentError(shown, None, None, f"không đọc được từ vựng ({type(exc).__name__}: {exc}): mỗi dòng là "
                        "`mã: {vi: …, en: …}`", f"cannot read the vocabulary ({type(exc).__name__}: {exc}): "
                        "each line is `code: {vi: …, en: …}`")


def _line_of(path: Path, code: str) -> int | None:
    """The line where a term's code begins its entry, if it is written plainly."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        return None
    pattern = re.compile(rf"""^["']?{re.escape(code)}["']?\s*:""")
    return next((number for number, line in enumerate(lines, 1) if pattern.match(line)), None)
