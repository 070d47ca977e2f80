"""One Flow Search node's searches as the live panel sees them.

`LiveSession` is an event sink ``(batch index, SearchEvent)`` of the Flow Search node: it
turns events into the throttled ``flowsearch.*`` messages of ``docs/web.md``, sends them
through an injected ``send(name, data)`` while ``listening()`` says a client is connected,
and keeps a replay log so a reloaded page can rebuild its panel. The population whose
thumbnails it sends is held by the search (`SearchControl.hold`), so a click on what the
panel shows can be honoured however fast the search moves on.

Pure Python (never imports ComfyUI): `live.py` binds it to ComfyUI's server.
"""

from __future__ import annotations

import json
import math
import threading
import time
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import torch

from .live_protocol import (
    PROGRESS_INTERVAL,
    PROTOCOL_VERSION,
    CostBudget,
    Interval,
    ReplayLog,
    encode_jpegs,
    shown_indices,
    step_record,
    strict_json,
    summary_fields,
)

Send = Callable[[str, dict], None]
SENT_THUMBS_KEPT = 3  # thumbnail sets remembered per batch item (a pick names one of them)
Preview = Callable[[torch.Tensor], torch.Tensor]


def _argmax(values: Sequence[float | None] | None) -> int | None:
    best = None
    for i, v in enumerate(values or ()):
        if v is not None and math.isfinite(v) and (best is None or v > values[best]):
            best = i
    return best


