"""Read typed fields out of one front matter mapping, collecting every problem as an error.

Each `Fields` wraps a mapping (an entry's front matter, or one item such as `awards[2]`);
its methods return the checked value or None, and never raise on bad content.
"""
from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterable
from typing import TypeVar

from .errors import ErrorList, hint, suggest
from .frontmatter import REJECTED, Value
from .vocab import Match, Vocabulary

T = TypeVar("T")

MIN_YEAR = 1990
SHORT_VOCABULARY = 13  # up to this many terms, an unknown value's message lists them all
URL_SCHEMES = ("http://", "https://", "mailto:", "tel:")
_WEB_URL = re.compile(r"^https?://[^\s/?#]+\.[^\s/?#]+(?:[/?#]\S*)?$", re.IGNORECASE)
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_PHONE = re.compile(r"^\+?[0-9][0-9 .()-]{6,20}$")
_GITHUB_USER = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38}$")

TYPE_NAMES = {
    "text": ("văn bản", "text"),
    "integer": ("số nguyên", "a whole number"),
    "number": ("số", "a number"),
    "list": ("danh sách `[a, b]` hoặc các dòng `- a`", "a list `[a, b]` or `- a` lines"),
    "mapping": ("nhóm trường `{a: …, b: …}`", "a mapping `{a: …, b: …}`"),
    "date": ("ngày dạng `YYYY-MM-DD`", "a date `YYYY-MM-DD`"),
}


