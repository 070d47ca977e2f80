"""Packaging: every sub-package is listed for setuptools (the root maps to `flowsearch`)."""

from pathlib import Path

import pytest

tomllib = pytest.importorskip("tomllib")  # Python >= 3.11

ROOT = Path(__file__).resolve().parents[1]
SKIP = {"tests", "benchmarks", "training", "docs", "web", "build", "example_workflows"}


def test_every_subpackage_is_in_pyproject():
    listed = set(
        tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]
    )
    found = {"flowsearch"}
    for init in ROOT.rglob("__init__.py"):
        rel = init.parent.relative_to(ROOT)
        if rel.parts and (rel.parts[0] in SKIP or rel.parts[0].startswith(".")):
            continue
        found.add(".".join(("flowsearch", *rel.parts)))
    assert found == listed, f"add to / remove from pyproject packages: {sorted(found ^ listed)}"
