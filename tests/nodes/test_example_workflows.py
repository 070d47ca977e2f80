"""Example workflows, host-free: only our node ids or ComfyUI 0.3.64 core ids, widget values
that fit our schemas, links that connect matching types, and files that match the builder."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import workflow_builder as wb

from flowsearch.nodes.verifier_specs import loader_spec
from flowsearch.verifiers.registry import availability

EXAMPLES = Path(__file__).resolve().parents[2] / "example_workflows"
NAMES = sorted(wb.WORKFLOWS)


def load(name: str) -> dict:
    return json.loads((EXAMPLES / name).read_text(encoding="utf-8"))


def test_six_examples_are_committed():
    assert sorted(p.name for p in EXAMPLES.glob("*.json")) == NAMES


@pytest.mark.parametrize("name", NAMES)
def test_committed_file_is_what_the_builder_writes(name):
    assert (EXAMPLES / name).read_text(encoding="utf-8") == wb.render(name)


@pytest.mark.parametrize("name", NAMES)
def test_only_known_nodes_and_values_that_fit(name):
    ours = wb.our_specs()
    for node in load(name)["nodes"]:
        kind = node["type"]
        assert kind in ours or kind in wb.CORE, f"{name}: unknown node type {kind}"
        if kind in ours:
            spec = ours[kind]
            if kind.startswith("FlowSearch_LoadVerifier_") and spec.widgets()[0].name == "model":
                # the model combo lists the user's files: any non-empty name is a valid value
                family = kind.removeprefix("FlowSearch_LoadVerifier_")
                assert node["widgets_values"][0], (name, kind)
                spec = loader_spec(availability(family), (node["widgets_values"][0],))
            assert spec.check_widgets(node["widgets_values"]) == [], (name, kind)


@pytest.mark.parametrize("name", NAMES)
def test_links_connect_matching_types(name):
    w = load(name)
    nodes = {n["id"]: n for n in w["nodes"]}
    for link_id, src, out, dst, inp, kind in w["links"]:
        assert nodes[src]["outputs"][out]["type"] == kind
        assert link_id in nodes[src]["outputs"][out]["links"]
        target = nodes[dst]["inputs"][inp]
        assert target["link"] == link_id and target["type"] in (kind, "*")
    for n in w["nodes"]:
        for i in n["inputs"]:
            optional = (
                n["type"] in wb.our_specs() and wb.our_specs()[n["type"]].input(i["name"]).optional
            )
            assert i["link"] is not None or optional, (name, n["type"], i["name"])
