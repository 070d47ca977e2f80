"""HPSv2 / HPSv2.1: human preference score from an OpenCLIP ViT-H-14 fine-tune (differentiable).

``score = e_img · e_txt``: the cosine of the unit OpenCLIP image and text features, exactly
the diagonal of ``image_features @ text_features.T`` in the reference scorer (no logit
scale; typical values 0.2–0.35). v2.0 and v2.1 scores are not comparable with each other.

Preprocessing follows HPSv2's ``ResizeMaxSize(224)``: the longer side goes to 224 (bicubic),
the image is zero-padded to a centred square (pad value 0 *before* normalisation), then
normalised with the OpenAI CLIP mean/std. Prompts are tokenised with the CLIP BPE
(lower-cased, ``<|startoftext|> … <|endoftext|>``, truncated to 77 with the end token kept,
padded with id 0). Facts, layout and costs: ``docs/verifiers/hpsv2.md``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from .base import Verifier
from .embedding_cache import EmbeddingCache
from .files import WeightSource, find_weights_file, require_files, require_path
from .hf_models import load_tokenizer
from .image_ops import ImagePreprocess
from .openclip_model import VIT_H_14, OpenCLIP, OpenCLIPConfig
from .options import TorchOptions, option
from .state_dicts import load_checked, load_state_dict, strip_prefix

MODEL_ID = "xswu/HPSv2"
TOKENIZER_ID = "laion/CLIP-ViT-H-14-laion2B-s32B-b79K"
#: Checkpoint names looked for in a folder, best first.
CHECKPOINTS = (
    "HPS_v2.1_compressed.safetensors",
    "HPS_v2.1_compressed.pt",
    "HPS_v2_compressed.safetensors",
    "HPS_v2_compressed.pt",
)
SOURCE = WeightSource("hpsv2", "HPSv2", MODEL_ID, ("HPS_v2.1_compressed.pt", "tokenizer/"))
TOKENIZER_SOURCE = SOURCE.part(
    subfolder="tokenizer", model_id=TOKENIZER_ID, files=("vocab.json", "merges.txt")
)


@dataclass(frozen=True)
class HPSv2Options(TorchOptions):
    """Options of `load_hps` (``path``: the checkpoint file or the folder holding it)."""

    tokenizer_path: str = option(
        "", "Folder with the CLIP BPE files (default: <folder>/tokenizer)", kind="path"
    )
    cache_size: int = option(64, "Text embeddings kept in memory (per prompt)", min=0)


class HPSv2(Verifier):
    """Human Preference Score v2/v2.1 on a plain-torch OpenCLIP model."""

    name = "hpsv2"
    differentiable = True

    def __init__(
        self,
        model: OpenCLIP,
        tokenizer: Any,
        *,
        preprocess: ImagePreprocess | None = None,
        cache_size: int = 64,
        device: torch.device | str = "cpu",
        dtype: torch.dtype = torch.float32,
        batch_size: int = 8,
    ) -> None:
        super().__init__(device=device, dtype=dtype, batch_size=batch_size)
        cfg = model.config
        self.model, self.tokenizer = model, tokenizer
        self.preprocess = preprocess or ImagePreprocess(
            size=cfg.image_size, geometry="longest_pad", clamp=False, fill=0.0
        )
        self.input_size = self.preprocess.size
        self.context_length = cfg.context_length
        self._text_cache = EmbeddingCache(cache_size)

    def tokenize(self, prompts: list[str]) -> tuple[torch.Tensor, torch.Tensor]:
        """Prompts -> open_clip token ids ``[B, 77]`` (0-padded) and end-token positions ``[B]``."""
        tok = self.tokenizer(
            prompts,
            padding="max_length",
            max_length=self.context_length,
            truncation=True,
            return_tensors="pt",
        )
        mask = tok["attention_mask"]
        ids = tok["input_ids"].masked_fill(mask == 0, 0)
        return ids, mask.sum(dim=1) - 1

    def _encode_text_uncached(self, prompts: list[str]) -> torch.Tensor:
        ids, eot = self.tokenize(prompts)
        return self.model.encode_text(ids.to(self.device), eot.to(self.device)).float()

    def encode_text(self, prompts: list[str]) -> torch.Tensor:
        """Prompts -> unit text features ``[B, E]`` (float32, cached per prompt)."""
        return self._text_cache.get(prompts, self._encode_text_uncached)

    def encode_images(self, images: torch.Tensor) -> torch.Tensor:
        """``[B, H, W, 3]`` in ``[0, 1]`` -> unit image features ``[B, E]`` (float32)."""
        pixels = self.preprocess(images, device=self.device, dtype=self.dtype)
        return self.model.encode_image(pixels).float()

    def score_batch(self, images: torch.Tensor, prompts: list[str]) -> torch.Tensor:
        return (self.encode_images(images) * self.encode_text(prompts)).sum(dim=-1)


def load_openclip(
    checkpoint: Path, config: OpenCLIPConfig, *, device: torch.device | str, dtype: torch.dtype
) -> OpenCLIP:
    """Build `OpenCLIP` from an open_clip-format state dict (``.safetensors`` or weights-only ``.pt``)."""
    state = strip_prefix(load_state_dict(checkpoint))
    with torch.device("meta"):
        model = OpenCLIP(config)
    model = load_checked(model, state, file=checkpoint, source=SOURCE)
    return model.to(device=torch.device(device), dtype=dtype)


def load_hps(
    path: str | Path,
    *,
    device: torch.device | str = "cpu",
    dtype: torch.dtype = torch.float32,
    batch_size: int = 8,
    tokenizer_path: str | Path | None = None,
    config: OpenCLIPConfig = VIT_H_14,
    cache_size: int = 64,
) -> HPSv2:
    """Load HPSv2/v2.1 from a checkpoint file or a folder ``models/verifiers/hpsv2/``.

    The folder holds ``HPS_v2.1_compressed.pt`` (or v2.0, or a ``.safetensors`` conversion)
    and ``tokenizer/`` with the CLIP BPE files (``vocab.json``, ``merges.txt``) of
    ``laion/CLIP-ViT-H-14-laion2B-s32B-b79K``; ``tokenizer_path`` overrides that folder.
    ``config`` is the architecture (ViT-H-14 by default).
    """
    root = require_path(path, SOURCE)
    checkpoint = find_weights_file(root, CHECKPOINTS, SOURCE, any_single=True)
    base = root if root.is_dir() else root.parent
    tok_dir = Path(tokenizer_path).expanduser() if tokenizer_path else base / "tokenizer"
    require_files(tok_dir, TOKENIZER_SOURCE)
    tokenizer = load_tokenizer(tok_dir, TOKENIZER_SOURCE, cls_name="CLIPTokenizer")  # before 2 GB
    model = load_openclip(checkpoint, config, device=device, dtype=dtype)
    return HPSv2(
        model, tokenizer, cache_size=cache_size, device=device, dtype=dtype, batch_size=batch_size
    )
