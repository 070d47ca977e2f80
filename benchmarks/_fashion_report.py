"""Markdown tables, the reward-vs-NFE plot and the image grids of `fashion_benchmark.py`."""

from __future__ import annotations

from pathlib import Path

import torch
from _common import fmt_num, machine_note, md_table

from flowsearch.demo import CLASS_NAMES
from flowsearch.demo.figures import save_image_grid

#: How each shipped flow model is described in the report header.
MODEL_NOTES = {
    "teacher": "the project's full flow U-Net on the linear path (best samples at 50 "
    "steps; the FLUX.1-dev regime)",
    "student": "the few-step student distilled from it by reflow (same U-Net, good "
    "samples in 2-4 steps; the FLUX.1-schnell regime)",
}

#: Everything below this line of the markdown is hand-written and kept on re-runs.
NOTES_MARKER = "<!-- hand-written notes below: kept when the benchmark rewrites this file -->"


def _pct(v: float) -> str:
    return f"{100 * v:.0f}%"


def _plain(data: dict, setting: str, mode: str) -> dict:
    return data["study"][setting][mode]


def _cell(entry: dict, se: bool = False) -> tuple[str, str]:
    """``(reward, accuracy)`` strings of one grid cell."""
    if "minimum" in entry:
        return f"n/a (min {entry['minimum']})", "n/a"
    r = fmt_num(entry["reward"])
    if se:
        r += f" ± {fmt_num(entry['reward_se'], 2)}"
    return r, _pct(entry["acc"])


def grid_modes(cfg, data: dict, setting: str) -> list[str]:
    """The sampling modes run in ``setting`` (the paper's grid runs the SDEs only)."""
    return [m for m in cfg.modes if m in data["grid"].get(setting, {})]


def table1(cfg, data: dict, setting: str, nfe: int) -> str:
    """Methods as rows, sampling modes as columns (reward A, accuracy B) at one budget."""
    modes = grid_modes(cfg, data, setting)
    header = ["method"]
    for mode in modes:
        header += [f"{mode} reward A ↑", f"{mode} acc B ↑"]
    rows = [["plain (base)"]]
    for mode in modes:
        p = _plain(data, setting, mode)
        rows[0] += [fmt_num(p["reward"]), _pct(p["acc"])]
    for label, _, _ in cfg.methods:
        row = [label]
        for mode in modes:
            row += list(_cell(data["grid"][setting][mode][label][str(nfe)]))
        rows.append(row)
    return md_table(header, rows)


def scaling_table(cfg, data: dict, setting: str, mode: str) -> str:
    """Methods x budgets: ``reward A ± s.e. · acc B``."""
    grid = data["grid"][setting][mode]
    nfes = sorted(int(n) for n in next(iter(grid.values())))
    p = _plain(data, setting, mode)
    rows = [["plain"] + [f"{fmt_num(p['reward'])} · {_pct(p['acc'])}"] * len(nfes)]
    for label, _, _ in cfg.methods:
        rows.append([label] + [" · ".join(_cell(grid[label][str(n)], se=True)) for n in nfes])
    return md_table(["method"] + [f"NFE {n}" for n in nfes], rows)


def study_table(cfg, data: dict) -> str:
    study = data["study"]
    header = ["setting", "mode", "t of returned x0_hat", "FD (B feat.) ↓", "A = B", "B conf."]
    header += ["classes", "diversity", "reward A (plain)"]
    rows = []
    for setting in cfg.all_study_settings():
        for mode in cfg.modes:
            m = study[setting][mode]
            rows.append(
                [setting, mode, f"{m['t_last']:.3f}", f"{m['fd']:.2f}", _pct(m["agree"])]
                + [f"{m['conf_b']:.2f}", m["classes"], f"{m['diversity']:.2f}"]
                + [fmt_num(m["reward"])]
            )
    return md_table(header, rows)


def side_table(cfg, data: dict, setting: str, nfe: int) -> str:
    """Diversity and wall time per search at one budget."""
    header = ["method"] + [f"{m} diversity · wall s" for m in cfg.modes]
    rows = [
        ["plain (per class)"]
        + [f"{_plain(data, setting, m)['diversity']:.2f} · –" for m in cfg.modes]
    ]
    for label, _, _ in cfg.methods:
        row = [label]
        for mode in cfg.modes:
            e = data["grid"][setting][mode][label][str(nfe)]
            if "minimum" in e:
                row.append("n/a")
            else:
                div = "–" if e["diversity"] is None else f"{e['diversity']:.2f}"
                row.append(f"{div} · {e['wall']:.2f}")
        rows.append(row)
    return md_table(header, rows)


