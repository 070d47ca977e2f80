"""VQAScore: the probability that a VLM answers "Yes" to "Does this figure show "{prompt}"?".

Lin et al., *Evaluating Text-to-Visual Generation with Image-to-Text Generation* (ECCV 2024).
For an image ``x`` and prompt ``t`` the score is

    VQAScore(x, t) = P(answer = "Yes" | x, Q(t)),   Q(t) = 'Does this figure show "t"? Please answer yes or no.'

read from the VLM's next-token distribution at the start of the assistant's answer:
``softmax(logits)[yes_ids].sum()``, the softmax taken over the whole vocabulary (as the
reference implementation, ``t2v_metrics``, does). ``yes_ids`` are the distinct first tokens of
``"Yes"`` and ``" Yes"``: byte-level BPE tokenizers (Qwen2) spell the answer ``Yes`` after a
newline, SentencePiece tokenizers (Llama) spell it ``▁Yes``; summing both gives the
probability of the answer string whatever the tokenizer's space convention.
Encoder-decoder VLMs (InstructBLIP / BLIP-2 with Flan-T5) follow t2v_metrics's formula for
its T5 models instead: the geometric mean of the teacher-forced answer tokens, ``</s>``
included (`answer_sequence_probability`).

Scores lie in [0, 1], are not differentiable (the image goes through the model's own PIL
processor) and are deterministic. Works with any transformers image-text-to-text model whose
folder has a processor (Qwen2-VL / Qwen2.5-VL, LLaVA-OneVision, LLaVA(-NeXT), InstructBLIP, ...).
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from .base import Verifier
from .files import WeightSource, log
from .hf_folders import load_hf_model
from .hf_processors import move_inputs
from .image_ops import to_pil
from .options import TorchOptions, option
from .vlm_prompts import chat_text, decoder_start_id, format_question, is_encoder_decoder

#: Question template of the VQAScore paper / t2v_metrics (``{}`` is replaced by the prompt).
DEFAULT_QUESTION = 'Does this figure show "{}"? Please answer yes or no.'
DEFAULT_ANSWER = "Yes"
#: t2v_metrics uses a "Question: " prefix and a lower-case answer for InstructBLIP.
MODEL_DEFAULTS: dict[str, tuple[str, str]] = {
    "instructblip": ('Question: Does this figure show "{}"? Please answer yes or no.', "yes"),
}
DEFAULT_MODEL_ID = "Qwen/Qwen2.5-VL-3B-Instruct"
HF_FOLDER_FILES = (
    "config.json",
    "model.safetensors (or shards + index)",
    "tokenizer files",
    "preprocessor_config.json",
)
SOURCE = WeightSource(
    "vqascore", "VQAScore", DEFAULT_MODEL_ID, HF_FOLDER_FILES, subfolder="qwen2.5-vl-3b"
)


@dataclass(frozen=True)
class VQAScoreOptions(TorchOptions):
    """Options of `load_vqascore` (``path``: a transformers image-text-to-text VLM folder)."""

    batch_size: int = option(4, "Images per forward pass (scores do not depend on it)", min=1)
    question_template: str = option(
        "", "Question with one {} for the prompt (empty: the paper's for this model)"
    )
    answer: str = option("", "The answer whose probability is the score (empty: Yes/yes)")


def answer_token_ids(tokenizer: Any, answer: str = DEFAULT_ANSWER) -> list[int]:
    """Token ids that start the answer ``answer`` (with and without a leading space).

    A leading token that decodes to whitespace only (a lone SentencePiece ``▁`` or BPE ``Ġ``)
    is skipped. If the answer is several tokens long, the first one stands for it (logged).
    """
    ids: list[int] = []
    for variant in (answer, " " + answer):
        toks = list(tokenizer.encode(variant, add_special_tokens=False))
        while toks and not tokenizer.decode(toks[:1]).strip():
            toks = toks[1:]
        if not toks:
            continue
        if tokenizer.decode(toks[:1]).strip() != answer.strip():
            log.warning(
                "VQAScore: answer %r is not one token for this tokenizer; scoring P(first token %r)",
                variant,
                tokenizer.decode(toks[:1]),
            )
        if toks[0] not in ids:
            ids.append(int(toks[0]))
    if not ids:
        raise ValueError(f"answer {answer!r} encodes to no token; pass a non-empty answer")
    return ids


def next_token_logits(model: Any, inputs: dict[str, Any]) -> torch.Tensor:
    """Logits ``[B, V]`` at the last position of left-padded decoder-only inputs."""
    inputs = dict(inputs)
    params = inspect.signature(model.forward).parameters
    if "logits_to_keep" in params:
        inputs["logits_to_keep"] = 1  # avoids a [B, L, V] float tensor (V ~ 150k)
    if "use_cache" in params:
        inputs["use_cache"] = False
    return model(**inputs).logits[:, -1, :]


def answer_sequence_probability(
    model: Any, inputs: dict[str, Any], answer_ids: list[int]
) -> torch.Tensor:
    """Encoder-decoder VLMs (Flan-T5 based): ``exp(mean_k log p(a_k | a_<k))`` over the answer's
    tokens ``a`` (incl. the tokenizer's ``</s>``), teacher-forced after ``decoder_start_token_id``
    -- the formula t2v_metrics uses for CLIP-FlanT5 and InstructBLIP. ``Tensor[B]``."""
    ids = inputs["input_ids"]
    seq = torch.tensor([[decoder_start_id(model), *answer_ids]], device=ids.device).expand(
        ids.shape[0], -1
    )
    logits = model(**inputs, decoder_input_ids=seq[:, :-1]).logits.float()  # [B, n, V]
    logp = logits.log_softmax(-1).gather(-1, seq[:, 1:].unsqueeze(-1)).squeeze(-1)
    return logp.mean(-1).exp()


class VQAScore(Verifier):
    """P("Yes") from a local VLM; see the module docstring for the formula."""

    name = "vqascore"
    differentiable = False

    def __init__(
        self,
        model: Any,
        processor: Any,
        *,
        question_template: str = DEFAULT_QUESTION,
        answer: str = DEFAULT_ANSWER,
        device: torch.device | str = "cpu",
        dtype: torch.dtype = torch.float32,
        batch_size: int = 4,
    ) -> None:
        super().__init__(device=device, dtype=dtype, batch_size=batch_size)
        format_question(question_template, "")  # validates the placeholder early
        self.model = model
        self.processor = processor
        self.question_template = question_template
        self.answer = answer
        tokenizer = processor.tokenizer
        # decoder-only: left padding puts the answer position in the last column; encoder-
        # decoder (T5, relative positions): right padding keeps image and text tokens adjacent
        tokenizer.padding_side = "right" if is_encoder_decoder(model) else "left"
        self.answer_ids = answer_token_ids(tokenizer, answer)
        # encoder-decoder models score the whole answer sequence (see answer_sequence_probability)
        self.answer_sequence = (
            list(tokenizer(answer).input_ids) if is_encoder_decoder(model) else None
        )

    def texts(self, prompts: list[str]) -> list[str]:
        """The full model prompts (chat template applied) for ``prompts``."""
        return [
            chat_text(self.processor, format_question(self.question_template, p)) for p in prompts
        ]

    @torch.no_grad()
    def score_batch(self, images: torch.Tensor, prompts: list[str]) -> torch.Tensor:
        inputs = self.processor(
            text=self.texts(prompts), images=to_pil(images), return_tensors="pt", padding=True
        )
        inputs = move_inputs(inputs, self.device, self.dtype)
        if self.answer_sequence is not None:
            return answer_sequence_probability(self.model, inputs, self.answer_sequence)
        logits = next_token_logits(self.model, inputs).float()
        probs = torch.softmax(logits, dim=-1)
        return probs[:, self.answer_ids].sum(dim=-1)


def load_vqascore(
    path: str | Path,
    *,
    device: torch.device | str = "cpu",
    dtype: torch.dtype = torch.float32,
    batch_size: int = 4,
    question_template: str | None = None,
    answer: str | None = None,
) -> VQAScore:
    """VQAScore from a local transformers VLM folder (e.g. ``models/verifiers/qwen2.5-vl-3b/``).

    ``question_template`` / ``answer`` default to the paper's (t2v_metrics's for InstructBLIP).
    Raises `MissingWeightsError` if ``path`` does not exist, `MissingDependencyError` without
    transformers (extra ``vlm``).
    """
    model, processor, _ = load_hf_model(
        path, SOURCE, auto_class="AutoModelForImageTextToText", device=device, dtype=dtype
    )
    q_default, a_default = MODEL_DEFAULTS.get(
        model.config.model_type, (DEFAULT_QUESTION, DEFAULT_ANSWER)
    )
    return VQAScore(
        model,
        processor,
        question_template=question_template or q_default,
        answer=answer or a_default,
        device=device,
        dtype=dtype,
        batch_size=batch_size,
    )
