"""Shared pieces of the benchmark scripts (not part of the package).

- the Gaussian-mixture bed's two rewards and the three sampling modes;
- the method line-up benchmarked everywhere;
- a fixed-cost MLP denoiser (real compute per call, output shaped like its input);
- a progress printer with an ETA and small formatting helpers.
"""

from __future__ import annotations

import math
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import torch

from flowsearch.testing import GaussianMixture

RESULTS = Path(__file__).resolve().parent / "results"

#: The 20% mode of `example_mixture`, the target of both rewards (as in tests/search).
TARGET = (1.5, -2.0)

#: Sampling modes of the paper's comparison: search() keyword arguments.
MODES: dict[str, dict] = {
    "linear-ODE": dict(interpolant="linear", stochastic=False),
    "linear-SDE": dict(interpolant="linear", stochastic=True),
    "VP-SDE": dict(interpolant="vp", stochastic=True),
}

#: (label, method, options). Library defaults except: CoDe looks 2 steps ahead (with
#: lookahead=1 it is SVDD) and DPS uses the guidance scale of the search tests.
METHODS: list[tuple[str, str, dict]] = [
    ("bon", "bon", {}),
    ("zero_order", "zero_order", {}),
    ("sop", "sop", {}),
    ("smc", "smc", {}),
    ("svdd", "svdd", {}),
    ("code", "code", {"lookahead": 2}),
    ("rbf", "rbf", {}),
    ("rbf batched", "rbf", {"proposal_batch": 4}),
    ("dps", "dps", {"guidance_scale": 0.3}),
]


def mixture_rewards(mixture: GaussianMixture) -> dict[str, Callable[[torch.Tensor], torch.Tensor]]:
    """``quadratic``: ``-|x - TARGET|^2 / 2``; ``mode``: log-responsibility of the 20% mode.

    Both are differentiable (DPS needs that) and have maximum 0."""
    target = torch.tensor(TARGET, dtype=torch.float64)

    def quadratic(x0: torch.Tensor) -> torch.Tensor:
        return -0.5 * ((x0.double() - target) ** 2).sum(-1)

    def mode(x0: torch.Tensor) -> torch.Tensor:
        return mixture.responsibilities(x0).clamp_min(1e-300).log()[:, 2]

    return {"quadratic": quadratic, "mode": mode}


class MLPDenoiser(torch.nn.Module):
    """A random MLP ``(x, t) -> x0_hat`` of fixed cost: ``[x, t] -> width -> ... -> dim``.

    ``x`` ``[B, dim]`` (any ``[B, *shape]`` with ``prod(shape) = dim``), ``t`` ``[B]``.
    Cost per call ~ ``2 B (dim * width + (depth - 1) width^2 + width * dim)`` FLOPs. Weights
    are random (seeded); only the cost matters, not what it predicts."""

    def __init__(self, dim: int = 64, width: int = 512, depth: int = 2, seed: int = 0) -> None:
        super().__init__()
        gen = torch.Generator().manual_seed(seed)
        sizes = [dim + 1] + [width] * depth + [dim]
        layers: list[torch.nn.Module] = []
        for i, (a, b) in enumerate(zip(sizes, sizes[1:])):
            lin = torch.nn.Linear(a, b)
            with torch.no_grad():
                lin.weight.copy_(torch.randn(b, a, generator=gen) / math.sqrt(a))
                lin.bias.zero_()
            lin.requires_grad_(False)
            layers += [lin] if i == len(sizes) - 2 else [lin, torch.nn.SiLU()]
        self.net = torch.nn.Sequential(*layers)
        self.dim = dim

    def forward(self, x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        flat = x.reshape(x.shape[0], -1)
        h = torch.cat([flat, t.to(flat.dtype)[:, None]], dim=1)
        return self.net(h).reshape(x.shape)


def cheap_reward(x0: torch.Tensor) -> torch.Tensor:
    """``-mean(x^2)`` per sample: negligible cost, differentiable."""
    return -(x0.reshape(x0.shape[0], -1) ** 2).mean(-1)


class Progress:
    """Prints ``[label] done/total, elapsed, ETA`` where progress is measured in cost units
    (e.g. NFEs), at most every ``every`` seconds."""

    def __init__(self, total: float, label: str, every: float = 5.0, quiet: bool = False):
        self.total, self.label, self.every, self.quiet = total, label, every, quiet
        self.done, self.start, self.last = 0.0, time.perf_counter(), -math.inf

    def advance(self, cost: float, what: str = "") -> None:
        self.done += cost
        now = time.perf_counter()
        if self.quiet or (now - self.last < self.every and self.done < self.total):
            return
        self.last = now
        elapsed = now - self.start
        eta = elapsed * (self.total - self.done) / max(self.done, 1e-9)
        pct = 100.0 * self.done / self.total
        print(
            f"[{self.label}] {pct:5.1f}%  elapsed {elapsed:6.1f}s  ETA {eta:6.1f}s  {what}",
            file=sys.stderr,
            flush=True,
        )


def mean_std(values: Sequence[float]) -> tuple[float, float]:
    m = statistics.fmean(values)
    return m, (statistics.stdev(values) if len(values) > 1 else 0.0)


def fmt_num(v: float, digits: int = 3) -> str:
    """``digits`` significant digits, fixed-point where that is readable (-24.6, -0.0312,
    -1.2e-05)."""
    if v == 0.0 or not math.isfinite(v):
        return f"{v:.1f}"
    if abs(v) >= 1e-3:
        return f"{v:.{max(0, digits - 1 - math.floor(math.log10(abs(v))))}f}"
    return f"{v:.{digits - 1}e}"


def fmt_mean_std(values: Sequence[float], digits: int = 3) -> str:
    m, s = mean_std(values)
    return f"{fmt_num(m, digits)} ± {fmt_num(s, 2)}"


def md_table(header: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def machine_note() -> str:
    """One line on the machine the numbers come from."""
    import os
    import platform

    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    return (
        f"torch {torch.__version__}, {os.cpu_count()} logical CPUs (shared with other "
        f"processes, 1-min load average {load:.1f} at the end of the run), "
        f"torch threads {torch.get_num_threads()}, Python {platform.python_version()}"
    )
