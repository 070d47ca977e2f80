"""The live search panel in headless Chromium against a real ComfyUI server (issue 11).

A tiny Flow Search graph (tiny FLUX, tiny VAE, a LAION-aesthetic verifier on a tiny random
CLIP written to the server's ``models/verifiers/aesthetic/``) is loaded into the pinned
front end and queued from the page, as an artist would. The test reads what the panel shows
(NFE counter, thumbnails, the marked winner) and checks it against the node's JSON report;
then, in a longer second search, it clicks a particle while the search runs and checks
that the node returned that particle: the report names the clicked (population, index),
the NFE counter shows the pick's finishing NFEs, and the returned latent is exactly the
one a re-run of the same prompt in this process returns when it picks that particle from
the same population (the core finishes a pick deterministically, from the particle's state
with its own keyed noise, whenever the pick is taken). *Stop · keep best* mid-run ends the
search early; a reload in the middle of a run re-attaches the panel; two Flow Search nodes
in one graph each get their own panel; a LATENT batch of 2 gets one tab per batch item.
The console must show no errors of ours. Screenshots go to ``tests/host/_artifacts/`` (the
README's panel picture is one).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest
from browser_harness import wait_for_comfy_app

PACK_DIR = Path(__file__).resolve().parents[2]
FLOW_SEARCH = "FlowSearch_FlowSearch"
AESTHETIC = "FlowSearch_LoadVerifier_aesthetic"


@pytest.fixture(scope="module")
def aesthetic_model(comfy_server: Any) -> str:
    """A tiny LAION-aesthetic verifier (random tiny CLIP + head) in the server's models."""
    pytest.importorskip("transformers", reason="the test verifier is a tiny CLIP (transformers)")
    sys.path.insert(0, str(PACK_DIR / "tests" / "verifiers"))
    try:
        from support.tiny_models import make_tiny_aesthetic
    finally:
        sys.path.remove(str(PACK_DIR / "tests" / "verifiers"))
    folder = Path(comfy_server.base_dir) / "models" / "verifiers" / "aesthetic"
    if not folder.exists():
        make_tiny_aesthetic(folder, seed=3)
    return "./"


def default_inputs(comfy_server: Any, node: str, **values: Any) -> dict[str, Any]:
    """Node ``node``'s widget inputs at their defaults (a combo: its first option), updated
    with ``values``."""
    info = comfy_server.object_info()[node]["input"]
    inputs = {}
    for group in ("required", "optional"):
        for name, spec in (info.get(group) or {}).items():
            options = spec[1] if len(spec) > 1 and isinstance(spec[1], dict) else {}
            if "default" in options:
                inputs[name] = options["default"]
            elif isinstance(spec[0], list) and spec[0]:
                inputs[name] = spec[0][0]
    return inputs | values


def aesthetic_verifier(comfy_server: Any, model: str) -> dict[str, Any]:
    return {"class_type": AESTHETIC, "inputs": default_inputs(comfy_server, AESTHETIC, model=model)}


