"""Object counting: an open-vocabulary detector counts requested objects; reward = -RSS.

Requested counts come as ``object: count`` pairs, e.g. ``"cat: 2, dog: 1"``. For each image
the detector (Grounding DINO or OWLv2 / OWL-ViT, transformers zero-shot object detection) is
queried with the requested object names; boxes with ``score > threshold`` survive class-wise
NMS (IoU ``> iou_threshold`` suppressed) and are counted per object. Then

    reward = -sum_i (count_i - target_i)^2        (0 is perfect; higher is better)
    accuracy = 1 if count_i == target_i for every i else 0

as in the counting task of Kim et al. (2025). `CountingVerifier.count` returns the per-object
counts and kept detections; `CountingVerifier.accuracy` returns the 0/1 accuracy per image.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from .base import Prompts, Verifier, normalize_prompts, validate_images
from .detection import (
    Detections,
    decode_grounding,
    decode_owl,
    filter_detections,
    phrase_token_map,
)
from .files import WeightSource
from .hf_folders import load_hf_model
from .hf_processors import move_inputs
from .image_ops import to_pil
from .options import TorchOptions, option

DEFAULT_MODEL_ID = "IDEA-Research/grounding-dino-base"
OWL_TYPES = {"owlv2", "owlvit"}
GROUNDING_TYPES = {"grounding-dino", "mm-grounding-dino"}
#: Default box-score thresholds (upstream examples: Grounding DINO 0.35, OWLv2 0.1-0.2).
DEFAULT_THRESHOLDS = {"grounding": 0.35, "owl": 0.2}
SOURCE = WeightSource(
    "counting", "Object counting", DEFAULT_MODEL_ID, ("config.json", "model.safetensors (or shards + index)", "tokenizer files", "preprocessor_config.json"),
    subfolder="grounding-dino-base",
)  # fmt: skip


@dataclass(frozen=True)
class CountingOptions(TorchOptions):
    """Options of `load_counting` (``path``: a Grounding DINO or OWLv2/OWL-ViT folder)."""

    batch_size: int = option(4, "Images per forward pass (scores do not depend on it)", min=1)
    threshold: float | None = option(
        None, "Box score threshold (None: 0.35 Grounding DINO, 0.2 OWL)", min=0.0, max=0.999
    )
    iou_threshold: float = option(0.5, "NMS: boxes overlapping more are merged", min=0.0, max=1.0)
    query_template: str = option(
        "", "Detector query with one {} for the object (empty: the model's default)"
    )


_PAIR = re.compile(r"^\s*([^:]+?)\s*:\s*(\d+)\s*$")


def parse_count_spec(spec: str, name: str = "prompt") -> dict[str, int]:
    """Parse ``"cat: 2, dog: 1"`` (separators ``,`` ``;`` or newlines) -> ``{"cat": 2, "dog": 1}``.

    Object names are lower-cased with inner whitespace collapsed; counts are integers >= 0;
    a name may appear once and may not contain ``.`` (Grounding DINO's phrase separator).
    """
    if not isinstance(spec, str) or not spec.strip():
        raise ValueError(f"{name} must be a counting spec like 'cat: 2, dog: 1', got {spec!r}")
    counts: dict[str, int] = {}
    for part in re.split(r"[,;\n]", spec):
        if not part.strip():
            continue
        m = _PAIR.match(part)
        if m is None:
            raise ValueError(
                f"{name}: cannot parse {part.strip()!r} in counting spec {spec!r}; "
                "write 'object: count' pairs separated by commas, e.g. 'cat: 2, dog: 1'"
            )
        obj = " ".join(m.group(1).lower().split())
        if "." in obj:
            raise ValueError(f"{name}: object name {obj!r} may not contain '.' (in {spec!r})")
        if obj in counts:
            raise ValueError(f"{name}: object {obj!r} is listed twice in counting spec {spec!r}")
        counts[obj] = int(m.group(2))
    if not counts:
        raise ValueError(f"{name} must be a counting spec like 'cat: 2, dog: 1', got {spec!r}")
    return counts


def count_reward(counts: dict[str, int], targets: dict[str, int]) -> tuple[float, bool]:
    """``(-sum_i (count_i - target_i)^2, all exact)`` over the requested objects."""
    rss = sum((counts.get(k, 0) - v) ** 2 for k, v in targets.items())
    return -float(rss), rss == 0


@dataclass(frozen=True)
class CountResult:
    """Counts of one image: requested ``targets``, detected ``counts``, reward, exactness,
    the object names (index = detection label) and the kept detections."""

    targets: dict[str, int]
    counts: dict[str, int]
    reward: float
    exact: bool
    objects: list[str]
    detections: Detections


class CountingVerifier(Verifier):
    """-RSS between detected and requested counts; the prompt of each image is its spec."""

    name = "counting"
    differentiable = False

    def __init__(
        self,
        model: Any,
        processor: Any,
        *,
        kind: str,
        threshold: float | None = None,
        iou_threshold: float = 0.5,
        query_template: str = "{}",
        device: torch.device | str = "cpu",
        dtype: torch.dtype = torch.float32,
        batch_size: int = 4,
    ) -> None:
        super().__init__(device=device, dtype=dtype, batch_size=batch_size)
        if kind not in DEFAULT_THRESHOLDS:
            raise ValueError(f"kind must be 'grounding' or 'owl', got {kind!r}")
        threshold = DEFAULT_THRESHOLDS[kind] if threshold is None else float(threshold)
        if not 0.0 <= threshold < 1.0 or not 0.0 <= iou_threshold <= 1.0:
            raise ValueError(
                f"threshold must be in [0, 1) and iou_threshold in [0, 1]; got {threshold}, {iou_threshold}"
            )
        if query_template.count("{}") != 1:
            raise ValueError(f"query_template needs exactly one '{{}}', got {query_template!r}")
        self.model, self.processor, self.kind = model, processor, kind
        self.threshold, self.iou_threshold, self.query_template = (
            threshold,
            float(iou_threshold),
            query_template,
        )

    @torch.no_grad()
    def detect(self, images: torch.Tensor, objects: list[str]) -> list[Detections]:
        """Run the detector on a chunk with the same object list; kept detections per image."""
        queries = [self.query_template.replace("{}", o) for o in objects]
        pil = to_pil(images)
        if self.kind == "owl":
            inputs = self.processor(text=[queries] * len(pil), images=pil, return_tensors="pt")
            out = self.model(**move_inputs(inputs, self.device, self.dtype))
            boxes, scores, labels = decode_owl(out.logits, out.pred_boxes)
        else:
            text = ". ".join(q.strip().lower() for q in queries) + "."
            inputs = self.processor(
                text=[text] * len(pil), images=pil, return_tensors="pt", padding=True
            )
            out = self.model(**move_inputs(inputs, self.device, self.dtype))
            tok = self.processor.tokenizer
            special = {
                i for i in (tok.cls_token_id, tok.sep_token_id, tok.pad_token_id) if i is not None
            }
            token_labels = phrase_token_map(
                inputs["input_ids"][0], len(objects), tok.convert_tokens_to_ids("."), special
            )
            boxes, scores, labels = decode_grounding(
                out.logits, out.pred_boxes, token_labels, len(objects)
            )
        return [
            filter_detections(b, s, lab, threshold=self.threshold, iou_threshold=self.iou_threshold)
            for b, s, lab in zip(boxes.cpu(), scores.cpu(), labels.cpu(), strict=True)
        ]

    def _results(self, images: torch.Tensor, specs: list[str]) -> list[CountResult]:
        targets = [parse_count_spec(s, f"prompts[{i}]") for i, s in enumerate(specs)]
        results: list[CountResult | None] = [None] * len(specs)
        groups: dict[tuple[str, ...], list[int]] = {}
        for i, t in enumerate(targets):
            groups.setdefault(tuple(t), []).append(i)
        for objects, idx in groups.items():  # images with the same objects share a forward pass
            for j in range(0, len(idx), self.batch_size):
                chunk = idx[j : j + self.batch_size]
                for i, det in zip(chunk, self.detect(images[chunk], list(objects)), strict=True):
                    counts = {o: int((det.labels == k).sum()) for k, o in enumerate(objects)}
                    reward, exact = count_reward(counts, targets[i])
                    results[i] = CountResult(targets[i], counts, reward, exact, list(objects), det)
        return [r for r in results if r is not None]

    def count(self, images: torch.Tensor, prompts: Prompts) -> list[CountResult]:
        """Validated counting with details, in input order (prompts are counting specs)."""
        images = validate_images(images)
        return self._results(images, normalize_prompts(prompts, images.shape[0]))

    def accuracy(self, images: torch.Tensor, prompts: Prompts) -> torch.Tensor:
        """``Tensor[B]``: 1.0 where every requested count is exact, else 0.0."""
        return torch.tensor([float(r.exact) for r in self.count(images, prompts)])

    def score_batch(self, images: torch.Tensor, prompts: list[str]) -> torch.Tensor:
        return torch.tensor([r.reward for r in self._results(images, prompts)], dtype=torch.float32)


def load_counting(
    path: str | Path,
    *,
    device: torch.device | str = "cpu",
    dtype: torch.dtype = torch.float32,
    batch_size: int = 4,
    threshold: float | None = None,
    iou_threshold: float = 0.5,
    query_template: str | None = None,
) -> CountingVerifier:
    """Counting verifier from a local Grounding DINO or OWLv2/OWL-ViT folder.

    ``query_template`` defaults to ``"{}"`` for Grounding DINO and ``"a photo of a {}"`` for OWL.
    """
    model, processor, _ = load_hf_model(
        path,
        SOURCE,
        auto_class="AutoModelForZeroShotObjectDetection",
        device=device,
        dtype=dtype,
        model_types=OWL_TYPES | GROUNDING_TYPES,
    )
    if model.config.model_type in OWL_TYPES:
        kind, template = "owl", "a photo of a {}"
    else:
        kind, template = "grounding", "{}"
    return CountingVerifier(
        model, processor, kind=kind, threshold=threshold, iou_threshold=iou_threshold,
        query_template=query_template or template, device=device, dtype=dtype, batch_size=batch_size,
    )  # fmt: skip
