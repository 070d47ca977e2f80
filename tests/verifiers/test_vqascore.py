"""VQAScore on tiny random Qwen2.5-VL and LLaVA-OneVision folders, loaded like a user's folder."""

from __future__ import annotations

import json
import sys

import pytest
import torch

pytest.importorskip("transformers")

from support.tiny_tokenizers import byte_bpe_tokenizer, metaspace_tokenizer  # noqa: E402
from support.vlm_folders import (  # noqa: E402
    random_images,
    save_tiny_instructblip_t5,
    save_tiny_llava_onevision,
    save_tiny_qwen25_vl,
)

from flowsearch.verifiers.files import MissingDependencyError, MissingWeightsError  # noqa: E402
from flowsearch.verifiers.vlm_prompts import format_question  # noqa: E402
from flowsearch.verifiers.vqascore import (  # noqa: E402
    DEFAULT_QUESTION,
    answer_token_ids,
    load_vqascore,
)

PROMPTS = ["a photo of a cat", "two dogs and a red car", "a person holding a sign"]
BUILDERS = {
    "qwen2_5_vl": save_tiny_qwen25_vl,
    "llava_onevision": save_tiny_llava_onevision,
    "instructblip_t5": save_tiny_instructblip_t5,  # encoder-decoder language model
}


@pytest.fixture(scope="module", params=sorted(BUILDERS))
def vlm_dir(request, tmp_path_factory):
    return BUILDERS[request.param](tmp_path_factory.mktemp(request.param))


@pytest.fixture(scope="module")
def vqa(vlm_dir):
    return load_vqascore(vlm_dir, batch_size=4)


def test_scores_shape_range_and_interface(vqa):
    x = random_images(3)
    s = vqa(x, PROMPTS)
    assert s.shape == (3,) and s.dtype == torch.float32 and s.device == x.device
    assert bool(((s > 0) & (s < 1)).all())
    assert vqa.differentiable is False and vqa.device == torch.device("cpu")


def test_batch_equals_single_and_chunking(vlm_dir, vqa):
    x = random_images(3)
    batched = vqa(x, PROMPTS)  # different prompt lengths -> left padding inside the batch
    single = torch.cat([vqa(x[i : i + 1], p) for i, p in enumerate(PROMPTS)])
    torch.testing.assert_close(batched, single, atol=1e-6, rtol=1e-4)
    chunked = load_vqascore(vlm_dir, batch_size=2)(x, PROMPTS)
    torch.testing.assert_close(batched, chunked, atol=1e-6, rtol=1e-4)


def test_deterministic_and_sensitive_to_image_and_prompt(vqa):
    x = random_images(2, seed=1)
    a, b = vqa(x, "a photo of a cat"), vqa(x, "a photo of a cat")
    assert torch.equal(a, b)
    assert not torch.allclose(a[0], a[1])  # the image matters
    c = vqa(x, "two dogs and a red car")
    assert not torch.allclose(a, c)  # the prompt matters


def test_matches_independent_forward_pass(vqa):
    """Decoder-only: P(Yes) is the softmax of a plain full forward pass at the last position.
    Encoder-decoder: exp(-mean cross-entropy) of the answer as labels (t2v_metrics's formula)."""
    x = random_images(1, seed=2)
    proc, model = vqa.processor, vqa.model
    inputs = proc(text=vqa.texts(["a red car"]), images=[_pil(x[0])], return_tensors="pt")
    with torch.no_grad():
        if vqa.answer_sequence is None:
            logits = model(**inputs).logits[0, -1]
            yes = proc.tokenizer.convert_tokens_to_ids("Yes")
            assert vqa.answer_ids == [yes]
            expected = torch.softmax(logits.double(), -1)[yes].float()
        else:
            labels = proc.tokenizer("yes", return_tensors="pt").input_ids
            assert labels[0, -1] == proc.tokenizer.eos_token_id
            expected = torch.exp(-model(**inputs, labels=labels).loss)
    torch.testing.assert_close(vqa(x, "a red car")[0], expected, atol=1e-7, rtol=1e-5)


def test_uniform_logits_give_ids_over_full_vocab(vlm_dir):
    """With a zero LM head every token is equally likely: P = len(yes_ids) / vocab size
    (decoder-only), the geometric mean 1 / vocab size (encoder-decoder)."""
    v = load_vqascore(vlm_dir)
    head = v.model.get_output_embeddings()
    with torch.no_grad():
        head.weight.zero_()
    s = v(random_images(2), "a cat")
    n = len(v.answer_ids) if v.answer_sequence is None else 1
    torch.testing.assert_close(s, torch.full((2,), n / head.weight.shape[0]))


