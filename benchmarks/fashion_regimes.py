"""The two regimes side by side: the Fashion-MNIST grid of the teacher and of the student.

    python benchmarks/fashion_regimes.py [--results DIR] [--out DIR]

Reads ``fashion_benchmark.json`` (the full teacher model, the FLUX.1-dev regime) and
``fashion_benchmark_student.json`` (its few-step distilled student, the FLUX.1-schnell
regime) written by ``fashion_benchmark.py --model teacher|student``, and writes
``fashion_regimes.{md,png}``: plain-sampling quality, accuracy B and reward A of every
method in both regimes at NFE 100 and 500 in both grid settings, the papers' claims
counted per regime, and the target (best method at NFE 100 vs best-of-N at NFE 500 on
classifier B). Hand-written notes below the marker line of an existing report are kept.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from _common import RESULTS, fmt_num, md_table
from _fashion_claims import ORDER, PARTICLE, compare
from _fashion_report import NOTES_MARKER

#: (low, high): the budgets shown side by side; the target compares the best method at the
#: low budget with best-of-N at the high one.
BUDGETS = (100, 500)
REGIMES = {"teacher": "fashion_benchmark.json", "student": "fashion_benchmark_student.json"}
SHORT = {"teacher": "T", "student": "S"}


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


def _methods(data: dict) -> list[str]:
    seen: list[str] = []
    for d in data.values():
        for label, _, _ in d["config"]["methods"]:
            if label not in seen:
                seen.append(label)
    return seen


def _cell(d: dict, setting: str, mode: str, label: str, nfe: int) -> dict | None:
    return d["grid"].get(setting, {}).get(mode, {}).get(label, {}).get(str(nfe))


def _fmt(e: dict | None) -> str:
    if e is None:
        return "–"
    if "minimum" in e:
        return f"n/a (min {e['minimum']})"
    return f"{100 * e['acc']:.0f}% · {fmt_num(e['reward'])}"


def study_table(data: dict) -> str:
    settings = [s for s in data["teacher"]["study"] if s != "real"]
    modes = data["teacher"]["config"]["modes"]
    rows = []
    for s in settings:
        for mode in modes:
            cells = [data[r]["study"].get(s, {}).get(mode) for r in REGIMES]
            if None in cells:
                continue
            rows.append(
                [s, mode]
                + [f"{c['fd']:.2f}" for c in cells]
                + [f"{100 * c['agree']:.0f}%" for c in cells]
            )
    return md_table(["setting", "mode", "FD teacher", "FD student", "A = B T", "A = B S"], rows)


def methods_table(data: dict, setting: str, nfe: int) -> str:
    modes = data["teacher"]["config"]["modes"]
    header = ["method"] + [f"{m} {SHORT[r]}" for m in modes for r in REGIMES]
    rows = []
    for label in _methods(data):
        row = [label]
        for mode in modes:
            row += [_fmt(_cell(data[r], setting, mode, label, nfe)) for r in REGIMES]
        rows.append(row)
    return md_table(header, rows)


def overfit_table(data: dict, setting: str, nfe: int) -> str:
    """Accuracy under the reward's own classifier A beside the held-out B: a method that
    wins by fooling A shows a large A - B gap."""
    modes = [m for m in data["teacher"]["config"]["modes"] if m != "linear-ODE"]
    header = ["method"] + [f"{m} {SHORT[r]}: A / B" for m in modes for r in REGIMES]
    rows = []
    for label in _methods(data):
        row = [label]
        for mode in modes:
            for r in REGIMES:
                e = _cell(data[r], setting, mode, label, nfe)
                ok = e is not None and "minimum" not in e and "acc_a" in e
                row.append(f"{100 * e['acc_a']:.0f}% / {100 * e['acc']:.0f}%" if ok else "–")
        rows.append(row)
    return md_table(header, rows)


def _count(vs: list[str]) -> str:
    return " / ".join(str(vs.count(v)) for v in ("✓", "≈", "✗"))


def claims_table(data: dict, setting: str) -> str:
    """Counts of ✓ / ≈ / ✗ (accuracy B) per claim, over modes x budgets, per regime."""
    rows = []
    claims = [
        (f"{hi} ≥ {lo} (particle methods)", [(hi, lab, lo, lab) for lab in PARTICLE])
        for hi, lo in (("VP-SDE", "linear-SDE"), ("linear-SDE", "linear-ODE"))
    ]
    modes = data["teacher"]["config"]["modes"]
    claims += [(f"{a} ≥ {b}", [(m, a, m, b) for m in modes]) for a, b in ORDER]
    for name, pairs in claims:
        row = [name]
        for regime in REGIMES:
            d = data[regime]
            nfes = _nfes(d, setting)
            acc, rew = [], []
            for ma, la, mb, lb in pairs:
                for n in nfes:
                    a, b = _cell(d, setting, ma, la, n), _cell(d, setting, mb, lb, n)
                    if a is None or b is None:
                        continue
                    r, c = compare(a, b)
                    if r != "–":
                        rew.append(r)
                        acc.append(c)
            row += [_count(acc), _count(rew)]
        rows.append(row)
    header = ["claim", "teacher acc B", "teacher reward A", "student acc B", "student reward A"]
    return md_table(header, rows)


def _nfes(d: dict, setting: str) -> list[int]:
    grid = d["grid"].get(setting, {})
    if not grid:
        return []
    first = next(iter(grid.values()))
    return sorted(int(n) for n in next(iter(first.values())))


def target_table(data: dict, setting: str) -> str:
    """Best method at the low budget (by accuracy B, then reward A) vs best-of-N at the high."""
    low, high = BUDGETS
    rows = []
    for regime in REGIMES:
        d = data[regime]
        for mode in d["config"]["modes"]:
            cells = {lab: _cell(d, setting, mode, lab, low) for lab in _methods(data)}
            ok = {k: e for k, e in cells.items() if e is not None and "minimum" not in e}
            bon = _cell(d, setting, mode, "bon", high)
            if not ok or bon is None:
                continue
            best = max(ok, key=lambda k: (ok[k]["acc"], ok[k]["reward"]))
            e = ok[best]
            r, a = compare(e, bon)
            rows.append(
                [regime, mode, f"{best}: {_fmt(e)}", _fmt(bon)]
                + [f"{100 * (e['acc'] - bon['acc']):+.0f} pts", f"{a} / {r}"]
            )
    header = ["regime", "mode", f"best @{low} (acc B · reward A)", f"BoN @{high}", "gap", "verdict"]
    return md_table(header, rows)


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
            target_table(data, setting),
            "",
            f"### Over-fitting check on {setting} at NFE {BUDGETS[1]}: accuracy A / accuracy B",
            "",
            overfit_table(data, setting, BUDGETS[1]),
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
        for label in _methods(data):
            for regime, style in (("teacher", "-"), ("student", "--")):
                d = data[regime]
                pts = [(n, _cell(d, setting, mode, label, n)) for n in _nfes(d, setting)]
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
    print(text)
    print(f"wrote {md} and {plot(data, args.out / 'fashion_regimes.png')}")


if __name__ == "__main__":
    main()
