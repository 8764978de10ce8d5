"""Who may change what, in a real git repository: `owners --author USER --base COMMIT` judges what a
change does (renames, moves, conversions, deletions, links, credentials), not the names it is given."""
from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import ROOT, cli

GIT = ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", "-c", "commit.gpgsign=false"]
PNG = (ROOT / "tests/invalid/images/content/products/anh/tot.png").read_bytes()

FILES = {
    "site.yaml": (ROOT / "site.yaml").read_text(encoding="utf-8").replace("maintainers: [khuyencong-mau]",
                                                                          "maintainers: [trung-tam]"),
    "content/facilities/htx-a.md": "---\nname: HTX A\nkind: cooperative\nprovince: Cà Mau\nmaintainers: [chu-a]\n"
                                   "contact: {phone: 0900 000 001}\n---\nCơ sở A.\n",
    "content/facilities/htx-b/index.md": "---\nname: HTX B\nkind: household\nprovince: Cần Thơ\nmaintainers: [chu-b]\n"
                                         "contact: {phone: 0900 000 002}\nimages: [logo.png]\n---\nCơ sở B.\n",
    "content/facilities/htx-b/logo.png": PNG,
    "content/products/banh-a.md": "---\nname: Bánh A\nfacility: htx-a\ngroup: food\n---\nBánh của A.\n",
    "content/products/keo-a.md": "---\nname: Kẹo A\nfacility: htx-a\ngroup: food\nawards:\n"
                                 "  - {level: provincial, year: 2024, decision: \"5/QĐ-UBND\"}\n---\nKẹo của A.\n",
    "content/products/keo-b.md": "---\nname: Kẹo B\nfacility: htx-b\ngroup: food\n---\nKẹo của B.\n",
    "content/products/mam-b/index.md": "---\nname: Mắm B\nfacility: htx-b\ngroup: food\nimages: [mam.png]\nawards:\n"
                                       "  - {level: provincial, year: 2024}\n---\nMắm của B.\n",
    "content/products/mam-b/mam.png": PNG,
    "content/decisions/tinh-2024.md": "---\nnumber: 5/QĐ-UBND\ndate: 2024-05-02\nissuer: UBND tỉnh Cà Mau\n"
                                      "level: provincial\nproducts: [keo-a, mam-b]\n---\nKỳ bình chọn 2024.\n",
    "cnnt/content/vocabularies/regions.yaml": "north: {vi: Bắc, en: North}\n",
}


class Repo:
    """A catalogue in its own git repository, one commit deep: the pull request's base."""

    def __init__(self, top: Path) -> None:
        self.top = top
        for relative, data in FILES.items():
            self.write(relative, data)
        self.git("init", "-q")
        self.git("add", "-A")
        self.git("commit", "-qm", "base")
        self.base = self.git("rev-parse", "HEAD").strip()

    def git(self, *args: str) -> str:
        return subprocess.run([*GIT, *args], cwd=self.top, check=True, capture_output=True, text=True).stdout

    def write(self, relative: str, data: str | bytes) -> None:
        path = self.top / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data if isinstance(data, bytes) else data.encode("utf-8"))

    def read(self, relative: str) -> str:
        return (self.top / relative).read_text(encoding="utf-8")

    def edit(self, relative: str, old: str, new: str) -> None:
        text = self.read(relative)
        assert old in text, (relative, old)
        self.write(relative, text.replace(old, new))

    def move(self, old: str, new: str) -> None:
        (self.top / new).parent.mkdir(parents=True, exist_ok=True)
        self.git("mv", old, new)

    def commit(self) -> None:
        self.git("add", "-A")
        self.git("commit", "-qm", "change")


@pytest.fixture
def repo(tmp_path) -> Repo:
    return Repo(tmp_path / "catalogue")


def owners(repo: Repo, author: str, capsys, monkeypatch, *files: str) -> tuple[int, str]:
    monkeypatch.chdir(repo.top)
    code = cli.main(["owners", "--author", author, "--base", repo.base, "--content", str(repo.top / "content"),
                     "--config", str(repo.top / "site.yaml"), *files])
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err
    return code, captured.out + captured.err


# -- what must be refused ------------------------------------------------------------------------------

def award_to_self(repo: Repo) -> None:  # the attack in the issue: a facility grants itself a national award
    repo.edit("content/products/banh-a.md", "group: food\n",
              'group: food\nawards:\n  - {level: national, year: 2025, decision: "999/QĐ-BCT"}\n')


