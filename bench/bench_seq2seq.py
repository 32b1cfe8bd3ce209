"""Seq2seq answer speed on the CPU: transformers float32 against CTranslate2 int8, batch 1 and batch 8.

    PYTHONPATH=. python bench/bench_seq2seq.py            # about 4-6 minutes on 2 cores, first run included

The model has Flan-T5-base's exact configuration with random weights (speed does not depend on the
values), saved once as a checkpoint folder under the temp dir and loaded through the tutor's own
Seq2SeqAnswerer.load, so both engines run with the settings the tutor uses. Every answer is a 400-token
prompt and exactly 48 generated tokens. Each engine runs in its own process so that its memory (RSS)
is its own. Not a test: it prints figures and ratios measured in the same run.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PROMPT_TOKENS = 400
NEW_TOKENS = 48
BATCHES = (1, 8)
CACHE = Path(tempfile.gettempdir()) / "tutor-bench"
CHECKPOINT = CACHE / "flan-t5-base-random"
TARGET = 1.6  # CTranslate2 int8 must answer at least this much faster than transformers float32, batch 1


def flan_t5_base_config():
    from transformers import T5Config

    return T5Config(
        vocab_size=32128, d_model=768, d_kv=64, d_ff=2048, num_layers=12, num_decoder_layers=12, num_heads=12,
        relative_attention_num_buckets=32, relative_attention_max_distance=128, feed_forward_proj="gated-gelu",
        tie_word_embeddings=False, dropout_rate=0.1, layer_norm_epsilon=1e-6, pad_token_id=0, eos_token_id=1,
        decoder_start_token_id=0,
    )


def prepare_checkpoint(folder: Path = CHECKPOINT) -> Path:
    """A Flan-T5-base-shaped checkpoint with random weights and a placeholder vocabulary (built once)."""
    if (folder / "model.safetensors").exists() and (folder / "tokenizer.json").exists():
        return folder
    import torch
    from tokenizers import Tokenizer, models
    from transformers import PreTrainedTokenizerFast, T5ForConditionalGeneration

    config = flan_t5_base_config()
    vocab = {"<pad>": 0, "</s>": 1, "<unk>": 2} | {f"t{i}": i for i in range(3, config.vocab_size)}
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=Tokenizer(models.WordLevel(vocab, unk_token="<unk>")),
        pad_token="<pad>", eos_token="</s>", unk_token="<unk>", model_max_length=512,
    )
    torch.manual_seed(0)
    model = T5ForConditionalGeneration(config).eval()
    tmp = folder.with_name(folder.name + ".tmp")
    model.save_pretrained(tmp)
    tokenizer.save_pretrained(tmp)
    tmp.rename(folder)
    return folder


def prompts(count: int, seed: int = 0) -> list[list[int]]:
    import random

    rng = random.Random(seed)
    return [[rng.randrange(3, 32000) for _ in range(PROMPT_TOKENS - 1)] + [1] for _ in range(count)]


def rss_mb() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def generate_fixed(answerer, batch: list[list[int]], new_tokens: int = NEW_TOKENS) -> int:
    """Exactly `new_tokens` greedy tokens per prompt with the answerer's engine; returns the tokens made."""
    engine = answerer.engine
    if engine.backend == "ctranslate2":
        results = engine.translator.translate_batch(
            [engine._tokens(p) for p in batch], beam_size=1, max_decoding_length=new_tokens,
            min_decoding_length=new_tokens, max_input_length=0,
        )
        made = [len(r.hypotheses[0]) for r in results]
    else:
        import torch

        with torch.inference_mode():
            out = engine.model.generate(
                **engine._inputs(batch), max_new_tokens=new_tokens, min_new_tokens=new_tokens,
                do_sample=False, num_beams=1,
            )
        made = [out.shape[1] - 1] * len(batch)
    assert all(m == new_tokens for m in made), made
    return sum(made)


