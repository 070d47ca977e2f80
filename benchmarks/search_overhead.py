"""Search overhead: wall time of each method / wall time of the same raw denoiser calls.

    python benchmarks/search_overhead.py [--quick] [--repeats N] [--out DIR]

A fixed-cost random MLP denoiser (`_common.MLPDenoiser`) over a 64-dim state and a cheap
reward. For every method (500 NFE, 10 steps, VP-SDE) a recording run logs the batch size
of every denoiser call (and whether it needed a backward pass: DPS); the *raw* baseline
replays exactly those calls on pre-built inputs. Method and raw runs alternate (ABBA) so
that load from other processes hits both alike; the ratio is the median over repeats of
the per-repeat ratios. Process CPU time (`time.thread_time`, one torch thread) is reported
beside wall time because it is far less sensitive to other processes on a shared machine.
Writes ``search_overhead.{md,json}`` to ``--out`` (default ``benchmarks/results``;
``--quick`` writes nothing unless ``--out`` is given).
"""

from __future__ import annotations

import argparse
import gc
import json
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import torch
from _common import METHODS, RESULTS, MLPDenoiser, Progress, cheap_reward, machine_note, md_table

from flowsearch.samplers import sample, search

#: Methods whose overhead ratio the issue targets at <= 1.05.
TARGETED = ("bon", "smc", "svdd", "rbf batched")
TARGET = 1.05


@dataclass
class Config:
    nfe: int = 500
    steps: int = 10
    dim: int = 64
    repeats: int = 15
    denoisers: dict[str, tuple[int, int]] = field(
        default_factory=lambda: {
            "free": (0, 0),  # x * 0.5: isolates the search's own cost per call
            "mlp-512x2": (512, 2),  # the suggestion: ~0.1-0.5 ms per call here
            "mlp-1024x2": (1024, 2),
            "mlp-2048x3": (2048, 3),  # ~2-13 ms per call: still far below a real model
        }
    )
    methods: list[tuple[str, str, dict]] = field(default_factory=lambda: list(METHODS))
    plain: bool = True  # also time plain `sample()` with the same NFE (the integrator alone)


