"""Boot a real ComfyUI checkout in-process (CPU) and run API-format graphs on it.

Imported only by `conftest.py` fixtures, and only when ``COMFYUI_PATH`` is set: every
ComfyUI import happens inside the functions below, after `boot` has put the checkout on
``sys.path`` and set ComfyUI's command-line options for the CPU.

ComfyUI as a library: ``comfy.cli_args`` parses ``sys.argv`` only when
``comfy.options.enable_args_parsing()`` was called (its ``main.py`` does); otherwise it
parses ``[]`` and we set the options on ``comfy.cli_args.args`` before
``comfy.model_management`` reads them at import. ``nodes.py`` puts ``comfy/`` first on
``sys.path`` (so a bare ``import utils`` would find ``comfy/utils.py``); like ``main.py`` we
import ComfyUI's own ``utils`` package before ``nodes``.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import os
import sys
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

import torch
from tiny_models import (  # noqa: F401  (re-exported: tests import them from here)
    TINY_FLUX_CONFIG,
    build_tiny_flux,
    build_tiny_flux_clip,
    build_tiny_vae,
    init_parameters,
    tiny_conditioning,
)


@dataclass
class ComfyHost:
    """Handles on the booted ComfyUI modules."""

    path: str
    version: str
    nodes: ModuleType
    execution: ModuleType
    builtin_node_ids: frozenset[str]
    extras_failed: list[str] = field(default_factory=list)
    dirs: Any = None  # the session's `model_files.HostDirs`, set by the conftest fixture


def outside_event_loop(fn: Callable[..., Any], *args: Any) -> Any:
    """``fn(*args)``, in a worker thread when this thread runs an event loop.

    ComfyUI's loader and executor call ``asyncio.run``, which refuses to start inside a
    running loop, and Playwright's sync API (the browser fixture) keeps one running.
    """
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return fn(*args)
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(fn, *args).result()


class GraphError(RuntimeError):
    """A prompt failed ComfyUI's validation or execution; ``details`` holds ComfyUI's report."""

    def __init__(self, message: str, details: Any) -> None:
        super().__init__(message)
        self.details = details


def boot(comfyui_path: str) -> ComfyHost:
    """Import ComfyUI from ``comfyui_path`` on the CPU and load its built-in extra nodes."""
    path = os.path.abspath(comfyui_path)
    if not (os.path.isfile(os.path.join(path, "nodes.py")) and os.path.isdir(f"{path}/comfy")):
        raise RuntimeError(f"COMFYUI_PATH={comfyui_path!r} is not a ComfyUI checkout (no nodes.py)")
    if path not in sys.path:
        sys.path.insert(0, path)
    # Tiny models: one intra-op thread is ~40x faster than two on a busy 2-core machine
    # (OpenMP threads spin against each other); the tests never need more.
    torch.set_num_threads(1)
    import comfy.options

    comfy.options.enable_args_parsing(False)
    from comfy.cli_args import args

    args.cpu = True
    import comfy.model_management as mm
    import utils.extra_config  # noqa: F401  (ComfyUI's `utils` package, before nodes.py)

    if mm.get_torch_device().type != "cpu":
        raise RuntimeError("ComfyUI was imported before the harness set --cpu")
    import comfyui_version
    import execution

    import nodes

    failed = outside_event_loop(
        asyncio.run, nodes.init_extra_nodes(init_custom_nodes=False, init_api_nodes=False)
    )
    builtin = frozenset(nodes.NODE_CLASS_MAPPINGS)
    from tiny_nodes import TEST_NODES

    for node_cls in TEST_NODES:
        nodes.NODE_CLASS_MAPPINGS[node_cls.GET_SCHEMA().node_id] = node_cls
    return ComfyHost(
        path, comfyui_version.__version__, nodes, execution, builtin, list(failed or [])
    )


def load_pack(host: ComfyHost, pack_dir: str) -> list[str]:
    """Load the pack at ``pack_dir`` through ComfyUI's custom-node loader; new node ids."""
    before = set(host.nodes.NODE_CLASS_MAPPINGS)
    ok = outside_event_loop(
        asyncio.run,
        host.nodes.load_custom_node(pack_dir, host.builtin_node_ids, module_parent="custom_nodes"),
    )
    if not ok:
        raise RuntimeError(f"ComfyUI's load_custom_node failed for {pack_dir} (see the log)")
    return sorted(set(host.nodes.NODE_CLASS_MAPPINGS) - before)


