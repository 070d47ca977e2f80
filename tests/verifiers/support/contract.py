"""Property checks every `Verifier` must pass, shared by the verifier tests.

Each function raises ``AssertionError`` (via ``torch.testing``/``assert``) on a violation.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
import torch

from flowsearch.verifiers.base import Verifier
from flowsearch.verifiers.files import MissingWeightsError


def random_images(batch: int, height: int = 40, width: int = 56, seed: int = 0) -> torch.Tensor:
    """ComfyUI-layout test images ``[B, H, W, 3]`` in ``[0, 1]`` from a fixed generator."""
    g = torch.Generator().manual_seed(seed)
    return torch.rand(batch, height, width, 3, generator=g)


def check_output(v: Verifier, images: torch.Tensor, prompts: list[str]) -> torch.Tensor:
    """Scores are a finite float32 ``[B]`` on the images' device; returns them."""
    s = v(images, prompts)
    assert s.shape == (images.shape[0],)
    assert s.dtype == torch.float32
    assert s.device == images.device
    assert bool(torch.isfinite(s).all())
    return s


def check_batch_invariance(
    v: Verifier, images: torch.Tensor, prompts: list[str], atol: float = 1e-5
) -> None:
    """One batch, one image at a time, and chunks of 2 give the same scores (and are repeatable)."""
    whole = v(images, prompts)
    single = torch.cat([v(images[i : i + 1], prompts[i]) for i in range(images.shape[0])])
    torch.testing.assert_close(whole, single, atol=atol, rtol=1e-4)
    saved = v.batch_size
    try:
        v.batch_size = 2
        torch.testing.assert_close(v(images, prompts), whole, atol=atol, rtol=1e-4)
    finally:
        v.batch_size = saved
    assert torch.equal(v(images, prompts), whole), "two identical calls differ"


def check_gradient(v: Verifier, images: torch.Tensor, prompts: list[str]) -> torch.Tensor:
    """For a differentiable verifier, d(sum of scores)/d(pixels) exists, is finite and non-zero."""
    assert v.differentiable
    x = images.clone().requires_grad_(True)
    v(x, prompts).sum().backward()
    assert x.grad is not None and x.grad.shape == x.shape
    assert bool(torch.isfinite(x.grad).all())
    assert float(x.grad.abs().sum()) > 0
    return x.grad


def check_bad_inputs(v: Verifier, images: torch.Tensor, prompts: list[str]) -> None:
    """Wrong layout/range/dtype, an empty batch, NaN pixels, wrong prompt count -> ValueError."""
    bad_nan = images.clone()
    bad_nan[0, 0, 0, 0] = float("nan")
    cases: list[tuple[torch.Tensor, object, str]] = [
        (images.permute(0, 3, 1, 2), prompts, "layout"),
        (images[0], prompts[:1], "layout"),
        (images * 2 - 1, prompts, r"\[0, 1\]"),
        ((images * 255).to(torch.uint8), prompts, "float"),
        (images[:0], [], "empty"),
        (bad_nan, prompts, "NaN"),
        (images, prompts + ["extra"], "prompts"),
        (images, prompts[:-1], "prompts"),
    ]
    for x, p, match in cases:
        with pytest.raises(ValueError, match=match):
            v(x, p)


def check_contract(v: Verifier, images: torch.Tensor, prompts: list[str]) -> torch.Tensor:
    """All interface checks on one verifier: output, batch invariance, the gradient (when it
    declares itself differentiable) and bad inputs. Returns the scores."""
    scores = check_output(v, images, prompts)
    check_batch_invariance(v, images, prompts)
    if v.differentiable:
        check_gradient(v, images, prompts)
    check_bad_inputs(v, images, prompts)
    return scores


def check_missing_weights(load: Callable[..., object], path, model_id: str, folder: str) -> str:
    """Loading from ``path`` raises `MissingWeightsError` naming the path, the public model id,
    the folder ``models/verifiers/<folder>`` and the family's docs page."""
    with pytest.raises(MissingWeightsError) as info:
        load(path)
    msg = str(info.value)
    assert str(path) in msg, msg
    assert model_id in msg, msg
    assert f"models/verifiers/{folder}" in msg, msg
    assert f"docs/verifiers/{folder.split('/')[0]}.md" in msg, msg
    return msg
