"""Distil the shipped Fashion-MNIST flow model into a few-step student by reflow.

    python training/train_student.py [--quick] [--pairs N] [--steps N] [--threads 2]

Reflow (Liu et al., "Flow Straight and Fast", 2022) in our convention (t = 1 noise):

1. **Pairs.** Draw ``z ~ N(0, I)`` and integrate the teacher's probability-flow ODE from
   t = 1 to 0 (linear path, Euler, ``teacher_steps`` uniform steps): ``x0 = T(z)``. The
   coupling ``(x0, z)`` is deterministic.
2. **Fine-tune.** Starting from the teacher's weights, regress the velocity of the straight
   line between the pair, ``x_t = (1 - t) x0 + t z``, target ``v = z - x0``:
   ``L = E |v_theta(x_t, t) - (z - x0)|^2`` with t stratified uniform over the batch. The
   student's denoiser ``x0_hat = x_t - t v_theta(x_t, t)`` then predicts the *pair's* end
   point, which is sharp already at large t (the paths barely cross), so few Euler steps
   suffice and the look-ahead estimate at t = 0.7 is already an image of one class.

What this costs: ``pairs * teacher_steps`` teacher NFEs (cached in ``--cache``), then
``steps`` training steps of the same U-Net. The student keeps the teacher's architecture
(1.39 M parameters, 2.8 MB in fp16). Its ``x0_hat`` is *not* the posterior mean of the
independent linear path any more (the coupling changed the marginals of ``x_t``), so the
SDE conversions use a score that is only approximately right -- exactly the situation of
distilled models such as FLUX.1-schnell that the benchmark studies.

After training the script measures what the model card reports (`evaluate`): Fréchet
distance in classifier-B features at 1, 2, 4 and 10 steps against the teacher at 50 steps,
the class histogram, and how often classifier B recognises the look-ahead ``x0_hat`` at
t = 0.7. ``--quick`` runs every phase on tiny sizes and writes nothing unless ``--out``.
"""

from __future__ import annotations

import argparse
import copy
import json
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import torch
from torch import nn
from train_flow import flow_matching_loss  # training/ is on sys.path: a sibling script

from flowsearch.demo.checkpoint import WEIGHTS_DIR, save_module
from flowsearch.demo.data import load_fashion_mnist, to_model_space
from flowsearch.demo.models import flow_denoiser, load_classifier, load_flow_model
from flowsearch.demo.quality import classifier_features, generate, sample_quality
from flowsearch.samplers import sample

CACHE = Path(__file__).resolve().parent / ".cache"


@dataclass(frozen=True)
class StudentConfig:
    """Hyper-parameters of one distillation run (defaults = the shipped student)."""

    pairs: int = 20000
    teacher_steps: int = 50
    steps: int = 1500
    batch: int = 128
    lr: float = 5e-4
    warmup: int = 100
    ema_decay: float = 0.999
    seed: int = 0
    threads: int = 1
    log_every: int = 100


@torch.no_grad()
def teacher_pairs(
    denoiser, n: int, steps: int, seed: int, batch: int = 500
) -> tuple[torch.Tensor, torch.Tensor]:
    """``(z, x0)``, both ``[n, 1, 32, 32]``: noise and the teacher's linear-ODE sample from it.

    Noise comes from one CPU generator seeded with ``seed``, drawn batch by batch.
    """
    gen = torch.Generator().manual_seed(seed)
    zs, xs = [], []
    start = time.perf_counter()
    for i in range(0, n, batch):
        z = torch.randn((min(batch, n - i), 1, 32, 32), generator=gen)
        x = sample(denoiser, z, steps=steps, interpolant="linear", stochastic=False)
        zs.append(z)
        xs.append(x)
        done = i + z.shape[0]
        eta = (time.perf_counter() - start) / done * (n - done)
        print(f"pairs {done}/{n}  eta {eta:5.0f}s", flush=True)
    return torch.cat(zs), torch.cat(xs)


def _lr(step: int, cfg: StudentConfig) -> float:
    """Linear warm-up, then linear decay to 0 (a short fine-tune)."""
    if step < cfg.warmup:
        return cfg.lr * (step + 1) / cfg.warmup
    return cfg.lr * max(0.0, (cfg.steps - step) / max(1, cfg.steps - cfg.warmup))