def nfe_used_table(cfg, data: dict, setting: str) -> str:
    grid = data["grid"][setting][cfg.modes[0]]
    nfes = sorted(int(n) for n in next(iter(grid.values())))
    rows = []
    for label, _, _ in cfg.methods:
        cells = []
        for n in nfes:
            e = grid[label][str(n)]
            cells.append("n/a" if "minimum" in e else "/".join(map(str, e["nfe_used"])))
        rows.append([label] + cells)
    return md_table(["method"] + [f"NFE {n}" for n in nfes], rows)


def render_markdown(cfg, data: dict) -> str:
    from _fashion_claims import claims

    s, ps = cfg.setting, cfg.paper_setting
    acc = data["classifier_test_accuracy"]
    nfe_top = max(cfg.nfes)
    model = MODEL_NOTES.get(cfg.model, cfg.model)
    parts = [
        f'# Fashion-MNIST: "generate class c" with budgeted search — {cfg.model} model',
        "",
        f"Command: `python benchmarks/fashion_benchmark.py --model {cfg.model}` — classes {list(cfg.classes)} × "
        f"{cfg.seeds} seeds (generator seeds 0..{cfg.seeds - 1}), runtime "
        f"{data['runtime_s'] / 60:.1f} min. {machine_note()}.",
        "",
        f"Models (`flowsearch.demo`, see its MODEL_CARD.md): {model}; **reward** = classifier A's log-probability of the requested class c on "
        "the returned sample (max 0); **acc B** = share of runs whose sample the independent "
        f"classifier B labels c. Test accuracy ({data['real_test_images']} images): "
        f"A {_pct(acc['a'])}, B {_pct(acc['b'])}. "
        "**Diversity** = mean pairwise distance of classifier-B features among the samples of "
        f"one class across seeds, averaged over classes (real test images: "
        f"{data['real_class_diversity']:.2f}). **plain** = unconditional sampling with the same "
        f"grid ({cfg.study_n} samples): its reward is the mean over c of log p_A(c|x) and its "
        "accuracy is exactly 10% by construction (the shares of the 10 classes sum to 1).",
        "",
        "Method options: library defaults, except code `lookahead=2`, rbf batched "
        '`proposal_batch=4`, rbf step_best `acceptance="step_best", proposal_batch=4` and vt '
        "`threshold=log 0.9`. `n/a (min N)`: budget below the method's minimum. Wall time is "
        "per search on a shared CPU (noisy).",
        "",
        f"## 1. Grid settings: plain sampling quality ({cfg.study_n} samples each)",
        "",
        f"FD: Fréchet distance to the {data['real_test_images']} test images in classifier-B "
        "features (floor: "
        f"{cfg.study_n} real training images, {data['study']['real']['fd']:.2f}). A = B: share "
        "of samples both classifiers put in the same class. The last column is the mean "
        "reward A of plain sampling (over all classes).",
        "",
        study_table(cfg, data),
        "",
        f"The main grid uses **{s}**; the paper's setting ({ps}) is run at NFE "
        f"{', '.join(map(str, cfg.paper_nfes))} beside it (section 3).",
        "",
        f"## 2. Methods × sampling modes at NFE {nfe_top} ({s}), laid out like the RBF paper's Table 1",
        "",
        table1(cfg, data, s, nfe_top),
    ]
    if cfg.paper_nfes:
        pn = max(cfg.paper_nfes)
        parts += ["", f"## 3. The paper's setting ({ps})", "", f"### At NFE {pn}", ""]
        parts += [table1(cfg, data, ps, pn)]
        if len(cfg.paper_nfes) > 1:
            for mode in grid_modes(cfg, data, ps):
                parts += ["", f"### NFE scaling, {mode}", "", scaling_table(cfg, data, ps, mode)]
    parts += ["", f"## 4. NFE scaling ({s}): reward A ± s.e. · acc B"]
    for mode in cfg.modes:
        parts += ["", f"### {mode}", "", scaling_table(cfg, data, s, mode)]
    parts += [
        "",
        f"## 5. Diversity and wall time at NFE {nfe_top} ({s})",
        "",
        side_table(cfg, data, s, nfe_top),
        "",
        "## 6. NFEs actually used (budget → used; the same in every mode)",
        "",
        nfe_used_table(cfg, data, s),
        "",
        "## 7. The papers' claims, checked on these numbers",
        "",
        claims(cfg, data),
        "",
    ]
    return "\n".join(parts)