def object_info(host: ComfyHost, node_ids: list[str] | None = None) -> dict[str, dict]:
    """The node definitions ComfyUI's ``GET /object_info`` serves, computed in-process.

    V3 nodes give their ``GET_NODE_INFO_V1()``; V1 nodes ``input`` (``INPUT_TYPES()``),
    ``input_order`` and ``output``, the fields the front end (and `workflow_convert`) read.
    """
    from comfy_api.internal import _ComfyNodeInternal

    mappings = host.nodes.NODE_CLASS_MAPPINGS
    info = {}
    for node_id in mappings if node_ids is None else node_ids:
        cls = mappings[node_id]
        if issubclass(cls, _ComfyNodeInternal):
            info[node_id] = cls.GET_NODE_INFO_V1()
            continue
        inputs = cls.INPUT_TYPES()
        info[node_id] = {
            "name": node_id,
            "input": inputs,
            "input_order": {key: list(value) for key, value in inputs.items()},
            "output": list(cls.RETURN_TYPES),
            "output_node": bool(getattr(cls, "OUTPUT_NODE", False)),
        }
    return info


class _NullServer:
    """The part of ``PromptServer`` that ``PromptExecutor`` touches, without a socket."""

    client_id = None
    last_node_id = None

    def send_sync(self, event: str, data: dict, sid: Any = None) -> None:
        pass

    def queue_updated(self) -> None:
        pass


def run_prompt(host: ComfyHost, prompt: dict[str, dict]) -> dict[str, list]:
    """Validate and execute an API-format prompt like ComfyUI's queue does.

    Returns each node's outputs (``outputs[node_id][output_index][batch_index]``). Raises
    `GraphError` with ComfyUI's message when validation (of any node) or execution fails.
    """
    return outside_event_loop(_run_prompt, host, prompt)


def _run_prompt(host: ComfyHost, prompt: dict[str, dict]) -> dict[str, list]:
    prompt_id = str(uuid.uuid4())
    valid, error, good_outputs, node_errors = asyncio.run(
        host.execution.validate_prompt(prompt_id, prompt, None)
    )
    if not valid or node_errors:
        # Stricter than the server, which runs the outputs that did validate: a test graph
        # with any invalid node is a broken test.
        message = error.get("message") if error else f"invalid nodes {sorted(node_errors)}"
        raise GraphError(f"prompt failed validation: {message}", node_errors or error)
    executor = host.execution.PromptExecutor(_NullServer())
    executor.execute(prompt, prompt_id, {}, good_outputs)
    if not executor.success:
        errors = [d for ev, d in executor.status_messages if ev == "execution_error"]
        message = errors[0].get("exception_message", "?") if errors else "unknown error"
        raise GraphError(f"prompt failed to execute: {message}", errors)
    results = {}
    for node_id in prompt:
        entry = executor.caches.outputs.get(node_id)
        results[node_id] = getattr(entry, "outputs", entry)
    return results


def sampling_prompt(
    sampler: dict[str, Any],
    *,
    steps: int = 4,
    noise_seed: int = 0,
    model_seed: int = 0,
    size: int = 64,
    batch: int = 1,
    scheduler: str = "simple",
    first_sigma: float | None = None,
) -> dict[str, dict]:
    """API-format graph: tiny FLUX -> BasicGuider, BasicScheduler, EmptySD3LatentImage,
    RandomNoise and ``sampler`` (a SAMPLER node entry) -> SamplerCustomAdvanced (node "7").

    ``first_sigma`` replaces the first sigma (SetFirstSigma, node "9")."""
    prompt = {
        "1": {"class_type": "FlowSearchTest_TinyFlux", "inputs": {"seed": model_seed}},
        "2": {"class_type": "RandomNoise", "inputs": {"noise_seed": noise_seed}},
        "3": {"class_type": "BasicGuider", "inputs": {"model": ["1", 0], "conditioning": ["1", 1]}},
        "4": sampler,
        "5": {
            "class_type": "BasicScheduler",
            "inputs": {"model": ["1", 0], "scheduler": scheduler, "steps": steps, "denoise": 1.0},
        },
        "6": {
            "class_type": "EmptySD3LatentImage",
            "inputs": {"width": size, "height": size, "batch_size": batch},
        },
        "7": {
            "class_type": "SamplerCustomAdvanced",
            "inputs": {
                "noise": ["2", 0],
                "guider": ["3", 0],
                "sampler": ["4", 0],
                "sigmas": ["5", 0],
                "latent_image": ["6", 0],
            },
        },
        "8": {"class_type": "FlowSearchTest_LatentSink", "inputs": {"samples": ["7", 0]}},
    }
    if first_sigma is not None:
        prompt["9"] = {
            "class_type": "SetFirstSigma",
            "inputs": {"sigmas": ["5", 0], "sigma": first_sigma},
        }
        prompt["7"]["inputs"]["sigmas"] = ["9", 0]
    return prompt