def search_graph(
    comfy_server: Any,
    verifier: dict[str, Any],
    *,
    first_id: int = 1,
    method: str = "FlowSearch_MethodSMC",
    method_values: dict[str, Any] | None = None,
    nfe_budget: int = 32,
    steps: int = 4,
    size: int = 64,
    seed: int = 0,
    max_particles: int = 8,
    batch: int = 1,
    save_latent: str | None = None,
) -> tuple[dict[str, dict], str, str]:
    """An API-format graph with one Flow Search node; (graph, its node id, report node id).

    Ids are numbers from ``first_id`` (the front end's ``loadApiJson`` keeps them).
    ``save_latent``: a ``SaveLatent`` node (id ``first_id + 12``) with this file prefix
    writes the returned latent to the server's output folder."""
    ids = [str(first_id + k) for k in range(10)]
    unet, cond, noise, guider, sched, latent, vae, ver, meth, fs = ids
    report = str(first_id + 10)
    graph = {
        unet: {
            "class_type": "FlowSearchTest_TinyUNet",
            "inputs": {"variant": "schnell", "seed": 0},
        },
        cond: {"class_type": "FlowSearchTest_TinyFlux", "inputs": {"seed": 0}},
        noise: {"class_type": "RandomNoise", "inputs": {"noise_seed": seed}},
        guider: {
            "class_type": "BasicGuider",
            "inputs": {"model": [unet, 0], "conditioning": [cond, 1]},
        },
        sched: {
            "class_type": "BasicScheduler",
            "inputs": {"model": [unet, 0], "scheduler": "simple", "steps": steps, "denoise": 1.0},
        },
        latent: {
            "class_type": "EmptySD3LatentImage",
            "inputs": {"width": size, "height": size, "batch_size": batch},
        },
        vae: {"class_type": "FlowSearchTest_TinyVAE", "inputs": {"seed": 0}},
        ver: verifier,
        meth: {
            "class_type": method,
            "inputs": default_inputs(comfy_server, method, **(method_values or {})),
        },
        fs: {
            "class_type": FLOW_SEARCH,
            "inputs": {
                "noise": [noise, 0],
                "guider": [guider, 0],
                "sigmas": [sched, 0],
                "latent_image": [latent, 0],
                "vae": [vae, 0],
                "verifier": [ver, 0],
                "prompt": "a photo",
                "method": [meth, 0],
                "nfe_budget": nfe_budget,
                "max_particles": max_particles,
            },
        },
        report: {"class_type": "PreviewAny", "inputs": {"source": [fs, 3]}},
        str(first_id + 11): {
            "class_type": "FlowSearchTest_ImageSink",
            "inputs": {"images": [fs, 1]},
        },
    }
    if save_latent is not None:
        graph[str(first_id + 12)] = {
            "class_type": "SaveLatent",
            "inputs": {"samples": [fs, 0], "filename_prefix": save_latent},
        }
    return graph, fs, report


def load_graph(page: Any, graph: dict) -> None:
    page.evaluate(
        "async (graph) => { await window.app.loadApiJson(graph, 'flowsearch-live') }", graph
    )
    page.evaluate("() => window.app.canvas.ds && window.app.graph.setDirtyCanvas(true, true)")


def open_search(page: Any, comfy_server: Any, aesthetic_model: Any, **graph: Any) -> tuple:
    """Open the front end and load one Flow Search graph (`search_graph` keywords) into it,
    with the aesthetic verifier; what `search_graph` returns."""
    page.goto(comfy_server.url)
    wait_for_comfy_app(page)
    verifier = aesthetic_verifier(comfy_server, aesthetic_model)
    built, fs, report_node = search_graph(comfy_server, verifier, **graph)
    load_graph(page, built)
    return built, fs, report_node


def queue_graph(page: Any) -> str:
    """Queue the loaded graph the way the Run button does; the prompt id."""
    page.evaluate(
        """() => {
            window.__fsPrompts = []
            window.app.api.addEventListener('execution_start', (e) => window.__fsPrompts.push(e.detail.prompt_id))
        }"""
    )
    page.evaluate("async () => { await window.app.queuePrompt(0, 1) }")
    page.wait_for_function("() => window.__fsPrompts.length > 0", timeout=60_000)
    return page.evaluate("() => window.__fsPrompts[0]")


def report_of(comfy_server: Any, prompt_id: str, report_node: str) -> dict:
    entry = comfy_server.wait_for(prompt_id)
    (text,) = entry["outputs"][report_node]["text"]
    return json.loads(text)


def panel(page: Any, node_id: str) -> Any:
    """The panel's root element of Flow Search node ``node_id``."""
    handle = page.evaluate_handle(
        "(id) => window.app.graph.getNodeById(id)?.flowsearchPanel?.view.element ?? null", node_id
    )
    element = handle.as_element()
    assert element is not None, f"node {node_id} has no live panel"
    return element


