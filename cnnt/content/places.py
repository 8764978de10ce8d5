"""Viet Nam's administrative units below the province, before and after 1 July 2025.

Two pinned libraries hold the data; this module only reads their files:

- `vietnam-provinces`: the National Statistics Office's list in force since 1 July 2025, the 34
  provinces and 3,321 communes, wards and special zones with their official codes;
- `vietnamadminunits`: the 63 provinces, their districts and 10,040 communes as they were, and which
  2025 unit each became. Only its data files are read: its converter falls back to an online
  geocoder for a commune that was split, and a build never reaches the network. A split commune is
  reported as ambiguous instead, for the facility to choose.

Names are matched the way people write them: with or without marks, in either tone placement, with
or without a prefix (`Phường 8`, `P.8`, `thị trấn`, `TT`, `huyện`, `H.`), `08` as `8`.
"""
from __future__ import annotations

import importlib.util
import json
import re
import sqlite3
from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass
from functools import cache, lru_cache
from pathlib import Path

from .text import fold, match_key, nfc

CURRENT_KINDS = ("xã", "phường", "đặc khu")  # since 1 July 2025: towns (thị trấn) and districts are gone
WARD_KINDS = ("xã", "phường", "thị trấn", "đặc khu")
DISTRICT_KINDS = ("huyện", "quận", "thị xã", "thành phố")

# Prefixes as people write them, folded → the kind they name. Single letters need a dot or a number
# after them (`P.8`, `Q1`), so a name that starts with one (`X Bang`) is never cut.
_KIND_WORDS = {"xa": "xã", "phuong": "phường", "thi tran": "thị trấn", "dac khu": "đặc khu", "huyen": "huyện",
               "quan": "quận", "thi xa": "thị xã", "thanh pho": "thành phố", "tinh": "tỉnh",
               "tp": "thành phố", "tx": "thị xã", "tt": "thị trấn", "p": "phường", "q": "quận", "h": "huyện",
               "x": "xã"}
_KIND_PREFIX = re.compile(
    r"^(?:(thanh pho|thi tran|thi xa|dac khu|phuong|huyen|quan|tinh|xa)(?:\.\s*|\s+|(?=\d))"
    r"|(tp|tx|tt)(?:\.\s*|\s+|(?=\d))|(p|q|h|x)(?:\.\s*|(?=\s*\d))\s*)")
_NOT_WORD = re.compile(r"[\W_]+")
_LEADING_ZEROS = re.compile(r"(?<!\d)0+(?=\d)")
COUNTRY_NAMES = {"viet nam", "vietnam", "vn"}


class _FoldTable(dict[int, str]):
    """`fold` one character at a time, remembered: place names are folded by the ten thousand, and
    `str.translate` with this table runs at C speed once each character has been seen."""

    def __missing__(self, code: int) -> str:
        self[code] = folded = fold(chr(code)) or chr(code)
        return folded


_FOLD = _FoldTable()


def fold_name(name: str) -> str:
    """`fold` for a single-spaced NFC name, character for character (the length is kept)."""
    return name.translate(_FOLD)


@lru_cache(maxsize=50_000)
def split_kind(written: str) -> tuple[str | None, str]:
    """(`phường`, `8`) from `P. 08`: the kind a prefix names, if any, and the name after it."""
    text = " ".join(nfc(written).split())
    folded = fold_name(text)
    match = _KIND_PREFIX.match(folded) if len(folded) == len(text) else None
    if match is None or match.end() == len(folded):
        return None, text
    word = next(group for group in match.groups() if group)
    return _KIND_WORDS[word], text[match.end():].strip()


def exact_key(name: str) -> str:
    """A name compared with its marks (Văn Lang ≠ Văn Lăng) but not its case, spaces, dashes or zeros."""
    return _NOT_WORD.sub("", _LEADING_ZEROS.sub("", match_key(name)))


def loose_key(name: str) -> str:
    """A name compared without its marks: what a facility typing without them writes."""
    return _NOT_WORD.sub("", _LEADING_ZEROS.sub("", fold_name(nfc(name))))


@dataclass(frozen=True)
class Commune:
    """A commune, ward or special zone in force since 1 July 2025."""

    code: str           # the official five-digit code
    name: str           # `Phường An Xuyên`
    kind: str           # xã, phường, đặc khu
    province_code: str  # the official two-digit code of its province

    @property
    def short(self) -> str:
        return split_kind(self.name)[1]

    def name_in(self, lang: str) -> str:
        """`Xã Đầm Dơi`, or in English `Dam Doi Commune` (names lose their marks, as on maps)."""
        if lang != "en":
            return self.name
        english = {"xã": "Commune", "phường": "Ward", "đặc khu": "Special Zone"}[self.kind]
        return f"{fold(self.short).title()} {english}"

    __getitem__ = name_in  # templates write `commune[lang]`


