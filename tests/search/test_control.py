"""SearchControl: stop and pick from outside, deterministically, never a crash."""

import threading

import pytest
import torch
from conftest import quadratic_reward

from flowsearch.samplers import SearchControl, search

STEPS = 6


def _run(den, method="bon", control=None, on_step=None, budget=96, **kw):
    def callback(event):
        if event.kind == "step" and on_step is not None:
            on_step(event)

    return search(
        den, quadratic_reward, method=method, nfe_budget=budget, shape=(2,), steps=STEPS,
        generator=torch.Generator().manual_seed(0), control=control, callback=callback, **kw,
    )  # fmt: skip


def _pick_at(control, step, index):
    def on_step(event):
        if event.step == step:
            control.pick(event.population, index)

    return on_step


def test_pick_finishes_that_particle_alone_and_deterministically(counting):
    results = []
    for _ in range(2):
        counting.nfe = 0
        control = SearchControl()
        results.append(_run(counting, control=control, on_step=_pick_at(control, 2, 5)))
    a, b = results
    n = 96 // STEPS
    assert a.picked == (2, 5) and a.pick_error is None and not a.stopped
    assert a.nfe == 3 * n  # three evaluations of the population before the pick
    assert a.nfe_finish == STEPS - 3 and counting.nfe == a.nfe + a.nfe_finish
    assert a.x0.shape == (1, 2) and a.candidates.shape == (1, 2)
    assert a.reward == pytest.approx(float(quadratic_reward(a.x0)[0]))
    assert torch.equal(a.x0, b.x0)  # same pick, same sample


def test_a_pick_of_a_final_population_costs_nothing(mixture):
    control = SearchControl()
    seen = {}

    def on_step(event):
        if event.step == STEPS - 1:
            seen["x0"] = event.population_x0[7].clone()
            control.pick(event.population, 7)

    res = _run(mixture.denoiser(), control=control, on_step=on_step)
    assert res.picked == (STEPS - 1, 7) and res.nfe_finish == 0
    assert torch.equal(res.x0[0], seen["x0"])


@pytest.mark.parametrize("method,kw", [("svdd", {}), ("sop", {}), ("smc", {}), ("rbf", {})])
def test_pick_works_for_every_kind_of_population(mixture, method, kw):
    control = SearchControl()
    res = _run(mixture.denoiser(), method, control, _pick_at(control, 1, 0), budget=300, **kw)
    assert res.picked is not None and res.nfe <= 300 and res.nfe_finish > 0
    assert torch.isfinite(res.x0).all() and res.reward > -float("inf")


def test_stop_from_the_control_keeps_the_best_so_far(mixture):
    control = SearchControl()

    def on_step(event):
        if event.step == 2:
            control.stop()

    res = _run(mixture.denoiser(), "svdd", control, on_step, budget=300)
    assert res.stopped and res.picked is None and res.nfe < 300
    assert res.x0.shape == (1, 2) and torch.isfinite(res.x0).all()


def test_bad_picks_are_clear_errors_never_crashes(mixture):
    control = SearchControl()
    with pytest.raises(ValueError, match="no search is running"):
        control.pick(0, 0)
    errors = []

    def on_step(event):
        for args in ((event.population + 5, 0), (event.population, 99), (-1, 0), (True, 0)):
            try:
                control.pick(*args)
            except ValueError as err:
                errors.append(str(err))

    res = _run(mixture.denoiser(), control=control, on_step=on_step)
    assert res.picked is None and not res.stopped and len(errors) == 4 * STEPS
    assert "not available" in errors[0] and "outside population" in errors[1]
    assert "must be an integer" in errors[3]
    with pytest.raises(ValueError, match="no search is running"):
        control.pick(0, 0)  # the search has ended


def test_only_the_latest_populations_can_be_picked(mixture):
    control = SearchControl()
    errors = []

    def on_step(event):
        if event.step == 4:
            try:
                control.pick(0, 0)  # three populations later it is no longer held
            except ValueError as err:
                errors.append(str(err))
            control.pick(event.population - 2, 1)

    res = _run(mixture.denoiser(), control=control, on_step=on_step)
    assert errors and "holds [2, 3, 4]" in errors[0]
    assert res.picked == (2, 1) and res.nfe_finish == STEPS - 3


def test_a_stop_from_another_thread(counting):
    control = SearchControl()
    started, requested = threading.Event(), threading.Event()

    def slow(x, t):  # the first chunk waits until the other thread has asked to stop
        started.set()
        requested.wait(5)
        return counting(x, t)

    def web_route():
        started.wait(5)
        control.stop()
        requested.set()

    thread = threading.Thread(target=web_route)
    thread.start()
    res = search(
        slow, quadratic_reward, method="bon", nfe_budget=600, shape=(2,), steps=STEPS,
        generator=torch.Generator().manual_seed(0), control=control, max_batch=1,
    )  # fmt: skip
    thread.join()
    assert res.stopped and res.nfe == 1  # honoured at the next chunk
