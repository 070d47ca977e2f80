"""What gradient guidance costs inside ComfyUI (CPU host; time and memory).

Three measurements:

1. **Per model call** on the small FLUX-architecture model of `comfy_flow_search.py` (ComfyUI's
   own FLUX class, random weights, hidden 512, 4 double + 4 single blocks), for 1 and 4
   particles: an unguided forward (no grad); the same forward inside torch's
   ``allow_mutation_on_saved_tensors`` (what an unguided call would pay if the context were
   left open for a whole search); a guided evaluation of the model as the node runs it
   (forward with grad + backward inside the context), without and with block checkpointing.
   Memory per particle: what autograd keeps from the forward for the backward (activations,
   weights excluded), without and with checkpointing (then the blocks' inputs plus the
   largest block's activations while it re-runs), and what the context cloned because FLUX
   changed saved tensors in place.
2. **Per search** in the Flow Search node at equal NFE: DPS (best-of-N + guidance) against
   best-of-N, 8 trajectories x 8 steps = 64 NFE, tiny CLIPScore as the reward, TAEF1-layout
   tiny VAE: the prompt's wall time and the report's model / decode / verifier split.
3. **Full-size FLUX.1** (12 B parameters, bf16) at 512 and 1024 px: the same memory
   figures, counted on the ``meta`` device (no memory, no compute) with memory-efficient
   attention as on a GPU.

Medians of ``--repeats`` after a warm-up. Run with the host environment (docs/testing.md):

    COMFYUI_PATH=/path/to/ComfyUI python benchmarks/comfy_guidance_cost.py --out benchmarks/results/comfy_guidance_cost.json
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch

PACK = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PACK / "benchmarks"))
sys.path.insert(0, str(PACK / "tests" / "host"))
sys.path.insert(0, str(PACK / "tests" / "verifiers"))

FULL_FLUX = {"vec_in_dim": 768, "context_in_dim": 4096, "hidden_size": 3072, "mlp_ratio": 4.0,
             "num_heads": 24, "depth": 19, "depth_single_blocks": 38, "axes_dim": [16, 56, 56]}  # fmt: skip
MIB = 2**20


def median_time(fn: Callable[[], Any], repeats: int) -> float:
    fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def model_inputs(particles: int, size: int, device: str = "cpu", text: int = 5) -> dict:
    latent = size // 8
    return {
        "x": torch.randn(particles, 16, latent, latent, device=device),
        "t": torch.full((particles,), 0.5, device=device),
        "context": torch.randn(particles, text, 32 if device == "cpu" else 4096, device=device),
        "y": torch.randn(particles, 32 if device == "cpu" else 768, device=device),
    }


def unique_bytes(tensors: Any, weights: set[int]) -> int:
    """Bytes of the distinct tensors behind ``tensors`` (a view counts as its base, once);
    weights and views of weights (e.g. the transposed weight a linear layer saves) excluded."""
    bases: dict[int, int] = {}
    for t in tensors:
        base = t if t._base is None else t._base
        if id(base) not in weights:
            bases[id(base)] = base.numel() * base.element_size()
    return sum(bases.values())


def kept_bytes(model: Any, run: Callable[[], Any]) -> int:
    """Bytes autograd keeps from one forward ``run()`` for its backward (hook-counted;
    weights excluded). Works on the ``meta`` device."""
    weights = {id(p) for p in model.parameters()}
    saved: list[torch.Tensor] = []

    def pack(t: torch.Tensor) -> torch.Tensor:
        saved.append(t)
        return t

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        run()
    return unique_bytes(saved, weights)


def largest_block(model: Any, run: Callable[[dict], Any]) -> int:
    """Bytes the largest transformer block keeps for its backward: what a checkpointed
    backward holds at once on top of the blocks' inputs. ``run(transformer_options)`` runs
    the model; each block's inputs are caught through ComfyUI's ``patches_replace`` hook."""
    from flowsearch.nodes.checkpointing import block_keys, pinned_closure

    caught: dict[Any, tuple] = {}

    def catch(key: Any) -> Callable:
        def replace(args: dict, extra: dict) -> dict:
            caught[key] = (args, pinned_closure(extra["original_block"]))
            return extra["original_block"](args)

        return replace

    keys = block_keys(model.diffusion_model)
    with torch.no_grad():
        run({"patches_replace": {"dit": {k: catch(k) for k in keys}}})
    sizes = []
    for args, block in caught.values():
        grad_args = {
            k: v.detach().requires_grad_(True).clone() if isinstance(v, torch.Tensor) and v.is_floating_point() else v
            for k, v in args.items()
        }  # fmt: skip
        sizes.append(kept_bytes(model, lambda a=grad_args, b=block: b(a)))
    return max(sizes)


def cloned_bytes(model: Any, run: Callable[[], torch.Tensor]) -> int:
    """Bytes ``allow_mutation_on_saved_tensors`` cloned in one forward because the model
    changed saved tensors in place (the backward runs after)."""
    weights = {id(p) for p in model.parameters()}
    with torch.autograd.graph.allow_mutation_on_saved_tensors() as ctx:
        out = run()
        cloned = unique_bytes(list(ctx.cloned.values()), weights)
        out.sum().backward()
    return cloned


def memory_rows(model: Any, run: Callable[[dict, bool], Any], particles: int) -> dict:
    """MiB per particle kept for the backward: plain, and checkpointed (the blocks' inputs
    plus the largest block's activations during its re-run, the peak of its backward)."""
    from flowsearch.nodes.checkpointing import block_keys, checkpointed_options

    keys = block_keys(model.diffusion_model)
    checkpointed = checkpointed_options({}, keys)["transformer_options"]
    plain = kept_bytes(model, lambda: run({}, True))
    inputs = kept_bytes(model, lambda: run(checkpointed, True))
    block = largest_block(model, lambda options: run(options, False))
    return {
        "kept_plain": plain / particles / MIB,
        "kept_checkpointed": (inputs + block) / particles / MIB,
        "checkpointed_block_inputs": inputs / particles / MIB,
        "checkpointed_largest_block": block / particles / MIB,
    }


def per_call(repeats: int, size: int) -> list[dict]:
    from comfy_flow_search import small_flux

    from flowsearch.nodes.autograd import GuidedScope, make_autograd_ready
    from flowsearch.nodes.checkpointing import block_keys, checkpointed_options

    patcher = small_flux(0)
    model = patcher.model
    make_autograd_ready([model])
    keys = block_keys(model.diffusion_model)
    rows = []
    for particles in (1, 4):
        a = model_inputs(particles, size)

        def run(options: dict, grad: bool, a: dict = a) -> torch.Tensor:
            x = a["x"].clone().requires_grad_(grad)
            return model.apply_model(
                x, a["t"], c_crossattn=a["context"], y=a["y"], transformer_options=options
            )

        def unguided(run: Callable = run) -> None:
            with torch.no_grad():
                run({}, False)

        def unguided_in_context(run: Callable = run) -> None:
            with torch.autograd.graph.allow_mutation_on_saved_tensors(), torch.no_grad():
                run({}, False)

        def guided(checkpoint: bool, a: dict = a) -> None:
            # as the node runs a guided model call: GuidedScope (+ block checkpointing)
            scope = GuidedScope((lambda o: checkpointed_options(o, keys)) if checkpoint else None)
            call = scope.wrap(
                lambda x, t, model_options: model.apply_model(
                    x, t, c_crossattn=a["context"], y=a["y"],
                    transformer_options=model_options.get("transformer_options", {}),
                )
            )  # fmt: skip
            x = a["x"].clone().requires_grad_(True)
            try:
                torch.autograd.grad(call(x, a["t"], model_options={}).square().sum(), x)
            finally:
                scope.close()

        cloned = cloned_bytes(model, lambda run=run: run({}, True))
        rows.append(
            {
                "particles": particles,
                "unguided_forward_s": median_time(unguided, repeats),
                "unguided_forward_in_context_s": median_time(unguided_in_context, repeats),
                "guided_forward_backward_s": median_time(lambda g=guided: g(False), repeats),
                "guided_checkpointed_s": median_time(lambda g=guided: g(True), repeats),
                **memory_rows(model, run, particles),
                "cloned_by_context": cloned / particles / MIB,
            }
        )
    return rows


def per_search(host: Any, repeats: int) -> dict:
    from comfy_flow_search import bench_nodes, common
    from node_fixtures import Executor

    bench_nodes(host)
    ex = Executor(host)

    def graph(seed: int, guided: bool) -> dict:
        g = common(seed, 1)
        g["sched"]["inputs"]["steps"] = 8
        g["method"] = {
            "class_type": "FlowSearch_MethodDPS" if guided else "FlowSearch_MethodBestOfN",
            "inputs": {"guidance_scale": 1.0 if guided else 0.0, "sampling": "linear_sde"},
        }
        g["fs"] = {
            "class_type": "FlowSearch_FlowSearch",
            "inputs": {
                "noise": ["noise", 0], "guider": ["guider", 0], "sigmas": ["sched", 0],
                "latent_image": ["latent", 0], "vae": ["vae", 0], "verifier": ["clip", 0],
                "prompt": "a photo of a cat", "method": ["method", 0], "nfe_budget": 64,
                "max_particles": 8,
            },
        }  # fmt: skip
        g["out"] = {"class_type": "FlowSearchTest_Sink", "inputs": {"value": ["fs", 3]}}
        return g

    arms = {}
    for name, guided in (("best_of_n", False), ("dps", True)):
        ex.run(graph(100, guided))  # warm-up: loads the models
        walls, reports = [], []
        for r in range(repeats):
            start = time.perf_counter()
            ok, out, _ = ex.run(graph(r, guided))
            assert ok, name
            walls.append(time.perf_counter() - start)
            reports.append(json.loads(out["fs"][3][0]))
        med = statistics.median
        arms[name] = {
            "prompt_s": med(walls),
            "nfe": reports[0]["nfe"]["used"],
            "nfe_backward": reports[0]["items"][0]["nfe_backward"],
            **{k: med(rep["timings"][k] for rep in reports) for k in ("model", "decode", "verifier", "overhead")},
        }  # fmt: skip
    arms["dps_over_best_of_n"] = arms["dps"]["prompt_s"] / arms["best_of_n"]["prompt_s"]
    return arms


def full_size_flux() -> list[dict]:
    """Activations one guided particle keeps for its backward, FLUX.1 at full size (meta)."""
    import comfy.ldm.flux.math as flux_math
    import comfy.supported_models
    from tiny_models import TINY_FLUX_CONFIG

    def efficient_attention(q, k, v, heads, skip_reshape=False, mask=None, **kwargs):
        # memory-efficient SDPA (saves q, k, v, out, logsumexp), as GPUs run FLUX
        b, h, tokens, d = q.shape
        out = torch.ops.aten._scaled_dot_product_efficient_attention(q, k, v, None, True)[0]
        return out.transpose(1, 2).reshape(b, tokens, h * d)

    config = comfy.supported_models.FluxSchnell(dict(TINY_FLUX_CONFIG, **FULL_FLUX))
    config.set_inference_dtype(torch.bfloat16, None)
    with torch.device("meta"):
        model = config.get_model({}, "", device=torch.device("meta"))
    original, flux_math.optimized_attention = flux_math.optimized_attention, efficient_attention
    rows = []
    try:
        for size in (512, 1024):
            a = model_inputs(1, size, device="meta", text=512)

            def run(options: dict, grad: bool, a: dict = a) -> torch.Tensor:
                x = a["x"].clone().requires_grad_(grad)
                return model.apply_model(
                    x, a["t"], c_crossattn=a["context"], y=a["y"], transformer_options=options
                )

            mib = memory_rows(model, run, 1)
            rows.append({"image": size, **{k: v / 1024 for k, v in mib.items()}})
    finally:
        flux_math.optimized_attention = original
    params = sum(p.numel() for p in model.parameters())
    info = {"parameters_billion": params / 1e9, "dtype": "bfloat16", "unit": "GiB per particle"}
    return [info, *rows]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--size", type=int, default=128, help="image size of the per-call test")
    parser.add_argument("--out", type=Path, default=None)
    a = parser.parse_args()
    from comfy_flow_search import boot_bench_host

    host = boot_bench_host()
    torch.manual_seed(0)
    result = {
        "command": f"COMFYUI_PATH=... python benchmarks/comfy_guidance_cost.py --repeats {a.repeats}",
        "machine": {"cpus": os.cpu_count(), "torch": torch.__version__,
                    "threads": torch.get_num_threads(), "python": platform.python_version()},
        "per_call": {"image": a.size, "memory_unit": "MiB per particle",
                     "rows": per_call(a.repeats, a.size)},
        "per_search": per_search(host, a.repeats),
        "full_size_flux": full_size_flux(),
    }  # fmt: skip
    text = json.dumps(result, indent=2)
    print(text)
    if a.out:
        a.out.write_text(text + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