@dataclass(frozen=True)
class FormerUnit:
    """A commune, ward or town (or a district, `ward` empty) as it was before 1 July 2025."""

    province: str
    district: str
    ward: str
    ward_kind: str
    district_kind: str
    key: str  # the converter's `province_district_ward` key

    @property
    def label(self) -> str:
        return ", ".join(part for part in (self.ward, self.district, self.province) if part)


@dataclass(frozen=True)
class Found:
    """What a written place name is in the 2025 units: one commune, or several to choose from."""

    communes: tuple[Commune, ...]
    former: tuple[FormerUnit, ...] = ()  # the pre-2025 units the name matched, when it was a former name

    @property
    def commune(self) -> Commune | None:
        return self.communes[0] if len(self.communes) == 1 else None


@dataclass(frozen=True)
class OfficialProvince:
    code: str      # `96`
    name: str      # `Cà Mau`, `Thành phố Hà Nội`
    codename: str  # `ca_mau`
    city: bool     # a centrally run city
    former: tuple[str, ...]  # the pre-2025 provinces now part of it (its own former name included)


class ProvinceUnits:
    """One 2025 province's communes, the former units now in it, and where each of those went."""

    def __init__(self, code: str, communes: list[Commune], legacy: list[sqlite3.Row], current: list[sqlite3.Row],
                 converter: dict, new_key: str) -> None:
        self.code = code
        self.communes = communes
        self.by_code = {commune.code: commune for commune in communes}
        self.current_names: dict[str, list[Commune]] = defaultdict(list)
        for commune in communes:
            self.current_names[loose_key(commune.short)].append(commune)
        self.went = self._where_each_went(current, converter, new_key)
        self.old_provinces: dict[str, set[str]] = defaultdict(set)  # commune code → the provinces its land was in
        self.former_wards: dict[str, list[FormerUnit]] = defaultdict(list)
        self.former_districts: dict[str, list[FormerUnit]] = defaultdict(list)
        districts: dict[str, set[Commune]] = defaultdict(set, {key: set(communes) for key, communes in self.went.items()
                                                               if key.endswith("_")})  # island districts: no wards
        seen: set[str] = set()
        for row in legacy:
            unit = FormerUnit(nfc(row["province"]), nfc(row["district"]), nfc(row["ward"] or ""),
                              nfc(row["wardType"] or "").lower(), nfc(row["districtType"]).lower(),
                              f"{row['provinceKey']}_{row['districtKey']}_{row['wardKey'] or ''}")
            if unit.ward:
                self.former_wards[loose_key(_ward_short(unit))].append(unit)
            district_key = f"{row['provinceKey']}_{row['districtKey']}_"
            if district_key not in seen:
                seen.add(district_key)
                self.former_districts[loose_key(_district_short(unit))].append(
                    FormerUnit(unit.province, unit.district, "", "", unit.district_kind, district_key))
            districts[district_key].update(self.went.get(unit.key, ()))
            for commune in self.went.get(unit.key, ()):
                self.old_provinces[commune.code].add(split_kind(unit.province)[1])
        self.went.update((key, _by_code(communes)) for key, communes in districts.items())

    def _where_each_went(self, current: list[sqlite3.Row], converter: dict, new_key: str) -> dict[str, tuple[Commune, ...]]:
        """The converter names 2025 units by its own keys: find each in the official list by name."""
        official = {row["wardKey"]: self.current(*split_kind(row["ward"]))[0] for row in current}
        went: dict[str, set[Commune]] = defaultdict(set)
        for new_ward, olds in converter["DICT_PROVINCE_WARD_NO_DIVIDED"].get(new_key, {}).items():
            for old in olds:
                went[old].add(official[new_ward])
        for old, new_wards in converter["DICT_PROVINCE_WARD_DIVIDED"].get(new_key, {}).items():
            went[old].update(official[ward["newWardKey"]] for ward in new_wards)
        return {key: _by_code(communes) for key, communes in went.items()}

    def current(self, kind: str | None, name: str) -> list[Commune]:
        return _best(name, _of_kind(self.current_names.get(loose_key(name), []), kind, CURRENT_KINDS, "kind"),
                     lambda c: c.short)

    def former(self, kind: str | None, name: str, old_provinces: set[str] | None = None) -> list[FormerUnit]:
        """Former units of this name now in the province: communes and towns, or districts."""
        key = loose_key(name)
        wards = _of_kind(self.former_wards.get(key, []), kind, WARD_KINDS, "ward_kind")
        districts = _of_kind(self.former_districts.get(key, []), kind, DISTRICT_KINDS, "district_kind")
        units = _best(name, wards, _ward_short) + _best(name, districts, _district_short)
        return [u for u in units if old_provinces is None or u.key.split("_")[0] in old_provinces]

    def old_province(self, commune: Commune) -> str | None:
        """The province (before 1 July 2025) a commune's land was in, if it was all in one: `Bến Tre` for
        Xã Mỏ Cày, now in Vĩnh Long."""
        provinces = self.old_provinces.get(commune.code, set())
        return next(iter(provinces)) if len(provinces) == 1 else None

    def destinations(self, units: list[FormerUnit] | tuple[FormerUnit, ...]) -> tuple[Commune, ...]:
        return _by_code({c for unit in units for c in self.went.get(unit.key, ())})


