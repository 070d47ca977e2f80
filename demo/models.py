"""Load the shipped Fashion-MNIST models and adapt them to FlowSearch's contracts.

* `load_flow_model` + `flow_denoiser`: the project's denoiser contract
  ``denoise(x [B, 1, 32, 32], t [B]) -> x0_hat`` with ``x`` on the linear path
  ``x_t = (1 - t) x0 + t eps`` (t = 1 noise). The network predicts the velocity
  ``v = eps - x0``, so ``x0_hat = x_t - t v_theta(x_t, t)``.
* `load_classifier` + `classifier_reward`: classifier A's reward
  ``r(x0) = log p_A(c | clamp(x0, -1, 1))`` (higher is better, at most 0).

Images everywhere are in the model space ``[B, 1, 32, 32]`` in [-1, 1]
(`flowsearch.demo.data.to_model_space`). Nothing here downloads.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from .checkpoint import WEIGHTS_DIR, load_into, read_checkpoint
from .classifiers import NUM_CLASSES, JudgeConfig, JudgeResNet, VerifierCNN, VerifierConfig
from .unet import FlowUNet, UNetConfig

#: Shipped flow models: the teacher (a full model, many steps; the FLUX.1-dev regime) and
#: its reflow-distilled few-step student (the FLUX.1-schnell regime). See MODEL_CARD.md.
FLOW_WEIGHTS = {
    "teacher": WEIGHTS_DIR / "flow_unet.safetensors",
    "student": WEIGHTS_DIR / "flow_student.safetensors",
}
CLASSIFIER_WEIGHTS = {
    "a": WEIGHTS_DIR / "classifier_a.safetensors",
    "b": WEIGHTS_DIR / "classifier_b.safetensors",
}

Denoiser = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]
Reward = Callable[[torch.Tensor], torch.Tensor]


def _tuples(config: dict[str, object]) -> dict[str, object]:
    """JSON turns tuples into lists; the frozen configs want tuples back."""
    return {k: tuple(v) if isinstance(v, list) else v for k, v in config.items()}


def _finish(module: nn.Module, device: str | torch.device, dtype: torch.dtype) -> nn.Module:
    return module.to(device=device, dtype=dtype).eval().requires_grad_(False)


def load_flow_model(
    device: str | torch.device = "cpu",
    *,
    which: str = "teacher",
    path: str | Path | None = None,
    dtype: torch.dtype = torch.float32,
) -> FlowUNet:
    """A shipped flow model (EMA weights) in eval mode with gradients off for parameters.

    ``which="teacher"``: the full model (50 steps for its best samples); ``"student"``: the
    few-step model distilled from it (1-4 steps). ``path`` loads another checkpoint instead.
    Returns a `FlowUNet`: ``model(x [B, 1, 32, 32], t [B]) -> velocity [B, 1, 32, 32]``.
    Wrap it with `flow_denoiser` to get the denoiser the samplers and search methods use.
    """
    if which not in FLOW_WEIGHTS:
        raise ValueError(f"which={which!r} is not one of {sorted(FLOW_WEIGHTS)}")
    state, meta = read_checkpoint(path or FLOW_WEIGHTS[which])
    if meta["arch"] != "FlowUNet":
        raise ValueError(f"'{path}' holds a {meta['arch']!r}, not a FlowUNet checkpoint")
    model = FlowUNet(UNetConfig(**_tuples(json.loads(meta["config"]))))
    load_into(model, state)
    return _finish(model, device, dtype)


def flow_denoiser(model: nn.Module) -> Denoiser:
    """Adapt a velocity model to the denoiser contract ``denoise(x, t) -> x0_hat``.

    ``x [B, 1, 32, 32]`` on the linear path, ``t [B]`` (or a scalar) in [0, 1] with t = 1
    pure noise; returns ``x0_hat = x - t * v_theta(x, t)`` with the shape and dtype of ``x``.
    Gradients flow to ``x`` when the caller enables them (for gradient guidance).
    """
    param = next(model.parameters())

    def denoise(x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        t = torch.as_tensor(t, device=x.device)
        if t.dim() == 0:
            t = t.expand(x.shape[0])
        if t.shape != (x.shape[0],):
            raise ValueError(f"t must be [B] = [{x.shape[0]}] or a scalar, got {tuple(t.shape)}")
        v = model(x.to(device=param.device, dtype=param.dtype), t.to(param.device))
        tt = t.to(x.dtype).view(-1, 1, 1, 1)
        return x - tt * v.to(device=x.device, dtype=x.dtype)

    return denoise


def load_classifier(
    which: str,
    device: str | torch.device = "cpu",
    *,
    path: str | Path | None = None,
    dtype: torch.dtype = torch.float32,
) -> nn.Module:
    """Classifier ``"a"`` (`VerifierCNN`, the reward) or ``"b"`` (`JudgeResNet`, the judge).

    Returns the module in eval mode, parameters frozen: ``x [B, 1, 32, 32] -> logits [B, 10]``.
    """
    if which not in CLASSIFIER_WEIGHTS:
        raise ValueError(f"which={which!r} is not one of {sorted(CLASSIFIER_WEIGHTS)}")
    state, meta = read_checkpoint(path or CLASSIFIER_WEIGHTS[which])
    config = _tuples(json.loads(meta["config"]))
    if meta["arch"] == "VerifierCNN":
        model: nn.Module = VerifierCNN(VerifierConfig(**config))
    elif meta["arch"] == "JudgeResNet":
        model = JudgeResNet(JudgeConfig(**config))
    else:
        raise ValueError(f"unknown classifier architecture {meta['arch']!r} in the checkpoint")
    load_into(model, state)
    return _finish(model, device, dtype)


def classifier_reward(classifier_a: nn.Module, class_index: int) -> Reward:
    """Reward ``r(x0) = log softmax(A(clamp(x0, -1, 1)))[:, class_index]``, shape ``[B]``.

    ``x0 [B, 1, 32, 32]`` in the model space; values are <= 0, higher is better; the result
    is float32 on ``x0``'s device. Differentiable in ``x0`` (zero gradient where clamped).
    """
    if isinstance(class_index, bool) or not isinstance(class_index, int):
        raise ValueError(f"class_index must be an int in 0..9, got {class_index!r}")
    if not 0 <= class_index < NUM_CLASSES:
        raise ValueError(f"class_index={class_index} is out of range; use 0..{NUM_CLASSES - 1}")
    param = next(classifier_a.parameters())

    def reward(x0: torch.Tensor) -> torch.Tensor:
        if x0.dim() != 4 or x0.shape[1:] != (1, 32, 32):
            raise ValueError(f"x0 must be [B, 1, 32, 32], got {tuple(x0.shape)}")
        x = x0.clamp(-1.0, 1.0).to(device=param.device, dtype=param.dtype)
        logp = F.log_softmax(classifier_a(x).float(), dim=1)
        return logp[:, class_index].to(x0.device)

    return reward
