"""The package's layout is its architecture: each sub-package imports only the layers its docstring
allows (cnnt/__init__.py draws them), so content checks never reach for the renderer, and pages never
decide what the engine writes."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest
from conftest import ROOT

import cnnt

PACKAGE = ROOT / "cnnt"
# what each sub-package may import besides itself: a layer, or one module of a layer
ALLOWED: dict[str, set[str]] = {
    "system": {"content.errors"},
    "content": {"system", "site.urls"},
    "site": {"content", "system"},
    "contribute": {"content", "site", "system"},
    "engine": {"content", "site", "system"},
}
SUB_PACKAGES = sorted(ALLOWED)


def imported(source: str, module: str) -> set[str]:
    """The cnnt modules `module` (`content.load`) imports, as `layer.module` (or `layer` alone)."""
    package = module.split(".")[:-1]
    found = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1]
                target = [*base, *(node.module.split(".") if node.module else [])]
            elif node.module and node.module.startswith("cnnt."):
                target = node.module.split(".")[1:]
            else:
                continue
            if len(target) == 1 and target[0] in ALLOWED:  # `from ..site import urls, search`
                found |= {f"{target[0]}.{alias.name}" for alias in node.names}
            elif target:
                found.add(".".join(target[:2]))
        elif isinstance(node, ast.Import):
            found |= {".".join(alias.name.split(".")[1:3]) for alias in node.names if alias.name.startswith("cnnt.")}
    return found


def violations(source: str, module: str) -> list[str]:
    layer = module.split(".")[0]
    allowed = ALLOWED[layer] | {layer}
    return sorted(name for name in imported(source, module)
                  if name.split(".")[0] not in allowed and name not in allowed)


def modules() -> list[tuple[str, Path]]:
    return [(path.relative_to(PACKAGE).with_suffix("").as_posix().replace("/", "."), path)
            for layer in SUB_PACKAGES for path in sorted((PACKAGE / layer).glob("*.py"))]


@pytest.mark.parametrize("module,path", modules(), ids=[name for name, _ in modules()])
def test_each_module_imports_only_the_layers_below_it(module, path):
    assert violations(path.read_text(encoding="utf-8"), module) == []


def test_the_check_sees_a_forbidden_import():
    assert violations("from ..engine import pipeline\n", "content.load") == ["engine.pipeline"]
    assert violations("from ..site.render import Renderer\n", "content.kinds") == ["site.render"]
    assert violations("from cnnt.engine.incremental import State\n", "site.pages") == ["engine.incremental"]
    assert violations("from ..site import urls\n", "content.kinds") == []


def test_every_module_lives_in_a_sub_package_that_says_what_it_may_import():
    top = sorted(path.name for path in PACKAGE.glob("*.py"))
    assert top == ["__init__.py", "serve.py"], "a new module belongs in a sub-package"
    for layer in SUB_PACKAGES:
        doc = __import__(f"cnnt.{layer}", fromlist=["_"]).__doc__ or ""
        assert "import" in doc.lower(), f"cnnt/{layer}/__init__.py should say what it may import"
        assert layer in (cnnt.__doc__ or ""), f"cnnt/__init__.py should draw {layer}"


def test_no_source_file_is_ignored_by_git():
    """`.gitignore`'s `/site/` is the output at the top, not `cnnt/site/`: a pattern that caught code
    would leave it out of every commit, and a fresh clone without it."""
    import shutil
    import subprocess
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("not a git checkout")
    sources = [str(path.relative_to(ROOT)) for path in sorted(PACKAGE.rglob("*"))
               if path.is_file() and "__pycache__" not in path.parts]
    ignored = subprocess.run(["git", "check-ignore", "--no-index", *sources], cwd=ROOT, capture_output=True, text=True)
    assert ignored.stdout.split() == []


# Imported where they are used: a one-entry build needs none of them, and each would cost its import
# (and, where Python keeps no compiled modules, its compiling) on every build.
IMPORTED_WHERE_USED = ("cnnt.contribute.ownership", "cnnt.contribute.scaffold", "cnnt.contribute.removal",
                       "xlsxwriter", "zxingcpp", "tarfile", "font_roboto")


def test_starting_a_build_imports_nothing_only_other_commands_or_rare_work_need():
    import subprocess
    import sys
    shown = subprocess.run([sys.executable, "-c", "import sys, build; print(*sorted(sys.modules))"], cwd=ROOT,
                           capture_output=True, text=True, check=True).stdout.split()
    assert "cnnt.engine.pipeline" in shown and [name for name in IMPORTED_WHERE_USED if name in shown] == []
