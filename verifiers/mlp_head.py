"""The MLP reward head of the LAION aesthetic predictor and of ImageReward, checked on load.

Both store an ``nn.Sequential`` state dict under ``<prefix>N.{weight,bias}``:

- linearMSE layout (the usual aesthetic head ``sac+logos+ava1-l14-linearMSE.pth``,
  ``ava+logos-l14-linearMSE.pth`` and ImageReward's ``mlp.layers``): Linear layers at
  indices 0, 2, 4, 6, 7 (768→1024→128→64→16→1), Dropout between the first four, no
  activations;
- reluMSE layout (``ava+logos-l14-reluMSE.pth``): Linear at 0, 3, 6, 9, 11 with a ReLU
  after every Linear but the last.

`build_mlp_head` reads each layer's output width from the file and checks that the layers
chain: layer ``j`` takes ``in_features`` (``j = 0``) or layer ``j-1``'s output width, and
the last layer outputs one number. A missing or mis-shaped tensor is refused at load time
(`state_dicts.check_state_dict`), never when the first image is scored. Dropout slots
become ``nn.Identity`` (dropout is the identity at inference).
"""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

from .files import WeightSource
from .state_dicts import Shape, check_state_dict, shapes

LINEAR_LAYOUT = (0, 2, 4, 6, 7)
RELU_LAYOUT = (0, 3, 6, 9, 11)


def head_layout(state: dict[str, torch.Tensor], prefix: str) -> tuple[tuple[int, ...], bool]:
    """``(Linear indices, relu)`` of the head under ``prefix``; ValueError if no known layout
    contains the indices found (a layout with a missing layer is reported by the shape check)."""
    found = {
        int(k[len(prefix) :].split(".")[0])
        for k in state
        if k.startswith(prefix) and k[len(prefix) :].split(".")[0].isdigit()
    }
    for layout, relu in ((LINEAR_LAYOUT, False), (RELU_LAYOUT, True)):
        if found and found <= set(layout):
            return layout, relu
    raise ValueError(
        f"unknown MLP head layout: layers at {prefix}{sorted(found)}; expected Linear layers at "
        f"{list(LINEAR_LAYOUT)} (linearMSE heads, ImageReward) or {list(RELU_LAYOUT)} (reluMSE head)"
    )


def expected_head_shapes(
    state: dict[str, torch.Tensor], prefix: str, layout: tuple[int, ...], in_features: int | None
) -> dict[str, Shape]:
    """Shapes the head's tensors must have for the layers to chain.

    Each layer's output width is read from its own weight (or bias); its input width is the
    previous layer's output (``in_features`` for the first, or the file's if ``None``); the
    last layer's output width is 1."""
    expected: dict[str, Shape] = {}
    width = in_features  # None: not known (yet); -1 below marks a dimension nothing fixes
    for j, i in enumerate(layout):
        weight, bias = state.get(f"{prefix}{i}.weight"), state.get(f"{prefix}{i}.bias")
        w = tuple(weight.shape) if weight is not None and weight.ndim == 2 else None
        if width is None and w is not None:
            width = w[1]
        if j == len(layout) - 1:
            out = 1
        elif w is not None:
            out = w[0]
        elif bias is not None and bias.ndim == 1:
            out = int(bias.shape[0])
        else:
            out = None  # the layer is missing; the next one's input is read from its weight
        o, n = (-1 if out is None else out), (-1 if width is None else width)
        expected[f"{prefix}{i}.weight"] = (o, n)
        expected[f"{prefix}{i}.bias"] = (o,)
        width = out
    return expected


def build_mlp_head(
    state: dict[str, torch.Tensor],
    *,
    prefix: str = "layers.",
    in_features: int | None = None,
    file: str | Path = "<state dict>",
    source: WeightSource | None = None,
    note: str = "",
) -> nn.Sequential:
    """Check the head under ``prefix`` in ``state`` and rebuild it, loaded and in eval mode.

    ``in_features`` is the embedding width the head must take (CLIP projection or BLIP
    hidden size); ``None`` takes the first layer's. Returns an ``nn.Sequential`` whose
    indices match the file. ``note`` is added to the error message."""
    source = source or WeightSource("aesthetic", "MLP reward head", "an MLP reward head")
    layout, relu = head_layout(state, prefix)
    expected = expected_head_shapes(state, prefix, layout, in_features)
    found = {k: s for k, s in shapes(state).items() if k.startswith(prefix)}
    check_state_dict(expected, found, file=file, source=source, note=note)
    slots: list[nn.Module] = [nn.Identity() for _ in range(layout[-1] + 1)]
    for j, i in enumerate(layout):
        out_f, in_f = expected[f"{prefix}{i}.weight"]
        slots[i] = nn.Linear(in_f, out_f)
        if relu and j < len(layout) - 1:
            slots[i + 1] = nn.ReLU()
    head = nn.Sequential(*slots)
    head.load_state_dict({k[len(prefix) :]: state[k] for k in expected}, strict=True)
    return head.eval().requires_grad_(False)