class Places:
    """The 2025 units and the former ones, indexed a province at a time, when one is first asked
    about: a centre's catalogue is mostly one province, and indexing all 34 takes 0.3 s."""

    def __init__(self) -> None:
        self.provinces = official_provinces()
        self._units: dict[str, ProvinceUnits] = {}

    def units(self, province_code: str) -> ProvinceUnits:
        if province_code not in self._units:
            self._units[province_code] = _province_units(province_code)
        return self._units[province_code]

    def find(self, province_code: str, written: str, old_province: str | None = None) -> Found:
        """The 2025 commune a facility means by `written`: a 2025 name first, then a former commune,
        town, ward or district of what is now its province. Empty when nothing matches."""
        units = self.units(province_code)
        if written.strip().isdigit():  # an official code, which tells apart two communes of one name
            commune = units.by_code.get(f"{int(written):05d}")
            return Found((commune,) if commune else ())
        kind, name = split_kind(written)
        if kind is None or kind in CURRENT_KINDS:
            current = units.current(kind, name)
            if current:
                return Found(tuple(current))
        former = units.former(kind, name, {old_province} if old_province else None)
        return Found(units.destinations(former), tuple(former))

    def suggest(self, province_code: str, written: str) -> str | None:
        from .errors import suggest
        return suggest(split_kind(written)[1], [c.short for c in self.units(province_code).communes])

    def provinces_with(self, written: str) -> list[str]:
        """The 2025 provinces where a place of this name is: a former district or a 2025 commune,
        else a former commune (there are many of those): what `province: Long Xuyên` meant."""
        kind, name = split_kind(written)
        key = loose_key(name)
        every = [self.units(code) for code in self.provinces]
        found = {u.code for u in every if (kind is None or kind in DISTRICT_KINDS) and key in u.former_districts}
        found |= {u.code for u in every if (kind is None or kind in WARD_KINDS) and key in u.current_names}
        if not found:
            found = {u.code for u in every if (kind is None or kind in WARD_KINDS) and key in u.former_wards}
        return sorted(found)

    def joined_province(self, commune: Commune, joined: Collection[str]) -> str | None:
        """The province a 2025 commune's land was in before 1 July 2025, if it was all in one and that
        one is among `joined`, those its province took in then (its own name would tell nothing):
        `Bến Tre` for Xã Mỏ Cày, Vĩnh Long."""
        old = self.units(commune.province_code).old_province(commune)
        return old if old in joined else None

    def old_province(self, written: str) -> str | None:
        """The converter's key of a pre-2025 province written by name, if it is one."""
        return _sources().old_province_keys.get(loose_key(split_kind(written)[1]))

    def convert(self, province_code: str, address: str, province_names: tuple[str, ...] = ()) -> Conversion:
        """An address written the pre-2025 way, in the 2025 form, if that can be done without doubt
        (`province_names`: what the address may end with for its province, aliases and former names too)."""
        return _convert(self, province_code, address, province_names)


def street_part(address: str, commune: Commune | None, province_names: tuple[str, ...]) -> str:
    """The address without the commune, province and country at its end, for the fields of a vCard or
    a PostalAddress that hold those apart."""
    parts = [part.strip() for part in address.split(",") if part.strip()]
    ends = [{loose_key(split_kind(name)[1]) for name in province_names}, COUNTRY_NAMES]
    if commune is not None:
        ends.append({loose_key(commune.short)})
    while len(parts) > 1 and any(loose_key(split_kind(parts[-1])[1]) in end or fold(parts[-1]) in end for end in ends):
        parts.pop()
    return ", ".join(parts)


@dataclass(frozen=True)
class Conversion:
    """What an address became: `address` in the 2025 form (None when it cannot be said without doubt);
    `commune` the 2025 unit it names; `former` True when the written form was the pre-2025 one."""

    address: str | None
    commune: Commune | None
    former: bool


