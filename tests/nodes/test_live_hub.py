"""The live sessions' registry (host-free): control requests reach the core's
`SearchControl` or get a clear refusal; a reloaded page gets its replay logs."""

from __future__ import annotations

import json

import pytest

from flowsearch.nodes.live_hub import ControlError, LiveHub
from flowsearch.nodes.live_session import LiveSession
from flowsearch.samplers import SearchControl

from live_fakes import feed, make_session, run_events, running_control


def hub_with_session(running: bool = True, **kw) -> tuple[LiveHub, LiveSession, list]:
    hub = LiveHub(is_prompt_running=lambda prompt_id: running)
    session, sent = make_session(**kw)
    hub.add(session)
    session(0, next(run_events()))  # the search has begun
    return hub, session, sent


def test_stop_reaches_every_batch_item():
    controls = [running_control(), SearchControl()]  # item 1 has not started
    hub, _, _ = hub_with_session(controls=controls)
    reply = hub.control({"prompt_id": "p1", "node_id": "7", "action": "stop"})
    assert reply["ok"] is True
    assert [c.stop_requested for c in controls] == [True, True]


def test_pick_reaches_the_running_batch_item():
    controls = [running_control()]
    hub, session, _ = hub_with_session(controls=controls)
    body = {"prompt_id": "p1", "node_id": 7, "action": "pick", "population": 3, "index": 2}
    assert hub.control(body)["index"] == 2
    assert controls[0].take() == (3, 2)  # what the search sees at its next model call


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
            "index 9 is outside population 1",  # the core's message
        ),
        (
            {"prompt_id": "p1", "node_id": "7", "action": "pick", "population": 7, "index": 0},
            400,
            "population 7 is not available",
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
    controls = [running_control() for _ in range(3)]
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
        controls=[SearchControl()],
        send=lambda *a: None,
        listening=lambda: False,
    )
    hub.add(new)
    new(0, next(run_events()))
    other = LiveSession(
        prompt_id="p2",
        node_id="9",
        client_id="c2",
        controls=[SearchControl()],
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
            controls=[SearchControl()],
            send=lambda *a: None,
            listening=lambda: False,
        )
        sessions.append(hub.add(s))
    assert all(s.finished for s in sessions[:-1]) and not sessions[-1].finished
    assert [k[0] for k in hub.sessions] == ["p2", "p3", "p4", "p5"]
