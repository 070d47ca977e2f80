"""Tiny tokenizers trained locally with the ``tokenizers`` library, laid out like the real
ones (special tokens, ids and pre-tokenisation of Qwen2, Llama, CLIP, BERT and T5)."""

from __future__ import annotations

CORPUS = [
    'Does this figure show "a photo of a cat"? Please answer yes or no.',
    "Yes yes No no. Score: 7/10. Rate how well this image matches the description.",
    "user assistant system a red car, two dogs, a person holding a sign",
]


def byte_bpe_tokenizer(specials: list[str], *, eos: str, pad: str, vocab_size: int = 400):
    """A byte-level BPE tokenizer (Qwen2 / GPT-2 style, ``Ġ`` marks a leading space)."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=specials,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator(CORPUS * 20, trainer)
    return PreTrainedTokenizerFast(tokenizer_object=tok, eos_token=eos, pad_token=pad)


def metaspace_tokenizer():
    """A SentencePiece-style tokenizer (Llama: ``▁`` prefixes words, a space is prepended)."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE(unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.Metaspace(prepend_scheme="always")
    tok.decoder = decoders.Metaspace(prepend_scheme="always")
    trainer = trainers.BpeTrainer(
        vocab_size=300, special_tokens=["<unk>", "<s>", "</s>"], show_progress=False
    )
    tok.train_from_iterator(CORPUS * 20, trainer)
    return PreTrainedTokenizerFast(
        tokenizer_object=tok, unk_token="<unk>", eos_token="</s>", pad_token="</s>"
    )


def clip_like_tokenizer(max_length: int = 16):
    """Byte-level BPE with CLIP's layout: lower-casing, ``<|startoftext|> ... <|endoftext|>``,
    the two specials at the end of the vocabulary and id 0 as the pad token (OWL's processor
    pads with id 0 and OWLv2 masks out queries whose first token is 0)."""
    from tokenizers import (
        AddedToken,
        Tokenizer,
        decoders,
        models,
        normalizers,
        pre_tokenizers,
        processors,
        trainers,
    )
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE())
    tok.normalizer = normalizers.Lowercase()
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=300, initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False
    )
    tok.train_from_iterator(CORPUS * 20, trainer)
    specials = ["<|startoftext|>", "<|endoftext|>"]
    tok.add_special_tokens([AddedToken(s, special=True) for s in specials])
    sot, eot = (tok.token_to_id(s) for s in specials)
    tok.post_processor = processors.TemplateProcessing(
        single=f"{specials[0]} $A {specials[1]}",
        special_tokens=[(specials[0], sot), (specials[1], eot)],
    )
    return PreTrainedTokenizerFast(
        tokenizer_object=tok,
        bos_token=specials[0],
        eos_token=specials[1],
        pad_token=tok.id_to_token(0),
        model_max_length=max_length,
    )


def bert_like_tokenizer():
    """WordPiece tokenizer whose special ids match BERT's (Grounding DINO hard-codes
    [CLS]=101, [SEP]=102, '.'=1012, '?'=1029 for its phrase masks)."""
    from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, processors
    from transformers import PreTrainedTokenizerFast

    fixed = {
        "[PAD]": 0,
        "[UNK]": 100,
        "[CLS]": 101,
        "[SEP]": 102,
        "[MASK]": 103,
        ".": 1012,
        "?": 1029,
    }
    words = "a an the photo of cat cats dog dogs person car sign red two , ##s".split()
    vocab = {tok: i for tok, i in fixed.items()}
    vocab.update({w: 104 + i for i, w in enumerate(words)})
    taken = set(vocab.values())
    vocab.update({f"[unused{i}]": i for i in range(1030) if i not in taken})
    tok = Tokenizer(models.WordPiece(vocab, unk_token="[UNK]"))
    tok.normalizer = normalizers.BertNormalizer(lowercase=True)
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tok.decoder = decoders.WordPiece()
    tok.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]",
        pair="[CLS] $A [SEP] $B:1 [SEP]:1",
        special_tokens=[("[CLS]", 101), ("[SEP]", 102)],
    )
    return PreTrainedTokenizerFast(
        tokenizer_object=tok, cls_token="[CLS]", sep_token="[SEP]", pad_token="[PAD]",
        unk_token="[UNK]", mask_token="[MASK]",
    )  # fmt: skip


def t5_like_tokenizer():
    """SentencePiece-style tokenizer with T5's ids (``<pad>``=0, ``</s>``=1, ``<unk>``=2) that
    appends ``</s>`` to every sequence, as the Flan-T5 tokenizer does."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE(unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.Metaspace(prepend_scheme="always")
    tok.decoder = decoders.Metaspace(prepend_scheme="always")
    specials = ["<pad>", "</s>", "<unk>"]
    trainer = trainers.BpeTrainer(vocab_size=300, special_tokens=specials, show_progress=False)
    tok.train_from_iterator(CORPUS * 20, trainer)
    tok.post_processor = processors.TemplateProcessing(
        single="$A </s>", special_tokens=[("</s>", 1)]
    )
    return PreTrainedTokenizerFast(
        tokenizer_object=tok, pad_token="<pad>", eos_token="</s>", unk_token="<unk>"
    )
