"""The engines that run a seq2seq model: transformers (CPU or CUDA) and CTranslate2 (a converted copy kept
beside the index; int8 on a CPU is the fast path). Both generate the same greedy tokens, in batches or
streamed token by token.
"""

from __future__ import annotations

import hashlib
import logging
import os
import queue
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path

from tutor.errors import TutorError

log = logging.getLogger(__name__)

MAX_NEW_TOKENS = 96


def _offline() -> None:
    # Belt and braces: every load below is local_files_only, and these make any stray hub call fail fast.
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


def load_tokenizer(path: Path):
    _offline()
    from transformers import AutoTokenizer

    try:
        return AutoTokenizer.from_pretrained(str(path), local_files_only=True)
    except Exception as exc:  # transformers raises OSError, ValueError, KeyError... for a bad folder
        raise TutorError(f"Could not load the tokenizer from {path}: {exc}") from exc


def torch_dtype_for(device: str):
    """float32 on a CPU; bfloat16 on a GPU that has it, else float32. Never float16: T5 overflows in it."""
    import torch

    if device.startswith("cuda") and torch.cuda.is_bf16_supported():
        return torch.bfloat16
    return torch.float32


class TransformersEngine:
    """Greedy generation with AutoModelForSeq2SeqLM, on CPU or CUDA."""

    backend = "transformers"

    def __init__(self, path: Path, tokenizer, device: str) -> None:
        _offline()
        from transformers import AutoModelForSeq2SeqLM

        if device.startswith("cuda"):
            from tutor.embeddings import cuda_available

            if not cuda_available():
                raise TutorError(f"The seq2seq model was asked to run on {device}, but CUDA is not available.")
        try:
            model = AutoModelForSeq2SeqLM.from_pretrained(str(path), local_files_only=True)
        except Exception as exc:
            raise TutorError(f"Could not load a seq2seq model from {path}: {exc}") from exc
        self.dtype = torch_dtype_for(device)
        self.model = model.to(device=device, dtype=self.dtype).eval()
        self.tokenizer = tokenizer
        self.device = device
        self.pad_id = _pad_id(tokenizer, model.config)
        self.precision = str(self.dtype).removeprefix("torch.")
        self._lock = threading.Lock()

    def _inputs(self, prompts: Sequence[list[int]]):
        import torch

        width = max(len(p) for p in prompts)
        ids = torch.full((len(prompts), width), self.pad_id, dtype=torch.long)
        mask = torch.zeros((len(prompts), width), dtype=torch.long)
        for row, p in enumerate(prompts):
            ids[row, : len(p)] = torch.tensor(p, dtype=torch.long)
            mask[row, : len(p)] = 1
        return {"input_ids": ids.to(self.device), "attention_mask": mask.to(self.device)}

    def _generate_kwargs(self, max_new_tokens: int) -> dict:
        return {"max_new_tokens": max_new_tokens, "do_sample": False, "num_beams": 1}

    def generate(self, prompts: Sequence[list[int]], max_new_tokens: int = MAX_NEW_TOKENS) -> list[list[int]]:
        """Greedy output ids (without the start and end tokens) for a batch of prompt ids."""
        import torch

        with self._lock, torch.inference_mode():
            out = self.model.generate(**self._inputs(prompts), **self._generate_kwargs(max_new_tokens))
        return [_strip(row.tolist()[1:], self.model.config, self.pad_id) for row in out]

    def stream(self, prompt: list[int], max_new_tokens: int = MAX_NEW_TOKENS) -> Iterator[list[int]]:
        """The output ids as they grow, one list per new token; the last is the whole output."""
        from transformers.generation.streamers import BaseStreamer

        steps: queue.Queue = queue.Queue()
        done = object()

        class _Collect(BaseStreamer):
            def __init__(self) -> None:
                self.first = True

            def put(self, value) -> None:
                if self.first:  # the decoder start token
                    self.first = False
                    return
                for token in value.reshape(-1).tolist():
                    steps.put(token)

            def end(self) -> None:
                steps.put(done)

        failure: list[BaseException] = []

        def run() -> None:
            try:
                self._generate_streaming(prompt, max_new_tokens, _Collect())
            except BaseException as exc:  # reported in the caller's thread
                failure.append(exc)
                steps.put(done)

        thread = threading.Thread(target=run, daemon=True)
        thread.start()
        ids: list[int] = []
        while (token := steps.get()) is not done:
            ids.append(token)
            yield _strip(list(ids), self.model.config, self.pad_id)
        thread.join()
        if failure:
            raise failure[0]

    def _generate_streaming(self, prompt: list[int], max_new_tokens: int, streamer) -> None:
        import torch

        with self._lock, torch.inference_mode():
            self.model.generate(**self._inputs([prompt]), **self._generate_kwargs(max_new_tokens), streamer=streamer)


