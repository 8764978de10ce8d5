"""The package is type-checked in CI (`.ci/run` runs mypy as pyproject.toml configures it); this
shows that the check is strict enough to catch a wrongly typed keyword argument to a model."""
from __future__ import annotations

import subprocess
import sys

from conftest import ROOT

WRONG = """
from cnnt.content.model import Contact, Localized

Contact(phone=900000001)
Localized(vi="Cà Mau", en=None, fr="x")
"""


def test_mypy_refuses_a_wrongly_typed_keyword_argument(tmp_path):
    probe = tmp_path / "probe.py"
    probe.write_text(WRONG, encoding="utf-8")
    result = subprocess.run([sys.executable, "-m", "mypy", "--config-file", str(ROOT / "pyproject.toml"),
                             "--cache-dir", str(tmp_path / "cache"), str(probe)],
                            cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 1, result.stdout
    assert 'Argument "phone" to "Contact" has incompatible type "int"' in result.stdout
    assert 'Unexpected keyword argument "fr" for "Localized"' in result.stdout
