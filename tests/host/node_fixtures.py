"""Test-only nodes and models for the node tests (beside the harness's own).

`register_test_nodes` adds, once per session:

- ``FlowSearchTest_Sink``: an output node taking any type (so a graph ending in SIGMAS,
  STRING, VERIFIER, ... runs);
- ``FlowSearchTest_TinyFluxDev``: a tiny FLUX.1-dev-type model (ComfyUI config ``Flux``:
  guidance embedding, model type ``FLUX``, ``ModelSamplingFlux`` shift 1.15) + conditioning;
- ``FlowSearchTest_Brightness``: a VERIFIER scoring mean brightness (``channel``: one colour
  channel or all), a real differentiable `Verifier` whose optimum the tests can see;
  ``interrupt_after`` > 0 sets ComfyUI's interrupt flag on that call (cancel tests);
- ``FlowSearchTest_CountCalls``: a MODEL patch (a clone, ComfyUI's ``model_function_wrapper``)
  that counts model calls, rows (particles x cond/uncond) and the most rows in one call
  into `CALLS[label]`;
- ``FlowSearchTest_TinyWan`` / ``FlowSearchTest_TinyWanVAE``: a tiny Wan 2.1 text-to-video
  MODEL (ComfyUI's ``WAN21_T2V`` config, 5-D latents ``[B, 16, T, h, w]``) + conditioning,
  and a VAE with ComfyUI's Wan 2.1 VAE architecture, narrowed (latent frames ``T`` ->
  ``4 (T - 1) + 1`` frames, 8x);
- ``FlowSearchTest_Undifferentiable``: a MODEL patch whose forward autograd cannot
  differentiate (``no_grad``: it runs without recording a graph, like a kernel called
  under ``torch.no_grad``; ``no_backward``: an op without a backward, like a fused kernel).

`Executor` runs prompts like the queue, with one executor (so ComfyUI's output cache
carries over between prompts) and a server stand-in that records what is sent.
"""

from __future__ import annotations

import importlib
from typing import Any

import torch


def build_tiny_flux_dev(seed: int = 0) -> Any:
    """Like the harness's tiny FLUX, but from ComfyUI's ``supported_models.Flux`` config."""
    import comfy.model_management as mm
    import comfy.model_patcher
    import comfy.supported_models
    from comfy_host_harness import TINY_FLUX_CONFIG, init_parameters

    config = comfy.supported_models.Flux(dict(TINY_FLUX_CONFIG, guidance_embed=True))
    config.set_inference_dtype(torch.float32, None)
    model = config.get_model({}, "", device=torch.device("cpu"))
    init_parameters(model, seed)
    return comfy.model_patcher.ModelPatcher(
        model, load_device=mm.get_torch_device(), offload_device=mm.unet_offload_device()
    )


def pack_module(host: Any, name: str) -> Any:
    """Submodule ``name`` of the pack *as ComfyUI loaded it* (``custom_nodes.<folder>``):
    its classes are the ones the nodes check against, not those of ``import flowsearch``."""
    node_module = host.nodes.NODE_CLASS_MAPPINGS["FlowSearch_StochasticSampler"].__module__
    root = node_module.rsplit(".nodes.", 1)[0]
    return importlib.import_module(f"{root}.{name}")


CALLS: dict[str, dict[str, int]] = {}
INTERRUPTED_AT: dict[str, dict[str, int]] = {}  # CALLS when a verifier raised the flag


def brightness_verifier(host: Any, channel: int = -1, interrupt_after: int = 0) -> Any:
    """A real differentiable `Verifier`: score = mean pixel value of one channel (0, 1, 2)
    or of all (-1); it ignores prompts."""
    base = pack_module(host, "verifiers").Verifier

    class Brightness(base):
        name = "brightness"
        differentiable = True
        needs_prompt = False

        calls = 0

        def score_batch(self, images: torch.Tensor, prompts: list[str]) -> torch.Tensor:
            self.calls += 1
            if self.calls == interrupt_after:
                import comfy.model_management

                INTERRUPTED_AT.clear()
                INTERRUPTED_AT.update({k: dict(v) for k, v in CALLS.items()})
                comfy.model_management.interrupt_current_processing(True)
            x = images if channel < 0 else images[..., channel]
            return x.reshape(x.shape[0], -1).mean(dim=1)

    return Brightness()


