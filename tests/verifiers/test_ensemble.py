"""Ensemble arithmetic against hand-computed values, ties included."""

from __future__ import annotations

import pytest
import torch
from support.contract import (
    check_bad_inputs,
    check_gradient,
    check_output,
    random_images,
)

from flowsearch.verifiers.base import Verifier
from flowsearch.verifiers.ensemble import Ensemble, average_ranks, standardize


class Fixed(Verifier):
    """Returns given scores for the images whose first pixel (red) encodes their index."""

    name = "fixed"

    def __init__(self, values, name="fixed", batch_size=8):
        super().__init__(batch_size=batch_size)
        self.values = torch.tensor(values, dtype=torch.float32)
        self.name = name
        self.seen_prompts: list[list[str]] = []

    def score_batch(self, images, prompts):
        self.seen_prompts.append(list(prompts))
        idx = (images[:, 0, 0, 0] * 10).round().long()
        return self.values[idx]


class Brightness(Verifier):
    """A differentiable toy verifier: ``scale · mean(pixels)``."""

    differentiable = True

    def __init__(self, scale=1.0, name="bright"):
        super().__init__()
        self.scale, self.name = scale, name

    def score_batch(self, images, prompts):
        return self.scale * images.mean(dim=(1, 2, 3))


def indexed_images(n: int) -> torch.Tensor:
    x = torch.full((n, 4, 4, 3), 0.5)
    x[:, 0, 0, 0] = torch.arange(n) / 10.0
    return x


def test_average_ranks_by_hand():
    torch.testing.assert_close(
        average_ranks(torch.tensor([3.0, 1.0, 3.0])),
        torch.tensor([2.5, 1.0, 2.5], dtype=torch.float64),
    )
    torch.testing.assert_close(
        average_ranks(torch.tensor([0.2, 0.9, 0.5, 0.1])),
        torch.tensor([2.0, 4.0, 3.0, 1.0], dtype=torch.float64),
    )
    torch.testing.assert_close(
        average_ranks(torch.tensor([7.0, 7.0, 7.0])),
        torch.tensor([2.0, 2.0, 2.0], dtype=torch.float64),
    )
    torch.testing.assert_close(
        average_ranks(torch.tensor([5.0, 1.0, 5.0, 1.0, 3.0])),
        torch.tensor([4.5, 1.5, 4.5, 1.5, 3.0], dtype=torch.float64),
    )
    torch.testing.assert_close(
        average_ranks(torch.tensor([-1.0])), torch.tensor([1.0], dtype=torch.float64)
    )


def test_mean_rank_by_hand():
    # member A: [0.2, 0.9, 0.5, 0.9] -> ranks [1, 3.5, 2, 3.5]
    # member B: [10., 30., 20., 5.]  -> ranks [2, 4, 3, 1]
    a = Fixed([0.2, 0.9, 0.5, 0.9], "a")
    b = Fixed([10.0, 30.0, 20.0, 5.0], "b")
    images = indexed_images(4)
    torch.testing.assert_close(Ensemble([a, b])(images), torch.tensor([1.5, 3.75, 2.5, 2.25]))
    # weights 3:1 -> (3 * rA + 1 * rB) / 4
    torch.testing.assert_close(
        Ensemble([a, b], weights=[3, 1])(images), torch.tensor([1.25, 3.625, 2.25, 2.875])
    )
    # a negative weight turns B into a penalty: (rA - rB) / 2
    torch.testing.assert_close(
        Ensemble([a, b], weights=[1, -1])(images), torch.tensor([-0.5, -0.25, -0.5, 1.25])
    )


def test_rank_ties_do_not_depend_on_order():
    a = Fixed([1.0, 2.0, 2.0, 0.0], "a")
    images = indexed_images(4)
    perm = torch.tensor([2, 0, 3, 1])
    e = Ensemble([a])
    torch.testing.assert_close(e(images)[perm], e(images[perm]))
    torch.testing.assert_close(e(images), torch.tensor([2.0, 3.5, 3.5, 1.0]))


