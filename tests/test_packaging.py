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


def test_the_registry_icon_is_a_png_in_the_repository():
    icon = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["comfy"]["Icon"]
    rel = icon.split("/main/", 1)[1]  # the URL points at the default branch's file
    data = (ROOT / rel).read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) < 100_000
