"""LAION aesthetic predictor v2: CLIP ViT-L/14 image embedding -> MLP head (differentiable).

``score = head(e / |e|)`` where ``e = visual_projection(vision_model(x).pooler_output)`` is
the 768-d projected CLIP ViT-L/14 image embedding (what ``clip.encode_image`` returns) and
``head`` is the improved-aesthetic-predictor MLP (roughly a 1–10 rating scale). The prompt
is ignored.

The head is the improved-aesthetic-predictor MLP (`mlp_head`: linearMSE or reluMSE
layout); ``.pth`` heads load with ``torch.load(weights_only=True)``; a ``.safetensors`` file
with the same keys is preferred (see `convert_head_to_safetensors`). The head must take the
CLIP projection width and its layers must chain; both the head and the CLIP folder are
checked tensor by tensor at load time. Facts: ``docs/verifiers/aesthetic.md``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from .base import Verifier
from .dual_encoder import MODEL_FILES
from .files import WeightSource, find_weights_file, require_files, require_path
from .hf_models import from_pretrained_checked, import_transformers
from .image_ops import ImagePreprocess
from .mlp_head import build_mlp_head
from .options import TorchOptions, option
from .preprocess_config import CLIP_PROCESSOR, preprocess_from_hf_folder
from .state_dicts import load_state_dict

HEAD_ID = "christophschuhmann/improved-aesthetic-predictor (sac+logos+ava1-l14-linearMSE.pth)"
CLIP_ID = "openai/clip-vit-large-patch14"
HEAD_FILES = (
    "sac+logos+ava1-l14-linearMSE.safetensors",
    "sac+logos+ava1-l14-linearMSE.pth",
)
CLIP_SUBFOLDER = "clip-vit-large-patch14"
SOURCE = WeightSource("aesthetic", "LAION aesthetic", HEAD_ID, HEAD_FILES[1:])
CLIP_SOURCE = SOURCE.part(subfolder=CLIP_SUBFOLDER, model_id=CLIP_ID, files=MODEL_FILES)


@dataclass(frozen=True)
class AestheticOptions(TorchOptions):
    """Options of `load_aesthetic` (``path``: the head file or the folder holding it)."""

    clip_path: str = option(
        "", "CLIP ViT-L/14 folder (default: <folder>/clip-vit-large-patch14)", kind="path"
    )


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
    """A HF ``CLIPModel`` folder (weights checked) with the text tower dropped after loading."""
    transformers = import_transformers(CLIP_SOURCE)
    model = from_pretrained_checked(
        transformers.CLIPModel, folder, CLIP_SOURCE, device=device, dtype=dtype
    )
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
    root = require_path(path, SOURCE)
    head_file = find_weights_file(root, HEAD_FILES, SOURCE)
    base = root if root.is_dir() else root.parent
    clip_dir = Path(clip_path).expanduser() if clip_path else base / CLIP_SUBFOLDER
    require_files(clip_dir, CLIP_SOURCE)
    transformers = import_transformers(CLIP_SOURCE)
    config = transformers.CLIPConfig.from_pretrained(str(clip_dir), local_files_only=True)
    # the head is checked before the (large) CLIP weights are read
    head = build_mlp_head(
        load_state_dict(head_file),
        in_features=int(config.projection_dim),
        file=head_file,
        source=SOURCE,
        note=f"The head must take the {config.projection_dim}-d embeddings of '{clip_dir}' "
        "and its layers must chain.",
    )
    clip = load_clip_vision(clip_dir, device=device, dtype=dtype)
    pre = preprocess_from_hf_folder(
        clip_dir, CLIP_PROCESSOR, int(clip.config.vision_config.image_size)
    )
    return AestheticScore(
        clip, head, preprocess=pre, device=device, dtype=dtype, batch_size=batch_size
    )


def convert_head_to_safetensors(pth: str | Path, out: str | Path) -> Path:
    """Re-save a head ``.pth`` (read weights-only) as ``.safetensors`` with the same keys."""
    from safetensors.torch import save_file

    state = load_state_dict(pth)
    build_mlp_head(state, file=pth, source=SOURCE)  # refuse files that are not a valid head
    save_file({k: v.contiguous() for k, v in state.items()}, str(out))
    return Path(out)
