"""Live panel sessions and their registry (host-free): messages, rates, control, state."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import Any

import pytest
import torch

from flowsearch.nodes.live_hub import ControlError, LiveHub
from flowsearch.nodes.live_protocol import CostBudget
from flowsearch.nodes.live_session import LiveSession, summary_fields


class Clock:
    def __init__(self) -> None:
        self.t = 0.0

    def __call__(self) -> float:
        return self.t


@dataclass
class Event:
    """Stand-in with the fields and strict-JSON form of the core's `SearchEvent`."""

    kind: str
    step: int
    nfe_used: int
    best_reward: float | None
    rewards: tuple[float, ...] | None = None
    parents: tuple[int, ...] | None = None
    population: int = 0
    events: dict[str, Any] = field(default_factory=dict)
    population_x0: torch.Tensor | None = None
    best_x0: torch.Tensor | None = None
    method: str = "smc"
    steps: int = 10
    nfe_budget: int = 400
    s: float | None = None

    def to_json(self) -> dict[str, Any]:
        def finite(v):
            return v if v is not None and math.isfinite(v) else None

        return {
            "kind": self.kind,
            "method": self.method,
            "step": self.step,
            "steps": self.steps,
            "nfe_used": self.nfe_used,
            "nfe_budget": self.nfe_budget,
            "best_reward": finite(self.best_reward),
            "rewards": None if self.rewards is None else [finite(r) for r in self.rewards],
            "parents": None if self.parents is None else list(self.parents),
            "events": dict(self.events),
            "s": self.s,
            "population": self.population,
        }


class Control:
    def __init__(self, populations: int = 100, size: int = 4) -> None:
        self.calls: list[tuple] = []
        self.populations, self.size = populations, size

    def stop(self) -> None:
        self.calls.append(("stop",))

    def pick(self, population: int, index: int) -> None:
        if population >= self.populations or index >= self.size:
            raise ValueError(f"no particle {index} in population {population}")
        self.calls.append(("pick", population, index))


def run_events(
    steps: int = 10,
    n: int = 4,
    chunks: int = 2,
    done_events: dict | None = None,
    final_population: bool = False,
):
    """An SMC-like stream: per step `chunks` "nfe" events then one "step" event; then "done"."""
    nfe, best = 0, -math.inf
    for k in range(1, steps + 1):
        for _ in range(chunks):
            nfe += n // chunks
            yield Event("nfe", k, nfe, best)
        rewards = tuple(k + i / 10 for i in range(n))
        best = max(best, *rewards)
        parents = None if k == 1 else tuple([0] * n)
        x0 = torch.full((n, 2, 4, 4), float(k))
        yield Event(
            "step", k, nfe, best, rewards, parents, k, {"ess": n / 2}, x0, x0[-1:], s=1 - k / steps
        )
    final = x0 if final_population else None  # the core's done event: best_x0 only
    yield Event("done", steps, nfe, best, rewards, None, steps, done_events or {}, final, x0[-1:])


def preview(x0: torch.Tensor) -> torch.Tensor:
    return torch.sigmoid(x0[:, :1].movedim(1, -1)).expand(-1, -1, -1, 3)


def make_session(
    clock: Clock | None = None, listening=True, controls=None, **kw
) -> tuple[LiveSession, list]:
    sent: list[tuple[str, dict]] = []
    session = LiveSession(
        prompt_id="p1",
        node_id="7",
        client_id="c1",
        controls=controls if controls is not None else [Control()],
        send=lambda name, data: sent.append((name, data)),
        listening=(lambda: listening) if not callable(listening) else listening,
        preview=kw.pop("preview", preview),
        clock=clock or Clock(),
        **kw,
    )
    return session, sent


def feed(
    session: LiveSession, events, clock: Clock | None = None, dt: float = 0.0, batch: int = 0
) -> None:
    for event in events:
        if clock is not None:
            clock.t += dt
        session(batch, event)


