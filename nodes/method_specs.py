"""Specs of the method nodes, built from the core's typed options records.

One node per search method (like core ComfyUI's one node per sampler). Its widgets are the
fields of the method's options record in `METHODS`, with the record's defaults; this module
adds only what a record cannot say: display names, tooltips and ranges (`HINTS`). A field
typed ``int | None`` (``None`` = "let the method choose") is an INT widget where 0 stands
for ``None``. Every method node also carries the sampling-mode choice (`SAMPLING_FIELDS`).

Pure (never imports ComfyUI); `tests/nodes` checks that every record field has a hint and
that defaults match the records.
"""

from __future__ import annotations

import dataclasses
import typing
from dataclasses import dataclass

from ..samplers import METHODS
from ..samplers.particle_search.rbf import ACCEPTANCE
from ..samplers.particle_search.smc import POTENTIALS, RESAMPLING
from .regime import PRESETS
from .spec import Field, NodeSpec, Output

METHOD_TYPE = "FLOWSEARCH_METHOD"
SAMPLING_TYPE = "FLOWSEARCH_SAMPLING"


@dataclass(frozen=True)
class Hint:
    """UI facts for one option: tooltip, range (numbers) or options (strings); for an
    ``int | None`` field, ``none_means`` says what 0 (= ``None``) does."""

    tooltip: str
    min: float | None = None
    max: float | None = None
    step: float | None = None
    options: tuple[str, ...] = ()
    none_means: str | None = None
    fixed: bool = False  # not a widget: the record's default always applies
    #: the widget's default when it differs from the record's (the paper's); the tooltip
    #: says why (the measurements behind it: docs/search.md, "Which method for which model")
    node_default: int | float | str | None = None


@dataclass(frozen=True)
class MethodInfo:
    node_id: str
    title: str
    description: str
    hints: dict[str, Hint]


GUIDANCE_TIP = (
    "Gradient guidance 1/beta: adds guidance_scale * grad r(x0_hat(x)) to the score "
    "(a search-level setting, for every method). Needs a differentiable verifier; 0 = off. "
    "Each guided NFE also costs a backward pass."
)
#: guidance_scale per method node (DPS is best-of-N with guidance: it must be > 0)
GUIDANCE_DEFAULT = {"dps": 1.0}