def _pad_id(tokenizer, config) -> int:
    for value in (tokenizer.pad_token_id, getattr(config, "pad_token_id", None), 0):
        if value is not None:
            return int(value)
    return 0


def _strip(ids: list[int], config, pad_id: int) -> list[int]:
    """Output ids up to (not including) the end token, without padding."""
    eos = getattr(config, "eos_token_id", None)
    eos_ids = set(eos) if isinstance(eos, (list, tuple)) else {eos}
    out = []
    for token in ids:
        if token in eos_ids:
            break
        if token != pad_id:
            out.append(token)
    return out


def ct2_cache_dir(checkpoint: Path, index_dir: Path, quantization: str) -> Path:
    """Where the converted copy of `checkpoint` lives: keyed by its path, its files' mtimes and the quantization."""
    stamp = [str(checkpoint.resolve()), quantization]
    for f in sorted(checkpoint.iterdir()):
        if f.is_file():
            stamp.append(f"{f.name}:{f.stat().st_mtime_ns}")
    digest = hashlib.sha256("\n".join(stamp).encode()).hexdigest()[:16]
    return Path(index_dir) / "ct2" / f"{checkpoint.name}-{quantization}-{digest}"


def convert_to_ct2(checkpoint: Path, out_dir: Path, quantization: str) -> Path:
    """Convert once (offline) and cache; later calls find the copy and return at once."""
    if (out_dir / "model.bin").exists():
        return out_dir
    from filelock import FileLock

    try:
        out_dir.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise TutorError(f"Cannot keep the CTranslate2 copy of the model in {out_dir.parent}: {exc}") from exc
    with FileLock(str(out_dir) + ".lock"):
        if (out_dir / "model.bin").exists():  # converted by another process while we waited
            return out_dir
        _offline()
        from ctranslate2.converters import TransformersConverter

        # Shown by default: the first answer waits for this (about half a minute for Flan-T5-base).
        log.warning("Converting %s for the CTranslate2 engine (%s), once; the copy is kept in %s",
                    checkpoint, quantization, out_dir)
        tmp = out_dir.with_name(out_dir.name + ".tmp")
        try:
            TransformersConverter(str(checkpoint)).convert(str(tmp), quantization=quantization, force=True)
        except Exception as exc:
            raise TutorError(f"CTranslate2 could not convert {checkpoint}: {exc}") from exc
        tmp.rename(out_dir)
    return out_dir


def ct2_compute_type(device: str) -> str:
    import ctranslate2

    if device.startswith("cuda"):
        return "bfloat16" if "bfloat16" in ctranslate2.get_supported_compute_types("cuda") else "float32"
    return "int8" if "int8" in ctranslate2.get_supported_compute_types("cpu") else "float32"


class CTranslate2Engine:
    """Greedy generation with CTranslate2 from a converted copy of the checkpoint."""

    backend = "ctranslate2"

    def __init__(self, path: Path, tokenizer, device: str, index_dir: Path, compute_type: str | None = None) -> None:
        import ctranslate2

        if device.startswith("cuda") and ctranslate2.get_cuda_device_count() == 0:
            raise TutorError("This CTranslate2 build cannot use CUDA: use --backend transformers on the GPU.")
        self.precision = compute_type or ct2_compute_type(device)
        model_dir = convert_to_ct2(Path(path), ct2_cache_dir(Path(path), Path(index_dir), self.precision),
                                   self.precision)
        ct2_device, _, index = device.partition(":")
        self.translator = ctranslate2.Translator(
            str(model_dir), device=ct2_device, device_index=int(index or 0), compute_type=self.precision,
            intra_threads=os.cpu_count() or 1,
        )
        self.tokenizer = tokenizer
        self.model_dir = model_dir

    def _tokens(self, prompt: list[int]) -> list[str]:
        return self.tokenizer.convert_ids_to_tokens(prompt)

    def _ids(self, tokens: list[str]) -> list[int]:
        return list(self.tokenizer.convert_tokens_to_ids(tokens))

    def generate(self, prompts: Sequence[list[int]], max_new_tokens: int = MAX_NEW_TOKENS) -> list[list[int]]:
        results = self.translator.translate_batch(
            [self._tokens(p) for p in prompts], beam_size=1, max_decoding_length=max_new_tokens,
            max_input_length=0,  # the prompt is already cut to the model's limit
        )
        return [self._ids(r.hypotheses[0]) for r in results]

    def stream(self, prompt: list[int], max_new_tokens: int = MAX_NEW_TOKENS) -> Iterator[list[int]]:
        ids: list[int] = []
        for step in self.translator.generate_tokens(
            self._tokens(prompt), max_decoding_length=max_new_tokens, sampling_topk=1, max_input_length=0
        ):
            if step.token_id == self.tokenizer.eos_token_id:
                break
            ids.append(step.token_id)
            yield list(ids)
