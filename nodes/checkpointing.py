"""Activation checkpointing of transformer blocks for guided evaluations.

A guided evaluation keeps every activation of the forward pass until its backward: for
FLUX.1 (12 B, bf16) that is ~13 GiB per particle at 512 px and ~40 GiB at 1024 px
(benchmarks/README.md). With checkpointing each transformer block runs its forward without
keeping anything but its inputs, and runs again inside the backward to rebuild its own
activations (one extra forward per guided evaluation, ~+30 % of its time), so a particle
keeps only the blocks' inputs plus one block's activations.

It goes through ComfyUI's own per-block hook, ``transformer_options["patches_replace"]["dit"]``
keyed ``("double_block", i)`` / ``("single_block", i)``, which FLUX (``double_blocks`` and
``single_blocks``) and Wan (``blocks``) call with the block's inputs and the original block.
Replacements already there (other nodes' patches) run inside the checkpoint. Only the
``model_options`` of guided model calls are changed, on a copy; the model is not patched.
Models without these hooks run unchanged (no checkpointing).

`BlockCheckpoint` runs the block under ``no_grad`` and keeps its inputs; its backward re-runs
the block with gradients and back-propagates through it, inside the guided evaluation's
``allow_mutation_on_saved_tensors`` context (`autograd.GuidedScope`), which covers the
in-place adds inside ComfyUI's blocks.
"""

from __future__ import annotations

import types
from collections.abc import Callable
from typing import Any

import torch

BlockReplace = Callable[[dict[str, Any], dict[str, Any]], dict[str, Any]]


def block_keys(diffusion_model: Any) -> list[tuple[str, int]]:
    """The ``patches_replace["dit"]`` keys this diffusion model calls (empty: no hooks)."""
    name = type(diffusion_model).__module__
    if name.startswith("comfy.ldm.flux."):
        doubles = len(getattr(diffusion_model, "double_blocks", ()))
        singles = len(getattr(diffusion_model, "single_blocks", ()))
        return [("double_block", i) for i in range(doubles)] + [
            ("single_block", i) for i in range(singles)
        ]
    if name.startswith("comfy.ldm.wan."):
        return [("double_block", i) for i in range(len(getattr(diffusion_model, "blocks", ())))]
    return []


def checkpointed_options(model_options: dict[str, Any], keys: list[tuple[str, int]]) -> dict:
    """A copy of ``model_options`` whose blocks ``keys`` run under activation checkpointing
    (the dicts on the way to ``patches_replace["dit"]`` are copied, nothing else)."""
    if not keys:
        return model_options
    options = dict(model_options)
    transformer = dict(options.get("transformer_options", {}))
    replace = dict(transformer.get("patches_replace", {}))
    dit = dict(replace.get("dit", {}))
    for key in keys:
        dit[key] = checkpointed_block(dit.get(key))
    replace["dit"] = dit
    transformer["patches_replace"] = replace
    options["transformer_options"] = transformer
    return options


def checkpointed_block(inner: BlockReplace | None) -> BlockReplace:
    """A ``patches_replace`` function running ``inner`` (or the original block) checkpointed
    when gradients are on; as is otherwise."""

    def replace(args: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
        # the backward re-runs the block after the model's loop has moved on: pin the block
        # the loop's `original_block` closure refers to now
        pinned = dict(extra, original_block=pinned_closure(extra["original_block"]))

        def run(a: dict[str, Any]) -> dict[str, Any]:
            return inner(a, pinned) if inner is not None else pinned["original_block"](a)

        if not torch.is_grad_enabled():
            return run(args)
        names = [k for k, v in args.items() if isinstance(v, torch.Tensor)]
        out_names: list[str] = []

        def block(*tensors: torch.Tensor) -> tuple[torch.Tensor, ...]:
            out = run(dict(args, **dict(zip(names, tensors, strict=True))))
            out_names[:] = sorted(out)
            return tuple(out[k] for k in out_names)

        outs = BlockCheckpoint.apply(block, *(args[k] for k in names))
        return dict(zip(out_names, outs, strict=True))

    return replace


def pinned_closure(fn: Callable) -> Callable:
    """``fn`` with its closure's current values fixed. ComfyUI's models define the
    ``original_block`` they hand to a block patch inside their loop over blocks, reading the
    loop variable ``block`` when called; a later call would run a later block."""
    cells = getattr(fn, "__closure__", None)
    if not cells or not isinstance(fn, types.FunctionType):
        return fn
    fixed = tuple(types.CellType(c.cell_contents) for c in cells)
    return types.FunctionType(fn.__code__, fn.__globals__, fn.__name__, fn.__defaults__, fixed)


class BlockCheckpoint(torch.autograd.Function):
    """``block(*inputs) -> outputs`` keeping only its inputs; the backward re-runs it with
    gradients and back-propagates through it (compatible with ``torch.autograd.grad``,
    which torch's own reentrant checkpoint is not). The block always runs on copies of the
    inputs: ComfyUI's blocks add into their inputs in place and may return them."""

    @staticmethod
    def forward(ctx: Any, block: Callable[..., tuple], *inputs: torch.Tensor) -> tuple:
        ctx.block = block
        ctx.save_for_backward(*inputs)
        with torch.no_grad():
            return tuple(block(*(t.clone() for t in inputs)))

    @staticmethod
    def backward(ctx: Any, *grads: torch.Tensor | None) -> tuple:
        inputs = [t.detach().requires_grad_(t.requires_grad) for t in ctx.saved_tensors]
        with torch.enable_grad():
            outs = ctx.block(*(t.clone() for t in inputs))
        pairs = [
            (o, g) for o, g in zip(outs, grads, strict=True) if g is not None and o.requires_grad
        ]
        wanted = [t for t in inputs if t.requires_grad]
        found = iter(
            torch.autograd.grad(
                [o for o, _ in pairs], wanted, [g for _, g in pairs], allow_unused=True
            )
            if pairs and wanted
            else [None] * len(wanted)
        )
        return (None, *(next(found) if t.requires_grad else None for t in inputs))
