"""RBF's acceptance and rollover dynamics on the Fashion-MNIST models, in both regimes.

    python benchmarks/rbf_dynamics.py [--results DIR] [--out DIR]

Reads the per-search traces that ``fashion_benchmark.py`` stores for the single-chain RBF
family (``rbf``, ``rbf batched``, the ``step_best`` variant, ``vt``) in
``fashion_benchmark.json`` (teacher) and ``fashion_benchmark_student.json`` (student) —
no searches are re-run — and summarises, per model, grid setting, sampling mode, method
and NFE budget (10 classes x the grid's seeds):

- **accept rate** of step k: share of searches whose chain moved by acceptance (a child
  beat the bar) rather than by running out of quota;
- **NFE share** of step k: the step's NFEs over the budget (step 0 = initial particles);
- **proposals before acceptance** and the **reward gain** of the chosen child over its
  parent (both look-ahead rewards, the parent's one step earlier);
- the final reward A and accuracy B of the same searches.

Writes ``rbf_dynamics.{md,json,png}`` to ``--out`` (default ``benchmarks/results``).
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
from pathlib import Path

from _common import RESULTS, fmt_num, md_table

GRIDS = {"teacher": "fashion_benchmark.json", "student": "fashion_benchmark_student.json"}


def collect(results: Path, grids: dict[str, str] = GRIDS) -> dict:
    """``{"model | setting | mode | method | nfe": summary}`` over every grid cell whose runs
    carry trace dynamics; missing grid files are skipped."""
    cells = {}
    for model, name in grids.items():
        path = results / name
        if not path.exists():
            continue
        data = json.loads(path.read_text())
        batches = {m[0]: m[2].get("proposal_batch", 1) for m in data["config"]["methods"]}
        for setting, modes in data["grid"].items():
            for mode, methods in modes.items():
                for label, budgets in methods.items():
                    for nfe, cell in budgets.items():
                        runs = [r for r in cell.get("runs", []) if "dynamics" in r]
                        if not runs:
                            continue
                        dyn = [
                            {**r["dynamics"], "reward": r["reward"], "acc": r["acc"]} for r in runs
                        ]
                        key = f"{model} | {setting} | {mode} | {label} | {nfe}"
                        cells[key] = summarise(dyn, batch=batches.get(label, 1))
    return cells


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
        # nan when no step was accepted (e.g. vt whose threshold no proposal cleared)
        "first_try": _mean_or_nan(
            [p <= batch for r in runs for p, a in zip(r["proposals"][:-1], r["accepted"][:-1]) if a]
        ),
        "last_step_share": fmean(r["nfe"][-1] for r in runs),
        "last_quarter_share": fmean(sum(r["nfe"][-last_quarter:]) for r in runs),
        "accepted_gain": _mean_or_nan(accepted_gain),
        "reward": fmean(r["reward"] for r in runs),
        "acc": fmean(r["acc"] for r in runs),
        "n": len(runs),
    }


def _mean_or_nan(values: list) -> float:
    return statistics.fmean(values) if values else float("nan")


def _pct(x: float) -> str:
    return "–" if math.isnan(x) else f"{100 * x:.0f}%"


def render_markdown(data: dict) -> str:
    header = ["model", "setting", "mode", "method", "NFE", "accept rate", "1st try"]
    header += ["NFE at last step", "NFE in last quarter", "gain of accepted child"]
    header += ["reward A", "acc B", "n"]
    rows = []
    for key, c in data["cells"].items():
        rows.append(
            key.split(" | ")
            + [f"{100 * c['accept_rate_all']:.0f}%", _pct(c["first_try"])]
            + [f"{100 * c['last_step_share']:.0f}%", f"{100 * c['last_quarter_share']:.0f}%"]
            + [
                "–" if math.isnan(c["accepted_gain"]) else fmt_num(c["accepted_gain"]),
                fmt_num(c["reward"]),
                f"{100 * c['acc']:.0f}%",
                c["n"],
            ]
        )
    parts = [
        "# RBF acceptance and rollover dynamics in both regimes",
        "",
        "Command: `python benchmarks/rbf_dynamics.py` — reads the searches of the "
        "Fashion-MNIST grids ([teacher](fashion_benchmark.md), "
        "[student](fashion_benchmark_student.md)); each row summarises the 10 classes × "
        "seeds of one grid cell (the `n` column).",
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


def plot(data: dict, path: Path, setting: str | None = None, nfe: int | None = None) -> Path:
    """One panel per (model, mode) at one setting and budget (default: the first setting
    and its largest budget): NFE share per step (bars) and accept rate (lines) per method."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    keys = [k.split(" | ") for k in data["cells"]]
    setting = setting or keys[0][1]
    nfe = nfe or max(int(k[4]) for k in keys if k[1] == setting)
    keys = [k for k in keys if k[1] == setting and k[4] == str(nfe)]
    models = sorted({k[0] for k in keys}, key=["teacher", "student"].index)
    modes = sorted({k[2] for k in keys})
    methods = list(dict.fromkeys(k[3] for k in keys))
    fig, axes = plt.subplots(
        len(models),
        len(modes),
        figsize=(5.2 * len(modes), 3.4 * len(models)),
        squeeze=False,
    )
    for a, model in enumerate(models):
        for b, mode in enumerate(modes):
            ax = axes[a][b]
            twin = ax.twinx()
            width = 0.8 / len(methods)
            for m, label in enumerate(methods):
                c = data["cells"].get(f"{model} | {setting} | {mode} | {label} | {nfe}")
                if c is None:
                    continue
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
    ap.add_argument("--results", type=Path, default=RESULTS, help="where the grids are")
    ap.add_argument("--out", type=Path, default=RESULTS)
    args = ap.parse_args(argv)
    data = {"cells": collect(args.results)}
    if not data["cells"]:
        raise SystemExit(
            f"no RBF-family runs with traces in {args.results}; run fashion_benchmark.py"
        )
    text = render_markdown(data)
    print(text)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "rbf_dynamics.md").write_text(text)
    (args.out / "rbf_dynamics.json").write_text(json.dumps(data, indent=1))
    print(f"wrote {plot(data, args.out / 'rbf_dynamics.png')}")


if __name__ == "__main__":
    main()
