"""Base-model quality on Fashion-MNIST: Fréchet distance in classifier-B feature space and
the class histogram of unconditional samples. ``python -m flowsearch.demo.quality``.

Fréchet distance between Gaussians fitted to two feature sets (means ``m1, m2``,
covariances ``S1, S2``; features = `JudgeResNet.features`, 192-d):

    FD = |m1 - m2|^2 + tr(S1) + tr(S2) - 2 tr((S1^{1/2} S2 S1^{1/2})^{1/2}),

computed in float64 with symmetric eigendecompositions (no scipy). Like FID it is biased
upwards for small sample sizes, so compare numbers computed with the same sizes; the
real-vs-real figure (training images against test images) is the floor.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable, Sequence

import torch
from torch import nn

from ..samplers.sampling import sample
from .classifiers import NUM_CLASSES
from .data import CLASS_NAMES, load_fashion_mnist, to_model_space
from .models import flow_denoiser, load_classifier, load_flow_model

Denoiser = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


@torch.no_grad()
def generate(
    denoiser: Denoiser,
    n: int,
    *,
    steps: int = 50,
    stochastic: bool = False,
    interpolant: str = "linear",
    grid: str = "uniform",
    timesteps: Sequence[float] | None = None,
    diffusion_scale: float = 3.0,
    seed: int = 0,
    batch: int = 250,
) -> torch.Tensor:
    """``n`` unconditional samples ``[n, 1, 32, 32]`` with `flowsearch.samplers.sample`
    (``timesteps``, descending model times ending at 0, replace ``grid`` as there).

    Noise and SDE noise come from one CPU generator seeded with ``seed``, drawn batch by
    batch (so results depend on ``batch``). Costs ``n * steps`` NFEs.
    """
    if n < 1 or steps < 1 or batch < 1:
        raise ValueError(
            f"n, steps and batch must be >= 1; got n={n}, steps={steps}, batch={batch}"
        )
    gen = torch.Generator().manual_seed(seed)
    out = []
    for i in range(0, n, batch):
        noise = torch.randn((min(batch, n - i), 1, 32, 32), generator=gen)
        x = sample(
            denoiser,
            noise,
            steps=steps,
            interpolant=interpolant,
            stochastic=stochastic,
            diffusion_scale=diffusion_scale,
            grid=grid,
            timesteps=timesteps,
            generator=gen,
        )
        out.append(x)
    return torch.cat(out)


@torch.no_grad()
def classifier_features(classifier: nn.Module, x: torch.Tensor, batch: int = 500) -> torch.Tensor:
    """Penultimate features ``[N, F]`` (float64) of ``x [N, 1, 32, 32]``, clamped to [-1, 1]."""
    feats = [
        classifier.features(x[i : i + batch].clamp(-1.0, 1.0)).double()
        for i in range(0, x.shape[0], batch)
    ]
    return torch.cat(feats)


@torch.no_grad()
def predict_classes(classifier: nn.Module, x: torch.Tensor, batch: int = 500) -> torch.Tensor:
    """Arg-max labels ``[N]`` (int64) of ``x [N, 1, 32, 32]``, clamped to [-1, 1]."""
    preds = [
        classifier(x[i : i + batch].clamp(-1.0, 1.0)).argmax(1) for i in range(0, x.shape[0], batch)
    ]
    return torch.cat(preds)


def class_histogram(classifier: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """Counts ``[10]`` of the classes ``classifier`` assigns to ``x``."""
    return torch.bincount(predict_classes(classifier, x), minlength=NUM_CLASSES)


def _sqrtm_psd(m: torch.Tensor) -> torch.Tensor:
    vals, vecs = torch.linalg.eigh(m)
    return (vecs * vals.clamp(min=0.0).sqrt()) @ vecs.T


def frechet_distance(feats_a: torch.Tensor, feats_b: torch.Tensor) -> float:
    """Fréchet distance between Gaussians fitted to ``feats_a [N, F]`` and ``feats_b [M, F]``."""
    if feats_a.dim() != 2 or feats_b.dim() != 2 or feats_a.shape[1] != feats_b.shape[1]:
        raise ValueError(
            f"features must be [N, F] and [M, F]; got {tuple(feats_a.shape)}, {tuple(feats_b.shape)}"
        )
    a, b = feats_a.double(), feats_b.double()
    m1, m2 = a.mean(0), b.mean(0)
    s1, s2 = torch.cov(a.T), torch.cov(b.T)
    r1 = _sqrtm_psd(s1)
    cross = torch.linalg.eigvalsh(r1 @ s2 @ r1).clamp(min=0.0).sqrt().sum()
    fd = (m1 - m2).square().sum() + torch.trace(s1) + torch.trace(s2) - 2.0 * cross
    return float(fd)


def sample_quality(
    samples: torch.Tensor, judge: nn.Module, real_features: torch.Tensor
) -> dict[str, object]:
    """FD of ``samples`` against ``real_features`` and their class histogram under ``judge``."""
    hist = class_histogram(judge, samples)
    return {
        "fd": round(frechet_distance(classifier_features(judge, samples), real_features), 3),
        "histogram": hist.tolist(),
        "classes_present": int((hist > 0).sum()),
    }


@torch.no_grad()
def time_denoiser(denoiser: Denoiser, batch: int = 64, repeats: int = 20) -> dict[str, float]:
    """Wall time of one denoiser call on ``batch`` samples, in ms per sample (min and median).

    The minimum over ``repeats`` calls (after 3 warm-up calls) approximates an idle machine;
    the median shows the effect of other processes sharing the cores.
    """
    gen = torch.Generator().manual_seed(0)
    x = torch.randn((batch, 1, 32, 32), generator=gen)
    t = torch.rand((batch,), generator=gen)
    times = []
    for i in range(repeats + 3):
        start = time.perf_counter()
        denoiser(x, t)
        if i >= 3:
            times.append((time.perf_counter() - start) * 1e3 / batch)
    times.sort()
    return {"min_ms": round(times[0], 3), "median_ms": round(times[len(times) // 2], 3)}


def main(argv: list[str] | None = None) -> None:
    """Print the quality figures of the shipped flow model for ODE, linear SDE and VP SDE."""
    ap = argparse.ArgumentParser(description="Quality figures of the shipped flow model")
    ap.add_argument("--n", type=int, default=2000)
    ap.add_argument("--steps", type=int, default=50)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    judge = load_classifier("b")
    real = to_model_space(load_fashion_mnist("test")[0])
    real_feats = classifier_features(judge, real)
    train = to_model_space(load_fashion_mnist("train")[0])
    idx = torch.randperm(train.shape[0], generator=torch.Generator().manual_seed(args.seed))
    floor = sample_quality(train[idx[: args.n]], judge, real_feats)
    print(f"real train ({args.n}) vs test (10000): {floor}")
    denoiser = flow_denoiser(load_flow_model())
    timing = time_denoiser(denoiser)
    print(f"denoiser, batch 64, {args.threads} threads: {timing} per sample")
    settings = {
        "linear-ODE": {"stochastic": False, "interpolant": "linear"},
        "linear-SDE": {"stochastic": True, "interpolant": "linear"},
        "VP-SDE": {"stochastic": True, "interpolant": "vp"},
    }
    print(f"classes: {', '.join(f'{i}={c}' for i, c in enumerate(CLASS_NAMES))}")
    for name, opts in settings.items():
        start = time.perf_counter()
        x = generate(denoiser, args.n, steps=args.steps, seed=args.seed, **opts)
        report = sample_quality(x, judge, real_feats)
        print(
            f"{name} ({args.steps} steps, {args.n} samples, {time.perf_counter() - start:.0f}s): {report}"
        )


if __name__ == "__main__":
    main()
