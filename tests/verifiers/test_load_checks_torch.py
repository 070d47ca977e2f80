"""Load-time refusal of broken HPSv2 and ImageReward checkpoints (our own torch models).

Same cases as `test_load_checks_clip`: a missing tensor, a tensor of another size, extra
layers, and ImageReward's head (issue 13 case 4: a missing ``mlp.layers.7.bias`` and a head
of the wrong input width are refused at load time with a ValueError, not a torch error).
"""

from __future__ import annotations

import shutil

import pytest

pytest.importorskip("transformers")

from support import tiny_models as tiny  # noqa: E402
from support.checkpoint_edits import drop, duplicate_layer, edit_pickle, reshape  # noqa: E402

from flowsearch.verifiers.hps import MODEL_ID as HPS_ID  # noqa: E402
from flowsearch.verifiers.hps import load_hps  # noqa: E402
from flowsearch.verifiers.image_reward import MODEL_ID as IR_ID  # noqa: E402
from flowsearch.verifiers.image_reward import load_image_reward  # noqa: E402


@pytest.fixture(scope="module")
def hps_dir(tmp_path_factory):
    return tiny.make_tiny_hps(tmp_path_factory.mktemp("hps"), seed=1)


@pytest.fixture(scope="module")
def ir_dir(tmp_path_factory):
    return tiny.make_tiny_image_reward(tmp_path_factory.mktemp("image_reward"), seed=2)


def refused(load, *args, **kwargs) -> str:
    with pytest.raises(ValueError) as info:
        load(*args, **kwargs)
    return str(info.value)


def broken_hps(hps_dir, tmp_path, edit):
    folder, cfg = hps_dir
    out = tmp_path / "HPS_v2.1_compressed.pt"
    shutil.copy(folder / out.name, out)
    edit_pickle(out, edit, key="state_dict")
    return out, dict(config=cfg, tokenizer_path=folder / "tokenizer")


def test_hps_missing_tensor(hps_dir, tmp_path):
    file, kw = broken_hps(hps_dir, tmp_path, drop("ln_final.weight", "visual.proj"))
    msg = refused(load_hps, file, **kw)
    assert str(file) in msg and HPS_ID in msg and "2 missing tensor(s)" in msg
    assert "ln_final.weight: [32]" in msg and "visual.proj: [32, 16]" in msg


def test_hps_wrong_shape(hps_dir, tmp_path):
    file, kw = broken_hps(hps_dir, tmp_path, reshape("text_projection", (32, 24)))
    assert "text_projection: [32, 16] vs [32, 24]" in refused(load_hps, file, **kw)


def test_hps_extra_layers(hps_dir, tmp_path):
    file, kw = broken_hps(hps_dir, tmp_path, duplicate_layer("transformer.resblocks.", 1, 2))
    msg = refused(load_hps, file, **kw)
    assert "layers the model does not have" in msg and "transformer.resblocks.2.ln_1.weight" in msg


def broken_ir(ir_dir, tmp_path, edit):
    folder, cfg = ir_dir
    out = tmp_path / "image_reward"
    shutil.copytree(folder, out)
    edit_pickle(out / "ImageReward.pt", edit)
    return out, dict(config=cfg)


def test_image_reward_missing_head_bias_is_a_value_error(ir_dir, tmp_path):
    folder, kw = broken_ir(ir_dir, tmp_path, drop("mlp.layers.7.bias"))
    msg = refused(load_image_reward, folder, **kw)
    assert str(folder / "ImageReward.pt") in msg and IR_ID in msg
    assert "mlp.layers.7.bias: [1]" in msg


def test_image_reward_head_of_wrong_width_is_refused_at_load(ir_dir, tmp_path):
    folder, kw = broken_ir(ir_dir, tmp_path, reshape("mlp.layers.0.weight", (24, 40)))
    msg = refused(load_image_reward, folder, **kw)
    assert "mlp.layers.0.weight: [24, 32] vs [24, 40]" in msg and "32-d CLS feature" in msg


def test_image_reward_head_that_does_not_chain(ir_dir, tmp_path):
    folder, kw = broken_ir(ir_dir, tmp_path, reshape("mlp.layers.4.weight", (8, 20)))
    assert "mlp.layers.4.weight: [8, 16] vs [8, 20]" in refused(load_image_reward, folder, **kw)


def test_image_reward_backbone_tensors(ir_dir, tmp_path):
    key = "blip.text_encoder.encoder.layer.1.crossattention.self.key.weight"
    folder, kw = broken_ir(ir_dir, tmp_path, drop(key))
    assert f"{key}: [32, 48]" in refused(load_image_reward, folder, **kw)
    folder, kw = broken_ir(
        ir_dir, tmp_path / "x", duplicate_layer("blip.visual_encoder.blocks.", 1, 2)
    )
    assert "blip.visual_encoder.blocks.2.attn.qkv.weight" in refused(
        load_image_reward, folder, **kw
    )
