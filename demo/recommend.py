"""Which search method and sampling settings to use for each shipped model.

The code form of the table in docs/search.md ("Which method for which model"), measured
on the Fashion-MNIST grids of both models (benchmarks/results/fashion_regimes.md). The demo
and the statistical test in tests/demo use it.
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
        settings=SamplerSettings(interpolant="vp", grid="adaptive"),
        steps=10,
        options=RBFOptions(proposal_batch=4),
        why=(
            "distilled model: the RBF paper's own setting (VP-SDE, g = 3 s^2, 10 steps on "
            "its adaptive grid) with RBF 4 proposals at a time; classifier B 76% / 88% at "
            "50 / 100 NFE against best-of-N's 22% / 42%"
        ),
    ),
    # the full model (the FLUX.1-dev regime)
    "teacher": Recommendation(
        label="RBF (batched)",
        settings=SamplerSettings(interpolant="linear", grid="adaptive"),
        steps=10,
        options=RBFOptions(proposal_batch=4),
        why=(
            "full model: the linear-path SDE (the VP-SDE is worse here), 10 steps on the "
            "adaptive grid, RBF 4 proposals at a time; classifier B 56% / 78% at 50 / 100 "
            "NFE against best-of-N's 34% / 54%; from about 300 NFE SVDD, CoDe and SMC "
            "overtake it"
        ),
    ),
}
