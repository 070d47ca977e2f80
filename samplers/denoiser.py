"""A linear-path denoiser seen from another interpolant (a schedule change is a wrapper).

The project's denoiser contract: ``denoiser(x, t) -> x0_hat`` with ``x: [B, ...]`` in the
model's linear-path space and ``t: [B]`` model time in [0, 1] (t=1 noise) — ComfyUI's
``model(x, sigma * s_in)`` for a ``CONST`` model. On a path with ``x_s = c(s) x_t(s)``:

    x0_hat(x_s, s) = D(x_s / c(s), t(s)).
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from .interpolants import Interpolant

Denoiser = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


class PathDenoiser:
    """Evaluate a linear-path denoiser at interpolant time ``s`` and count evaluations.

    ``nfe`` counts per-particle evaluations (one NFE = one particle through the denoiser).
    Outputs are checked: same shape as the input and finite, else `ValueError`.
    """

    def __init__(self, denoiser: Denoiser, interpolant: Interpolant) -> None:
        if not callable(denoiser):
            raise ValueError(
                f"denoiser must be callable (x, t) -> x0_hat; got {type(denoiser).__name__}"
            )
        self.denoiser = denoiser
        self.interpolant = interpolant
        self.nfe = 0

    def __call__(self, x: torch.Tensor, s: float) -> torch.Tensor:
        t = self.interpolant.linear_time(s)
        scale = self.interpolant.linear_scale(s)
        x_model = x if scale == 1.0 else x / scale
        t_vec = torch.full(
            (x.shape[0],), t, dtype=torch.promote_types(x.dtype, torch.float32), device=x.device
        )
        x0_hat = self.denoiser(x_model, t_vec)
        self.nfe += x.shape[0]
        check_denoised(x0_hat, x, t)
        return x0_hat


def check_denoised(x0_hat: object, x: torch.Tensor, t: float) -> None:
    """Raise `ValueError` if the denoiser's output is not a finite tensor shaped like ``x``."""
    if not isinstance(x0_hat, torch.Tensor):
        raise ValueError(f"denoiser must return a torch.Tensor x0_hat; got {type(x0_hat).__name__}")
    if x0_hat.shape != x.shape:
        raise ValueError(
            f"denoiser returned shape {tuple(x0_hat.shape)} for input shape {tuple(x.shape)} at "
            f"t={t:.4f}; it must return x0_hat with the input's shape"
        )
    if not bool(torch.isfinite(x0_hat).all()):
        raise ValueError(
            f"denoiser returned NaN or inf at t={t:.4f}; check the model and its dtype"
        )