def test_panel_follows_a_search_and_marks_the_winner(
    page, comfy_server, aesthetic_model, artifacts_dir
):
    _, fs, report_node = open_search(page, comfy_server, aesthetic_model, nfe_budget=36, steps=6)
    show_node(page, fs)
    root = panel(page, fs)
    assert root.get_attribute("data-status") == "idle"
    prompt_id = queue_graph(page)
    report = report_of(comfy_server, prompt_id, report_node)
    page.wait_for_function(
        "(el) => el.dataset.status === 'done' && el.querySelector('.fs-summary.fs-show')",
        arg=root,
        timeout=60_000,
    )
    page.wait_for_timeout(300)
    nfe = root.query_selector(".fs-nfe")
    assert int(nfe.get_attribute("data-nfe-used")) == report["nfe"]["used"] > 0
    population = len(report["items"][0]["trace"][-1]["rewards"])
    thumbs = root.query_selector_all(".fs-thumb")
    assert len(thumbs) == min(population, 16)
    assert len(root.query_selector_all(".fs-thumb.fs-winner")) == 1
    result = root.query_selector(".fs-result.fs-show img")
    assert result is not None and result.get_attribute("src").startswith("data:image/jpeg;base64,")
    best = float(root.query_selector(".fs-stat-best .fs-stat-value").inner_text())
    assert best == pytest.approx(report["best_rewards"][0], rel=5e-3)  # 3 significant digits
    assert root.query_selector(".fs-sub").inner_text().endswith(f"step {6}/6")
    page.screenshot(path=str(artifacts_dir / "live_panel_done.png"), clip=node_box(page, fs))
    assert page.console_errors == [], "\n".join(page.console_errors)


def show_node(page: Any, node_id: str, width: int = 1280, height: int = 1300) -> None:
    """Put node ``node_id`` at the top left of a ``width`` x ``height`` page (scale 1, no
    minimap)."""
    page.set_viewport_size({"width": width, "height": height})
    page.evaluate(
        "async () => { await window.app.extensionManager.setting.set('Comfy.Minimap.Visible', false) }"
    )
    page.evaluate(
        """(id) => {
            const canvas = window.app.canvas
            const node = window.app.graph.getNodeById(id)
            canvas.ds.scale = 1
            canvas.ds.offset = [-node.pos[0] + 70, -node.pos[1] + window.LiteGraph.NODE_TITLE_HEIGHT + 70]
            canvas.setDirty(true, true)
        }""",
        node_id,
    )


def node_box(page: Any, node_id: str, margin: int = 6) -> dict:
    """Node ``node_id``'s box on the page now (title bar included), for screenshots."""
    page.wait_for_timeout(200)  # one more canvas frame
    return page.evaluate(
        """([id, margin]) => {
            const canvas = window.app.canvas
            const node = window.app.graph.getNodeById(id)
            const rect = canvas.canvas.getBoundingClientRect()
            const [x, y] = canvas.ds.convertOffsetToCanvas([node.pos[0], node.pos[1] - window.LiteGraph.NODE_TITLE_HEIGHT])
            const s = canvas.ds.scale
            return {x: rect.left + x - margin, y: rect.top + y - margin,
                    width: node.size[0] * s + 2 * margin,
                    height: (node.size[1] + window.LiteGraph.NODE_TITLE_HEIGHT) * s + 2 * margin}
        }""",
        [node_id, margin],
    )


def wait_status(page: Any, root: Any, *statuses: str, timeout: float = 120_000) -> None:
    page.wait_for_function(
        "([el, statuses]) => statuses.includes(el.dataset.status)",
        arg=[root, list(statuses)],
        timeout=timeout,
    )


