"""Shared pieces of the Fashion-MNIST benchmark (not part of the package).

- grid settings ``(steps, grid)`` named like ``"10 adaptive"``, ``"20 uniform-t"``;
- `Bed`: one of the shipped flow models (the full "teacher" or its few-step distilled
  "student") as the denoiser, classifier A (reward) and B (judge), and classifier-B
  features of the real test images (Fréchet distance, diversity reference);
- `run_search`: one `flowsearch.samplers.search` call for "generate class c", judged by B;
- `plain_samples`: unconditional plain sampling with the same grid and sampling mode;
- metrics: reward A, accuracy B, diversity = mean pairwise distance of B features.

Images are ``[B, 1, 32, 32]`` in [-1, 1] (`flowsearch.demo.data`).
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass

import torch

from flowsearch.demo import (
    classifier_reward,
    flow_denoiser,
    load_classifier,
    load_fashion_mnist,
    load_flow_model,
    to_model_space,
)
from flowsearch.demo.quality import classifier_features, frechet_distance, generate
from flowsearch.samplers import search

SHAPE = (1, 32, 32)
MINIMUM = re.compile(r"minimum is (\d+)")
SETTING = re.compile(r"^(\d+) (adaptive|uniform-s|uniform-t)$")


def grid_kwargs(setting: str) -> dict:
    """``"M adaptive"`` (the paper's grid in the path's own time s), ``"M uniform-s"``
    (equal steps in s), ``"M uniform-t"`` (equal steps in model time t = 1 .. 0, mapped to
    the path's s at equal signal-to-noise ratio; the same noise levels on every path).
    Returns keyword arguments for `search` / `sample`: ``steps`` plus ``grid`` or ``timesteps``."""
    found = SETTING.match(setting)
    if found is None:
        raise ValueError(
            f"setting must look like '10 adaptive', '20 uniform-s' or '20 uniform-t'; got {setting!r}"
        )
    steps, kind = int(found.group(1)), found.group(2)
    if kind == "uniform-t":
        return {"steps": steps, "timesteps": torch.linspace(1.0, 0.0, steps + 1).tolist()}
    return {"steps": steps, "grid": {"adaptive": "adaptive", "uniform-s": "uniform"}[kind]}


def last_model_time(setting: str, mode_kwargs: dict) -> float:
    """Model time t of the last grid point above 0: where the returned ``x0_hat`` is taken."""
    from flowsearch.samplers import get_interpolant, make_grid

    kw = grid_kwargs(setting)
    path = get_interpolant(mode_kwargs["interpolant"])
    grid = make_grid(
        path, steps=kw["steps"], grid=kw.get("grid", "uniform"), timesteps=kw.get("timesteps")
    )
    return path.linear_time(grid[-2])


@dataclass
class Bed:
    """The benchmark's models and reference features (all on the CPU, float32)."""

    denoiser: object
    classifier_a: torch.nn.Module
    classifier_b: torch.nn.Module
    real_images: torch.Tensor  # [N, 1, 32, 32] test images (N = 10000 unless limited)
    real_labels: torch.Tensor  # [N]
    real_features: torch.Tensor  # [N, F] their classifier-B features

    def reward(self, class_index: int):
        return classifier_reward(self.classifier_a, class_index)


def load_bed(real_n: int | None = None, model: str = "teacher") -> Bed:
    """Load the shipped weights (flow model ``model``: "teacher" or "student") and the
    Fashion-MNIST test split (the first ``real_n`` images, all 10000 if None; no downloads)."""
    judge = load_classifier("b")
    images, labels = load_fashion_mnist("test")
    x = to_model_space(images[:real_n])
    return Bed(
        denoiser=flow_denoiser(load_flow_model(which=model)),
        classifier_a=load_classifier("a"),
        classifier_b=judge,
        real_images=x,
        real_labels=labels[:real_n],
        real_features=classifier_features(judge, x),
    )


@torch.no_grad()
def judge(bed: Bed, x: torch.Tensor) -> dict[str, torch.Tensor]:
    """``{"logp_a": [N, 10], "pred_b": [N], "conf_b": [N], "feat_b": [N, F]}`` of ``x``."""
    x = x.clamp(-1.0, 1.0)
    logp_a = torch.log_softmax(bed.classifier_a(x).float(), dim=1)
    probs_b = torch.softmax(bed.classifier_b(x).float(), dim=1)
    return {
        "logp_a": logp_a,
        "pred_b": probs_b.argmax(1),
        "conf_b": probs_b.max(1).values,
        "feat_b": classifier_features(bed.classifier_b, x),
    }


def mean_pairwise_distance(features: torch.Tensor) -> float | None:
    """Mean Euclidean distance over the ``n (n - 1) / 2`` pairs of rows; None if ``n < 2``."""
    n = features.shape[0]
    if n < 2:
        return None
    d = torch.cdist(features.double(), features.double())
    return float(d.sum() / (n * (n - 1)))


def real_class_diversity(bed: Bed, per_class: int = 200) -> float:
    """Reference: mean over classes of the same-class diversity of ``per_class`` test images."""
    values = []
    for c in range(10):
        value = mean_pairwise_distance(bed.real_features[bed.real_labels == c][:per_class])
        if value is not None:
            values.append(value)
    return sum(values) / len(values)


def run_search(
    bed: Bed,
    *,
    method: str,
    options: dict,
    nfe: int,
    mode_kwargs: dict,
    setting: str,
    class_index: int,
    seed: int,
) -> dict:
    """One search for class ``class_index``. Returns ``{"reward", "acc", "conf", "nfe", "wall",
    "x0" [1, 1, 32, 32], "feat" [F]}`` or ``{"minimum": N}`` if the budget is too small.

    ``reward`` is classifier A's log-probability of the class for the returned sample (what
    the search maximised), ``acc`` is 1.0 if classifier B's arg-max is the class, ``acc_a``
    the same for classifier A."""
    start = time.perf_counter()
    try:
        res = search(
            bed.denoiser,
            bed.reward(class_index),
            method=method,
            nfe_budget=nfe,
            shape=SHAPE,
            generator=torch.Generator().manual_seed(seed),
            max_batch=64,
            **grid_kwargs(setting),
            **mode_kwargs,
            **options,
        )
    except ValueError as err:
        found = MINIMUM.search(str(err))
        if found is None:
            raise
        return {"minimum": int(found.group(1))}
    wall = time.perf_counter() - start
    assert res.nfe <= nfe, (method, res.nfe, nfe)
    verdict = judge(bed, res.x0)
    extra = {}
    if res.trace and "accepted" in res.trace[-1].events and len(res.trace[-1].rewards) == 1:
        extra["dynamics"] = trace_dynamics(res.trace, nfe)  # single-chain RBF family
    return {
        **extra,
        "reward": float(res.reward),
        "acc": float(verdict["pred_b"][0] == class_index),
        # A's own verdict: a search that fools A (high acc A, low acc B) over-fits the reward
        "acc_a": float(verdict["logp_a"][0].argmax() == class_index),
        "pred": int(verdict["pred_b"][0]),
        "conf": float(verdict["conf_b"][0]),
        "nfe": int(res.nfe),
        "wall": wall,
        "x0": res.x0.detach().clone(),
        "feat": verdict["feat_b"][0],
    }


def trace_dynamics(trace: list, budget: int) -> dict:
    """Per-step facts of one single-chain RBF-family search from its ``result.trace``.

    ``{"nfe": [share of the budget per step], "accepted": [per proposal step: moved by
    acceptance, not by running out of quota], "proposals": [...], "gain": [look-ahead
    reward of the chosen child minus its parent's], "rolled_over": [...]}``; step 0 holds
    the initial particles (no accept flag or gain)."""
    out: dict = {"nfe": [], "accepted": [], "proposals": [], "gain": [], "rolled_over": []}
    parent = None
    for rec in trace:
        out["nfe"].append(rec.nfe / budget)
        reward = rec.rewards[0]
        if rec.step > 0:
            ev = rec.events
            out["accepted"].append(ev["accepted"][0] is not None)
            out["proposals"].append(ev["proposals"][0])
            out["rolled_over"].append(ev["rolled_over"][0])
            out["gain"].append(reward - parent)
        parent = reward
    return out


def plain_samples(bed: Bed, *, n: int, mode_kwargs: dict, setting: str, seed: int) -> torch.Tensor:
    """``n`` unconditional samples ``[n, 1, 32, 32]`` (``steps`` NFEs each), batches of 250."""
    return generate(bed.denoiser, n, seed=seed, **grid_kwargs(setting), **mode_kwargs)


def plain_metrics(bed: Bed, x: torch.Tensor) -> dict:
    """Task metrics of unconditional samples ``x`` averaged over the 10 requested classes:
    ``reward`` = mean over c and samples of log p_A(c | x); ``acc`` = mean over c of the share
    B labels c (about 0.1 for any unconditional sampler); ``diversity`` = mean over c of the
    pairwise B-feature distance among samples B labels c. Also base-model quality: ``fd``
    (Fréchet distance to the test images in B features), ``agree`` (share where A and
    B pick the same class), ``conf_b`` (B's mean max-probability), ``classes`` (present)."""
    v = judge(bed, x)
    per_class = [v["feat_b"][v["pred_b"] == c] for c in range(10)]
    divs = [d for d in (mean_pairwise_distance(f) for f in per_class) if d is not None]
    return {
        "reward": float(v["logp_a"].mean()),
        "acc": float(sum((v["pred_b"] == c).float().mean() for c in range(10)) / 10),
        "diversity": sum(divs) / len(divs),
        "fd": frechet_distance(v["feat_b"], bed.real_features),
        "agree": float((v["logp_a"].argmax(1) == v["pred_b"]).float().mean()),
        "conf_b": float(v["conf_b"].mean()),
        "classes": int(torch.bincount(v["pred_b"], minlength=10).gt(0).sum()),
    }
