"""Reward vs NFE of every search method on the exact Gaussian-mixture bed.

    python benchmarks/gmm_reward_vs_nfe.py [--quick] [--seeds N] [--out DIR]

Methods (`_common.METHODS`) x sampling modes {linear-ODE, linear-SDE, VP-SDE} x NFE budgets
{50, 100, 300, 500} x two rewards (quadratic towards the 20% mode at (1.5, -2), and the
log-responsibility of that mode), 10 steps on the paper's adaptive grid, one seed per run.
Reports mean ± std over seeds of the best final reward; a budget below a method's minimum
is "n/a (min N)". Baseline: plain sampling (one 10-NFE trajectory per sample). Writes
``gmm_reward_vs_nfe.{md,png,json}`` to ``--out`` (default ``benchmarks/results``; ``--quick``
writes nothing unless ``--out`` is given).
"""

from __future__ import annotations

import argparse
import json
import math
import re
import time
from dataclasses import dataclass, field
from pathlib import Path

import torch
from _common import (
    METHODS,
    MODES,
    RESULTS,
    Progress,
    fmt_mean_std,
    machine_note,
    md_table,
    mean_std,
    mixture_rewards,
)

from flowsearch.samplers import sample, search
from flowsearch.testing import example_mixture

MINIMUM = re.compile(r"minimum is (\d+)")
LINTHRESH = 1e-3  # symlog: linear within ±1e-3 of the optimum 0


@dataclass
class Config:
    nfes: tuple[int, ...] = (50, 100, 300, 500)
    seeds: int = 16
    steps: int = 10
    modes: tuple[str, ...] = tuple(MODES)
    methods: list[tuple[str, str, dict]] = field(default_factory=lambda: list(METHODS))
    rewards: tuple[str, ...] = ("quadratic", "mode")
    plain_samples: int = 4096


def run_one(mixture, reward, method: str, options: dict, nfe: int, seed: int, mode: str, steps):
    """One search; ``{"reward", "nfe"}``, or ``{"minimum": N}`` when the budget is too small."""
    try:
        res = search(
            mixture.denoiser(),
            reward,
            method=method,
            nfe_budget=nfe,
            shape=(mixture.dim,),
            steps=steps,
            grid="adaptive",
            generator=torch.Generator().manual_seed(seed),
            **MODES[mode],
            **options,
        )
    except ValueError as err:
        found = MINIMUM.search(str(err))
        if found is None:
            raise
        return {"minimum": int(found.group(1))}
    assert res.nfe <= nfe, (method, res.nfe, nfe)
    return {"reward": res.reward, "nfe": res.nfe}


def run_grid(cfg: Config, quiet: bool = False) -> dict:
    """``out[reward][mode][label][str(nfe)] = {"rewards": [...], "nfe_used": [...]}`` or
    ``{"minimum": N}``."""
    mixture = example_mixture()
    rewards = mixture_rewards(mixture)
    total = len(cfg.rewards) * len(cfg.modes) * len(cfg.methods) * cfg.seeds * sum(cfg.nfes)
    bar = Progress(total, "reward-vs-nfe", quiet=quiet)
    out: dict = {}
    for rname in cfg.rewards:
        for mode in cfg.modes:
            for label, method, options in cfg.methods:
                cell = out.setdefault(rname, {}).setdefault(mode, {}).setdefault(label, {})
                for nfe in cfg.nfes:
                    runs = []
                    for seed in range(cfg.seeds):
                        r = run_one(
                            mixture, rewards[rname], method, options, nfe, seed, mode, cfg.steps
                        )
                        if "minimum" in r:  # same for every seed: skip the rest
                            bar.advance(nfe * (cfg.seeds - seed), f"{rname} {mode} {label} {nfe}")
                            cell[str(nfe)] = r
                            break
                        runs.append(r)
                        bar.advance(nfe, f"{rname} {mode} {label} {nfe}")
                    else:
                        cell[str(nfe)] = {
                            "rewards": [r["reward"] for r in runs],
                            "nfe_used": [r["nfe"] for r in runs],
                        }
    return out


def plain_baseline(cfg: Config) -> dict:
    """``out[reward][mode]`` = per-sample rewards of plain sampling (``steps`` NFEs each)."""
    mixture = example_mixture()
    rewards = mixture_rewards(mixture)
    out: dict = {}
    for mode in cfg.modes:
        noise = torch.randn(
            cfg.plain_samples, mixture.dim, generator=torch.Generator().manual_seed(0)
        )
        x = sample(
            mixture.denoiser(),
            noise,
            steps=cfg.steps,
            grid="adaptive",
            generator=torch.Generator().manual_seed(1),
            **MODES[mode],
        )
        for rname in cfg.rewards:
            out.setdefault(rname, {})[mode] = rewards[rname](x).tolist()
    return out


#: Mode reward above log(1/2): the sample is more likely from the target mode than not.
IN_MODE = math.log(0.5)


def _cell(entry: dict, rname: str) -> str:
    if "minimum" in entry:
        return f"n/a (min {entry['minimum']})"
    text = fmt_mean_std(entry["rewards"])
    if rname == "mode":
        hits = sum(r > IN_MODE for r in entry["rewards"])
        text += f" ({hits}/{len(entry['rewards'])})"
    return text


