"""Progress bar and latent preview for a running search: an event sink.

`ProgressSink` is one of the Flow Search node's event sinks ``(batch index, SearchEvent)``.
The bar counts NFEs (value = NFEs used over all batch items, total = budget x items) and is
updated on every denoiser chunk through ``comfy.utils.ProgressBar`` like core samplers; its
preview is the current best ``x0_hat`` through ComfyUI's latent previewer (the method the
user chose: Latent2RGB or TAESD), at most every ``preview_interval`` seconds and whenever a
step ends.

Interrupt: once ComfyUI's interrupt flag is set the sink stops updating the bar (whose hook
would raise at once) and sends one last preview of the best so far through the progress
registry; the search then stops at its next chunk (``should_stop``) and the node raises.
"""

from __future__ import annotations

import time
from typing import Any

import comfy.model_management
import comfy.utils
import latent_preview
from comfy_execution.progress import get_progress_state


class ProgressSink:
    def __init__(
        self,
        model: Any,
        items: int,
        nfe_budget: int,
        node_id: str | None,
        preview_interval: float = 0.5,
    ) -> None:
        self.total = items * nfe_budget
        self.used = [0] * items
        self.node_id = node_id
        self.bar = comfy.utils.ProgressBar(self.total, node_id=node_id)
        self.previewer = latent_preview.get_previewer(model.load_device, model.model.latent_format)
        self.interval = preview_interval
        self.last_preview = -float("inf")
        self.best: tuple[float, Any] | None = None  # (reward, x0 [1, ...]) over all items
        self.final_sent = False

    def __call__(self, index: int, event: Any) -> None:
        self.used[index] = event.nfe_used
        if event.best_x0 is not None and event.best_reward is not None:
            if self.best is None or event.best_reward > self.best[0]:
                self.best = (event.best_reward, event.best_x0)
        if comfy.model_management.processing_interrupted():
            self.send_final_preview()
            return
        now = time.monotonic()
        preview = None
        if self.best is not None and (
            event.kind != "nfe" or now - self.last_preview >= self.interval
        ):
            preview = self._preview()
            self.last_preview = now
        self.bar.update_absolute(sum(self.used), self.total, preview)

    def _preview(self) -> Any:
        if self.previewer is None or self.best is None:
            return None
        return self.previewer.decode_latent_to_preview_image("JPEG", self.best[1])

    def send_final_preview(self) -> None:
        """The best so far as the node's last preview, without the bar's interrupt check."""
        if self.final_sent or self.node_id is None:
            return
        self.final_sent = True
        preview = self._preview()
        if preview is not None:
            get_progress_state().update_progress(self.node_id, sum(self.used), self.total, preview)
