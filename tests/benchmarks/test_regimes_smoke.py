"""Smoke tests of the two-regime scripts' cores on tiny settings (seconds each).

`benchmarks/rbf_dynamics.py`, `benchmarks/fashion_regimes.py` and the student's training
script `training/train_student.py` are not part of the package: imported by path.
"""

from __future__ import annotations

import copy
import importlib
import json
from pathlib import Path

import pytest
import torch

from flowsearch.demo.data import DEFAULT_ROOT

ROOT = Path(__file__).resolve().parents[2]

needs_data = pytest.mark.skipif(
    not (DEFAULT_ROOT / "t10k-labels-idx1-ubyte.gz").exists(),
    reason="Fashion-MNIST not installed (apt-get install dataset-fashion-mnist)",
)


@pytest.fixture
def script(monkeypatch):
    monkeypatch.syspath_prepend(str(ROOT / "benchmarks"))
    monkeypatch.syspath_prepend(str(ROOT / "training"))
    return importlib.import_module


def test_trace_dynamics_reads_the_rbf_trace(script):
    mod = script("rbf_dynamics")
    from flowsearch.samplers.particle_search import StepRecord

    trace_dynamics = script("_fashion").trace_dynamics

    trace = [
        StepRecord(0, 1.0, 2, [-5.0], [0], {}),
        StepRecord(1, 0.5, 1, [-3.0], [0], {"accepted": [0], "proposals": [1], "rolled_over": [2]}),
        StepRecord(
            2, 0.2, 7, [-1.0], [0], {"accepted": [None], "proposals": [7], "rolled_over": [0]}
        ),
    ]
    dyn = trace_dynamics(trace, budget=10)
    assert dyn["nfe"] == [0.2, 0.1, 0.7]
    assert dyn["accepted"] == [True, False] and dyn["gain"] == [2.0, 2.0]
    dyn.update(reward=-1.0, acc=1.0)
    s = mod.summarise([dyn, copy.deepcopy(dyn)])
    assert s["accept_rate_all"] == 1.0 and s["first_try"] == 1.0 and s["last_step_share"] == 0.7


@needs_data
def test_regimes_report_and_rbf_dynamics(script, tmp_path, monkeypatch):
    """One tiny grid feeds both reports (the student's grid is a copy of the teacher's)."""
    bench = script("fashion_benchmark")
    methods = [m for m in bench.FASHION_METHODS if m[0] in ("bon", "rbf batched")]
    cfg = bench.Config(
        classes=(7,),
        seeds=2,
        nfes=(12, 24),
        modes=("VP-SDE",),
        methods=methods,
        setting="4 uniform-s",
        paper_setting="3 adaptive",
        paper_nfes=(12,),
        paper_modes=("VP-SDE",),
        study_settings=(),
        study_n=16,
        real_n=300,
    )
    data, _ = bench.run_all(cfg, quiet=True)
    monkeypatch.setattr(script("fashion_regimes"), "BUDGETS", (12, 24))
    (tmp_path / "fashion_benchmark.json").write_text(json.dumps(data))
    (tmp_path / "fashion_benchmark_student.json").write_text(json.dumps(data))
    mod = script("fashion_regimes")
    mod.main(["--results", str(tmp_path), "--out", str(tmp_path)])
    text = (tmp_path / "fashion_regimes.md").read_text()
    assert "| rbf batched |" in text and "VP-SDE T" in text and "BoN @24" in text
    assert "| teacher | VP-SDE | " in text and "| student | VP-SDE | " in text
    assert (tmp_path / "fashion_regimes.png").stat().st_size > 1000
    dyn = script("rbf_dynamics")
    dyn.main(["--results", str(tmp_path), "--out", str(tmp_path)])
    cells = json.loads((tmp_path / "rbf_dynamics.json").read_text())["cells"]
    key = "student | 4 uniform-s | VP-SDE | rbf batched | 24"
    assert set(cells) >= {key, key.replace("student", "teacher")}
    assert not any("| bon |" in k for k in cells)  # best-of-N has no acceptance
    c = cells[key]
    assert c["n"] == 2 and len(c["nfe_share"]) == 4 and len(c["accept_rate"]) == 3
    assert sum(c["nfe_share"]) == pytest.approx(1.0)  # rbf spends the whole budget
    assert c["accept_rate"][-1] == 0.0  # the last step has no acceptance test
    assert (
        "| teacher | 4 uniform-s | VP-SDE | rbf batched | 24 |"
        in (tmp_path / "rbf_dynamics.md").read_text()
    )
    assert (tmp_path / "rbf_dynamics.png").stat().st_size > 1000
    (tmp_path / "fashion_benchmark_student.json").unlink()
    with pytest.raises(FileNotFoundError, match="--model student"):
        mod.load(tmp_path)


@needs_data
def test_student_training_core(script):
    mod = script("train_student")
    from flowsearch.demo import flow_denoiser, load_classifier, load_flow_model

    teacher = load_flow_model()
    z, x0 = mod.teacher_pairs(flow_denoiser(teacher), 6, steps=2, seed=0, batch=4)
    assert z.shape == x0.shape == (6, 1, 32, 32) and not torch.equal(z, x0)
    # The reflow loss of the teacher on its own pairs is finite and decreases when training.
    cfg = mod.StudentConfig(pairs=6, steps=3, batch=4, warmup=1, log_every=10, threads=1)
    student, stats = mod.train_student(teacher, z, x0, cfg)
    assert stats["steps"] == 3 and stats["train_pairs"] == 5
    assert all(not p.requires_grad for p in student.parameters())
    look = mod.lookahead_recognition(flow_denoiser(student), load_classifier("b"), 8, 0.7, 1, 0)
    assert set(look) == {"b_confidence", "b_recognised", "same_class_as_final"}
    assert all(0.0 <= v <= 1.0 for v in look.values())
