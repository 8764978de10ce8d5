"""The contributor workflow: `new`, JSON Schemas, GitHub annotations, CODEOWNERS, who may change what,
the workflows, and CONTRIBUTING.md followed literally."""
from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import jsonschema
import pytest
import yaml
from conftest import ROOT

import build as cli
from cnnt.content import kinds, load
from cnnt.content.errors import ContentError
from cnnt.content.vocab import load_vocabularies
from cnnt.contribute import review
from cnnt.site import schema

# -- new -------------------------------------------------------------------------------------------

def test_new_entries_are_valid_and_explain_every_field(make_site, tmp_path):
    assert make_site({}, command="new", extra=("product", "banh-tet", "--facility", "htx-mau")).code == 0
    assert make_site({}, command="new", extra=("facility", "co-so-moi")).code == 0
    product = (tmp_path / "content/products/banh-tet.md").read_text(encoding="utf-8")
    for field in kinds.PRODUCT.fields:
        assert re.search(rf"^#? ?{field}:", product, re.M), field  # every field is there, most commented out
    assert "yaml-language-server: $schema=../../schemas/product.schema.json" in product
    facility = (tmp_path / "content/facilities/co-so-moi.md").read_text(encoding="utf-8")
    assert all(re.search(rf"^ *#? ?{field}:", facility, re.M) for field in kinds.FACILITY.fields)
    run = make_site({}, command="check")
    assert run.code == 0 and "2 cơ sở" in run.out and "1 sản phẩm" in run.out


@pytest.mark.parametrize("arguments,message", [
    (("product", "Bánh Tét"), "did you mean `banh-tet`?"),
    (("product", "banh-tet", "--facility", "khong-co"), "no facility `khong-co`"),
    (("facility", "htx-mau"), "this entry already exists"),
])
def test_new_refuses_bad_names(make_site, arguments, message):
    run = make_site({}, command="new", extra=arguments)
    assert run.code == 1 and message in run.err


# -- JSON Schema -----------------------------------------------------------------------------------

def schemas() -> dict[str, dict]:
    return schema.schemas(load_vocabularies())


def test_committed_schemas_are_up_to_date():
    for name, text in schema.schema_files(load_vocabularies()).items():
        assert (ROOT / name).read_text(encoding="utf-8") == text, f"run `python build.py schema` ({name})"


def test_schemas_name_exactly_the_fields_the_loader_reads():
    made = schemas()
    for kind, fields in [*((k.name, k.fields) for k in kinds.KINDS), ("translation", load.TRANSLATION_FIELDS)]:
        assert set(made[kind]["properties"]) == set(fields), kind
        jsonschema.Draft202012Validator.check_schema(made[kind])


def front_matter(path: Path) -> dict:
    """Front matter as the YAML language server sees it: dates are text."""
    text = path.read_text(encoding="utf-8").split("---", 2)[1]
    return json.loads(json.dumps(yaml.safe_load(text), default=str))


def test_every_sample_entry_validates_against_its_schema():
    made = schemas()
    checked = 0
    for kind, folder in (("facility", "facilities"), ("product", "products"), ("fair", "fairs"),
                         ("decision", "decisions")):
        for path in (ROOT / "content" / folder).rglob("*.md"):
            which = "translation" if path.name.endswith(".en.md") else kind
            jsonschema.validate(front_matter(path), made[which])
            checked += 1
    assert checked > 80


@pytest.mark.parametrize("field,value", [("group", "fud"), ("exprot_markets", ["KR"]), ("export_markets", ["Korea"]),
                                         ("awards", [{"level": "tinh", "year": 2024}])])
def test_schema_and_validator_both_reject(make_site, field, value):
    entry = {"name": "Bánh", "facility": "htx-mau", "group": "food", field: value}
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(entry, schemas()["product"])
    text = "---\n" + yaml.safe_dump(entry, allow_unicode=True) + "---\n"
    assert make_site({"products/banh.md": text}, command="check").code == 1


def test_every_vocabulary_spelling_in_the_schemas_is_accepted_by_the_validator():
    vocab = load_vocabularies()
    for vocabulary in (vocab.provinces, vocab.product_groups, vocab.award_levels, vocab.certification_schemes,
                       vocab.facility_kinds, vocab.regions, vocab.support_activities, vocab.support_statuses):
        for written in vocabulary.spellings():
            assert vocabulary.lookup(written) is not None, (vocabulary.name, written)


def test_schemas_are_published_with_the_site(sample_site):
    assert json.loads((sample_site / "schemas/product.schema.json").read_text())["title"].endswith("product front matter")


# -- pull requests ---------------------------------------------------------------------------------

def test_check_prints_github_annotations_in_actions(make_site, monkeypatch):
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    run = make_site({"products/x.md": "---\nname: X\nfacility: htx-mau\ngroup: fud\nexprot_markets: [KR]\n---\n"},
                    command="check")
    annotations = [line for line in run.out.splitlines() if line.startswith("::error ")]
    assert len(annotations) == 2
    assert annotations[0].startswith("::error file=") and ",line=4,title=group::`fud`" in annotations[0]
    assert "did you mean `export_markets`?" in annotations[1]


def test_annotation_escapes_what_github_reads_specially():
    line = review.annotation(ContentError("content/a,b:c.md", 3, "x", "một\ndòng 100%", "one, two: three"))
    assert line == "::error file=content/a%2Cb%3Ac.md,line=3,title=x::một%0Adòng 100%25 | one, two: three"


