"""Load-time refusal of broken transformers folders: VQAScore and the VLM grader (a tiny
Qwen2.5-VL), object counting (a tiny OWLv2). A missing tensor is never randomly initialised,
a tensor of another size and extra layers are named, all before any image is scored."""

from __future__ import annotations

import pytest

pytest.importorskip("transformers")

from support.checkpoint_edits import (  # noqa: E402
    copy_folder,
    drop,
    duplicate_layer,
    edit_safetensors,
    key_like,
    reshape,
)
from support.vlm_folders import save_tiny_owlv2, save_tiny_qwen25_vl  # noqa: E402

from flowsearch.verifiers.counting import load_counting  # noqa: E402
from flowsearch.verifiers.files import MissingWeightsError  # noqa: E402
from flowsearch.verifiers.vlm_grader import load_vlm_grader  # noqa: E402
from flowsearch.verifiers.vqascore import load_vqascore  # noqa: E402

LOADERS = {"vqascore": load_vqascore, "vlm_grader": load_vlm_grader, "counting": load_counting}


@pytest.fixture(scope="module")
def qwen_dir(tmp_path_factory):
    return save_tiny_qwen25_vl(tmp_path_factory.mktemp("qwen"))


@pytest.fixture(scope="module")
def owl_dir(tmp_path_factory):
    return save_tiny_owlv2(tmp_path_factory.mktemp("owl"))


def cases():
    """(family, folder fixture, a key inside the last-but-one layer of the model).

    Errors name keys as transformers does after converting older layouts: the tiny Qwen
    file's ``model.layers.0.*`` is reported as ``model.language_model.layers.0.*``, which
    still ends with the file's name, so the assertions below hold for both."""
    return [
        ("vqascore", "qwen_dir", "model.layers.0."),
        ("vlm_grader", "qwen_dir", "visual.blocks.0."),
        ("counting", "owl_dir", "vision_model.encoder.layers.0."),
    ]


def broken(request, tmp_path, fixture, edit):
    folder = copy_folder(request.getfixturevalue(fixture), tmp_path / "broken")
    edit_safetensors(folder / "model.safetensors", edit)
    return folder


def refused(family: str, folder) -> str:
    with pytest.raises(ValueError) as info:
        LOADERS[family](folder)
    msg = str(info.value)
    assert str(folder / "model.safetensors") in msg and f"docs/verifiers/{family}.md" in msg
    return msg


@pytest.mark.parametrize("family, fixture, layer", cases())
def test_missing_tensor(request, tmp_path, family, fixture, layer):
    key, shape = key_like(request.getfixturevalue(fixture) / "model.safetensors", layer)
    msg = refused(family, broken(request, tmp_path, fixture, drop(key)))
    assert "missing tensor" in msg and f"{key}: [{shape[0]}, {shape[1]}]" in msg


@pytest.mark.parametrize("family, fixture, layer", cases())
def test_wrong_shape(request, tmp_path, family, fixture, layer):
    key, shape = key_like(request.getfixturevalue(fixture) / "model.safetensors", layer)
    bad = (shape[0] + 3, shape[1])
    msg = refused(family, broken(request, tmp_path, fixture, reshape(key, bad)))
    assert f"{key}: [{shape[0]}, {shape[1]}] vs [{bad[0]}, {bad[1]}]" in msg


@pytest.mark.parametrize("family, fixture, layer", cases())
def test_extra_layers(request, tmp_path, family, fixture, layer):
    key, _ = key_like(request.getfixturevalue(fixture) / "model.safetensors", layer)
    prefix = key[: key.index(layer) + len(layer) - 2]  # "...layers." / "...blocks."
    last = 2 if fixture == "qwen_dir" else 1  # both tiny models: layers 0..last-1
    edit = duplicate_layer(prefix, last - 1, last)
    msg = refused(family, broken(request, tmp_path, fixture, edit))
    assert "layers the model does not have" in msg and f"{prefix}{last}." in msg


@pytest.mark.parametrize("family, fixture, _", cases())
def test_missing_weights_file(request, tmp_path, family, fixture, _):
    folder = copy_folder(request.getfixturevalue(fixture), tmp_path / "no_weights")
    (folder / "model.safetensors").unlink()
    with pytest.raises(MissingWeightsError) as info:
        LOADERS[family](folder)
    msg = str(info.value)
    assert "has no model.safetensors or model.safetensors.index.json" in msg
    assert f"models/verifiers/{family}/" in msg and f"docs/verifiers/{family}.md" in msg