def take_over_by_rename(repo: Repo) -> None:  # the other attack: rename B's product, claim it, alias the old slug
    repo.move("content/products/keo-b.md", "content/products/keo-ngon.md")
    repo.edit("content/products/keo-ngon.md", "facility: htx-b", "facility: htx-a\naliases: [keo-b]")
    repo.commit()


def take_over_in_place(repo: Repo) -> None:
    repo.edit("content/products/keo-b.md", "facility: htx-b", "facility: htx-a")


def give_away(repo: Repo) -> None:
    repo.edit("content/products/banh-a.md", "facility: htx-a", "facility: htx-b")


def delete_other(repo: Repo) -> None:
    repo.git("rm", "-q", "content/products/keo-b.md")


def edit_other(repo: Repo) -> None:
    repo.edit("content/products/keo-b.md", "Kẹo của B.", "Kẹo dở.")


def appoint_self(repo: Repo) -> None:  # make yourself a maintainer of another facility
    repo.edit("content/facilities/htx-b/index.md", "maintainers: [chu-b]", "maintainers: [chu-b, chu-a]")


def appoint_self_centre(repo: Repo) -> None:
    repo.edit("site.yaml", "maintainers: [trung-tam]", "maintainers: [trung-tam, chu-a]")


def add_certification(repo: Repo) -> None:
    repo.edit("content/products/banh-a.md", "group: food\n", "group: food\ncertifications:\n  - {scheme: ocop, grade: 5}\n")


def remove_award(repo: Repo) -> None:
    repo.edit("content/products/keo-a.md", '  - {level: provincial, year: 2024, decision: "5/QĐ-UBND"}\n', "")


def award_in_new_product(repo: Repo) -> None:
    repo.write("content/products/moi.md", "---\nname: Mới\nfacility: htx-a\ngroup: food\nawards:\n"
                                          "  - {level: regional, year: 2025, region: south}\n---\n")


def add_own_support(repo: Repo) -> None:  # the funding and jobs the centre reports are the centre's to record
    repo.edit("content/facilities/htx-a.md", "contact:", "support:\n  - {year: 2025, programme: national, "
              "activity: Máy sấy, amount_vnd: 900000000, jobs: 300}\ncontact:")


def new_facility_with_support(repo: Repo) -> None:
    repo.write("content/facilities/htx-moi.md", "---\nname: HTX Mới\nkind: household\nprovince: Cà Mau\n"
                                                "maintainers: [chu-a]\ncontact: {phone: 0900 000 003}\nsupport:\n"
                                                "  - {year: 2025, programme: local, activity: Máy, amount_vnd: 1}\n---\n")


def register_decision(repo: Repo) -> None:
    repo.write("content/decisions/gia.md", "---\nnumber: 9/QĐ-BCT\ndate: 2025-01-02\nissuer: Bộ\nlevel: national\n"
                                           "products: [banh-a]\n---\n")


def change_vocabulary(repo: Repo) -> None:
    repo.edit("cnnt/content/vocabularies/regions.yaml", "North", "Northern")


def link_photo(repo: Repo) -> None:
    os.symlink("/etc/passwd", repo.top / "content/facilities/htx-a-anh.png")


def link_entry(repo: Repo) -> None:  # an entry that is a link to another facility's entry
    os.symlink("keo-b.md", repo.top / "content/products/keo-cua-a.md")
    repo.commit()


def case_rename_other(repo: Repo) -> None:
    repo.move("content/products/keo-b.md", "content/products/Keo-b.md")
    repo.commit()


def bundle_other(repo: Repo) -> None:  # file → bundle conversion of B's product
    repo.move("content/products/keo-b.md", "content/products/keo-b/index.md")


def translate_other(repo: Repo) -> None:
    repo.write("content/products/keo-b.en.md", "---\nname: Bad candy\n---\n")


def replace_other_photo(repo: Repo) -> None:
    repo.write("content/products/mam-b/mam.png", PNG + b"\0")


def product_for_other(repo: Repo) -> None:
    repo.write("content/products/moi.md", "---\nname: Mới\nfacility: htx-b\ngroup: food\n---\n")


def forget_address(repo: Repo) -> None:
    repo.write("content/published-urls.txt", "products/keo-b/\n")


def change_workflow(repo: Repo) -> None:
    repo.write(".github/workflows/pull-request.yml", "on: pull_request\n")


def odd_names(repo: Repo) -> None:  # names git would quote, and a pattern that must not match other files
    repo.write("content/products/k\neo \"b\".md", "---\nname: X\nfacility: htx-b\ngroup: food\n---\n")
    (repo.top / "content/products").joinpath(os.fsdecode(b"m\xe1m.md")).write_bytes(b"---\nname: X\n---\n")
    repo.write("content/products/*.md", "---\nname: X\nfacility: htx-b\ngroup: food\n---\n")