def test_nodes(host: Any) -> list[type]:
    from comfy_api.latest import io
    from comfy_host_harness import tiny_conditioning
    from tiny_models import TINY_WAN_CONFIG, build_tiny_wan, build_tiny_wan_vae

    class Sink(io.ComfyNode):
        @classmethod
        def define_schema(cls) -> io.Schema:
            return io.Schema(
                node_id="FlowSearchTest_Sink",
                category="_for_testing",
                inputs=[io.AnyType.Input("value")],
                outputs=[],
                is_output_node=True,
            )

        @classmethod
        def execute(cls, value: Any) -> io.NodeOutput:
            return io.NodeOutput()

    class TinyFluxDev(io.ComfyNode):
        @classmethod
        def define_schema(cls) -> io.Schema:
            return io.Schema(
                node_id="FlowSearchTest_TinyFluxDev",
                category="_for_testing",
                inputs=[io.Int.Input("seed", default=0, min=0, max=2**31)],
                outputs=[io.Model.Output(), io.Conditioning.Output()],
            )

        @classmethod
        def execute(cls, seed: int) -> io.NodeOutput:
            return io.NodeOutput(build_tiny_flux_dev(seed), tiny_conditioning(seed + 1))

    class BrightnessNode(io.ComfyNode):
        @classmethod
        def define_schema(cls) -> io.Schema:
            return io.Schema(
                node_id="FlowSearchTest_Brightness",
                category="_for_testing",
                inputs=[
                    io.Int.Input("channel", default=-1, min=-1, max=2),
                    io.Int.Input("interrupt_after", default=0, min=0, max=1000, optional=True),
                ],
                outputs=[io.Custom("VERIFIER").Output()],
            )

        @classmethod
        def execute(cls, channel: int, interrupt_after: int = 0) -> io.NodeOutput:
            return io.NodeOutput(brightness_verifier(host, channel, interrupt_after))

    class CountCalls(io.ComfyNode):
        @classmethod
        def define_schema(cls) -> io.Schema:
            return io.Schema(
                node_id="FlowSearchTest_CountCalls",
                category="_for_testing",
                inputs=[io.Model.Input("model"), io.String.Input("label", default="calls")],
                outputs=[io.Model.Output()],
            )

        @classmethod
        def execute(cls, model: Any, label: str) -> io.NodeOutput:
            def wrapper(apply_model: Any, args: dict) -> torch.Tensor:
                counts = CALLS.setdefault(label, {"calls": 0, "rows": 0, "max_rows": 0})
                counts["calls"] += 1
                counts["rows"] += int(args["input"].shape[0])
                counts["max_rows"] = max(counts["max_rows"], int(args["input"].shape[0]))
                return apply_model(args["input"], args["timestep"], **args["c"])

            patched = model.clone()
            patched.set_model_unet_function_wrapper(wrapper)
            return io.NodeOutput(patched)

    class Undifferentiable(io.ComfyNode):
        @classmethod
        def define_schema(cls) -> io.Schema:
            return io.Schema(
                node_id="FlowSearchTest_Undifferentiable",
                category="_for_testing",
                inputs=[
                    io.Model.Input("model"),
                    io.Combo.Input("mode", options=["no_grad", "no_backward"]),
                ],
                outputs=[io.Model.Output()],
            )

        @classmethod
        def execute(cls, model: Any, mode: str) -> io.NodeOutput:
            def wrapper(apply_model: Any, args: dict) -> torch.Tensor:
                if mode == "no_grad":
                    with torch.no_grad():
                        return apply_model(args["input"], args["timestep"], **args["c"])
                out = apply_model(args["input"], args["timestep"], **args["c"])
                return NoBackward.apply(out)

            patched = model.clone()
            patched.set_model_unet_function_wrapper(wrapper)
            return io.NodeOutput(patched)

    class TinyWan(io.ComfyNode):
        @classmethod
        def define_schema(cls) -> io.Schema:
            return io.Schema(
                node_id="FlowSearchTest_TinyWan",
                category="_for_testing",
                inputs=[io.Int.Input("seed", default=0, min=0, max=2**31)],
                outputs=[io.Model.Output(), io.Conditioning.Output()],
            )

        @classmethod
        def execute(cls, seed: int) -> io.NodeOutput:
            g = torch.Generator().manual_seed(seed + 1)
            cond = [[torch.randn(1, TINY_WAN_CONFIG["text_len"], 32, generator=g), {}]]
            return io.NodeOutput(build_tiny_wan(seed), cond)

    class TinyWanVAE(io.ComfyNode):
        @classmethod
        def define_schema(cls) -> io.Schema:
            return io.Schema(
                node_id="FlowSearchTest_TinyWanVAE",
                category="_for_testing",
                inputs=[io.Int.Input("seed", default=0, min=0, max=2**31)],
                outputs=[io.Vae.Output()],
            )

        @classmethod
        def execute(cls, seed: int) -> io.NodeOutput:
            return io.NodeOutput(build_tiny_wan_vae(seed))

    return [Sink, TinyFluxDev, BrightnessNode, CountCalls, Undifferentiable, TinyWan, TinyWanVAE]


class NoBackward(torch.autograd.Function):
    """The identity, with no backward (as a fused inference kernel would have)."""

    @staticmethod
    def forward(ctx: Any, x: torch.Tensor) -> torch.Tensor:
        return x.clone()


def register_test_nodes(host: Any) -> None:
    for cls in test_nodes(host):
        host.nodes.NODE_CLASS_MAPPINGS.setdefault(cls.GET_SCHEMA().node_id, cls)


class RecordingServer:
    """The part of ``PromptServer`` the executor and the progress registry use; records
    every message (``messages``: (event, data)) instead of sending it."""

    client_id = None
    last_node_id = None

    def __init__(self) -> None:
        # a client that takes previews with metadata (the 1.27 front end does)
        self.sockets_metadata = {None: {"feature_flags": {"supports_preview_metadata": True}}}
        self.messages: list[tuple[Any, Any]] = []

    def send_sync(self, event: Any, data: Any, sid: Any = None) -> None:
        self.messages.append((event, data))

    def queue_updated(self) -> None:
        pass


class Executor:
    """One ``PromptExecutor`` for several prompts (its cache carries over, as in a server)."""

    def __init__(self, host: Any) -> None:
        self.host = host
        self.server = RecordingServer()
        self.executor = host.execution.PromptExecutor(self.server)

    def run(self, prompt: dict) -> tuple[bool, dict, list]:
        """``(success, outputs by node id, status messages)``; validation must pass."""
        import asyncio
        import uuid

        prompt_id = str(uuid.uuid4())
        valid, error, good, node_errors = asyncio.run(
            self.host.execution.validate_prompt(prompt_id, prompt, None)
        )
        assert valid and not node_errors, (error, node_errors)
        self.executor.execute(prompt, prompt_id, {}, good)
        outputs = {}
        for node_id in prompt:
            entry = self.executor.caches.outputs.get(node_id)
            outputs[node_id] = getattr(entry, "outputs", entry)
        return self.executor.success, outputs, list(self.executor.status_messages)
