"""ImageReward (THUDM): BLIP-based human-preference reward, loaded in plain torch (differentiable).

``r = (mlp(h_cls) - 0.16717362830052426) / 1.0333394966054072`` where ``h_cls`` is the
first-token hidden state of the BLIP text encoder run on the prompt while cross-attending
to the ViT-L image tokens. Prompts are BERT-tokenised (``bert-base-uncased``, lower case,
``[CLS] … [SEP]``, padded/truncated to 35 tokens); images are resized (shorter side 224,
bicubic), centre-cropped to 224 and normalised with the OpenAI CLIP mean/std.

Why not the ``image-reward`` pip package: its release 1.5 pins ``timm==0.6.13`` (which
requires torchvision, and so drags a CUDA torch into a CPU/ComfyUI environment) and
``fairscale==0.4.13`` (built from source against the installed torch), and also installs
diffusers/accelerate/datasets and needs OpenAI's ``clip`` from GitHub; its loader calls
``torch.load`` without ``weights_only`` and downloads from the hub. This module instead
reads ``ImageReward.pt`` with ``torch.load(weights_only=True)`` (or a ``.safetensors``
conversion) into a faithful re-implementation (`blip_model`). Facts and layout:
``docs/verifiers/image_reward.md``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn

from .base import Verifier
from .blip_model import BlipCore, BlipRewardConfig
from .files import WeightSource, find_weights_file, require_files, require_path
from .hf_models import load_tokenizer
from .image_ops import ImagePreprocess
from .mlp_head import build_mlp_head
from .options import TorchOptions, option
from .state_dicts import load_checked, load_state_dict, strip_prefix

MODEL_ID = "THUDM/ImageReward (ImageReward.pt, med_config.json)"
TOKENIZER_ID = "google-bert/bert-base-uncased (vocab.txt)"
CHECKPOINTS = ("ImageReward.safetensors", "ImageReward.pt")
REWARD_MEAN = 0.16717362830052426
REWARD_STD = 1.0333394966054072
MAX_TOKENS = 35
SOURCE = WeightSource(
    "image_reward", "ImageReward", MODEL_ID, ("ImageReward.pt", "med_config.json", "tokenizer/")
)
TOKENIZER_SOURCE = SOURCE.part(subfolder="tokenizer", model_id=TOKENIZER_ID, files=("vocab.txt",))


@dataclass(frozen=True)
class ImageRewardOptions(TorchOptions):
    """Options of `load_image_reward` (``path``: the checkpoint or the folder holding it)."""

    tokenizer_path: str = option(
        "", "Folder with bert-base-uncased's vocab.txt (default: <folder>/tokenizer)", kind="path"
    )


class ImageRewardModel(nn.Module):
    """``blip`` (image + text encoders) and ``mlp`` head, as in the upstream module."""

    def __init__(self, cfg: BlipRewardConfig, mlp: nn.Sequential) -> None:
        super().__init__()
        self.config = cfg
        self.blip = BlipCore(cfg)
        self.mlp = nn.Module()
        self.mlp.layers = mlp

    def forward(self, pixels: torch.Tensor, ids: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """Normalised pixels ``[B, 3, S, S]``, ids/mask ``[B, L]`` -> raw rewards ``[B]``."""
        image = self.blip.visual_encoder(pixels)
        hidden = self.blip.text_encoder(ids, mask, image)
        return self.mlp.layers(hidden[:, 0].float()).squeeze(-1)


class ImageReward(Verifier):
    """ImageReward verifier on the plain-torch model."""

    name = "image_reward"
    differentiable = True

    def __init__(
        self,
        model: ImageRewardModel,
        tokenizer: Any,
        *,
        device: torch.device | str = "cpu",
        dtype: torch.dtype = torch.float32,
        batch_size: int = 8,
    ) -> None:
        super().__init__(device=device, dtype=dtype, batch_size=batch_size)
        self.model, self.tokenizer = model, tokenizer
        self.preprocess = ImagePreprocess(size=model.config.image_size)
        self.input_size = self.preprocess.size

    def tokenize(self, prompts: list[str]) -> tuple[torch.Tensor, torch.Tensor]:
        """Prompts -> BERT ids and attention mask ``[B, 35]``."""
        tok = self.tokenizer(
            prompts,
            padding="max_length",
            truncation=True,
            max_length=MAX_TOKENS,
            return_tensors="pt",
        )
        return tok["input_ids"].to(self.device), tok["attention_mask"].to(self.device)

    def score_batch(self, images: torch.Tensor, prompts: list[str]) -> torch.Tensor:
        pixels = self.preprocess(images, device=self.device, dtype=self.dtype)
        ids, mask = self.tokenize(prompts)
        return (self.model(pixels, ids, mask) - REWARD_MEAN) / REWARD_STD


def build_model(
    state: dict[str, torch.Tensor], cfg: BlipRewardConfig, file: str | Path
) -> ImageRewardModel:
    """Check ``state`` against ``cfg`` and load it into an `ImageRewardModel` (file dtype, CPU).

    The head is checked first (it must take the ``hidden_size``-d CLS feature and its layers
    must chain), then every tensor of the whole model; any missing, mis-shaped or extra-layer
    tensor is a ``ValueError`` naming it."""
    state = strip_prefix(state)
    mlp = build_mlp_head(
        state,
        prefix="mlp.layers.",
        in_features=cfg.hidden_size,
        file=file,
        source=SOURCE,
        note=f"The head must take the {cfg.hidden_size}-d CLS feature and its layers must chain.",
    )
    with torch.device("meta"):  # no second copy of the weights in memory
        model = ImageRewardModel(cfg, mlp)
    return load_checked(model, state, file=file, source=SOURCE)


def load_image_reward(
    path: str | Path,
    *,
    device: torch.device | str = "cpu",
    dtype: torch.dtype = torch.float32,
    batch_size: int = 8,
    tokenizer_path: str | Path | None = None,
    config: BlipRewardConfig | None = None,
) -> ImageReward:
    """Load ImageReward from ``models/verifiers/image_reward/`` or a checkpoint file.

    The folder holds ``ImageReward.pt`` (or ``ImageReward.safetensors``), optionally
    ``med_config.json`` (text-encoder numbers; defaults match the public file) and
    ``tokenizer/`` with ``bert-base-uncased``'s ``vocab.txt``; ``tokenizer_path`` overrides it.
    """
    root = require_path(path, SOURCE)
    checkpoint = find_weights_file(root, CHECKPOINTS, SOURCE)
    base = root if root.is_dir() else root.parent
    tok_dir = Path(tokenizer_path).expanduser() if tokenizer_path else base / "tokenizer"
    require_files(tok_dir, TOKENIZER_SOURCE)
    tokenizer = load_tokenizer(tok_dir, TOKENIZER_SOURCE, cls_name="BertTokenizer")  # before 1.8 GB
    if config is None:
        med = base / "med_config.json"
        config = BlipRewardConfig.from_med_config(med) if med.is_file() else BlipRewardConfig()
    model = build_model(load_state_dict(checkpoint), config, checkpoint)
    model = model.to(device=torch.device(device), dtype=dtype)
    model.mlp.layers.float()  # the head runs in float32 on the CLS feature, as upstream
    return ImageReward(model, tokenizer, device=device, dtype=dtype, batch_size=batch_size)
