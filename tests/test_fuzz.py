"""Hostile and broken entries: whatever a file contains, `check` answers with messages, never a crash.

Real sample entries are mutated at random (seeded, so failures reproduce): lines deleted, duplicated
or re-indented, YAML syntax, anchors, tags and control bytes inserted, files cut short.
"""
import random
import shutil

import pytest
from conftest import BUILD_DATE, ROOT, cli

SNIPPETS = ["[", "]", "{", "}", ": :", "- -", "&a", "*a", "!!binary AAAA", "!!python/name:os.system", "\t",
            '"unterminated', "'", "|", ">", "%YAML 1.1", "---", "...", "? ", "<<: *a", "null", "~", "0x1F",
            "1e309", "2026-13-45", "-", "#", "@", "`", "\\", "\u0000", "\ufeff", "😀", "NO", "yes", "3.0.1",
            "{a: [b, {c: d}]}", "[[[[[[[[", "&x [*x]", "name: x\nname: y", "images: [../../x.jpg]"]


def mutate(text: str, rng: random.Random) -> bytes:
    lines = text.split("\n")
    for _ in range(rng.randint(1, 4)):
        choice = rng.randrange(7)
        index = rng.randrange(len(lines))
        if choice == 0 and len(lines) > 1:
            del lines[index]
        elif choice == 1:
            lines.insert(index, lines[index])
        elif choice == 2:
            lines[index] = " " * rng.randint(1, 5) + lines[index]
        elif choice == 3:
            cut = rng.randint(0, len(lines[index]))
            lines[index] = lines[index][:cut] + rng.choice(SNIPPETS) + lines[index][cut:]
        elif choice == 4:
            lines.insert(index, rng.choice(SNIPPETS))
        elif choice == 5:
            field = lines[index].split(":", 1)[0]
            lines[index] = f"{field}: {rng.choice(SNIPPETS)}"
        else:
            lines = lines[:index] or lines[:1]
    data = "\n".join(lines).encode("utf-8", "surrogatepass")
    if rng.random() < 0.1:
        position = rng.randrange(len(data) + 1)
        data = data[:position] + rng.choice([b"\xff", b"\xc3", b"\x00", b"\xe2\x82"]) + data[position:]
    return data


@pytest.mark.parametrize("seed", range(int(__import__("os").environ.get("FUZZ_SEEDS", "12"))))
def test_mutated_entries_never_crash_the_check(tmp_path, capsys, monkeypatch, seed):
    rng = random.Random(seed)
    content = tmp_path / "content"
    shutil.copytree(ROOT / "content", content)
    entries = sorted(p for p in content.rglob("*.md"))
    for path in rng.sample(entries, 25):
        path.write_bytes(mutate(path.read_text(encoding="utf-8"), rng))
    monkeypatch.chdir(tmp_path)
    code = cli.main(["check", "--content", str(content), "--date", BUILD_DATE, "--config", str(ROOT / "site.yaml")])
    captured = capsys.readouterr()
    assert code in (0, 1), captured.err[-2000:]
    assert "Traceback" not in captured.err and "Internal error" not in captured.err, captured.err[-2000:]
    for line in captured.err.splitlines():
        if line and not line[0].isdigit():
            assert line.startswith("content/") and " | " in line, line


@pytest.mark.parametrize("seed", range(1000, 1000 + int(__import__("os").environ.get("FUZZ_BUILD_SEEDS", "3"))))
def test_mutated_entries_that_validate_also_build(tmp_path, capsys, monkeypatch, seed):
    """Odd but valid values (unusual text, numbers, dates) must render, not fail in a template."""
    rng = random.Random(seed)
    content = tmp_path / "content"
    shutil.copytree(ROOT / "content", content)
    built = 0
    for path in rng.sample(sorted(content.rglob("*.md")), 40):
        if built == 10:
            break
        original = path.read_bytes()
        path.write_bytes(mutate(original.decode("utf-8"), rng))
        monkeypatch.chdir(tmp_path)
        if cli.main(["check", "--content", str(content), "--date", BUILD_DATE]) != 0:
            path.write_bytes(original)  # keep only mutations that still validate
        else:
            built += 1
    capsys.readouterr()
    code = cli.main(["build", "--content", str(content), "--out", str(tmp_path / "site"), "--date", BUILD_DATE])
    captured = capsys.readouterr()
    assert code == 0, captured.err[-2000:]
    assert built > 0
