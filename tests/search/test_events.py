"""The per-chunk event stream and the strict-JSON reports."""

import json

import pytest
import torch
from conftest import quadratic_reward
from test_search_accounting import ALL, IDS

from flowsearch.samplers import SearchEvent, search


def _run(den, method, options, **kw):
    return search(
        den, kw.pop("reward", quadratic_reward), method=method, nfe_budget=kw.pop("nfe_budget", 120),
        shape=(2,), steps=6, generator=torch.Generator().manual_seed(0), **options, **kw,
    )  # fmt: skip


@pytest.mark.parametrize("method,options", ALL, ids=IDS)
def test_one_nfe_event_per_chunk_and_monotone_nfe(counting, method, options):
    events = []
    res = _run(counting, method, options, max_batch=7, callback=events.append)
    nfe_events = [e for e in events if e.kind == "nfe"]
    assert len(nfe_events) == counting.calls  # one per denoiser call (chunk)
    used = [e.nfe_used for e in events]
    assert used == sorted(used) and used[-1] == res.nfe == counting.nfe
    assert events[-1].kind == "done" and [e.kind for e in events].count("done") == 1
    # every chunk reports exactly the particles it evaluated
    deltas = [b.nfe_used - a.nfe_used for a, b in zip([None, *nfe_events], nfe_events) if a]
    assert all(0 < d <= 7 for d in deltas)
    for e in events:
        assert e.kind in ("nfe", "step", "done") and e.nfe_budget == 120 and e.steps == 6


def test_rbf_last_step_reports_progress_inside_the_step(counting):
    # The last RBF step can spend most of the budget: the chunks inside it still report.
    events = []
    res = _run(counting, "rbf", {}, nfe_budget=300, max_batch=16, callback=events.append)
    last_step = res.trace[-1].nfe
    assert last_step > 100
    before = [e for e in events if e.kind == "step"][-2].nfe_used
    inside = [e.nfe_used for e in events if e.kind == "nfe" and e.nfe_used > before]
    assert len(inside) == -(-last_step // 16) and inside[-1] == res.nfe


def test_step_events_carry_the_population_and_best(mixture):
    events = []
    res = _run(mixture.denoiser(), "svdd", {"children": 3}, callback=events.append)
    steps = [e for e in events if e.kind == "step"]
    assert [e.population for e in steps] == list(range(len(steps)))
    for e in steps:
        assert e.population_x0.shape == (len(e.rewards), 2)
        assert e.best_x0.shape == (1, 2) and e.best_reward >= max(e.rewards) - 1e-12
    done = events[-1]
    assert torch.equal(done.best_x0, res.x0) and done.best_reward == res.reward


def test_json_round_trip_with_minus_infinity(mixture):
    def bad_reward(x0):  # half the particles score -inf, one NaN
        r = quadratic_reward(x0).clone()
        r[::2] = -float("inf")
        r[1] = float("nan")
        return r

    events = []
    res = _run(mixture.denoiser(), "rbf", {"chains": 2}, reward=bad_reward, callback=events.append)
    assert res.nonfinite_rewards > 0
    for e in events:
        text = json.dumps(e.to_json(), allow_nan=False)  # strict JSON: no -Infinity
        back = json.loads(text)
        assert back["kind"] == e.kind and back["nfe_used"] == e.nfe_used
        if e.rewards is not None:
            assert back["rewards"] == [r if r != -float("inf") else None for r in e.rewards]
    report = json.loads(json.dumps(res.to_json(), allow_nan=False))
    assert report["nfe"] == res.nfe and report["method"] == "rbf"
    assert report["settings"]["interpolant"] == "vp" and report["options"]["chains"] == 2
    assert len(report["trace"]) == len(res.trace)
    assert any(None in (rec["rewards"] or []) for rec in report["trace"])
    assert set(report["timings"]) == {"denoiser", "reward", "overhead", "total"}


def test_event_json_maps_a_minus_infinity_best_to_null():
    e = SearchEvent(
        "step", "bon", 0, 4, 10, 40, best_reward=float("-inf"), rewards=(1.0, float("nan"))
    )
    assert e.to_json()["best_reward"] is None and e.to_json()["rewards"] == [1.0, None]
    assert "best_x0" not in e.to_json() and "population_x0" not in e.to_json()
