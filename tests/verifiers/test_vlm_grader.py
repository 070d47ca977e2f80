"""VLM grader: reply parsing, order, ties and fallback; the real loader on tiny random VLMs."""

from __future__ import annotations

import logging

import pytest
import torch

pytest.importorskip("transformers")

from support.vlm_folders import random_images, save_tiny_llava_onevision, save_tiny_qwen25_vl  # noqa: E402

from flowsearch.verifiers.files import MissingWeightsError  # noqa: E402
from flowsearch.verifiers.vlm_grader import Grade, VLMGrader, load_vlm_grader, parse_score  # noqa: E402


@pytest.mark.parametrize(
    ("reply", "expected"),
    [
        ("Score: 7/10", 7.0),
        ("score: 7", 7.0),
        ("**Score:** 8", 8.0),
        ("SCORE = 9/10.", 9.0),
        ("Rating: 6.5", 6.5),
        ("I would give it a score of 4.", 4.0),
        ("Graded 3 out of 10", 3.0),
        ("7", 7.0),
        ("7.", 7.0),
        ("  10\n", 10.0),
        ("0/10 - nothing matches", 0.0),
        ("8/10", 8.0),
        ("4/5", 8.0),  # other denominators are rescaled
        ("3 out of 5 stars", 6.0),
        ("70%", 7.0),
        ("The image shows 3 cats. Score: 9/10", 9.0),  # the keyword wins over earlier numbers
        ("There are 2 dogs, so 6/10.", 6.0),  # a fraction wins over a bare number
        ("I'd say 8. The colours are right.", 8.0),
        ("Score: 11/10", None),  # out of range: skipped, nothing else to read
        ("Score: 12. Actually 9.", 9.0),  # out-of-range candidates are skipped, not clamped
        ("-3", None),
        ("seven", 7.0),
        ("Seven out of ten.", 7.0),
        ("score: ten", 10.0),
        ("no idea", None),
        ("", None),
        ("Yes", None),
    ],
)
def test_parse_score_formats(reply, expected):
    assert parse_score(reply, 10) == expected


def test_parse_score_other_scales():
    assert parse_score("Score: 4", max_score=5) == 4.0
    assert parse_score("8", max_score=5) is None
    assert parse_score("80%", max_score=5) == 4.0
    assert parse_score("Score: 0.75", max_score=1) == 0.75
    with pytest.raises(ValueError, match="max_score"):
        parse_score("7", max_score=0)


class _Stub:
    """Stands in for model/processor: the grader's replies are fixed per prompt."""

    class tokenizer:  # noqa: N801 - attribute layout of a processor
        padding_side = "right"


def _stub_grader(replies: dict[str, tuple[str, float]], **kw) -> VLMGrader:
    g = VLMGrader(_Stub(), _Stub(), batch_size=kw.pop("batch_size", 2), **kw)
    g.generate = lambda images, prompts: [replies[p] for p in prompts]  # type: ignore[method-assign]
    return g


def test_scores_in_input_order_with_fallback_and_ties(caplog):
    replies = {
        "a": ("Score: 7/10", 0.50),
        "b": ("garbled ###", 0.90),
        "c": ("Score: 7/10", 0.80),
        "d": ("Score: 3/10", 0.99),
    }
    g = _stub_grader(replies, batch_size=3)
    with caplog.at_level(logging.WARNING, logger="flowsearch.verifiers"):
        s = g(random_images(4), ["a", "b", "c", "d"])
    expected = torch.tensor([0.7 + 1e-4 * 0.5, 0.0, 0.7 + 1e-4 * 0.8, 0.3 + 1e-4 * 0.99])
    torch.testing.assert_close(s, expected)
    assert s[2] > s[0]  # equal grades: the more confident reply wins, the same way every run
    assert s[3] < s[0]  # the tie-break never reorders different grades
    assert any("unparseable" in r.message and "garbled" in r.message for r in caplog.records)
    grades = g.grade(random_images(4), ["a", "b", "c", "d"])
    assert [gr.grade for gr in grades] == [7.0, None, 7.0, 3.0]
    assert grades[1] == Grade("garbled ###", None, 0.9, 0.0)


def test_fallback_and_tie_weight_options():
    g = _stub_grader({"x": ("???", 0.5), "y": ("5", 0.5)}, fallback=-1.0, tie_weight=0.0)
    torch.testing.assert_close(g(random_images(2), ["x", "y"]), torch.tensor([-1.0, 0.5]))
    for bad in (
        {"tie_weight": 0.2},
        {"max_score": 0},
        {"max_new_tokens": 0},
        {"rubric": "no placeholder"},
    ):
        with pytest.raises(ValueError):
            VLMGrader(_Stub(), _Stub(), **bad)


BUILDERS = {"qwen2_5_vl": save_tiny_qwen25_vl, "llava_onevision": save_tiny_llava_onevision}


@pytest.fixture(scope="module", params=sorted(BUILDERS))
def grader(request, tmp_path_factory):
    folder = BUILDERS[request.param](tmp_path_factory.mktemp(request.param))
    return load_vlm_grader(folder, batch_size=3, max_new_tokens=6)


PROMPTS = ["a photo of a cat", "two dogs and a red car", "a person holding a sign"]


def test_real_loader_generates_parses_and_is_deterministic(grader):
    x = random_images(3, seed=4)
    grades = grader.grade(x, PROMPTS)
    assert len(grades) == 3 and all(isinstance(g.reply, str) for g in grades)
    for g in grades:
        assert 0.0 < g.confidence <= 1.0
        if g.grade is None:
            assert g.score == grader.fallback
        else:
            assert g.score == pytest.approx(g.grade / 10 + 1e-4 * g.confidence)
    again = grader.grade(x, PROMPTS)
    assert [g.reply for g in again] == [g.reply for g in grades]
    s = grader(x, PROMPTS)
    assert s.shape == (3,) and s.dtype == torch.float32
    torch.testing.assert_close(s, torch.tensor([g.score for g in grades]))


def test_real_loader_batch_equals_single(grader):
    x = random_images(3, seed=5)
    batched = grader.grade(x, PROMPTS)
    single = [grader.grade(x[i : i + 1], p)[0] for i, p in enumerate(PROMPTS)]
    assert [g.reply for g in batched] == [g.reply for g in single]
    for b, s in zip(batched, single, strict=True):
        assert b.confidence == pytest.approx(s.confidence, rel=1e-4)


def test_bad_inputs_and_missing_weights(grader, tmp_path):
    with pytest.raises(ValueError, match="layout"):
        grader(torch.rand(1, 3, 16, 16), "a")
    with pytest.raises(ValueError, match="NaN"):
        grader.grade(torch.full((1, 16, 16, 3), float("nan")), "a")
    with pytest.raises(ValueError, match="2 entries for 1 images"):
        grader(torch.rand(1, 16, 16, 3), ["a", "b"])
    with pytest.raises(ValueError, match="empty"):
        grader(torch.rand(0, 16, 16, 3), "a")
    with pytest.raises(MissingWeightsError, match="Qwen/Qwen2.5-VL-3B-Instruct"):
        load_vlm_grader(tmp_path / "missing")
