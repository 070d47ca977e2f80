"""The example workflows of `example_workflows/`, built in code (run this file to rewrite them).

A small graph builder that writes the UI format the pinned front end (1.27.10) saves:
``nodes`` with their socket inputs (unlinked widgets are not listed), outputs with their
links, ``widgets_values`` in widget order (a seed widget followed by its
``control_after_generate`` value), ``links`` as ``[id, origin, slot, target, slot, type]``.
Our nodes' sockets and widgets come from their `NodeSpec`s; the ComfyUI 0.3.64 core nodes
used here are described in `CORE` (checked against the real host by a host test).

    python tests/nodes/workflow_builder.py      # rewrites example_workflows/*.json
                                                # (with the pack importable as flowsearch)
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
OUT_DIR = ROOT / "example_workflows"

# type -> (socket inputs [(name, type)], widget names, outputs [(name, type)])
CORE: dict[str, tuple[list, list, list]] = {
    "UNETLoader": ([], ["unet_name", "weight_dtype"], [("MODEL", "MODEL")]),
    "DualCLIPLoader": ([], ["clip_name1", "clip_name2", "type", "device"], [("CLIP", "CLIP")]),
    "VAELoader": ([], ["vae_name"], [("VAE", "VAE")]),
    "CheckpointLoaderSimple": (
        [],
        ["ckpt_name"],
        [("MODEL", "MODEL"), ("CLIP", "CLIP"), ("VAE", "VAE")],
    ),
    "CLIPTextEncode": ([("clip", "CLIP")], ["text"], [("CONDITIONING", "CONDITIONING")]),
    "FluxGuidance": (
        [("conditioning", "CONDITIONING")],
        ["guidance"],
        [("CONDITIONING", "CONDITIONING")],
    ),
    "ModelSamplingFlux": (
        [("model", "MODEL")],
        ["max_shift", "base_shift", "width", "height"],
        [("MODEL", "MODEL")],
    ),
    "BasicGuider": (
        [("model", "MODEL"), ("conditioning", "CONDITIONING")],
        [],
        [("GUIDER", "GUIDER")],
    ),
    "RandomNoise": ([], ["noise_seed"], [("NOISE", "NOISE")]),
    "BasicScheduler": (
        [("model", "MODEL")],
        ["scheduler", "steps", "denoise"],
        [("SIGMAS", "SIGMAS")],
    ),
    "EmptySD3LatentImage": ([], ["width", "height", "batch_size"], [("LATENT", "LATENT")]),
    "EmptyLatentImage": ([], ["width", "height", "batch_size"], [("LATENT", "LATENT")]),
    "SamplerCustomAdvanced": (
        [
            ("noise", "NOISE"),
            ("guider", "GUIDER"),
            ("sampler", "SAMPLER"),
            ("sigmas", "SIGMAS"),
            ("latent_image", "LATENT"),
        ],
        [],
        [("output", "LATENT"), ("denoised_output", "LATENT")],
    ),
    "KSampler": (
        [
            ("model", "MODEL"),
            ("positive", "CONDITIONING"),
            ("negative", "CONDITIONING"),
            ("latent_image", "LATENT"),
        ],
        ["seed", "steps", "cfg", "sampler_name", "scheduler", "denoise"],
        [("LATENT", "LATENT")],
    ),
    "VAEDecode": ([("samples", "LATENT"), ("vae", "VAE")], [], [("IMAGE", "IMAGE")]),
    "SaveImage": ([("images", "IMAGE")], ["filename_prefix"], []),
    "PreviewImage": ([("images", "IMAGE")], [], []),
    "PreviewAny": ([("source", "*")], [], []),
}
SEED_WIDGETS = {"RandomNoise": "noise_seed", "KSampler": "seed"}


def our_specs() -> dict[str, Any]:
    """Our node ids -> `NodeSpec` (sampling, search, method and every loader node)."""
    from flowsearch.nodes import catalog_sampling, catalog_search
    from flowsearch.nodes.method_specs import METHOD_SPECS
    from flowsearch.nodes.verifier_specs import loader_spec
    from flowsearch.verifiers.registry import FAMILIES, availability

    specs = [
        catalog_sampling.SAMPLER,
        catalog_sampling.TIME_SCHEDULE,
        catalog_sampling.SAMPLING_MODE,
        catalog_search.FLOW_SEARCH,
        catalog_search.SCORE_IMAGES,
        catalog_search.ENSEMBLE,
        *METHOD_SPECS.values(),
    ]
    specs += [loader_spec(availability(f), ("./",)) for f in FAMILIES]
    return {s.node_id: s for s in specs}


def node_shape(node_type: str) -> tuple[list, list, list]:
    if node_type in CORE:
        return CORE[node_type]
    spec = our_specs()[node_type]
    sockets = [(f.name, f.type) for f in spec.inputs if not f.is_widget]
    widgets = [f.name for f in spec.widgets()]
    return sockets, widgets, [(o.name, o.type) for o in spec.outputs]


@dataclass
class Node:
    id: int
    type: str
    pos: tuple[int, int]
    values: dict[str, Any]
    title: str | None = None
    size: tuple[int, int] = (320, 130)
    inputs: list[dict] = field(default_factory=list)
    outputs: list[dict] = field(default_factory=list)


class Graph:
    def __init__(self, name: str) -> None:
        self.name = name
        self.nodes: list[Node] = []
        self.links: list[list] = []

    def add(self, node_type: str, pos: tuple[int, int], title: str | None = None, **values) -> Node:
        sockets, widgets, outputs = node_shape(node_type)
        unknown = set(values) - set(widgets)
        assert not unknown, f"{node_type} has no widgets {unknown}"
        if node_type not in CORE:
            values = our_specs()[node_type].defaults() | values
        height = 46 + 24 * (len(sockets) + max(len(outputs), 0)) + 26 * len(widgets)
        node = Node(len(self.nodes) + 1, node_type, pos, values, title, (330, height))
        node.inputs = [{"name": n, "type": t, "link": None} for n, t in sockets]
        node.outputs = [
            {"name": n, "type": t, "links": [], "slot_index": i} for i, (n, t) in enumerate(outputs)
        ]
        self.nodes.append(node)
        return node

    def link(self, src: Node, out: str, dst: Node, inp: str) -> None:
        o = next(i for i, s in enumerate(src.outputs) if s["name"] == out)
        i = next(i for i, s in enumerate(dst.inputs) if s["name"] == inp)
        link_id = len(self.links) + 1
        kind = src.outputs[o]["type"]
        self.links.append([link_id, src.id, o, dst.id, i, kind])
        src.outputs[o]["links"].append(link_id)
        dst.inputs[i]["link"] = link_id

    def widgets_values(self, node: Node) -> list:
        _, widgets, _ = node_shape(node.type)
        values = []
        for w in widgets:
            assert w in node.values, f"{node.type}: no value for widget {w}"
            values.append(node.values[w])
            if SEED_WIDGETS.get(node.type) == w:
                values.append("fixed")
        return values

    def to_json(self) -> dict:
        order = {n.id: k for k, n in enumerate(self.nodes)}
        nodes = []
        for n in self.nodes:
            entry = {
                "id": n.id,
                "type": n.type,
                "pos": list(n.pos),
                "size": list(n.size),
                "flags": {},
                "order": order[n.id],
                "mode": 0,
                "inputs": n.inputs,
                "outputs": n.outputs,
                "properties": {"Node name for S&R": n.type},
                "widgets_values": self.widgets_values(n),
            }
            if n.title:
                entry["title"] = n.title
            nodes.append(entry)
        return {
            "id": str(uuid.uuid5(uuid.NAMESPACE_URL, f"flowsearch/{self.name}")),
            "revision": 0,
            "last_node_id": len(self.nodes),
            "last_link_id": len(self.links),
            "nodes": nodes,
            "links": self.links,
            "groups": [],
            "config": {},
            "extra": {"ds": {"scale": 0.6, "offset": [40, 40]}, "frontendVersion": "1.27.10"},
            "version": 0.4,
        }


def flux_inputs(g: Graph, variant: str, text: str, x: int = 0) -> dict[str, Node]:
    """Loaders, prompt encoding and guider of a FLUX graph (model file names as users have them)."""
    unet = g.add(
        "UNETLoader", (x, 0), unet_name=f"flux1-{variant}.safetensors", weight_dtype="default"
    )
    clip = g.add(
        "DualCLIPLoader", (x, 170), clip_name1="clip_l.safetensors",
        clip_name2="t5xxl_fp16.safetensors", type="flux", device="default",
    )  # fmt: skip
    enc = g.add("CLIPTextEncode", (x, 400), text=text)
    g.link(clip, "CLIP", enc, "clip")
    cond = enc
    if variant == "dev":
        cond = g.add("FluxGuidance", (x, 640), guidance=3.5)
        g.link(enc, "CONDITIONING", cond, "conditioning")
    guider = g.add("BasicGuider", (x + 420, 0))
    g.link(unet, "MODEL", guider, "model")
    g.link(cond, "CONDITIONING", guider, "conditioning")
    vae = g.add("VAELoader", (x, 760), vae_name="ae.safetensors")
    noise = g.add("RandomNoise", (x + 420, 130), noise_seed=42)
    latent = g.add("EmptySD3LatentImage", (x + 420, 290), width=1024, height=1024, batch_size=1)
    return {"unet": unet, "guider": guider, "vae": vae, "noise": noise, "latent": latent}


def search_node(g: Graph, parts: dict, sigmas: Node, verifier: Node, method: Node, prompt: str,
                budget: int, x: int = 1260, particles: int = 8, **links: Node) -> Node:  # fmt: skip
    fs = g.add(
        "FlowSearch_FlowSearch", (x, 0), prompt=prompt, nfe_budget=budget, max_particles=particles
    )
    g.link(parts["noise"], "NOISE", fs, "noise")
    g.link(parts["guider"], "GUIDER", fs, "guider")
    g.link(sigmas, "SIGMAS", fs, "sigmas")
    g.link(parts["latent"], "LATENT", fs, "latent_image")
    g.link(parts["vae"], "VAE", fs, "vae")
    g.link(verifier, "verifier", fs, "verifier")
    g.link(method, "method", fs, "method")
    for name, node in links.items():
        g.link(node, node.outputs[0]["name"], fs, name)
    save = g.add("SaveImage", (x + 420, 0), filename_prefix="flowsearch")
    g.link(fs, "best_image", save, "images")
    cands = g.add("PreviewImage", (x + 420, 300), title="Candidates (best first)")
    g.link(fs, "candidates", cands, "images")
    plot = g.add("PreviewImage", (x + 420, 600), title="Reward vs NFE")
    g.link(fs, "plot", plot, "images")
    report = g.add("PreviewAny", (x, 620), title="Search report (JSON)")
    g.link(fs, "report", report, "source")
    return fs


def workflow_a() -> Graph:
    """FLUX.1-dev + Flow Search RBF + VQAScore, held-out ImageReward, TAEF1 for rewards."""
    g = Graph("a")
    text = "a red fox reading a newspaper on a park bench, autumn"
    p = flux_inputs(g, "dev", text)
    sched = g.add("BasicScheduler", (420, 480), scheduler="simple", steps=20, denoise=1.0)
    g.link(p["unet"], "MODEL", sched, "model")
    vqa = g.add("FlowSearch_LoadVerifier_vqascore", (840, 0), model="qwen2.5-vl-3b")
    held = g.add("FlowSearch_LoadVerifier_image_reward", (840, 300), model="./")
    cheap = g.add("VAELoader", (840, 560), title="TAEF1 (cheap rewards)", vae_name="taef1")
    rbf = g.add("FlowSearch_MethodRBF", (840, 700), proposal_batch=4)
    search_node(g, p, sched, vqa, rbf, text, 200, held_out_verifier=held, cheap_vae=cheap)
    return g


def workflow_b() -> Graph:
    """FLUX.1-schnell + SMC + object counting, on the paper's adaptive VP grid."""
    g = Graph("b")
    p = flux_inputs(g, "schnell", "three red apples and two green pears on a wooden table")
    sched = g.add("FlowSearch_TimeSchedule", (420, 480), steps=10)
    g.link(p["unet"], "MODEL", sched, "model")
    count = g.add("FlowSearch_LoadVerifier_counting", (840, 0), model="grounding-dino-base")
    smc = g.add("FlowSearch_MethodSMC", (840, 450))
    search_node(g, p, sched, count, smc, "red apple: 3, green pear: 2", 300)
    return g


