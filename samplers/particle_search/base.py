"""Shared pieces of the search methods: option records and population helpers."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from .context import Evaluated


@dataclass(frozen=True)
class Outcome:
    """A method's final population (samples in ``x0_hat``) and optional importance weights."""

    final: Evaluated
    weights: torch.Tensor | None = None


def need(condition: bool, message: str) -> None:
    """`ValueError` for a bad method option (user input, not an internal invariant)."""
    if not condition:
        raise ValueError(message)


def budget_error(method: str, nfe_budget: int, minimum: int, why: str) -> ValueError:
    return ValueError(
        f"nfe_budget={nfe_budget} is too small for method '{method}': the minimum is {minimum} ({why})"
    )
