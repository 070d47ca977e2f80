"""The live panel's server side on real searches (host-free): the core's `search` on the
exact Gaussian-mixture bed with a `LiveSession` as its callback, steered through the hub."""

from __future__ import annotations

import json

import pytest
import torch

from flowsearch.nodes.live_hub import LiveHub
from flowsearch.nodes.live_session import LiveSession
from flowsearch.samplers import SearchControl, search

TARGET = torch.tensor([1.5, -2.0])


def reward(x0: torch.Tensor) -> torch.Tensor:
    return -((x0 - TARGET) ** 2).sum(-1)


def point_preview(x0: torch.Tensor) -> torch.Tensor:
    """A 2-D sample as a 4x4 swatch: grey level from its first coordinate."""
    return torch.sigmoid(x0[:, :1].float())[:, :, None, None].expand(-1, 4, 4, 3)


def live(control: SearchControl, sent: list) -> LiveSession:
    return LiveSession(
        prompt_id="p",
        node_id="3",
        client_id="c",
        controls=[control],
        send=lambda name, data: sent.append((name, data)),
        listening=lambda: True,
        preview=point_preview,
        progress_interval=0.0,  # every event: the test sees each one
    )


def run(mixture, method: str, sink, control: SearchControl, seed: int = 0, **options):
    return search(
        mixture.denoiser(),
        reward,
        method=method,
        nfe_budget=80,
        shape=(2,),
        steps=10,
        generator=torch.Generator().manual_seed(seed),
        callback=lambda event: sink(0, event),  # search(): one item; the node's sinks: (b, event)
        control=control,
        **options,
    )


@pytest.mark.parametrize("method", ["bon", "smc", "svdd", "rbf"])
def test_messages_follow_the_search_exactly(mixture, method):
    sent: list = []
    control = SearchControl()
    result = run(mixture, method, live(control, sent), control)
    for _, data in sent:
        json.dumps(data, allow_nan=False)
    progress = [d for name, d in sent if name == "flowsearch.progress"]
    nfe = [d["nfe_used"] for d in progress]
    assert nfe == sorted(nfe) and nfe[-1] == result.nfe
    records = [r for d in progress for r in d["steps_since"]]
    assert [r["step"] for r in records] == [r.step for r in result.trace]
    assert [r["rewards"] for r in records] == [r.rewards for r in result.trace]
    assert [r["parents"] for r in records] == [r.parents for r in result.trace]
    (done,) = [d for name, d in sent if name == "flowsearch.done"]
    assert done["nfe_used"] == result.nfe <= 80
    assert done["best_reward"] == pytest.approx(result.reward)
    assert done["image"].startswith("data:image/jpeg;base64,")


def test_a_pick_through_the_hub_returns_that_particle_deterministically(mixture):
    def picked_run(pick_step: int | None):
        hub = LiveHub()
        sent: list = []
        control = SearchControl()
        session = hub.add(live(control, sent))

        def sink(batch, event):
            session(batch, event)
            if event.kind == "step" and event.step == pick_step:
                body = {"prompt_id": "p", "node_id": "3", "action": "pick"}
                hub.control(body | {"population": event.population, "index": 2})

        result = run(mixture, "smc", sink, control)
        return result, sent

    result, sent = picked_run(pick_step=4)
    population = next(
        d["population"] for n, d in sent if n == "flowsearch.progress" and d["step"] == 4
    )
    assert result.picked == (population, 2)
    (done,) = [d for name, d in sent if name == "flowsearch.done"]
    assert done["picked"] == [population, 2]
    again, _ = picked_run(pick_step=4)
    assert torch.equal(again.x0, result.x0)  # the same pick gives the same sample
    unpicked, sent_unpicked = picked_run(pick_step=None)
    assert not torch.equal(unpicked.x0, result.x0) and unpicked.picked is None
    (done,) = [d for name, d in sent_unpicked if name == "flowsearch.done"]
    assert done["picked"] is None


def test_a_stop_through_the_hub_keeps_the_best_so_far(mixture):
    hub = LiveHub()
    sent: list = []
    control = SearchControl()
    session = hub.add(live(control, sent))

    def sink(batch, event):
        session(batch, event)
        if event.kind == "step" and event.step == 3:
            hub.control({"prompt_id": "p", "node_id": "3", "action": "stop"})

    result = run(mixture, "smc", sink, control)
    assert result.stopped and result.nfe < 80
    (done,) = [d for name, d in sent if name == "flowsearch.done"]
    assert done["nfe_used"] == result.nfe and done["stopped"] is True
    assert session.finished


def test_on_a_fast_search_the_thumbnails_shown_stay_pickable(mixture):
    """Thousands of steps a second, thumbnails at most once a second: the population the
    panel shows is long out of the search's last three when it is clicked, and the pick
    still returns exactly that particle."""
    hub = LiveHub()
    sent: list = []
    control = SearchControl()
    session = hub.add(
        LiveSession(
            prompt_id="p", node_id="3", client_id="c", controls=[control],
            send=lambda name, data: sent.append((name, data)), listening=lambda: True,
            preview=point_preview,
        )
    )  # fmt: skip
    clicked = {}

    def sink(batch, event):
        session(batch, event)
        shown = [d for n, d in sent if n == "flowsearch.thumbs"]
        if event.kind == "step" and event.step == 7 and not clicked:
            assert len(shown) == 1 and shown[0]["population"] < event.population - 3
            clicked["population"] = shown[0]["population"]
            body = {"prompt_id": "p", "node_id": "3", "action": "pick"}
            hub.control(body | {"population": clicked["population"], "index": 4})

    result = run(mixture, "smc", sink, control)
    assert result.picked == (clicked["population"], 4) and result.pick_error is None
    (done,) = [d for name, d in sent if name == "flowsearch.done"]
    assert done["picked"] == [clicked["population"], 4] and not done["stopped"]
    assert done["nfe_finish"] == result.nfe_finish > 0
    # the same particle picked at once, while it was among the last three: the same sample
    now = SearchControl()

    def pick_at_once(batch, event):
        if event.kind == "step" and event.population == clicked["population"]:
            now.pick(event.population, 4)

    assert torch.equal(run(mixture, "smc", pick_at_once, now).x0, result.x0)
