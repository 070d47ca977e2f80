"""`FlowSearch_TimeSchedule`: the paper's adaptive (or a uniform) grid as SIGMAS."""

from __future__ import annotations

import torch
from comfy_api.latest import io

from ..samplers import get_interpolant
from .catalog_sampling import TIME_SCHEDULE, beta_checks
from .comfy_model import require_flow_model, time_shift
from .comfy_schema import SpecNode
from .sampler import make_interpolant
from .schedule import schedule_model_times


class FlowSearchTimeSchedule(SpecNode):
    """SIGMAS from a grid in the interpolant's own time (see `schedule.schedule_model_times`)."""

    SPEC = TIME_SCHEDULE

    @classmethod
    def checks(cls, values: dict) -> list[str]:
        return beta_checks(values)

    @classmethod
    def execute(
        cls,
        model,
        interpolant: str,
        grid: str,
        steps: int,
        denoise: float,
        apply_model_shift: bool,
        beta_min: float,
        beta_max: float,
    ) -> io.NodeOutput:
        require_flow_model(model, "FlowSearch Time Schedule")
        if denoise <= 0.0:
            return io.NodeOutput(torch.FloatTensor([]))
        path = get_interpolant(make_interpolant(interpolant, beta_min, beta_max))
        shift = time_shift(model) if apply_model_shift else None
        times = schedule_model_times(path, grid, steps, denoise, shift)
        return io.NodeOutput(torch.tensor(times, dtype=torch.float32))
