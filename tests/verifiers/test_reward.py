"""reward_from_verifier: latents -> decode -> verifier scores, with the flags a search reads."""

from __future__ import annotations

import time

import pytest
import torch

from flowsearch.verifiers import Ensemble, Verifier, reward_from_verifier, score_clip


class PromptBrightness(Verifier):
    """Differentiable toy: ``mean(pixels) + 0.01 · len(prompt)`` (prompts reach the score)."""

    name = "prompt_brightness"
    differentiable = True

    def __init__(self, sleep: float = 0.0, differentiable: bool = True):
        super().__init__(batch_size=3)
        self.sleep, self.differentiable = sleep, differentiable
        self.grad_enabled: list[bool] = []

    def score_batch(self, images, prompts):
        time.sleep(self.sleep)
        self.grad_enabled.append(torch.is_grad_enabled())
        lengths = torch.tensor([len(p) for p in prompts], dtype=images.dtype)
        return images.mean(dim=(1, 2, 3)) + 0.01 * lengths


def decode(x0: torch.Tensor) -> torch.Tensor:
    """Latents ``[B, 4, 8, 8]`` -> images ``[B, 8, 8, 3]`` in (0, 1)."""
    return torch.sigmoid(x0[:, :3].permute(0, 2, 3, 1))


def latents(b: int = 5, seed: int = 0) -> torch.Tensor:
    return torch.randn(b, 4, 8, 8, generator=torch.Generator().manual_seed(seed))


def test_reward_is_the_verifier_on_decoded_latents():
    v = PromptBrightness()
    reward = reward_from_verifier(v, decode, "a cat")
    x0 = latents()
    r = reward(x0)
    assert r.shape == (5,) and r.dtype == torch.float32 and r.device == x0.device
    torch.testing.assert_close(r, v(decode(x0), "a cat"))
    per = reward_from_verifier(v, decode, ["a", "bb", "ccc", "dddd", "eeeee"])(x0)
    torch.testing.assert_close(per - r, 0.01 * torch.tensor([-4.0, -3, -2, -1, 0]))


def test_flags_and_gradients():
    x0 = latents().requires_grad_(True)
    diff = reward_from_verifier(PromptBrightness(), decode, "p")
    assert diff.differentiable and not diff.batch_relative
    diff(x0).sum().backward()
    assert x0.grad is not None and float(x0.grad.abs().sum()) > 0
    plain_v = PromptBrightness(differentiable=False)
    plain = reward_from_verifier(plain_v, decode, "p")
    assert not plain.differentiable
    with torch.enable_grad():
        out = plain(latents().requires_grad_(True))
    assert out.grad_fn is None and plain_v.grad_enabled == [False, False]  # no graph kept
    with torch.no_grad():
        assert diff(x0).grad_fn is None


def test_batch_relative_follows_the_ensemble():
    members = [PromptBrightness(), PromptBrightness()]
    rank = Ensemble(members, mode="rank")
    fixed = Ensemble(members, mode="zscore", stats=[(0.5, 0.1), (0.5, 0.2)])
    nested = Ensemble([rank, members[0]], mode="zscore", stats=[(3.0, 1.0), (0.5, 0.1)])
    assert reward_from_verifier(rank, decode, "p").batch_relative
    assert reward_from_verifier(Ensemble(members, mode="zscore"), decode, "p").batch_relative
    assert not reward_from_verifier(fixed, decode, "p").batch_relative
    assert reward_from_verifier(fixed, decode, "p").differentiable
    assert reward_from_verifier(nested, decode, "p").batch_relative
    x0 = latents(4)
    ranks = reward_from_verifier(rank, decode, "p")(x0)
    assert sorted(ranks.tolist()) == [1.0, 2.0, 3.0, 4.0]  # one call ranks the whole batch


def test_timings_split_decode_and_verifier():
    def slow_decode(x0):
        time.sleep(0.05)
        return decode(x0)

    reward = reward_from_verifier(PromptBrightness(sleep=0.02), slow_decode, "p")
    reward(latents(5))  # two verifier chunks of batch_size 3
    reward(latents(2))
    t = reward.timings
    assert t.calls == 2 and t.samples == 7
    assert 0.1 <= t.decode < 5.0 and 0.06 <= t.verifier < 5.0, t
    assert set(t.to_json()) == {"decode_seconds", "verifier_seconds", "calls", "samples"}
    t.reset()
    assert (t.decode, t.verifier, t.calls, t.samples) == (0.0, 0.0, 0, 0)


def test_video_clips_go_through_score_clip():
    v = PromptBrightness()

    def decode_video(x0):  # [B, C, F, h, w] -> [B, F, h, w, 3]
        return torch.sigmoid(x0[:, :3].permute(0, 2, 3, 4, 1))

    x0 = torch.randn(3, 4, 5, 8, 8, generator=torch.Generator().manual_seed(1))
    r = reward_from_verifier(v, decode_video, "a cat", aggregate="min")(x0)
    clips = decode_video(x0)
    expected = torch.stack([score_clip(v, c, "a cat", aggregate="min") for c in clips])
    torch.testing.assert_close(r, expected)
    rank = Ensemble([v, PromptBrightness()], mode="rank")
    with pytest.raises(ValueError, match="cannot score the frames"):
        reward_from_verifier(rank, decode_video, "a cat")(x0)


def test_bad_inputs_are_named():
    v = PromptBrightness()
    with pytest.raises(ValueError, match="2 prompts for a batch of 5"):
        reward_from_verifier(v, decode, ["a", "b"])(latents())
    with pytest.raises(ValueError, match="decode turned 5 latents"):
        reward_from_verifier(v, lambda x: decode(x)[:2], "a")(latents())
    with pytest.raises(ValueError, match="decode must return images"):
        reward_from_verifier(v, lambda x: x[:, 0], "a")(latents())
    with pytest.raises(ValueError, match="must be in \\[0, 1\\]"):
        reward_from_verifier(v, lambda x: 5 * decode(x), "a")(latents())
    with pytest.raises(ValueError, match="must be a Verifier"):
        reward_from_verifier(decode, decode, "a")
    with pytest.raises(ValueError, match="non-empty list"):
        reward_from_verifier(v, decode, [])


def test_real_verifier_gradient_reaches_latents(tmp_path):
    pytest.importorskip("transformers")
    from support.tiny_models import write_tiny_checkpoint

    from flowsearch.verifiers import load_verifier

    clip = load_verifier("clip_score", path=write_tiny_checkpoint("clip_score", tmp_path))
    reward = reward_from_verifier(clip, decode, "a photo of a cat")
    x0 = latents(2).requires_grad_(True)
    r = reward(x0)
    torch.testing.assert_close(r, clip(decode(x0), "a photo of a cat"))
    r.sum().backward()
    assert x0.grad is not None and bool(torch.isfinite(x0.grad).all())