def test_a_click_mid_run_returns_that_particle(
    page, comfy_server, aesthetic_model, artifacts_dir, comfy_host, pack_node_ids, monkeypatch
):
    graph, fs, report_node = open_search(
        page,
        comfy_server,
        aesthetic_model,
        first_id=101,
        nfe_budget=8 * 10,
        steps=10,
        size=128,
        seed=5,
        save_latent="flowsearch_pick",
    )
    show_node(page, fs)
    root = panel(page, fs)
    prompt_id = queue_graph(page)
    # wait for a fresh population (not the first), then click right away
    page.wait_for_function(
        """(el) => el.dataset.status === 'running'
            && Number(el.querySelector('.fs-thumb')?.dataset.population) >= 5
            && el.querySelector('.fs-thumb')?.dataset.steerable === 'true'""",
        arg=root,
        timeout=120_000,
    )
    page.screenshot(path=str(artifacts_dir / "live_panel_running.png"), clip=node_box(page, fs))
    cells = root.query_selector_all(".fs-thumb")
    population = int(cells[0].get_attribute("data-population"))
    rewards = [float(c.get_attribute("data-reward")) for c in cells]
    chosen = min(range(len(cells)), key=rewards.__getitem__)  # the worst: not the search's pick
    index = int(cells[chosen].get_attribute("data-index"))
    cells[chosen].click()
    entry = comfy_server.wait_for(prompt_id)
    report = json.loads(entry["outputs"][report_node]["text"][0])
    wait_status(page, root, "done", "stopped")
    page.wait_for_function("(el) => el.querySelector('.fs-summary.fs-show')", arg=root)
    item = report["items"][0]
    assert item["picked"] == [population, index], item.get("pick_error")
    assert root.query_selector(".fs-result.fs-picked.fs-show") is not None
    assert "your pick" in root.query_selector(".fs-result").inner_text()
    # the panel shows the clicked particle in its population, marked as the pick
    (mark,) = root.query_selector_all(".fs-thumb.fs-picked")
    assert (mark.get_attribute("data-population"), mark.get_attribute("data-index")) == (
        str(population),
        str(index),
    )
    # the NFE counter: the budget's NFEs, then the pick's finishing NFEs (as the report)
    nfe = root.query_selector(".fs-nfe")
    assert int(nfe.get_attribute("data-nfe-used")) == report["nfe"]["used"] == item["nfe"]
    assert int(nfe.get_attribute("data-nfe-finish")) == item["nfe_finish"] > 0
    assert f"+ {item['nfe_finish']} to finish the pick" in nfe.inner_text()
    # the proof: the node returned exactly what finishing particle `index` of `population`
    # gives, in a re-run of the prompt here that picks it as soon as that population exists
    (saved,) = entry["outputs"][str(101 + 12)]["latents"]
    path = Path(comfy_server.base_dir) / "output" / saved["subfolder"] / saved["filename"]
    returned = load_latent(path)
    rerun = rerun_with_pick(comfy_host, monkeypatch, comfy_server, graph, fs, population, index)
    assert json.loads(rerun[3][0])["items"][0]["picked"] == [population, index]
    expected = rerun[0][0]["samples"]
    assert returned.shape == expected.shape and torch_equal(returned, expected)
    page.wait_for_timeout(300)
    page.screenshot(path=str(artifacts_dir / "live_panel_picked.png"), clip=node_box(page, fs))
    assert page.console_errors == [], "\n".join(page.console_errors)


def load_latent(path: Path) -> Any:
    """The tensor a ``SaveLatent`` node wrote."""
    from safetensors.torch import load_file

    return load_file(str(path))["latent_tensor"]


def torch_equal(a: Any, b: Any) -> bool:
    import torch

    return bool(torch.equal(a.to(torch.float32).cpu(), b.to(torch.float32).cpu()))


