"""Every node of the pack is described in docs/nodes.md and listed in the README's node
table (host-free: the node ids come from the specs the schemas are built from)."""

from __future__ import annotations

from pathlib import Path

import pytest
from workflow_builder import our_specs

ROOT = Path(__file__).resolve().parents[2]
LOADER = "FlowSearch_LoadVerifier_"


def node_ids() -> list[str]:
    return sorted(i for i in our_specs() if not i.startswith(LOADER))


def named(text: str, node_id: str, ellipsis: str) -> bool:
    """The full id, or an abbreviation after the first of a family (docs/nodes.md:
    ``..._MethodSMC``, the README: ``…SMC``)."""
    suffix = node_id.removeprefix("FlowSearch_")
    short = {suffix, suffix.removeprefix("Method")}
    return f"`{node_id}`" in text or any(f"`{ellipsis}{s}`" in text for s in short)


@pytest.mark.parametrize("node_id", node_ids())
def test_docs_and_readme_name_every_node(node_id):
    docs = (ROOT / "docs" / "nodes.md").read_text(encoding="utf-8")
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert named(docs, node_id, "..._"), f"docs/nodes.md does not describe {node_id}"
    assert named(readme, node_id, "…"), f"README's node table does not list {node_id}"


def test_docs_and_readme_describe_the_verifier_loaders():
    for path in (ROOT / "docs" / "nodes.md", ROOT / "README.md"):
        assert f"`{LOADER}<family>`" in path.read_text(encoding="utf-8"), path
