"""Flow Search inside a real ComfyUI (CPU) against what other ComfyUI search packs do.

Two comparisons at equal NFE on a small FLUX-architecture model (ComfyUI's own FLUX class,
random weights: hidden 256, 2 double + 2 single blocks, 128x128 images = 64 tokens) with the
host tests' tiny taef1-layout VAE and a tiny CLIPScore verifier loaded by our loader node:

1. **Best-of-N, 16 candidates x 4 steps = 64 NFE.** Flow Search (best-of-N, 16 particles
   per model call) vs 16 sequential batch-1 ``SamplerCustomAdvanced`` runs, each image
   decoded (``VAEDecode``) and scored (``FlowSearch Score Images``) one by one: the loop other
   search packs run. Target: Flow Search >= 2.5x faster.
2. **Overhead.** Flow Search (best-of-N, same 64 NFE, a constant verifier) vs one plain
   ``SamplerCustomAdvanced`` run with a batch of 16 (``euler``, the same 4 sigmas). Reported
   twice: the search alone (the Flow Search prompt's time minus the time the node spends
   decoding and scoring: reward decodes, the constant verifier and the output decodes) and
   the whole prompt (with those decodes). Target: search overhead <= 10 %.

Every arm runs ``--repeats`` times after a warm-up; medians are reported. Run with the host
environment (see docs/testing.md):

    COMFYUI_PATH=/path/to/ComfyUI python benchmarks/comfy_flow_search.py --out benchmarks/results/comfy_flow_search.json
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import torch

PACK = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PACK / "tests" / "host"))
sys.path.insert(0, str(PACK / "tests" / "verifiers"))

SMALL_FLUX = {"hidden_size": 512, "num_heads": 8, "axes_dim": [16, 24, 24], "depth": 4,
              "depth_single_blocks": 4}  # fmt: skip
SIZE, STEPS, N = 64, 4, 16


def small_flux(seed: int) -> Any:
    import comfy.model_management as mm
    import comfy.model_patcher
    import comfy.supported_models
    from tiny_models import TINY_FLUX_CONFIG, init_parameters

    config = comfy.supported_models.FluxSchnell(dict(TINY_FLUX_CONFIG, **SMALL_FLUX))
    config.set_inference_dtype(torch.float32, None)
    model = config.get_model({}, "", device=torch.device("cpu"))
    init_parameters(model, seed)
    return comfy.model_patcher.ModelPatcher(
        model, load_device=mm.get_torch_device(), offload_device=mm.unet_offload_device()
    )


def bench_nodes(host: Any) -> None:
    """Benchmark-only nodes: the small FLUX, and a constant verifier."""
    from comfy_api.latest import io
    from node_fixtures import pack_module
    from tiny_models import tiny_conditioning

    base = pack_module(host, "verifiers").Verifier

    class Constant(base):
        name = "constant"
        needs_prompt = False

        def score_batch(self, images, prompts):
            return images.new_zeros(images.shape[0])

    class SmallFlux(io.ComfyNode):
        @classmethod
        def define_schema(cls) -> io.Schema:
            return io.Schema(
                node_id="Bench_SmallFlux", category="_bench",
                inputs=[io.Int.Input("seed", default=0)],
                outputs=[io.Model.Output(), io.Conditioning.Output()],
            )  # fmt: skip

        @classmethod
        def execute(cls, seed: int) -> io.NodeOutput:
            return io.NodeOutput(small_flux(seed), tiny_conditioning(seed + 1))

    class ConstantVerifier(io.ComfyNode):
        @classmethod
        def define_schema(cls) -> io.Schema:
            return io.Schema(
                node_id="Bench_ConstantVerifier", category="_bench", inputs=[],
                outputs=[io.Custom("VERIFIER").Output()],
            )  # fmt: skip

        @classmethod
        def execute(cls) -> io.NodeOutput:
            return io.NodeOutput(Constant())

    for cls in (SmallFlux, ConstantVerifier):
        host.nodes.NODE_CLASS_MAPPINGS[cls.GET_SCHEMA().node_id] = cls


def common(seed: int, batch: int) -> dict:
    return {
        "m": {"class_type": "Bench_SmallFlux", "inputs": {"seed": 0}},
        "noise": {"class_type": "RandomNoise", "inputs": {"noise_seed": seed}},
        "guider": {"class_type": "BasicGuider", "inputs": {"model": ["m", 0], "conditioning": ["m", 1]}},
        "sched": {"class_type": "BasicScheduler",
                  "inputs": {"model": ["m", 0], "scheduler": "simple", "steps": STEPS, "denoise": 1.0}},
        "latent": {"class_type": "EmptySD3LatentImage",
                   "inputs": {"width": SIZE, "height": SIZE, "batch_size": batch}},
        "vae": {"class_type": "VAELoader", "inputs": {"vae_name": "ae.safetensors"}},
        "clip": {"class_type": "FlowSearch_LoadVerifier_clip_score",
                 "inputs": {"model": "tiny-clip", "device": "cpu", "dtype": "float32",
                            "batch_size": 16, "mode": "clipscore", "weight": 2.5,
                            "tokenizer_path": "", "cache_size": 64}},
        "const": {"class_type": "Bench_ConstantVerifier", "inputs": {}},
        "method": {"class_type": "FlowSearch_MethodBestOfN",
                   "inputs": {"guidance_scale": 0.0, "sampling": "linear_sde"}},
    }  # fmt: skip


def flow_search(seed: int, verifier: str) -> dict:
    g = common(seed, 1)
    g["fs"] = {
        "class_type": "FlowSearch_FlowSearch",
        "inputs": {
            "noise": ["noise", 0], "guider": ["guider", 0], "sigmas": ["sched", 0],
            "latent_image": ["latent", 0], "vae": ["vae", 0], "verifier": [verifier, 0],
            "prompt": "a photo of a cat", "method": ["method", 0],
            "nfe_budget": N * STEPS, "max_particles": N,
        },
    }  # fmt: skip
    g["out"] = {"class_type": "FlowSearchTest_Sink", "inputs": {"value": ["fs", 3]}}
    return g


def sequential_one(seed: int) -> dict:
    g = common(seed, 1)
    g["sampler"] = {"class_type": "KSamplerSelect", "inputs": {"sampler_name": "euler"}}
    g["sca"] = {"class_type": "SamplerCustomAdvanced", "inputs": {
        "noise": ["noise", 0], "guider": ["guider", 0], "sampler": ["sampler", 0],
        "sigmas": ["sched", 0], "latent_image": ["latent", 0]}}  # fmt: skip
    g["dec"] = {"class_type": "VAEDecode", "inputs": {"samples": ["sca", 0], "vae": ["vae", 0]}}
    g["score"] = {"class_type": "FlowSearch_ScoreImages",
                  "inputs": {"images": ["dec", 0], "verifier": ["clip", 0], "prompt": "a photo of a cat"}}  # fmt: skip
    g["out"] = {"class_type": "FlowSearchTest_Sink", "inputs": {"value": ["score", 3]}}
    return g


def plain_batch(seed: int) -> dict:
    g = common(seed, N)
    g["sampler"] = {"class_type": "KSamplerSelect", "inputs": {"sampler_name": "euler"}}
    g["sca"] = {"class_type": "SamplerCustomAdvanced", "inputs": {
        "noise": ["noise", 0], "guider": ["guider", 0], "sampler": ["sampler", 0],
        "sigmas": ["sched", 0], "latent_image": ["latent", 0]}}  # fmt: skip
    g["out"] = {"class_type": "FlowSearchTest_LatentSink", "inputs": {"samples": ["sca", 0]}}
    return g


def timed(ex: Any, prompt: dict, node: str) -> tuple[float, dict]:
    start = time.perf_counter()
    ok, out, _ = ex.run(prompt)
    assert ok, f"benchmark graph failed: {node}"
    return time.perf_counter() - start, out


def boot_bench_host() -> Any:
    """ComfyUI at ``COMFYUI_PATH`` in-process, with the pack, the test nodes and a tiny CLIP
    verifier checkpoint in a temporary model folder."""
    from comfy_host_harness import boot, load_pack
    from model_files import make_host_dirs, register_in_process
    from node_fixtures import register_test_nodes
    from support.tiny_models import write_tiny_checkpoint

    host = boot(os.environ["COMFYUI_PATH"])
    dirs = make_host_dirs(Path(tempfile.mkdtemp(prefix="flowsearch_bench_")))
    register_in_process(dirs)
    load_pack(host, str(PACK))
    register_test_nodes(host)
    write_tiny_checkpoint("clip_score", dirs.model_folder("verifiers"), seed=0)
    return host


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--out", type=Path, default=None)
    a = parser.parse_args()
    from node_fixtures import Executor

    host = boot_bench_host()
    bench_nodes(host)
    ex = Executor(host)

    def arm(make, n_runs: int = 1) -> list[float]:
        timed(ex, make(100), "warm-up")  # loads models; ComfyUI caches the loaders
        times = []
        for r in range(a.repeats):
            times.append(sum(timed(ex, make(1000 * r + i), "run")[0] for i in range(n_runs)))
        return times

    fs_clip = arm(lambda s: flow_search(s, "clip"))
    seq = arm(sequential_one, n_runs=N)
    plain = arm(plain_batch)
    reports = []
    fs_const = []
    for r in range(a.repeats + 1):
        t, out = timed(ex, flow_search(2000 + r, "const"), "fs const")
        if r:
            fs_const.append(t)
            reports.append(json.loads(out["fs"][3][0])["timings"])
    # the Flow Search prompt minus its decoding and scoring = the search's own cost
    search_only = [
        total - t["decode"] - t["verifier"] - t["outputs_decode"]
        for total, t in zip(fs_const, reports, strict=True)
    ]
    med = statistics.median
    result = {
        "command": f"COMFYUI_PATH=... python benchmarks/comfy_flow_search.py --repeats {a.repeats}",
        "machine": {
            "cpus": os.cpu_count(),
            "torch": torch.__version__,
            "threads": torch.get_num_threads(),
            "python": platform.python_version(),
        },  # fmt: skip
        "setup": {
            "image": SIZE,
            "steps": STEPS,
            "candidates": N,
            "nfe": N * STEPS,
            "model": SMALL_FLUX,
        },  # fmt: skip
        "best_of_n_vs_sequential": {
            "flow_search_s": med(fs_clip),
            "sequential_s": med(seq),
            "speedup": med(seq) / med(fs_clip),
            "target": 2.5,
        },  # fmt: skip
        "overhead_vs_plain_batch": {
            "plain_s": med(plain),
            "flow_search_node_s": med(fs_const),
            "flow_search_search_only_s": med(search_only),
            "search_overhead": med(search_only) / med(plain) - 1.0,
            "node_overhead": med(fs_const) / med(plain) - 1.0,
            "reward_decode_s": med(t["decode"] for t in reports),
            "target": 0.10,
        },  # fmt: skip
        "raw": {"flow_search": fs_clip, "sequential": seq, "plain": plain, "fs_const": fs_const},
    }
    text = json.dumps(result, indent=2)
    print(text)
    if a.out:
        a.out.write_text(text + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