def rerun_with_pick(
    comfy_host: Any,
    monkeypatch: Any,
    comfy_server: Any,
    graph: dict,
    fs: str,
    population: int,
    index: int,
) -> list:
    """Run ``graph`` in this process (ComfyUI's executor, the same pack and tiny models,
    one CPU thread like the server) with a stand-in panel that picks particle ``index`` of
    ``population`` at its step event; the Flow Search node's outputs."""
    import folder_paths
    import torch
    from comfy_host_harness import outside_event_loop
    from node_fixtures import Executor, pack_module

    paths, extensions = folder_paths.folder_names_and_paths["verifiers"]
    here = str(Path(comfy_server.base_dir) / "models" / "verifiers")  # the tiny verifier
    monkeypatch.setitem(
        folder_paths.folder_names_and_paths, "verifiers", ([here, *paths], extensions)
    )
    live = pack_module(comfy_host, "nodes.live")

    def picking_panel(controls: Any, **_: Any) -> Any:
        def sink(batch: int, event: Any) -> None:
            if event.kind == "step" and event.population == population:
                controls[batch].pick(population, index)

        sink.report = lambda report: None
        return sink

    monkeypatch.setattr(live, "panel_sink", picking_panel)

    def run() -> tuple[bool, dict, list]:
        threads = torch.get_num_threads()
        torch.set_num_threads(1)  # the server runs with OMP_NUM_THREADS=1
        try:
            return Executor(comfy_host).run(graph)
        finally:
            torch.set_num_threads(threads)

    ok, outputs, messages = outside_event_loop(run)
    assert ok, messages
    return outputs[fs]


def test_the_panel_survives_a_reload_mid_run(page, comfy_server, aesthetic_model):
    _, fs, report_node = open_search(
        page,
        comfy_server,
        aesthetic_model,
        first_id=201,
        nfe_budget=8 * 8,
        steps=8,
        size=128,
        seed=9,
    )
    root = panel(page, fs)
    prompt_id = queue_graph(page)
    page.wait_for_function(
        "(el) => Number(el.querySelector('.fs-nfe').dataset.nfeUsed) >= 8", arg=root
    )
    seen = int(root.query_selector(".fs-nfe").get_attribute("data-nfe-used"))
    page.wait_for_timeout(500)  # the front end saves the open workflow for the reload
    page.reload()
    wait_for_comfy_app(page)
    page.wait_for_function("(id) => window.app.graph.getNodeById(id)?.flowsearchPanel", arg=fs)
    root = panel(page, fs)
    page.wait_for_function(
        "([el, seen]) => Number(el.querySelector('.fs-nfe')?.dataset.nfeUsed) >= seen",
        arg=[root, seen],
    )
    report = report_of(comfy_server, prompt_id, report_node)
    wait_status(page, root, "done")
    assert (
        int(root.query_selector(".fs-nfe").get_attribute("data-nfe-used")) == report["nfe"]["used"]
    )
    assert root.query_selector(".fs-result.fs-show") is not None
    assert page.console_errors == [], "\n".join(page.console_errors)


def test_two_flow_search_nodes_have_their_own_panels(page, comfy_server, aesthetic_model):
    page.goto(comfy_server.url)
    wait_for_comfy_app(page)
    verifier = aesthetic_verifier(comfy_server, aesthetic_model)
    first, fs1, report1 = search_graph(
        comfy_server, verifier, first_id=301, nfe_budget=24, steps=4, seed=1
    )
    second, fs2, report2 = search_graph(
        comfy_server,
        verifier,
        first_id=321,
        method="FlowSearch_MethodBestOfN",
        nfe_budget=12,
        steps=3,
        seed=2,
    )
    load_graph(page, first | second)
    roots = {fs1: panel(page, fs1), fs2: panel(page, fs2)}
    prompt_id = queue_graph(page)
    reports = {
        fs1: report_of(comfy_server, prompt_id, report1),
        fs2: report_of(comfy_server, prompt_id, report2),
    }
    for node, root in roots.items():
        wait_status(page, root, "done")
        nfe = int(root.query_selector(".fs-nfe").get_attribute("data-nfe-used"))
        assert nfe == reports[node]["nfe"]["used"]
    assert roots[fs1].query_selector(".fs-title").inner_text() == "SMC"
    assert roots[fs2].query_selector(".fs-title").inner_text() == "best-of-N"
    assert reports[fs1]["nfe"]["used"] != reports[fs2]["nfe"]["used"]
    assert page.console_errors == [], "\n".join(page.console_errors)


