"""`GuidedScope`: torch's ``allow_mutation_on_saved_tensors`` around each guided evaluation
and nothing else (host-free, with a toy model that mutates a saved tensor like FLUX)."""

from __future__ import annotations

import pytest
import torch

from flowsearch.nodes.autograd import GuidedScope, with_normal_tensors
from flowsearch.samplers.interpolants import LinearInterpolant
from flowsearch.samplers.particle_search.guidance import guided_x0

INPLACE = "modified by an inplace operation"


def toy_model(x: torch.Tensor, sigma: torch.Tensor) -> torch.Tensor:
    """``sin(2x) * (2x + 1)``, computed the way ComfyUI's FLUX blocks add: in place into a
    tensor autograd saved for the backward of ``sin``."""
    h = x * 2
    y = h.sin()  # saves h
    h += 1
    return y * h


def toy_grad(x: torch.Tensor) -> torch.Tensor:
    return 2 * torch.cos(2 * x) * (2 * x + 1) + 2 * torch.sin(2 * x)


def evaluate(model, x: torch.Tensor) -> torch.Tensor:
    """The core's guided evaluation in miniature: forward with grad, then the backward."""
    xg = x.clone().requires_grad_(True)
    with torch.enable_grad():
        (g,) = torch.autograd.grad(model(xg, torch.ones(1)).sum(), xg)
    return g


def test_without_the_scope_autograd_refuses_the_inplace_add():
    with pytest.raises(RuntimeError, match=INPLACE):
        evaluate(toy_model, torch.randn(3))


def test_a_wrapped_model_differentiates_exactly_and_the_context_stays_until_closed():
    scope = GuidedScope()
    x = torch.randn(5, dtype=torch.float64)
    g = evaluate(scope.wrap(toy_model), x)
    assert scope.active and scope.evaluations == 1
    torch.testing.assert_close(g, toy_grad(x))
    scope.close()
    assert not scope.active
    with pytest.raises(RuntimeError, match=INPLACE):  # really closed
        evaluate(toy_model, x)


def test_unguided_calls_open_nothing_and_close_an_open_context():
    scope = GuidedScope()
    wrapped = scope.wrap(toy_model)
    with torch.no_grad():
        wrapped(torch.randn(3), torch.ones(1))
    assert not scope.active and scope.evaluations == 0
    evaluate(wrapped, torch.randn(3))
    assert scope.active
    with torch.no_grad():
        wrapped(torch.randn(3), torch.ones(1))
    assert not scope.active and scope.evaluations == 1


def test_each_guided_call_gets_a_fresh_context_never_nested():
    scope = GuidedScope()
    wrapped = scope.wrap(toy_model)
    for _ in range(3):  # a nested context would raise "cannot be nested"
        evaluate(wrapped, torch.randn(4))
    assert scope.evaluations == 3
    scope.close()
    scope.close()  # idempotent


def test_the_cores_guided_evaluation_through_the_scope():
    """`guided_x0` (the core's forward + reward + backward) with the wrapped model: the
    guided estimate moves along the reward's gradient, exactly."""
    scope = GuidedScope()
    x = torch.randn(2, 3, dtype=torch.float64)
    c = LinearInterpolant().coefficients(0.5)
    x0, x0_g, r = guided_x0(
        lambda xg: scope.wrap(toy_model)(xg, torch.ones(1)), lambda z: z.sum(dim=1), x, c, 2.0
    )
    scope.close()
    torch.testing.assert_close(x0_g - x0, (c.sigma_t**2 / c.alpha_t) * 2.0 * toy_grad(x))
    torch.testing.assert_close(r, x0.sum(dim=1))


def test_with_normal_tensors_copies_inference_attributes_and_leaves_the_original():
    class LatentFormat:
        scale = 0.5

    with torch.inference_mode():
        fmt = LatentFormat()
        fmt.mean = torch.arange(3.0)
    copy = with_normal_tensors(fmt)
    assert copy is not fmt and fmt.mean.is_inference() and not copy.mean.is_inference()
    assert torch.equal(copy.mean, fmt.mean) and copy.scale == 0.5
    x = torch.ones(3, requires_grad=True)
    (x * copy.mean).sum().backward()  # autograd may save it now
    assert torch.equal(x.grad, fmt.mean)
    plain = LatentFormat()
    assert with_normal_tensors(plain) is plain  # nothing to copy
