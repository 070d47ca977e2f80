"""Progress bar, latent previews and cancel (ComfyUI's interrupt) for the Flow Search node."""

from __future__ import annotations

import json

import pytest
from node_fixtures import CALLS, INTERRUPTED_AT, Executor, register_test_nodes
from search_graphs import FS, flow_search_graph, method_node

COUNTED = {
    "class_type": "FlowSearchTest_CountCalls",
    "inputs": {"model": ["unet", 0], "label": "pg"},
}


@pytest.fixture
def hooked(comfy_host, pack_node_ids):
    """ComfyUI's progress hook as ``main.py`` installs it (interrupt check first), recording
    ``(value, total, preview)``; Latent2RGB previews on."""
    import comfy.model_management
    import comfy.utils
    import latent_preview
    from comfy.cli_args import LatentPreviewMethod, args

    register_test_nodes(comfy_host)
    calls: list[tuple] = []

    def hook(value, total, preview, prompt_id=None, node_id=None):
        comfy.model_management.throw_exception_if_processing_interrupted()
        calls.append((value, total, preview))

    old_hook, old_method = comfy.utils.PROGRESS_BAR_HOOK, args.preview_method
    comfy.utils.set_progress_bar_global_hook(hook)
    args.preview_method = LatentPreviewMethod.Latent2RGB
    assert latent_preview.get_previewer  # previews come from ComfyUI's own previewer
    try:
        yield calls
    finally:
        comfy.utils.set_progress_bar_global_hook(old_hook)
        args.preview_method = old_method
        comfy.model_management.interrupt_current_processing(False)


def counted(graph: dict) -> dict:
    graph["counted"] = COUNTED
    graph["guider"]["inputs"]["model"] = ["counted", 0]
    graph["sched"]["inputs"]["model"] = ["counted", 0]
    CALLS.pop("pg", None)
    return graph


def test_progress_counts_nfes_up_to_the_budget_with_previews(comfy_host, hooked):
    ok, out, _ = Executor(comfy_host).run(
        flow_search_graph(
            method=method_node("rbf", proposal_batch=2), nfe_budget=24, max_particles=4
        )
    )
    assert ok
    values = [v for v, _, _ in hooked]
    assert {t for _, t, _ in hooked} == {24}
    assert values == sorted(values) and values[-1] == json.loads(out[FS][3][0])["nfe"]["used"]
    assert len(values) >= 24 // 4  # at least one update per model call (chunk)
    previews = [p for _, _, p in hooked if p is not None]
    assert previews and previews[-1][0] == "JPEG" and previews[-1][1].size[0] > 0


def test_cancel_stops_within_one_model_call_and_the_next_prompt_runs(comfy_host, hooked):
    """The verifier sets ComfyUI's interrupt flag on its 2nd call (RBF scores every step):
    no model call follows, nothing is cached for the node, the last preview is sent, and the
    next prompt runs normally."""
    import comfy.model_management

    ex = Executor(comfy_host)
    graph = counted(flow_search_graph(method=method_node("rbf"), nfe_budget=40, max_particles=2))
    graph["verifier"]["inputs"]["interrupt_after"] = 2
    ok, out, msgs = ex.run(graph)
    assert not ok
    assert any(ev == "execution_interrupted" for ev, _ in msgs)
    assert out[FS] is None  # nothing half-done is written
    assert CALLS["pg"]["rows"] == INTERRUPTED_AT["pg"]["rows"] < 40  # no model call after
    previews = [m for m in ex.server.messages if isinstance(m[1], tuple)]
    assert previews, "the best-so-far preview is sent when the search stops"
    assert not comfy.model_management.processing_interrupted()
    graph["verifier"]["inputs"]["interrupt_after"] = 0
    ok, out, _ = ex.run(graph)
    assert ok and json.loads(out[FS][3][0])["nfe"]["used"] == 40
