"""The Flow Search node's JSON report and the event log behind its plot (pure).

`EventLog` is an event sink ``(batch index, SearchEvent)`` that keeps, per batch item, the
best reward so far after every denoiser chunk and the population's rewards after every step:
exactly what the reward-vs-NFE plot draws. `build_report` assembles the strict-JSON report
(no NaN/inf: they become ``null``) from the core's `SearchResult.to_json()` per item plus
what only the node knows (sampling choice, seeds, held-out scores, timings split into model /
decode / verifier / overhead).
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from typing import Any

from .plot import Series


class EventLog:
    def __init__(self, items: int) -> None:
        self.series = [Series(f"item {b}") for b in range(items)]

    def __call__(self, index: int, event: Any) -> None:
        s = self.series[index]
        if event.best_reward is not None and math.isfinite(event.best_reward):
            if not s.best or event.best_reward != s.best[-1][1] or event.kind != "nfe":
                s.best.append((event.nfe_used, float(event.best_reward)))
        if event.kind == "step" and event.rewards:
            s.population.extend((event.nfe_used, float(r)) for r in event.rewards)


def finite(value: Any) -> Any:
    """JSON-safe copy: non-finite floats become ``None`` (recursively)."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(k): finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [finite(v) for v in value]
    return value


def split_timings(
    search_seconds: float,
    model_seconds: float,
    decode_seconds: float,
    verifier_seconds: float,
    nfe_used: int,
) -> dict[str, float | None]:
    """Search wall time split into model / decode / verifier / overhead (the rest)."""
    overhead = max(0.0, search_seconds - model_seconds - decode_seconds - verifier_seconds)
    per_100 = 100.0 * search_seconds / nfe_used if nfe_used else None
    return {
        "model": model_seconds,
        "decode": decode_seconds,
        "verifier": verifier_seconds,
        "overhead": overhead,
        "search": search_seconds,
        "seconds_per_100_nfe": per_100,
    }


def build_report(
    *,
    method: dict[str, Any],
    seed: int,
    nfe_budget: int,
    max_particles: int,
    prompt: str,
    verifier: str,
    items: Sequence[dict[str, Any]],
    held_out: dict[str, Any] | None,
    timings: dict[str, Any],
    extra: dict[str, Any] | None = None,
) -> str:
    """The report as a JSON string (keys in a stable order)."""
    used = sum(int(it.get("nfe", 0)) for it in items)
    report = {
        "flowsearch": "flow_search_report/1",
        **method,
        "seed": seed,
        "item_seeds": [seed + b for b in range(len(items))],
        "nfe": {"used": used, "budget": nfe_budget * len(items), "per_item_budget": nfe_budget},
        "max_particles": max_particles,
        "prompt": prompt,
        "verifier": verifier,
        "best_rewards": [it.get("reward") for it in items],
        "held_out": held_out,
        "timings": timings,
        **(extra or {}),
        "items": list(items),
    }
    return json.dumps(finite(report), allow_nan=False)
