import datetime as dt

from cnnt.content.errors import ErrorList
from cnnt.content.frontmatter import read_document


def read(text: str | bytes):
    errors = ErrorList("x.md")
    document = read_document(text if isinstance(text, bytes) else text.encode("utf-8"), errors)
    return document, [str(e) for e in errors]


def test_values_keep_their_file_lines():
    document, errors = read("---\nname: A\n\nawards:\n  - {level: national, year: 2024}\n---\nbody\n")
    assert errors == []
    assert document.front["name"].line == 2
    assert document.front["awards"].line == 4
    assert document.front["awards"].data[0].line == 5
    assert document.body_line == 7


def test_norway_stays_a_country_code():
    document, _ = read("---\nexport_markets: [NO, KR]\n---\n")
    assert [item.raw for item in document.front["export_markets"].data] == ["NO", "KR"]


def test_bom_and_crlf_are_accepted():
    document, errors = read("\ufeff---\r\nname: A\r\n---\r\nbody\r\n")
    assert errors == [] and document.front["name"].raw == "A" and document.body.strip() == "body"


def test_text_is_normalised_to_nfc():
    import unicodedata
    document, _ = read(unicodedata.normalize("NFD", "---\nname: Bánh phồng tôm\n---\nTôm đất\n"))
    assert document.front["name"].raw == "Bánh phồng tôm" and document.body.strip() == "Tôm đất"


def test_dates_are_read_as_dates():
    document, _ = read("---\nexpires: 2026-06-30\n---\n")
    assert document.front["expires"].data == dt.date(2026, 6, 30)


def test_python_tags_are_refused_and_nothing_runs(tmp_path):
    marker = tmp_path / "pwned"
    document, errors = read(f"---\nname: !!python/object/apply:os.system ['touch {marker}']\n---\n")
    assert not marker.exists()
    assert errors and "!!python/object/apply:os.system" in errors[0]


def test_alias_bomb_fails_fast_with_a_message():
    lines = ["a: &a [x, x, x, x, x, x, x, x, x]"]
    for previous, name in zip("abcdefgh", "bcdefghi"):
        lines.append(f"{name}: &{name} [" + ", ".join([f"*{previous}"] * 9) + "]")
    document, errors = read("---\n" + "\n".join(lines) + "\n---\n")
    assert document is None and "expands too much" in errors[0]


def test_recursive_alias_is_refused():
    document, errors = read("---\na: &a [*a]\n---\n")
    assert document is None and len(errors) == 1


def test_deep_nesting_does_not_crash_the_process():
    document, errors = read("---\nname: " + "[" * 60000 + "]" * 60000 + "\n---\n")
    assert document is None and "nested too deeply" in errors[0]


def test_invalid_utf8_reports_the_line():
    document, errors = read(b"---\nname: A\ngroup: f\xe0od\n---\n")
    assert document is None and errors[0].startswith("x.md:3: ")
