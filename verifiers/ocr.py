"""OCR text match: RapidOCR reads the image; the score is the normalised edit similarity.

For recognised text ``r`` and requested text ``q`` (both normalised by `normalize_text`)

    score = 1 - levenshtein(r, q) / max(len(r), len(q))      in [0, 1]; 1.0 if both are empty

Recognition: ``rapidocr-onnxruntime`` (PP-OCRv4 detector + recogniser, weights shipped in the
package, ONNX Runtime on CPU). Lines are joined with single spaces in RapidOCR's reading order
(top to bottom, then left to right); lines below its ``text_score`` (0.5) are dropped.

Requested text: by default the quoted part of each prompt (`extract_quoted`), e.g. the prompt
``a shop sign that says "OPEN 24h"`` requests ``OPEN 24h``; ``source="prompt"`` uses the whole
prompt. Not differentiable; deterministic.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from .base import Verifier
from .files import WeightSource, optional_import
from .options import BundledOptions, option

SOURCE = WeightSource(
    "ocr", "OCR text", "PP-OCRv4 (bundled with rapidocr-onnxruntime)", extra="ocr", bundled=True
)


@dataclass(frozen=True)
class OCROptions(BundledOptions):
    """Options of `load_ocr` (the weights ship with ``rapidocr-onnxruntime``)."""

    source: str = option(
        "quotes", "quotes: the quoted text of the prompt; prompt: the whole prompt",
        choices=("quotes", "prompt"),
    )  # fmt: skip
    case_sensitive: bool = option(False, "Compare letter case too")
    keep_punctuation: bool = option(False, "Compare punctuation and symbols too")
    text_score: float = option(
        0.5, "RapidOCR drops lines recognised with less confidence", min=0.0, max=1.0
    )


_DOUBLE = re.compile(r"[\"“”„«»]([^\"“”„«»]+)[\"“”„«»]")
_SINGLE = re.compile(r"(?<!\w)['‘’]([^'‘’]+)['‘’](?!\w)")


def extract_quoted(prompt: str) -> str:
    """The requested text of a prompt: every double-quoted span (``"..."``, ``“...”``,
    ``«...»``) joined by spaces; if there is none, single-quoted spans whose quotes are not
    inside a word (so ``dog's`` is not a quote). Raises ValueError if nothing is quoted."""
    spans = _DOUBLE.findall(prompt) or _SINGLE.findall(prompt)
    spans = [s.strip() for s in spans if s.strip()]
    if not spans:
        raise ValueError(
            f"prompt {prompt!r} has no quoted text for the OCR verifier; put the text to render in "
            "double quotes (a sign that says \"OPEN\") or load the verifier with source='prompt'"
        )
    return " ".join(spans)


def normalize_text(text: str, *, case: bool = False, punctuation: bool = False) -> str:
    """Unicode NFKC; casefold unless ``case``; drop punctuation and symbols (Unicode categories
    P* and S*) unless ``punctuation``; collapse whitespace runs to one space and strip."""
    text = unicodedata.normalize("NFKC", text)
    if not case:
        text = text.casefold()
    if not punctuation:
        text = "".join(" " if unicodedata.category(c)[0] in "PS" else c for c in text)
    return " ".join(text.split())


def levenshtein(a: str, b: str) -> int:
    """Edit distance (insertions, deletions, substitutions all cost 1)."""
    if len(a) < len(b):
        a, b = b, a
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        prev = cur
    return prev[-1]


def edit_similarity(recognised: str, requested: str) -> float:
    """``1 - levenshtein / max(len)``; 1.0 when both strings are empty."""
    n = max(len(recognised), len(requested))
    return 1.0 if n == 0 else 1.0 - levenshtein(recognised, requested) / n


class OCRVerifier(Verifier):
    """Edit similarity between RapidOCR's reading and the requested text."""

    name = "ocr"
    differentiable = False

    def __init__(
        self,
        engine: Any,
        *,
        source: str = "quotes",
        case_sensitive: bool = False,
        keep_punctuation: bool = False,
        batch_size: int = 8,
    ) -> None:
        super().__init__(device="cpu", dtype=torch.float32, batch_size=batch_size)
        if source not in ("quotes", "prompt"):
            raise ValueError(f"source must be 'quotes' or 'prompt', got {source!r}")
        self.engine, self.source = engine, source
        self.case_sensitive, self.keep_punctuation = case_sensitive, keep_punctuation

    def requested(self, prompt: str) -> str:
        return extract_quoted(prompt) if self.source == "quotes" else prompt

    def read(self, image: torch.Tensor) -> str:
        """Recognised text of one ``[H, W, 3]`` image in [0, 1], lines joined by spaces."""
        rgb = (image.detach().float().clamp(0, 1) * 255).round().to(torch.uint8).cpu().numpy()
        result, _ = self.engine(np.ascontiguousarray(rgb[..., ::-1]))  # RapidOCR takes BGR arrays
        return " ".join(str(line[1]) for line in (result or []))

    def _norm(self, text: str) -> str:
        return normalize_text(text, case=self.case_sensitive, punctuation=self.keep_punctuation)

    def score_batch(self, images: torch.Tensor, prompts: list[str]) -> torch.Tensor:
        wanted = [self._norm(self.requested(p)) for p in prompts]  # fail before running OCR
        scores = [
            edit_similarity(self._norm(self.read(img)), q)
            for img, q in zip(images, wanted, strict=True)
        ]
        return torch.tensor(scores, dtype=torch.float32)


def load_ocr(
    *,
    source: str = "quotes",
    case_sensitive: bool = False,
    keep_punctuation: bool = False,
    text_score: float = 0.5,
    threads: int | None = None,
    batch_size: int = 8,
) -> OCRVerifier:
    """OCR verifier on RapidOCR's bundled PP-OCRv4 models (extra ``ocr``); no weights path.

    ``threads`` sets ONNX Runtime's intra-op threads (None = its default).
    """
    if source not in ("quotes", "prompt"):
        raise ValueError(f"source must be 'quotes' or 'prompt', got {source!r}")
    rapidocr = optional_import("rapidocr_onnxruntime", SOURCE)
    kwargs: dict[str, Any] = {"text_score": float(text_score)}
    if threads is not None:
        kwargs["intra_op_num_threads"] = int(threads)
    engine = rapidocr.RapidOCR(**kwargs)
    return OCRVerifier(
        engine, source=source, case_sensitive=case_sensitive,
        keep_punctuation=keep_punctuation, batch_size=batch_size,
    )  # fmt: skip