REFUSED: list[tuple[Callable[[Repo], None], list[str]]] = [
    (award_to_self, ["content/products/banh-a.md: awards:", "only the centre's maintainers may add, change or remove"]),
    (take_over_by_rename, ["content/products/keo-b.md: maintainers: ", "belongs to facility `htx-b`",
                           "content/products/keo-ngon.md: facility:"]),
    (take_over_in_place, ["keo-b.md: maintainers: ", "`htx-b`", "keo-b.md: facility:"]),
    (give_away, ["banh-a.md: maintainers: ", "`htx-b`", "banh-a.md: facility:"]),
    (delete_other, ["content/products/keo-b.md: maintainers:", "`htx-b`"]),
    (edit_other, ["content/products/keo-b.md: maintainers:"]),
    (appoint_self, ["content/facilities/htx-b/index.md: maintainers:", "`htx-b`"]),
    (appoint_self_centre, ["site.yaml:", "only the centre's maintainers may change this file"]),
    (add_certification, ["banh-a.md: certifications:"]),
    (remove_award, ["keo-a.md: awards:"]),
    (award_in_new_product, ["content/products/moi.md: awards:"]),
    (add_own_support, ["content/facilities/htx-a.md: support:", "is what the centre records and reports"]),
    (new_facility_with_support, ["content/facilities/htx-moi.md: support:"]),
    (register_decision, ["content/decisions/gia.md:", "only the centre's maintainers"]),
    (change_vocabulary, ["cnnt/content/vocabularies/regions.yaml:", "only the centre's maintainers"]),
    (link_photo, ["content/facilities/htx-a-anh.png:", "not a regular file"]),
    (link_entry, ["content/products/keo-cua-a.md:", "not a regular file"]),
    (case_rename_other, ["content/products/keo-b.md: maintainers:", "`htx-b`"]),
    (bundle_other, ["`htx-b`"]),
    (translate_other, ["content/products/keo-b.en.md: maintainers:", "`htx-b`"]),
    (replace_other_photo, ["content/products/mam-b/mam.png: maintainers:", "`htx-b`"]),
    (product_for_other, ["content/products/moi.md: maintainers:", "`htx-b`"]),
    (forget_address, ["content/published-urls.txt:", "only the centre's maintainers"]),
    (change_workflow, [".github/workflows/pull-request.yml:", "only the centre's maintainers"]),
    (odd_names, ['content/products/k eo "b".md: maintainers:', "content/products/*.md: maintainers:",
                 "content/products/m\ufffdm.md: ", "only the centre's maintainers"]),
]


@pytest.mark.parametrize("change,expected", REFUSED, ids=[change.__name__ for change, _ in REFUSED])
def test_a_facility_cannot(repo, capsys, monkeypatch, change, expected):
    change(repo)
    code, output = owners(repo, "chu-a", capsys, monkeypatch)
    assert code == 1, output
    for text in expected:
        assert text in output, (text, output)
    # each refusal is said in both languages
    assert all(" | " in line for line in output.splitlines() if line.startswith(("content/", "site.yaml", "cnnt/", ".github/")))


# -- what must pass ----------------------------------------------------------------------------------

def own_description(repo: Repo) -> None:
    repo.edit("content/products/keo-a.md", "Kẹo của A.", "Kẹo dừa của A, làm tay.")


def own_phone(repo: Repo) -> None:
    repo.edit("content/facilities/htx-a.md", "0900 000 001", "0900 000 011")
    repo.commit()


def own_new_product(repo: Repo) -> None:
    repo.write("content/products/mut-a.md", "---\nname: Mứt A\nfacility: htx-a\ngroup: food\n---\nMứt.\n")


def own_photo_replaced(repo: Repo) -> None:
    repo.write("content/products/keo-a/index.md", repo.read("content/products/keo-a.md") + "")
    repo.git("rm", "-q", "content/products/keo-a.md")
    repo.commit()
    repo.base = repo.git("rev-parse", "HEAD").strip()  # the bundle is in the base; now the photo changes
    repo.write("content/products/keo-a/anh.png", PNG)
    repo.edit("content/products/keo-a/index.md", "group: food\n", "group: food\nimages: [anh.png]\n")


def own_file_to_bundle(repo: Repo) -> None:  # keeps its awards: not a credential change
    repo.move("content/products/keo-a.md", "content/products/keo-a/index.md")
    repo.write("content/products/keo-a/anh.png", PNG)
    repo.commit()