def plot_reward_vs_nfe(cfg, data: dict, path: Path) -> Path:
    """Two rows (-reward A on a log scale; accuracy B) x one column per sampling mode."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import NullLocator

    grid = data["grid"][cfg.setting]
    fig, axes = plt.subplots(2, len(cfg.modes), figsize=(4.6 * len(cfg.modes), 7), squeeze=False)
    for b, mode in enumerate(cfg.modes):
        top, bottom = axes[0][b], axes[1][b]
        for label, _, _ in cfg.methods:
            pts = [(n, grid[mode][label][str(n)]) for n in cfg.nfes]
            pts = [(n, e) for n, e in pts if "minimum" not in e]
            style = "--" if label.startswith("rbf") else "-"
            xs = [n for n, _ in pts]
            top.plot(xs, [-e["reward"] for _, e in pts], marker="o", ms=3, ls=style, label=label)
            bottom.plot(xs, [100 * e["acc"] for _, e in pts], marker="o", ms=3, ls=style)
        plain = _plain(data, cfg.setting, mode)
        top.axhline(-plain["reward"], color="k", ls=":", label="plain")
        bottom.axhline(100 * plain["acc"], color="k", ls=":")
        for ax in (top, bottom):
            ax.set_xscale("log")
            ax.xaxis.set_minor_locator(NullLocator())
            ax.set_xticks(list(cfg.nfes), [str(n) for n in cfg.nfes])
            ax.set_xlabel("NFE budget")
            ax.grid(alpha=0.3)
        top.set_yscale("log")
        top.set_title(f"{mode} ({cfg.setting})")
        top.set_ylabel("−reward A = −log p_A(c) (lower is better)")
        bottom.set_ylabel("accuracy B (%)")
        bottom.set_ylim(0, 102)
    handles, labels = axes[0][0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="center right", fontsize=8)
    n = len(cfg.classes) * cfg.seeds
    fig.suptitle(f"Fashion-MNIST 'generate class c': mean over {n} runs per point")
    fig.tight_layout(rect=(0, 0, 0.88, 1))
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def save_images(cfg, data: dict, pictures: dict, out: Path) -> list[Path]:
    """Image grids: one row per method at the top budget (seed 0, one column per class)
    for the main and the paper setting in ``cfg.image_mode``; and the settings study."""
    paths = []
    names = [CLASS_NAMES[c] for c in cfg.classes]
    for setting, nfe, fname in (
        (cfg.setting, max(cfg.nfes), f"{cfg.stem}_images.png"),
        (cfg.paper_setting, max(cfg.paper_nfes, default=0), f"{cfg.stem}_images_paper.png"),
    ):
        if setting not in pictures or not nfe:
            continue
        plain = pictures["study"][setting][cfg.image_mode][: len(cfg.classes)]
        rows, labels = [("plain (uncond.)", plain)], [[""] * plain.shape[0]]
        for label, _, _ in cfg.methods:
            pics = pictures[setting][cfg.image_mode].get(label, {}).get(str(nfe))
            if pics is None:
                continue
            x = torch.cat([pics[(c, 0)] for c in cfg.classes])
            runs = data["grid"][setting][cfg.image_mode][label][str(nfe)]["runs"]
            by_class = {r["class"]: r["pred"] for r in runs if r["seed"] == 0}
            pred = [by_class[c] for c in cfg.classes]
            verdicts = [
                ("✓" if p == c else "✗ " + CLASS_NAMES[p][:7]) for p, c in zip(pred, cfg.classes)
            ]
            rows.append((label, x))
            labels.append(verdicts)
        title = (
            f"{cfg.image_mode}, {setting}, NFE {nfe}, seed 0; under each: classifier B's verdict"
        )
        paths.append(
            save_image_grid(rows, out / fname, column_labels=names, cell_labels=labels, title=title)
        )
    rows = [
        (f"{s}\n{m}", pictures["study"][s][m][:10])
        for s in cfg.all_study_settings()
        for m in cfg.modes
    ]
    paths.append(
        save_image_grid(rows, out / f"{cfg.stem}_settings.png", title="plain sampling, seed 0")
    )
    return paths
