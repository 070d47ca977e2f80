"""A live session (host-free): the messages a search's events become, their rates and form."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest
import torch

from flowsearch.nodes.live_protocol import CostBudget, summary_fields

from live_fakes import Clock, Event, feed, make_session, preview, run_events, running_control


def test_a_run_sends_start_progress_thumbs_done_in_order_as_strict_json():
    clock = Clock()
    session, sent = make_session(clock)
    feed(session, run_events(steps=10, n=4), clock, dt=0.05)
    names = [name for name, _ in sent]
    assert names[0] == "flowsearch.start"
    assert names[-3:] == ["flowsearch.progress", "flowsearch.thumbs", "flowsearch.done"]
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
    assert thumbs[-1]["population"] == 10  # the last population, sent as the search ended
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
    session, sent = make_session(clock, controls=[running_control(), running_control()])
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


def test_done_says_what_the_core_says_about_stops_and_picks():
    session, sent = make_session()
    feed(session, run_events(steps=2, done={"stopped": True}))
    done = sent[-1][1]
    assert done["stopped"] is True and done["picked"] is None and done["nfe_finish"] == 0
    session, sent = make_session()
    error = "population 9 is no longer held"
    feed(session, run_events(steps=2, done={"pick_error": error, "stopped": True}))
    assert sent[-1][1]["pick_error"] == error and sent[-1][1]["picked"] is None
    session, sent = make_session()
    feed(session, run_events(steps=2, done={"picked": (1, 2), "nfe_finish": 9}))
    done = sent[-1][1]
    assert done["picked"] == [1, 2] and done["stopped"] is False and done["nfe_finish"] == 9


def test_the_population_shown_is_held_and_a_pick_of_it_is_shown_when_the_search_ends():
    clock = Clock()
    control = running_control({0: 4})

    def offered(events):  # the core offers each population before its step event
        for event in events:
            if event.kind == "step":
                control.offer(event.population, 4)
            yield event

    session, sent = make_session(clock, controls=[control])
    events = list(run_events(steps=6))
    feed(session, offered(events[:3]), clock, dt=0.01)  # population 1's thumbnails: held
    assert control.held == 1
    feed(session, offered(events[3:-4]), clock, dt=0.01)  # up to 5: no more thumbnails
    shown = [d for n, d in sent if n == "flowsearch.thumbs"]
    assert control.held == 1 and [d["population"] for d in shown] == [1]
    control.pick(1, 2)  # a click on what the panel shows: older than the last 3 (3, 4, 5)
    clock.t += 1.0  # population 6's thumbnails go out before the search takes the pick
    feed(session, offered(events[-4:-1]), clock, dt=0.01)
    assert control.held == 6 and control.take() == (1, 2)  # the pick's population was kept
    done = Event("done", 6, 24, 6.3, (1.0,), None, 1, {}, torch.zeros(1, 2, 4, 4), None)
    feed(session, [replace(done, picked=(1, 2), nfe_finish=5)])
    names = [n for n, _ in sent]
    assert names[-2:] == ["flowsearch.thumbs", "flowsearch.done"]
    thumbs, done_message = sent[-2][1], sent[-1][1]
    assert thumbs["population"] == 1 and not thumbs["final"]  # shown again, not re-decoded
    assert thumbs["images"] == shown[0]["images"] and thumbs["seq"] > shown[0]["seq"]
    assert done_message["picked"] == [1, 2] and done_message["nfe_finish"] == 5


def test_the_last_population_is_shown_when_the_search_ends():
    clock = Clock()
    session, sent = make_session(clock)
    feed(session, run_events(steps=5), clock, dt=0.01)  # fast steps: throttled thumbnails
    thumbs = [d for n, d in sent if n == "flowsearch.thumbs"]
    assert [d["population"] for d in thumbs] == [1, 5]  # the first, and the last at the end
    assert [n for n, _ in sent][-2:] == ["flowsearch.thumbs", "flowsearch.done"]


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
    assert fields["best_reward"] == [0.8, 0.7] and fields["stopped"] == [False, False]
    no_held_out = summary_fields({**report, "held_out": None})
    assert no_held_out["held_out"] == [None, None]
    session, sent = make_session()
    session.report(json.dumps(report))
    assert sent[-1][0] == "flowsearch.summary" and session.finished
    json.dumps(sent[-1][1], allow_nan=False)
