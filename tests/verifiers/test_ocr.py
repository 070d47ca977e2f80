"""OCR text match with the real RapidOCR models shipped in rapidocr-onnxruntime."""

from __future__ import annotations

import sys

import numpy as np
import pytest
import torch

from flowsearch.verifiers.files import MissingDependencyError
from flowsearch.verifiers.ocr import (
    edit_similarity,
    extract_quoted,
    levenshtein,
    load_ocr,
    normalize_text,
)


def test_levenshtein_and_similarity_hand_computed():
    assert levenshtein("kitten", "sitting") == 3
    assert levenshtein("", "abc") == 3 and levenshtein("abc", "abc") == 0
    assert levenshtein("flaw", "lawn") == 2
    assert edit_similarity("hello", "world") == pytest.approx(1 - 4 / 5)
    assert edit_similarity("", "") == 1.0 and edit_similarity("", "abc") == 0.0


def test_normalize_text_rules():
    assert normalize_text("  Hello,\n  WORLD!! ") == "hello world"
    assert normalize_text("Hello, World!", case=True) == "Hello World"
    assert normalize_text("Hello, World!", punctuation=True) == "hello, world!"
    assert normalize_text("ＨＥＬＬＯ") == "hello"  # NFKC folds full-width letters
    assert normalize_text("café $5") == "café 5"


@pytest.mark.parametrize(
    ("prompt", "text"),
    [
        ('a neon sign that says "OPEN 24h"', "OPEN 24h"),
        ("a poster with the words “Hello World”", "Hello World"),
        ('"FLOW" and "SEARCH" on two signs', "FLOW SEARCH"),
        ("a dog's collar tag reading 'REX'", "REX"),
        ("a mug printed with «café»", "café"),
    ],
)
def test_extract_quoted(prompt, text):
    assert extract_quoted(prompt) == text


def test_extract_quoted_requires_quotes():
    with pytest.raises(ValueError, match="no quoted text"):
        extract_quoted("a dog's toy on the grass")


@pytest.fixture(scope="module")
def ocr():
    pytest.importorskip("rapidocr_onnxruntime")
    return load_ocr(threads=1)


def _render(text: str, width: int = 192, height: int = 96) -> torch.Tensor:
    """Black text on white with Pillow's built-in font -> ``[1, H, W, 3]`` in [0, 1]."""
    from PIL import Image, ImageDraw, ImageFont

    img = Image.new("RGB", (width, height), "white")
    ImageDraw.Draw(img).text((12, 24), text, fill="black", font=ImageFont.load_default(size=40))
    return torch.from_numpy(np.asarray(img).copy()).float().div(255)[None]


def test_real_ocr_prefers_the_rendered_text(ocr):
    hello = _render("HELLO")
    scores = ocr(
        hello.expand(3, -1, -1, -1), ['a sign saying "HELLO"', 'a sign saying "WORLD"', '"hello"']
    )
    assert ocr.read(hello[0]) == "HELLO"
    assert scores[0] == 1.0 and scores[2] == 1.0  # case-insensitive by default
    assert scores[1] < 0.5  # HELLO vs WORLD: 4 edits of 5 -> 0.2
    assert scores[1] == pytest.approx(0.2)


def test_real_ocr_blank_image_and_options(ocr):
    blank = torch.ones(1, 64, 64, 3)
    assert ocr.read(blank[0]) == ""
    assert ocr(blank, '"HELLO"')[0] == 0.0
    strict = load_ocr(case_sensitive=True, source="prompt", threads=1)
    assert strict(_render("HELLO"), "hello")[0] == pytest.approx(0.0)
    assert strict(_render("HELLO"), "HELLO")[0] == 1.0


def test_bad_inputs_raise_before_ocr(ocr):
    with pytest.raises(ValueError, match="no quoted text"):
        ocr(torch.ones(1, 32, 32, 3), "a sign without quotes")
    with pytest.raises(ValueError, match="layout"):
        ocr(torch.ones(1, 3, 32, 32), '"A"')
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        ocr(torch.full((1, 32, 32, 3), 255.0), '"A"')
    with pytest.raises(ValueError, match="2 entries for 1 images"):
        ocr(torch.ones(1, 32, 32, 3), ['"A"', '"B"'])
    with pytest.raises(ValueError, match="source"):
        load_ocr(source="ocr")


def test_missing_package_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "rapidocr_onnxruntime", None)
    with pytest.raises(MissingDependencyError, match=r"flowsearch\[ocr\]"):
        load_ocr()
