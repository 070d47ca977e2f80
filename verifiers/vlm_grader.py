"""VLM grader: a local VLM rates each image against a rubric; the parsed grade is the reward.

For image ``x`` and prompt ``t`` the VLM answers ``rubric.format(t)`` greedily (deterministic);
the reply is parsed into a number ``s`` in ``[0, max_score]`` by `parse_score` and the score is

    score = s / max_score + tie_weight * c,     c = exp(mean log p(generated tokens)) in (0, 1]

``c`` (the model's confidence in its own reply) only breaks ties between equal grades; with
the default ``tie_weight = 1e-4`` it never reorders different integer grades. A reply that does
not parse scores ``fallback`` (default 0.0, below every real grade) and is logged. Scores stay
in input order; equal scores are broken the same way on every run (greedy decoding).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from .base import Prompts, Verifier, normalize_prompts, validate_images
from .files import WeightSource, log
from .hf_folders import load_hf_model
from .hf_processors import move_inputs
from .image_ops import to_pil
from .options import TorchOptions, option
from .vlm_prompts import chat_text, format_question

DEFAULT_RUBRIC = (
    'Rate how well this image matches the description "{}". Consider the objects, their '
    "number, attributes, spatial relations and any text. Answer with one line in the form "
    '"Score: N/10", where N is an integer from 0 (no match) to 10 (perfect match).'
)
DEFAULT_MODEL_ID = "Qwen/Qwen2.5-VL-3B-Instruct"
SOURCE = WeightSource(
    "vlm_grader", "VLM grader", DEFAULT_MODEL_ID, ("config.json", "model.safetensors (or shards + index)", "tokenizer files", "preprocessor_config.json"),
    subfolder="qwen2.5-vl-3b",
)  # fmt: skip


@dataclass(frozen=True)
class VLMGraderOptions(TorchOptions):
    """Options of `load_vlm_grader` (``path``: a transformers image-text-to-text VLM folder)."""

    batch_size: int = option(2, "Images per generate call (scores do not depend on it)", min=1)
    rubric: str = option(DEFAULT_RUBRIC, "Grading instruction with one {} for the prompt")
    max_score: float = option(10.0, "Top of the grade scale the rubric asks for", min=1e-6)
    max_new_tokens: int = option(24, "Longest reply generated", min=1, max=4096)
    fallback: float = option(0.0, "Score of a reply without a readable grade")
    tie_weight: float = option(
        1e-4, "Weight of the model's confidence, which breaks ties between equal grades",
        min=0.0, max=0.1,
    )  # fmt: skip


_NUM = r"(\d+(?:\.\d+)?)"
_KEYWORD = re.compile(
    rf"\b(?:score|rating|grade|rate)[sd]?\b\s*(?:is|of|=|:|-)?\s*{_NUM}(?:\s*(?:/|out of)\s*{_NUM})?"
)
_FRACTION = re.compile(rf"(?<![\d.]){_NUM}\s*(?:/|out of)\s*{_NUM}")
_PERCENT = re.compile(rf"(?<![\d.]){_NUM}\s*%")
_BARE = re.compile(r"(?<![\d.\-])\d+(?:\.\d+)?")
_WORDS = "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen seventeen eighteen nineteen twenty".split()
_WORD_RE = re.compile(r"\b(" + "|".join(_WORDS) + r")\b")


def _in_range(value: float, max_score: float) -> float | None:
    return value if 0.0 <= value <= max_score else None


def _candidates(text: str, max_score: float):
    for m in _KEYWORD.finditer(text):
        yield float(m.group(1)), m.group(2)
    for m in _FRACTION.finditer(text):
        yield float(m.group(1)), m.group(2)
    for m in _PERCENT.finditer(text):
        yield float(m.group(1)) / 100.0 * max_score, None
    rest = _PERCENT.sub(" ", _FRACTION.sub(" ", text))  # a fraction's denominator is no grade
    for m in _BARE.finditer(rest):
        yield float(m.group(0)), None


def parse_score(text: str, max_score: float = 10.0) -> float | None:
    """Parse a grade in ``[0, max_score]`` out of a VLM reply, or None.

    Rules, first hit wins (case-insensitive, markdown ``*``/``_`` removed):
    1. a keyword: ``Score: 7``, ``rating of 7.5``, ``score = 8/10``, ``Grade - 3 out of 5``;
    2. a fraction anywhere: ``7/10``, ``4 out of 5`` (rescaled: ``4/5`` -> ``8`` of 10);
    3. a percentage: ``70%`` -> ``7`` of 10;
    4. the first bare number outside fractions and percentages: ``7``, ``I'd say 8.``;
    5. only when the reply has no digit at all, number words ``zero`` .. ``twenty`` are read
       as digits first (``seven out of ten`` -> 7).
    Candidates outside ``[0, max_score]`` (``11``, ``-2``, ``12/10``) are skipped, not clamped.
    """
    if max_score <= 0:
        raise ValueError(f"max_score must be > 0, got {max_score}")
    clean = re.sub(r"[*_`]", "", text).lower()
    if not re.search(r"\d", clean):
        clean = _WORD_RE.sub(lambda m: str(_WORDS.index(m.group(1))), clean)
    for value, denominator in _candidates(clean, max_score):
        if denominator is not None:
            den = float(denominator)
            if den <= 0 or value > den:
                continue
            value = value / den * max_score
        if _in_range(value, max_score) is not None:
            return value
    return None


@dataclass(frozen=True)
class Grade:
    """One graded image: the raw reply, the parsed grade (None if unparseable), the model's
    confidence ``c`` in its reply and the final score."""

    reply: str
    grade: float | None
    confidence: float
    score: float


class VLMGrader(Verifier):
    """Rubric grades from a local VLM, parsed by `parse_score`; see the module docstring."""

    name = "vlm_grader"
    differentiable = False

    def __init__(
        self,
        model: Any,
        processor: Any,
        *,
        rubric: str = DEFAULT_RUBRIC,
        max_score: float = 10.0,
        max_new_tokens: int = 24,
        fallback: float = 0.0,
        tie_weight: float = 1e-4,
        device: torch.device | str = "cpu",
        dtype: torch.dtype = torch.float32,
        batch_size: int = 2,
    ) -> None:
        super().__init__(device=device, dtype=dtype, batch_size=batch_size)
        format_question(rubric, "", "rubric")  # validates the placeholder
        if max_score <= 0:
            raise ValueError(f"max_score must be > 0, got {max_score}")
        if max_new_tokens < 1:
            raise ValueError(f"max_new_tokens must be >= 1, got {max_new_tokens}")
        if not 0.0 <= tie_weight < 1.0 / max_score:
            raise ValueError(f"tie_weight must be in [0, 1/max_score), got {tie_weight}")
        self.model, self.processor = model, processor
        self.rubric, self.max_score = rubric, float(max_score)
        self.max_new_tokens, self.fallback, self.tie_weight = (
            int(max_new_tokens),
            float(fallback),
            float(tie_weight),
        )
        processor.tokenizer.padding_side = "left"

    @torch.no_grad()
    def generate(self, images: torch.Tensor, prompts: list[str]) -> list[tuple[str, float]]:
        """Greedy replies and their confidences ``exp(mean log p)`` for one chunk."""
        texts = [
            chat_text(self.processor, format_question(self.rubric, p, "rubric")) for p in prompts
        ]
        inputs = self.processor(
            text=texts, images=to_pil(images), return_tensors="pt", padding=True
        )
        inputs = move_inputs(inputs, self.device, self.dtype)
        tok = self.processor.tokenizer
        out = self.model.generate(
            **inputs,
            do_sample=False,
            num_beams=1,
            max_new_tokens=self.max_new_tokens,
            output_logits=True,
            return_dict_in_generate=True,
            pad_token_id=tok.pad_token_id,
        )
        new = out.sequences[:, -len(out.logits) :]  # [B, T] generated tokens
        logp = torch.stack(out.logits, dim=1).float().log_softmax(-1)  # [B, T, V]
        chosen = logp.gather(-1, new.unsqueeze(-1)).squeeze(-1)  # [B, T]
        stops = {t for t in (tok.eos_token_id, tok.pad_token_id) if t is not None}
        stops |= set(_as_list(self.model.generation_config.eos_token_id))
        results = []
        for row, lp in zip(new.tolist(), chosen, strict=True):
            n = next((i + 1 for i, t in enumerate(row) if t in stops), len(row))
            reply = tok.decode(row[:n], skip_special_tokens=True).strip()
            results.append((reply, math.exp(float(lp[:n].mean()))))
        return results

    def grade(self, images: torch.Tensor, prompts: Prompts = "") -> list[Grade]:
        """Validated, chunked grading with the raw replies, in input order."""
        images = validate_images(images)
        prompt_list = normalize_prompts(prompts, images.shape[0])
        grades: list[Grade] = []
        for i in range(0, images.shape[0], self.batch_size):
            chunk = self.generate(
                images[i : i + self.batch_size], prompt_list[i : i + self.batch_size]
            )
            grades.extend(self._to_grade(reply, conf) for reply, conf in chunk)
        return grades

    def _to_grade(self, reply: str, confidence: float) -> Grade:
        value = parse_score(reply, self.max_score)
        if value is None:
            log.warning(
                "vlm_grader: unparseable reply %r; using fallback score %s",
                reply[:200],
                self.fallback,
            )
            return Grade(reply, None, confidence, self.fallback)
        return Grade(
            reply, value, confidence, value / self.max_score + self.tie_weight * confidence
        )

    def score_batch(self, images: torch.Tensor, prompts: list[str]) -> torch.Tensor:
        grades = [self._to_grade(r, c) for r, c in self.generate(images, prompts)]
        return torch.tensor([g.score for g in grades], dtype=torch.float32)


def _as_list(x: Any) -> list[int]:
    if x is None:
        return []
    return [int(v) for v in x] if isinstance(x, (list, tuple)) else [int(x)]


def load_vlm_grader(
    path: str | Path,
    *,
    device: torch.device | str = "cpu",
    dtype: torch.dtype = torch.float32,
    batch_size: int = 2,
    rubric: str = DEFAULT_RUBRIC,
    max_score: float = 10.0,
    max_new_tokens: int = 24,
    fallback: float = 0.0,
    tie_weight: float = 1e-4,
) -> VLMGrader:
    """VLM grader from a local transformers VLM folder (e.g. ``models/verifiers/qwen2.5-vl-3b/``)."""
    model, processor, _ = load_hf_model(
        path, SOURCE, auto_class="AutoModelForImageTextToText", device=device, dtype=dtype
    )
    return VLMGrader(
        model, processor, rubric=rubric, max_score=max_score, max_new_tokens=max_new_tokens,
        fallback=fallback, tie_weight=tie_weight, device=device, dtype=dtype, batch_size=batch_size,
    )  # fmt: skip