def test_zscore_by_hand():
    # A: [1, 2, 3] -> mean 2, pop. std sqrt(2/3) -> z = [-1.2247, 0, 1.2247]
    # B: [4, 4, 10] -> mean 6, pop. std sqrt(8) -> z = [-0.7071, -0.7071, 1.4142]
    a = Fixed([1.0, 2.0, 3.0], "a")
    b = Fixed([4.0, 4.0, 10.0], "b")
    images = indexed_images(3)
    za = torch.tensor([-1.224744871, 0.0, 1.224744871])
    zb = torch.tensor([-0.707106781, -0.707106781, 1.414213562])
    torch.testing.assert_close(Ensemble([a, b], mode="zscore")(images), za + zb)
    torch.testing.assert_close(
        Ensemble([a, b], mode="zscore", weights=[0.5, 2.0])(images), 0.5 * za + 2.0 * zb
    )
    # fixed statistics make scores comparable across calls
    fixed = Ensemble([a, b], mode="zscore", stats=[(2.0, 1.0), (0.0, 2.0)])
    assert fixed.batch_relative is False
    torch.testing.assert_close(fixed(images), torch.tensor([-1.0 + 2.0, 0.0 + 2.0, 1.0 + 5.0]))
    torch.testing.assert_close(fixed(images[2:]), torch.tensor([6.0]))
    # a constant member contributes zeros, a single image scores 0
    c = Fixed([5.0, 5.0, 5.0], "c")
    torch.testing.assert_close(Ensemble([a, c], mode="zscore")(images), za)
    torch.testing.assert_close(Ensemble([a, b], mode="zscore")(images[:1]), torch.tensor([0.0]))
    torch.testing.assert_close(standardize(torch.tensor([3.0, 3.0])), torch.zeros(2))


def test_whole_batch_is_ranked_even_with_small_batch_sizes():
    a = Fixed([0.0, 1.0, 2.0, 3.0, 4.0], "a", batch_size=2)
    e = Ensemble([a])
    e.batch_size = 1  # the ensemble never chunks: ranks are batch-wide
    torch.testing.assert_close(e(indexed_images(5)), torch.tensor([1.0, 2.0, 3.0, 4.0, 5.0]))


def test_prompts_reach_every_member():
    a, b = Fixed([0.0, 1.0], "a"), Fixed([1.0, 0.0], "b")
    Ensemble([a, b])(indexed_images(2), ["p0", "p1"])
    assert a.seen_prompts == [["p0", "p1"]] and b.seen_prompts == [["p0", "p1"]]


def test_contract_and_gradient_in_zscore_mode():
    e = Ensemble([Brightness(1.0, "x"), Brightness(-2.0, "y")], mode="zscore", weights=[1.0, 0.25])
    assert e.differentiable and isinstance(e, Verifier)
    images = random_images(3)
    prompts = ["a", "b", "c"]
    check_output(e, images, prompts)
    g = check_gradient(e, images, prompts)
    assert g.shape == images.shape
    check_bad_inputs(e, images, prompts)
    assert not Ensemble([Brightness(), Brightness()]).differentiable  # rank mode
    assert not Ensemble([Brightness(), Fixed([0.0])], mode="zscore").differentiable


def test_ensemble_of_ensembles():
    a = Fixed([0.2, 0.9, 0.5, 0.9], "a")
    b = Fixed([10.0, 30.0, 20.0, 5.0], "b")
    inner = Ensemble([a, b])  # [1.5, 3.75, 2.5, 2.25]
    outer = Ensemble(
        [inner, Fixed([4.0, 3.0, 2.0, 1.0], "c")]
    )  # ranks [1, 4, 3, 2] and [4, 3, 2, 1]
    torch.testing.assert_close(outer(indexed_images(4)), torch.tensor([2.5, 3.5, 2.5, 1.5]))
    assert "a×1" in repr(inner)


def test_bad_arguments():
    a = Fixed([0.0])
    with pytest.raises(ValueError, match="at least one"):
        Ensemble([])
    with pytest.raises(ValueError, match="not a Verifier"):
        Ensemble([a, lambda x: x])
    with pytest.raises(ValueError, match="mode"):
        Ensemble([a], mode="median")
    with pytest.raises(ValueError, match="weights has 2 entries"):
        Ensemble([a], weights=[1, 2])
    with pytest.raises(ValueError, match="not all zero"):
        Ensemble([a, a], weights=[0, 0])
    with pytest.raises(ValueError, match="finite"):
        Ensemble([a], weights=[float("nan")])
    with pytest.raises(ValueError, match="only apply"):
        Ensemble([a], stats=[(0.0, 1.0)])
    with pytest.raises(ValueError, match="std > 0"):
        Ensemble([a], mode="zscore", stats=[(0.0, 0.0)])


def test_non_finite_member_scores_are_reported():
    bad = Fixed([float("nan"), 1.0], "broken")
    with pytest.raises(RuntimeError, match="broken"):
        Ensemble([bad])(indexed_images(2))
