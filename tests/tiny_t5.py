"""A tiny T5 checkpoint for tests: small config, seeded random weights, a tokenizer trained on the course text.

It is saved like any Hugging Face checkpoint (config.json, model.safetensors, tokenizer.json), so the tutor
loads it through the same AutoTokenizer / AutoModelForSeq2SeqLM code that loads Flan-T5. Its answers are
junk (random weights) but deterministic, and long enough to compare engines token for token.
"""

from __future__ import annotations

from pathlib import Path

SEED = 0
VOCAB_SIZE = 600
SPECIAL_TOKENS = ["<pad>", "</s>", "<unk>"]  # T5's ids: pad 0 (also the decoder start), end 1, unknown 2


def train_tokenizer(texts: list[str]):
    """A BPE tokenizer in T5's style (Metaspace, </s> appended) wrapped for AutoTokenizer.

    BPE rather than Unigram: its training is deterministic, so every run builds the same model.
    """
    from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, processors, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE(unk_token="<unk>"))
    tok.normalizer = normalizers.NFKC()
    tok.pre_tokenizer = pre_tokenizers.Metaspace()
    tok.decoder = decoders.Metaspace()
    tok.train_from_iterator(texts, trainers.BpeTrainer(vocab_size=VOCAB_SIZE, special_tokens=SPECIAL_TOKENS))
    tok.post_processor = processors.TemplateProcessing(
        single="$A </s>", pair="$A </s> $B </s>", special_tokens=[("</s>", 1)]
    )
    return PreTrainedTokenizerFast(
        tokenizer_object=tok, pad_token="<pad>", eos_token="</s>", unk_token="<unk>", model_max_length=512
    )


def build_tiny_t5(corpus_dir: Path, out_dir: Path) -> Path:
    """Write the tiny checkpoint into `out_dir` and return it."""
    import torch
    from transformers import T5Config, T5ForConditionalGeneration

    texts = [line for f in sorted(Path(corpus_dir).glob("*.txt")) for line in f.read_text().splitlines() if line]
    tokenizer = train_tokenizer(texts)
    config = T5Config(
        vocab_size=len(tokenizer), d_model=32, d_kv=8, d_ff=64, num_layers=2, num_decoder_layers=2, num_heads=4,
        feed_forward_proj="gated-gelu", tie_word_embeddings=False, pad_token_id=0, eos_token_id=1,
        decoder_start_token_id=0,
    )
    torch.manual_seed(SEED)
    model = T5ForConditionalGeneration(config).eval()
    # T5's own initialisation makes a tiny model repeat <pad> forever; wider random weights give varied
    # tokens, so that comparisons between engines and batch layouts mean something.
    generator = torch.Generator().manual_seed(SEED)
    with torch.no_grad():
        for name, param in model.named_parameters():
            if "layer_norm" in name:
                continue
            scale = 1.0 if "relative_attention_bias" in name else 2 * param.shape[-1] ** -0.5
            param.copy_(torch.randn(param.shape, generator=generator) * scale)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(out_dir)
    tokenizer.save_pretrained(out_dir)
    return out_dir