def _convert(places: Places, province_code: str, address: str, province_names: tuple[str, ...]) -> Conversion:
    parts = [part.strip() for part in address.replace(";", ",").split(",") if part.strip()]
    while parts and fold(parts[-1]).strip(". ") in COUNTRY_NAMES:
        parts.pop()
    own = loose_key(places.provinces[province_code].name.removeprefix("Thành phố "))
    names = {loose_key(split_kind(name)[1]) for name in province_names} | {own}
    # Read the end of the address as a district first, then as the province: `…, Thành phố Cà Mau`
    # is the former city (a district) as often as the province itself. A former province's name
    # (`tỉnh Bạc Liêu`) narrows the search to what was in it.
    end, old_provinces = len(parts), None
    while end > 0:
        found = _read_units(places, province_code, parts[:end], old_provinces)
        if found is not None:
            street, commune, former = found
            if commune is None:
                return Conversion(None, None, former)
            if not former:
                return Conversion(address, commune, False)
            return Conversion(", ".join([*street, commune.name, places.provinces[province_code].name]), commune, True)
        last = loose_key(split_kind(parts[end - 1])[1])
        if last not in names:
            break
        old = places.old_province(parts[end - 1])
        old_provinces = {old} if old and last != own else old_provinces
        end -= 1
    return Conversion(None, None, False)


def _read_units(places: Places, province_code: str, parts: list[str],
                old_provinces: set[str] | None) -> tuple[list[str], Commune | None, bool] | None:
    """(street, 2025 commune or None when in doubt, written the old way) from parts that end with a
    commune or a (commune, district) pair; None when they end with neither."""
    kind, name = split_kind(parts[-1])
    if kind not in WARD_KINDS and len(parts) >= 2:
        districts = [u for u in places.units(province_code).former(kind, name, old_provinces) if not u.ward]
        if districts:
            ward_kind, ward_name = split_kind(parts[-2])
            wards = [u for u in places.units(province_code).former(ward_kind, ward_name, old_provinces)
                     if u.ward and any(u.key.startswith(d.key) for d in districts)]
            if wards:
                communes = places.units(province_code).destinations(wards)
                return parts[:-2], communes[0] if len(communes) == 1 else None, True
            if ward_kind in WARD_KINDS or places.units(province_code).former(ward_kind, ward_name, old_provinces):
                # a commune that was not in that district: the end is not a district after all
                # (`xã Tân Hưng, Cà Mau`, the province), or the address is in doubt
                return None
            communes = places.units(province_code).destinations(districts)
            return parts[:-1], communes[0] if len(communes) == 1 else None, True
    return _read_commune(places, province_code, parts, old_provinces)


def _read_commune(places: Places, province_code: str, parts: list[str],
                  old_provinces: set[str] | None) -> tuple[list[str], Commune | None, bool] | None:
    """Parts that end with a commune alone: a 2025 one (the address is already in the new form),
    else a former one."""
    kind, name = split_kind(parts[-1])
    if kind is None or kind in CURRENT_KINDS:
        current = places.units(province_code).current(kind, name)
        if len(current) == 1:
            return parts[:-1], current[0], False
    if kind not in DISTRICT_KINDS:
        wards = [u for u in places.units(province_code).former(kind, name, old_provinces) if u.ward]
        if wards:
            communes = places.units(province_code).destinations(wards)
            return parts[:-1], communes[0] if len(communes) == 1 else None, True
    return None


def _by_code(communes: set[Commune] | frozenset[Commune]) -> tuple[Commune, ...]:
    return tuple(sorted(communes, key=lambda c: c.code))


def _of_kind(units: list, kind: str | None, level: tuple[str, ...], attribute: str) -> list:
    """Units of the kind written, else of any kind of the same level: communes become wards, districts
    towns and cities, and a facility may still write the older kind."""
    if kind is None:
        return units
    same = [u for u in units if getattr(u, attribute) == kind]
    return same or ([u for u in units if getattr(u, attribute) in level] if kind in level else [])


def _best(written: str, candidates: list, name_of) -> list:
    """Of candidates that match without marks, those that also match with them, if any do."""
    unique = list(dict.fromkeys(candidates))
    exact = [c for c in unique if exact_key(name_of(c)) == exact_key(written)]
    return exact or unique


def _ward_short(unit: FormerUnit) -> str:
    return split_kind(unit.ward)[1]


def _district_short(unit: FormerUnit) -> str:
    return split_kind(unit.district)[1]


