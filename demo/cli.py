"""FlowSearch demo: budgeted search on a project-trained Fashion-MNIST flow model (CPU, ~30 s).

    python -m flowsearch.demo [--model student|teacher] [--class Sneaker] [--budgets 50,100,500]
        [--seeds 16] [--out out]

Asks a shipped unconditional flow model (`flowsearch.demo`: the few-step distilled
``student`` or the full ``teacher``) for one clothing class: plain sampling, best-of-N and
the method recommended for that kind of model (`RECOMMENDED`, the table in docs/search.md)
at a few NFE budgets, with the sampling settings recommended for it; reward = classifier
A's log-probability of the class; the independent classifier B says whether the result
shows that class. Prints a table, writes a PNG grid of the samples and a reward-vs-NFE
plot. No downloads: the weights ship with the package.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import torch

from ..samplers import BoNOptions, sample, search
from .data import CLASS_NAMES
from .figures import save_image_grid
from .models import classifier_reward, flow_denoiser, load_classifier, load_flow_model
from .recommend import RECOMMENDED, Recommendation


def parse_class(value: str) -> int:
    """A class index ``0..9`` or name (case and ``-``/``_``/space insensitive, e.g. "ankle boot")."""

    def norm(s: str) -> str:
        return "".join(ch for ch in s.lower() if ch.isalnum())

    if value.strip().isdigit() and 0 <= int(value) < len(CLASS_NAMES):
        return int(value)
    names = {norm(n): i for i, n in enumerate(CLASS_NAMES)} | {"tshirt": 0, "top": 0}
    if norm(value) in names:
        return names[norm(value)]
    raise ValueError(
        f"--class {value!r} is not a Fashion-MNIST class; use an index 0..9 or one of "
        f"{', '.join(CLASS_NAMES)}"
    )


@torch.no_grad()
def _verdicts(judge: torch.nn.Module, x: torch.Tensor) -> list[int]:
    return judge(x.clamp(-1.0, 1.0)).argmax(1).tolist()


def shown_methods(rec: Recommendation) -> tuple[tuple[str, object], ...]:
    """``(label, options record)`` of the searches shown: best-of-N and the recommendation."""
    return (("best-of-N", BoNOptions()), (rec.label, rec.options))


def run_demo(
    class_index: int, budgets: list[int], seeds: int, model: str = "student"
) -> list[dict]:
    """Rows ``{"method", "nfe", "rewards" [seeds], "classes_b" [seeds], "x0" [seeds, 1, 32, 32],
    "seconds"}``: plain sampling first, then best-of-N and the recommended method for
    ``model`` at each budget (generator seed i for sample i), all with the recommended
    sampling settings."""
    rec = RECOMMENDED[model]
    denoiser = flow_denoiser(load_flow_model(which=model))
    reward = classifier_reward(load_classifier("a"), class_index)
    judge = load_classifier("b")
    start = time.perf_counter()
    noise = torch.randn((seeds, 1, 32, 32), generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        x = sample(
            denoiser, noise, steps=rec.steps, settings=rec.settings,
            generator=torch.Generator().manual_seed(1),
        )  # fmt: skip
    rows = [_row("plain", rec.steps, x, reward, judge, time.perf_counter() - start)]
    for label, options in shown_methods(rec):
        for nfe in budgets:
            start = time.perf_counter()
            outs = [
                search(
                    denoiser,
                    reward,
                    options=options,
                    nfe_budget=nfe,
                    shape=(1, 32, 32),
                    steps=rec.steps,
                    settings=rec.settings,
                    generator=torch.Generator().manual_seed(seed),
                ).x0
                for seed in range(seeds)
            ]
            x = torch.cat(outs)
            rows.append(_row(label, nfe, x, reward, judge, time.perf_counter() - start))
    return rows


def _row(method: str, nfe: int, x: torch.Tensor, reward, judge, seconds: float) -> dict:
    with torch.no_grad():
        r = reward(x).tolist()
    return {
        "method": method,
        "nfe": nfe,
        "rewards": r,
        "classes_b": _verdicts(judge, x),
        "x0": x,
        "seconds": seconds,
    }


def format_table(rows: list[dict], class_index: int) -> str:
    """Plain-text table: mean reward A and how often classifier B sees the class."""
    name = CLASS_NAMES[class_index]
    w = max(len("method"), *(len(row["method"]) for row in rows))
    lines = [
        f"{'method':<{w}} {'NFE/sample':>10} {'reward A (mean)':>16} "
        f"{'B says ' + name:>20} {'seconds':>8}"
    ]
    for row in rows:
        hits = sum(c == class_index for c in row["classes_b"])
        seen = f"{hits}/{len(row['classes_b'])}"
        lines.append(
            f"{row['method']:<{w}} {row['nfe']:>10} {statistics.fmean(row['rewards']):>16.3f} "
            f"{seen:>20} {row['seconds']:>8.1f}"
        )
    return "\n".join(lines)


def plot_rewards(rows: list[dict], class_index: int, path: Path, model: str = "student") -> Path:
    """Mean reward A (and B's hit rate) against the NFE budget per method, plain as a line."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (top, bottom) = plt.subplots(2, 1, figsize=(5.5, 6.5), sharex=True)
    plain = rows[0]
    for label, _ in shown_methods(RECOMMENDED[model]):
        mine = [r for r in rows if r["method"] == label]
        xs = [r["nfe"] for r in mine]
        top.plot(xs, [statistics.fmean(r["rewards"]) for r in mine], marker="o", label=label)
        hits = [100 * statistics.fmean(c == class_index for c in r["classes_b"]) for r in mine]
        bottom.plot(xs, hits, marker="o", label=label)
    top.axhline(statistics.fmean(plain["rewards"]), color="k", ls=":", label="plain")
    plain_hits = 100 * statistics.fmean(c == class_index for c in plain["classes_b"])
    bottom.axhline(plain_hits, color="k", ls=":", label="plain")
    top.set_ylabel("reward A = log p_A(class)")
    bottom.set_ylabel(f"classifier B says {CLASS_NAMES[class_index]} (%)")
    bottom.set_ylim(-2, 102)
    bottom.set_xlabel("NFE budget per sample")
    bottom.set_xscale("log")
    for ax in (top, bottom):
        ax.grid(alpha=0.3)
    top.legend(fontsize=8)
    top.set_title(f"'{CLASS_NAMES[class_index]}' from the {model} model")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def write_figures(
    rows: list[dict], class_index: int, out: Path, model: str = "student"
) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    labels = [
        ["✓" if c == class_index else "✗ " + CLASS_NAMES[c][:7] for c in r["classes_b"]]
        for r in rows
    ]
    grid = save_image_grid(
        [(f"{r['method']}\n{r['nfe']} NFE", r["x0"]) for r in rows],
        out / "demo_fashion_samples.png",
        cell_labels=labels,
        title=f"'{CLASS_NAMES[class_index]}': one column per seed; "
        "under each image classifier B's verdict",
    )
    plot = plot_rewards(rows, class_index, out / "demo_fashion_reward_vs_nfe.png", model)
    return [grid, plot]


def main(argv: list[str] | None = None) -> dict:
    """Run the demo; returns ``{"rows": ..., "paths": [...]}`` (also printed)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--model", choices=sorted(RECOMMENDED), default="student", help="which shipped model"
    )
    parser.add_argument("--class", dest="cls", default="Sneaker", help="name or index 0..9")
    parser.add_argument("--budgets", default="50,100,500", help="comma-separated NFE budgets")
    parser.add_argument("--seeds", type=int, default=16, help="samples per row")
    parser.add_argument("--out", type=Path, default=Path("out"), help="output folder")
    args = parser.parse_args(argv)
    class_index = parse_class(args.cls)
    try:
        budgets = [int(b) for b in args.budgets.split(",")]
    except ValueError:
        raise ValueError(
            f"--budgets must be comma-separated integers; got {args.budgets!r}"
        ) from None
    if args.seeds < 1 or any(b < 1 for b in budgets):
        raise ValueError(f"--seeds and --budgets must be >= 1; got {args.seeds}, {budgets}")
    rec = RECOMMENDED[args.model]
    print(f"class {class_index} = {CLASS_NAMES[class_index]}; {args.model} model; {rec.describe()}")
    rows = run_demo(class_index, budgets, args.seeds, args.model)
    print(format_table(rows, class_index))
    paths = write_figures(rows, class_index, args.out, args.model)
    for path in paths:
        print(f"wrote {path.resolve()}")
    print(
        "One class and a few seeds are noisy: the 10-class grids of both models are in "
        "benchmarks/results/fashion_regimes.md"
    )
    return {"rows": rows, "paths": paths}


if __name__ == "__main__":
    main()
