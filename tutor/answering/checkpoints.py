"""Find a seq2seq checkpoint on this machine: a folder, or a model id in the local Hugging Face cache.

Nothing here touches the network. `--generator auto` takes a cached Flan-T5 (base preferred); any
encoder-decoder checkpoint (T5, BART, …) can be named with `--generator FOLDER_OR_ID`.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from pathlib import Path

from tutor.errors import TutorError

# Flan-T5 sizes in the order `--generator auto` prefers them: base is the best answer per second on a CPU.
FLAN_PREFERENCE = ("flan-t5-base", "flan-t5-large", "flan-t5-small", "flan-t5-xl", "flan-t5-xxl")
SEQ2SEQ_TYPES = frozenset(
    "t5 mt5 umt5 longt5 bart mbart pegasus pegasus_x marian m2m_100 led bigbird_pegasus plbart fsmt "
    "prophetnet switch_transformers".split()
)
WEIGHT_FILES = ("model.safetensors", "pytorch_model.bin", "model.safetensors.index.json",
                "pytorch_model.bin.index.json")
BACKENDS = ("auto", "transformers", "ctranslate2")


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