def test_a_run_sends_start_progress_thumbs_done_in_order_as_strict_json():
    clock = Clock()
    session, sent = make_session(clock)
    feed(session, run_events(steps=10, n=4), clock, dt=0.05)
    names = [name for name, _ in sent]
    assert names[0] == "flowsearch.start"
    assert names[-2:] == ["flowsearch.progress", "flowsearch.done"]
    assert "flowsearch.progress" in names
    seqs = [data["seq"] for _, data in sent]
    assert seqs == list(range(len(sent)))
    for _, data in sent:
        json.dumps(data, allow_nan=False)
        assert (data["prompt_id"], data["node_id"], data["batch"], data["v"]) == ("p1", "7", 0, 1)
    # every step record arrives exactly once, in order, though progress is throttled
    steps = [
        r["step"] for name, d in sent if name == "flowsearch.progress" for r in d["steps_since"]
    ]
    assert steps == list(range(1, 11))
    start = sent[0][1]
    assert (start["method"], start["steps"], start["nfe_budget"], start["batch_size"]) == (
        "smc",
        10,
        400,
        1,
    )
    done = sent[-1][1]
    assert done["nfe_used"] == 40 and done["best_reward"] == pytest.approx(10.3)
    assert done["picked"] is None and done["stopped"] is False
    assert done["image"].startswith("data:image/jpeg;base64,")  # the returned sample
    thumbs = [d for n, d in sent if n == "flowsearch.thumbs"]
    assert thumbs and not any(d["final"] for d in thumbs)
    assert thumbs[-1]["best_index"] == 3 and len(thumbs[-1]["images"]) == 4
    assert session.finished
    # the first best reward is -inf: sent as null, never NaN/Infinity
    first_progress = next(d for n, d in sent if n == "flowsearch.progress")
    assert first_progress["best_reward"] is None


def test_progress_rate_is_at_most_ten_per_second():
    clock = Clock()
    session, sent = make_session(clock, preview=None)
    feed(session, run_events(steps=500, n=4, chunks=4), clock, dt=0.001)  # 2500 events in 2.5 s
    progress = [d for n, d in sent if n == "flowsearch.progress"]
    assert len(progress) <= 2.5 / 0.1 + 2
    assert sum(len(d["steps_since"]) for d in progress) == 500


def test_thumbnails_take_at_most_one_percent_of_wall_time():
    clock = Clock()

    def slow_preview(x0):
        clock.t += 0.05  # 50 ms per thumbnail set
        return preview(x0)

    session, sent = make_session(clock, preview=slow_preview, thumbs=CostBudget(1.0, 0.01))
    feed(session, run_events(steps=2000, n=4, chunks=1), clock, dt=0.02)
    live = [d for n, d in sent if n == "flowsearch.thumbs" and not d["final"]]
    assert len(live) >= 2
    assert (len(live) * 0.05) / clock.t <= 0.011
    assert session.thumbs.spent == pytest.approx(0.05 * len(live))


def test_nothing_is_sent_or_decoded_while_no_client_listens():
    decoded = []
    session, sent = make_session(listening=False, preview=lambda x: decoded.append(x) or preview(x))
    feed(session, list(run_events(steps=5))[:-1])  # everything but "done"
    assert sent == [] and decoded == []
    kinds = [m[0] for m in session.log.snapshot()]  # but a reloaded page can catch up
    assert kinds[0] == "flowsearch.start" and "flowsearch.progress" in kinds


def test_a_client_that_connects_mid_run_gets_the_rest():
    listening = {"on": False}
    session, sent = make_session(listening=lambda: listening["on"])
    events = list(run_events(steps=6))
    feed(session, events[:9])
    listening["on"] = True
    feed(session, events[9:])
    assert sent and sent[0][1]["seq"] > 0
    assert sent[-1][0] == "flowsearch.done"


def test_batch_items_each_start_and_finish():
    clock = Clock()
    session, sent = make_session(clock, controls=[Control(), Control()])
    feed(session, run_events(steps=3), clock, dt=0.1, batch=0)
    assert not session.finished
    feed(session, run_events(steps=3), clock, dt=0.1, batch=1)
    assert session.finished
    starts = [d for n, d in sent if n == "flowsearch.start"]
    assert [d["batch"] for d in starts] == [0, 1]
    assert all(d["batch_size"] == 2 for d in starts)
    dones = [d for n, d in sent if n == "flowsearch.done"]
    assert [d["batch"] for d in dones] == [0, 1]
    assert dones[1]["elapsed"] == pytest.approx(dones[0]["elapsed"], abs=0.11)


def test_done_reports_a_pick_and_a_stop():
    session, sent = make_session()
    feed(session, run_events(steps=2, done_events={"picked": (1, 2), "stopped": True}))
    done = sent[-1][1]
    assert done["picked"] == [1, 2] and done["stopped"] is True