def workflow_c() -> Graph:
    """Best-of-N scored by an ensemble of PickScore and ImageReward (mean rank)."""
    g = Graph("c")
    text = "a cozy reading nook with a cat, watercolor"
    p = flux_inputs(g, "dev", text)
    sched = g.add("BasicScheduler", (420, 480), scheduler="simple", steps=20, denoise=1.0)
    g.link(p["unet"], "MODEL", sched, "model")
    pick = g.add("FlowSearch_LoadVerifier_pickscore", (840, 0), model="./")
    ir = g.add("FlowSearch_LoadVerifier_image_reward", (840, 300), model="./")
    ens = g.add("FlowSearch_VerifierEnsemble", (840, 600), mode="rank")
    g.link(pick, "verifier", ens, "verifier_1")
    g.link(ir, "verifier", ens, "verifier_2")
    bon = g.add("FlowSearch_MethodBestOfN", (840, 850))
    search_node(g, p, sched, ens, bon, text, 160)
    return g


def workflow_d() -> Graph:
    """LAION aesthetic score + SVDD with gradient guidance on FLUX.1-schnell: each guided
    particle costs a backward pass through the model, the reward VAE (TAEF1, cheap) and the
    verifier, so few particles go through the model at a time."""
    g = Graph("d")
    p = flux_inputs(g, "schnell", "a lighthouse on a cliff at dawn, dramatic sky")
    sched = g.add("BasicScheduler", (420, 480), scheduler="simple", steps=8, denoise=1.0)
    g.link(p["unet"], "MODEL", sched, "model")
    aes = g.add("FlowSearch_LoadVerifier_aesthetic", (840, 0), model="./")
    cheap = g.add("VAELoader", (840, 300), title="TAEF1 (cheap rewards)", vae_name="taef1")
    svdd = g.add(
        "FlowSearch_MethodSVDD", (840, 440), title="SVDD + gradient guidance", children=4,
        guidance_scale=1.0,
    )  # fmt: skip
    search_node(g, p, sched, aes, svdd, "", 120, particles=2, cheap_vae=cheap)
    return g


