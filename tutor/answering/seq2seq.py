"""Seq2seq answers (Flan-T5 and other encoder-decoder checkpoints), grounded in the retrieved passages.

The model reads the question and the numbered passages (best evidence first, cut to its input limit)
and writes an answer; the answer is then traced back to the passages' sentences by word overlap, and
[n] markers point at the citations that support it. An answer that cannot be traced is not shown as
fact: the tutor quotes the material instead and says so. Abstention is decided before generating,
by the rule the extractive answerer uses. Two engines generate the same greedy tokens: transformers
(CPU or CUDA) and CTranslate2 (a converted copy cached next to the index; int8 on CPU is the fast path).
Nothing here touches the network: checkpoints come from a folder or the local Hugging Face cache.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import queue
import re
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from tutor.answering.compose import Piece, also_retrieved, assemble, highlights
from tutor.answering.extractive import ExtractiveAnswerer
from tutor.answering.rank import Draft, Evidence, Quote, rank_quotes
from tutor.errors import TutorError
from tutor.models import PATH_SEP, Citation
from tutor.terms import terms

log = logging.getLogger(__name__)

# Flan-T5 sizes in the order `--generator auto` prefers them: base is the best answer per second on a CPU.
FLAN_PREFERENCE = ("flan-t5-base", "flan-t5-large", "flan-t5-small", "flan-t5-xl", "flan-t5-xxl")
SEQ2SEQ_TYPES = frozenset(
    "t5 mt5 umt5 longt5 bart mbart pegasus pegasus_x marian m2m_100 led bigbird_pegasus plbart fsmt "
    "prophetnet switch_transformers".split()
)
WEIGHT_FILES = ("model.safetensors", "pytorch_model.bin", "model.safetensors.index.json",
                "pytorch_model.bin.index.json")
BACKENDS = ("auto", "transformers", "ctranslate2")

DEFAULT_INPUT_TOKENS = 512  # T5's training length, used when the tokenizer does not say
MAX_NEW_TOKENS = 96
BATCH_SIZE = 8
MIN_PASSAGE_TOKENS = 24  # a passage cut shorter than this is dropped rather than kept as a fragment
PROMPT_HEAD = "Answer the question using only the numbered passages.\n\n"
# What each form of question asks of the model (the same forms the extractive answer is shaped by).
FORM_HINTS = {
    "definition": "Say what it is, in one sentence.",
    "factoid": "Answer briefly, with the fact asked for.",
    "list": "List every item the passages give.",
    "procedure": "Give the steps in order.",
    "comparison": "Say how each side compared differs.",
    "explanation": "Explain why or how, in two or three sentences.",
    "multipart": "Answer each part of the question.",
    "overview": "Summarise the main points.",
}
TRACE_THRESHOLD = 0.6  # share of the answer's content words that the passages must contain
MAX_SUPPORTING = 3  # passages cited as support for one answer
UNTRACED_NOTE = "(The generated answer could not be traced to the material; quoting it instead.)"
MARKER_RE = re.compile(r"\s*\[\d+\]")
MARKER_NUMBER_RE = re.compile(r"\[(\d+)\]")
SENTENCE_RE = re.compile(r"(?<=[.!?])\s+")


# --------------------------------------------------------------------------- finding a checkpoint


@dataclass(frozen=True)
class Checkpoint:
    path: Path
    name: str  # "google/flan-t5-base" for the hub cache, else the folder's name
    where: str  # how it was found, for the notes


def hub_cache_dirs() -> list[Path]:
    """The local Hugging Face hub caches, in the order huggingface_hub itself looks at them."""
    home = Path(os.environ.get("HF_HOME") or Path(os.environ.get("XDG_CACHE_HOME") or "~/.cache") / "huggingface")
    candidates = [os.environ.get("HF_HUB_CACHE"), os.environ.get("HUGGINGFACE_HUB_CACHE"), home / "hub",
                  Path("~/.cache/huggingface/hub")]
    out: list[Path] = []
    for c in candidates:
        if c:
            path = Path(c).expanduser()
            if path not in out:
                out.append(path)
    return out


def _read_config(folder: Path) -> dict | None:
    try:
        data = json.loads((folder / "config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def is_seq2seq_config(config: dict) -> bool:
    return bool(config.get("is_encoder_decoder")) or config.get("model_type") in SEQ2SEQ_TYPES


def _has_weights(folder: Path) -> bool:
    return any((folder / f).exists() for f in WEIGHT_FILES)


def _snapshot(repo_dir: Path) -> Path | None:
    """The snapshot that refs/main points at, else the newest one, if it holds a usable seq2seq model."""
    snapshots = repo_dir / "snapshots"
    if not snapshots.is_dir():
        return None
    choices = []
    try:
        main = (repo_dir / "refs" / "main").read_text().strip()
        choices.append(snapshots / main)
    except OSError:
        pass
    choices += sorted((p for p in snapshots.iterdir() if p.is_dir()), key=lambda p: -p.stat().st_mtime)
    for folder in choices:
        config = _read_config(folder)
        if config and is_seq2seq_config(config) and _has_weights(folder):
            return folder
    return None


def find_cached_flan_t5() -> Checkpoint | None:
    """A Flan-T5 checkpoint in the local Hugging Face cache (never the network), or None."""
    found: dict[str, Checkpoint] = {}
    for cache in hub_cache_dirs():
        if not cache.is_dir():
            continue
        for repo_dir in sorted(cache.glob("models--google--flan-t5-*")):
            model = repo_dir.name.removeprefix("models--google--")
            if model in found:
                continue
            snapshot = _snapshot(repo_dir)
            if snapshot is not None:
                found[model] = Checkpoint(snapshot, f"google/{model}", f"in the Hugging Face cache ({cache})")
    if not found:
        return None
    rank = {m: i for i, m in enumerate(FLAN_PREFERENCE)}
    return found[min(found, key=lambda m: (rank.get(m, len(rank)), m))]


MODEL_ID_RE = re.compile(r"^[A-Za-z0-9][\w.-]*(/[\w.-]+)?$")


def resolve_checkpoint(spec: str) -> Checkpoint:
    """The seq2seq checkpoint for a folder or a model id; TutorError naming what was looked for."""
    folder = Path(spec).expanduser()
    if folder.exists():
        return _checkpoint_from_folder(folder)
    if not MODEL_ID_RE.match(spec) or spec.startswith((".", "/", "~")):
        raise TutorError(f"No such folder: {spec}. Give a seq2seq checkpoint folder, a model id in the local "
                         "Hugging Face cache, 'auto' or 'extractive'.")
    repo = "models--" + spec.replace("/", "--")
    looked = []
    for cache in hub_cache_dirs():
        looked.append(str(cache / repo))
        snapshot = _snapshot(cache / repo)
        if snapshot is not None:
            return Checkpoint(snapshot, spec, f"in the Hugging Face cache ({cache})")
    raise TutorError(
        f"The model {spec!r} is not on this machine (looked in {', '.join(looked)}), and the tutor never "
        "downloads. Download it once (e.g. `huggingface-cli download " + spec + "`) or pass a checkpoint folder "
        "with --generator; 'extractive' answers without a model."
    )


def _checkpoint_from_folder(folder: Path) -> Checkpoint:
    folder = folder.resolve()
    if not folder.is_dir():
        raise TutorError(f"{folder} is a file; --generator wants a checkpoint folder (with config.json).")
    config = _read_config(folder)
    if config is None:
        raise TutorError(f"{folder} is not a model checkpoint: it has no readable config.json.")
    if not is_seq2seq_config(config):
        kind = config.get("model_type") or "unknown"
        raise TutorError(
            f"{folder} holds a {kind!r} model, not a seq2seq (encoder-decoder) one such as Flan-T5 or BART."
        )
    if not _has_weights(folder):
        raise TutorError(f"{folder} has a seq2seq config.json but no weights ({' or '.join(WEIGHT_FILES[:2])}).")
    name = folder.name
    for parent in folder.parents:  # a snapshot folder inside the hub cache: name it by its model id
        if parent.name.startswith("models--"):
            name = parent.name.removeprefix("models--").replace("--", "/")
            break
    return Checkpoint(folder, name, f"in {folder}")


def ctranslate2_available() -> bool:
    try:
        import ctranslate2  # noqa: F401
    except ImportError:
        return False
    return True


def choose_backend(backend: str, device: str) -> str:
    """'auto' → CTranslate2 on a CPU when it is installed, transformers otherwise (and on a GPU)."""
    backend = (backend or "auto").lower()
    if backend not in BACKENDS:
        raise TutorError(f"Unknown backend {backend!r}: use {', '.join(BACKENDS)}.")
    if backend == "auto":
        return "ctranslate2" if device == "cpu" and ctranslate2_available() else "transformers"
    if backend == "ctranslate2" and not ctranslate2_available():
        raise TutorError("--backend ctranslate2 needs the ctranslate2 package: pip install 'tutor[fast]'.")
    return backend


# --------------------------------------------------------------------------- engines


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


# --------------------------------------------------------------------------- the answerer


@dataclass(frozen=True)
class Prompt:
    ids: list[int]
    passages: tuple[Evidence, ...]  # what the model read, best first
    cut: bool  # True when a passage was shortened or dropped to fit


class Seq2SeqAnswerer:
    """Answers written by a seq2seq model from the retrieved passages, traced back to them for citations.

        answerer = Seq2SeqAnswerer.load(resolve_checkpoint("google/flan-t5-base"), device="cpu")
        draft = answerer.answer(question, qvec, evidence)
    """

    def __init__(self, checkpoint: Checkpoint, tokenizer, engine, *, max_input_tokens: int | None = None,
                 max_new_tokens: int = MAX_NEW_TOKENS) -> None:
        self.checkpoint = checkpoint
        self.tokenizer = tokenizer
        self.engine = engine
        self.name = f"seq2seq:{checkpoint.name}"
        self.max_input_tokens = max_input_tokens or input_limit(tokenizer)
        self.max_new_tokens = max_new_tokens
        self._extractive = ExtractiveAnswerer()

    @property
    def weights(self):
        """Corpus term weights (the Tutor hands them over): abstention and quotes match extractive mode."""
        return self._extractive.weights

    @weights.setter
    def weights(self, value) -> None:
        self._extractive.weights = value

    @classmethod
    def load(cls, checkpoint: Checkpoint, *, device: str = "cpu", backend: str = "auto",
             index_dir: Path | None = None, compute_type: str | None = None, **kwargs) -> Seq2SeqAnswerer:
        """Load tokenizer and model through AutoTokenizer / AutoModelForSeq2SeqLM (or their CTranslate2 copy)."""
        backend = choose_backend(backend, device)
        tokenizer = load_tokenizer(checkpoint.path)
        if backend == "ctranslate2":
            if index_dir is None:
                raise TutorError("The CTranslate2 backend needs an index folder to keep its converted model in.")
            engine = CTranslate2Engine(checkpoint.path, tokenizer, device, index_dir, compute_type)
        else:
            engine = TransformersEngine(checkpoint.path, tokenizer, device)
        return cls(checkpoint, tokenizer, engine, **kwargs)

    @property
    def description(self) -> str:
        engine = "CTranslate2" if self.engine.backend == "ctranslate2" else "transformers"
        return f"{engine}, {self.engine.precision}"

    # ----------------------------------------------------------------- prompt

    def _encode(self, text: str, limit: int | None = None) -> list[int]:
        if limit is None:
            return list(self.tokenizer.encode(text, add_special_tokens=False))
        return list(self.tokenizer.encode(text, add_special_tokens=False, truncation=True, max_length=limit))

    def build_prompt(self, question: str, evidence: list[Evidence], quotes: list[Quote] | None = None,
                     form: str | None = None) -> Prompt:
        """The question and the numbered passages, best evidence first, cut to the model's input limit.

        Passages are ordered by their best quote (the rule that picks the extractive answer; retrieval rank
        without `quotes`); when they do not all fit, the lowest-ranked go first, and the last one that fits
        in part is shortened.
        """
        best: dict[int, float] = {}
        for q in quotes or []:
            best.setdefault(id(q.evidence), q.score)
        ordered = sorted(evidence, key=lambda ev: (-best.get(id(ev), float("-inf")), ev.rank))
        head, suffix = self._encode(PROMPT_HEAD), self._encode("\nAnswer:")
        eos = [self.tokenizer.eos_token_id] if self.tokenizer.eos_token_id is not None else []
        # A very long question keeps its start, and at most half the input: the passages need room too.
        room = min(self.max_input_tokens // 2, self.max_input_tokens - len(head) - len(suffix) - len(eos))
        hint = f" {FORM_HINTS[form]}" if form in FORM_HINTS else ""
        tail = self._encode(f"Question: {question}{hint}", max(room, 0)) + suffix
        budget = self.max_input_tokens - len(head) - len(tail) - len(eos)
        body: list[int] = []
        kept: list[Evidence] = []
        cut = False
        for ev in ordered:
            heading = ev.chunk.section.split(PATH_SEP)[-1] if ev.chunk.section else ""
            label = f"[{len(kept) + 1}] " + (f"({heading}) " if heading else "")
            ids = self._encode(f"{label}{ev.chunk.text}\n\n")
            room = budget - len(body)
            if len(ids) > room:
                cut = True
                if room >= MIN_PASSAGE_TOKENS:
                    body += ids[:room]
                    kept.append(ev)
                break
            body += ids
            kept.append(ev)
        return Prompt(head + body + tail + eos, tuple(kept), cut)

    # ----------------------------------------------------------------- answering

    def answer(self, question: str, qvec: np.ndarray, evidence: list[Evidence]) -> Draft:
        return self.answer_many([question], [qvec], [evidence])[0]

    def answer_many(self, questions: Sequence[str], qvecs, evidences: Sequence[list[Evidence]]) -> list[Draft]:
        """Drafts for many questions; the model runs in padded batches of similar-length prompts.

        The extractive answer comes first: it decides abstention (the rule both answerers share), its
        passages lead the prompt, and it is what the tutor shows when the model's answer cannot be
        traced to the material."""
        drafts: list[Draft | None] = [None] * len(questions)
        pending: list[tuple[int, Draft, Prompt]] = []
        for i, (question, qvec, evidence) in enumerate(zip(questions, qvecs, evidences)):
            quoted = self._extractive.answer(question, qvec, evidence)
            if quoted.abstained:
                drafts[i] = quoted
            else:
                pending.append((i, quoted, self._prompt(question, qvec, evidence, quoted)))
        texts = self.generate([p.ids for _, _, p in pending]) if pending else []
        for (i, quoted, prompt), text in zip(pending, texts):
            drafts[i] = self.finish(questions[i], evidences[i], quoted, prompt, text)
        return [d for d in drafts if d is not None]

    def _prompt(self, question: str, qvec, evidence: list[Evidence], quoted: Draft) -> Prompt:
        """The prompt: the passages the extractive answer quotes first, then the rest by their best unit."""
        cited = {c.chunk_id: c.rank for c in quoted.citations}
        first = sorted((ev for ev in evidence if ev.chunk.chunk_id in cited), key=lambda ev: cited[ev.chunk.chunk_id])
        ranked = [Quote(ev, 0, float(len(first) - n) + 1e6) for n, ev in enumerate(first)]
        ranked += rank_quotes(question, qvec, evidence, self.weights)
        return self.build_prompt(question, evidence, ranked, quoted.form)

    def generate(self, prompts: Sequence[list[int]]) -> list[str]:
        """Greedy answers for prompt ids, batched by length; the same as generating them one by one."""
        out: list[str] = [""] * len(prompts)
        order = sorted(range(len(prompts)), key=lambda i: len(prompts[i]))
        for start in range(0, len(order), BATCH_SIZE):
            batch = order[start : start + BATCH_SIZE]
            for i, ids in zip(batch, self.engine.generate([prompts[i] for i in batch], self.max_new_tokens)):
                out[i] = self._decode(ids)
        return out

    def _decode(self, ids: list[int]) -> str:
        return " ".join(self.tokenizer.decode(ids, skip_special_tokens=True).split())

    def stream(self, question: str, qvec: np.ndarray, evidence: list[Evidence]) -> Iterator[str | Draft]:
        """The generated text as it grows, then the final Draft (with markers, or the quoted fallback)."""
        quoted = self._extractive.answer(question, qvec, evidence)
        if quoted.abstained:
            yield quoted
            return
        prompt = self._prompt(question, qvec, evidence, quoted)
        text, shown = "", ""
        for ids in self.engine.stream(prompt.ids, self.max_new_tokens):
            text = self._decode(ids)
            if text and text != shown:
                shown = text
                yield text
        yield self.finish(question, evidence, quoted, prompt, text)

    # ----------------------------------------------------------------- attribution

    def finish(self, question: str, evidence: list[Evidence], quoted: Draft, prompt: Prompt, generated: str) -> Draft:
        """The generated answer with [n] markers and exactly the citations it uses, or the extractive
        answer when it cannot be traced."""
        generated = MARKER_RE.sub("", generated).strip()
        used = trace(generated, prompt.passages)
        if not used:
            return replace(quoted, text=f"{UNTRACED_NOTE} {quoted.text}")
        _, citations, cited = assemble([Piece(q.evidence, q.unit, q.unit, "") for q in used])
        number = {id(q.evidence): n for n, q in enumerate(used, start=1)}
        text, citations = renumber(mark_sentences(generated, used, number), citations)
        form = quoted.form or ""
        return Draft(text, False, citations, quoted.form, highlights(question, form, text),
                     also_retrieved(evidence, cited))


def input_limit(tokenizer) -> int:
    limit = getattr(tokenizer, "model_max_length", None)
    return int(limit) if isinstance(limit, int) and 0 < limit <= 100_000 else DEFAULT_INPUT_TOKENS


def _unit_terms(ev: Evidence, i: int) -> set[str]:
    unit = ev.units[i]
    return set(terms(f"{unit.context} {unit.text}"))


def trace(answer: str, passages: Sequence[Evidence]) -> list[Quote]:
    """The passage sentences that support `answer`, most supporting first; [] when it cannot be traced.

    The answer is traced when TRACE_THRESHOLD of its content words occur in the passages; the supporting
    sentences are then chosen greedily, each covering the most answer words not yet covered.
    """
    wanted = set(terms(answer))
    if not wanted:
        return []
    seen: set[str] = set()
    for ev in passages:
        seen |= set(terms(ev.chunk.text)) | set(terms(ev.chunk.section))
    if len(wanted & seen) / len(wanted) < TRACE_THRESHOLD:
        return []
    candidates = [(ev, i, _unit_terms(ev, i)) for ev in passages for i in range(len(ev.units))]
    remaining = set(wanted)
    used: list[Quote] = []
    while remaining and len(used) < MAX_SUPPORTING and candidates:
        ev, i, unit_terms = max(candidates, key=lambda c: len(c[2] & remaining))
        gain = unit_terms & remaining
        if not gain or (used and len(gain) < 2):  # a further citation must add more than one word
            break
        used.append(Quote(ev, i, len(wanted & unit_terms) / len(wanted)))
        remaining -= unit_terms
        candidates = [c for c in candidates if c[0] is not ev]  # one sentence per passage
    return used


def mark_sentences(answer: str, used: list[Quote], number: dict[int, int] | None = None) -> str:
    """`answer` with [n] after each sentence, n the citations whose sentence shares its words
    (`number` maps a passage to its citation number; by default used[0] is 1, used[1] is 2, …)."""
    unit_terms = [_unit_terms(q.evidence, q.unit) for q in used]
    numbers = [number[id(q.evidence)] if number else n for n, q in enumerate(used, start=1)]
    out = []
    for sentence in SENTENCE_RE.split(answer):
        words = set(terms(sentence))
        marks = list(dict.fromkeys(n for n, ut in zip(numbers, unit_terms) if words & ut))
        if words and not marks:
            marks = [numbers[0]]
        out.append(sentence + "".join(f" [{n}]" for n in marks))
    return " ".join(out)


def renumber(text: str, citations: tuple[Citation, ...]) -> tuple[str, tuple[Citation, ...]]:
    """Markers renumbered in the order they first appear, with their citations; a citation the text
    never marks is dropped (citations are exactly what the answer uses)."""
    seen: dict[int, int] = {}
    for m in MARKER_NUMBER_RE.finditer(text):
        seen.setdefault(int(m.group(1)), len(seen) + 1)
    text = MARKER_NUMBER_RE.sub(lambda m: f"[{seen[int(m.group(1))]}]", text)
    kept = sorted((c for c in citations if c.rank in seen), key=lambda c: seen[c.rank])
    return text, tuple(replace(c, rank=seen[c.rank]) for c in kept)


# --------------------------------------------------------------------------- choosing the answerer


def load_answerer(spec: str, device: str, backend: str, index_dir: Path) -> tuple[object, tuple[str, ...]]:
    """The answerer for a --generator value, and a note that says which one answers and why."""
    spec = (spec or "auto").strip()
    if spec == "extractive":
        return ExtractiveAnswerer(), ("Answering extractively (quoting the course material), as asked.",)
    if spec == "auto":
        checkpoint = find_cached_flan_t5()
        if checkpoint is None:
            looked = ", ".join(str(c) for c in hub_cache_dirs())
            return ExtractiveAnswerer(), (
                f"No local seq2seq model was found (looked for google/flan-t5-* in {looked}), so answers quote "
                "the course material (extractive). Pass --generator FOLDER to use a checkpoint.",
            )
    else:
        checkpoint = resolve_checkpoint(spec)
    chosen = choose_backend(backend, device)
    notes: list[str] = []
    try:
        answerer = Seq2SeqAnswerer.load(checkpoint, device=device, backend=chosen, index_dir=index_dir)
    except TutorError as exc:
        if backend != "auto" or chosen != "ctranslate2":
            raise
        # e.g. an architecture CTranslate2 cannot convert, or an index folder that cannot be written
        notes.append(f"{exc} Using transformers instead.")
        answerer = Seq2SeqAnswerer.load(checkpoint, device=device, backend="transformers", index_dir=index_dir)
    why = "found " + checkpoint.where if spec == "auto" else "as asked"
    notes.insert(0, f"Answering with the seq2seq model {checkpoint.name} ({why}) on {device} via "
                    f"{answerer.description}; answers are traced back to the course material and cited.")
    return answerer, tuple(notes)
