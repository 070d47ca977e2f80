"""Which search method and sampling settings to use for each shipped model.

The code form of the table in docs/search.md ("Which method and which sampling settings for
which model"), measured on the Fashion-MNIST grids of both models
(benchmarks/results/fashion_regimes.md). The demo and the statistical test in
tests/demo use it.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..samplers import RBFOptions, SamplerSettings
from ..samplers.particle_search import MethodOptions


@dataclass(frozen=True)
class Recommendation:
    """Sampling settings, step count and search method for one kind of model."""

    label: str  # how the method is shown
    settings: SamplerSettings
    steps: int
    options: MethodOptions
    why: str

    def describe(self) -> str:
        s = self.settings
        kind = "SDE" if s.stochastic else "ODE"
        return f"{s.interpolant}-path {kind}, {self.steps} {s.grid} steps; search: {self.label}"


RECOMMENDED: dict[str, Recommendation] = {
    # the few-step distilled model (the FLUX.1-schnell regime)
    "student": Recommendation(
        label="RBF (batched)",
        settings=SamplerSettings(interpolant="vp", grid="uniform"),
        steps=20,
        options=RBFOptions(proposal_batch=4),
        why="placeholder",
    ),
    # the full model (the FLUX.1-dev regime)
    "teacher": Recommendation(
        label="RBF (batched)",
        settings=SamplerSettings(interpolant="linear", grid="uniform"),
        steps=20,
        options=RBFOptions(proposal_batch=4),
        why="placeholder",
    ),
}