def train_student(
    teacher: nn.Module, z: torch.Tensor, x0: torch.Tensor, cfg: StudentConfig
) -> tuple[nn.Module, dict[str, object]]:
    """Fine-tune a copy of ``teacher`` on the pairs; returns ``(EMA student, stats)``."""
    gen = torch.Generator().manual_seed(cfg.seed + 1)
    model = copy.deepcopy(teacher).float().train().requires_grad_(True)
    ema = copy.deepcopy(model).eval().requires_grad_(False)
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=0.0)
    n_hold = max(1, min(1000, z.shape[0] // 10))  # held-out pairs for the reflow loss
    z_tr, x_tr, z_te, x_te = z[n_hold:], x0[n_hold:], z[:n_hold], x0[:n_hold]
    start, running = time.perf_counter(), 0.0
    for step in range(cfg.steps):
        for group in opt.param_groups:
            group["lr"] = _lr(step, cfg)
        idx = torch.randint(0, z_tr.shape[0], (cfg.batch,), generator=gen)
        loss = flow_matching_loss(model, x_tr[idx], gen, noise=z_tr[idx])
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        with torch.no_grad():
            decay = min(cfg.ema_decay, (1 + step) / (10 + step))
            for e, p in zip(ema.parameters(), model.parameters(), strict=True):
                e.lerp_(p, 1.0 - decay)
        running += loss.item()
        if (step + 1) % cfg.log_every == 0 or step + 1 == cfg.steps:
            seen = (step % cfg.log_every) + 1
            elapsed = time.perf_counter() - start
            eta = elapsed / (step + 1) * (cfg.steps - step - 1)
            print(
                f"step {step + 1:6d}  loss {running / seen:.4f}  lr {_lr(step, cfg):.2e}  "
                f"{elapsed:6.0f}s  eta {eta:5.0f}s",
                flush=True,
            )
            running = 0.0
    with torch.no_grad():
        held = flow_matching_loss(ema, x_te, torch.Generator().manual_seed(1234), noise=z_te).item()
    stats = {
        "train_pairs": int(z_tr.shape[0]),
        "steps": cfg.steps,
        "wall_seconds": round(time.perf_counter() - start, 1),
        "heldout_reflow_loss_ema": round(held, 4),
    }
    return ema, stats


@torch.no_grad()
def lookahead_recognition(
    denoiser, judge: nn.Module, n: int, t: float, ode_steps: int, seed: int
) -> dict[str, float]:
    """How sharp the look-ahead ``x0_hat`` at time ``t`` is, as classifier B sees it.

    Integrates the linear ODE from 1 to ``t`` in ``ode_steps`` uniform Euler steps (from
    ``n`` noises of ``seed``), takes ``x0_hat(x_t, t)`` and, separately, the final sample of
    the same trajectory (continuing to 0 with as many steps per unit time). Returns B's
    mean top-class probability on ``x0_hat``, the share it classifies with probability
    >= 0.5, and the share whose class equals the class of the final sample.
    """
    z = torch.randn((n, 1, 32, 32), generator=torch.Generator().manual_seed(seed))
    x_t = _euler(denoiser, z, [1.0 - (1.0 - t) * k / ode_steps for k in range(ode_steps + 1)])
    x0_hat = denoiser(x_t, torch.full((n,), t))
    tail_steps = max(1, round(ode_steps * t / (1.0 - t)))
    final = _euler(denoiser, x_t, [t * (1.0 - k / tail_steps) for k in range(tail_steps + 1)])
    prob = judge(x0_hat.clamp(-1, 1)).softmax(1)
    final_class = judge(final.clamp(-1, 1)).argmax(1)
    return {
        "b_confidence": round(float(prob.max(1).values.mean()), 3),
        "b_recognised": round(float((prob.max(1).values >= 0.5).float().mean()), 3),
        "same_class_as_final": round(float((prob.argmax(1) == final_class).float().mean()), 3),
    }


def _euler(denoiser, x: torch.Tensor, times: list[float]) -> torch.Tensor:
    """Linear-path ODE ``dx/dt = (x - x0_hat) / t`` by Euler over descending ``times``."""
    for a, b in zip(times[:-1], times[1:]):
        x0_hat = denoiser(x, torch.full((x.shape[0],), a))
        x = x0_hat if b == 0.0 else x + (b - a) * (x - x0_hat) / a
    return x


@torch.no_grad()
def final_recognition(samples: torch.Tensor, judge: nn.Module) -> dict[str, float]:
    """Classifier B's mean top-class probability and share >= 0.5 on final samples."""
    top = judge(samples.clamp(-1, 1)).softmax(1).max(1).values
    return {
        "b_confidence": round(float(top.mean()), 3),
        "b_recognised": round(float((top >= 0.5).float().mean()), 3),
    }


def evaluate(
    student: nn.Module, teacher: nn.Module, n: int, seed: int, student_steps=(1, 2, 4, 10)
) -> dict[str, object]:
    """The model card's numbers: FD (classifier-B features, against the 10,000 test images),
    class histograms, and B's recognition of final samples and of ``x0_hat`` at t = 0.7."""
    judge = load_classifier("b")
    real = classifier_features(judge, to_model_space(load_fashion_mnist("test")[0]))
    out: dict[str, object] = {"n": n, "seed": seed}
    rows = {}
    for name, model, steps in [("teacher", teacher, 50)] + [
        ("student", student, s) for s in student_steps
    ]:
        x = generate(flow_denoiser(model), n, steps=steps, seed=seed)
        rows[f"{name} {steps}"] = sample_quality(x, judge, real) | final_recognition(x, judge)
        print(f"{name} {steps} steps: {rows[f'{name} {steps}']}", flush=True)
    out["quality"] = rows
    look = {
        "teacher (ODE 15 steps to 0.7)": lookahead_recognition(
            flow_denoiser(teacher), judge, n, 0.7, 15, seed
        ),
        "student (1 step to 0.7)": lookahead_recognition(
            flow_denoiser(student), judge, n, 0.7, 1, seed
        ),
    }
    for k, v in look.items():
        print(f"x0_hat at t = 0.7, {k}: {v}", flush=True)
    out["lookahead_t0.7"] = look
    return out


def main(argv: list[str] | None = None) -> dict[str, object]:
    d = StudentConfig()
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pairs", type=int, default=d.pairs)
    ap.add_argument("--teacher-steps", type=int, default=d.teacher_steps)
    ap.add_argument("--steps", type=int, default=d.steps)
    ap.add_argument("--lr", type=float, default=d.lr)
    ap.add_argument("--seed", type=int, default=d.seed)
    ap.add_argument("--threads", type=int, default=d.threads)
    ap.add_argument("--eval-n", type=int, default=2000, help="samples per FD row")
    ap.add_argument("--cache", type=Path, default=CACHE, help="folder of the cached pairs")
    ap.add_argument("--out", type=Path, default=None, help="weights file (default: shipped)")
    ap.add_argument("--eval-only", action="store_true", help="evaluate the weights at --out")
    ap.add_argument("--quick", action="store_true", help="tiny run of every phase")
    args = ap.parse_args(argv)
    if args.quick:
        args.pairs, args.teacher_steps, args.steps, args.eval_n = 64, 4, 5, 64
    out = args.out or (None if args.quick else WEIGHTS_DIR / "flow_student.safetensors")
    cfg = StudentConfig(
        pairs=args.pairs,
        teacher_steps=args.teacher_steps,
        steps=args.steps,
        lr=args.lr,
        seed=args.seed,
        threads=args.threads,
        log_every=1 if args.quick else d.log_every,
    )
    torch.set_num_threads(cfg.threads)
    teacher = load_flow_model()
    if args.eval_only:
        return evaluate(load_flow_model(path=out), teacher, args.eval_n, seed=100)
    cached = args.cache / f"pairs_{cfg.pairs}_{cfg.teacher_steps}_{cfg.seed}.pt"
    if cached.exists() and not args.quick:
        z, x0 = torch.load(cached)
        print(f"loaded {cached}")
    else:
        start = time.perf_counter()
        z, x0 = teacher_pairs(flow_denoiser(teacher), cfg.pairs, cfg.teacher_steps, cfg.seed)
        print(f"pairs: {time.perf_counter() - start:.0f}s")
        if not args.quick:
            cached.parent.mkdir(parents=True, exist_ok=True)
            torch.save((z, x0), cached)
    student, stats = train_student(teacher, z, x0, cfg)
    print(stats)
    report = evaluate(student, teacher, args.eval_n, seed=100)  # seed != the pairs' seed
    if out is not None:
        save_module(
            student,
            out,
            arch="FlowUNet",
            config=json.loads(json.dumps(_unet_config(teacher))),
            extra={"train": asdict(cfg), "stats": stats, "distilled_from": "flow_unet"},
        )
        print(f"wrote {out}")
    return {"stats": stats, "report": report}


def _unet_config(model: nn.Module) -> dict[str, object]:
    return model.config.to_dict()


if __name__ == "__main__":
    main()
