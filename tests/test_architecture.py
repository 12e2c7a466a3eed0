"""The architecture contract (tools/architecture.py): the real package holds it, and each
rule catches a breach planted in a small package tree."""

from __future__ import annotations

import importlib.util
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location(
    "talentml_architecture", ROOT / "tools" / "architecture.py"
)
architecture = importlib.util.module_from_spec(_spec)
sys.modules["talentml_architecture"] = architecture  # dataclasses look their module up
_spec.loader.exec_module(architecture)


def test_the_package_holds_the_contract():
    report = architecture.check(ROOT / "src" / "talentml")
    assert report.ok, "\n".join(report.lines())


def _tree(tmp_path: Path, files: dict[str, str]) -> Path:
    root = tmp_path / "talentml"
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
    for pkg in {p.parent for p in root.rglob("*.py")}:
        (pkg / "__init__.py").touch()
    return root


CLEAN = {
    "schemas/_contracts.py": "X = 1\n",
    "features/_build.py": "from ..schemas import X\nfrom .._validation import ID_COLUMNS\n",
    "_validation.py": "ID_COLUMNS = ()\n",
    "models/_base.py": "from talentml.features import build\n",
}


def test_a_clean_tree_passes(tmp_path):
    assert architecture.check(_tree(tmp_path, CLEAN)).ok


@pytest.mark.parametrize(
    ("files", "rule", "needle"),
    [
        # a data package importing models (above it)
        (
            {"features/_x.py": "from ..models import FlightRisk\n"},
            "upward",
            "features imports models",
        ),
        # inside a function counts too
        (
            {"schemas/_x.py": "def f():\n    import talentml.serving\n"},
            "upward",
            "schemas imports serving",
        ),
        # two packages of one layer importing each other
        (
            {
                "fairness/_a.py": "from ..loop import x\n",
                "loop/_b.py": "from ..fairness import y\n",
            },
            "cycles",
            "fairness <-> loop",
        ),
        # a private module of another package
        ({"explain/_x.py": "from ..models._base import thing\n"}, "private", "models._base"),
        # the top-level package (the app layer) from below: its version, or all of it
        (
            {"models/_x.py": "from .. import __version__\n"},
            "upward",
            "models imports __init__",
        ),
        (
            {"explain/_x.py": "def f():\n    import talentml\n"},
            "upward",
            "explain imports __init__",
        ),
        # a private name from another package's public namespace
        ({"serving/_x.py": "from talentml.models import _secret\n"}, "private", "models._secret"),
        # a file over 800 lines
        ({"loop/_big.py": "x = 1\n" * 801}, "size", "801 lines"),
        # a function over 150 lines
        (
            {"loop/_long.py": "def f():\n" + "    x = 1\n" * 151},
            "size",
            "f: 151 lines",
        ),
        # a package in no layer
        ({"plugins/_x.py": "X = 1\n"}, "unknown", "plugins"),
    ],
)
def test_each_rule_catches_its_breach(tmp_path, files, rule, needle):
    report = architecture.check(_tree(tmp_path, {**CLEAN, **files}))
    assert not report.ok
    found = getattr(report, rule)
    assert any(needle in line for line in found), report.lines()


def test_a_size_reason_is_accepted(tmp_path):
    text = "# size: a data table\n" + "x = 1\n" * 801
    assert architecture.check(_tree(tmp_path, {**CLEAN, "loop/_table.py": text})).ok
    long = "# size: the rule table, one row per rule\ndef rules():\n" + "    x = 1\n" * 151
    assert architecture.check(_tree(tmp_path, {**CLEAN, "loop/_rules2.py": long})).ok