def render_markdown(cfg: Config, grid: dict, plain: dict, runtime: float) -> str:
    parts = [
        "# Reward vs NFE on the Gaussian-mixture bed",
        "",
        f"Command: `python benchmarks/gmm_reward_vs_nfe.py` ({cfg.seeds} seeds, steps={cfg.steps},"
        f" adaptive grid, runtime {runtime:.0f} s). {machine_note()}.",
        "",
        "Entries: mean ± std over seeds (generator seeds 0..N-1) of the best final reward "
        "(`SearchResult.reward`); maximum possible reward is 0 for both rewards. "
        "`n/a (min N)`: the budget is below the method's minimum (the `ValueError` states it). "
        "**plain**: one plain-sampling trajectory (10 NFEs) per sample, mean ± std over "
        f"{cfg.plain_samples} samples — the same in every column. Options: library defaults, "
        "except code `lookahead=2`, rbf batched `proposal_batch=4`, dps `guidance_scale=0.3`.",
        "",
        "Rewards: **quadratic** `-|x - (1.5, -2)|^2 / 2`; **mode** `log p(component 3 | x)` "
        "(the 20% mode at (1.5, -2)); for the mode reward `(h/N)` counts the seeds whose best "
        "sample lies in the target mode (reward > log 1/2). Numbers have 3 significant digits.",
    ]
    for rname in cfg.rewards:
        for mode in cfg.modes:
            base = fmt_mean_std(plain[rname][mode])
            if rname == "mode":
                share = sum(r > IN_MODE for r in plain[rname][mode]) / len(plain[rname][mode])
                base += f" ({100 * share:.0f}% in mode)"
            rows = [["plain"] + [base] * len(cfg.nfes)]
            for label, _, _ in cfg.methods:
                rows.append(
                    [label] + [_cell(grid[rname][mode][label][str(n)], rname) for n in cfg.nfes]
                )
            header = ["method"] + [f"NFE {n}" for n in cfg.nfes]
            parts += ["", f"## {rname} reward, {mode}", "", md_table(header, rows)]
    parts += ["", "## NFEs actually used (budget → used; identical for every seed and mode)", ""]
    first = grid[cfg.rewards[0]][cfg.modes[0]]
    rows = []
    for label, _, _ in cfg.methods:
        cells = []
        for n in cfg.nfes:
            e = first[label][str(n)]
            cells.append(
                "n/a" if "minimum" in e else "/".join(str(v) for v in sorted(set(e["nfe_used"])))
            )
        rows.append([label] + cells)
    parts += [md_table(["method"] + [f"NFE {n}" for n in cfg.nfes], rows), ""]
    return "\n".join(parts)


def plot(cfg: Config, grid: dict, plain: dict, path: Path) -> None:
    """One panel per (reward, sampling mode): mean best reward ± standard error vs NFE."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import NullLocator

    nr, nc = len(cfg.rewards), len(cfg.modes)
    fig, axes = plt.subplots(nr, nc, figsize=(4.6 * nc, 3.8 * nr), squeeze=False)
    for a, rname in enumerate(cfg.rewards):
        for b, mode in enumerate(cfg.modes):
            ax = axes[a][b]
            for label, _, _ in cfg.methods:
                xs, ys, es = [], [], []
                for n in cfg.nfes:
                    e = grid[rname][mode][label][str(n)]
                    if "rewards" in e:
                        m, s = mean_std(e["rewards"])
                        xs.append(n), ys.append(m), es.append(s / len(e["rewards"]) ** 0.5)
                style = "--" if label.startswith("rbf") else "-"
                ax.errorbar(xs, ys, yerr=es, marker="o", ms=3, ls=style, capsize=2, label=label)
            ax.axhline(mean_std(plain[rname][mode])[0], color="k", ls=":", label="plain")
            ax.set_xscale("log")
            ax.xaxis.set_minor_locator(NullLocator())
            ax.set_xticks(list(cfg.nfes), [str(n) for n in cfg.nfes])
            ax.set_yscale("symlog", linthresh=LINTHRESH)
            ax.set_ylim(top=LINTHRESH)
            ax.set_title(f"{mode} — {rname} reward")
            ax.set_xlabel("NFE budget")
            ax.set_ylabel("best final reward (max 0)")
            ax.grid(alpha=0.3)
    handles, labels = axes[0][0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="center right", fontsize=8)
    fig.suptitle(f"Gaussian-mixture bed: mean ± s.e. over {cfg.seeds} seeds (symlog y)")
    fig.tight_layout(rect=(0, 0, 0.9, 1))
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="2 seeds, NFE 50/100: a smoke run")
    ap.add_argument("--seeds", type=int, default=None)
    ap.add_argument("--out", type=Path, default=None)
    args = ap.parse_args(argv)
    torch.set_num_threads(1)
    cfg = Config(nfes=(50, 100), seeds=2, plain_samples=512) if args.quick else Config()
    if args.seeds is not None:
        cfg.seeds = args.seeds
    out = args.out if args.out is not None else (None if args.quick else RESULTS)
    start = time.perf_counter()
    grid = run_grid(cfg)
    plain = plain_baseline(cfg)
    runtime = time.perf_counter() - start
    text = render_markdown(cfg, grid, plain, runtime)
    print(text)
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        (out / "gmm_reward_vs_nfe.md").write_text(text)
        (out / "gmm_reward_vs_nfe.json").write_text(json.dumps({"grid": grid}, indent=1))
        plot(cfg, grid, plain, out / "gmm_reward_vs_nfe.png")
        print(f"wrote {out}/gmm_reward_vs_nfe.{{md,json,png}}")


if __name__ == "__main__":
    main()
