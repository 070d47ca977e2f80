"""Live panel overhead: how much the panel's event sink slows a search (target: <= 2 %).

    python benchmarks/live_overhead.py [--quick] [--repeats N] [--out DIR]

The shipped Fashion-MNIST flow U-Net (a real model, ~ms per call on the CPU) searched for
class "Sneaker" with classifier A as the reward, at 200 NFE on 20 VP-SDE steps, for
best-of-N, SMC and batched RBF. Each search runs without a callback and with the live
panel's `LiveSession` as its callback, in the configuration that costs most: a client is
listening (every message is built and JSON-encoded in the search's thread, as ComfyUI's
socket would encode it) and thumbnails are decoded (the 32x32 samples as grey JPEGs) as
often as the throttle allows. Runs alternate ABBA; the overhead is the median over
repeats of (with sink / without) - 1, in wall time and in thread CPU time. Also reports
the messages per second the throttle let through. Writes ``live_overhead.{md,json}`` to
``--out`` (default ``benchmarks/results``; ``--quick`` writes nothing unless ``--out``).
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

import torch
from _common import RESULTS, machine_note, md_table

from flowsearch.fashion import classifier_reward, flow_denoiser, load_classifier, load_flow_model
from flowsearch.nodes.live_session import LiveSession
from flowsearch.samplers import search

METHODS = (("bon", "bon", {}), ("smc", "smc", {}), ("rbf batched", "rbf", {"proposal_batch": 4}))
SNEAKER = 7
TARGET = 0.02


def grey_preview(x0: torch.Tensor) -> torch.Tensor:
    """Fashion samples ``[N, 1, 32, 32]`` in [-1, 1] -> ``[N, 32, 32, 3]`` in [0, 1]."""
    return ((x0.clamp(-1, 1) + 1) / 2).movedim(1, -1).expand(-1, -1, -1, 3)


def live_session() -> LiveSession:
    return LiveSession(
        prompt_id="bench",
        node_id="1",
        client_id="client",
        controls=[],
        send=lambda name, data: json.dumps({"type": name, "data": data}),
        listening=lambda: True,
        preview=grey_preview,
    )


def timed_search(
    denoiser, reward, method: str, options: dict, nfe: int, steps: int, seed: int, sink
):
    wall, cpu = time.perf_counter(), time.thread_time()
    search(
        denoiser,
        reward,
        method=method,
        nfe_budget=nfe,
        shape=(1, 32, 32),
        steps=steps,
        interpolant="vp",
        stochastic=True,
        grid="uniform",
        generator=torch.Generator().manual_seed(seed),
        callback=None if sink is None else (lambda event: sink(0, event)),
        **options,
    )
    return time.perf_counter() - wall, time.thread_time() - cpu


def run(nfe: int, steps: int, repeats: int) -> list[dict]:
    denoiser = flow_denoiser(load_flow_model())
    reward = classifier_reward(load_classifier("a"), SNEAKER)
    rows = []
    for label, method, options in METHODS:
        timed_search(denoiser, reward, method, options, nfe, steps, 0, None)  # warm-up
        ratios_wall, ratios_cpu, rates, thumbs, sink_share = [], [], [], [], []
        for r in range(repeats):
            plain, live = [], []
            for order in ("plain", "live", "live", "plain"):  # ABBA
                if order == "plain":
                    plain.append(
                        timed_search(denoiser, reward, method, options, nfe, steps, r, None)
                    )
                else:
                    session = live_session()
                    live.append(
                        timed_search(denoiser, reward, method, options, nfe, steps, r, session)
                    )
                    wall = live[-1][0]
                    rates.append(sum(session.sent.values()) / wall)
                    thumbs.append(session.sent["flowsearch.thumbs"])
                    sink_share.append(session.sink_seconds / wall)
            ratios_wall.append(sum(w for w, _ in live) / sum(w for w, _ in plain))
            ratios_cpu.append(sum(c for _, c in live) / sum(c for _, c in plain))
        rows.append(
            {
                "method": label,
                "plain_s": statistics.median(w for w, _ in plain),
                "overhead_wall": statistics.median(ratios_wall) - 1,
                "overhead_wall_range": [min(ratios_wall) - 1, max(ratios_wall) - 1],
                "overhead_cpu": statistics.median(ratios_cpu) - 1,
                "sink_share": statistics.median(sink_share),
                "messages_per_s": statistics.median(rates),
                "thumb_sets": statistics.median(thumbs),
            }
        )
    return rows


def report(rows: list[dict], nfe: int, steps: int, repeats: int) -> str:
    table = md_table(
        [
            "method",
            "search s",
            "overhead (wall)",
            "range",
            "overhead (CPU)",
            "sink time",
            "msgs/s",
            "thumb sets",
        ],
        [
            [
                r["method"],
                f"{r['plain_s']:.2f}",
                f"{100 * r['overhead_wall']:+.1f}%",
                f"{100 * r['overhead_wall_range'][0]:+.1f}…{100 * r['overhead_wall_range'][1]:+.1f}%",
                f"{100 * r['overhead_cpu']:+.1f}%",
                f"{100 * r['sink_share']:.2f}%",
                f"{r['messages_per_s']:.1f}",
                f"{r['thumb_sets']:.0f}",
            ]
            for r in rows
        ],
    )
    worst = max(max(r["overhead_cpu"], r["sink_share"]) for r in rows)
    verdict = "meets" if worst <= TARGET else "misses"
    return (
        "# Live panel overhead\n\n"
        f"Fashion-MNIST flow U-Net, classifier-A reward, {nfe} NFE, {steps} VP-SDE steps, "
        f"{repeats} ABBA repeats, 1 torch thread. *Overhead* = median over repeats of "
        "(search with the live sink / search without) - 1; *sink time* = the sink's own "
        "share of the search's wall time (measured inside the sink). A listening client and "
        "thumbnails: the costliest configuration.\n\n"
        f"{table}\n\n"
        f"Worst of CPU overhead and sink time: {100 * worst:.2f}% ({verdict} the <= 2% target). "
        "Wall-time overheads on a shared machine scatter by a few percent either way (see the "
        f"range); the sink-time column is the direct measurement.\n\n{machine_note()}\n"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="2 repeats, 60 NFE")
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    torch.set_num_threads(1)
    nfe, steps, repeats = (60, 10, 2) if args.quick else (200, 20, args.repeats)
    rows = run(nfe, steps, repeats)
    text = report(rows, nfe, steps, repeats)
    print(text)
    out = args.out if args.out is not None else (None if args.quick else RESULTS)
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        (out / "live_overhead.md").write_text(text)
        (out / "live_overhead.json").write_text(
            json.dumps({"nfe": nfe, "steps": steps, "rows": rows}, indent=2)
        )


if __name__ == "__main__":
    main()
