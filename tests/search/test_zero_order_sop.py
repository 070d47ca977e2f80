import math

import pytest
import torch
from conftest import quadratic_reward

from flowsearch.samplers import search
from flowsearch.samplers.particle_search.sop import SoPOptions, levels, segment


def test_neighbours_keep_norm_and_cosine(mixture):
    from flowsearch.samplers.particle_search.zero_order import neighbours

    class Ctx:
        shape, dtype = (3, 4), torch.float64
        generator = torch.Generator().manual_seed(0)

        def randn(self, n):
            return torch.randn(n, *self.shape, generator=self.generator, dtype=self.dtype)

    pivot = torch.randn(1, 3, 4, dtype=torch.float64)
    nb = neighbours(pivot, 5, 0.9, Ctx())
    flat, p = nb.reshape(5, -1), pivot.reshape(1, -1)
    torch.testing.assert_close(flat.norm(dim=1), p.norm().expand(5))
    torch.testing.assert_close(
        torch.nn.functional.cosine_similarity(flat, p), torch.full((5,), 0.9, dtype=torch.float64)
    )


def test_zero_order_trace_moves_or_redraws(mixture):
    res = search(
        mixture.denoiser(), quadratic_reward, method="zero_order", nfe_budget=6 * 13, shape=(2,), steps=6,
        generator=torch.Generator().manual_seed(3), neighbors=4,
    )  # fmt: skip
    rounds = res.trace[1:]
    assert [r.nfe for r in rounds] == [24, 24, 24]
    assert all(r.events["moved"] != r.events["redrawn"] for r in rounds)
    assert res.candidates.shape == (13, 2)


def test_sop_levels_of_the_reported_settings():
    plan = levels(SoPOptions())
    assert len(plan) == 4
    los = [lo for _, _, lo in plan]
    assert los[:3] == pytest.approx([0.08, 0.05, 0.02]) and los[-1] == 0.0
    assert all(hi == pytest.approx(frm + 0.78) for frm, hi, _ in plan)


def test_segments():
    grid = [1.0, 0.8, 0.5, 0.2, 0.0]
    assert segment(grid, 0.9, 0.1) == [0.9, 0.8, 0.5, 0.2, 0.1]
    assert segment(grid, 0.9, 0.1, steps=2) == pytest.approx([0.9, 0.5, 0.1])


def test_sop_width_fills_the_budget_exactly(counting):
    # per width: seed 1 -> 0.11 in 2 steps (+1 end evaluation) = 3, rounds: 4 x 2 branches x
    # (2 steps + end evaluation, none at s = 0 for the last) = 2 * (3 + 3 + 3 + 2) = 22.
    res = search(
        counting, quadratic_reward, method="sop", nfe_budget=5 * 25 + 4, shape=(2,), steps=5,
        generator=torch.Generator().manual_seed(0), branches=2, segment_steps=2,
    )  # fmt: skip
    assert res.nfe == counting.nfe == 5 * 25
    assert res.candidates.shape == (5, 2)
    assert math.isclose(res.trace[-1].events["back_to"], 0.0)
