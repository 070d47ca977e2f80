"""Fashion-MNIST models: idx reader, shipped weights, classifier accuracy, reward, FD."""

from __future__ import annotations

import gzip
import importlib
import json
import struct
from pathlib import Path

import numpy as np
import pytest
import torch

from flowsearch.demo.checkpoint import read_checkpoint, save_module
from flowsearch.demo.classifiers import JudgeConfig, JudgeResNet
from flowsearch.demo.data import (
    DEFAULT_ROOT,
    dataset_files,
    load_fashion_mnist,
    read_idx,
    to_model_space,
)
from flowsearch.demo.models import (
    CLASSIFIER_WEIGHTS,
    classifier_reward,
    flow_denoiser,
    load_classifier,
    load_flow_model,
)
from flowsearch.demo.quality import frechet_distance, predict_classes
from flowsearch.samplers import sample

needs_data = pytest.mark.skipif(
    not (DEFAULT_ROOT / "t10k-labels-idx1-ubyte.gz").exists(),
    reason="Fashion-MNIST not installed (apt-get install dataset-fashion-mnist)",
)


def _write_idx(path, array: np.ndarray, code: int, compress: bool) -> None:
    header = bytes([0, 0, code, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    payload = header + array.astype(array.dtype.newbyteorder(">")).tobytes()
    if compress:
        with gzip.open(path, "wb") as fh:
            fh.write(payload)
    else:
        path.write_bytes(payload)


@pytest.mark.parametrize("compress", [True, False])
def test_read_idx_round_trip(tmp_path, compress):
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, size=(5, 28, 28), dtype=np.uint8)
    floats = rng.standard_normal((3, 4)).astype(np.float32)
    _write_idx(tmp_path / "a.gz" if compress else tmp_path / "a", images, 0x08, compress)
    _write_idx(tmp_path / "b.gz" if compress else tmp_path / "b", floats, 0x0D, compress)
    got = read_idx(tmp_path / ("a.gz" if compress else "a"))
    assert got.dtype == np.uint8 and np.array_equal(got, images)
    np.testing.assert_array_equal(read_idx(tmp_path / ("b.gz" if compress else "b")), floats)


def test_read_idx_rejects_bad_files(tmp_path):
    (tmp_path / "bad").write_bytes(b"\x01\x02\x08\x01\x00\x00\x00\x02ab")
    with pytest.raises(ValueError, match="not an IDX file"):
        read_idx(tmp_path / "bad")
    (tmp_path / "short").write_bytes(bytes([0, 0, 8, 1]) + struct.pack(">I", 5) + b"abc")
    with pytest.raises(ValueError, match="declares shape"):
        read_idx(tmp_path / "short")


def test_missing_dataset_names_the_debian_package(tmp_path):
    with pytest.raises(FileNotFoundError, match="apt-get install dataset-fashion-mnist"):
        dataset_files("test", root=tmp_path)
    with pytest.raises(ValueError, match="split"):
        dataset_files("val")


@needs_data
def test_real_test_split_and_model_space():
    images, labels = load_fashion_mnist("test")
    assert images.shape == (10000, 28, 28) and images.dtype == torch.uint8
    assert torch.equal(labels.bincount(), torch.full((10,), 1000))
    x = to_model_space(images[:8])
    assert x.shape == (8, 1, 32, 32) and x.dtype == torch.float32
    assert float(x.min()) >= -1.0 and float(x.max()) <= 1.0
    assert bool((x[:, :, :2] == -1.0).all()) and bool((x[:, :, :, -2:] == -1.0).all())
    assert torch.allclose(x[:, 0, 2:30, 2:30], images[:8].float() / 127.5 - 1.0)


def test_checkpoint_round_trip(tmp_path):
    torch.manual_seed(0)
    model = JudgeResNet(JudgeConfig(widths=(8, 8, 16, 16))).eval()
    path = save_module(
        model, tmp_path / "j.safetensors", arch="JudgeResNet", config=model.config.to_dict()
    )
    loaded = load_classifier("b", path=path)
    x = torch.randn(4, 1, 32, 32)
    with torch.no_grad():  # fp16 storage: agreement up to half precision
        torch.testing.assert_close(loaded(x), model(x), atol=2e-2, rtol=2e-2)
    state, meta = read_checkpoint(path)
    assert json.loads(meta["config"])["widths"] == [8, 8, 16, 16]
    assert all(v.dtype == torch.float16 for v in state.values() if v.is_floating_point())


def test_shipped_flow_model_gives_finite_plausible_samples():
    model = load_flow_model()
    denoise = flow_denoiser(model)
    x = torch.randn(4, 1, 32, 32, generator=torch.Generator().manual_seed(0))
    t = torch.full((4,), 0.5)
    with torch.no_grad():
        x0_hat = denoise(x, t)
        assert x0_hat.shape == x.shape and x0_hat.dtype == x.dtype
        torch.testing.assert_close(denoise(x, torch.zeros(4)), x)  # t = 0: x is clean
        gen = torch.Generator().manual_seed(1)
        noise = torch.randn(16, 1, 32, 32, generator=gen)
        out = sample(
            denoise, noise, steps=8, stochastic=False, interpolant="linear", grid="uniform"
        )
    assert bool(torch.isfinite(out).all())
    # Fashion-MNIST in model space: mean pixel about -0.56, border pixels -1.
    assert -0.75 < float(out.mean()) < -0.4
    assert float(out[:, :, :2].mean()) < -0.8


@needs_data
@pytest.mark.parametrize("which", ["a", "b"])
def test_classifier_accuracy_on_fixed_test_subset(which):
    model = load_classifier(which)
    images, labels = load_fashion_mnist("test")
    x = to_model_space(images[:1000])
    acc = float((predict_classes(model, x) == labels[:1000]).float().mean())
    recorded = json.loads(read_checkpoint(CLASSIFIER_WEIGHTS[which])[1]["stats"])["test_accuracy"]
    assert acc >= recorded - 0.025, (acc, recorded)


@needs_data
def test_classifier_reward_shape_sign_and_preference():
    classifier_a = load_classifier("a")
    images, labels = load_fashion_mnist("test")
    x = to_model_space(images[:200])
    rewards = torch.stack([classifier_reward(classifier_a, c)(x) for c in range(10)], dim=1)
    assert rewards.shape == (200, 10) and rewards.dtype == torch.float32
    assert bool((rewards <= 0).all())
    torch.testing.assert_close(rewards.exp().sum(1), torch.ones(200))
    own = rewards.gather(1, labels[:200, None]).squeeze(1)
    assert float(own.mean()) > float(rewards.mean()) + 1.0  # the requested class scores higher
    with pytest.raises(ValueError, match="class_index"):
        classifier_reward(classifier_a, 10)
    with pytest.raises(ValueError, match="x0"):
        classifier_reward(classifier_a, 3)(torch.zeros(2, 28, 28))


def test_frechet_distance_matches_closed_form():
    gen = torch.Generator().manual_seed(0)
    a = torch.randn(4000, 6, generator=gen, dtype=torch.float64)
    assert abs(frechet_distance(a, a)) < 1e-8
    shift = torch.tensor([1.0, -2.0, 0.0, 0.0, 0.5, 0.0], dtype=torch.float64)
    assert abs(frechet_distance(a, a + shift) - float(shift.square().sum())) < 1e-8
    # Scale 2: |m - 2m|^2 + tr(S) + tr(4S) - 2 tr(2S) = |m|^2 + tr(S).
    expected = float(a.mean(0).square().sum() + torch.cov(a.T).trace())
    assert abs(frechet_distance(a, 2.0 * a) - expected) < 1e-8


TRAINING = Path(__file__).resolve().parents[2] / "training"


def test_random_shift_moves_content_without_losing_it(monkeypatch):
    # The training scripts are not part of the package: imported by path.
    monkeypatch.syspath_prepend(str(TRAINING))
    random_shift = importlib.import_module("train_classifiers").random_shift
    images = torch.full((6, 1, 32, 32), -1.0)
    images[:, :, 2:30, 2:30] = torch.rand(6, 1, 28, 28, generator=torch.Generator().manual_seed(0))
    gen = torch.Generator().manual_seed(1)
    moved = random_shift(images, 2, gen)
    assert moved.shape == images.shape
    torch.testing.assert_close(moved.sum(dim=(1, 2, 3)), images.sum(dim=(1, 2, 3)))
    assert torch.equal(random_shift(images, 0, gen), images)


def test_shipped_flow_samples_are_recognised_by_the_judge():
    denoise = flow_denoiser(load_flow_model())
    judge = load_classifier("b")
    noise = torch.randn(64, 1, 32, 32, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        x = sample(denoise, noise, steps=20, stochastic=False, interpolant="linear", grid="uniform")
        probs = judge(x.clamp(-1.0, 1.0)).softmax(1)
    # Measured: mean top probability 0.88, all 10 classes (pure noise: 0.66, 4 classes).
    assert float(probs.max(1).values.mean()) > 0.78
    assert probs.argmax(1).unique().numel() >= 8
