"""Node specs, host-free: every input has a tooltip and sane ranges; method nodes mirror the
core's option records (names, types, defaults)."""

from __future__ import annotations

import dataclasses

import pytest

from flowsearch.nodes import catalog_sampling, catalog_search
from flowsearch.nodes.method_specs import INFO, METHOD_SPECS, option_fields
from flowsearch.nodes.methods import MethodChoice, options_from_widgets
from flowsearch.nodes.spec import Field, NodeSpec
from flowsearch.samplers import METHODS

ALL_SPECS = [
    catalog_sampling.SAMPLER,
    catalog_sampling.TIME_SCHEDULE,
    catalog_sampling.SAMPLING_MODE,
    catalog_search.FLOW_SEARCH,
    catalog_search.SCORE_IMAGES,
    catalog_search.ENSEMBLE,
    *METHOD_SPECS.values(),
]


@pytest.mark.parametrize("spec", ALL_SPECS, ids=lambda s: s.node_id)
def test_spec_is_sane(spec: NodeSpec):
    assert spec.problems() == []
    for f in spec.widgets():
        assert f.check(f.default) is None
        if f.type in ("INT", "FLOAT"):
            assert f.min <= f.default <= f.max


def test_node_ids_are_unique():
    ids = [s.node_id for s in ALL_SPECS]
    assert len(set(ids)) == len(ids)


@pytest.mark.parametrize("method", sorted(METHODS))
def test_method_widgets_mirror_the_core_record(method):
    record, _ = METHODS[method]
    fields = {f.name: f for f in dataclasses.fields(record) if f.name != "guidance_scale"}
    hints = INFO[method].hints
    assert set(hints) == set(fields), "every option has exactly one hint"
    widgets = {w.name: w for w in option_fields(method)}
    for name, f in fields.items():
        if hints[name].fixed:
            assert name not in widgets
            continue
        if hints[name].node_default is not None:  # a node default that says why it differs
            assert widgets[name].default == hints[name].node_default != f.default
            assert "default" in hints[name].tooltip
            continue
        expected = 0 if f.default is None else f.default
        assert widgets[name].default == expected
    defaults = {k: v for k, v in METHOD_SPECS[method].defaults().items()}
    changed = {k: h.node_default for k, h in hints.items() if h.node_default is not None}
    assert options_from_widgets(method, defaults) == record(**changed)


def test_widget_checks_name_the_input_and_the_fix():
    f = Field("steps", "INT", "number of steps to run", 4, min=1, max=10)
    assert f.check(0) == "steps must be in [1, 10]; got 0"
    assert f.check(2.5) == "steps must be an INT number; got 2.5"
    c = Field("mode", "COMBO", "how members combine", "rank", options=("rank", "zscore"))
    assert c.check("mean") == "mode must be one of ['rank', 'zscore']; got 'mean'"


def test_positional_widget_values_are_checked_like_a_ui_workflow():
    spec = catalog_sampling.TIME_SCHEDULE
    good = list(spec.defaults().values())
    assert spec.check_widgets(good) == []
    assert spec.check_widgets(good[:-1]) == ["missing value for 'beta_max'"]
    assert "too many" in spec.check_widgets([*good, 1])[0]
    bad = list(good)
    bad[2] = 0  # steps
    assert spec.check_widgets(bad) == ["steps must be in [1, 10000]; got 0"]


def test_method_choice_rejects_unknown_names():
    with pytest.raises(ValueError, match="method must be one of"):
        MethodChoice("beam", None)
    with pytest.raises(ValueError, match="sampling must be 'auto' or one of"):
        MethodChoice("bon", METHODS["bon"][0](), sampling="karras")
