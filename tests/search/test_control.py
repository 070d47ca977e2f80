"""SearchControl: stop and pick from outside, deterministically, never a crash."""

import json
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


def _long_run(den, control, on_step, steps=12, method="smc", budget=8 * 12):
    """A fast search (the mixture: thousands of steps a second) of ``steps`` steps."""

    def callback(event):
        if event.kind == "step":
            on_step(event)

    return search(
        den, quadratic_reward, method=method, nfe_budget=budget, shape=(2,), steps=steps,
        generator=torch.Generator().manual_seed(3), control=control, callback=callback,
    )  # fmt: skip


def test_a_held_population_stays_pickable_however_fast_the_search_moves_on(mixture):
    """What the panel shows stays pickable: a pick of a held population many steps later
    finishes exactly the sample a pick made at once would have."""

    def run(hold_at: int | None, pick_at: int):
        control, seen = SearchControl(), {}

        def on_step(event):
            if event.step == hold_at:
                control.hold(event.population)  # the panel sent its thumbnails
                seen["held"] = event.population
            if event.step == 2:
                seen["population"] = event.population
            if event.step == pick_at:
                control.pick(seen["population"], 3)

        return _long_run(mixture.denoiser(), control, on_step), seen

    now, seen = run(hold_at=None, pick_at=2)
    later, held = run(hold_at=2, pick_at=9)  # 7 populations later, far beyond the last 3
    again, _ = run(hold_at=2, pick_at=9)
    population = seen["population"]
    assert now.picked == later.picked == (population, 3) == (held["held"], 3)
    assert later.pick_error is None and not later.stopped
    assert torch.equal(later.x0, now.x0) and torch.equal(again.x0, later.x0)
    assert later.nfe_finish == now.nfe_finish == 12 - 3
    assert later.nfe > now.nfe  # the search went on until the pick was taken
    with pytest.raises(ValueError, match="not available"):
        run(hold_at=None, pick_at=9)  # not held: gone, as before


def test_a_new_hold_releases_the_old_one_and_memory_stays_bounded(mixture):
    control, held, errors = SearchControl(), [], []

    def on_step(event):
        if event.step in (1, 5):
            control.hold(event.population)
            held.append(event.population)
        try:
            control.pick(-7 if event.step < 11 else held[0], 0)  # never held: lists what is
        except ValueError as err:
            errors.append(str(err))

    res = _long_run(mixture.denoiser(), control, on_step)
    assert res.picked is None and len(errors) == 12
    assert "holds [0]" in errors[0] and "holds [1, 2, 3, 4]" in errors[4]  # 1 held, + last 3
    assert "holds [5, 6, 7, 8]" in errors[8]  # 5 held: 1 released
    assert "holds [5, 9, 10, 11]" in errors[11] and "population 1 is not available" in errors[11]
    assert control.held is None  # the search ended: nothing held


def test_hold_is_checked_like_a_pick():
    control = SearchControl()
    with pytest.raises(ValueError, match="hold: no search is running"):
        control.hold(0)
    control.begin()
    for p in range(5):
        kept = control.offer(p, 4)
    assert kept == [2, 3, 4]
    with pytest.raises(ValueError, match="hold: population 1 is not available"):
        control.hold(1)
    with pytest.raises(ValueError, match="must be an integer"):
        control.hold(2.0)
    control.hold(2)
    assert control.offer(5, 4) == [2, 3, 4, 5]
    control.pick(3, 1)  # pending: population 3 stays until the search takes the pick
    assert control.offer(6, 4) == [2, 3, 4, 5, 6] and control.offer(7, 4) == [2, 3, 5, 6, 7]
    assert control.take() == (3, 1)
    assert control.offer(8, 4) == [2, 6, 7, 8]
    control.hold(8)  # 2 is released at once: no longer pickable
    with pytest.raises(ValueError, match="population 2 is not available"):
        control.pick(2, 0)


def test_the_done_event_says_how_the_search_ended(mixture):
    def run(on_step):
        control, events = SearchControl(), []

        def callback(event):
            events.append(event)
            if event.kind == "step":
                on_step(control, event)

        res = search(
            mixture.denoiser(), quadratic_reward, method="smc", nfe_budget=48, shape=(2,),
            steps=STEPS, generator=torch.Generator().manual_seed(0), control=control,
            callback=callback,
        )  # fmt: skip
        done = events[-1]
        assert done.kind == "done" and torch.equal(done.population_x0, res.candidates)
        assert done.rewards == tuple(res.rewards.tolist()) and done.best_reward == res.reward
        assert (done.stopped, done.picked, done.pick_error) == (
            res.stopped, res.picked, res.pick_error,
        )  # fmt: skip
        assert done.nfe_finish == res.nfe_finish and done.nfe_used == res.nfe
        back = json.loads(json.dumps(done.to_json(), allow_nan=False))
        assert back["picked"] == (None if res.picked is None else list(res.picked))
        assert back["stopped"] == res.stopped and back["nfe_finish"] == res.nfe_finish
        return res, done

    res, done = run(lambda control, e: None)
    assert not done.stopped and done.picked is None and done.population_x0.shape == (8, 2)
    res, done = run(lambda control, e: control.stop() if e.step == 2 else None)
    assert done.stopped and res.nfe < 48
    res, done = run(lambda control, e: control.pick(e.population, 5) if e.step == 1 else None)
    assert done.picked == (1, 5) and done.population == 1 and done.nfe_finish == STEPS - 2
    assert done.population_x0.shape == (1, 2) and torch.equal(done.best_x0, res.x0)
