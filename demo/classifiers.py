"""Two independent Fashion-MNIST classifiers with different architectures.

Both take ``x [B, 1, 32, 32]`` in the model space [-1, 1] (see `flowsearch.demo.data`)
and return logits ``[B, 10]``; ``features(x)`` returns the penultimate activations.

* `VerifierCNN` (classifier **A**, the reward the search optimises): a plain VGG-style CNN,
  BatchNorm + ReLU, max-pooling, global average pooling, dropout, linear head.
* `JudgeResNet` (classifier **B**, the held-out judge and the feature space of the Fréchet
  distance): a residual network with GroupNorm + GELU, strided convolutions instead of
  pooling and 192 features.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
import torch.nn.functional as F
from torch import nn

NUM_CLASSES = 10


@dataclass(frozen=True)
class VerifierConfig:
    """Widths of the three stages of `VerifierCNN` and its dropout probability."""

    widths: tuple[int, int, int] = (16, 64, 128)
    dropout: float = 0.3

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


@dataclass(frozen=True)
class JudgeConfig:
    """Widths of the four stages of `JudgeResNet` and its dropout probability."""

    widths: tuple[int, int, int, int] = (32, 64, 128, 192)
    dropout: float = 0.2

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


def _conv_bn_relu(cin: int, cout: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU()
    )


class VerifierCNN(nn.Module):
    """Classifier A: ``[B, 1, 32, 32] -> logits [B, 10]`` (features ``[B, widths[2]]``)."""

    def __init__(self, config: VerifierConfig | None = None) -> None:
        super().__init__()
        cfg = config or VerifierConfig()
        self.config = cfg
        w1, w2, w3 = cfg.widths
        self.body = nn.Sequential(
            _conv_bn_relu(1, w1),
            nn.MaxPool2d(2),  # 16x16
            _conv_bn_relu(w1, w2),
            nn.MaxPool2d(2),  # 8x8
            _conv_bn_relu(w2, w3),
            nn.MaxPool2d(2),  # 4x4
            _conv_bn_relu(w3, w3),
        )
        self.dropout = nn.Dropout(cfg.dropout)
        self.head = nn.Linear(w3, NUM_CLASSES)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x).mean(dim=(2, 3))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.dropout(self.features(x)))


class _GNBlock(nn.Module):
    """Pre-activation residual block, GroupNorm + GELU; optional stride-2 downsampling."""

    def __init__(self, cin: int, cout: int, stride: int) -> None:
        super().__init__()
        self.norm1 = nn.GroupNorm(8, cin)
        self.conv1 = nn.Conv2d(cin, cout, 3, stride=stride, padding=1)
        self.norm2 = nn.GroupNorm(8, cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, padding=1)
        self.skip = (
            nn.Conv2d(cin, cout, 1, stride=stride)
            if (cin != cout or stride != 1)
            else nn.Identity()
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.conv1(F.gelu(self.norm1(x)))
        h = self.conv2(F.gelu(self.norm2(h)))
        return self.skip(x) + h


class JudgeResNet(nn.Module):
    """Classifier B: ``[B, 1, 32, 32] -> logits [B, 10]`` (features ``[B, widths[3]]``)."""

    def __init__(self, config: JudgeConfig | None = None) -> None:
        super().__init__()
        cfg = config or JudgeConfig()
        self.config = cfg
        w = cfg.widths
        self.stem = nn.Conv2d(1, w[0], 4, stride=2, padding=1)  # 16x16
        self.blocks = nn.Sequential(
            _GNBlock(w[0], w[0], 1),  # 16x16
            _GNBlock(w[0], w[1], 2),  # 8x8
            _GNBlock(w[1], w[2], 2),  # 4x4
            _GNBlock(w[2], w[3], 1),  # 4x4
        )
        self.norm = nn.GroupNorm(8, w[3])
        self.dropout = nn.Dropout(cfg.dropout)
        self.head = nn.Linear(w[3], NUM_CLASSES)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        h = F.gelu(self.norm(self.blocks(self.stem(x))))
        return h.mean(dim=(2, 3))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.dropout(self.features(x)))