def test_prompt_text_follows_the_paper_template(vqa):
    text = vqa.texts(["a cat"])[0]
    assert 'Does this figure show "a cat"? Please answer yes or no.' in text
    if vqa.model.config.model_type == "instructblip":  # t2v_metrics: "Question: ..." / "yes"
        assert text.startswith("Question: ") and vqa.answer == "yes"
    else:
        assert text.rstrip("\n").endswith("assistant")  # generation prompt: the answer starts next
    assert (
        format_question(DEFAULT_QUESTION, "x {y}")
        == 'Does this figure show "x {y}"? Please answer yes or no.'
    )
    with pytest.raises(ValueError, match="question_template"):
        format_question("no placeholder", "a cat")


def test_bfloat16_runs_close_to_float32(vlm_dir, vqa):
    x = random_images(2, seed=3)
    v16 = load_vqascore(vlm_dir, dtype=torch.bfloat16)
    assert next(v16.model.parameters()).dtype == torch.bfloat16
    s16 = v16(x, "a cat")
    assert s16.dtype == torch.float32
    torch.testing.assert_close(s16, vqa(x, "a cat"), atol=2e-3, rtol=0.3)


@pytest.mark.parametrize(
    ("images", "prompts", "match"),
    [
        (torch.rand(2, 3, 32, 32), "a", "layout"),
        (torch.rand(2, 32, 32, 3) * 2, "a", r"\[0, 1\]"),
        (torch.rand(0, 32, 32, 3), "a", "empty"),
        (torch.full((1, 32, 32, 3), float("nan")), "a", "NaN"),
        (torch.rand(2, 32, 32, 3), ["a", "b", "c"], "3 entries for 2 images"),
    ],
)
def test_bad_inputs(vqa, images, prompts, match):
    with pytest.raises(ValueError, match=match):
        vqa(images, prompts)


def test_legacy_qwen_folder_layout(tmp_path):
    """Published Qwen2.5-VL folders keep the chat template in chat_template.json and some name
    a dropped image processor class; they must score exactly like the modern layout."""
    modern = save_tiny_qwen25_vl(tmp_path / "modern")
    legacy = save_tiny_qwen25_vl(tmp_path / "legacy")
    template = (legacy / "chat_template.jinja").read_text(encoding="utf-8")
    (legacy / "chat_template.jinja").unlink()
    (legacy / "chat_template.json").write_text(
        json.dumps({"chat_template": template}), encoding="utf-8"
    )
    pre = json.loads((legacy / "preprocessor_config.json").read_text(encoding="utf-8"))
    pre.update(
        image_processor_type="Qwen2_5_VLImageProcessor", processor_class="Qwen2_5_VLProcessor"
    )
    (legacy / "preprocessor_config.json").write_text(json.dumps(pre), encoding="utf-8")
    x = random_images(2, seed=11)
    assert torch.equal(load_vqascore(legacy)(x, "a cat"), load_vqascore(modern)(x, "a cat"))


def test_missing_weights_and_bad_folder(tmp_path):
    with pytest.raises(MissingWeightsError) as err:
        load_vqascore(tmp_path / "qwen2.5-vl-3b")
    msg = str(err.value)
    assert str(tmp_path / "qwen2.5-vl-3b") in msg and "Qwen/Qwen2.5-VL-3B-Instruct" in msg
    assert "models/verifiers/vqascore/" in msg and "docs/verifiers/vqascore.md" in msg
    with pytest.raises(MissingWeightsError, match="no config.json"):
        load_vqascore(tmp_path)


def test_missing_transformers_names_the_extra(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "transformers", None)
    with pytest.raises(MissingDependencyError, match=r"flowsearch\[verifiers\]"):
        load_vqascore(tmp_path)


def test_answer_ids_handle_space_prefixed_tokenizers():
    bpe = byte_bpe_tokenizer(["<|endoftext|>"], eos="<|endoftext|>", pad="<|endoftext|>")
    ids = answer_token_ids(bpe, "Yes")
    assert [bpe.decode([i]) for i in ids] == ["Yes"]  # " Yes" is "Ġ" + "Yes" here
    sp = metaspace_tokenizer()
    ids = answer_token_ids(sp, "Yes")
    assert [sp.convert_ids_to_tokens(i) for i in ids] == ["▁Yes"]  # Llama style: one spelling


class _TwoSpellings:
    """A tokenizer where "Yes" and " Yes" are different single tokens (Qwen2: Yes / ĠYes)."""

    vocab = {"Yes": 5, "ĠYes": 9}

    def encode(self, text, add_special_tokens=False):
        return [self.vocab["ĠYes" if text.startswith(" ") else "Yes"]]

    def decode(self, ids):
        return {5: "Yes", 9: " Yes"}[ids[0]]


def test_answer_ids_sum_both_spellings():
    assert answer_token_ids(_TwoSpellings(), "Yes") == [5, 9]


def _pil(image):
    from flowsearch.verifiers.image_ops import to_pil

    return to_pil(image[None])[0]
