"""The two regimes side by side: the Fashion-MNIST grid of the teacher and of the student.

    python benchmarks/fashion_regimes.py [--results DIR] [--out DIR]

Reads ``fashion_benchmark.json`` (the full teacher model, the FLUX.1-dev regime) and
``fashion_benchmark_student.json`` (its few-step distilled student, the FLUX.1-schnell
regime) written by ``fashion_benchmark.py --model teacher|student``, and writes
``fashion_regimes.{md,json,png}``: plain-sampling quality, accuracy B and reward A of every
method in both regimes at NFE 100 and 500 in both grid settings, the papers' claims
counted per regime, and the target (best method at NFE 100 vs best-of-N at NFE 500 on
classifier B), per regime and over every grid and mode, and the five best (method, mode,
grid) per regime at every budget; ``fashion_regimes.json`` holds the numbers without the
per-run lists. Hand-written notes below the marker line of an existing report are kept.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from _common import RESULTS
from _fashion_report import NOTES_MARKER
from _regimes_tables import (
    REGIMES,
    budgets_of,
    cell,
    claims_table,
    method_labels,
    methods_table,
    overall_target,
    overfit_table,
    ranking,
    ranking_table,
    savings_table,
    study_table,
    target_table,
)

#: (low, high): the budgets shown side by side; the target compares the best method at the
#: low budget with best-of-N at the high one.
BUDGETS = (100, 500)


def load(results: Path) -> dict[str, dict]:
    data = {}
    for regime, name in REGIMES.items():
        path = results / name
        if not path.exists():
            raise FileNotFoundError(
                f"{path} is missing; run `python benchmarks/fashion_benchmark.py --model {regime}`"
            )
        data[regime] = json.loads(path.read_text())
    return data


def summary_json(data: dict) -> dict:
    """The side-by-side numbers without the per-run lists (``fashion_regimes.json``)."""
    keep = ("acc", "acc_a", "reward", "reward_se", "diversity", "wall", "nfe_used", "minimum")
    out: dict = {"budgets": list(BUDGETS), "regimes": {}}
    for regime in REGIMES:
        d = data[regime]
        grid = {
            setting: {
                mode: {
                    label: {n: {k: v for k, v in e.items() if k in keep} for n, e in b.items()}
                    for label, b in methods.items()
                }
                for mode, methods in modes.items()
            }
            for setting, modes in d["grid"].items()
        }
        out["regimes"][regime] = {
            "study": d["study"],
            "grid": grid,
            "classifier_test_accuracy": d["classifier_test_accuracy"],
            "compute_s": d.get("compute_s"),
            "ranking": {
                str(n): [list(k) for k, _ in ranking(d, n, 5)]
                for n in budgets_of(d, d["config"]["setting"])
            },
        }
    return out


def render(data: dict) -> str:
    t = data["teacher"]["config"]
    parts = [
        "# Two regimes: the full teacher and the few-step student, side by side",
        "",
        "Command: `python benchmarks/fashion_regimes.py` (reads the two grids written by "
        "`fashion_benchmark.py --model teacher` and `--model student`; details, standard "
        "errors and images are in [fashion_benchmark.md](fashion_benchmark.md) and "
        "[fashion_benchmark_student.md](fashion_benchmark_student.md)). Cells: accuracy B "
        "(share of runs classifier B labels c) · mean reward A (log p_A(c), max 0); "
        f"{len(t['classes'])} classes × {t['seeds']} seeds per cell. T = teacher, S = student.",
        "",
        "## 1. Plain sampling quality (FD in classifier-B features, lower is better)",
        "",
        study_table(data),
    ]
    for setting in (t["setting"], t["paper_setting"]):
        kind = "main grid" if setting == t["setting"] else "the paper's grid"
        for nfe in BUDGETS:
            parts += [
                "",
                f"## {setting} ({kind}), NFE {nfe}",
                "",
                methods_table(data, setting, nfe),
            ]
        parts += [
            "",
            f"### Claims on {setting}: counts of ✓ / ≈ / ✗ over modes × budgets",
            "",
            claims_table(data, setting),
            "",
            f"### Target on {setting}: best method at NFE {BUDGETS[0]} vs best-of-N at NFE "
            f"{BUDGETS[1]}",
            "",
            target_table(data, setting, BUDGETS),
            "",
        ]
        for nfe in BUDGETS:
            parts += [
                "",
                f"### Over-fitting check on {setting} at NFE {nfe}: accuracy A / accuracy B",
                "",
                overfit_table(data, setting, nfe),
            ]
    parts += [
        "",
        "## The newer anchors' compute-saving claims",
        "",
        savings_table(data),
    ]
    parts += [
        "",
        f"## Target over every grid and mode: best at NFE {BUDGETS[0]} vs the best best-of-N "
        f"at NFE {BUDGETS[1]}",
        "",
        overall_target(data, BUDGETS),
    ]
    for nfe in budgets_of(data["teacher"], t["setting"]):
        parts += [
            "",
            f"## The five best (method, mode, grid) per regime at NFE {nfe}",
            "",
            ranking_table(data, nfe),
        ]
    return "\n".join(parts) + "\n"


def plot(data: dict, path: Path) -> Path:
    """Accuracy B vs NFE, one panel per mode of the main grid; teacher solid, student dashed."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    t = data["teacher"]["config"]
    modes, setting = t["modes"], t["setting"]
    fig, axes = plt.subplots(1, len(modes), figsize=(4.8 * len(modes), 4), squeeze=False)
    colors = {}
    for b, mode in enumerate(modes):
        ax = axes[0][b]
        for label in method_labels(data):
            for regime, style in (("teacher", "-"), ("student", "--")):
                d = data[regime]
                pts = [(n, cell(d, setting, mode, label, n)) for n in budgets_of(d, setting)]
                pts = [(n, e) for n, e in pts if e is not None and "minimum" not in e]
                if not pts:
                    continue
                line = ax.plot(
                    [n for n, _ in pts],
                    [100 * e["acc"] for _, e in pts],
                    ls=style,
                    marker="o",
                    ms=3,
                    color=colors.get(label),
                    label=label if regime == "teacher" else None,
                )
                colors.setdefault(label, line[0].get_color())
        ax.set_xscale("log")
        ax.set_title(f"{mode} ({setting})")
        ax.set_xlabel("NFE budget")
        ax.set_ylabel("accuracy B (%)")
        ax.set_ylim(0, 102)
        ax.grid(alpha=0.3)
    axes[0][0].legend(fontsize=7, title="solid: teacher, dashed: student", title_fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--results", type=Path, default=RESULTS)
    ap.add_argument("--out", type=Path, default=RESULTS)
    args = ap.parse_args(argv)
    data = load(args.results)
    text = render(data)
    md = args.out / "fashion_regimes.md"
    notes = ""
    if md.exists() and NOTES_MARKER in md.read_text():
        notes = md.read_text().split(NOTES_MARKER, 1)[1]
    args.out.mkdir(parents=True, exist_ok=True)
    md.write_text(text + "\n" + NOTES_MARKER + notes)
    (args.out / "fashion_regimes.json").write_text(json.dumps(summary_json(data), indent=1))
    print(text)
    print(f"wrote {md} and {plot(data, args.out / 'fashion_regimes.png')}")


if __name__ == "__main__":
    main()