def run_child(backend: str, device: str, reps: int) -> dict:
    """Load one engine the way the tutor does and time it; runs in its own process."""
    from tutor.answering.checkpoints import resolve_checkpoint
    from tutor.answering.seq2seq import Seq2SeqAnswerer

    started = time.perf_counter()
    before = rss_mb()
    answerer = Seq2SeqAnswerer.load(resolve_checkpoint(str(CHECKPOINT)), device=device, backend=backend,
                                    index_dir=CACHE / "index")
    result = {"engine": f"{backend} {answerer.engine.precision}", "device": device,
              "load_s": time.perf_counter() - started, "rss_before_mb": before, "rss_loaded_mb": rss_mb(),
              "batches": {}}
    data = prompts(max(BATCHES))
    generate_fixed(answerer, data[:1], 4)  # warm-up: first-call allocations, thread pools
    for size in BATCHES:
        times = []
        for _ in range(reps if size == 1 else max(1, reps - 1)):
            t0 = time.perf_counter()
            made = generate_fixed(answerer, data[:size])
            if device.startswith("cuda"):
                import torch

                torch.cuda.synchronize()
            times.append(time.perf_counter() - t0)
        best = min(times)
        result["batches"][str(size)] = {"s_per_answer": best / size, "ms_per_token": best * 1000 / made,
                                        "runs": len(times), "median_s": statistics.median(times)}
    result["rss_peak_mb"] = peak_rss_mb()
    return result


def measure(backend: str, device: str, reps: int) -> dict:
    cmd = [sys.executable, __file__, "--child", backend, "--device", device, "--reps", str(reps)]
    env = dict(os.environ, PYTHONPATH=str(ROOT), HF_HUB_OFFLINE="1", TOKENIZERS_PARALLELISM="false")
    out = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if out.returncode != 0:
        raise SystemExit(f"{backend} on {device} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def convert_once(quantization: str = "int8") -> float:
    """Convert the checkpoint for CTranslate2 (cached next to the bench's index); seconds spent, 0 if cached."""
    from tutor.answering.engines import convert_to_ct2, ct2_cache_dir

    target = ct2_cache_dir(CHECKPOINT, CACHE / "index", quantization)
    if (target / "model.bin").exists():
        return 0.0
    t0 = time.perf_counter()
    convert_to_ct2(CHECKPOINT, target, quantization)
    return time.perf_counter() - t0


def print_table(rows: list[dict]) -> None:
    print(f"{'engine':<24}{'device':<8}{'batch':>6}{'ms/token':>10}{'s/answer':>10}{'load s':>8}"
          f"{'RSS loaded MB':>15}{'RSS peak MB':>13}")
    for r in rows:
        for size, b in r["batches"].items():
            print(f"{r['engine']:<24}{r['device']:<8}{size:>6}{b['ms_per_token']:>10.1f}{b['s_per_answer']:>10.3f}"
                  f"{r['load_s']:>8.1f}{r['rss_loaded_mb']:>15.0f}{r['rss_peak_mb']:>13.0f}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--child", choices=["transformers", "ctranslate2"], help=argparse.SUPPRESS)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--reps", type=int, default=2, help="timed runs per batch size (best is kept)")
    args = parser.parse_args()
    if args.child:
        print(json.dumps(run_child(args.child, args.device, args.reps)))
        return 0

    started = time.perf_counter()
    CACHE.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    prepare_checkpoint()
    print(f"checkpoint (Flan-T5-base configuration, random weights): {CHECKPOINT} "
          f"({time.perf_counter() - t0:.0f} s to prepare)")
    print(f"CTranslate2 int8 conversion: {convert_once():.0f} s (0 = cached from an earlier run)")
    print(f"{os.cpu_count()} CPU cores; prompt {PROMPT_TOKENS} tokens, answer exactly {NEW_TOKENS} tokens, "
          f"greedy; best of {args.reps} runs; load average {os.getloadavg()[0]:.1f}\n")
    rows = [measure("transformers", "cpu", args.reps), measure("ctranslate2", "cpu", args.reps)]
    print_table(rows)
    base, fast = rows
    print()
    for size in map(str, BATCHES):
        ratio = base["batches"][size]["s_per_answer"] / fast["batches"][size]["s_per_answer"]
        print(f"batch {size}: CTranslate2 int8 is {ratio:.2f}x faster per answer than transformers float32")
    for r in rows:
        gain = r["batches"]["1"]["s_per_answer"] / r["batches"][str(max(BATCHES))]["s_per_answer"]
        print(f"{r['engine']}: batch {max(BATCHES)} gives {gain:.2f}x the answers per second of batch 1")
    ratio = base["batches"]["1"]["s_per_answer"] / fast["batches"]["1"]["s_per_answer"]
    verdict = "met" if ratio >= TARGET else "NOT met"
    print(f"target CTranslate2 int8 >= {TARGET}x faster at batch 1: {verdict} ({ratio:.2f}x)")
    print(f"total {time.perf_counter() - started:.0f} s; load average now {os.getloadavg()[0]:.1f} "
          "(other processes on the machine slow both engines, torch's thread pool the more)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
