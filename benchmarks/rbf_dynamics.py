"""RBF's acceptance and rollover dynamics on the Fashion-MNIST models, in both regimes.

    python benchmarks/rbf_dynamics.py [--quick] [--seeds N] [--threads N] [--out DIR]

For each shipped flow model (the full ``teacher``, the few-step ``student``), sampling mode
(linear-SDE, VP-SDE), grid setting and NFE budget, runs the RBF family on "generate class
c" (reward = classifier A's log-probability, 10 classes x ``seeds``) and reads the search
trace step by step:

- **accept rate** of step k: share of searches whose chain moved by acceptance (a child
  beat the running best) rather than by running out of quota;
- **NFE share** of step k: the step's NFEs over the budget (step 0 = initial particles);
- **proposals before acceptance** and the **reward gain** of the chosen child over its
  parent (both look-ahead rewards, the parent's one step earlier);
- the final reward A and accuracy B.

Writes ``rbf_dynamics.{md,json,png}`` to ``--out`` (default ``benchmarks/results``;
``--quick`` writes nothing unless ``--out`` is given).
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch
from _common import MODES, RESULTS, Progress, fmt_num, machine_note, md_table
from _fashion import SHAPE, Bed, grid_kwargs, judge, load_bed

from flowsearch.samplers import search

#: (label, method, options) of the RBF family measured here.
RBF_METHODS: list[tuple[str, str, dict]] = [
    ("rbf", "rbf", {}),
    ("rbf batched", "rbf", {"proposal_batch": 4}),
]


@dataclass
class Config:
    models: tuple[str, ...] = ("teacher", "student")
    modes: tuple[str, ...] = ("linear-SDE", "VP-SDE")
    settings: tuple[str, ...] = ("20 uniform-s", "10 adaptive")
    nfes: tuple[int, ...] = (100, 500)
    classes: tuple[int, ...] = tuple(range(10))
    seeds: int = 3
    methods: list[tuple[str, str, dict]] = field(default_factory=lambda: list(RBF_METHODS))


def trace_dynamics(trace: list, budget: int) -> dict:
    """Per-step facts of one single-chain RBF search from its ``result.trace``.

    Returns ``{"nfe": [per step], "accepted": [bool per proposal step], "proposals": [...],
    "gain": [child - parent reward per proposal step], "rolled_over": [...]}``; step 0
    holds the initial particles (its accept flag and gain are not defined)."""
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


def run_cell(bed: Bed, method: str, options: dict, nfe: int, mode: str, setting: str, cfg):
    """All searches of one cell: per-search dynamics plus final reward and accuracy B."""
    runs = []
    for c in cfg.classes:
        for seed in range(cfg.seeds):
            res = search(
                bed.denoiser,
                bed.reward(c),
                method=method,
                nfe_budget=nfe,
                shape=SHAPE,
                generator=torch.Generator().manual_seed(seed),
                max_batch=64,
                **grid_kwargs(setting),
                **MODES[mode],
                **options,
            )
            dyn = trace_dynamics(res.trace, nfe)
            dyn["reward"] = float(res.reward)
            dyn["acc"] = float(judge(bed, res.x0)["pred_b"][0] == c)
            runs.append(dyn)
    return summarise(runs, batch=options.get("proposal_batch", 1))


def summarise(runs: list[dict], batch: int = 1) -> dict:
    """Means over searches: per-step NFE share and accept rate, pooled gains, final scores.
    ``batch``: proposals per acceptance test (an acceptance within the first batch counts
    as "first try")."""
    steps = len(runs[0]["nfe"])
    moves = steps - 1
    fmean = statistics.fmean
    last_quarter = max(1, round(steps / 4))
    accepted_gain = [g for r in runs for g, a in zip(r["gain"], r["accepted"]) if a]
    return {
        "nfe_share": [fmean(r["nfe"][k] for r in runs) for k in range(steps)],
        "accept_rate": [fmean(r["accepted"][k] for r in runs) for k in range(moves)],
        "proposals": [fmean(r["proposals"][k] for r in runs) for k in range(moves)],
        "gain": [fmean(r["gain"][k] for r in runs) for k in range(moves)],
        # all proposal steps but the last (which has no acceptance test)
        "accept_rate_all": fmean(a for r in runs for a in r["accepted"][:-1]),
        "first_try": fmean(
            p <= batch for r in runs for p, a in zip(r["proposals"][:-1], r["accepted"][:-1]) if a
        ),
        "last_step_share": fmean(r["nfe"][-1] for r in runs),
        "last_quarter_share": fmean(sum(r["nfe"][-last_quarter:]) for r in runs),
        "accepted_gain": fmean(accepted_gain) if accepted_gain else float("nan"),
        "reward": fmean(r["reward"] for r in runs),
        "acc": fmean(r["acc"] for r in runs),
        "n": len(runs),
    }


def run_all(cfg: Config, quiet: bool = False) -> dict:
    start = time.perf_counter()
    cells = len(cfg.models) * len(cfg.modes) * len(cfg.settings) * len(cfg.methods)
    bar = Progress(cells * sum(cfg.nfes), "rbf dynamics", every=10.0, quiet=quiet)
    data: dict = {"config": asdict(cfg), "cells": {}}
    for model in cfg.models:
        bed = load_bed(real_n=100, model=model)  # the test images are not used here
        for setting in cfg.settings:
            for mode in cfg.modes:
                for label, method, options in cfg.methods:
                    for nfe in cfg.nfes:
                        key = f"{model} | {setting} | {mode} | {label} | {nfe}"
                        data["cells"][key] = run_cell(bed, method, options, nfe, mode, setting, cfg)
                        bar.advance(nfe, key)
    data["runtime_s"] = time.perf_counter() - start
    data["threads"] = torch.get_num_threads()
    return data


def render_markdown(cfg: Config, data: dict) -> str:
    n = len(cfg.classes) * cfg.seeds
    header = ["model", "setting", "mode", "method", "NFE", "accept rate", "1st try"]
    header += ["NFE at last step", "NFE in last quarter", "gain of accepted child"]
    header += ["reward A", "acc B"]
    rows = []
    for key, c in data["cells"].items():
        rows.append(
            key.split(" | ")
            + [f"{100 * c['accept_rate_all']:.0f}%", f"{100 * c['first_try']:.0f}%"]
            + [f"{100 * c['last_step_share']:.0f}%", f"{100 * c['last_quarter_share']:.0f}%"]
            + [fmt_num(c["accepted_gain"]), fmt_num(c["reward"]), f"{100 * c['acc']:.0f}%"]
        )
    parts = [
        "# RBF acceptance and rollover dynamics in both regimes",
        "",
        f"Command: `python benchmarks/rbf_dynamics.py` — {n} searches per row (classes "
        f"{list(cfg.classes)} × generator seeds 0..{cfg.seeds - 1}), runtime "
        f"{data['runtime_s'] / 60:.1f} min. {machine_note()}.",
        "",
        "**accept rate**: share of proposal steps (all but the last, which has no test) that "
        "ended because a child beat the chain's running best; **1st try**: of those, the share "
        "where the first proposal (or first batch) already did; **NFE at last step** / **in "
        "last quarter**: share of the budget spent there (the last quarter of the grid's "
        "steps); **gain**: mean look-ahead reward of the accepted child minus its parent's.",
        "",
        md_table(header, rows),
        "",
        "Per-step accept rate and NFE share: see `rbf_dynamics.png` and the JSON.",
        "",
    ]
    return "\n".join(parts)


def plot(cfg: Config, data: dict, path: Path) -> Path:
    """One panel per (model, mode) at the top budget of the first setting: NFE share per
    step (bars) and accept rate (line) of each method."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    setting, nfe = cfg.settings[0], max(cfg.nfes)
    fig, axes = plt.subplots(
        len(cfg.models),
        len(cfg.modes),
        figsize=(5.2 * len(cfg.modes), 3.4 * len(cfg.models)),
        squeeze=False,
    )
    for a, model in enumerate(cfg.models):
        for b, mode in enumerate(cfg.modes):
            ax = axes[a][b]
            twin = ax.twinx()
            width = 0.8 / len(cfg.methods)
            for m, (label, _, _) in enumerate(cfg.methods):
                c = data["cells"][f"{model} | {setting} | {mode} | {label} | {nfe}"]
                xs = [k + m * width for k in range(len(c["nfe_share"]))]
                ax.bar(xs, [100 * v for v in c["nfe_share"]], width=width, label=label)
                twin.plot(range(1, len(c["accept_rate"]) + 1), c["accept_rate"], marker=".")
            ax.set_title(f"{model}, {mode}, {setting}, NFE {nfe}", fontsize=9)
            ax.set_xlabel("step (0 = initial particles)")
            ax.set_ylabel("% of the budget")
            twin.set_ylabel("accept rate (lines)")
            twin.set_ylim(0, 1.05)
            ax.legend(fontsize=7, loc="upper left")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="2 classes, 1 seed, NFE 100, one grid")
    ap.add_argument("--seeds", type=int, default=None)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--out", type=Path, default=None)
    args = ap.parse_args(argv)
    cfg = Config()
    if args.quick:
        cfg = Config(classes=(0, 7), seeds=1, nfes=(100,), settings=("20 uniform-s",))
    if args.seeds is not None:
        cfg.seeds = args.seeds
    torch.set_num_threads(args.threads)
    data = run_all(cfg)
    print(render_markdown(cfg, data))
    out = args.out if args.out is not None else (None if args.quick else RESULTS)
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        (out / "rbf_dynamics.md").write_text(render_markdown(cfg, data))
        (out / "rbf_dynamics.json").write_text(json.dumps(data, indent=1))
        print(f"wrote {plot(cfg, data, out / 'rbf_dynamics.png')}")


if __name__ == "__main__":
    main()
