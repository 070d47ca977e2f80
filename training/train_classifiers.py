"""Train classifiers A and B: ``python training/train_classifiers.py [--which a b]``.

Both minimise the cross-entropy on the 60000 clean training images in model space
(``[B, 1, 32, 32]`` in [-1, 1]) with AdamW and a one-cycle learning rate, and report the
accuracy on the 10000 test images. They differ on purpose, so B is an independent judge:
A (`VerifierCNN`) uses seed 1 and no augmentation; B (`JudgeResNet`) uses seed 2 and random
translations of up to 2 pixels.
"""

from __future__ import annotations

import argparse
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from flowsearch.demo.checkpoint import WEIGHTS_DIR, save_module
from flowsearch.demo.classifiers import JudgeConfig, JudgeResNet, VerifierCNN, VerifierConfig
from flowsearch.demo.data import load_fashion_mnist, to_model_space


@dataclass(frozen=True)
class ClassifierTrainConfig:
    """Hyper-parameters of one classifier run."""

    epochs: int = 8
    batch: int = 128
    lr: float = 3e-3
    weight_decay: float = 5e-4
    max_shift: int = 0
    seed: int = 1
    threads: int = 2


#: The shipped runs: name -> (train config, weights file name).
RUNS = {
    "a": (ClassifierTrainConfig(epochs=6, seed=1, max_shift=0), "classifier_a.safetensors"),
    "b": (ClassifierTrainConfig(epochs=10, seed=2, max_shift=2), "classifier_b.safetensors"),
}


def random_shift(x: torch.Tensor, max_shift: int, generator: torch.Generator) -> torch.Tensor:
    """Translate each image by integers in ``[-max_shift, max_shift]`` (filled with -1)."""
    if max_shift == 0:
        return x
    b, _, h, w = x.shape
    m = max_shift
    padded = F.pad(x, (m, m, m, m), value=-1.0)
    dy = torch.randint(0, 2 * m + 1, (b,), generator=generator)
    dx = torch.randint(0, 2 * m + 1, (b,), generator=generator)
    rows = (dy[:, None] + torch.arange(h)[None])[:, None, :, None].expand(b, 1, h, w + 2 * m)
    out = padded.gather(2, rows)
    cols = (dx[:, None] + torch.arange(w)[None])[:, None, None, :].expand(b, 1, h, w)
    return out.gather(3, cols)


@torch.no_grad()
def accuracy(model: nn.Module, x: torch.Tensor, y: torch.Tensor, batch: int = 1000) -> float:
    """Top-1 accuracy of ``model`` (eval mode) on ``x [N, 1, 32, 32]``, labels ``y [N]``."""
    model.eval()
    correct = 0
    for i in range(0, x.shape[0], batch):
        correct += (model(x[i : i + batch]).argmax(1) == y[i : i + batch]).sum().item()
    return correct / x.shape[0]


def train_classifier(model: nn.Module, cfg: ClassifierTrainConfig) -> dict[str, object]:
    """Train ``model`` in place; print per-epoch loss and test accuracy; return the numbers."""
    torch.set_num_threads(cfg.threads)
    torch.manual_seed(cfg.seed)
    gen = torch.Generator().manual_seed(cfg.seed)
    images, labels = load_fashion_mnist("train")
    x_train = to_model_space(images)
    test_images, y_test = load_fashion_mnist("test")
    x_test = to_model_space(test_images)
    steps_per_epoch = x_train.shape[0] // cfg.batch
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    sched = torch.optim.lr_scheduler.OneCycleLR(
        opt, max_lr=cfg.lr, total_steps=cfg.epochs * steps_per_epoch
    )
    start = time.perf_counter()
    for epoch in range(cfg.epochs):
        model.train()
        perm = torch.randperm(x_train.shape[0], generator=gen)
        total = 0.0
        for s in range(steps_per_epoch):
            idx = perm[s * cfg.batch : (s + 1) * cfg.batch]
            xb = random_shift(x_train[idx], cfg.max_shift, gen)
            loss = F.cross_entropy(model(xb), labels[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            total += loss.item()
        acc = accuracy(model, x_test, y_test)
        print(
            f"epoch {epoch + 1}/{cfg.epochs}  loss {total / steps_per_epoch:.4f}  "
            f"test acc {acc:.4f}  {time.perf_counter() - start:.0f}s",
            flush=True,
        )
    return {
        "params": sum(p.numel() for p in model.parameters()),
        "epochs": cfg.epochs,
        "steps": cfg.epochs * steps_per_epoch,
        "final_train_loss": round(total / steps_per_epoch, 4),
        "test_accuracy": round(acc, 4),
        "wall_seconds": round(time.perf_counter() - start, 1),
    }


def train_run(name: str, out_dir: Path, threads: int = 2) -> dict[str, object]:
    """Train the shipped run ``name`` ("a" or "b") and save it (fp16) under ``out_dir``."""
    if name not in RUNS:
        raise ValueError(f"name={name!r} is not one of {sorted(RUNS)}")
    cfg, filename = RUNS[name]
    cfg = replace(cfg, threads=threads)
    torch.manual_seed(cfg.seed)  # the initial weights depend on the seed too
    if name == "a":
        arch, mcfg = "VerifierCNN", VerifierConfig()
        model: nn.Module = VerifierCNN(mcfg)
    else:
        arch, mcfg = "JudgeResNet", JudgeConfig()
        model = JudgeResNet(mcfg)
    print(f"classifier {name.upper()}: {arch} {mcfg} {cfg}")
    stats = train_classifier(model, cfg)
    print(stats)
    path = save_module(
        model.eval(),
        out_dir / filename,
        arch=arch,
        config=mcfg.to_dict(),
        extra={"train": asdict(cfg), "stats": stats},
    )
    print(f"wrote {path}")
    return stats


def main(argv: list[str] | None = None) -> None:
    """Command line: ``--which a b`` (default both), ``--out-dir``, ``--threads``."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--which", nargs="+", default=["a", "b"], choices=sorted(RUNS))
    ap.add_argument("--out-dir", type=Path, default=WEIGHTS_DIR)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args(argv)
    for name in args.which:
        train_run(name, args.out_dir, args.threads)


if __name__ == "__main__":
    main()
