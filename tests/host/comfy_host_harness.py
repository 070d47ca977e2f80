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
import os
import sys
import uuid
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

import torch

# Tiny FLUX (ComfyUI's own `comfy.ldm.flux.model.Flux`): 16 latent channels, patch 2,
# hidden 64 = 2 heads x 32 (rope axes 8 + 12 + 12), one double and one single block.
TINY_FLUX_CONFIG: dict[str, Any] = {
    "image_model": "flux",
    "in_channels": 16,
    "out_channels": 16,
    "patch_size": 2,
    "vec_in_dim": 32,
    "context_in_dim": 32,
    "hidden_size": 64,
    "mlp_ratio": 2.0,
    "num_heads": 2,
    "depth": 1,
    "depth_single_blocks": 1,
    "axes_dim": [8, 12, 12],
    "theta": 10000,
    "qkv_bias": True,
    "guidance_embed": False,
}
TEXT_TOKENS = 5


@dataclass
class ComfyHost:
    """Handles on the booted ComfyUI modules."""

    path: str
    version: str
    nodes: ModuleType
    execution: ModuleType
    builtin_node_ids: frozenset[str]
    extras_failed: list[str] = field(default_factory=list)


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

    failed = asyncio.run(nodes.init_extra_nodes(init_custom_nodes=False, init_api_nodes=False))
    builtin = frozenset(nodes.NODE_CLASS_MAPPINGS)
    for node_cls in _test_nodes():
        nodes.NODE_CLASS_MAPPINGS[node_cls.GET_SCHEMA().node_id] = node_cls
    return ComfyHost(
        path, comfyui_version.__version__, nodes, execution, builtin, list(failed or [])
    )


def load_pack(host: ComfyHost, pack_dir: str) -> list[str]:
    """Load the pack at ``pack_dir`` through ComfyUI's custom-node loader; new node ids."""
    before = set(host.nodes.NODE_CLASS_MAPPINGS)
    ok = asyncio.run(
        host.nodes.load_custom_node(pack_dir, host.builtin_node_ids, module_parent="custom_nodes")
    )
    if not ok:
        raise RuntimeError(f"ComfyUI's load_custom_node failed for {pack_dir} (see the log)")
    return sorted(set(host.nodes.NODE_CLASS_MAPPINGS) - before)


def init_parameters(module: torch.nn.Module, seed: int) -> None:
    """Give every parameter a defined value (ComfyUI's ops skip init: memory is garbage).

    Matrices ``N(0, 1/fan_in)``; norm scales ``1 + N(0, 0.1^2)``; other vectors
    ``N(0, 0.1^2)``. Deterministic in ``seed`` (a CPU generator, parameter order).
    """
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in module.named_parameters():
            if p.ndim >= 2:
                fan_in = p[0].numel()
                value = torch.randn(p.shape, generator=gen) / fan_in**0.5
            elif name.endswith("scale"):
                value = 1.0 + 0.1 * torch.randn(p.shape, generator=gen)
            else:
                value = 0.1 * torch.randn(p.shape, generator=gen)
            p.copy_(value.to(p.dtype))


def build_tiny_flux(seed: int = 0) -> Any:
    """A ``ModelPatcher`` around a tiny random FLUX-schnell-type model on the CPU.

    Built from ComfyUI's ``supported_models.FluxSchnell`` config (model type ``FLOW``:
    ``CONST`` prediction, ``ModelSamplingDiscreteFlow`` with shift 1), float32 weights.
    """
    import comfy.model_management as mm
    import comfy.model_patcher
    import comfy.supported_models

    config = comfy.supported_models.FluxSchnell(dict(TINY_FLUX_CONFIG))
    config.set_inference_dtype(torch.float32, None)
    model = config.get_model({}, "", device=torch.device("cpu"))
    init_parameters(model, seed)
    return comfy.model_patcher.ModelPatcher(
        model, load_device=mm.get_torch_device(), offload_device=mm.unet_offload_device()
    )


def tiny_conditioning(seed: int = 0, batch: int = 1) -> list:
    """FLUX-style CONDITIONING: text tokens ``[B, L, context]`` + ``pooled_output [B, vec]``."""
    gen = torch.Generator().manual_seed(seed)
    context = torch.randn(batch, TEXT_TOKENS, TINY_FLUX_CONFIG["context_in_dim"], generator=gen)
    pooled = torch.randn(batch, TINY_FLUX_CONFIG["vec_in_dim"], generator=gen)
    return [[context, {"pooled_output": pooled}]]


def _test_nodes() -> list[type]:
    """Test-only V3 nodes: a tiny-model loader and an output sink for latents."""
    from comfy_api.latest import io

    class TinyFlux(io.ComfyNode):
        @classmethod
        def define_schema(cls) -> io.Schema:
            return io.Schema(
                node_id="FlowSearchTest_TinyFlux",
                category="_for_testing",
                inputs=[io.Int.Input("seed", default=0, min=0, max=2**31)],
                outputs=[io.Model.Output(), io.Conditioning.Output()],
            )

        @classmethod
        def execute(cls, seed: int) -> io.NodeOutput:
            return io.NodeOutput(build_tiny_flux(seed), tiny_conditioning(seed + 1))

    class LatentSink(io.ComfyNode):
        @classmethod
        def define_schema(cls) -> io.Schema:
            return io.Schema(
                node_id="FlowSearchTest_LatentSink",
                category="_for_testing",
                inputs=[io.Latent.Input("samples")],
                outputs=[],
                is_output_node=True,
            )

        @classmethod
        def execute(cls, samples: dict) -> io.NodeOutput:
            return io.NodeOutput()

    return [TinyFlux, LatentSink]


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
    `GraphError` with ComfyUI's message when validation or execution fails.
    """
    prompt_id = str(uuid.uuid4())
    valid, error, good_outputs, node_errors = asyncio.run(
        host.execution.validate_prompt(prompt_id, prompt, None)
    )
    if not valid:
        raise GraphError(f"prompt failed validation: {error.get('message')}", node_errors or error)
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
