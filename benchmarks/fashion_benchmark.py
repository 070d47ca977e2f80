"""Fashion-MNIST "generate class c": search methods x sampling modes x NFE budgets.

    python benchmarks/fashion_benchmark.py [--model teacher|student] [--quick]
        [--classes 0,7] [--seeds N] [--nfes 50,100,300,500] [--paper-nfes 100,500]
        [--setting "20 uniform-s"] [--methods bon,rbf] [--threads N] [--out DIR]
        [--checkpoint DIR]

A shipped flow model (`flowsearch.demo`: the full ``teacher`` or the few-step distilled
``student``) searched with reward = classifier A's log-probability of class c on the
returned sample; classifier B (independent) judges it.
Stages (one progress line with an ETA on stderr):
1. grid settings: plain sampling with several ``(steps, grid)`` per sampling mode, base-model
   quality in classifier-B features (Fréchet distance, A/B agreement, B confidence);
2. the main grid at ``--setting``: every method x {linear-ODE, linear-SDE, VP-SDE} x NFE
   budgets, for every class and seed (generator seeds 0..N-1);
3. the paper's setting (10 steps on its adaptive grid) at ``--paper-nfes`` on the SDEs.

Resumable: every finished grid cell (50 searches) and the settings study are saved to
``--checkpoint`` (default ``benchmarks/results/_runs/<stem>/``, git-ignored) and reused
when the same cell (model, setting, mode, method and options, budget, classes, seeds) is
asked for again, so an interrupted run loses at most the cell in progress, and adding a
budget later runs only the new cells. The report's runtime is the summed compute time of
the cells (``compute_s``), not the wall time of the last invocation.
Writes ``<stem>.{md,json,png}``, ``<stem>_images*.png`` and ``<stem>_settings.png`` to
``--out`` (stem ``fashion_benchmark`` for the teacher, ``fashion_benchmark_student`` for
the student) (default ``benchmarks/results``; ``--quick`` writes
nothing unless ``--out`` is given). Hand-written notes below the marker line of an
existing ``<stem>.md`` are kept.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import statistics
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch
from _common import METHODS, MODES, RESULTS, Progress
from _fashion import (
    Bed,
    last_model_time,
    load_bed,
    mean_pairwise_distance,
    plain_metrics,
    plain_samples,
    real_class_diversity,
    run_search,
)
from _fashion_report import NOTES_MARKER, plot_reward_vs_nfe, render_markdown, save_images

from flowsearch.demo import load_fashion_mnist, to_model_space
from flowsearch.demo.quality import classifier_features, frechet_distance, predict_classes

#: The benchmark's method line-up: the mixture benchmark's without gradient guidance, plus
#: the RBF variant and the newer anchors studied in both regimes (docs/search.md):
#: step_best acceptance (4 at a time, like rbf batched), Verifier-Threshold at
#: log p_A(c) > log 0.9 (sequential, as in its paper) and DTS* (library defaults).
FASHION_METHODS = [m for m in METHODS if m[1] != "dps"] + [
    ("rbf step_best", "rbf", {"acceptance": "step_best", "proposal_batch": 4}),
    ("vt", "vt", {"threshold": math.log(0.9)}),
    ("dts*", "dts_star", {}),
]


@dataclass
class Config:
    model: str = "teacher"
    classes: tuple[int, ...] = tuple(range(10))
    seeds: int = 5
    nfes: tuple[int, ...] = (50, 100, 300, 500)
    modes: tuple[str, ...] = tuple(MODES)
    methods: list[tuple[str, str, dict]] = field(default_factory=lambda: list(FASHION_METHODS))
    setting: str = "20 uniform-s"
    paper_setting: str = "10 adaptive"
    paper_nfes: tuple[int, ...] = (50, 100, 300, 500)
    paper_modes: tuple[str, ...] = ("linear-SDE", "VP-SDE")
    study_settings: tuple[str, ...] = (
        "4 uniform-s",
        "10 adaptive",
        "20 adaptive",
        "20 uniform-s",
        "50 uniform-s",
    )
    study_n: int = 500
    image_mode: str = "VP-SDE"
    real_n: int | None = None  # test images for FD / accuracy / diversity (None: all 10000)
    checkpoint: str | None = None  # folder of finished cells (None: no checkpointing)

    @property
    def stem(self) -> str:
        """File name stem of the outputs."""
        return "fashion_benchmark" if self.model == "teacher" else f"fashion_benchmark_{self.model}"

    def all_study_settings(self) -> tuple[str, ...]:
        extra = [s for s in (self.setting, self.paper_setting) if s not in self.study_settings]
        return tuple(self.study_settings) + tuple(extra)


def model_accuracies(bed: Bed) -> dict[str, float]:
    """Test accuracy of classifiers A and B (on the bed's test images)."""
    x, labels = bed.real_images, bed.real_labels
    return {
        name: float((predict_classes(clf, x) == labels).float().mean())
        for name, clf in (("a", bed.classifier_a), ("b", bed.classifier_b))
    }


def run_study(cfg: Config, bed: Bed, bar: Progress) -> tuple[dict, dict]:
    """``(metrics[setting][mode], samples[setting][mode])`` of plain sampling; plus the floor
    ``metrics["real"]``: ``study_n`` training images against the test images."""
    key = {"model": cfg.model, "study": cfg.all_study_settings(), "n": cfg.study_n}
    key["modes"], key["real_n"] = cfg.modes, cfg.real_n
    cached = _load_cell(cfg, "study", key)
    if cached is not None:
        bar.advance(cfg.study_n * sum(int(s.split()[0]) for s in key["study"]) * len(cfg.modes))
        return cached["metrics"], cached["samples"]
    train = load_fashion_mnist("train")[0]
    idx = torch.randperm(train.shape[0], generator=torch.Generator().manual_seed(0))
    floor = classifier_features(bed.classifier_b, to_model_space(train[idx[: cfg.study_n]]))
    metrics: dict = {"real": {"fd": frechet_distance(floor, bed.real_features)}}
    samples: dict = {}
    for setting in cfg.all_study_settings():
        steps = int(setting.split()[0])
        for mode in cfg.modes:
            start = time.perf_counter()
            x = plain_samples(bed, n=cfg.study_n, mode_kwargs=MODES[mode], setting=setting, seed=0)
            m = plain_metrics(bed, x)
            m["t_last"] = last_model_time(setting, MODES[mode])
            m["wall"] = time.perf_counter() - start
            metrics.setdefault(setting, {})[mode] = m
            samples.setdefault(setting, {})[mode] = x[:12]
            bar.advance(cfg.study_n * steps, f"settings: {setting} {mode}")
    _save_cell(cfg, "study", key, {"metrics": metrics, "samples": samples})
    return metrics, samples


def _cell_path(cfg: Config, name: str, key: dict) -> Path | None:
    if cfg.checkpoint is None:
        return None
    digest = hashlib.sha1(json.dumps(key, sort_keys=True).encode()).hexdigest()[:12]
    slug = "".join(ch if ch.isalnum() else "_" for ch in name)
    return Path(cfg.checkpoint) / f"{slug}_{digest}.pt"


def _load_cell(cfg: Config, name: str, key: dict) -> dict | None:
    """A finished cell saved by `_save_cell` for exactly this ``key``, else None."""
    path = _cell_path(cfg, name, key)
    if path is None or not path.exists():
        return None
    saved = torch.load(path, weights_only=False)
    return saved["value"] if saved["key"] == key else None


def _save_cell(cfg: Config, name: str, key: dict, value: dict) -> None:
    path = _cell_path(cfg, name, key)
    if path is None:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    torch.save({"key": key, "value": value}, tmp)
    os.replace(tmp, path)  # atomic: an interrupted save never leaves a half cell


def _summary(runs: list[dict], feats: dict[int, list[torch.Tensor]]) -> dict:
    """Cell summary: mean reward, accuracy, wall time; diversity = mean over classes of the
    mean pairwise B-feature distance among that class's samples across seeds."""
    rewards = [r["reward"] for r in runs]
    divs = [mean_pairwise_distance(torch.stack(f)) for f in feats.values() if len(f) > 1]
    return {
        "reward": statistics.fmean(rewards),
        "reward_se": statistics.stdev(rewards) / len(rewards) ** 0.5 if len(runs) > 1 else 0.0,
        "acc": statistics.fmean(r["acc"] for r in runs),
        "acc_a": statistics.fmean(r["acc_a"] for r in runs),
        "diversity": statistics.fmean(divs) if divs else None,
        "wall": statistics.fmean(r["wall"] for r in runs),
        "nfe_used": sorted({r["nfe"] for r in runs}),
    }


def run_grid(
    cfg: Config,
    bed: Bed,
    setting: str,
    nfes: tuple[int, ...],
    bar: Progress,
    modes: tuple[str, ...] | None = None,
    compute: list[float] | None = None,
) -> tuple[dict, dict]:
    """``(cells, images)``: ``cells[mode][label][str(nfe)]`` is a summary plus the per-run
    ``runs`` list, or ``{"minimum": N}``; ``images[mode][label][str(nfe)]`` maps
    ``(class, seed)`` to the returned sample ``[1, 1, 32, 32]``. Finished cells are loaded
    from / saved to ``cfg.checkpoint``; ``compute[0]`` accumulates their compute time."""
    compute = compute if compute is not None else [0.0]
    cells: dict = {}
    images: dict = {}
    for mode in modes or cfg.modes:
        for label, method, options in cfg.methods:
            for nfe in nfes:
                key = f"{setting} {mode} {label} {nfe}"
                ident = {"model": cfg.model, "setting": setting, "mode": mode, "label": label}
                ident |= {"method": method, "options": options, "nfe": nfe}
                ident |= {"classes": list(cfg.classes), "seeds": cfg.seeds, "real_n": cfg.real_n}
                done = _load_cell(cfg, key, ident)
                if done is None:
                    start = time.perf_counter()
                    done = _run_cell(cfg, bed, setting, mode, method, options, nfe, bar, key)
                    done["compute_s"] = time.perf_counter() - start
                    _save_cell(cfg, key, ident, done)
                else:
                    bar.advance(nfe * len(cfg.classes) * cfg.seeds, key + " (saved)")
                slot = cells.setdefault(mode, {}).setdefault(label, {})
                slot[str(nfe)] = done["cell"]
                compute[0] += done["compute_s"]
                if done["pics"] is not None:
                    pics = {k: v.float() for k, v in done["pics"].items()}
                    images.setdefault(mode, {}).setdefault(label, {})[str(nfe)] = pics
    return cells, images


def _run_cell(
    cfg: Config,
    bed: Bed,
    setting: str,
    mode: str,
    method: str,
    options: dict,
    nfe: int,
    bar: Progress,
    key: str,
) -> dict:
    """One grid cell: every class x seed. ``{"cell": summary + runs, or {"minimum": N},
    "pics": {(class, seed): x0 [1, 1, 32, 32] fp16} or None}``."""
    runs, feats, pics = [], {}, {}
    for c in cfg.classes:
        for seed in range(cfg.seeds):
            r = run_search(
                bed,
                method=method,
                options=options,
                nfe=nfe,
                mode_kwargs=MODES[mode],
                setting=setting,
                class_index=c,
                seed=seed,
            )
            if "minimum" in r:
                bar.advance(nfe * len(cfg.classes) * cfg.seeds, key + " n/a")
                return {"cell": {"minimum": r["minimum"]}, "pics": None}
            feats.setdefault(c, []).append(r.pop("feat"))
            pics[(c, seed)] = r.pop("x0").half()
            runs.append({"class": c, "seed": seed, **r})
            bar.advance(nfe, key)
    return {"cell": {**_summary(runs, feats), "runs": runs}, "pics": pics}


def run_all(cfg: Config, quiet: bool = False) -> tuple[dict, dict]:
    """Everything: ``(data, pictures)``; ``data`` is what goes to the JSON."""
    start = time.perf_counter()
    bed = load_bed(cfg.real_n, cfg.model)
    runs = len(cfg.classes) * cfg.seeds * len(cfg.methods)
    study_cost = sum(int(s.split()[0]) for s in cfg.all_study_settings())
    total = runs * (len(cfg.modes) * sum(cfg.nfes) + len(cfg.paper_modes) * sum(cfg.paper_nfes))
    total += cfg.study_n * len(cfg.modes) * study_cost
    bar = Progress(total, "fashion", every=10.0, quiet=quiet)
    compute = [0.0]  # summed compute time of the grid cells, saved or run now
    study, study_samples = run_study(cfg, bed, bar)
    grids, pictures = {}, {"study": study_samples}
    for setting, nfes, modes in (
        (cfg.setting, cfg.nfes, cfg.modes),
        (cfg.paper_setting, cfg.paper_nfes, cfg.paper_modes),
    ):
        if nfes:
            grids[setting], pictures[setting] = run_grid(
                cfg, bed, setting, nfes, bar, modes, compute
            )
    data = {
        "config": asdict(cfg),
        "classifier_test_accuracy": model_accuracies(bed),
        "real_class_diversity": real_class_diversity(bed),
        "real_test_images": int(bed.real_images.shape[0]),
        "study": study,
        "grid": grids,
        "runtime_s": time.perf_counter() - start,
        # what the whole grid cost to compute (cells reused from the checkpoint included)
        "compute_s": compute[0],
        "threads": torch.get_num_threads(),
    }
    return data, pictures


def write_outputs(cfg: Config, data: dict, pictures: dict, out: Path) -> list[Path]:
    """Write the markdown (keeping hand-written notes), JSON and PNGs; returns the paths."""
    out.mkdir(parents=True, exist_ok=True)
    md = out / f"{cfg.stem}.md"
    notes = ""
    if md.exists() and NOTES_MARKER in md.read_text():
        notes = md.read_text().split(NOTES_MARKER, 1)[1]
    md.write_text(render_markdown(cfg, data) + "\n" + NOTES_MARKER + notes)
    js = out / f"{cfg.stem}.json"
    js.write_text(json.dumps(data, indent=1))
    png = plot_reward_vs_nfe(cfg, data, out / f"{cfg.stem}.png")
    return [md, js, png, *save_images(cfg, data, pictures, out)]


def parse_args(argv: list[str] | None) -> tuple[Config, argparse.Namespace]:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", choices=("teacher", "student"), default="teacher")
    ap.add_argument("--methods", type=str, default=None, help="comma-separated labels")
    ap.add_argument("--quick", action="store_true", help="2 classes, 1 seed, NFE 50/100")
    ap.add_argument("--classes", type=str, default=None, help="comma-separated indices")
    ap.add_argument("--seeds", type=int, default=None)
    ap.add_argument("--nfes", type=str, default=None, help="comma-separated NFE budgets")
    ap.add_argument("--paper-nfes", type=str, default=None, help="budgets on the paper grid")
    ap.add_argument("--setting", type=str, default=None, help='e.g. "20 uniform-s"')
    ap.add_argument("--study-n", type=int, default=None, help="plain samples per setting")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--out", type=Path, default=None)
    ap.add_argument(
        "--checkpoint", type=Path, default=None, help="finished cells (default: see the doc)"
    )
    ap.add_argument("--no-checkpoint", action="store_true", help="recompute every cell")
    args = ap.parse_args(argv)
    cfg = Config()
    if args.quick:
        cfg = Config(classes=(0, 7), seeds=1, nfes=(50, 100), paper_nfes=(100,), study_n=100)
        cfg.study_settings = ()
    cfg.model = args.model
    if args.methods is not None:
        known = {m[0]: m for m in FASHION_METHODS}
        wanted = args.methods.split(",")
        unknown = [w for w in wanted if w not in known]
        if unknown:
            ap.error(f"--methods: unknown {unknown}; choose from {sorted(known)}")
        cfg.methods = [known[w] for w in wanted]
    if args.classes is not None:
        cfg.classes = tuple(int(c) for c in args.classes.split(","))
    if args.seeds is not None:
        cfg.seeds = args.seeds
    if args.nfes is not None:
        cfg.nfes = tuple(int(n) for n in args.nfes.split(","))
    if args.paper_nfes is not None:
        cfg.paper_nfes = tuple(int(n) for n in args.paper_nfes.split(",") if n)
    if args.setting is not None:
        cfg.setting = args.setting
    if args.study_n is not None:
        cfg.study_n = args.study_n
    if args.checkpoint is not None:
        cfg.checkpoint = str(args.checkpoint)
    elif not args.quick and not args.no_checkpoint:
        cfg.checkpoint = str(RESULTS / "_runs" / cfg.stem)
    return cfg, args


def main(argv: list[str] | None = None) -> None:
    cfg, args = parse_args(argv)
    torch.set_num_threads(args.threads)
    if cfg.checkpoint is not None:
        print(f"checkpoint: {cfg.checkpoint}", flush=True)
    data, pictures = run_all(cfg)
    out = args.out if args.out is not None else (None if args.quick else RESULTS)
    print(render_markdown(cfg, data))
    if out is not None:
        for path in write_outputs(cfg, data, pictures, out):
            print(f"wrote {path}")


if __name__ == "__main__":
    main()
