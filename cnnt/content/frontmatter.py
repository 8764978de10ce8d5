"""Read an entry file: UTF-8 text, YAML front matter between `---` lines, then a Markdown body.

YAML is composed into nodes (never constructed into objects), so tags such as
`!!python/object` cannot run anything; every value keeps the line it was written on, for
`path:line` messages. Hostile documents are refused with a message, never a crash or a hang.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import yaml

from .errors import ErrorList
from .text import nfc

MAX_FILE_BYTES = 512 * 1024
# A front matter of a few dozen lines has a few hundred nodes; anything far larger is an alias
# bomb ("billion laughs") or not an entry at all. Counting visits stops it in milliseconds.
MAX_NODES = 20_000
MAX_DEPTH = 12
# libyaml crashes the process on very deep nesting (seen at depth 50,000). Nesting depth cannot
# exceed the number of structural characters, so only documents with many of them go to the
# slower pure-Python composer, which fails with a catchable RecursionError instead.
C_LOADER_MAX_INDICATORS = 5_000

# libyaml's wording rarely tells a non-programmer what to do; the usual cause is an unquoted value.
QUOTE_HINT = ("Kiểm tra thụt lề; giá trị có ký tự như : # * & ! [ ] { } thì đặt trong dấu ngoặc kép \"…\"",
              "Check the indentation; put a value containing : # * & ! [ ] { } in double quotes \"…\"")

_FAST_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_CONSTRUCTOR = yaml.constructor.SafeConstructor()
_SCALAR_TAGS = {
    "tag:yaml.org,2002:str",
    "tag:yaml.org,2002:int",
    "tag:yaml.org,2002:float",
    "tag:yaml.org,2002:bool",
    "tag:yaml.org,2002:null",
    "tag:yaml.org,2002:timestamp",
}
_STR_TAG = "tag:yaml.org,2002:str"
_SEQ_TAG = "tag:yaml.org,2002:seq"
_MAP_TAG = "tag:yaml.org,2002:map"

REJECTED = object()  # a value already reported as unreadable; fields treat it as present but invalid


class Value(NamedTuple):
    """A YAML value and the file line it was written on.

    `data` is a scalar, a list of Values or a dict of Values. `raw` is a scalar's source text:
    text fields read it, so that `NO` (Norway) stays `NO` and is not YAML 1.1's `false`.
    (A named tuple: a catalogue makes hundreds of thousands of these.)
    """

    data: object
    line: int
    raw: str | None = None

    @property
    def is_scalar(self) -> bool:
        return not isinstance(self.data, (list, dict))


@dataclass
class Document:
    """An entry file split into front matter (None when absent) and body."""

    front: dict[str, Value] | None
    front_line: int
    body: str
    body_line: int


class _Budget:
    def __init__(self) -> None:
        self.nodes = 0


class _TooLarge(Exception):
    pass


def decode(raw: bytes, errors: ErrorList) -> str | None:
    """UTF-8 text with a BOM removed and line ends unified, or None with an error."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        errors.add(line, None,
                   f"tệp không phải UTF-8 hợp lệ (byte {exc.start}); hãy lưu tệp với mã hoá UTF-8",
                   f"file is not valid UTF-8 (byte {exc.start}); save it with UTF-8 encoding")
        return None
    return text.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n")


def read_document(raw: bytes, errors: ErrorList, front_required: bool = True) -> Document | None:
    """Split and parse one entry file; problems go to `errors` and give None."""
    if len(raw) > MAX_FILE_BYTES:
        errors.add(None, None, f"tệp quá lớn (tối đa {MAX_FILE_BYTES // 1024} KB)",
                   f"file too large (at most {MAX_FILE_BYTES // 1024} KB)")
        return None
    text = decode(raw, errors)
    if text is None:
        return None
    lines = text.split("\n")
    if not lines or lines[0].strip() != "---":
        if not front_required:
            return Document(None, 0, nfc(text), 1)
        errors.add(1, None,
                   "thiếu phần khai báo đầu tệp: dòng đầu tiên phải là `---`",
                   "missing front matter: the first line must be `---`")
        return None
    end = next((i for i in range(1, len(lines)) if lines[i].rstrip() in ("---", "...")), None)
    if end is None:
        errors.add(1, None, "phần khai báo đầu tệp không có dòng `---` đóng lại",
                   "front matter is not closed by a `---` line")
        return None
    front = parse_yaml("\n".join(lines[1:end]), first_line=2, errors=errors)
    if front is None:
        return None
    if not isinstance(front.data, dict):
        errors.add(2, None, "phần khai báo đầu tệp phải là các dòng `trường: giá trị`",
                   "front matter must be a mapping of `field: value` lines")
        return None
    return Document(front.data, 2, nfc("\n".join(lines[end + 1:])), end + 2)