def test_committed_codeowners_is_up_to_date_and_lists_maintainers(sample_site, capsys):
    text = (ROOT / ".github/CODEOWNERS").read_text(encoding="utf-8")
    assert "/content/facilities/vinh-hoa-phat/ @vinhhoaphat @khuyencong-mau" in text
    assert "/content/products/banh-phong-tom-vinh-hoa-phat/ @vinhhoaphat @khuyencong-mau" in text
    # decisions, vocabularies and settings are the centre's alone, and come last (the last match wins)
    tail = text.split("# Chỉ trung tâm")[1]
    for path in ("/content/decisions/", "/cnnt/content/vocabularies/", "/site.yaml", "/content/published-urls.txt"):
        assert f"\n{path} @khuyencong-mau\n" in tail
    assert "@vinhhoaphat" not in tail
    from cnnt.engine import pipeline
    args = cli.parse_args(["check"])
    catalogue = pipeline.check(cli.options_from(args))
    assert review.codeowners(catalogue, ("khuyencong-mau",)) == text, "run `python build.py codeowners`"


# -- workflows -------------------------------------------------------------------------------------

WORKFLOWS = sorted((ROOT / ".github/workflows").glob("*.yml"))


def commands(workflow: Path) -> list[str]:
    data = yaml.safe_load(workflow.read_text(encoding="utf-8"))
    lines = []
    for job in data["jobs"].values():
        for step in job["steps"]:
            for line in step.get("run", "").splitlines():
                lines += [part.strip() for part in re.split(r"&&|\|\||;|\(|\)", line) if part.strip()]
    return lines


def test_workflows_run_only_commands_that_exist():
    assert {w.name for w in WORKFLOWS} == {"pull-request.yml", "deploy.yml"}
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    seen = set()
    for workflow in WORKFLOWS:
        data = yaml.safe_load(workflow.read_text(encoding="utf-8"))
        assert data[True if True in data else "on"], workflow  # `on:` reads as True in YAML 1.1
        for command in commands(workflow):
            words = shlex.split(re.sub(r"\$\(.*", "", command).replace("$", ""))
            if words[:2] == ["python", "build.py"]:
                cli.parse_args(list(words[2:]) or ["build"])  # exits on an unknown command or option
                seen.add(words[2] if len(words) > 2 and not words[2].startswith("-") else "build")
            elif words[:4] == ["python", "-m", "pip", "install"]:
                requirements = words[words.index("-r") + 1]
                assert (ROOT / requirements).is_file() and requirements in readme, requirements
            elif words[:3] == ["python", "-m", "pytest"]:
                seen.add("pytest")
            else:
                assert words[0] in {"git", "apt-get"} or words[:2] == ["npm", "ci"], command
    assert {"check", "owners", "build", "pytest"} <= seen


def test_pull_request_workflow_checks_before_it_builds():
    steps = [c for c in commands(ROOT / ".github/workflows/pull-request.yml") if c.startswith("python build.py")]
    assert steps[0].startswith("python build.py check") and steps[1].startswith("python build.py owners")


# -- CONTRIBUTING.md, followed literally -------------------------------------------------------------

def project_copy(tmp_path: Path) -> Path:
    copy = tmp_path / "project"
    anywhere = shutil.ignore_patterns(".git", ".venv", "__pycache__", ".pytest_cache")
    at_top = {"site", ".cache", "bench", "tests", "node_modules"}  # cnnt/site/ is code, site/ the output

    def ignore(folder: str, names: list[str]) -> set[str]:
        return set(anywhere(folder, names)) | (at_top & set(names) if Path(folder) == ROOT else set())

    shutil.copytree(ROOT, copy, ignore=ignore)
    return copy


def test_contributing_commands_run_and_succeed(tmp_path):
    text = (ROOT / "CONTRIBUTING.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```sh\n(.*?)```", text, re.S)
    lines = [line for block in blocks for line in block.splitlines() if line.strip()]
    assert any("build.py new" in line for line in lines) and any("build.py serve" in line for line in lines)
    copy = project_copy(tmp_path)
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", "-c", "commit.gpgsign=false"]
    for args in (["init", "-q"], ["add", "-A"], ["commit", "-qm", "clone"]):  # the centre works in a clone
        subprocess.run([*git, *args], cwd=copy, check=True, capture_output=True)
    for line in lines:
        if line.endswith("build.py serve"):
            # `exec`: the server replaces the shell, so stopping it stops the server, not only the shell
            serve = subprocess.Popen(["bash", "-c", "exec " + line], cwd=copy, env=env,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            try:
                page = b""
                for _ in range(120):
                    try:
                        page = urllib.request.urlopen("http://localhost:8000/products/banh-tet-la-cam/").read()
                        break
                    except OSError:
                        assert serve.poll() is None, "serve stopped (is port 8000 in use?)"
                        time.sleep(0.5)
                assert b"Banh tet la cam" in page
            finally:
                serve.terminate()
                serve.wait(10)
            continue
        result = subprocess.run(line, shell=True, cwd=copy, env=env, capture_output=True, text=True)
        assert result.returncode == 0, (line, result.stdout[-2000:], result.stderr[-2000:])
    assert (copy / "site/products/banh-tet-la-cam/index.html").is_file()