def test_stop_keeps_the_best_so_far(page, comfy_server, aesthetic_model):
    _, fs, report_node = open_search(
        page,
        comfy_server,
        aesthetic_model,
        first_id=501,
        nfe_budget=8 * 10,
        steps=10,
        size=128,
        seed=11,
    )
    root = panel(page, fs)
    prompt_id = queue_graph(page)
    page.wait_for_function(
        "(el) => Number(el.querySelector('.fs-nfe').dataset.nfeUsed) >= 16",
        arg=root,
        timeout=120_000,
    )
    root.query_selector(".fs-stop").click()
    report = report_of(comfy_server, prompt_id, report_node)
    wait_status(page, root, "stopped")
    assert report["items"][0]["stopped"] is True
    assert report["nfe"]["used"] < report["nfe"]["budget"]
    assert (
        int(root.query_selector(".fs-nfe").get_attribute("data-nfe-used")) == report["nfe"]["used"]
    )
    assert "stopped early" in root.query_selector(".fs-result").inner_text()
    assert root.query_selector(".fs-stop").is_disabled()
    assert page.console_errors == [], "\n".join(page.console_errors)


def test_a_latent_batch_gets_one_tab_per_item(page, comfy_server, aesthetic_model, artifacts_dir):
    _, fs, report_node = open_search(
        page,
        comfy_server,
        aesthetic_model,
        first_id=601,
        nfe_budget=8 * 6,
        steps=6,
        size=96,
        seed=4,
        batch=2,
    )
    show_node(page, fs)
    root = panel(page, fs)
    prompt_id = queue_graph(page)
    # the second item runs: the panel follows it, the finished first one is a tab away
    page.wait_for_function(
        """(el) => el.dataset.status === 'running' && el.querySelectorAll('.fs-tab').length === 2
            && el.querySelectorAll('.fs-tab')[1].getAttribute('aria-pressed') === 'true'""",
        arg=root,
        timeout=120_000,
    )
    tabs = root.query_selector_all(".fs-tab")
    assert [t.inner_text() for t in tabs] == ["item 1", "item 2"]
    tabs[0].click()
    first = page.evaluate(
        """(el) => ({pressed: el.querySelector('.fs-tab').getAttribute('aria-pressed'),
                     steerable: Array.from(el.querySelectorAll('.fs-thumb'), (c) => c.dataset.steerable),
                     result: !!el.querySelector('.fs-result.fs-show')})""",
        root,
    )
    # item 1 has finished: its result is shown and its particles can no longer be picked
    assert first["pressed"] == "true" and first["result"]
    assert first["steerable"] and set(first["steerable"]) == {"false"}
    report = report_of(comfy_server, prompt_id, report_node)
    wait_status(page, root, "done")
    page.wait_for_function("(el) => el.querySelector('.fs-summary.fs-show')", arg=root)
    shown = {}
    for b in (1, 0, 1):
        root.query_selector_all(".fs-tab")[b].click()
        shown[b] = page.evaluate(
            """(el) => ({nfe: Number(el.querySelector('.fs-nfe').dataset.nfeUsed),
                         best: el.querySelector('.fs-stat-best .fs-stat-value').textContent,
                         image: el.querySelector('.fs-result img').getAttribute('src'),
                         pressed: Array.from(el.querySelectorAll('.fs-tab'), (t) => t.getAttribute('aria-pressed'))})""",
            root,
        )
        assert shown[b]["pressed"] == ["true" if k == b else "false" for k in (0, 1)]
        item = report["items"][b]
        assert shown[b]["nfe"] == item["nfe"] > 0
        assert float(shown[b]["best"]) == pytest.approx(report["best_rewards"][b], rel=5e-3)
        if b == 0:
            page.screenshot(
                path=str(artifacts_dir / "live_panel_batch.png"), clip=node_box(page, fs)
            )
    assert shown[0]["image"] != shown[1]["image"]  # two searches, two returned samples
    assert report["nfe"]["used"] == shown[0]["nfe"] + shown[1]["nfe"]
    assert page.console_errors == [], "\n".join(page.console_errors)
