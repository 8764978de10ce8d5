"""A deploy runner's fresh checkout: every file new to the file system, but git still names each by its
content. The images stage asks git for those names (cnnt/system/gitfiles.py) rather than reading
every photo again; it must never take a name for a file whose working copy git has not got."""
from __future__ import annotations

import io
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from PIL import Image

from cnnt.site import images
from cnnt.system import gitfiles

GIT = ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", "-c", "commit.gpgsign=false"]


def git(top: Path, *args: str) -> str:
    return subprocess.run([*GIT, *args], cwd=top, check=True, capture_output=True, text=True).stdout


def photo(colour: tuple[int, int, int]) -> bytes:
    stream = io.BytesIO()
    Image.new("RGB", (400, 300), colour).save(stream, "JPEG")
    return stream.getvalue()


def committed(top: Path, files: dict[str, bytes]) -> Path:
    for relative, data in files.items():
        (top / relative).parent.mkdir(parents=True, exist_ok=True)
        (top / relative).write_bytes(data)
    git(top, "init", "-q")
    git(top, "add", "-A")
    git(top, "commit", "-qm", "photos")
    return top


def checked_out_again(top: Path) -> None:
    """A fresh clone at the same path, as a deploy runner has it: the same bytes, every file new."""
    old = top.with_name(top.name + "-old")
    os.replace(top, old)
    subprocess.run(["git", "clone", "-q", str(old), str(top)], check=True, capture_output=True)
    shutil.rmtree(old)


def test_only_files_git_tracks_unchanged_are_named(tmp_path):
    top = committed(tmp_path / "repo", {f"products/{name}.jpg": photo((i * 40, 10, 10))
                                        for i, name in enumerate("abcd")})
    paths = {name: str(top / "products" / f"{name}.jpg") for name in "abcdef"}
    (top / "products/b.jpg").write_bytes(photo((1, 2, 3)))          # changed, not committed
    git(top, "update-index", "--assume-unchanged", "products/c.jpg")  # changed, with git told not to look
    (top / "products/c.jpg").write_bytes(photo((4, 5, 6)))
    data = (top / "products/d.jpg").read_bytes()                      # same size, other bytes, at once
    (top / "products/d.jpg").write_bytes(data[:-3] + bytes(3 - i for i in range(3)))
    (top / "products/e.jpg").write_bytes(photo((7, 8, 9)))          # not tracked
    found = gitfiles.blob_ids(list(paths.values()))
    assert found == {paths["a"]: git(top, "hash-object", "products/a.jpg").strip()}
    assert gitfiles.blob_ids([str(tmp_path / "elsewhere.jpg")]) == {}  # no repository
    assert gitfiles.blob_ids([paths["a"], "products/a.jpg"]) == {}     # absolute and relative mixed


@pytest.fixture
def counted_hashing(monkeypatch) -> list[str]:
    read: list[str] = []
    hashed = images.source_key

    def counting(path: Path) -> str:
        read.append(path.name)
        return hashed(path)

    monkeypatch.setattr(images, "source_key", counting)
    monkeypatch.setattr(gitfiles, "ASK_GIT_BYTES", 0)  # (these photos are small: ask git whatever their size)
    return read


def test_a_fresh_checkout_reads_no_photo_git_names(tmp_path, counted_hashing, monkeypatch):
    top = committed(tmp_path / "repo", {f"products/p/{name}.jpg": photo((i * 60, 90, 30))
                                        for i, name in enumerate("abc")})
    files = [str(top / "products/p" / f"{name}.jpg") for name in "abc"]
    cache = tmp_path / ".cache" / "images"
    first, problems = images.prepare_photos(files, cache, jobs=1)
    assert not problems and sorted(counted_hashing) == ["a.jpg", "b.jpg", "c.jpg"]

    checked_out_again(top)
    counted_hashing.clear()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(images, "make_derivatives", None)  # nothing is decoded either
        again, _ = images.prepare_photos(files, cache, jobs=1)
    assert again == first and counted_hashing == [], "a photo git names by its content was read again"

    (top / "products/p/b.jpg").write_bytes(photo((200, 200, 10)))  # changed, not yet committed
    changed, _ = images.prepare_photos(files, cache, jobs=1)
    assert counted_hashing == ["b.jpg"] and changed[files[1]] != first[files[1]] and changed[files[0]] == first[files[0]]

    git(top, "commit", "-qam", "another photo")
    checked_out_again(top)
    counted_hashing.clear()
    assert images.prepare_photos(files, cache, jobs=1)[0] == changed
    assert counted_hashing == ["b.jpg"], "its new content is read once, the others are named by git"
    checked_out_again(top)
    counted_hashing.clear()
    assert images.prepare_photos(files, cache, jobs=1)[0] == changed and counted_hashing == []

    kept, _ = images.prepare_photos(files[:2], cache, jobs=1)  # c.jpg no longer used
    blobs = images.PhotoCache(cache).read_blob_keys()
    assert set(blobs.values()) == {photo.webp[0].url.split("/")[1].split("-")[0] for photo in kept.values()}


def test_within_a_build_git_is_asked_once_and_its_answer_kept_only_for_files_as_they_were(tmp_path, monkeypatch):
    """The input fingerprint asks git about the whole content of a fresh checkout; the stages after
    take their photos' names from that answer, but never for a file saved since it was given."""
    top = committed(tmp_path / "repo", {"products/a.jpg": photo((10, 20, 30)), "products/b.jpg": photo((40, 50, 60)),
                                        "products/c.md": b"---\nname: C\n---\n"})
    files = [str(top / "products" / name) for name in ("a.jpg", "b.jpg", "c.md")]
    asked: list[list[str]] = []
    ask = gitfiles._ask
    monkeypatch.setattr(gitfiles, "_ask", lambda paths: asked.append(paths) or ask(paths))
    named = {file: git(top, "hash-object", file).strip() for file in files}
    with gitfiles.answers_kept():
        assert gitfiles.blob_ids(files) == named
        assert gitfiles.blob_ids(files[:2]) == {file: named[file] for file in files[:2]}
        assert gitfiles.blob_ids_if_large({files[0]: 1}) == {files[0]: named[files[0]]}  # small, but known
        (top / "products/b.jpg").write_bytes(photo((70, 80, 90)))  # saved during the build
        assert gitfiles.blob_ids(files[:2]) == {files[0]: named[files[0]]}
        assert len(asked) == 1
        assert gitfiles.blob_ids([*files, str(top / "products/new.jpg")]) == {files[0]: named[files[0]],
                                                                               files[2]: named[files[2]]}
        assert len(asked) == 2  # a file git was not asked about: asked again
    assert gitfiles.blob_ids(files[:1]) == {files[0]: named[files[0]]} and len(asked) == 3  # outside a build: each time
    assert gitfiles.blob_ids_if_large({files[0]: 1}) == {}


def test_a_text_file_read_has_the_digest_git_names_it_by(tmp_path):
    """A text file's digest, read, is its git blob id: a build after a fresh checkout takes the ids
    from git instead of reading the files, and finds them the same as the last build's."""
    from cnnt.content import load
    texts = {"products/a.md": "---\nname: Bánh\n---\nMô tả.\n".encode(), "products/empty.md": b"",
             "products/b.en.md": b"---\nname: Cake\n---\n" * 500}
    top = committed(tmp_path / "repo", texts)
    for relative in texts:
        assert load._read_digest(str(top / relative)) == git(top, "hash-object", relative).strip()
