"""Train the unconditional Fashion-MNIST flow model: ``python training/train_flow.py``.

Objective (linear path, t = 1 noise, ComfyUI convention): for a training image ``x0`` in
the model space ``[B, 1, 32, 32]`` in [-1, 1], ``eps ~ N(0, I)`` and ``t ~ U(0, 1)``
(stratified over the batch), ``x_t = (1 - t) x0 + t eps``; the network regresses the
velocity ``v = eps - x0`` with the mean squared error. The denoiser is then
``x0_hat = x_t - t v_theta(x_t, t)`` (see `flowsearch.demo.models.flow_denoiser`).

AdamW, linear warm-up then cosine decay of the learning rate, an exponential moving average
(EMA) of the weights; the EMA weights are saved in fp16 with the run's numbers as metadata.
"""

from __future__ import annotations

import argparse
import copy
import math
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch
from torch import nn

from flowsearch.demo.checkpoint import WEIGHTS_DIR, save_module
from flowsearch.demo.data import load_fashion_mnist, to_model_space
from flowsearch.demo.unet import FlowUNet, UNetConfig


@dataclass(frozen=True)
class FlowTrainConfig:
    """Hyper-parameters of one training run (defaults = the shipped model)."""

    steps: int = 3000
    batch: int = 128
    lr: float = 2e-3
    warmup: int = 200
    weight_decay: float = 0.0
    ema_decay: float = 0.999
    seed: int = 0
    threads: int = 2
    log_every: int = 50
    unet: UNetConfig = field(default_factory=UNetConfig)


def flow_matching_loss(
    model: nn.Module,
    x0: torch.Tensor,
    generator: torch.Generator,
    noise: torch.Tensor | None = None,
) -> torch.Tensor:
    """Mean squared velocity error ``|v_theta(x_t, t) - (eps - x0)|^2`` on one batch, on the
    line ``x_t = (1 - t) x0 + t eps``.

    ``t`` is stratified uniform: ``t_i = (i + u) / B`` in a random order, ``u ~ U(0, 1)``.
    ``eps`` is fresh Gaussian noise, or ``noise`` when given (reflow: the noise each ``x0``
    was generated from).
    """
    b = x0.shape[0]
    u = torch.rand((), generator=generator)
    t = (torch.randperm(b, generator=generator).to(torch.float32) + u) / b
    eps = torch.randn(x0.shape, generator=generator) if noise is None else noise
    tt = t[:, None, None, None]
    xt = (1.0 - tt) * x0 + tt * eps
    return (model(xt, t) - (eps - x0)).square().mean()


def lr_at(step: int, cfg: FlowTrainConfig) -> float:
    """Learning rate at ``step``: linear warm-up over ``cfg.warmup`` steps, then cosine to 0."""
    if step < cfg.warmup:
        return cfg.lr * (step + 1) / cfg.warmup
    frac = (step - cfg.warmup) / max(1, cfg.steps - cfg.warmup)
    return cfg.lr * 0.5 * (1.0 + math.cos(math.pi * frac))


@torch.no_grad()
def ema_update(ema: nn.Module, model: nn.Module, decay: float) -> None:
    """``ema <- decay * ema + (1 - decay) * model`` for every parameter and buffer."""
    for e, p in zip(ema.state_dict().values(), model.state_dict().values(), strict=True):
        if e.is_floating_point():
            e.lerp_(p, 1.0 - decay)
        else:
            e.copy_(p)


@torch.no_grad()
def eval_loss(model: nn.Module, x0: torch.Tensor, seed: int = 1234, batch: int = 500) -> float:
    """Flow-matching loss on ``x0`` with a fixed generator (comparable across runs)."""
    gen = torch.Generator().manual_seed(seed)
    model.eval()
    total = 0.0
    for i in range(0, x0.shape[0], batch):
        chunk = x0[i : i + batch]
        total += flow_matching_loss(model, chunk, gen).item() * chunk.shape[0]
    return total / x0.shape[0]


def train_flow(cfg: FlowTrainConfig, out: Path | None) -> dict[str, object]:
    """Train, print the loss every ``cfg.log_every`` steps, save EMA weights to ``out``."""
    torch.set_num_threads(cfg.threads)
    torch.manual_seed(cfg.seed)
    gen = torch.Generator().manual_seed(cfg.seed)
    images, _ = load_fashion_mnist("train")
    data = to_model_space(images)
    test = to_model_space(load_fashion_mnist("test")[0][:2000])
    model = FlowUNet(cfg.unet)
    ema = copy.deepcopy(model).eval().requires_grad_(False)
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    n_params = sum(p.numel() for p in model.parameters())
    print(f"FlowUNet {cfg.unet} params={n_params} steps={cfg.steps} batch={cfg.batch}")
    start, running = time.perf_counter(), 0.0
    for step in range(cfg.steps):
        for group in opt.param_groups:
            group["lr"] = lr_at(step, cfg)
        idx = torch.randint(0, data.shape[0], (cfg.batch,), generator=gen)
        model.train()
        loss = flow_matching_loss(model, data[idx], gen)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        ema_update(ema, model, min(cfg.ema_decay, (1 + step) / (10 + step)))
        running += loss.item()
        if (step + 1) % cfg.log_every == 0:
            elapsed = time.perf_counter() - start
            eta = elapsed / (step + 1) * (cfg.steps - step - 1)
            print(
                f"step {step + 1:6d}  loss {running / cfg.log_every:.4f}  "
                f"lr {lr_at(step, cfg):.2e}  {elapsed:6.0f}s  eta {eta:5.0f}s",
                flush=True,
            )
            running = 0.0
    wall = time.perf_counter() - start
    stats = {
        "params": n_params,
        "steps": cfg.steps,
        "wall_seconds": round(wall, 1),
        "final_train_loss": round(loss.item(), 4),
        "test_loss_ema": round(eval_loss(ema, test), 4),
        "test_loss_raw": round(eval_loss(model, test), 4),
    }
    print(stats)
    if out is not None:
        save_module(
            ema,
            out,
            arch="FlowUNet",
            config=cfg.unet.to_dict(),
            extra={"train": asdict(cfg), "stats": stats},
        )
        print(f"wrote {out}")
    return stats


def main(argv: list[str] | None = None) -> None:
    """Command line: ``--steps``, ``--batch``, ``--lr``, ``--seed``, ``--threads``, ``--out``."""
    d = FlowTrainConfig()
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=d.steps)
    ap.add_argument("--batch", type=int, default=d.batch)
    ap.add_argument("--lr", type=float, default=d.lr)
    ap.add_argument("--seed", type=int, default=d.seed)
    ap.add_argument("--threads", type=int, default=d.threads)
    ap.add_argument("--channels", type=int, nargs="+", default=list(d.unet.channels))
    ap.add_argument("--blocks", type=int, default=d.unet.blocks_per_level)
    ap.add_argument("--out", type=Path, default=WEIGHTS_DIR / "flow_unet.safetensors")
    args = ap.parse_args(argv)
    unet = UNetConfig(channels=tuple(args.channels), blocks_per_level=args.blocks)
    cfg = FlowTrainConfig(
        steps=args.steps,
        batch=args.batch,
        lr=args.lr,
        seed=args.seed,
        threads=args.threads,
        unet=unet,
    )
    train_flow(cfg, args.out)


if __name__ == "__main__":
    main()