def test_done_names_the_pick_the_core_took():
    session, sent = make_session()
    session.accepted_picks[0] = (2, 1)  # what the hub records for an accepted pick
    feed(session, run_events(steps=2))  # done's population is 2: the picked one
    assert sent[-1][1]["picked"] == [2, 1]
    other, sent = make_session()
    other.accepted_picks[0] = (1, 1)
    feed(other, run_events(steps=2))  # population 2 is not the pick's: the pick failed
    assert sent[-1][1]["picked"] is None


def test_final_candidates_get_thumbnails_when_the_done_event_has_them():
    session, sent = make_session()
    feed(session, run_events(steps=2, final_population=True))
    final = [d for n, d in sent if n == "flowsearch.thumbs" and d["final"]]
    assert len(final) == 1 and len(final[0]["images"]) == 4


def test_thumbnails_of_a_large_population_show_the_best_sixteen():
    session, sent = make_session()
    n = 40
    x0 = torch.randn(n, 2, 4, 4)
    rewards = tuple(float(i % 7) for i in range(n))
    session(0, Event("step", 1, n, 6.0, rewards, None, 1, {}, x0, x0[:1]))
    thumbs = next(d for name, d in sent if name == "flowsearch.thumbs")
    assert len(thumbs["images"]) == 16 == len(thumbs["indices"]) == len(thumbs["rewards"])
    assert min(thumbs["rewards"]) >= 4.0
    assert thumbs["indices"] == sorted(thumbs["indices"])


def test_summary_from_the_node_report():
    report = {  # the Flow Search node's report (nodes/report.py), trimmed
        "flowsearch": "flow_search_report/1",
        "method": "rbf",
        "nfe": {"used": 190, "budget": 200, "per_item_budget": 100},
        "best_rewards": [0.8, 0.7],
        "held_out": {"verifier": "brightness", "best": [0.6, 0.5], "candidates": [[0.6], [0.5]]},
        "timings": {
            "model": 4.0,
            "decode": 1.0,
            "verifier": 2.0,
            "overhead": 1.0,
            "search": 8.0,
            "seconds_per_100_nfe": 800 / 190,
            "outputs_decode": 0.5,
            "held_out": 0.1,
            "total": 9.0,
        },
        "stopped": False,
        "items": [
            {"nfe": 90, "reward": 0.8, "picked": None, "stopped": False, "pick_error": None},
            {"nfe": 100, "reward": 0.7, "picked": [3, 1], "stopped": False, "pick_error": None},
        ],
    }
    fields = summary_fields(report)
    assert fields["nfe_used"] == 190 and fields["nfe_budget"] == 200
    assert fields["timings"]["model"] == 4.0 and fields["seconds"] == 9.0
    assert fields["sec_per_100_nfe"] == pytest.approx(800 / 190)
    assert fields["held_out"] == [0.6, 0.5] and fields["picked"] == [None, [3, 1]]
    assert fields["best_reward"] == [0.8, 0.7] and fields["stopped"] is False
    no_held_out = summary_fields({**report, "held_out": None})
    assert no_held_out["held_out"] == [None, None]
    session, sent = make_session()
    session.report(json.dumps(report))
    assert sent[-1][0] == "flowsearch.summary" and session.finished
    json.dumps(sent[-1][1], allow_nan=False)


# -- the hub -------------------------------------------------------------------------


def hub_with_session(running: bool = True, **kw) -> tuple[LiveHub, LiveSession, list]:
    hub = LiveHub(is_prompt_running=lambda prompt_id: running)
    session, sent = make_session(**kw)
    hub.add(session)
    session(0, next(run_events()))  # the search has begun
    return hub, session, sent


def test_stop_reaches_every_batch_item():
    controls = [Control(), Control()]
    hub, _, _ = hub_with_session(controls=controls)
    reply = hub.control({"prompt_id": "p1", "node_id": "7", "action": "stop"})
    assert reply["ok"] is True
    assert [c.calls for c in controls] == [[("stop",)], [("stop",)]]


def test_pick_reaches_the_running_batch_item():
    controls = [Control()]
    hub, _, _ = hub_with_session(controls=controls)
    body = {"prompt_id": "p1", "node_id": 7, "action": "pick", "population": 3, "index": 2}
    assert hub.control(body)["index"] == 2
    assert controls[0].calls == [("pick", 3, 2)]


