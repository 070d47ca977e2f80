"""Batched vs sequential Rollover Budget Forcing at equal NFE: wall time and final reward.

    python benchmarks/rbf_batched_vs_sequential.py [--quick] [--seeds N] [--out DIR]

``proposal_batch`` k in {1 (the paper's sequential rule), 2, 4, 8} at NFE {100, 500}, 10
steps, linear-SDE and VP-SDE, both mixture rewards, several seeds. Every run uses a
*costed mixture denoiser*: the output is the exact Gaussian-mixture ``x0_hat`` (so rewards
mean something), and every call also runs the random MLP of `search_overhead.py` (64+1 →
512 → 512 → 64) on a batch of the same size, so a call costs what a small network costs at
that batch size. Reward and wall time therefore come from the same runs, with the call
pattern RBF really produces (it depends on the rewards: acceptance ends a step early). An
MLP denoiser alone would give meaningless rewards and a different call pattern; a fixed
sleep per call would hard-code the answer, while real networks (and this MLP) cost less per
sample at larger batches — the effect batching exploits. RBF always spends the whole budget,
so NFEs are equal across k. Writes ``rbf_batched_vs_sequential.{md,json}`` to ``--out``
(default ``benchmarks/results``; ``--quick`` writes nothing unless ``--out`` is given).
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import time
from dataclasses import dataclass
from pathlib import Path

import torch
from _common import (
    MODES,
    RESULTS,
    MLPDenoiser,
    Progress,
    fmt_mean_std,
    machine_note,
    md_table,
    mixture_rewards,
)

from flowsearch.samplers import search
from flowsearch.testing import example_mixture


@dataclass
class Config:
    nfes: tuple[int, ...] = (100, 500)
    ks: tuple[int, ...] = (1, 2, 4, 8)
    seeds: int = 16
    steps: int = 10
    modes: tuple[str, ...] = ("linear-SDE", "VP-SDE")
    rewards: tuple[str, ...] = ("quadratic", "mode")
    width: int = 512
    depth: int = 2
    cost_dim: int = 64


class CostedDenoiser:
    """Exact mixture ``x0_hat`` plus the cost of an MLP call on a batch of the same size."""

    def __init__(self, mixture, mlp: MLPDenoiser) -> None:
        self.mixture, self.mlp = mixture, mlp
        self.calls = 0

    def __call__(self, x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        self.calls += 1
        self.mlp(torch.zeros(x.shape[0], self.mlp.dim), t)  # the cost, output unused
        return self.mixture.denoise(x, t)


def run_one(den: CostedDenoiser, reward, cfg: Config, mode: str, nfe: int, k: int, seed: int):
    den.calls = 0
    w0, c0 = time.perf_counter(), time.thread_time()
    res = search(
        den, reward, method="rbf", nfe_budget=nfe, shape=(2,), steps=cfg.steps, grid="adaptive",
        generator=torch.Generator().manual_seed(seed), proposal_batch=k, **MODES[mode],
    )  # fmt: skip
    wall, cpu = time.perf_counter() - w0, time.thread_time() - c0
    assert res.nfe == nfe, (res.nfe, nfe)
    moves = [r for r in res.trace[1:-1]]  # proposal steps with the acceptance rule
    accepted = sum(r.events["accepted"][0] is not None for r in moves)
    return {
        "reward": res.reward,
        "wall": wall,
        "cpu": cpu,
        "calls": den.calls,
        "accepted": accepted / max(1, len(moves)),
        "den_share": res.timings.denoiser / res.timings.total,
    }


def run(cfg: Config, quiet: bool = False) -> dict:
    """``out[mode][reward][str(nfe)][str(k)][field] = [per seed]``."""
    torch.set_num_threads(1)
    mixture = example_mixture()
    rewards = mixture_rewards(mixture)
    den = CostedDenoiser(mixture, MLPDenoiser(cfg.cost_dim, cfg.width, cfg.depth))
    run_one(den, rewards["quadratic"], cfg, cfg.modes[0], cfg.nfes[0], 1, 0)  # warm-up
    total = len(cfg.modes) * len(cfg.rewards) * cfg.seeds * len(cfg.ks) * sum(cfg.nfes)
    bar = Progress(total, "rbf-batched", quiet=quiet)
    out: dict = {}
    for mode in cfg.modes:
        for rname in cfg.rewards:
            for nfe in cfg.nfes:
                cell = out.setdefault(mode, {}).setdefault(rname, {}).setdefault(str(nfe), {})
                for seed in range(cfg.seeds):  # k innermost: load drift hits every k alike
                    for k in cfg.ks:
                        r = run_one(den, rewards[rname], cfg, mode, nfe, k, seed)
                        for key, v in r.items():
                            cell.setdefault(str(k), {}).setdefault(key, []).append(v)
                        bar.advance(nfe, f"{mode} {rname} NFE {nfe} k={k}")
    return out


def mlp_cost_per_batch(cfg: Config, sizes=(1, 2, 4, 8, 16), repeats: int = 200) -> dict[int, float]:
    """Median µs of one MLP call per batch size (what a call costs in these runs)."""
    torch.set_num_threads(1)
    mlp = MLPDenoiser(cfg.cost_dim, cfg.width, cfg.depth)
    out = {}
    for b in sizes:
        x, t = torch.zeros(b, cfg.cost_dim), torch.full((b,), 0.5)
        for _ in range(20):
            mlp(x, t)
        ts = []
        for _ in range(repeats):
            s = time.perf_counter()
            mlp(x, t)
            ts.append(time.perf_counter() - s)
        out[b] = 1e6 * statistics.median(ts)
    return out


IN_MODE = math.log(0.5)


def _reward_cell(values: list[float], rname: str) -> str:
    text = fmt_mean_std(values)
    if rname == "mode":
        text += f" ({sum(v > IN_MODE for v in values)}/{len(values)})"
    return text


def render_markdown(cfg: Config, res: dict, costs: dict[int, float], runtime: float) -> str:
    med = statistics.median
    parts = [
        "# Batched vs sequential RBF at equal NFE",
        "",
        f"Command: `python benchmarks/rbf_batched_vs_sequential.py` ({cfg.seeds} seeds, "
        f"steps={cfg.steps}, adaptive grid, runtime {runtime:.0f} s). {machine_note()}.",
        "",
        "Denoiser: exact Gaussian-mixture `x0_hat` + one call of a random MLP "
        f"{cfg.cost_dim}+1 → {cfg.width} × {cfg.depth} → {cfg.cost_dim} on a batch of the same "
        "size (its cost; see the module docstring for why). MLP cost per call (median µs) by "
        "batch size: " + ", ".join(f"B={b}: {c:.0f}" for b, c in costs.items()) + ".",
        "",
        "Columns: **best reward** mean ± std over seeds (mode reward: seeds whose best sample "
        "is in the target mode); **calls** mean denoiser calls (RBF spends exactly the budget, "
        "so NFE is equal for every k); **accepted** mean share of proposal steps that ended "
        "early on an improvement (the rest were forced); **wall ms** median over seeds of the "
        "search's wall time; **speed-up** wall(k=1) / wall(k), per seed, median; "
        "**denoiser %** `timings.denoiser / timings.total`, median.",
    ]
    for mode in cfg.modes:
        for rname in cfg.rewards:
            rows = []
            for nfe in cfg.nfes:
                cell = res[mode][rname][str(nfe)]
                base = cell[str(cfg.ks[0])]["wall"]
                for k in cfg.ks:
                    c = cell[str(k)]
                    speed = med([a / b for a, b in zip(base, c["wall"])])
                    rows.append([
                        nfe, k, _reward_cell(c["reward"], rname),
                        f"{statistics.fmean(c['calls']):.0f}",
                        f"{100 * statistics.fmean(c['accepted']):.0f}%",
                        f"{1e3 * med(c['wall']):.1f}", f"{speed:.2f}×",
                        f"{100 * med(c['den_share']):.0f}",
                    ])  # fmt: skip
            header = ["NFE", "k", "best reward", "calls", "accepted", "wall ms", "speed-up",
                      "denoiser %"]  # fmt: skip
            parts += ["", f"## {mode}, {rname} reward", "", md_table(header, rows)]
    return "\n".join(parts) + "\n"


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="2 seeds, NFE 100, VP-SDE only")
    ap.add_argument("--seeds", type=int, default=None)
    ap.add_argument("--out", type=Path, default=None)
    args = ap.parse_args(argv)
    cfg = Config(nfes=(100,), seeds=2, modes=("VP-SDE",)) if args.quick else Config()
    if args.seeds is not None:
        cfg.seeds = args.seeds
    out = args.out if args.out is not None else (None if args.quick else RESULTS)
    start = time.perf_counter()
    costs = mlp_cost_per_batch(cfg)
    res = run(cfg)
    text = render_markdown(cfg, res, costs, time.perf_counter() - start)
    print(text)
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        (out / "rbf_batched_vs_sequential.md").write_text(text)
        (out / "rbf_batched_vs_sequential.json").write_text(
            json.dumps({"mlp_cost_us": costs, "runs": res}, indent=1)
        )
        print(f"wrote {out}/rbf_batched_vs_sequential.{{md,json}}")


if __name__ == "__main__":
    main()
