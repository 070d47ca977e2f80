"""Prompt pieces shared by the VLM-based verifiers (VQAScore, VLM grader).

A question template holds exactly one ``{}`` where the prompt goes (`format_question`); the
model sees it after one image in its chat template (`chat_text`). Encoder-decoder VLMs
(InstructBLIP / BLIP-2 with Flan-T5) are told apart from decoder-only ones by their config
(`is_encoder_decoder`).
"""

from __future__ import annotations

from typing import Any


def format_question(template: str, prompt: str, name: str = "question_template") -> str:
    """Insert ``prompt`` at the single ``{}`` of ``template`` (other braces are left alone);
    ``name`` is the option the template came from, for the error message."""
    if template.count("{}") != 1:
        raise ValueError(
            f"{name} must contain exactly one '{{}}' placeholder for the prompt, got {template!r}"
        )
    return template.replace("{}", prompt)


def chat_text(processor: Any, question: str) -> str:
    """The model's prompt for one image followed by ``question``, ending where the assistant's
    answer starts (``add_generation_prompt=True``). Processors without a chat template (e.g.
    InstructBLIP, which inserts its query tokens itself) get the bare question."""
    if getattr(processor, "chat_template", None):
        messages = [
            {"role": "user", "content": [{"type": "image"}, {"type": "text", "text": question}]}
        ]
        return processor.apply_chat_template(messages, add_generation_prompt=True, tokenize=False)
    return question


def is_encoder_decoder(model: Any) -> bool:
    """True for VLMs whose language model is an encoder-decoder (InstructBLIP/BLIP-2 + Flan-T5)."""
    cfg = model.config
    return bool(getattr(cfg, "is_encoder_decoder", False)) or (
        getattr(cfg, "use_decoder_only_language_model", True) is False
    )


def decoder_start_id(model: Any) -> int:
    """``decoder_start_token_id`` of an encoder-decoder language model (T5: the pad id, 0)."""
    cfg = model.config
    text_cfg = cfg.get_text_config() if hasattr(cfg, "get_text_config") else cfg
    for c in (text_cfg, cfg):
        start = getattr(c, "decoder_start_token_id", None)
        if start is not None:
            return int(start)
    raise ValueError("encoder-decoder VLM config has no decoder_start_token_id")
