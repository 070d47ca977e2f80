"""Building blocks of the live panel's server side: throttles, strict JSON, thumbnails, replay
log, the summary of a node report.

Pure Python + torch + Pillow (never imports ComfyUI), so the host-free tests check them.
The messages themselves are specified in ``docs/web.md``; `live_session.py` assembles them.
"""

from __future__ import annotations

import base64
import io
import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import torch

PROTOCOL_VERSION = 1
PROGRESS_INTERVAL = 0.1  # seconds between progress messages of one search (<= 10 per second)
THUMBS_INTERVAL = 1.0  # seconds between thumbnail sets of one search, at least
THUMBS_SHARE = 0.01  # thumbnails may take at most this share of the search's wall time
THUMB_SIZE = 96  # pixels, longest side
THUMB_QUALITY = 80  # JPEG quality
MAX_THUMBS = 16  # particles shown; the best ones when the population is larger


def strict_json(value: Any) -> Any:
    """``value`` with every non-finite float replaced by ``None`` (JSON has no NaN/inf).

    ComfyUI's socket serialises with ``json.dumps`` defaults, which would write ``NaN`` and
    break ``JSON.parse`` in the browser. Tuples become lists; other types pass unchanged.
    """
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, Mapping):
        return {str(k): strict_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [strict_json(v) for v in value]
    return value


class Interval:
    """At most one action per ``interval`` seconds: ``due(now)`` then ``mark(now)``."""

    def __init__(self, interval: float) -> None:
        if interval < 0:
            raise ValueError(f"interval={interval} must be >= 0 seconds")
        self.interval = interval
        self.last = -math.inf

    def due(self, now: float) -> bool:
        return now - self.last >= self.interval

    def mark(self, now: float) -> None:
        self.last = now


class CostBudget:
    """Throttle for costly work (thumbnails): at most one per ``min_interval`` seconds, and
    never more than ``share`` of wall time: after work that took ``c`` seconds the next is
    due ``max(min_interval, c / share)`` seconds later. The first is due at once."""

    def __init__(self, min_interval: float = THUMBS_INTERVAL, share: float = THUMBS_SHARE) -> None:
        if min_interval < 0 or not 0 < share <= 1:
            raise ValueError(
                f"min_interval={min_interval}, share={share}: need min_interval >= 0 and 0 < share <= 1"
            )
        self.min_interval = min_interval
        self.share = share
        self.next = -math.inf
        self.spent = 0.0

    def due(self, now: float) -> bool:
        return now >= self.next

    def spend(self, started: float, finished: float) -> None:
        cost = max(0.0, finished - started)
        self.spent += cost
        self.next = finished + max(self.min_interval, cost / self.share)


def step_record(event: Mapping[str, Any]) -> dict[str, Any]:
    """The compact record of one ``"step"`` event (its ``SearchEvent.to_json()``) that
    progress messages carry in ``steps_since``: the sparkline point and lineage column."""
    return {
        "step": event.get("step"),
        "s": event.get("s"),
        "nfe": event.get("nfe_used"),
        "best": event.get("best_reward"),
        "rewards": event.get("rewards"),
        "parents": event.get("parents"),
        "population": event.get("population"),
        "events": event.get("events") or {},
    }


def shown_indices(
    rewards: Sequence[float | None] | None, count: int, limit: int = MAX_THUMBS
) -> list[int]:
    """Which particles get a thumbnail: all when ``count <= limit``, else the ``limit`` best
    by reward (unknown rewards last), in index order."""
    if count <= limit:
        return list(range(count))
    if not rewards or len(rewards) != count:
        return list(range(limit))

    def key(i: int) -> float:
        r = rewards[i]
        return r if r is not None and math.isfinite(r) else -math.inf

    return sorted(sorted(range(count), key=key, reverse=True)[:limit])


def middle_frame(x: torch.Tensor) -> torch.Tensor:
    """``[N, C, T, H, W]`` video latents -> their middle frame ``[N, C, H, W]``; others as is."""
    return x[:, :, x.shape[2] // 2] if x.ndim == 5 else x


def latent_rgb_preview(
    factors: Sequence[Sequence[float]], bias: Sequence[float] | None = None
) -> Callable[[torch.Tensor], torch.Tensor]:
    """Latent -> RGB by a fixed linear map (ComfyUI's "Latent2RGB" preview factors).

    Returns ``preview(x0 [N, C, H, W] or [N, C, T, H, W]) -> images [N, H, W, 3]`` in
    [0, 1]: ``rgb = (x0 . factors + bias + 1) / 2`` per pixel (``factors`` is ``[C, 3]``).
    Costs one small matmul: the default when no cheap decoder is connected.
    """
    weight = torch.tensor(factors, dtype=torch.float32)
    if weight.ndim != 2 or weight.shape[1] != 3:
        raise ValueError(
            f"latent RGB factors must be [channels, 3], got shape {tuple(weight.shape)}"
        )
    offset = torch.zeros(3) if bias is None else torch.tensor(bias, dtype=torch.float32)

    def preview(x0: torch.Tensor) -> torch.Tensor:
        x = middle_frame(x0).detach().to("cpu", torch.float32)
        if x.shape[1] != weight.shape[0]:
            raise ValueError(
                f"latent has {x.shape[1]} channels, the RGB factors expect {weight.shape[0]}"
            )
        rgb = torch.einsum("nchw,cr->nhwr", x, weight) + offset
        return ((rgb + 1.0) / 2.0).clamp(0.0, 1.0)

    return preview


def encode_jpegs(
    images: torch.Tensor, size: int = THUMB_SIZE, quality: int = THUMB_QUALITY
) -> list[str]:
    """``images [N, H, W, 3]`` in [0, 1] -> JPEG data URLs, longest side ``size`` pixels.

    5-D input ``[N, T, H, W, 3]`` (decoded video) shows the middle frame. Small images (a
    Latent2RGB preview is 1/8 of the image size) are scaled up, large ones down.
    """
    from PIL import Image

    x = images.detach()
    if x.ndim == 5:
        x = x[:, x.shape[1] // 2]
    if x.ndim != 4 or x.shape[-1] not in (1, 3):
        raise ValueError(f"thumbnails need images [N, H, W, 3], got shape {tuple(x.shape)}")
    pixels = (x.to("cpu", torch.float32).clamp(0, 1) * 255).round().to(torch.uint8).numpy()
    urls = []
    for array in pixels:
        image = Image.fromarray(array[..., 0] if array.shape[-1] == 1 else array)
        h, w = array.shape[:2]
        scale = size / max(h, w)
        if scale != 1:
            image = image.resize(
                (max(1, round(w * scale)), max(1, round(h * scale))), Image.BILINEAR
            )
        buffer = io.BytesIO()
        image.convert("RGB").save(buffer, format="JPEG", quality=quality)
        urls.append("data:image/jpeg;base64," + base64.b64encode(buffer.getvalue()).decode("ascii"))
    return urls


class ReplayLog:
    """The messages of one search as a reloaded page needs them to rebuild its panel.

    Keeps every message in order, except that only the latest thumbnail set per batch item
    is kept; beyond ``max_messages`` the older half of the progress messages is merged
    pairwise (their ``steps_since`` concatenated, thinned to ``max_steps`` records).
    """

    def __init__(self, max_messages: int = 400, max_steps: int = 400) -> None:
        self.max_messages = max_messages
        self.max_steps = max_steps
        self.messages: list[list[Any]] = []

    def add(self, kind: str, data: dict[str, Any]) -> None:
        if kind == "flowsearch.thumbs":
            self.messages = [
                m
                for m in self.messages
                if not (m[0] == kind and m[1].get("batch") == data.get("batch"))
            ]
        self.messages.append([kind, data])
        if len(self.messages) > self.max_messages:
            self._compact()

    def _compact(self) -> None:
        half = len(self.messages) // 2
        older, newer = self.messages[:half], self.messages[half:]
        merged: list[list[Any]] = []
        for kind, data in older:
            prev = merged[-1] if merged else None
            if (
                kind == "flowsearch.progress"
                and prev is not None
                and prev[0] == kind
                and prev[1].get("batch") == data.get("batch")
                and not prev[1].get("_merged")
            ):
                steps = list(prev[1].get("steps_since", [])) + list(data.get("steps_since", []))
                while len(steps) > self.max_steps:
                    half = len(steps) // 2
                    steps = steps[:half:2] + steps[half:]
                merged[-1] = [kind, {**data, "steps_since": steps, "_merged": True}]
            else:
                merged.append([kind, data])
        for message in merged:
            message[1].pop("_merged", None)
        self.messages = merged + newer

    def snapshot(self) -> list[list[Any]]:
        return [[kind, dict(data)] for kind, data in self.messages]


def summary_fields(report: Mapping[str, Any]) -> dict[str, Any]:
    """The ``flowsearch.summary`` payload from the Flow Search node's JSON report.

    The report has per-node ``nfe`` ``{used, budget}``, ``timings`` (the search's wall time
    split into ``model`` / ``decode`` / ``verifier`` / ``overhead``, its
    ``seconds_per_100_nfe``, and ``total``), ``best_rewards`` and ``held_out.best`` per batch
    item, and ``items`` (the core's per-item reports: ``picked``, ``stopped``,
    ``pick_error``, ``nfe_finish``).
    """
    items = [item for item in report.get("items") or [] if isinstance(item, Mapping)]
    nfe = report.get("nfe") if isinstance(report.get("nfe"), Mapping) else {}
    timings = report.get("timings") if isinstance(report.get("timings"), Mapping) else {}
    held_out = report.get("held_out") if isinstance(report.get("held_out"), Mapping) else {}
    used = nfe.get("used", sum(int(item.get("nfe") or 0) for item in items))
    total = timings.get("total")
    per_100 = timings.get("seconds_per_100_nfe")
    if per_100 is None and total and used:
        per_100 = 100.0 * total / used
    n = max(1, len(items))
    return {
        "method": report.get("method"),
        "nfe_used": used,
        "nfe_budget": nfe.get("budget"),
        "seconds": total,
        "sec_per_100_nfe": per_100,
        "timings": {k: v for k, v in timings.items() if isinstance(v, (int, float))},
        "best_reward": list(report.get("best_rewards") or [item.get("reward") for item in items]),
        "held_out": list(held_out.get("best") or [None] * n),
        "picked": [item.get("picked") for item in items] or [None],
        "pick_error": [item.get("pick_error") for item in items] or [None],
        "nfe_finish": [int(item.get("nfe_finish") or 0) for item in items] or [0],
        "stopped": [bool(item.get("stopped")) for item in items] or [bool(report.get("stopped"))],
    }