class Fields:
    """Typed access to one mapping's fields; unknown names are reported once, on creation."""

    def __init__(self, mapping: dict[str, Value], line: int, errors: ErrorList, build_date: dt.date,
                 allowed: Iterable[str], prefix: str = "",
                 unknown: tuple[str, str] = ("trường không được hỗ trợ", "unknown field")) -> None:
        self.mapping = mapping
        self.line = line
        self.errors = errors
        self.build_date = build_date
        self.prefix = prefix
        allowed = list(allowed)
        for name, value in mapping.items():
            if name not in allowed:
                vi, en = hint(*unknown, suggest(name, allowed))
                self.errors.add(value.line, self.label(name), vi, en)

    # -- reporting -------------------------------------------------------------------------

    def label(self, name: str) -> str:
        return f"{self.prefix}.{name}" if self.prefix else name

    def error(self, name: str, value: Value | None, vi: str, en: str) -> None:
        self.errors.add(value.line if value else self.line, self.label(name), vi, en)

    def warn(self, name: str, value: Value | None, vi: str, en: str) -> None:
        self.errors.add(value.line if value else self.line, self.label(name), vi, en, warning=True)

    def wrong_type(self, name: str, value: Value, expected: str) -> None:
        vi, en = TYPE_NAMES[expected]
        self.error(name, value, f"phải là {vi}", f"must be {en}")

    def get(self, name: str, required: bool = False) -> Value | None:
        value = self.mapping.get(name)
        if value is not None and value.data is REJECTED:
            return None  # already reported where it was read
        if value is not None and value.data is None:
            value = None  # `field:` with nothing after it counts as absent
        if value is None and required:
            self.error(name, None, "thiếu trường bắt buộc", "required field is missing")
        return value

    # -- scalars ---------------------------------------------------------------------------

    def text(self, name: str, required: bool = False, max_len: int | None = None) -> str | None:
        value = self.get(name, required)
        return self.text_of(name, value, max_len) if value else None

    def text_of(self, name: str, value: Value, max_len: int | None = None) -> str | None:
        if not value.is_scalar or value.raw is None:
            self.wrong_type(name, value, "text")
            return None
        text = value.raw.strip()  # as written: `NO` stays `NO`, `0306.17` keeps its zero
        if not text:
            self.error(name, value, "không được để trống", "must not be empty")
            return None
        if max_len is not None and len(text) > max_len:
            self.error(name, value, f"dài {len(text)} ký tự, tối đa {max_len}",
                       f"is {len(text)} characters long, at most {max_len}")
            return None
        return text

    def integer(self, name: str, minimum: int | None = None, maximum: int | None = None,
                required: bool = False) -> int | None:
        value = self.get(name, required)
        if value is None:
            return None
        if isinstance(value.data, bool) or not isinstance(value.data, int):
            self.wrong_type(name, value, "integer")
            return None
        number = value.data
        if minimum is not None and number < minimum or maximum is not None and number > maximum:
            self.error(name, value, f"phải nằm trong khoảng {minimum}–{maximum}",
                       f"must be between {minimum} and {maximum}")
            return None
        return number

    def number(self, name: str, minimum: float, maximum: float, required: bool = False) -> float | None:
        value = self.get(name, required)
        if value is None:
            return None
        if isinstance(value.data, bool) or not isinstance(value.data, (int, float)):
            self.wrong_type(name, value, "number")
            return None
        if not minimum <= value.data <= maximum:
            self.error(name, value, f"phải nằm trong khoảng {minimum} đến {maximum}",
                       f"must be between {minimum} and {maximum}")
            return None
        return float(value.data)

    def year(self, name: str, required: bool = False, minimum: int = MIN_YEAR) -> int | None:
        value = self.get(name, required)
        if value is None:
            return None
        if isinstance(value.data, bool) or not isinstance(value.data, int):
            self.error(name, value, "phải là một năm, ví dụ `2024`", "must be a year, for example `2024`")
            return None
        if value.data > self.build_date.year:
            self.error(name, value, f"năm {value.data} nằm trong tương lai (ngày dựng trang {self.build_date:%d/%m/%Y})",
                       f"year {value.data} is in the future (build date {self.build_date:%Y-%m-%d})")
            return None
        if value.data < minimum:
            self.error(name, value, f"năm {value.data} không hợp lệ: phải từ {minimum} trở về sau",
                       f"year {value.data} is not possible: it must be {minimum} or later")
            return None
        return value.data

    def date(self, name: str) -> dt.date | None:
        value = self.get(name)
        if value is None:
            return None
        if isinstance(value.data, dt.datetime):
            return value.data.date()
        if isinstance(value.data, dt.date):
            return value.data
        self.wrong_type(name, value, "date")
        return None

    def past_date(self, name: str, required: bool = False) -> dt.date | None:
        """A day that has happened: from MIN_YEAR up to the build date (a decision signed, an entry withdrawn)."""
        if self.get(name, required) is None:
            return None
        day = self.date(name)
        if day is not None and (day.year < MIN_YEAR or day > self.build_date):
            self.error(name, self.mapping.get(name),
                       f"ngày {day:%d/%m/%Y} không hợp lệ: từ năm {MIN_YEAR} đến ngày dựng trang ({self.build_date:%d/%m/%Y})",
                       f"date {day} is not possible: from {MIN_YEAR} up to the build date ({self.build_date})")
            return None
        return day

    def term(self, name: str, vocabulary: Vocabulary, vi_name: str, en_name: str,
             required: bool = False) -> Match | None:
        value = self.get(name, required)
        text = self.text_of(name, value) if value else None
        return self.term_of(name, value, text, vocabulary, vi_name, en_name) if value and text else None

    def term_of(self, name: str, value: Value, text: str, vocabulary: Vocabulary,
                vi_name: str, en_name: str) -> Match | None:
        match = vocabulary.lookup(text)
        if match is None:
            vi, en = f"`{text}` không có trong danh sách {vi_name}", f"`{text}` is not a known {en_name}"
            explained = vocabulary.explain(text) if vocabulary.explain else None
            if explained is not None:  # a place name written as a province: say where it is now
                self.error(name, value, f"{vi}: {explained[0]}", f"{en}: {explained[1]}")
                return None
            suggestion = vocabulary.suggestion(text)
            if suggestion is None and len(vocabulary) <= SHORT_VOCABULARY:
                codes = ", ".join(term.code for term in vocabulary)
                vi, en = f"{vi} (dùng một trong: {codes})", f"{en} (use one of: {codes})"
            vi, en = hint(vi, en, suggestion)
            self.error(name, value, vi, en)
        return match

    def url(self, name: str) -> str | None:
        """A website: links other than http(s), mailto and tel are refused; a website must be http(s)."""
        text = self.text(name)
        if text is None:
            return None
        if not text.lower().startswith(URL_SCHEMES):
            self.error(name, self.mapping[name],
                       "chỉ chấp nhận liên kết bắt đầu bằng http://, https://, mailto: hoặc tel:",
                       "only links starting with http://, https://, mailto: or tel: are accepted")
            return None
        if not _WEB_URL.match(text):
            self.error(name, self.mapping[name], "phải là địa chỉ web dạng `https://ten-mien.vn/…`",
                       "must be a web address like `https://example.vn/…`")
            return None
        return text

    def email(self, name: str) -> str | None:
        text = self.text(name)
        if text is not None and not _EMAIL.match(text):
            self.error(name, self.mapping[name], "địa chỉ email không hợp lệ", "not a valid email address")
            return None
        return text

    def phone(self, name: str) -> str | None:
        text = self.text(name)
        if text is not None and not _PHONE.match(text):
            self.error(name, self.mapping[name],
                       "số điện thoại chỉ gồm chữ số, khoảng trắng, dấu chấm, gạch ngang và `+` ở đầu",
                       "a phone number has only digits, spaces, dots, dashes and a leading `+`")
            return None
        return text

    # -- collections -----------------------------------------------------------------------

    def items(self, name: str) -> list[Value]:
        """A list field's items; a single scalar is read as a one-item list."""
        value = self.get(name)
        if value is None:
            return []
        if isinstance(value.data, list):
            return value.data
        if value.is_scalar:
            return [value]
        self.wrong_type(name, value, "list")
        return []

    def text_list(self, name: str, max_len: int = 200) -> tuple[str, ...]:
        texts = (self.text_of(f"{name}[{i}]", item, max_len) for i, item in enumerate(self.items(name), 1))
        return tuple(dict.fromkeys(text for text in texts if text))

    def github_users(self, name: str) -> tuple[str, ...]:
        users = []
        for index, item in enumerate(self.items(name), 1):
            text = self.text_of(f"{name}[{index}]", item)
            if text and not _GITHUB_USER.match(text.removeprefix("@")):
                self.error(f"{name}[{index}]", item, f"`{text}` không phải tên người dùng GitHub",
                           f"`{text}` is not a GitHub user name")
            elif text:
                users.append(text.removeprefix("@"))
        return tuple(users)

    def mapping_field(self, name: str, allowed: Iterable[str], required: bool = False) -> Fields | None:
        value = self.get(name, required)
        if value is None:
            return None
        if not isinstance(value.data, dict):
            self.wrong_type(name, value, "mapping")
            return None
        return Fields(value.data, value.line, self.errors, self.build_date, allowed, self.label(name))

    def mapping_list(self, name: str, allowed: Iterable[str], parse: Callable[[Fields], T | None]) -> tuple[T, ...]:
        """Parse each `{…}` item of a list field with `parse`, labelling errors `name[n].field`."""
        allowed = list(allowed)
        results = []
        for index, item in enumerate(self.items(name), 1):
            label = f"{name}[{index}]"
            if not isinstance(item.data, dict):
                self.wrong_type(label, item, "mapping")
                continue
            parsed = parse(Fields(item.data, item.line, self.errors, self.build_date, allowed, self.label(label)))
            if parsed is not None:
                results.append(parsed)
        return tuple(results)
