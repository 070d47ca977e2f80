"""Gradient guidance inside ComfyUI: leave inference mode, make the weights autograd-able.

ComfyUI executes every node under ``torch.inference_mode()``, so the weights its loaders
create are *inference tensors*, which autograd refuses to save for a backward pass
("Inference tensors cannot be saved for backward"), even when only the input needs a
gradient. A guided search (``guidance_scale > 0``) therefore runs with inference mode off,
after `make_autograd_ready` has replaced every inference-tensor parameter and buffer of
the diffusion model and of the reward's VAE by an ordinary tensor with the same values
(no value changes; a one-time copy per weight while it is replaced). Searches without
guidance never touch the weights.

ComfyUI's FLUX (and other models) also add in place into tensors that autograd saved for
the backward pass (``x += ...`` inside the blocks), which autograd refuses ("modified by an
inplace operation"). `GuidedScope` opens torch's ``allow_mutation_on_saved_tensors`` (a
saved tensor is cloned just before it is mutated, so the backward sees the value the
forward used) around each guided evaluation: from the guided model call, through the
reward (decode + verifier) and the backward pass, until the search's next event or model
call. Unguided evaluations and searches without guidance run outside it: the context
routes every tensor operation through a Python dispatch hook while it is open.
"""

from __future__ import annotations

import contextlib
import copy
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import torch


def make_autograd_ready(modules: Iterable[torch.nn.Module]) -> int:
    """Replace inference-tensor parameters/buffers (recursively) by normal copies; returns
    how many were replaced. Idempotent: a second call replaces nothing."""
    replaced = 0
    with torch.inference_mode(False):
        for root in modules:
            for module in root.modules():
                for name, p in list(module._parameters.items()):
                    if p is not None and p.is_inference():
                        module._parameters[name] = torch.nn.Parameter(
                            p.detach().clone(), requires_grad=False
                        )
                        replaced += 1
                for name, b in list(module._buffers.items()):
                    if b is not None and b.is_inference():
                        module._buffers[name] = b.clone()
                        replaced += 1
    return replaced


@contextlib.contextmanager
def autograd_allowed(enabled: bool) -> Iterator[None]:
    """Inference mode off (ordinary no-grad tensors) while ``enabled``; else nothing."""
    if not enabled:
        yield
        return
    with torch.inference_mode(False):
        yield


def normal_copy(t: torch.Tensor | None) -> torch.Tensor | None:
    """An ordinary (non-inference) copy of an input tensor for a guided run."""
    if t is None or not t.is_inference():
        return t
    with torch.inference_mode(False):
        return t.clone()


def with_normal_tensors(obj: object) -> object:
    """A shallow copy of ``obj`` whose inference-tensor attributes are ordinary copies (e.g.
    a model's latent format: Wan's ``latents_mean`` / ``latents_std``, which the reward's
    ``process_out`` multiplies by, so autograd saves them); ``obj`` itself is unchanged."""
    found = {k: v for k, v in vars(obj).items() if isinstance(v, torch.Tensor) and v.is_inference()}
    if not found:
        return obj
    out = copy.copy(obj)
    for name, tensor in found.items():
        setattr(out, name, normal_copy(tensor))
    return out


def modules_of(obj: object) -> list[torch.nn.Module]:
    """The torch modules a verifier (or an ensemble's members) holds as attributes."""
    if isinstance(obj, torch.nn.Module):
        return [obj]
    found = [v for v in vars(obj).values() if isinstance(v, torch.nn.Module)]
    for member in getattr(obj, "members", None) or ():
        found += modules_of(member)
    return found


class GuidedScope:
    """One ``allow_mutation_on_saved_tensors`` context per guided evaluation.

    The context must cover the forward *and* the backward of an evaluation (the backward
    reads what the forward saved) and cannot be nested. The core's guided evaluation is
    ``x0 = denoise(x)`` (grad on), ``r = reward(x0)``, ``grad(r.sum(), x)``, then an event;
    so a model call with a gradient-tracking input opens a fresh context (closing the last
    one), and the next event, an unguided model call or `close` ends it. ``evaluations``
    counts the contexts opened; ``active`` says whether one is open (an error raised while
    it is says the guided evaluation failed).
    """

    def __init__(self, guided_options: Callable[[dict], dict] | None = None) -> None:
        self._open: contextlib.AbstractContextManager | None = None
        self.state: Any = None  # torch's object for the open context (what it keeps)
        self.evaluations = 0
        self.guided_options = guided_options

    @property
    def active(self) -> bool:
        return self._open is not None

    def open(self) -> None:
        self.close()
        context = torch.autograd.graph.allow_mutation_on_saved_tensors()
        self.state = context.__enter__()
        self._open = context
        self.evaluations += 1

    def close(self) -> None:
        if self._open is not None:
            context, self._open, self.state = self._open, None, None
            context.__exit__(None, None, None)

    def wrap(self, model: Callable[..., torch.Tensor]) -> Callable[..., torch.Tensor]:
        """``model(x, sigma, **extra)`` that opens a context when ``x`` tracks gradients
        (and then passes ``guided_options(model_options)``, e.g. block checkpointing)."""

        def call(x: torch.Tensor, sigma: torch.Tensor, **extra: Any) -> torch.Tensor:
            if not (torch.is_grad_enabled() and x.requires_grad):
                self.close()
                return model(x, sigma, **extra)
            self.open()
            if self.guided_options is not None:
                extra["model_options"] = self.guided_options(extra.get("model_options") or {})
            return model(x, sigma, **extra)

        return call
