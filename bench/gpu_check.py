"""GPU check for seq2seq answers: CUDA answers equal CPU answers, and CUDA speed against CPU speed.

    PYTHONPATH=. python bench/gpu_check.py      # a few minutes on one GPU; needs a CUDA build of torch

1. The tiny test model (tests/tiny_t5.py) answers the same questions on the CPU and on CUDA (bfloat16,
   as the tutor runs it there): the answers, abstentions and cited passages must be the same, and the
   raw generated tokens must match the CPU's exactly with the model in float32 on CUDA (bfloat16's
   agreement is printed, not required: a random model's greedy choices are near ties).
2. The Flan-T5-base-shaped model of bench/bench_seq2seq.py: ms per token and seconds per answer at batch
   1 and 8 for each engine on CUDA and on the CPU, with ratios.
On a machine without CUDA it runs the CPU half of part 1, says that CUDA is not available, and skips the rest.
Exit status 1 when a CUDA answer differs from the CPU answer.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests"), str(ROOT / "bench")]

QUESTIONS = [
    "What is model drift?",
    "What is the primary goal in academia?",
    "Why is explainability important in industry?",
    "How do academic and industrial deep learning differ in risk tolerance?",
    "What is the capital city of France?",
]


def answerable_prompts(tutor, questions: list[str]) -> list[list[int]]:
    """The prompts the tutor's answerer builds for the questions it does not abstain on."""
    from tutor.answering.rank import ABSTAIN_THRESHOLD, rank_quotes, support

    vectors, evidence = tutor._retrieve(questions, None)
    prompts = []
    for q, v, ev in zip(questions, vectors, evidence):
        quotes = rank_quotes(q, v, ev)
        if quotes and support(q, quotes[0]) >= ABSTAIN_THRESHOLD:
            prompts.append(tutor.answerer.build_prompt(q, ev, quotes).ids)
    return prompts


def raw_generations(tutor, questions: list[str]) -> list[list[int]]:
    """The tokens the model writes for each answerable question (before tracing)."""
    return tutor.answerer.engine.generate(answerable_prompts(tutor, questions), 48)


def same_answer(a, b) -> bool:
    """Same text, abstention and cited passages; scores may differ in the last digits (another embedder)."""

    def cited(answer) -> list[tuple]:
        return [(c.rank, c.chunk_id, c.quote) for c in answer.citations]

    return (a.text == b.text and a.abstained == b.abstained and cited(a) == cited(b)
            and all(abs(c.score - d.score) < 1e-3 for c, d in zip(a.citations, b.citations)))


def agreement(a: list[list[int]], b: list[list[int]]) -> float:
    """Share of generated tokens that match, position by position."""
    total = sum(max(len(x), len(y)) for x, y in zip(a, b)) or 1
    return sum(sum(p == q for p, q in zip(x, y)) for x, y in zip(a, b)) / total


def tiny_model_check(work: Path, cuda: bool) -> bool:
    from tiny_t5 import build_tiny_t5

    from tutor import Tutor

    tiny = build_tiny_t5(ROOT / "corpus", work / "tiny-t5")
    index = work / "index"
    cpu = Tutor.load(ROOT / "corpus", index, generator=str(tiny), device="cpu", backend="transformers")
    cpu_answers = cpu.ask_many(QUESTIONS)
    cpu_raw = raw_generations(cpu, QUESTIONS)
    print(f"tiny model on cpu: {len(cpu_answers)} answers, {sum(a.abstained for a in cpu_answers)} abstained, "
          f"{sum(map(len, cpu_raw))} tokens generated")
    if not cuda:
        print("CUDA is not available on this machine: skipping the CUDA comparisons and the CUDA figures.")
        return True
    import torch

    gpu = Tutor.load(ROOT / "corpus", index, generator=str(tiny), device="cuda", backend="transformers")
    print(f"tiny model on cuda: {gpu.notes[0]}")
    gpu_answers = gpu.ask_many(QUESTIONS)
    ok = True
    for q, a, b in zip(QUESTIONS, cpu_answers, gpu_answers):
        if not same_answer(a, b):
            ok = False
            print(f"  DIFFERENT answer for {q!r}:\n    cpu:  {a.text[:200]}\n    cuda: {b.text[:200]}")
    print(f"answers on cuda ({gpu.answerer.engine.precision}) equal cpu answers: {'yes' if ok else 'NO'}")
    print(f"raw tokens, cuda {gpu.answerer.engine.precision} vs cpu float32: "
          f"{agreement(raw_generations(gpu, QUESTIONS), cpu_raw):.1%} agree (informative)")
    gpu.answerer.engine.model.to(torch.float32)
    exact = raw_generations(gpu, QUESTIONS) == cpu_raw
    print(f"raw tokens, cuda float32 vs cpu float32: {'identical' if exact else 'DIFFERENT'}")
    ok &= exact
    try:
        import ctranslate2

        if ctranslate2.get_cuda_device_count() > 0:
            from tutor.answering.checkpoints import resolve_checkpoint
            from tutor.answering.seq2seq import Seq2SeqAnswerer

            ct2 = Seq2SeqAnswerer.load(resolve_checkpoint(str(tiny)), device="cuda", backend="ctranslate2",
                                       index_dir=index, compute_type="float32")
            same = ct2.engine.generate(answerable_prompts(cpu, QUESTIONS), 48) == cpu_raw
            print(f"raw tokens, CTranslate2 cuda float32 vs transformers cpu float32: "
                  f"{'identical' if same else 'DIFFERENT'}")
            ok &= same
    except ImportError:
        print("ctranslate2 is not installed: skipping its CUDA check")
    return ok


def speed_figures(reps: int = 2) -> None:
    import bench_seq2seq as bench

    bench.CACHE.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    bench.prepare_checkpoint()
    print(f"\nFlan-T5-base-shaped model ready in {time.perf_counter() - t0:.0f} s; "
          f"prompt {bench.PROMPT_TOKENS} tokens, answer {bench.NEW_TOKENS} tokens")
    bench.convert_once("int8")
    runs = [("transformers", "cuda"), ("transformers", "cpu"), ("ctranslate2", "cpu")]
    try:
        import ctranslate2

        if ctranslate2.get_cuda_device_count() > 0:
            runs.insert(1, ("ctranslate2", "cuda"))
    except ImportError:
        runs = runs[:2]
    rows = []
    for backend, device in runs:
        try:
            rows.append(bench.measure(backend, device, reps))
        except SystemExit as exc:  # one engine failing should not hide the others' figures
            print(f"{backend} on {device}: {exc}")
    bench.print_table(rows)
    base = next((r for r in rows if r["engine"].startswith("transformers") and r["device"] == "cpu"), None)
    if base:
        for r in rows:
            if r is base:
                continue
            ratios = ", ".join(f"batch {s}: {base['batches'][s]['s_per_answer'] / b['s_per_answer']:.1f}x"
                               for s, b in r["batches"].items())
            print(f"{r['engine']} on {r['device']} vs transformers float32 on cpu, per answer: {ratios}")


def main() -> int:
    from tutor.embeddings import cuda_available

    cuda = cuda_available()
    with tempfile.TemporaryDirectory(prefix="tutor-gpu-check-") as tmp:
        ok = tiny_model_check(Path(tmp), cuda)
    if cuda:
        speed_figures()
    print("gpu check: " + ("passed" if ok else "FAILED") + ("" if cuda else " (CPU half only)"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