INFO: dict[str, MethodInfo] = {
    "bon": MethodInfo(
        "FlowSearch_MethodBestOfN",
        "Best-of-N",
        "Best-of-N (random search): N = budget // steps independent trajectories; keep the "
        "best final reward. Raising only the budget keeps the smaller budget's candidates.",
        {},
    ),
    "zero_order": MethodInfo(
        "FlowSearch_MethodZeroOrder",
        "Zero-Order Search",
        "Zero-order search (Ma et al. 2025): a pivot noise and neighbours at fixed cosine "
        "similarity; move to the best neighbour when it improves, else re-draw the pivot.",
        {
            "neighbors": Hint("Neighbours drawn around the pivot per round.", 1, 1024),
            "similarity": Hint(
                "Cosine similarity lambda between the pivot and each neighbour (norm kept); "
                "closer to 1 = smaller moves.",
                -0.99,
                0.99,
                0.01,
            ),
        },
    ),
    "sop": MethodInfo(
        "FlowSearch_MethodSearchOverPaths",
        "Search over Paths",
        "Search over paths (Ma et al. 2025): denoise N noises to `start`; each round re-noise "
        "every kept sample `branches` times forward by delta_f and integrate back by delta_b; "
        "keep the top N; finish with best-of.",
        {
            "start": Hint("Level (model time) where the rounds begin.", 0.01, 0.99, 0.01),
            "forward": Hint("delta_f: how far each round re-noises (in time).", 0.01, 1.0, 0.01),
            "backward": Hint(
                "delta_b: how far each round integrates back; must exceed delta_f.",
                0.01,
                1.0,
                0.01,
            ),
            "branches": Hint("Re-noisings per kept sample and round.", 1, 256),
            "segment_steps": Hint(
                "Grid points per backward segment.",
                0,
                1000,
                none_means="0 = follow the sampling grid (the reference uses 4)",
            ),
        },
    ),
    "smc": MethodInfo(
        "FlowSearch_MethodSMC",
        "SMC (FK steering)",
        "Sequential Monte Carlo / Feynman-Kac steering: N particles on the SDE, weighted by "
        "exp(reward potential / lambda) and resampled when the ESS drops; the final "
        "population targets p(x) exp(r(x) / lambda).",
        {
            "lam": Hint("Temperature lambda: smaller = greedier.", 0.001, 1000.0, 0.01),
            "ess_threshold": Hint(
                "Resample when ESS < threshold * N (1 = every step, 0 = never).", 0.0, 1.0, 0.01
            ),
            "resampling": Hint("Resampling scheme.", options=RESAMPLING),
            "potential": Hint(
                "Potential on look-ahead rewards: difference r_k - r_(k-1) (exact tilt), max or "
                "sum (corrected at the end, far more degenerate weights).",
                options=POTENTIALS,
            ),
        },
    ),
    "svdd": MethodInfo(
        "FlowSearch_MethodSVDD",
        "SVDD",
        "SVDD: every step each particle proposes K children (one SDE step each) and keeps the "
        "best by look-ahead reward.",
        {
            "children": Hint("K: children per particle and step.", 1, 1024),
            "lookahead": Hint("Fixed to 1 for SVDD (use CoDe for more).", fixed=True),
        },
    ),
    "code": MethodInfo(
        "FlowSearch_MethodCoDe",
        "CoDe",
        "CoDe: like SVDD, but children run L steps before the selection.",
        {
            "children": Hint("K: children per particle and selection.", 1, 1024),
            "lookahead": Hint("L: steps each child runs before the selection.", 1, 1000),
        },
    ),
    "rbf": MethodInfo(
        "FlowSearch_MethodRBF",
        "Rollover Budget Forcing",
        "Rollover Budget Forcing (Kim et al. 2025): a per-step NFE quota; proposals until one "
        "beats the best reward so far, the unused quota rolls over to the next step; the "
        "last step spends what is left.",
        {
            "initial_particles": Hint(
                "Noises drawn per chain at the start (the chain starts from the best).",
                0,
                100000,
                none_means="0 = 5% of the budget per chain",
            ),
            "chains": Hint("Independent chains sharing the budget.", 1, 256),
            "proposal_batch": Hint(
                "Proposals evaluated together before the acceptance test. 1 = the paper's "
                "sequential rule. The default 4 turns 4 model calls into one (faster on a "
                "GPU) and was as good as 1 at 100 NFE in both regimes of our Fashion-MNIST "
                "benchmark (distilled 88% vs 86%, full 78% vs 76%).",
                1,
                1024,
                node_default=4,
            ),
            "acceptance": Hint(
                "What a proposal must beat: running_best = the paper's rule (the best reward "
                "the chain has seen, usually measured at a noisier level); step_best = the "
                "best of the step's first explore * quota proposals (same level).",
                options=ACCEPTANCE,
            ),
            "explore": Hint(
                "step_best: share of a step's quota proposed before the acceptance test "
                "starts (1/e is the secretary rule).",
                0.01,
                1.0,
                0.01,
            ),
        },
    ),
    "vt": MethodInfo(
        "FlowSearch_MethodVerifierThreshold",
        "Verifier-Threshold",
        "Verifier-Threshold (Sundaresha et al. 2025): RBF's quota and rollover, but a step "
        "advances as soon as a proposal's reward clears a fixed threshold.",
        {
            "threshold": Hint(
                "Reward a proposal must clear, in the verifier's own units. The default 0.9 "
                "suits probability-like scores (VQAScore); the core has no default because "
                "the scale depends on the verifier.",
                -1e6,
                1e6,
                0.01,
                node_default=0.9,
            ),
            "initial_particles": Hint(
                "Noises drawn per chain at the start (the chain starts from the best).",
                0,
                100000,
                none_means="0 = 5% of the budget per chain",
            ),
            "chains": Hint("Independent chains sharing the budget.", 1, 256),
            "proposal_batch": Hint("Proposals evaluated together per test.", 1, 1024),
        },
    ),
    "dts_star": MethodInfo(
        "FlowSearch_MethodDTSStar",
        "Diffusion Tree Search (DTS*)",
        "DTS* (Jain et al. 2025): a tree over denoising steps; expand the greedy best path "
        "where a node has room, roll out to the end, back the final reward up (soft Bellman).",
        {
            "children": Hint("Maximum children per node (the root's: initial noises).", 1, 1024),
            "lam": Hint("Soft-backup inverse temperature (1 / reward units).", 0.001, 1000.0, 0.01),
        },
    ),
    "dps": MethodInfo(
        "FlowSearch_MethodDPS",
        "DPS (gradient guidance)",
        "Best-of-N with gradient guidance (DPS): N trajectories whose score is tilted by "
        "guidance_scale * grad r(x0_hat); needs a differentiable verifier.",
        {},
    ),
}