class FreeDenoiser:
    """A denoiser that costs one elementwise op: what remains is the search's own cost."""

    def __call__(self, x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        return x * 0.5


class Recorder:
    """Wraps a denoiser; logs ``(batch size, needs backward)`` of every call."""

    def __init__(self, denoiser: Callable) -> None:
        self.denoiser, self.calls = denoiser, []

    def __call__(self, x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        self.calls.append((x.shape[0], bool(x.requires_grad and torch.is_grad_enabled())))
        return self.denoiser(x, t)


def raw_replay(denoiser: Callable, calls: list[tuple[int, bool]], dim: int) -> Callable[[], None]:
    """A function making exactly ``calls`` (forward, or forward + input gradient) on inputs
    built beforehand."""
    gen = torch.Generator().manual_seed(123)
    inputs = [(torch.randn(b, dim, generator=gen), torch.full((b,), 0.5), g) for b, g in calls]

    def run() -> None:
        for x, t, g in inputs:
            if g:
                with torch.enable_grad():
                    xg = x.requires_grad_(True)
                    torch.autograd.grad(cheap_reward(denoiser(xg, t)).sum(), xg)
            else:
                denoiser(x, t)

    return run


def method_runner(denoiser: Callable, cfg: Config, method: str, options: dict) -> Callable:
    """A function running one search (or plain sampling for ``method="plain"``); returns
    its `Timings` or None."""
    if method == "plain":
        noise = torch.randn(
            cfg.nfe // cfg.steps, cfg.dim, generator=torch.Generator().manual_seed(0)
        )

        def run_plain():
            sample(denoiser, noise, steps=cfg.steps, interpolant="vp", grid="adaptive",
                   generator=torch.Generator().manual_seed(1))  # fmt: skip

        return run_plain

    def run():
        res = search(
            denoiser, cheap_reward, method=method, nfe_budget=cfg.nfe, shape=(cfg.dim,),
            steps=cfg.steps, interpolant="vp", generator=torch.Generator().manual_seed(0),
            **options,
        )  # fmt: skip
        return res.timings

    return run


def _timed(fn: Callable) -> tuple[float, float, object]:
    gc.collect()
    w0, c0 = time.perf_counter(), time.thread_time()
    out = fn()
    return time.perf_counter() - w0, time.thread_time() - c0, out


def measure(denoiser: Callable, cfg: Config, method: str, options: dict) -> dict:
    """Record the calls, warm up, then ``repeats`` alternating method/raw timings."""
    rec = Recorder(denoiser)
    method_runner(rec, cfg, method, options)()  # recording run, also a warm-up
    run, raw = (
        method_runner(denoiser, cfg, method, options),
        raw_replay(denoiser, rec.calls, cfg.dim),
    )
    raw()
    m_w, m_c, r_w, r_c, timings = [], [], [], [], []
    for i in range(cfg.repeats):
        order = (run, raw) if i % 2 == 0 else (raw, run)
        for fn in order:
            w, c, out = _timed(fn)
            if fn is run:
                m_w.append(w), m_c.append(c), timings.append(out)
            else:
                r_w.append(w), r_c.append(c)
    med = statistics.median
    out = {
        "calls": len(rec.calls),
        "nfe": sum(b for b, _ in rec.calls),
        "backward_calls": sum(g for _, g in rec.calls),
        "mean_batch": sum(b for b, _ in rec.calls) / len(rec.calls),
        "method_wall": med(m_w),
        "raw_wall": med(r_w),
        "method_cpu": med(m_c),
        "raw_cpu": med(r_c),
        "ratio_wall": med([a / b for a, b in zip(m_w, r_w)]),
        "ratio_wall_range": [
            min(a / b for a, b in zip(m_w, r_w)),
            max(a / b for a, b in zip(m_w, r_w)),
        ],
        "ratio_cpu": med([a / b for a, b in zip(m_c, r_c)]),
    }
    if timings[0] is not None:
        for key in ("denoiser", "reward", "overhead", "total"):
            out[f"timings_{key}"] = med([getattr(t, key) for t in timings])
    return out


def run_all(cfg: Config, quiet: bool = False) -> dict:
    """``out[denoiser][label] = measure(...)``."""
    torch.set_num_threads(1)
    rows = [(label, m, o) for label, m, o in cfg.methods] + (
        [("plain", "plain", {})] if cfg.plain else []
    )
    bar = Progress(len(cfg.denoisers) * len(rows), "overhead", every=0.0, quiet=quiet)
    out: dict = {}
    for dname, (width, depth) in cfg.denoisers.items():
        den = FreeDenoiser() if width == 0 else MLPDenoiser(cfg.dim, width, depth)
        out[dname] = {}
        for label, method, options in rows:
            out[dname][label] = measure(den, cfg, method, options)
            r = out[dname][label]
            bar.advance(
                1, f"{dname} {label}: ratio {r['ratio_wall']:.3f} (cpu {r['ratio_cpu']:.3f})"
            )
    return out


def per_call_us(r: dict, clock: str = "wall") -> tuple[float, float]:
    """``(denoiser µs per call, search overhead µs per call)`` on ``clock`` (wall / cpu)."""
    raw, method = r[f"raw_{clock}"], r[f"method_{clock}"]
    return 1e6 * raw / r["calls"], 1e6 * (method - raw) / r["calls"]


def _mlp_table(rows: dict) -> str:
    table = []
    for label, r in rows.items():
        den_us, over_us = per_call_us(r)
        split = "–"
        if "timings_total" in r:
            keys = ("denoiser", "reward", "overhead")
            split = "/".join(f"{100 * r[f'timings_{k}'] / r['timings_total']:.0f}" for k in keys)
        lo, hi = r["ratio_wall_range"]
        met = ("**yes**" if r["ratio_wall"] <= TARGET else "no") if label in TARGETED else ""
        table.append([
            label, r["calls"], f"{r['mean_batch']:.1f}", f"{1e3 * r['method_wall']:.1f}",
            f"{1e3 * r['raw_wall']:.1f}", f"**{r['ratio_wall']:.3f}** [{lo:.2f}–{hi:.2f}]",
            f"{r['ratio_cpu']:.3f}", f"{den_us:.0f}", f"{over_us:.0f}", split, met,
        ])  # fmt: skip
    header = [
        "method", "calls", "mean batch", "method ms", "raw ms", "ratio (wall)", "cpu",
        "denoiser µs/call", "overhead µs/call", "split % den/rew/over", f"≤ {TARGET}?",
    ]  # fmt: skip
    return md_table(header, table)


def _free_table(rows: dict) -> str:
    table = []
    for label, r in rows.items():
        _, over_us = per_call_us(r, "cpu")
        table.append([
            label, r["calls"], f"{r['mean_batch']:.1f}", f"{1e3 * r['method_cpu']:.2f}",
            f"{over_us:.0f}", f"{over_us / (TARGET - 1) / 1e3:.1f}",
        ])  # fmt: skip
    header = ["method", "calls", "mean batch", "search CPU ms", "overhead µs/call",
              f"denoiser ms/call needed for ≤ {TARGET}"]  # fmt: skip
    return md_table(header, table)


def render_markdown(cfg: Config, res: dict, runtime: float) -> str:
    parts = [
        "# Search overhead vs raw denoiser calls",
        "",
        f"Command: `python benchmarks/search_overhead.py` (NFE budget {cfg.nfe}, {cfg.steps} steps,"
        f" VP-SDE, state dim {cfg.dim}, {cfg.repeats} alternating repeats, runtime {runtime:.0f} s)."
        f" {machine_note()}.",
        "",
        "**ratio** = median over repeats of (method wall time / wall time of the same denoiser "
        "calls replayed raw: same batch sizes, same forward/backward split, inputs built "
        "beforehand). `[min–max]` over repeats. **cpu** = the same ratio in thread CPU time. "
        "**µs/call**: raw denoiser time per call and the search's extra time per call "
        "(method − raw). **split**: `SearchResult.timings` — denoiser / reward / overhead "
        "shares of the method's total (DPS: the backward pass counts as denoiser time). "
        "**plain** is `sample()` with the same number of trajectories (the SDE integrator "
        f"alone, no search). Target ≤ {TARGET} for {', '.join(TARGETED)}.",
    ]
    for dname, rows in res.items():
        width, depth = cfg.denoisers[dname]
        if width == 0:
            parts += [
                "",
                f"## {dname}: `x * 0.5` — the search's own cost per denoiser call (CPU time)",
                "",
                "With a free denoiser what remains is the search (and integrator) cost. A "
                f"method meets ≤ {TARGET} once a denoiser call costs at least "
                f"overhead / {TARGET - 1:.2f} (last column), if the overhead stayed the same.",
                "",
                _free_table(rows),
            ]
            continue
        arch = " → ".join([str(width)] * depth)
        parts += ["", f"## {dname}: MLP {cfg.dim}+1 → {arch} → {cfg.dim}", "", _mlp_table(rows)]
    return "\n".join(parts) + "\n"


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="150 NFE, 3 repeats, small MLP only")
    ap.add_argument("--repeats", type=int, default=None)
    ap.add_argument("--out", type=Path, default=None)
    args = ap.parse_args(argv)
    cfg = Config()
    if args.quick:
        cfg = Config(nfe=150, repeats=3, denoisers={"mlp-512x2": (512, 2)})
    if args.repeats is not None:
        cfg.repeats = args.repeats
    out = args.out if args.out is not None else (None if args.quick else RESULTS)
    start = time.perf_counter()
    res = run_all(cfg)
    text = render_markdown(cfg, res, time.perf_counter() - start)
    print(text)
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        (out / "search_overhead.md").write_text(text)
        (out / "search_overhead.json").write_text(json.dumps(res, indent=1))
        print(f"wrote {out}/search_overhead.{{md,json}}")


if __name__ == "__main__":
    main()
