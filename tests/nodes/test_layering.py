"""Host-free guards for the layering rule: only `nodes/` imports ComfyUI, and only lazily.

Runs everywhere (no ComfyUI needed): a fresh interpreter for the import check, and a static
scan of the pack's sources for the import statements.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

PACK_DIR = Path(__file__).resolve().parents[2]
COMFY_ROOTS = {
    "comfy",
    "comfy_api",
    "comfy_execution",
    "comfy_extras",
    "execution",
    "folder_paths",
    "latent_preview",
    "node_helpers",
    "nodes",
    "server",
}
SKIP_DIRS = {"tests", "benchmarks", "training", "nodes", "web", "docs", "build", "dist"}


def imported_roots(path: Path) -> set[str]:
    """Top-level module names of the absolute imports in one source file."""
    roots = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            roots.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            roots.add(node.module.split(".")[0])
    return roots


def pack_sources(include_nodes: bool) -> list[Path]:
    files = []
    for path in sorted(PACK_DIR.rglob("*.py")):
        parts = path.relative_to(PACK_DIR).parts
        if parts[0].startswith(".") or (len(parts) > 1 and parts[0] in SKIP_DIRS - {"nodes"}):
            continue
        if parts[0] == "nodes" and not include_nodes:
            continue
        files.append(path)
    return files


def test_only_nodes_imports_comfyui():
    offenders = {
        str(p.relative_to(PACK_DIR)): sorted(imported_roots(p) & COMFY_ROOTS)
        for p in pack_sources(include_nodes=False)
    }
    offenders = {k: v for k, v in offenders.items() if v}
    assert len(pack_sources(include_nodes=False)) > 5
    assert offenders == {}


def test_pack_code_imports_itself_relatively():
    """ComfyUI loads the folder under another module name: `import flowsearch` would pick up
    a second, possibly different, copy of the pack."""
    offenders = [
        str(p.relative_to(PACK_DIR))
        for p in pack_sources(include_nodes=True)
        if "flowsearch" in imported_roots(p)
    ]
    assert offenders == []


def test_importing_the_pack_does_not_import_nodes(tmp_path):
    script = (
        "import importlib, json, sys\n"
        "for m in ('flowsearch', 'flowsearch.samplers', 'flowsearch.verifiers'):\n"
        "    importlib.import_module(m)\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.startswith('flowsearch.nodes'))))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", script], cwd=tmp_path, capture_output=True, text=True, check=True
    )
    assert json.loads(out.stdout.strip().splitlines()[-1]) == []


#: The core layers and the pack folders they must never import (demo code, test beds).
CORE = ("samplers", "verifiers")
ABOVE_CORE = {"demo", "testing", "nodes", "benchmarks", "tests"}


def pack_imports(rel: Path, source: str) -> set[str]:
    """Top-level pack folders that the file at ``rel`` (relative to the pack) imports
    relatively (``from ..testing import x``, ``from .. import demo``), resolved against the
    file's own package."""
    package = list(rel.parts[:-1])
    found = set()
    for node in ast.walk(ast.parse(source, filename=str(rel))):
        if not isinstance(node, ast.ImportFrom) or node.level == 0:
            continue
        base = package[: len(package) - (node.level - 1)]
        target = [*base, *node.module.split(".")] if node.module else base
        found.update(target[:1] if target else [alias.name for alias in node.names])
    return found


def test_core_never_imports_demo_or_test_code():
    files = [
        p for p in pack_sources(include_nodes=False) if p.relative_to(PACK_DIR).parts[0] in CORE
    ]
    assert len(files) > 20
    offenders = {}
    for p in files:
        rel = p.relative_to(PACK_DIR)
        bad = pack_imports(rel, p.read_text(encoding="utf-8")) & ABOVE_CORE
        if bad:
            offenders[str(rel)] = sorted(bad)
    assert offenders == {}


def test_the_layering_guard_sees_relative_imports():
    src = "from ...testing import example_mixture\nfrom ..grids import make_grid\nfrom .. import steps\n"
    rel = Path("samplers/particle_search/x.py")
    assert pack_imports(rel, src) == {"testing", "samplers"}
    assert pack_imports(Path("verifiers/x.py"), "from .. import demo\n") == {"demo"}
