"""Live panel building blocks (host-free): strict JSON, throttles, thumbnails, replay log."""

from __future__ import annotations

import base64
import io
import json
import math

import pytest
import torch
from PIL import Image

from flowsearch.nodes.live_protocol import (
    CostBudget,
    Interval,
    ReplayLog,
    encode_jpegs,
    latent_rgb_preview,
    shown_indices,
    step_record,
    strict_json,
)


def test_strict_json_replaces_non_finite_numbers_everywhere():
    value = {
        "a": math.nan,
        "b": [1.0, math.inf, (2, -math.inf)],
        "c": {"d": 0.5, 3: "x"},
        "e": None,
    }
    out = strict_json(value)
    assert out == {"a": None, "b": [1.0, None, [2, None]], "c": {"d": 0.5, "3": "x"}, "e": None}
    json.dumps(out, allow_nan=False)


def test_interval_allows_one_action_per_interval():
    interval = Interval(0.1)
    times = [i * 0.01 for i in range(1000)]  # 10 s of events every 10 ms
    fired = 0
    for t in times:
        if interval.due(t):
            interval.mark(t)
            fired += 1
    assert 95 <= fired <= 101
    with pytest.raises(ValueError, match="interval=-1"):
        Interval(-1)


def test_cost_budget_keeps_costly_work_under_its_share_of_wall_time():
    budget = CostBudget(min_interval=1.0, share=0.01)
    cost, now, spent = 0.05, 0.0, 0.0  # each thumbnail set takes 50 ms
    while now < 100.0:
        if budget.due(now):
            budget.spend(now, now + cost)
            spent += cost
            now += cost
        now += 0.01
    assert spent / now <= 0.0101
    assert budget.spent == pytest.approx(spent)
    cheap = CostBudget(min_interval=1.0, share=0.01)  # cheap work: the interval binds
    fired = 0
    for i in range(1000):
        if cheap.due(i * 0.01):
            cheap.spend(i * 0.01, i * 0.01 + 1e-4)
            fired += 1
    assert fired == 10
    with pytest.raises(ValueError, match="share=0"):
        CostBudget(1.0, 0.0)


def test_step_record_keeps_what_the_sparkline_and_lineage_need():
    event = {
        "kind": "step",
        "step": 3,
        "s": 0.5,
        "nfe_used": 12,
        "best_reward": 0.7,
        "rewards": [0.1, 0.7],
        "parents": [0, 0],
        "population": 3,
        "events": {"ess": 1.5},
        "method": "smc",
    }
    assert step_record(event) == {
        "step": 3,
        "s": 0.5,
        "nfe": 12,
        "best": 0.7,
        "rewards": [0.1, 0.7],
        "parents": [0, 0],
        "population": 3,
        "events": {"ess": 1.5},
    }


def test_shown_indices_keep_the_best_particles_in_index_order():
    assert shown_indices([1.0, 2.0], 2, limit=4) == [0, 1]
    rewards = [0.0, 5.0, None, 3.0, 4.0, math.nan]
    assert shown_indices(rewards, 6, limit=3) == [1, 3, 4]
    assert shown_indices(None, 6, limit=2) == [0, 1]


def _decode(url: str) -> Image.Image:
    assert url.startswith("data:image/jpeg;base64,")
    return Image.open(io.BytesIO(base64.b64decode(url.split(",", 1)[1])))


def test_jpeg_thumbnails_are_small_and_keep_the_picture():
    images = torch.zeros(2, 64, 32, 3)
    images[0, :, :, 0] = 1.0  # red
    images[1, :, :, 2] = 1.0  # blue
    urls = encode_jpegs(images, size=48)
    assert len(urls) == 2
    red, blue = _decode(urls[0]), _decode(urls[1])
    assert red.size == (24, 48)
    r, g, b = red.convert("RGB").getpixel((12, 24))
    assert r > 200 and g < 60 and b < 60
    r, g, b = blue.convert("RGB").getpixel((12, 24))
    assert b > 200 and r < 60
    assert all(len(u) < 4000 for u in urls)


def test_jpeg_thumbnails_of_video_show_the_middle_frame_and_reject_bad_shapes():
    frames = torch.zeros(1, 3, 16, 16, 3)
    frames[0, 1] = 1.0  # the middle frame is white
    (url,) = encode_jpegs(frames, size=16)
    assert _decode(url).convert("L").getextrema()[0] > 240
    with pytest.raises(ValueError, match=r"\[N, H, W, 3\]"):
        encode_jpegs(torch.zeros(2, 3, 8, 8))


def test_latent_rgb_preview_is_the_linear_map():
    factors = [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]
    preview = latent_rgb_preview(factors, bias=[0.0, 0.0, -1.0])
    x0 = torch.zeros(3, 2, 4, 5)
    x0[1, 0] = 1.0
    images = preview(x0)
    assert images.shape == (3, 4, 5, 3)
    assert torch.allclose(images[0, 0, 0], torch.tensor([0.5, 0.5, 0.0]))
    assert torch.allclose(images[1, 0, 0], torch.tensor([1.0, 0.5, 0.0]))
    video = preview(torch.zeros(1, 2, 5, 4, 4))
    assert video.shape == (1, 4, 4, 3)
    with pytest.raises(ValueError, match="3 channels"):
        preview(torch.zeros(1, 3, 4, 4))
    with pytest.raises(ValueError, match=r"\[channels, 3\]"):
        latent_rgb_preview([[1.0, 2.0]])


def _progress(seq: int, batch: int = 0) -> dict:
    record = {"step": seq, "nfe": seq, "best": float(seq), "rewards": [float(seq)], "parents": [0]}
    return {"seq": seq, "batch": batch, "nfe_used": seq, "steps_since": [record]}


def test_replay_log_keeps_the_latest_thumbnails_per_batch_item():
    log = ReplayLog()
    log.add("flowsearch.thumbs", {"seq": 0, "batch": 0, "images": ["a"]})
    log.add("flowsearch.thumbs", {"seq": 1, "batch": 1, "images": ["b"]})
    log.add("flowsearch.thumbs", {"seq": 2, "batch": 0, "images": ["c"]})
    assert [m[1]["seq"] for m in log.snapshot()] == [1, 2]


def test_replay_log_is_bounded_and_keeps_order_and_the_newest_messages():
    log = ReplayLog(max_messages=50, max_steps=60)
    log.add("flowsearch.start", {"seq": 0, "batch": 0})
    for seq in range(1, 2000):
        log.add("flowsearch.progress", _progress(seq))
    messages = log.snapshot()
    assert len(messages) <= 50
    assert messages[0][0] == "flowsearch.start"
    seqs = [m[1]["seq"] for m in messages]
    assert seqs == sorted(seqs) and seqs[-1] == 1999
    steps = [r["step"] for m in messages[1:] for r in m[1]["steps_since"]]
    assert steps == sorted(steps) and steps[-1] == 1999
    assert all(len(m[1]["steps_since"]) <= 60 for m in messages[1:])
    assert all("_merged" not in m[1] for m in messages)