def own_rename_with_alias(repo: Repo) -> None:
    repo.move("content/products/keo-a.md", "content/products/keo-dua-a.md")
    repo.edit("content/products/keo-dua-a.md", "group: food", "group: food\naliases: [keo-a]")
    repo.commit()


def own_translation(repo: Repo) -> None:
    repo.write("content/products/banh-a.en.md", "---\nname: A's cake\n---\nCake.\n")


def new_facility_of_own(repo: Repo) -> None:
    repo.write("content/facilities/htx-moi.md", "---\nname: HTX Mới\nkind: household\nprovince: Cà Mau\n"
                                                "maintainers: [chu-a]\ncontact: {phone: 0900 000 003}\n---\n")
    repo.write("content/products/banh-moi.md", "---\nname: Bánh mới\nfacility: htx-moi\ngroup: food\n---\n")


def reformat_awards(repo: Repo) -> None:  # the same award written as a block is no credential change
    repo.edit("content/products/keo-a.md", '  - {level: provincial, year: 2024, decision: "5/QĐ-UBND"}\n',
              "  - level: provincial\n    year: 2024\n    decision: 5/QĐ-UBND\n")


ALLOWED = [own_description, own_phone, own_new_product, own_photo_replaced, own_file_to_bundle,
           own_rename_with_alias, own_translation, new_facility_of_own, reformat_awards]


@pytest.mark.parametrize("change", ALLOWED, ids=[change.__name__ for change in ALLOWED])
def test_a_facility_may(repo, capsys, monkeypatch, change):
    change(repo)
    code, output = owners(repo, "chu-a", capsys, monkeypatch)
    assert code == 0, output
    assert "OK: @chu-a" in output


def test_the_centre_adds_an_award_and_its_decision(repo, capsys, monkeypatch):
    register_decision(repo)
    award_to_self(repo)
    repo.edit("content/products/banh-a.md", "999/QĐ-BCT", "9/QĐ-BCT")
    repo.commit()
    assert owners(repo, "trung-tam", capsys, monkeypatch)[0] == 0
    assert owners(repo, "@Trung-Tam", capsys, monkeypatch)[0] == 0  # as GitHub writes it, any case
    code, output = owners(repo, "chu-a", capsys, monkeypatch)
    assert code == 1 and "content/decisions/gia.md" in output and "banh-a.md: awards:" in output


def test_a_file_named_on_the_command_line_is_judged_too(repo, capsys, monkeypatch):
    code, output = owners(repo, "chu-a", capsys, monkeypatch, "content/products/keo-b.md")
    assert code == 1 and "`htx-b`" in output
    assert owners(repo, "chu-a", capsys, monkeypatch, "content/products/banh-a.md")[0] == 0


def test_an_unknown_base_or_no_repository_is_an_error_not_a_pass(repo, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(repo.top)
    code = cli.main(["owners", "--author", "chu-a", "--base", "khong-co", "--content", str(repo.top / "content"),
                     "--config", str(repo.top / "site.yaml")])
    err = capsys.readouterr().err
    assert code == 1 and "git has no commit `khong-co`" in err and "Traceback" not in err
    outside = tmp_path / "not-a-repo"
    shutil.copytree(repo.top / "content", outside / "content")
    monkeypatch.chdir(outside)
    code = cli.main(["owners", "--author", "chu-a", "--content", str(outside / "content"),
                     "--config", str(repo.top / "site.yaml")])
    err = capsys.readouterr().err
    assert code == 1 and "git could not answer" in err and "Traceback" not in err


def test_the_pull_request_workflow_lets_git_list_the_change():
    workflow = (ROOT / ".github/workflows/pull-request.yml").read_text(encoding="utf-8")
    line = next(line for line in workflow.splitlines() if "build.py owners" in line)
    assert line.strip() == 'run: python build.py owners --author "$AUTHOR" --base "$BASE"'


def test_a_git_that_does_not_answer_in_time_is_an_error_not_a_wait_or_a_pass(repo, capsys, monkeypatch):
    """The check runs git as the rest of the package does (`gitfiles.run`): given no input, and
    stopped after `GIT_TIMEOUT_S`; a pull request whose check cannot ask git fails, with why."""
    from cnnt.system import gitfiles
    award_to_self(repo)
    monkeypatch.setattr(gitfiles, "GIT_TIMEOUT_S", 1e-9)  # no git answers that fast
    code, output = owners(repo, "chu-a", capsys, monkeypatch)
    assert code == 1 and "git could not answer" in output and "timed out" in output