@pytest.mark.parametrize(
    ("body", "status", "match"),
    [
        ("stop", 400, "JSON object"),
        ({"node_id": "7", "action": "stop"}, 400, "prompt_id"),
        ({"prompt_id": "p1", "node_id": "7", "action": "explode"}, 400, "'stop' or 'pick'"),
        (
            {"prompt_id": "p9", "node_id": "7", "action": "stop"},
            404,
            "no Flow Search node 7 in prompt p9",
        ),
        ({"prompt_id": "p1", "node_id": "8", "action": "stop"}, 404, "node 8"),
        ({"prompt_id": "p1", "node_id": "7", "action": "pick", "population": 1}, 400, "index=None"),
        (
            {"prompt_id": "p1", "node_id": "7", "action": "pick", "population": 1, "index": -1},
            400,
            "index=-1",
        ),
        (
            {"prompt_id": "p1", "node_id": "7", "action": "pick", "population": 1, "index": True},
            400,
            "index",
        ),
        (
            {"prompt_id": "p1", "node_id": "7", "action": "pick", "population": 1, "index": 9},
            400,
            "no particle 9",
        ),
        (
            {
                "prompt_id": "p1",
                "node_id": "7",
                "action": "pick",
                "batch": 3,
                "population": 1,
                "index": 0,
            },
            400,
            "batch=3",
        ),
    ],
)
def test_bad_control_requests_get_clear_errors(body, status, match):
    hub, _, _ = hub_with_session()
    with pytest.raises(ControlError, match=match) as caught:
        hub.control(body)
    assert caught.value.status == status


def test_a_finished_search_cannot_be_steered():
    hub, session, _ = hub_with_session()
    feed(session, run_events(steps=2))
    with pytest.raises(ControlError, match="has finished") as caught:
        hub.control(
            {"prompt_id": "p1", "node_id": "7", "action": "pick", "population": 0, "index": 0}
        )
    assert caught.value.status == 409
    ended, _, _ = hub_with_session(running=False)  # the prompt ended without "done" (an error)
    with pytest.raises(ControlError, match="has finished"):
        ended.control({"prompt_id": "p1", "node_id": "7", "action": "stop"})


def test_a_pick_for_a_finished_or_future_batch_item_is_refused():
    controls = [Control(), Control(), Control()]
    hub, session, _ = hub_with_session(controls=controls)
    feed(session, run_events(steps=2))  # item 0 done
    session(1, next(run_events()))  # item 1 running
    pick = {"prompt_id": "p1", "node_id": "7", "action": "pick", "population": 0, "index": 0}
    for batch, match in ((0, "batch item 0 has finished"), (2, "batch item 2 is not running")):
        with pytest.raises(ControlError, match=match) as caught:
            hub.control({**pick, "batch": batch})
        assert caught.value.status == 409
    assert hub.control(pick)["batch"] == 1  # default: the running item


def test_state_replays_this_clients_latest_search_per_node():
    hub = LiveHub()
    old, _ = make_session()
    hub.add(old)
    feed(old, run_events(steps=2))
    new = LiveSession(
        prompt_id="p2",
        node_id="7",
        client_id="c1",
        controls=[Control()],
        send=lambda *a: None,
        listening=lambda: False,
    )
    hub.add(new)
    new(0, next(run_events()))
    other = LiveSession(
        prompt_id="p2",
        node_id="9",
        client_id="c2",
        controls=[Control()],
        send=lambda *a: None,
        listening=lambda: False,
    )
    hub.add(other)
    state = hub.state("c1")
    assert state["v"] == 1
    assert [(s["prompt_id"], s["node_id"], s["running"]) for s in state["searches"]] == [
        ("p2", "7", True)
    ]
    kinds = [m[0] for m in state["searches"][0]["messages"]]
    assert kinds[0] == "flowsearch.start"
    json.dumps(state, allow_nan=False)
    assert hub.state("nobody") == {"v": 1, "searches": []}


def test_a_new_prompt_ends_older_sessions_and_old_ones_are_pruned():
    hub = LiveHub(keep_finished=3)
    sessions = []
    for i in range(6):
        s = LiveSession(
            prompt_id=f"p{i}",
            node_id="7",
            client_id="c",
            controls=[Control()],
            send=lambda *a: None,
            listening=lambda: False,
        )
        sessions.append(hub.add(s))
    assert all(s.finished for s in sessions[:-1]) and not sessions[-1].finished
    assert [k[0] for k in hub.sessions] == ["p2", "p3", "p4", "p5"]
