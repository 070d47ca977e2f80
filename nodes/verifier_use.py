"""Small helpers around a VERIFIER inside nodes: prompt rules and ranking (host-free)."""

from __future__ import annotations

import json
from typing import Any

import torch

#: Verifier families that ignore the prompt (everything else scores images against it).
PROMPTLESS = ("aesthetic", "safety")


def needs_prompt(verifier: Any) -> bool:
    """Does this verifier score images against the prompt? Ensembles: if any member does."""
    flag = getattr(verifier, "needs_prompt", None)
    if flag is not None:
        return bool(flag)
    members = getattr(verifier, "members", None)
    if members:
        return any(needs_prompt(m) for m in members)
    return getattr(verifier, "name", "") not in PROMPTLESS


def check_prompt(verifier: Any, prompt: str, node: str) -> str:
    """The prompt, stripped; an empty prompt for a text-conditioned verifier is an error."""
    text = prompt.strip()
    if not text and needs_prompt(verifier):
        name = getattr(verifier, "name", type(verifier).__name__)
        raise ValueError(
            f"{node}: the prompt is empty, but the verifier '{name}' scores images against "
            "a prompt; type what the images should show into the node's prompt box"
        )
    return text


def rank(scores: torch.Tensor) -> torch.Tensor:
    """Indices ordering ``scores`` best first; NaN scores last; ties keep batch order."""
    s = scores.detach().to(torch.float64).cpu().clone()
    s[torch.isnan(s)] = -torch.inf
    return torch.argsort(s, descending=True, stable=True)


def scores_json(order: torch.Tensor, scores: torch.Tensor) -> str:
    """``[{"index": i, "score": s}, ...]`` best first; non-finite scores become null."""
    rows = []
    for i in order.tolist():
        v = float(scores[i])
        rows.append({"index": i, "score": v if v == v and abs(v) != float("inf") else None})
    return json.dumps(rows)
