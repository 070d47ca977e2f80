"""Verifier nodes that need no loading: Score Images and Verifier Ensemble."""

from __future__ import annotations

import comfy.model_management
import torch
from comfy_api.latest import io

from ..verifiers import Ensemble
from .catalog_search import ENSEMBLE, SCORE_IMAGES
from .comfy_schema import SpecNode
from .verifier_use import check_prompt, rank, scores_json


class FlowSearchScoreImages(SpecNode):
    """Rank an IMAGE batch with a VERIFIER."""

    SPEC = SCORE_IMAGES

    @classmethod
    def execute(cls, images: torch.Tensor, verifier, prompt: str) -> io.NodeOutput:
        text = check_prompt(verifier, prompt, "FlowSearch Score Images")
        with torch.no_grad():
            scores = verifier(images, text).detach().float().cpu()
        order = rank(scores)
        device = comfy.model_management.intermediate_device()
        ranked = images[order.to(images.device)].to(device)
        return io.NodeOutput(
            ranked, ranked[:1], [float(scores[i]) for i in order], scores_json(order, scores)
        )


class FlowSearchVerifierEnsemble(SpecNode):
    """2-4 verifiers -> one (mean rank or weighted z-scores)."""

    SPEC = ENSEMBLE

    @classmethod
    def checks(cls, values: dict) -> list[str]:
        weights = [values.get(f"weight_{i}") for i in range(1, 5) if f"verifier_{i}" in values]
        if weights and all(w == 0.0 for w in weights):
            return ["every connected member has weight 0; give at least one a non-zero weight"]
        return []

    @classmethod
    def execute(
        cls,
        verifier_1,
        weight_1: float,
        verifier_2,
        weight_2: float,
        weight_3: float,
        weight_4: float,
        mode: str,
        verifier_3=None,
        verifier_4=None,
    ) -> io.NodeOutput:
        pairs = [
            (verifier_1, weight_1),
            (verifier_2, weight_2),
            (verifier_3, weight_3),
            (verifier_4, weight_4),
        ]
        members = [(v, w) for v, w in pairs if v is not None]
        ensemble = Ensemble([v for v, _ in members], weights=[w for _, w in members], mode=mode)
        return io.NodeOutput(ensemble)
