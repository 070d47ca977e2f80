"""Gradient guidance inside ComfyUI: leave inference mode, make the weights autograd-able.

ComfyUI executes every node under ``torch.inference_mode()``, so the weights its loaders
create are *inference tensors*, which autograd refuses to save for a backward pass
("Inference tensors cannot be saved for backward"), even when only the input needs a
gradient. A guided search (``guidance_scale > 0``) therefore runs with inference mode off,
after `make_autograd_ready` has replaced every inference-tensor parameter and buffer of
the diffusion model and of the reward's VAE by an ordinary tensor with the same values
(no value changes; a one-time copy per weight while it is replaced). Searches without
guidance never touch the weights.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator

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


def modules_of(obj: object) -> list[torch.nn.Module]:
    """The torch modules a verifier (or an ensemble's members) holds as attributes."""
    if isinstance(obj, torch.nn.Module):
        return [obj]
    found = [v for v in vars(obj).values() if isinstance(v, torch.nn.Module)]
    for member in getattr(obj, "members", None) or ():
        found += modules_of(member)
    return found