def parse_yaml(source: str, first_line: int, errors: ErrorList) -> Value | None:
    """Compose YAML safely and convert it to Values; None (with an error) when it cannot be read."""
    if not source.strip():
        errors.add(first_line, None, "phần khai báo đầu tệp trống", "front matter is empty")
        return None
    indicators = sum(source.count(ch) for ch in "[{-?:") + source.count("\n")
    loader = _FAST_LOADER if indicators <= C_LOADER_MAX_INDICATORS else yaml.SafeLoader
    try:
        node = yaml.compose(source, Loader=loader)
        if node is None:  # only comments
            errors.add(first_line, None, "phần khai báo đầu tệp trống", "front matter is empty")
            return None
        return _convert(node, first_line, _Budget(), depth=0, errors=errors)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = first_line + mark.line if mark else first_line
        problem = (exc.problem or exc.context or "").strip()
        errors.add(line, None, f"lỗi cú pháp YAML: {problem}. {QUOTE_HINT[0]}", f"YAML syntax error: {problem}. {QUOTE_HINT[1]}")
    except yaml.reader.ReaderError as exc:  # a character YAML forbids, such as NUL or another control code
        line = first_line + source[: max(exc.position, 0)].count("\n")
        code = f"U+{exc.character:04X}" if isinstance(exc.character, int) else repr(exc.character)
        errors.add(line, None, f"ký tự {code} không được phép trong phần khai báo; hãy xoá nó",
                   f"character {code} is not allowed in front matter; delete it")
    except yaml.YAMLError as exc:
        errors.add(first_line, None, f"lỗi cú pháp YAML: {exc}", f"YAML syntax error: {exc}")
    except (_TooLarge, RecursionError):
        errors.add(first_line, None,
                   "phần khai báo lồng nhau quá sâu hoặc bung ra quá lớn (alias/anchor); hãy viết giá trị trực tiếp",
                   "front matter is nested too deeply or expands too much (aliases/anchors); write values out plainly")
    return None


def _convert(node: yaml.Node, first_line: int, budget: _Budget, depth: int, errors: ErrorList,
             label: str | None = None) -> Value | None:
    """Node → Value, refusing unknown tags, duplicate keys and runaway expansion."""
    budget.nodes += 1
    if budget.nodes > MAX_NODES or depth > MAX_DEPTH:
        raise _TooLarge
    line = first_line + node.start_mark.line
    if isinstance(node, yaml.ScalarNode):
        raw = nfc(node.value)
        if node.tag == _STR_TAG:  # most values: no constructor needed
            return Value(raw, line, raw)
        if node.tag not in _SCALAR_TAGS:
            return _reject_tag(node, line, errors, label)
        try:
            data = _CONSTRUCTOR.construct_object(node)
        except (ValueError, yaml.YAMLError):
            data = raw
        return Value(data, line, raw)
    if isinstance(node, yaml.SequenceNode) and node.tag == _SEQ_TAG:
        items = [_convert(child, first_line, budget, depth + 1, errors, f"{label}[{index}]")
                 for index, child in enumerate(node.value, 1)]
        return Value([item for item in items if item is not None and item.data is not REJECTED], line)
    if isinstance(node, yaml.MappingNode) and node.tag == _MAP_TAG:
        return Value(_convert_mapping(node, first_line, budget, depth, errors, label), line)
    return _reject_tag(node, line, errors, label)


def _reject_tag(node: yaml.Node, line: int, errors: ErrorList, label: str | None) -> Value:
    """Tags like `!!python/object` would build objects: refuse them, naming the tag as written."""
    tag = node.tag.replace("tag:yaml.org,2002:", "!!")
    errors.add(line, label, f"thẻ YAML `{tag}` không được phép; hãy viết giá trị bình thường",
               f"YAML tag `{tag}` is not allowed; write a plain value")
    return Value(REJECTED, line)


def _convert_mapping(node: yaml.MappingNode, first_line: int, budget: _Budget, depth: int,
                     errors: ErrorList, label: str | None) -> dict[str, Value]:
    mapping: dict[str, Value] = {}
    for key_node, value_node in node.value:
        key_line = first_line + key_node.start_mark.line
        if not isinstance(key_node, yaml.ScalarNode) or key_node.tag == "tag:yaml.org,2002:merge":
            errors.add(key_line, label, "tên trường phải là một từ đơn giản", "a field name must be a plain word")
            continue
        key = nfc(key_node.value)
        if key in mapping:
            errors.add(key_line, f"{label}.{key}" if label else key, "trường bị khai báo hai lần", "field is given twice")
            continue
        value = _convert(value_node, first_line, budget, depth + 1, errors, f"{label}.{key}" if label else key)
        if value is not None:
            # A field's messages point at its name, where a facility looks first.
            mapping[key] = Value(value.data, key_line, value.raw)
    return mapping