def workflow_e() -> Graph:
    """The stochastic flow sampler alone in a standard SamplerCustomAdvanced graph."""
    g = Graph("e")
    p = flux_inputs(g, "schnell", "a small wooden boat on a misty lake")
    sampler = g.add("FlowSearch_StochasticSampler", (840, 0))
    sched = g.add("FlowSearch_TimeSchedule", (840, 330), steps=10)
    g.link(p["unet"], "MODEL", sched, "model")
    sca = g.add("SamplerCustomAdvanced", (1180, 0))
    for src, out, inp in (
        (p["noise"], "NOISE", "noise"), (p["guider"], "GUIDER", "guider"),
        (sampler, "SAMPLER", "sampler"), (sched, "SIGMAS", "sigmas"),
        (p["latent"], "LATENT", "latent_image"),
    ):  # fmt: skip
        g.link(src, out, sca, inp)
    dec = g.add("VAEDecode", (1580, 0))
    g.link(sca, "output", dec, "samples")
    g.link(p["vae"], "VAE", dec, "vae")
    save = g.add("SaveImage", (1900, 0), filename_prefix="flowsearch_sde")
    g.link(dec, "IMAGE", save, "images")
    return g


def workflow_f() -> Graph:
    """Score Images ranking a KSampler batch with PickScore."""
    g = Graph("f")
    ckpt = g.add("CheckpointLoaderSimple", (0, 0), ckpt_name="flux1-schnell-fp8.safetensors")
    text = "an astronaut riding a horse on the moon"
    pos = g.add("CLIPTextEncode", (380, 0), text=text)
    neg = g.add("CLIPTextEncode", (380, 250), text="")
    for enc in (pos, neg):
        g.link(ckpt, "CLIP", enc, "clip")
    latent = g.add("EmptySD3LatentImage", (380, 500), width=1024, height=1024, batch_size=4)
    ks = g.add(
        "KSampler", (840, 0), seed=42, steps=4, cfg=1.0, sampler_name="euler",
        scheduler="simple", denoise=1.0,
    )  # fmt: skip
    g.link(ckpt, "MODEL", ks, "model")
    g.link(pos, "CONDITIONING", ks, "positive")
    g.link(neg, "CONDITIONING", ks, "negative")
    g.link(latent, "LATENT", ks, "latent_image")
    dec = g.add("VAEDecode", (1180, 0))
    g.link(ks, "LATENT", dec, "samples")
    g.link(ckpt, "VAE", dec, "vae")
    pick = g.add("FlowSearch_LoadVerifier_pickscore", (1180, 200), model="./")
    score = g.add("FlowSearch_ScoreImages", (1580, 0), prompt=text)
    g.link(dec, "IMAGE", score, "images")
    g.link(pick, "verifier", score, "verifier")
    best = g.add("SaveImage", (1980, 0), filename_prefix="flowsearch_best")
    g.link(score, "best_image", best, "images")
    ranked = g.add("PreviewImage", (1980, 330), title="Ranked batch (best first)")
    g.link(score, "sorted_images", ranked, "images")
    report = g.add("PreviewAny", (1580, 400), title="Scores (JSON)")
    g.link(score, "scores_json", report, "source")
    return g


WORKFLOWS = {
    "flowsearch_a_flux_dev_rbf_vqascore.json": workflow_a,
    "flowsearch_b_flux_schnell_smc_counting.json": workflow_b,
    "flowsearch_c_best_of_n_ensemble.json": workflow_c,
    "flowsearch_d_aesthetic_svdd_guidance.json": workflow_d,
    "flowsearch_e_stochastic_sampler.json": workflow_e,
    "flowsearch_f_score_images_ksampler.json": workflow_f,
}


def render(name: str) -> str:
    return json.dumps(WORKFLOWS[name]().to_json(), indent=2) + "\n"


def main() -> None:
    OUT_DIR.mkdir(exist_ok=True)
    for name in WORKFLOWS:
        (OUT_DIR / name).write_text(render(name), encoding="utf-8")
        print("wrote", OUT_DIR / name)


if __name__ == "__main__":
    main()
