"""Open-vocabulary detection in plain torch: box formats, NMS and detector output decoding.

No torchvision: `nms` is a small exact implementation (greedy, highest score first). Boxes
are ``[N, 4]`` ``(x0, y0, x1, y1)`` in any consistent unit (the detectors' normalised
coordinates here). Decoders turn the raw output of transformers' zero-shot detectors into
per-box ``(score, label)`` for a list of ``labels`` (one query per label):

- OWLv2 / OWL-ViT: ``logits [B, N, Q]`` (one column per label) -> ``score = sigmoid(max_q)``,
  ``label = argmax_q``.
- Grounding DINO: ``logits [B, N, T]`` over the text tokens of ``"l1. l2. ... ."`` ->
  per label, the max over its tokens; ``score = sigmoid(max)``, ``label = argmax``
  (GLIP-style phrase grounding, instead of upstream's decoding of above-threshold tokens,
  so every box maps to exactly one requested label).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch


@dataclass(frozen=True)
class Detections:
    """Kept boxes of one image: ``boxes [K, 4]`` xyxy, ``scores [K]``, ``labels [K]`` (indices)."""

    boxes: torch.Tensor
    scores: torch.Tensor
    labels: torch.Tensor


def center_to_corners(boxes: torch.Tensor) -> torch.Tensor:
    """``(cx, cy, w, h)`` -> ``(x0, y0, x1, y1)``, any leading shape."""
    cx, cy, w, h = boxes.unbind(-1)
    return torch.stack([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], dim=-1)


def box_iou(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """IoU matrix ``[N, M]`` of xyxy boxes ``a [N, 4]``, ``b [M, 4]`` (0 for empty unions)."""
    area_a = (a[:, 2] - a[:, 0]).clamp(min=0) * (a[:, 3] - a[:, 1]).clamp(min=0)
    area_b = (b[:, 2] - b[:, 0]).clamp(min=0) * (b[:, 3] - b[:, 1]).clamp(min=0)
    lt = torch.maximum(a[:, None, :2], b[None, :, :2])
    rb = torch.minimum(a[:, None, 2:], b[None, :, 2:])
    inter = (rb - lt).clamp(min=0).prod(-1)
    union = area_a[:, None] + area_b[None, :] - inter
    return torch.where(union > 0, inter / union.clamp(min=1e-12), torch.zeros_like(inter))


def nms(boxes: torch.Tensor, scores: torch.Tensor, iou_threshold: float) -> torch.Tensor:
    """Greedy non-maximum suppression; indices of kept boxes, by decreasing score.

    A box is dropped when its IoU with an already kept, higher-scoring box is
    ``> iou_threshold``. Ties in score keep the lower index first (stable sort).
    """
    if boxes.numel() == 0:
        return torch.zeros(0, dtype=torch.long, device=boxes.device)
    order = torch.sort(scores, descending=True, stable=True).indices
    iou = box_iou(boxes[order], boxes[order])
    keep = torch.ones(order.numel(), dtype=torch.bool, device=boxes.device)
    for i in range(order.numel()):
        if keep[i]:
            keep[i + 1 :] &= iou[i, i + 1 :] <= iou_threshold
    return order[keep]


def batched_nms(
    boxes: torch.Tensor, scores: torch.Tensor, labels: torch.Tensor, iou_threshold: float
) -> torch.Tensor:
    """Class-wise NMS: boxes of different labels never suppress each other."""
    kept = [
        torch.nonzero(labels == c).flatten()[
            nms(boxes[labels == c], scores[labels == c], iou_threshold)
        ]
        for c in torch.unique(labels).tolist()
    ]
    if not kept:
        return torch.zeros(0, dtype=torch.long, device=boxes.device)
    idx = torch.cat(kept)
    return idx[torch.sort(scores[idx], descending=True, stable=True).indices]


def filter_detections(
    boxes: torch.Tensor,
    scores: torch.Tensor,
    labels: torch.Tensor,
    *,
    threshold: float,
    iou_threshold: float,
) -> Detections:
    """Keep boxes with ``score > threshold``, then class-wise NMS (one image)."""
    mask = scores > threshold
    boxes, scores, labels = boxes[mask], scores[mask], labels[mask]
    keep = batched_nms(boxes, scores, labels, iou_threshold)
    return Detections(boxes[keep], scores[keep], labels[keep])


def decode_owl(logits: torch.Tensor, pred_boxes: torch.Tensor) -> tuple[torch.Tensor, ...]:
    """OWL outputs -> ``(boxes xyxy [B, N, 4], scores [B, N], labels [B, N])``."""
    best, labels = logits.float().max(dim=-1)
    return center_to_corners(pred_boxes.float()), torch.sigmoid(best), labels


def phrase_token_map(
    input_ids: torch.Tensor, num_labels: int, separator_id: int, special_ids: set[int]
) -> torch.Tensor:
    """Label index of every text token of ``"l1. l2. ... ."`` (``-1`` for specials/separators).

    ``input_ids [T]`` of one prompt; the k-th phrase is the tokens between the (k-1)-th and
    the k-th separator.
    """
    out = torch.full(input_ids.shape, -1, dtype=torch.long)
    k = 0
    for i, t in enumerate(input_ids.tolist()):
        if t == separator_id:
            k += 1
        elif t not in special_ids and k < num_labels:
            out[i] = k
    return out


def decode_grounding(
    logits: torch.Tensor, pred_boxes: torch.Tensor, token_labels: torch.Tensor, num_labels: int
) -> tuple[torch.Tensor, ...]:
    """Grounding DINO outputs -> ``(boxes, scores, labels)``; ``token_labels [T]`` from
    `phrase_token_map` (the same prompt for every image of the batch)."""
    B, N, L = logits.shape
    T = min(token_labels.numel(), L)
    per_label = torch.full((B, N, num_labels), float("-inf"), device=logits.device)
    lg = logits[..., :T].float()
    tl = token_labels[:T].to(logits.device)
    for k in range(num_labels):
        cols = tl == k
        if bool(cols.any()):
            per_label[..., k] = lg[..., cols].max(dim=-1).values
    best, labels = per_label.max(dim=-1)
    return center_to_corners(pred_boxes.float()), torch.sigmoid(best), labels
