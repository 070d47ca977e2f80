"""Object counting: spec parsing, -RSS arithmetic, NMS, decoders, and the real loader on tiny
random OWLv2 / Grounding DINO folders (random detectors cannot count, so the counting logic
is also checked on stub detections)."""

from __future__ import annotations

import pytest
import torch

pytest.importorskip("transformers")

from support.tiny_tokenizers import bert_like_tokenizer  # noqa: E402
from support.vlm_folders import (  # noqa: E402
    random_images,
    save_tiny_grounding_dino,
    save_tiny_owlv2,
    save_tiny_qwen25_vl,
)

from flowsearch.verifiers.counting import (  # noqa: E402
    CountingVerifier,
    count_reward,
    load_counting,
    parse_count_spec,
)
from flowsearch.verifiers.detection import (  # noqa: E402
    Detections,
    batched_nms,
    box_iou,
    decode_grounding,
    decode_owl,
    nms,
    phrase_token_map,
)
from flowsearch.verifiers.files import MissingWeightsError  # noqa: E402


def test_parse_count_spec_forms():
    assert parse_count_spec("cat: 2, dog: 1") == {"cat": 2, "dog": 1}
    assert parse_count_spec(" Red  Car :3;person:0\nTraffic light: 10 ,") == {
        "red car": 3,
        "person": 0,
        "traffic light": 10,
    }


@pytest.mark.parametrize(
    "spec",
    [
        "",
        "   ",
        "cat",
        "cat 2",
        "cat: two",
        "cat: -1",
        "cat: 2.5",
        "cat: 1, cat: 2",
        ": 2",
        "st. bernard: 1",
    ],
)
def test_parse_count_spec_rejects(spec):
    with pytest.raises(ValueError, match="spec|object"):
        parse_count_spec(spec, "prompts[0]")


def test_count_reward_hand_computed():
    assert count_reward({"cat": 3, "dog": 1}, {"cat": 2, "dog": 1}) == (-1.0, False)
    assert count_reward({"cat": 0, "dog": 4}, {"cat": 2, "dog": 1}) == (-13.0, False)
    assert count_reward({"cat": 2}, {"cat": 2}) == (-0.0, True)


def test_box_iou_and_nms_hand_computed():
    boxes = torch.tensor([[0, 0, 2, 2], [1, 0, 3, 2], [0, 0, 2, 2.0], [10, 10, 11, 11]])
    iou = box_iou(boxes, boxes)
    assert iou[0, 1] == pytest.approx(1 / 3) and iou[0, 2] == 1.0 and iou[0, 3] == 0.0
    scores = torch.tensor([0.9, 0.8, 0.7, 0.6])
    assert nms(boxes, scores, 0.5).tolist() == [0, 1, 3]  # box 2 duplicates box 0
    assert nms(boxes, scores, 0.3).tolist() == [0, 3]  # IoU 1/3 > 0.3 suppresses box 1
    assert nms(boxes, torch.tensor([0.5, 0.5, 0.5, 0.5]), 0.5).tolist() == [
        0,
        1,
        3,
    ]  # ties: lower index first
    assert nms(boxes[:0], scores[:0], 0.5).numel() == 0
    labels = torch.tensor([0, 0, 1, 1])  # box 2 has another label: not suppressed by box 0
    assert batched_nms(boxes, scores, labels, 0.5).tolist() == [0, 1, 2, 3]


def test_nms_matches_bruteforce_reference():
    g = torch.Generator().manual_seed(0)
    xy = torch.rand(60, 2, generator=g) * 10
    boxes = torch.cat([xy, xy + 1 + torch.rand(60, 2, generator=g) * 3], dim=1)
    scores = torch.rand(60, generator=g)
    kept: list[int] = []
    for i in sorted(range(60), key=lambda k: -float(scores[k])):
        if all(float(box_iou(boxes[i : i + 1], boxes[j : j + 1])) <= 0.4 for j in kept):
            kept.append(i)
    assert nms(boxes, scores, 0.4).tolist() == kept