SAMPLING_FIELDS = (
    Field(
        "sampling",
        "COMBO",
        "How particles are sampled. auto: by the connected model (FLUX.1-schnell and other "
        "few-step distilled models: the paper's VP-SDE, g = 3 s^2, adaptive grid; full models "
        "such as FLUX.1-dev: the linear-path SDE on the connected SIGMAS); the report says "
        "what it picked. A connected sampling_settings input wins over this.",
        "auto",
        options=("auto", *PRESETS),
    ),
    Field(
        "sampling_settings",
        SAMPLING_TYPE,
        "Optional: full control from a FlowSearch Sampling Mode node (interpolant, "
        "stochastic, diffusion, scale, grid, betas).",
        optional=True,
    ),
)


def option_fields(method: str) -> tuple[Field, ...]:
    """Widgets for the fields of ``METHODS[method]``'s options record."""
    record, _ = METHODS[method]
    types = typing.get_type_hints(record)
    fields = []
    for f in dataclasses.fields(record):
        if f.name == "guidance_scale":  # search-level in the core: see `guidance_field`
            continue
        hint = INFO[method].hints[f.name]
        if hint.fixed:
            continue
        kind = types[f.name]
        default = f.default if hint.node_default is None else hint.node_default
        if hint.none_means is not None:
            default = 0 if default is None else default
            kind = int
        if kind is bool:
            fields.append(Field(f.name, "BOOLEAN", hint.tooltip, default))
        elif kind is str:
            fields.append(Field(f.name, "COMBO", hint.tooltip, default, options=hint.options))
        else:
            tooltip = f"{hint.tooltip} ({hint.none_means})" if hint.none_means else hint.tooltip
            fields.append(
                Field(
                    f.name,
                    "INT" if kind is int else "FLOAT",
                    tooltip,
                    default,
                    min=hint.min,
                    max=hint.max,
                    step=hint.step,
                )
            )
    return tuple(fields)


def guidance_field(method: str) -> Field:
    default = GUIDANCE_DEFAULT.get(method, 0.0)
    return Field(
        "guidance_scale", "FLOAT", GUIDANCE_TIP, default, min=0.001 if default else 0.0,
        max=1000.0, step=0.01,
    )  # fmt: skip


def method_spec(method: str) -> NodeSpec:
    info = INFO[method]
    return NodeSpec(
        node_id=info.node_id,
        display_name=f"FlowSearch Method: {info.title}",
        category="FlowSearch/methods",
        description=info.description,
        inputs=(*option_fields(method), guidance_field(method), *SAMPLING_FIELDS),
        outputs=(Output("method", METHOD_TYPE, "Connect to FlowSearch Flow Search."),),
    )


METHOD_SPECS = {name: method_spec(name) for name in METHODS}
