"""Smoke tests of the benchmark scripts' core functions on tiny settings (seconds).

The scripts live in ``benchmarks/`` (not part of the package); they are imported by path.
"""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"


@pytest.fixture
def bench(monkeypatch):
    monkeypatch.syspath_prepend(str(BENCHMARKS))
    return importlib.import_module


def test_reward_vs_nfe_core(bench, tmp_path):
    mod = bench("gmm_reward_vs_nfe")
    cfg = mod.Config(nfes=(20, 40), seeds=2, steps=4, modes=("VP-SDE",), plain_samples=64)
    grid = mod.run_grid(cfg, quiet=True)
    plain = mod.plain_baseline(cfg)
    labels = [label for label, _, _ in cfg.methods]
    for rname in cfg.rewards:
        cells = grid[rname]["VP-SDE"]
        assert set(cells) == set(labels)
        assert set(cells["sop"]["20"]) == {"minimum"}  # parsed from SoP's ValueError
        assert cells["sop"]["20"]["minimum"] > 20
        for label in labels:
            for nfe in ("20", "40"):
                e = cells[label][nfe]
                if "rewards" in e:
                    assert len(e["rewards"]) == 2 and all(n <= int(nfe) for n in e["nfe_used"])
    assert grid["quadratic"]["VP-SDE"]["bon"]["40"]["nfe_used"] == [40, 40]
    text = mod.render_markdown(cfg, grid, plain, runtime=1.0)
    assert f"n/a (min {grid['mode']['VP-SDE']['sop']['20']['minimum']})" in text
    assert "| rbf batched |" in text and "| plain |" in text
    mod.plot(cfg, grid, plain, tmp_path / "p.png")
    assert (tmp_path / "p.png").stat().st_size > 1000


def test_search_overhead_core(bench):
    mod = bench("search_overhead")
    methods = [m for m in bench("_common").METHODS if m[0] in ("bon", "rbf batched", "dps")]
    cfg = mod.Config(
        nfe=40, steps=4, dim=8, repeats=2, denoisers={"tiny": (32, 1)}, methods=methods
    )
    res = mod.run_all(cfg, quiet=True)["tiny"]
    assert set(res) == {"bon", "rbf batched", "dps", "plain"}
    assert res["bon"]["calls"] == 4 and res["bon"]["nfe"] == 40 and res["bon"]["mean_batch"] == 10
    assert res["rbf batched"]["nfe"] == 40
    assert res["dps"]["backward_calls"] > 0 and res["bon"]["backward_calls"] == 0
    for r in res.values():
        assert r["ratio_wall"] > 0 and r["raw_wall"] > 0
    assert "timings_overhead" in res["bon"] and "timings_overhead" not in res["plain"]
    text = mod.render_markdown(cfg, {"tiny": res}, runtime=1.0)
    assert "| bon |" in text and "≤ 1.05?" in text


def test_rbf_batched_vs_sequential_core(bench):
    mod = bench("rbf_batched_vs_sequential")
    cfg = mod.Config(nfes=(30,), ks=(1, 4), seeds=2, steps=4, modes=("VP-SDE",), width=32, depth=1)
    res = mod.run(cfg, quiet=True)
    for rname in cfg.rewards:
        cell = res["VP-SDE"][rname]["30"]
        assert set(cell) == {"1", "4"}
        for k in ("1", "4"):  # initial particles + at least one call per proposal step
            assert all(cfg.steps <= c <= 30 for c in cell[k]["calls"])
            assert len(cell[k]["reward"]) == len(cell[k]["wall"]) == 2
    costs = mod.mlp_cost_per_batch(cfg, sizes=(1, 4), repeats=5)
    text = mod.render_markdown(cfg, res, costs, runtime=1.0)
    assert "## VP-SDE, mode reward" in text and "speed-up" in text


def test_live_overhead_core(bench):
    import torch

    mod = bench("live_overhead")
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # as the script runs (two threads spin against each other here)
    try:
        rows = mod.run(nfe=24, steps=4, repeats=1)
    finally:
        torch.set_num_threads(threads)
    assert [r["method"] for r in rows] == ["bon", "smc", "rbf batched"]
    for row in rows:
        assert row["plain_s"] > 0 and 0 <= row["sink_share"] < 1
        assert row["messages_per_s"] > 0 and row["thumb_sets"] >= 1
    text = mod.report(rows, 24, 4, 1)
    assert "| smc |" in text and "sink's own time" in text