def test_decoders_on_hand_made_outputs():
    boxes = torch.tensor([[[0.5, 0.5, 0.2, 0.2], [0.2, 0.2, 0.1, 0.1]]])  # cx, cy, w, h
    xyxy, scores, labels = decode_owl(torch.tensor([[[2.0, -1.0], [-3.0, 0.0]]]), boxes)
    torch.testing.assert_close(xyxy[0, 0], torch.tensor([0.4, 0.4, 0.6, 0.6]))
    assert labels.tolist() == [[0, 1]]
    torch.testing.assert_close(scores, torch.sigmoid(torch.tensor([[2.0, 0.0]])))
    tok = bert_like_tokenizer()
    ids = tok("a cat. two dogs.", return_tensors="pt").input_ids[0]
    tl = phrase_token_map(ids, 2, tok.convert_tokens_to_ids("."), {101, 102, 0})
    assert tl.tolist() == [-1, 0, 0, -1, 1, 1, -1, -1]  # [CLS] a cat . two dogs . [SEP]
    logits = torch.full((1, 2, 10), -5.0)
    logits[0, 0, 2] = 3.0  # box 0 grounded on "cat"
    logits[0, 1, 5] = 1.0  # box 1 grounded on "dogs"
    logits[0, :, 8:] = float("-inf")  # beyond the text, as the model pads
    _, scores, labels = decode_grounding(logits, boxes, tl, 2)
    assert labels.tolist() == [[0, 1]]
    torch.testing.assert_close(scores, torch.sigmoid(torch.tensor([[3.0, 1.0]])))


def _stub_counter(per_call: list[list[int]]) -> tuple[CountingVerifier, list]:
    """A counter whose detector returns the given label lists, recording each call."""
    v = CountingVerifier(object(), object(), kind="owl", batch_size=2)
    calls: list = []

    def detect(images, objects):
        calls.append((images.shape[0], list(objects)))
        out = []
        for _ in range(images.shape[0]):
            labels = torch.tensor(per_call.pop(0), dtype=torch.long)
            out.append(Detections(torch.zeros(len(labels), 4), torch.ones(len(labels)), labels))
        return out

    v.detect = detect  # type: ignore[method-assign]
    return v, calls


def test_counting_logic_on_stub_detections():
    # image 0 and 2 ask for cats and dogs, image 1 for cars; detections are label indices
    v, calls = _stub_counter([[0, 0, 1], [0, 1, 1], [0]])
    specs = ["cat: 2, dog: 1", "car: 1", "cat: 2, dog: 1"]
    results = v.count(random_images(3), specs)
    assert calls == [(2, ["cat", "dog"]), (1, ["car"])]  # grouped by objects, chunked by batch_size
    # results come back in input order: image 2 got the second detections, image 1 the third
    assert [r.counts for r in results] == [{"cat": 2, "dog": 1}, {"car": 1}, {"cat": 1, "dog": 2}]
    assert [r.reward for r in results] == [0.0, 0.0, -2.0]
    assert [r.exact for r in results] == [True, True, False]
    v, _ = _stub_counter([[0, 0, 1], [0, 1, 1], [0]])
    torch.testing.assert_close(v(random_images(3), specs), torch.tensor([0.0, 0.0, -2.0]))
    v, _ = _stub_counter([[0, 0, 1], [0, 1, 1], [0]])
    torch.testing.assert_close(v.accuracy(random_images(3), specs), torch.tensor([1.0, 1.0, 0.0]))


