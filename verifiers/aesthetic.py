"""LAION aesthetic predictor v2: CLIP ViT-L/14 image embedding -> MLP head (differentiable).

``score = head(e / |e|)`` where ``e = visual_projection(vision_model(x).pooler_output)`` is
the 768-d projected CLIP ViT-L/14 image embedding (what ``clip.encode_image`` returns) and
``head`` is the improved-aesthetic-predictor MLP (roughly a 1–10 rating scale). The prompt
is ignored.

The public head files are ``nn.Sequential`` state dicts under ``layers.N``:

- ``sac+logos+ava1-l14-linearMSE.pth`` (the usual one) and ``ava+logos-l14-linearMSE.pth``:
  Linear layers at indices 0, 2, 4, 6, 7 (768→1024→128→64→16→1), Dropout between the first
  four, *no* activations;
- ``ava+logos-l14-reluMSE.pth``: Linear at 0, 3, 6, 9, 11 with a ReLU after every Linear
  but the last.

They load with ``torch.load(weights_only=True)``; a ``.safetensors`` file with the same
keys is preferred (see `convert_head_to_safetensors`). The same head layout (under
``mlp.layers.N``) is ImageReward's. Facts: ``docs/verifiers/aesthetic.md``.
"""

from __future__ import annotations

from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from .base import Verifier
from .clip_score import WEIGHT_FILES
from .hf_local import from_pretrained_local, import_transformers, require_files
from .image_ops import ImagePreprocess, preprocess_from_hf_folder
from .loading import find_weights_file, load_state_dict, require_path

HEAD_ID = "christophschuhmann/improved-aesthetic-predictor (sac+logos+ava1-l14-linearMSE.pth)"
CLIP_ID = "openai/clip-vit-large-patch14"
HEAD_FILES = (
    "sac+logos+ava1-l14-linearMSE.safetensors",
    "sac+logos+ava1-l14-linearMSE.pth",
)
CLIP_SUBFOLDER = "clip-vit-large-patch14"
_LINEAR_LAYOUT = [0, 2, 4, 6, 7]
_RELU_LAYOUT = [0, 3, 6, 9, 11]


def build_mlp_head(state: dict[str, torch.Tensor], prefix: str = "layers.") -> nn.Sequential:
    """Rebuild the aesthetic/ImageReward MLP from its state dict (widths read from the shapes).

    Returns an ``nn.Sequential`` whose indices match the file, loaded and in eval mode.
    Dropout slots become ``nn.Identity`` (dropout is the identity at inference).
    """
    idx = sorted(
        {
            int(k[len(prefix) :].split(".")[0])
            for k in state
            if k.startswith(prefix) and k.endswith(".weight")
        }
    )
    if idx == _LINEAR_LAYOUT:
        relu = False
    elif idx == _RELU_LAYOUT:
        relu = True
    else:
        raise ValueError(
            f"unknown MLP head layout: Linear layers at {prefix}{idx}; expected {_LINEAR_LAYOUT} "
            f"(linearMSE heads, ImageReward) or {_RELU_LAYOUT} (reluMSE head)"
        )
    slots: list[nn.Module] = [nn.Identity() for _ in range(idx[-1] + 1)]
    for j, i in enumerate(idx):
        out_f, in_f = state[f"{prefix}{i}.weight"].shape
        slots[i] = nn.Linear(in_f, out_f)
        if relu and j < len(idx) - 1:
            slots[i + 1] = nn.ReLU()
    head = nn.Sequential(*slots)
    sub = {k[len(prefix) :]: v for k, v in state.items() if k.startswith(prefix)}
    head.load_state_dict(sub, strict=True)
    return head.eval().requires_grad_(False)


class AestheticScore(Verifier):
    """LAION aesthetic v2 score of images (prompts are ignored)."""

    name = "aesthetic"
    differentiable = True

    def __init__(
        self,
        clip: nn.Module,
        head: nn.Sequential,
        *,
        preprocess: ImagePreprocess,
        device: torch.device | str = "cpu",
        dtype: torch.dtype = torch.float32,
        batch_size: int = 8,
    ) -> None:
        super().__init__(device=device, dtype=dtype, batch_size=batch_size)
        self.clip = clip
        self.head = head.to(device=self.device, dtype=torch.float32)
        self.preprocess = preprocess
        self.input_size = preprocess.size

    def embed(self, images: torch.Tensor) -> torch.Tensor:
        """``[B, H, W, 3]`` -> unit CLIP image embeddings ``[B, 768]`` (float32)."""
        x = self.preprocess(images, device=self.device, dtype=self.dtype)
        pooled = self.clip.vision_model(pixel_values=x).pooler_output
        return F.normalize(self.clip.visual_projection(pooled).float(), dim=-1)

    def score_batch(self, images: torch.Tensor, prompts: list[str]) -> torch.Tensor:
        return self.head(self.embed(images)).squeeze(-1)


def load_clip_vision(folder: Path, *, device: torch.device | str, dtype: torch.dtype) -> nn.Module:
    """A HF ``CLIPModel`` folder with the text tower dropped after loading (vision + projection)."""
    transformers = import_transformers("LAION aesthetic")
    model = from_pretrained_local(transformers.CLIPModel, folder, device=device, dtype=dtype)
    del model.text_model, model.text_projection  # never used here; frees their memory
    return model


def load_aesthetic(
    path: str | Path,
    *,
    device: torch.device | str = "cpu",
    dtype: torch.dtype = torch.float32,
    batch_size: int = 8,
    clip_path: str | Path | None = None,
) -> AestheticScore:
    """Load the LAION aesthetic predictor v2 from ``models/verifiers/aesthetic/``.

    ``path`` is the head file (``.safetensors`` or ``.pth``) or the folder holding it; the
    CLIP ViT-L/14 HF folder is ``clip_path`` or ``<folder>/clip-vit-large-patch14/``.
    """
    family = "LAION aesthetic"
    root = require_path(path, family=family, model_id=HEAD_ID, subfolder="aesthetic")
    head_file = find_weights_file(
        root, HEAD_FILES, family="LAION aesthetic head", model_id=HEAD_ID, subfolder="aesthetic"
    )
    base = root if root.is_dir() else root.parent
    clip_dir = Path(clip_path).expanduser() if clip_path else base / CLIP_SUBFOLDER
    require_files(
        clip_dir,
        ["config.json", WEIGHT_FILES],
        family=family,
        model_id=CLIP_ID,
        subfolder=f"aesthetic/{CLIP_SUBFOLDER}",
    )
    clip = load_clip_vision(clip_dir, device=device, dtype=dtype)
    head = build_mlp_head(load_state_dict(head_file))
    if head[0].in_features != clip.config.projection_dim:
        raise ValueError(
            f"aesthetic head expects {head[0].in_features}-d embeddings but the CLIP model in "
            f"'{clip_dir}' gives {clip.config.projection_dim}-d (use CLIP ViT-L/14)"
        )
    default = ImagePreprocess(size=int(clip.config.vision_config.image_size))
    pre = preprocess_from_hf_folder(clip_dir, default)
    return AestheticScore(
        clip, head, preprocess=pre, device=device, dtype=dtype, batch_size=batch_size
    )


def convert_head_to_safetensors(pth: str | Path, out: str | Path) -> Path:
    """Re-save a head ``.pth`` (read weights-only) as ``.safetensors`` with the same keys."""
    from safetensors.torch import save_file

    state = load_state_dict(pth)
    build_mlp_head(state)  # refuse files that are not a known head
    save_file({k: v.contiguous() for k, v in state.items()}, str(out))
    return Path(out)
