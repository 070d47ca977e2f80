"""Load-time refusal of broken CLIP-family checkpoints (CLIPScore, PickScore, aesthetic).

Each case is a real-layout tiny folder with one defect: a tensor missing (a truncated
download), a tensor of another size, extra layers (a file of a bigger model), a head whose
layers do not chain. Each must fail at load time with a ValueError naming the file, the key,
the expected and found shapes and the public model, and never load random weights.
"""

from __future__ import annotations

import re

import pytest
import torch

pytest.importorskip("transformers")

from support import tiny_models as tiny  # noqa: E402
from support.checkpoint_edits import (  # noqa: E402
    copy_folder,
    drop,
    duplicate_layer,
    edit_pickle,
    edit_safetensors,
    reshape,
)

from flowsearch.verifiers.aesthetic import HEAD_ID, load_aesthetic  # noqa: E402
from flowsearch.verifiers.clip_score import load_clip_score  # noqa: E402
from flowsearch.verifiers.pickscore import MODEL_ID as PICKSCORE_ID  # noqa: E402
from flowsearch.verifiers.pickscore import load_pickscore  # noqa: E402

CLIP_ID = "openai/clip-vit-large-patch14"
HEAD = "sac+logos+ava1-l14-linearMSE"


@pytest.fixture(scope="module")
def clip_dir(tmp_path_factory):
    return tiny.make_tiny_clip(tmp_path_factory.mktemp("clip"))


@pytest.fixture(scope="module")
def aesthetic_dir(tmp_path_factory):
    return tiny.make_tiny_aesthetic(tmp_path_factory.mktemp("aesthetic"), seed=3)


def broken_clip(clip_dir, tmp_path, edit):
    folder = copy_folder(clip_dir, tmp_path / "broken")
    edit_safetensors(folder / "model.safetensors", edit)
    return folder


def refused(load, *args, **kwargs) -> str:
    with pytest.raises(ValueError) as info:
        load(*args, **kwargs)
    return str(info.value)


@pytest.mark.parametrize("load", [load_clip_score, load_pickscore], ids=["clip_score", "pick"])
def test_missing_tensor_is_refused_never_random(clip_dir, tmp_path, load):
    folder = broken_clip(clip_dir, tmp_path, drop("text_projection.weight"))
    msg = refused(load, folder)
    assert str(folder / "model.safetensors") in msg
    assert "text_projection.weight: [16, 32]" in msg and "missing" in msg
    assert (CLIP_ID if load is load_clip_score else PICKSCORE_ID) in msg


def test_wrong_shape_names_the_key_and_both_shapes(clip_dir, tmp_path):
    folder = broken_clip(clip_dir, tmp_path, reshape("visual_projection.weight", (24, 32)))
    msg = refused(load_clip_score, folder)
    assert "visual_projection.weight: [16, 32] vs [24, 32]" in msg
    assert "ignore_mismatched_sizes" not in msg


def test_extra_layers_are_refused(clip_dir, tmp_path):
    """A file with a third encoder layer under a two-layer config is a bigger model."""
    folder = broken_clip(clip_dir, tmp_path, duplicate_layer("text_model.encoder.layers.", 1, 2))
    msg = refused(load_clip_score, folder)
    assert "layers the model does not have" in msg
    assert "16 tensor(s) of layers" in msg and "text_model.encoder.layers.2.mlp.fc1.weight" in msg


def test_unused_tensors_are_ignored(clip_dir, tmp_path):
    """Tensors that are no copy of a model layer (another head) do not block loading."""

    def add_head(state):
        state["extra_head.weight"] = torch.zeros(3, 16)
        return state

    images = tiny_images()
    folder = broken_clip(clip_dir, tmp_path, add_head)
    torch.testing.assert_close(
        load_clip_score(folder, mode="logit")(images, "a cat"),
        load_clip_score(clip_dir, mode="logit")(images, "a cat"),
    )


def test_siglip_missing_tensor(tmp_path):
    pytest.importorskip("sentencepiece")
    folder = tiny.make_tiny_siglip(tmp_path / "siglip")
    edit_safetensors(folder / "model.safetensors", drop("logit_bias"))
    msg = refused(load_clip_score, folder)
    assert "logit_bias: [1]" in msg


def test_aesthetic_clip_folder_is_checked(aesthetic_dir, tmp_path):
    folder = copy_folder(aesthetic_dir, tmp_path / "aesthetic")
    edit_safetensors(
        folder / "clip-vit-large-patch14" / "model.safetensors",
        drop("vision_model.post_layernorm.weight"),
    )
    msg = refused(load_aesthetic, folder)
    assert "vision_model.post_layernorm.weight: [32]" in msg and CLIP_ID in msg


def head_copy(aesthetic_dir, tmp_path, edit):
    """The aesthetic folder with only the .pth head, edited."""
    folder = copy_folder(aesthetic_dir, tmp_path / "aesthetic")
    (folder / f"{HEAD}.safetensors").unlink()
    edit_pickle(folder / f"{HEAD}.pth", edit)
    return folder


def test_head_layers_that_do_not_chain_are_refused_at_load(aesthetic_dir, tmp_path):
    """Issue 13 case 3: layer 2 takes 30 inputs after a 24-wide layer."""
    folder = head_copy(aesthetic_dir, tmp_path, reshape("layers.2.weight", (16, 30)))
    msg = refused(load_aesthetic, folder)
    assert str(folder / f"{HEAD}.pth") in msg and HEAD_ID in msg
    assert "layers.2.weight: [16, 24] vs [16, 30]" in msg and "chain" in msg


def test_head_missing_bias_and_wrong_input_width(aesthetic_dir, tmp_path):
    folder = head_copy(aesthetic_dir, tmp_path, drop("layers.7.bias"))
    assert "layers.7.bias: [1]" in refused(load_aesthetic, folder)
    wide = head_copy(aesthetic_dir, tmp_path / "w", reshape("layers.0.weight", (24, 20)))
    msg = refused(load_aesthetic, wide)
    assert "layers.0.weight: [24, 16] vs [24, 20]" in msg and "16-d embeddings" in msg


def test_head_with_two_outputs_is_refused(aesthetic_dir, tmp_path):
    def two_outputs(state):
        state["layers.7.weight"] = torch.zeros(2, 4)
        state["layers.7.bias"] = torch.zeros(2)
        return state

    msg = refused(load_aesthetic, head_copy(aesthetic_dir, tmp_path, two_outputs))
    assert re.search(r"layers\.7\.weight: \[1, 4\] vs \[2, 4\]", msg), msg


def tiny_images() -> torch.Tensor:
    return torch.rand(2, 36, 44, 3, generator=torch.Generator().manual_seed(0))