def test_bad_specs_and_inputs_raise_before_detection():
    v, calls = _stub_counter([])
    with pytest.raises(ValueError, match=r"prompts\[1\]"):
        v(random_images(2), ["cat: 1", "two cats"])
    with pytest.raises(ValueError, match="3 entries for 2 images"):
        v(random_images(2), ["cat: 1"] * 3)
    with pytest.raises(ValueError, match="NaN"):
        v(torch.full((1, 8, 8, 3), float("nan")), "cat: 1")
    with pytest.raises(ValueError, match="empty"):
        v(torch.rand(0, 8, 8, 3), "cat: 1")
    assert calls == []
    with pytest.raises(ValueError, match="kind"):
        CountingVerifier(object(), object(), kind="yolo")
    with pytest.raises(ValueError, match="threshold"):
        CountingVerifier(object(), object(), kind="owl", threshold=1.5)


BUILDERS = {"owlv2": save_tiny_owlv2, "grounding-dino": save_tiny_grounding_dino}


@pytest.fixture(scope="module", params=sorted(BUILDERS))
def detector_dir(request, tmp_path_factory):
    return BUILDERS[request.param](tmp_path_factory.mktemp(request.param))


SPECS = ["cat: 2, dog: 1", "car: 1", "cat: 2, dog: 1"]


def test_real_loader_counts_consistently(detector_dir):
    v = load_counting(detector_dir, threshold=0.3)
    assert v.kind == ("owl" if "owlv2" in detector_dir.name else "grounding")
    x = random_images(3, seed=6)
    results = v.count(x, SPECS)
    for r, spec in zip(results, SPECS, strict=True):
        assert r.targets == parse_count_spec(spec) and set(r.counts) == set(r.targets)
        assert all(isinstance(c, int) and c >= 0 for c in r.counts.values())
        assert r.counts == {
            o: int((r.detections.labels == k).sum()) for k, o in enumerate(r.objects)
        }
        assert bool((r.detections.scores > 0.3).all())
        assert r.reward == count_reward(r.counts, r.targets)[0]
    s = v(x, SPECS)
    assert s.shape == (3,) and s.dtype == torch.float32 and bool((s <= 0).all())
    assert torch.equal(s, torch.tensor([r.reward for r in results]))
    assert torch.equal(s, v(x, SPECS))  # deterministic
    single = torch.cat([v(x[i : i + 1], p) for i, p in enumerate(SPECS)])
    assert torch.equal(s, single)  # integer counts: identical, not just close
    assert torch.equal(v.accuracy(x, SPECS), torch.tensor([float(r.exact) for r in results]))


def test_real_loader_threshold_extremes(detector_dir):
    x = random_images(2, seed=7)
    nothing = load_counting(detector_dir, threshold=0.9999999)
    torch.testing.assert_close(nothing(x, "cat: 2, dog: 1"), torch.tensor([-5.0, -5.0]))
    # threshold 0, IoU 1.0: only exact duplicates are suppressed, so every box is counted
    everything = load_counting(detector_dir, threshold=0.0, iou_threshold=1.0)
    cfg = everything.model.config
    n_boxes = (
        cfg.num_queries
        if everything.kind == "grounding"
        else (cfg.vision_config.image_size // cfg.vision_config.patch_size) ** 2
    )
    res = everything.count(x, "cat: 0")
    assert [r.counts["cat"] for r in res] == [n_boxes, n_boxes]
    assert res[0].reward == -float(n_boxes**2)


def test_loader_errors(tmp_path_factory, tmp_path):
    with pytest.raises(MissingWeightsError, match="IDEA-Research/grounding-dino-base"):
        load_counting(tmp_path / "grounding-dino-base")
    qwen = save_tiny_qwen25_vl(tmp_path_factory.mktemp("not_a_detector"))
    with pytest.raises(ValueError, match="qwen2_5_vl"):
        load_counting(qwen)


def test_real_loader_bfloat16(detector_dir):
    v = load_counting(detector_dir, dtype=torch.bfloat16, threshold=0.3)
    assert next(v.model.parameters()).dtype == torch.bfloat16
    s = v(random_images(2, seed=10), "cat: 1")
    assert s.shape == (2,) and s.dtype == torch.float32 and bool((s <= 0).all())
