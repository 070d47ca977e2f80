"""Smoke runs of the Fashion-MNIST benchmark's core and of the demo (tiny budgets, seconds).

The benchmark scripts live in ``benchmarks/`` (not part of the package): imported by path.
"""

from __future__ import annotations

import importlib
import json
import math
from pathlib import Path

import pytest

from flowsearch.demo.data import DEFAULT_ROOT

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"

pytestmark = pytest.mark.skipif(
    not (DEFAULT_ROOT / "t10k-labels-idx1-ubyte.gz").exists(),
    reason="Fashion-MNIST not installed (apt-get install dataset-fashion-mnist)",
)


@pytest.fixture
def bench(monkeypatch):
    monkeypatch.syspath_prepend(str(BENCHMARKS))
    return importlib.import_module


def test_grid_settings_parse(bench):
    fb = bench("_fashion")
    assert fb.grid_kwargs("10 adaptive") == {"steps": 10, "grid": "adaptive"}
    assert fb.grid_kwargs("20 uniform-s") == {"steps": 20, "grid": "uniform"}
    assert fb.grid_kwargs("4 uniform-t")["timesteps"] == [1.0, 0.75, 0.5, 0.25, 0.0]
    with pytest.raises(ValueError, match="setting"):
        fb.grid_kwargs("10 cosine")
    modes = bench("_common").MODES
    # The paper's grid returns x0_hat at s = 0.436: model time 0.709 on the VP path.
    assert fb.last_model_time("10 adaptive", modes["VP-SDE"]) == pytest.approx(0.709, abs=1e-3)
    assert fb.last_model_time("10 adaptive", modes["linear-SDE"]) == pytest.approx(0.436, abs=1e-3)


def test_benchmark_core_tiny(bench, tmp_path):
    mod = bench("fashion_benchmark")
    methods = [m for m in mod.FASHION_METHODS if m[0] in ("bon", "sop", "rbf batched")]
    cfg = mod.Config(
        classes=(7,),
        seeds=2,
        nfes=(3, 24),
        modes=("linear-SDE", "VP-SDE"),
        methods=methods,
        setting="4 uniform-s",
        paper_setting="4 adaptive",
        paper_nfes=(12,),
        study_settings=(),
        study_n=16,
        real_n=300,
    )
    data, pictures = mod.run_all(cfg, quiet=True)
    grid = data["grid"]["4 uniform-s"]
    for mode in cfg.modes:
        assert grid[mode]["bon"]["3"] == {"minimum": 4}  # one 4-step trajectory
        assert grid[mode]["sop"]["3"]["minimum"] > 3
        cell = grid[mode]["bon"]["24"]
        assert cell["nfe_used"] == [24] and len(cell["runs"]) == 2
        assert cell["diversity"] is not None and cell["diversity"] > 0
        assert all(r["reward"] <= 0 and r["acc"] in (0.0, 1.0) for r in cell["runs"])
        assert max(cell["runs"][0]["reward"], cell["runs"][1]["reward"]) == pytest.approx(
            max(r["reward"] for r in cell["runs"])
        )
        assert pictures["4 uniform-s"][mode]["bon"]["24"][(7, 1)].shape == (1, 1, 32, 32)
    assert set(data["grid"]["4 adaptive"]["VP-SDE"]["rbf batched"]) == {"12"}
    study = data["study"]
    assert set(study) == {"real", "4 uniform-s", "4 adaptive"}
    plain = study["4 uniform-s"]["VP-SDE"]
    assert plain["acc"] == pytest.approx(0.1) and plain["fd"] > 0
    paths = mod.write_outputs(cfg, data, pictures, tmp_path)
    names = {p.name for p in paths}
    assert {"fashion_benchmark.md", "fashion_benchmark.json", "fashion_benchmark.png"} <= names
    assert {"fashion_benchmark_images.png", "fashion_benchmark_settings.png"} <= names
    assert all(p.stat().st_size > 500 for p in paths)
    text = (tmp_path / "fashion_benchmark.md").read_text()
    assert "| rbf batched |" in text and "n/a (min 4)" in text and "plain (base)" in text
    loaded = json.loads((tmp_path / "fashion_benchmark.json").read_text())
    assert loaded["grid"]["4 uniform-s"]["VP-SDE"]["bon"]["24"]["nfe_used"] == [24]
    # Re-writing keeps the hand-written notes under the marker.
    md = tmp_path / "fashion_benchmark.md"
    md.write_text(md.read_text() + "\nmy notes\n")
    mod.write_outputs(cfg, data, pictures, tmp_path)
    assert md.read_text().count("my notes") == 1


@pytest.mark.parametrize("model", ["student", "teacher"])
def test_demo_main_tiny(tmp_path, capsys, model):
    from flowsearch import demo
    from flowsearch.demo.recommend import RECOMMENDED

    rec = RECOMMENDED[model]
    budgets = (2 * rec.steps, 3 * rec.steps)
    out = demo.main(
        ["--model", model, "--class", "ankle boot", "--seeds", "2", "--out", str(tmp_path)]
        + ["--budgets", ",".join(map(str, budgets))]
    )
    rows = out["rows"]
    assert [(r["method"], r["nfe"]) for r in rows] == [
        ("plain", rec.steps),
        *[("best-of-N", n) for n in budgets],
        *[(rec.label, n) for n in budgets],
    ]
    assert all(r["x0"].shape == (2, 1, 32, 32) and len(r["rewards"]) == 2 for r in rows)
    assert all(math.isfinite(v) and v <= 0.0 for r in rows for v in r["rewards"])  # log p
    assert all(0 <= c < 10 for r in rows for c in r["classes_b"])
    printed = capsys.readouterr().out
    assert "Ankle boot" in printed and "best-of-N" in printed and "wrote" in printed
    assert f"{model} model" in printed
    for path in out["paths"]:
        assert path.parent == tmp_path and path.stat().st_size > 1000


def test_demo_class_names():
    from flowsearch.demo import parse_class

    assert parse_class("Sneaker") == 7 == parse_class("7")
    assert parse_class("t-shirt") == 0 and parse_class("ANKLE_BOOT") == 9
    with pytest.raises(ValueError, match="--class"):
        parse_class("hat")
