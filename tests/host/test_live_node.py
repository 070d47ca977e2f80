"""The Flow Search node's live-panel sink inside ComfyUI's executor (in-process, no browser).

The executor runs the node as the queue does, with a recording stand-in for ComfyUI's
``PromptServer`` (``PromptServer.instance``, a connected client): the node must stream
``flowsearch.*`` messages to the client that queued the prompt, end with a summary that
matches its report, send nothing without a client, and honour a pick made through the
panel's control logic (the node returns that particle, deterministically).
"""

from __future__ import annotations

import asyncio
import json
import uuid

import pytest
from node_fixtures import Executor, pack_module, register_test_nodes
from search_graphs import FS, flow_search_graph, method_node, outputs

CLIENT = "client-1"


@pytest.fixture
def executor(comfy_host, pack_node_ids, monkeypatch):
    """An executor whose server stand-in is ``PromptServer.instance`` with ``CLIENT``
    connected (the node's sink looks the server up there, as in a real ComfyUI)."""
    import server

    register_test_nodes(comfy_host)
    run = Executor(comfy_host)
    run.server.sockets = {CLIENT: object()}
    monkeypatch.setattr(server.PromptServer, "instance", run.server, raising=False)
    return run


def execute(run: Executor, prompt: dict, client_id: str | None = CLIENT) -> tuple[dict, list]:
    """Run ``prompt`` as queued by ``client_id``: (outputs by node, flowsearch messages)."""
    prompt_id = str(uuid.uuid4())
    valid, error, good, node_errors = asyncio.run(
        run.host.execution.validate_prompt(prompt_id, prompt, None)
    )
    assert valid and not node_errors, (error, node_errors)
    start = len(run.server.messages)
    extra = {"client_id": client_id} if client_id else {}
    run.executor.execute(prompt, prompt_id, extra, good)
    assert run.executor.success, run.executor.status_messages
    result = {}
    for node_id in prompt:
        entry = run.executor.caches.outputs.get(node_id)
        result[node_id] = getattr(entry, "outputs", entry)
    messages = [
        (event, data)
        for event, data in run.server.messages[start:]
        if isinstance(event, str) and event.startswith("flowsearch.")
    ]
    return outputs(result), messages


def test_the_node_streams_to_its_client_and_summarises_its_report(executor):
    out, messages = execute(
        executor, flow_search_graph(method=method_node("smc"), nfe_budget=24, max_particles=4)
    )
    report = json.loads(out["report"])
    names = [name for name, _ in messages]
    assert names[0] == "flowsearch.start" and names[-2:] == [
        "flowsearch.done",
        "flowsearch.summary",
    ]
    assert "flowsearch.thumbs" in names  # Latent2RGB thumbnails of the tiny FLUX latents
    for _, data in messages:
        json.dumps(data, allow_nan=False)
        assert data["node_id"] == FS
    done = dict(messages)["flowsearch.done"]
    summary = dict(messages)["flowsearch.summary"]
    assert done["nfe_used"] == summary["nfe_used"] == report["nfe"]["used"] > 0
    assert summary["best_reward"] == report["best_rewards"]
    assert summary["timings"]["model"] == report["timings"]["model"]
    assert done["image"].startswith("data:image/jpeg;base64,")
    thumbs = dict(messages)["flowsearch.thumbs"]
    assert len(thumbs["images"]) == len(report["items"][0]["trace"][0]["rewards"])


def test_batch_items_and_the_held_out_score_reach_the_summary(executor):
    graph = flow_search_graph(
        method=method_node("bon"), nfe_budget=8, batch=2, held_out_verifier=["verifier", 0]
    )
    out, messages = execute(executor, graph)
    report = json.loads(out["report"])
    starts = [d for name, d in messages if name == "flowsearch.start"]
    dones = [d for name, d in messages if name == "flowsearch.done"]
    assert [d["batch"] for d in starts] == [d["batch"] for d in dones] == [0, 1]
    assert all(d["batch_size"] == 2 for d in starts)
    summary = dict(messages)["flowsearch.summary"]
    assert summary["held_out"] == report["held_out"]["best"] and len(summary["held_out"]) == 2
    assert summary["nfe_used"] == report["nfe"]["used"] == sum(d["nfe_used"] for d in dones)


def test_nothing_is_sent_without_a_client(executor):
    graph = flow_search_graph(method=method_node("bon"), nfe_budget=8, seed=1)
    _, messages = execute(executor, graph, client_id=None)  # a script's prompt
    assert messages == []
    executor.server.sockets = {}  # the client that queued it is gone
    _, messages = execute(
        executor, flow_search_graph(method=method_node("bon"), nfe_budget=8, seed=2)
    )
    assert messages == []


def test_a_pick_returns_that_particle_deterministically(executor, comfy_host, monkeypatch):
    live = pack_module(comfy_host, "nodes.live")
    panel_sink = live.panel_sink
    picks: list[tuple[int, int]] = []

    def picking_sink(controls, **kw):
        """The node's real sink, plus the panel's pick of particle 1 after step 2."""
        session = panel_sink(controls, **kw)
        hub = live.hub_of(executor.server)

        def sink(batch, event):
            session(batch, event)
            if event.kind == "step" and event.step == 2 and not picks:
                body = {"prompt_id": session.prompt_id, "node_id": session.node_id}
                hub.control(body | {"action": "pick", "population": event.population, "index": 1})
                picks.append((event.population, 1))

        sink.report = session.report
        return sink

    monkeypatch.setattr(live, "panel_sink", picking_sink)
    graph = flow_search_graph(method=method_node("smc"), nfe_budget=32, steps=8, max_particles=4)
    out, messages = execute(executor, graph)
    report = json.loads(out["report"])
    assert report["items"][0]["picked"] == list(picks[0])
    assert dict(messages)["flowsearch.summary"]["picked"] == [list(picks[0])]
    picks.clear()
    graph["noise"]["inputs"]["noise_seed"] = 0  # the same prompt again (a new id: no cache)
    graph[FS]["inputs"]["prompt"] = "again"
    again, _ = execute(executor, graph)
    assert picks and json.loads(again["report"])["items"][0]["picked"] == list(picks[0])
    assert (again["best_latent"]["samples"] == out["best_latent"]["samples"]).all()
    monkeypatch.setattr(live, "panel_sink", panel_sink)
    graph[FS]["inputs"]["prompt"] = "unpicked"
    unpicked, _ = execute(executor, graph)
    assert json.loads(unpicked["report"])["items"][0]["picked"] is None
    assert not (unpicked["best_latent"]["samples"] == out["best_latent"]["samples"]).all()