def _package_data(package: str) -> Path:
    """A library's data folder, found without importing the library (its import pulls in more)."""
    spec = importlib.util.find_spec(package)
    if spec is None or spec.origin is None:
        raise RuntimeError(f"{package} is not installed: python -m pip install -r requirements.txt")
    return Path(spec.origin).parent / "data"


def province_of_place(written: str) -> tuple[str, str] | None:
    """(vi, en) saying which province a place name is in, for a facility that wrote `province: Long
    Xuyên` (a former city, now wards of An Giang); None when it names no place."""
    if not loose_key(split_kind(written)[1]):
        return None
    codes = official().provinces_with(written)
    names = [official_provinces()[code].name.removeprefix("Thành phố ") for code in codes]
    if len(names) == 1:
        return (f"`{written}` là địa danh nay thuộc {names[0]}; ghi `province: {names[0]}`",
                f"`{written}` is a place now in {names[0]}; write `province: {names[0]}`")
    if names:
        listed = ", ".join(names[:6]) + (", …" if len(names) > 6 else "")
        return (f"có địa danh `{written}` ở nhiều tỉnh ({listed}); ghi tỉnh, thành phố nơi cơ sở đặt trụ sở",
                f"there is a place called `{written}` in several provinces ({listed}); write the facility's province")
    return None


@dataclass(frozen=True)
class _Sources:
    divisions: list[dict]              # vietnam-provinces: 2025 provinces, each with its communes
    converter: dict                    # vietnamadminunits: which 2025 unit each former one became
    old_provinces: dict[str, str]      # a former province's converter key → its name
    old_province_keys: dict[str, str]  # loose key of a former province's name → its converter key
    new_keys: dict[str, str]           # a 2025 province's official code → its converter key


@cache
def _sources() -> _Sources:
    divisions = json.loads((_package_data("vietnam_provinces") / "nested-divisions.json").read_bytes())
    data = _package_data("vietnamadminunits")
    converter = json.loads((data / "converter_2025.json").read_bytes())
    with _database() as database:
        names = {key: nfc(name) for key, name in
                 database.execute("SELECT DISTINCT provinceKey, provinceShort FROM admin_units_legacy")}
        new_keys = {f"{int(code):02d}": key for code, key in
                    database.execute("SELECT DISTINCT provinceCode, provinceKey FROM admin_units")}
    return _Sources(divisions, converter, names, {loose_key(name): key for key, name in names.items()}, new_keys)


@cache
def official_communes() -> dict[str, list[Commune]]:
    """The 3,321 communes by their province's official code, as the official list has them."""
    return {f"{province['code']:02d}": [Commune(f"{ward['code']:05d}", nfc(ward["name"]), ward["division_type"],
                                                f"{province['code']:02d}") for ward in province["wards"]]
            for province in _sources().divisions}


def _province_units(code: str) -> ProvinceUnits:
    sources = _sources()
    new_key = sources.new_keys[code]
    olds = sources.converter["DICT_PROVINCE"][new_key]
    with _database() as database:
        legacy = database.execute(
            "SELECT provinceKey, province, districtKey, district, districtType, wardKey, ward, wardType "
            f"FROM admin_units_legacy WHERE provinceKey IN ({','.join('?' * len(olds))})", olds).fetchall()
        current = database.execute("SELECT wardKey, ward FROM admin_units WHERE provinceKey = ?", (new_key,)).fetchall()
    return ProvinceUnits(code, official_communes()[code], legacy, current, sources.converter, new_key)


class _database:
    """The converter's tables, opened read-only: nothing is ever written into the installed package."""

    def __enter__(self) -> sqlite3.Connection:
        path = _package_data("vietnamadminunits") / "dataset.db"
        self.connection = sqlite3.connect(f"{path.as_uri()}?mode=ro&immutable=1", uri=True)
        self.connection.row_factory = sqlite3.Row
        return self.connection

    def __exit__(self, *exc: object) -> None:
        self.connection.close()


@cache
def official_provinces() -> dict[str, OfficialProvince]:
    """The 34 provinces by their official code, with the former provinces each took in: what the
    provinces vocabulary is made from (fast: the communes are not read)."""
    sources = _sources()
    provinces = {}
    for province in sources.divisions:
        code = f"{province['code']:02d}"
        former = sources.converter["DICT_PROVINCE"][sources.new_keys[code]]
        provinces[code] = OfficialProvince(code, nfc(province["name"]), province["codename"],
                                           province["division_type"] == "thành phố trung ương",
                                           tuple(sorted(sources.old_provinces[key] for key in former)))
    return provinces


@cache
def official() -> Places:
    """The one index of this process: each province is read when it is first asked about."""
    return Places()
