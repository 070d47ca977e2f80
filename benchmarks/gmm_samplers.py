"""The four samplers on the exact Gaussian mixture (no downloads, CPU, seconds).

    python benchmarks/gmm_samplers.py [--out DIR] [--steps N] [--samples N]

(Formerly the package demo; the demo is now the Fashion-MNIST search, `flowsearch.demo`.)

Samples the 2-D mixture of `flowsearch.testing.example_mixture` with its exact linear-path
denoiser four ways (linear ODE, linear SDE, VP ODE, VP SDE with g = 3 s^2), prints how well
each reproduces the exact law, and writes ``gmm_samplers.png`` (the samples over the exact
density) to ``--out`` (default ``benchmarks/results``).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import torch
from _common import RESULTS

from flowsearch.samplers import sample
from flowsearch.testing import GaussianMixture, example_mixture

CONFIGS = [
    ("linear ODE", dict(interpolant="linear", stochastic=False, grid="uniform")),
    ("linear SDE", dict(interpolant="linear", stochastic=True, grid="uniform")),
    ("VP ODE", dict(interpolant="vp", stochastic=False, grid="uniform")),
    ("VP SDE", dict(interpolant="vp", stochastic=True, grid="uniform")),
]


def run(steps: int, n: int, seed: int) -> dict[str, torch.Tensor]:
    mixture = example_mixture()
    noise = torch.randn(n, mixture.dim, generator=torch.Generator().manual_seed(seed))
    return {
        name: sample(
            mixture.denoiser(),
            noise,
            steps=steps,
            generator=torch.Generator().manual_seed(seed + 1),
            **kw,
        )
        for name, kw in CONFIGS
    }


def summary(mixture: GaussianMixture, samples: dict[str, torch.Tensor], seed: int) -> str:
    ref = mixture.sample(
        next(iter(samples.values())).shape[0], torch.Generator().manual_seed(seed + 2)
    )
    rows = [("exact draws", ref)] + list(samples.items())
    lines = [f"{'sampler':<12} {'mode weights':<22} {'mean log p':>10}"]
    for name, x in rows:
        w = mixture.responsibilities(x).mean(0).tolist()
        lines.append(
            f"{name:<12} {' '.join(f'{v:.3f}' for v in w):<22} {mixture.log_prob(x).mean():>10.3f}"
        )
    lines.append(f"{'true':<12} {' '.join(f'{v:.3f}' for v in mixture.weights.tolist()):<22}")
    return "\n".join(lines)


def plot(mixture: GaussianMixture, samples: dict[str, torch.Tensor], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    grid = torch.linspace(-4, 4, 200, dtype=torch.float64)
    xx, yy = torch.meshgrid(grid, grid, indexing="xy")
    dens = mixture.log_prob(torch.stack([xx.flatten(), yy.flatten()], -1)).exp().reshape(xx.shape)
    fig, axes = plt.subplots(1, len(samples), figsize=(4 * len(samples), 4), sharey=True)
    for ax, (name, x) in zip(axes, samples.items()):
        ax.contour(xx, yy, dens, levels=8, cmap="Greys")
        pts = x[:2000].double()
        ax.scatter(pts[:, 0], pts[:, 1], s=2, alpha=0.4)
        ax.set_title(name)
        ax.set_xlim(-4, 4)
        ax.set_ylim(-4, 4)
    fig.suptitle("FlowSearch samplers vs the exact mixture density (contours)")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=RESULTS, help="output folder")
    parser.add_argument("--steps", type=int, default=100)
    parser.add_argument("--samples", type=int, default=4000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    mixture = example_mixture()
    samples = run(args.steps, args.samples, args.seed)
    print(summary(mixture, samples, args.seed))
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / "gmm_samplers.png"
    plot(mixture, samples, path)
    print(f"wrote {path.resolve()}")


if __name__ == "__main__":
    main()