class LiveSession:
    """The live panel's view of one node execution (all its batch items).

    ``controls[b]`` is the `SearchControl` of batch item b (the panel's stop / pick);
    ``preview(x0 [n, ...]) -> images [n, H, W, 3]`` in [0, 1] decodes thumbnails (the cheap
    decoder, or Latent2RGB); ``None`` sends no thumbnails. Rates: one progress message per
    ``progress_interval`` seconds at most (step records in between are batched into it,
    none lost); thumbnails as `CostBudget` allows; start / done / summary at once.
    How the search ended (stopped, picked, finishing NFEs) comes from the core's ``"done"``
    event; the report's summary confirms it.
    """

    def __init__(
        self,
        *,
        prompt_id: str,
        node_id: str,
        client_id: str | None,
        controls: Sequence[Any],
        send: Send,
        listening: Callable[[], bool],
        preview: Preview | None = None,
        clock: Callable[[], float] = time.monotonic,
        progress_interval: float = PROGRESS_INTERVAL,
        thumbs: CostBudget | None = None,
    ) -> None:
        self.prompt_id = str(prompt_id)
        self.node_id = str(node_id)
        self.client_id = client_id
        self.controls = list(controls)
        self.send = send
        self.listening = listening
        self.preview = preview
        self.clock = clock
        self.progress = Interval(progress_interval)
        self.thumbs = thumbs or CostBudget()
        self.log = ReplayLog()
        self.lock = threading.Lock()
        self.seq = 0
        self.batch: int | None = None
        self.batch_started = clock()
        self.done_batches: set[int] = set()
        self.pending_steps: list[dict[str, Any]] = []
        self.last_step: tuple[dict[str, Any], Any] | None = None  # (to_json, event)
        self.shown_population: int | None = None  # population of the last thumbnails sent
        # the latest thumbnail sets of this batch item, by population: a pick's population
        # is shown again when the search ends (no second decode)
        self.sent_thumbs: dict[int, dict[str, Any]] = {}
        self.finished = False
        self.sent: Counter[str] = Counter()
        self.sink_seconds = 0.0  # wall time spent handling events (overhead measurements)

    @property
    def batch_size(self) -> int:
        return max(1, len(self.controls))

    def __call__(self, batch: int, event: Any) -> None:
        """Event sink: one `SearchEvent` of batch item ``batch``."""
        started = self.clock()
        data = event.to_json()
        kind = data.get("kind")
        if batch != self.batch:
            self._start_batch(batch, data)
        if kind == "step":
            self.pending_steps.append(step_record(data))
            if getattr(event, "population_x0", None) is not None:
                self.last_step = (data, event)
        if kind == "done":
            self._emit_progress(batch, data, started)
            self._emit_final_thumbs(batch, data, event)
            self.last_step = None
            self._emit_done(batch, data, event, started)
        else:
            if self.progress.due(started):
                self._emit_progress(batch, data, started)
            if (
                kind == "step"
                and getattr(event, "population_x0", None) is not None
                and self.preview is not None
                and self.thumbs.due(started)
                and self.listening()
            ):
                self._emit_thumbs(batch, data, event, final=False)
                self._hold(batch, data.get("population"))
        self.sink_seconds += self.clock() - started

    def report(self, report: Mapping[str, Any] | str) -> None:
        """The node's JSON report after all batch items: sends ``flowsearch.summary``."""
        parsed = json.loads(report) if isinstance(report, str) else dict(report)
        self._emit("flowsearch.summary", None, summary_fields(parsed))
        self.finished = True

    def close(self) -> None:
        """The node returned or failed: the search can no longer be steered."""
        self.finished = True

    # -- messages ---------------------------------------------------------------------

    def _emit(self, kind: str, batch: int | None, fields: Mapping[str, Any]) -> None:
        with self.lock:
            data = strict_json(
                {
                    "v": PROTOCOL_VERSION,
                    "prompt_id": self.prompt_id,
                    "node_id": self.node_id,
                    "batch": batch,
                    "seq": self.seq,
                    **fields,
                }
            )
            self.seq += 1
            self.log.add(kind, data)
        if self.listening():
            self.send(kind, data)
            self.sent[kind] += 1

    def _elapsed(self, now: float) -> float:
        return now - self.batch_started

    def _start_batch(self, batch: int, data: Mapping[str, Any]) -> None:
        self.batch = batch
        self.pending_steps = []
        self.last_step, self.shown_population, self.sent_thumbs = None, None, {}
        self.progress = Interval(self.progress.interval)
        self.thumbs = CostBudget(self.thumbs.min_interval, self.thumbs.share)
        self._emit(
            "flowsearch.start",
            batch,
            {
                "batch_size": self.batch_size,
                "method": data.get("method"),
                "steps": data.get("steps"),
                "nfe_budget": data.get("nfe_budget"),
                "elapsed": 0.0,
            },
        )

    def _emit_progress(self, batch: int, data: Mapping[str, Any], now: float) -> None:
        fields = {
            key: data.get(key)
            for key in ("kind", "method", "step", "steps", "s", "nfe_used", "nfe_budget")
        }
        fields.update(
            best_reward=data.get("best_reward"),
            population=data.get("population"),
            events=data.get("events") or {},
            elapsed=self._elapsed(now),
            steps_since=self.pending_steps,
        )
        self.pending_steps = []
        self.progress.mark(now)
        self._emit("flowsearch.progress", batch, fields)

    def _hold(self, batch: int, population: Any) -> None:
        """Keep the population the panel now shows pickable (`SearchControl.hold`)."""
        control = self.controls[batch] if 0 <= batch < len(self.controls) else None
        if control is None or not isinstance(population, int) or population < 0:
            return
        try:
            control.hold(population)
        except ValueError:  # the search ended meanwhile: nothing left to keep
            pass

    def _emit_final_thumbs(self, batch: int, data: Mapping[str, Any], event: Any) -> None:
        """When a search ends: a pick's population again if newer thumbnails replaced it
        (the panel marks the pick in it), else the final candidates (the ``"done"``
        event's ``population_x0``), else the last population if it was never shown."""
        picked = data.get("picked")
        if isinstance(picked, (list, tuple)):
            fields = self.sent_thumbs.get(picked[0])
            if fields is not None and self.shown_population != picked[0]:
                self._emit("flowsearch.thumbs", batch, fields)
                self.shown_population = picked[0]
        elif getattr(event, "population_x0", None) is not None:
            self._emit_thumbs(batch, data, event, final=True)
        elif self.last_step is not None and self.shown_population != self.last_step[0].get(
            "population"
        ):
            self._emit_thumbs(batch, *self.last_step, final=False)  # the last population

    def _emit_thumbs(self, batch: int, data: Mapping[str, Any], event: Any, final: bool) -> None:
        if self.preview is None:
            return
        x0 = event.population_x0
        rewards = data.get("rewards")
        if x0.shape[0] == 0:
            return
        started = self.clock()
        indices = shown_indices(rewards, x0.shape[0])
        images = self._jpegs(x0 if len(indices) == x0.shape[0] else x0[indices])
        shown_rewards = (
            [rewards[i] for i in indices] if rewards and len(rewards) == x0.shape[0] else None
        )
        fields = {
            "population": data.get("population"),
            "step": data.get("step"),
            "nfe_used": data.get("nfe_used"),
            "final": final,
            "images": images,
            "indices": indices,
            "rewards": shown_rewards,
            "best_index": _argmax(rewards),
        }
        self._emit("flowsearch.thumbs", batch, fields)
        self.shown_population = data.get("population")
        if not final and isinstance(self.shown_population, int):
            self.sent_thumbs[self.shown_population] = fields
            for old in list(self.sent_thumbs)[:-SENT_THUMBS_KEPT]:
                del self.sent_thumbs[old]
        self.thumbs.spend(started, self.clock())

    def _jpegs(self, x0: torch.Tensor) -> list[str]:
        with torch.no_grad():
            return encode_jpegs(self.preview(x0))

    def _emit_done(self, batch: int, data: Mapping[str, Any], event: Any, now: float) -> None:
        events = data.get("events") or {}
        picked = data.get("picked")
        best_x0 = getattr(event, "best_x0", None)
        image = None
        if self.preview is not None and best_x0 is not None and best_x0.shape[0]:
            image = self._jpegs(best_x0[:1])[0]
        self._emit(
            "flowsearch.done",
            batch,
            {
                "method": data.get("method"),
                "nfe_used": data.get("nfe_used"),
                "nfe_budget": data.get("nfe_budget"),
                "best_reward": data.get("best_reward"),
                "stopped": bool(data.get("stopped")),
                "picked": list(picked) if isinstance(picked, (list, tuple)) else None,
                "pick_error": data.get("pick_error"),
                "nfe_finish": int(data.get("nfe_finish") or 0),
                "held_out": events.get("held_out"),
                "image": image,
                "elapsed": self._elapsed(now),
            },
        )
        self.done_batches.add(batch)
        self.batch_started = self.clock()
        if len(self.done_batches) >= self.batch_size:
            self.finished = True
