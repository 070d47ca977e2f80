"""Block checkpointing for guided evaluations (host-free): a toy model shaped like ComfyUI's
(a loop over blocks that hands each block patch an ``original_block`` closure over the loop
variable; blocks that add into their inputs in place) gives the same output and gradient
with and without checkpointing, and keeps only the blocks' inputs for the backward."""

from __future__ import annotations

import torch

from flowsearch.nodes.autograd import GuidedScope
from flowsearch.nodes.checkpointing import checkpointed_options, pinned_closure


class Block(torch.nn.Module):
    def __init__(self, seed: int) -> None:
        super().__init__()
        g = torch.Generator().manual_seed(seed)
        self.w = torch.nn.Parameter(torch.randn(4, 4, generator=g) / 2, requires_grad=False)

    def forward(self, img: torch.Tensor, vec: torch.Tensor) -> torch.Tensor:
        h = torch.tanh(img @ self.w)  # saves its output
        img += h * vec  # in place, into the input, as ComfyUI's FLUX blocks do
        h += 1  # in place into a saved tensor
        return img * h


class ToyModel(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.blocks = torch.nn.ModuleList(Block(i) for i in range(3))

    def forward(self, x: torch.Tensor, transformer_options: dict) -> torch.Tensor:
        replace = transformer_options.get("patches_replace", {}).get("dit", {})
        vec = torch.full((4,), 0.5)
        x = x * 1.0  # the input layer (FLUX's img_in)
        for i, block in enumerate(self.blocks):
            if ("double_block", i) in replace:

                def block_wrap(args):  # reads the loop variable `block` when called
                    return {"img": block(args["img"], args["vec"])}  # noqa: B023

                x = replace[("double_block", i)](
                    {"img": x, "vec": vec}, {"original_block": block_wrap}
                )["img"]
            else:
                x = block(x, vec)
        return x


KEYS = [("double_block", i) for i in range(3)]


def grad_and_saved(model: ToyModel, x: torch.Tensor, options: dict) -> tuple:
    scope = GuidedScope(lambda o: checkpointed_options(o, KEYS) if options else o)
    call = scope.wrap(
        lambda x, sigma, model_options: model(x, model_options.get("transformer_options", {}))
    )
    xg = x.clone().requires_grad_(True)
    try:
        with torch.enable_grad():
            out = call(xg, torch.ones(1), model_options={})
            kept = len(scope.state.original)  # tensors kept for the backward
            (g,) = torch.autograd.grad(out.square().sum(), xg)
    finally:
        scope.close()
    return out.detach(), g, kept


def test_checkpointed_blocks_give_the_same_output_and_gradient_keeping_less():
    model, x = ToyModel(), torch.randn(2, 4, dtype=torch.float32)
    out, g, kept = grad_and_saved(model, x, {})
    out_c, g_c, kept_c = grad_and_saved(model, x, {"checkpoint": True})
    assert torch.equal(out, out_c) and torch.equal(g, g_c)
    assert kept_c < kept  # the inputs of 3 blocks instead of every activation


def test_pinned_closure_keeps_the_block_the_loop_meant():
    fns = []
    for i in range(3):

        def late():
            return i  # noqa: B023

        fns.append((late, pinned_closure(late)))
    assert [f() for f, _ in fns] == [2, 2, 2]  # late binding: every closure sees the last i
    assert [p() for _, p in fns] == [0, 1, 2]


def test_options_are_copied_and_existing_patches_run_inside():
    seen = []

    def other(args, extra):
        seen.append(args["img"].shape)
        return extra["original_block"](args)

    options = {"transformer_options": {"patches_replace": {"dit": {("double_block", 1): other}}}}
    new = checkpointed_options(options, KEYS)
    assert options["transformer_options"]["patches_replace"]["dit"] == {("double_block", 1): other}
    model, x = ToyModel(), torch.randn(2, 4)
    xg = x.clone().requires_grad_(True)
    scope = GuidedScope()
    try:
        with torch.enable_grad():
            out = scope.wrap(lambda x, s: model(x, new["transformer_options"]))(xg, torch.ones(1))
            torch.autograd.grad(out.sum(), xg)
    finally:
        scope.close()
    assert len(seen) == 2  # the other patch ran in the forward and in the recompute
    torch.testing.assert_close(out.detach(), model(x.clone(), {}))
    assert checkpointed_options(options, []) is options
