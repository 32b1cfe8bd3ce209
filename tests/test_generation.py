"""Seq2seq answers on a tiny T5 built in the test (random weights, tokenizer trained on the article).

The tiny model is loaded through the code that loads Flan-T5. Its answers are junk, so most answers fall
back to quoting (itself a tested behaviour); the supported path is exercised by crafting the model's output.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tutor import TutorError
from tutor.answering.checkpoints import find_cached_flan_t5, resolve_checkpoint
from tutor.answering.engines import ct2_cache_dir, torch_dtype_for
from tutor.answering.extractive import ABSTAIN_TEXT, ExtractiveAnswerer
from tutor.answering.seq2seq import UNTRACED_NOTE, Seq2SeqAnswerer, trace
from tutor.core import Tutor, resolve_answerer

from .tiny_t5 import build_tiny_t5

ROOT = Path(__file__).resolve().parent.parent
DRIFT = "What is model drift?"
DRIFT_SENTENCE = "Performance degrades as data distributions change"
OFF_TOPIC = "What is the capital city of France?"
SHORT = 32  # tokens the tiny model writes per answer in these tests


@pytest.fixture(scope="session")
def tiny_dir(tmp_path_factory, corpus_dir) -> Path:
    return build_tiny_t5(corpus_dir, tmp_path_factory.mktemp("models") / "tiny-t5")


@pytest.fixture(scope="session")
def seq2seq_tutor(corpus_dir, index_dir, tiny_dir) -> Tutor:
    """A Tutor answering with the tiny T5 through transformers on the CPU."""
    tutor = Tutor.load(corpus_dir, index_dir, generator=str(tiny_dir), device="cpu", backend="transformers")
    tutor.answerer.max_new_tokens = SHORT  # the random model never stops by itself
    return tutor


@pytest.fixture(scope="session")
def ct2_answerer(tiny_dir, tmp_path_factory) -> Seq2SeqAnswerer:
    """The same tiny model converted for CTranslate2, in float32 so that it must match token for token."""
    return Seq2SeqAnswerer.load(resolve_checkpoint(str(tiny_dir)), device="cpu", backend="ctranslate2",
                                index_dir=tmp_path_factory.mktemp("ct2-index"), compute_type="float32",
                                max_new_tokens=SHORT)


@pytest.fixture()
def empty_hub(tmp_path, monkeypatch) -> Path:
    """A machine whose Hugging Face cache holds nothing."""
    hub = tmp_path / "hub"
    hub.mkdir()
    monkeypatch.setenv("HF_HUB_CACHE", str(hub))
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf-home"))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.delenv("HUGGINGFACE_HUB_CACHE", raising=False)
    return hub


def evidence_for(tutor: Tutor, question: str):
    vectors, evidence = tutor._retrieve([question], None)
    return question, vectors[0], evidence[0]


def prompt_ids(answerer: Seq2SeqAnswerer, tutor: Tutor, question: str) -> list[int]:
    """The prompt the answerer builds for `question`, as answer() builds it."""
    question, qvec, evidence = evidence_for(tutor, question)
    quoted = answerer._extractive.answer(question, qvec, evidence)
    return answerer._prompt(question, qvec, evidence, quoted).ids


def add_to_hub(hub: Path, model_id: str, checkpoint: Path) -> Path:
    """Lay out `checkpoint` as the hub cache does: models--org--name/snapshots/<hash>/ and refs/main."""
    repo = hub / ("models--" + model_id.replace("/", "--"))
    snapshot = repo / "snapshots" / "0123abcd"
    shutil.copytree(checkpoint, snapshot)
    (repo / "refs").mkdir(parents=True)
    (repo / "refs" / "main").write_text("0123abcd")
    return snapshot


# --------------------------------------------------------------------------- choosing the generator


def test_auto_without_a_local_model_answers_extractively_and_says_where_it_looked(empty_hub, tmp_path):
    answerer, notes = resolve_answerer("auto", "cpu", "auto", tmp_path)
    assert isinstance(answerer, ExtractiveAnswerer)
    assert len(notes) == 1 and "No local seq2seq model" in notes[0] and str(empty_hub) in notes[0]


def test_auto_finds_a_flan_t5_in_the_hugging_face_cache(empty_hub, tiny_dir, tmp_path):
    add_to_hub(empty_hub, "google/flan-t5-small", tiny_dir)
    answerer, notes = resolve_answerer("auto", "cpu", "transformers", tmp_path)
    assert answerer.name == "seq2seq:google/flan-t5-small"
    assert "google/flan-t5-small" in notes[0] and "Hugging Face cache" in notes[0]
    # A model id names the same checkpoint.
    assert resolve_checkpoint("google/flan-t5-small").path == find_cached_flan_t5().path


def test_auto_prefers_flan_t5_base_and_skips_snapshots_that_are_not_seq2seq(empty_hub, tiny_dir):
    add_to_hub(empty_hub, "google/flan-t5-small", tiny_dir)
    add_to_hub(empty_hub, "google/flan-t5-base", tiny_dir)
    assert find_cached_flan_t5().name == "google/flan-t5-base"
    broken = add_to_hub(empty_hub, "google/flan-t5-large", tiny_dir)
    (broken / "config.json").write_text(json.dumps({"model_type": "bert"}))
    assert find_cached_flan_t5().name == "google/flan-t5-base"


def test_a_missing_folder_is_a_clear_error(tmp_path):
    with pytest.raises(TutorError, match="No such folder"):
        resolve_answerer(str(tmp_path / "nowhere" / "model"), "cpu", "auto", tmp_path)


def test_a_model_id_not_on_the_machine_names_where_it_looked(empty_hub, tmp_path):
    with pytest.raises(TutorError, match="not on this machine") as info:
        resolve_answerer("google/flan-t5-xxl", "cpu", "auto", tmp_path)
    assert str(empty_hub / "models--google--flan-t5-xxl") in str(info.value)


def test_a_folder_holding_another_kind_of_model_is_refused(tmp_path):
    folder = tmp_path / "minilm"
    folder.mkdir()
    (folder / "config.json").write_text(json.dumps({"model_type": "bert", "architectures": ["BertModel"]}))
    (folder / "model.safetensors").write_bytes(b"")
    with pytest.raises(TutorError, match="'bert' model, not a seq2seq"):
        resolve_answerer(str(folder), "cpu", "auto", tmp_path)
    (folder / "config.json").unlink()
    with pytest.raises(TutorError, match="no readable config.json"):
        resolve_answerer(str(folder), "cpu", "auto", tmp_path)


def test_a_seq2seq_config_without_weights_is_refused(tmp_path, tiny_dir):
    folder = tmp_path / "no-weights"
    folder.mkdir()
    shutil.copy(tiny_dir / "config.json", folder / "config.json")
    with pytest.raises(TutorError, match="no weights"):
        resolve_answerer(str(folder), "cpu", "auto", tmp_path)


def test_cli_reports_a_bad_generator_in_one_line(corpus_dir, index_dir, tmp_path, capsys):
    from tutor.cli import main

    code = main(["ask", DRIFT, "--corpus", str(corpus_dir), "--index", str(index_dir),
                 "--generator", str(tmp_path / "missing")])
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith("tutor: error: No such folder") and "Traceback" not in err


def test_cuda_without_cuda_is_a_clear_error(corpus_dir, index_dir, tiny_dir):
    from tutor.answering.engines import TransformersEngine, load_tokenizer
    from tutor.embeddings import cuda_available

    if cuda_available():
        pytest.skip("this machine has CUDA")
    with pytest.raises(TutorError, match="CUDA is not available"):
        Tutor.load(corpus_dir, index_dir, generator=str(tiny_dir), device="cuda")
    with pytest.raises(TutorError, match="CUDA is not available"):
        TransformersEngine(tiny_dir, load_tokenizer(tiny_dir), "cuda")


@pytest.mark.parametrize("bf16", [True, False])
def test_gpu_precision_is_bfloat16_or_float32_never_float16(monkeypatch, bf16):
    import torch

    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda *a, **k: bf16)
    assert torch_dtype_for("cuda") == (torch.bfloat16 if bf16 else torch.float32)
    assert torch_dtype_for("cpu") == torch.float32


# --------------------------------------------------------------------------- the prompt


def test_prompt_fits_the_input_limit_and_keeps_the_best_evidence(seq2seq_tutor):
    from tutor.answering.rank import rank_quotes

    question, qvec, evidence = evidence_for(seq2seq_tutor, DRIFT)
    answerer: Seq2SeqAnswerer = seq2seq_tutor.answerer
    quotes = rank_quotes(question, qvec, evidence)
    full = answerer.build_prompt(question, evidence, quotes)
    assert not full.cut and len(full.passages) == len(evidence) == 3
    assert full.passages[0] is quotes[0].evidence  # the passage holding the best quote comes first

    tokenizer = answerer.tokenizer
    limit = len(full.ids) - 20  # too small for all three passages
    small = Seq2SeqAnswerer(answerer.checkpoint, tokenizer, answerer.engine, max_input_tokens=limit)
    cut = small.build_prompt(question, evidence, quotes)
    assert cut.cut and len(cut.ids) <= limit
    assert cut.passages == full.passages[: len(cut.passages)]  # the lowest-ranked went first
    text = tokenizer.decode(cut.ids, skip_special_tokens=True)
    assert DRIFT_SENTENCE in text and text.rstrip().endswith(f"Question: {question} Answer:")
    assert cut.ids[-1] == tokenizer.eos_token_id

    long_question = "Why does model drift matter " + "in production systems " * 200
    tight = Seq2SeqAnswerer(answerer.checkpoint, tokenizer, answerer.engine, max_input_tokens=64)
    assert len(tight.build_prompt(long_question, evidence, quotes).ids) <= 64


# --------------------------------------------------------------------------- attribution


def test_junk_from_the_model_falls_back_to_quoting_and_says_so(seq2seq_tutor, tutor):
    generated = seq2seq_tutor.answerer.generate([prompt_ids(seq2seq_tutor.answerer, seq2seq_tutor, DRIFT)])[0]
    assert generated  # the random model does write something...
    answer = seq2seq_tutor.ask(DRIFT)
    extractive = tutor.ask(DRIFT)
    assert answer.generator == "seq2seq:tiny-t5"
    assert answer.text == f"{UNTRACED_NOTE} {extractive.text}"  # ...which is not shown as fact
    assert answer.citations == extractive.citations and not answer.abstained


def test_an_answer_the_material_supports_is_marked_and_cited(seq2seq_tutor, monkeypatch):
    answerer = seq2seq_tutor.answerer
    monkeypatch.setattr(answerer, "generate", lambda prompts: [f"{DRIFT_SENTENCE.lower()}."] * len(prompts))
    answer = seq2seq_tutor.ask(DRIFT)
    assert answer.text == f"{DRIFT_SENTENCE.lower()}. [1]"
    assert DRIFT_SENTENCE in answer.citations[0].quote
    assert answer.citations[0].section.endswith("Industry Challenges")
    # Only the passage the answer uses is cited; the others are listed apart, without quotes.
    assert [c.rank for c in answer.citations] == [1]
    assert len(answer.also_retrieved) == 2 and all(c.quote == "" for c in answer.also_retrieved)


def test_an_answer_drawing_on_two_passages_cites_both(seq2seq_tutor):
    question, qvec, evidence = evidence_for(seq2seq_tutor, "How do academia and industry differ in their goals?")
    first, second = evidence[0].units[0].text, evidence[1].units[0].text
    used = trace(f"{first} {second}", evidence)
    assert [q.evidence for q in used[:2]] == [evidence[0], evidence[1]]
    quoted = seq2seq_tutor.answerer._extractive.answer(question, qvec, evidence)
    draft = seq2seq_tutor.answerer.finish(question, evidence, quoted, seq2seq_tutor.answerer.build_prompt(
        question, evidence), f"{first} {second}")
    assert draft.text.count("[1]") == 1 and draft.text.count("[2]") == 1
    assert draft.citations[0].quote == first and draft.citations[1].quote == second


def test_unanswerable_questions_abstain_before_generating(seq2seq_tutor, monkeypatch):
    def must_not_run(prompts):
        raise AssertionError("generated for an unanswerable question")

    monkeypatch.setattr(seq2seq_tutor.answerer, "generate", must_not_run)
    answer = seq2seq_tutor.ask(OFF_TOPIC)
    assert answer.abstained and answer.text.startswith(ABSTAIN_TEXT) and answer.citations == ()


# --------------------------------------------------------------------------- batching and engines


QUESTIONS = [DRIFT, "What is the primary goal in academia?", "Why is explainability important in industry?",
             "How do academic and industrial deep learning differ in risk tolerance?"]


def prompts_for(tutor: Tutor) -> list[list[int]]:
    return [prompt_ids(tutor.answerer, tutor, q) for q in QUESTIONS]


def test_batched_generation_equals_one_by_one(seq2seq_tutor):
    prompts = prompts_for(seq2seq_tutor)
    assert len({len(p) for p in prompts}) > 1  # padding is exercised
    batched = seq2seq_tutor.answerer.generate(prompts)
    one_by_one = [seq2seq_tutor.answerer.generate([p])[0] for p in prompts]
    assert batched == one_by_one
    assert all(batched) and len(set(batched)) == len(batched)


def test_ctranslate2_matches_transformers_token_for_token(seq2seq_tutor, ct2_answerer):
    prompts = prompts_for(seq2seq_tutor)
    expected = seq2seq_tutor.answerer.engine.generate(prompts, SHORT)
    assert ct2_answerer.engine.generate(prompts, SHORT) == expected
    assert sum(map(len, expected)) > 2 * SHORT  # the comparison covers many tokens
    assert ct2_answerer.name == seq2seq_tutor.answerer.name == "seq2seq:tiny-t5"


def test_ctranslate2_converts_once_and_again_when_the_checkpoint_changes(tiny_dir, tmp_path):
    model_dir = tmp_path / "model"
    shutil.copytree(tiny_dir, model_dir)
    checkpoint = resolve_checkpoint(str(model_dir))
    first = Seq2SeqAnswerer.load(checkpoint, backend="ctranslate2", index_dir=tmp_path / "index")
    converted = first.engine.model_dir
    assert converted.parent == tmp_path / "index" / "ct2" and (converted / "model.bin").exists()
    assert first.engine.precision == "int8"
    stamp = (converted / "model.bin").stat().st_mtime_ns
    again = Seq2SeqAnswerer.load(checkpoint, backend="ctranslate2", index_dir=tmp_path / "index")
    assert again.engine.model_dir == converted and (converted / "model.bin").stat().st_mtime_ns == stamp
    os.utime(model_dir / "model.safetensors", ns=(1, 1))
    assert ct2_cache_dir(model_dir, tmp_path / "index", "int8") != converted


# --------------------------------------------------------------------------- streaming


@pytest.mark.parametrize("engine", ["transformers", "ctranslate2"])
def test_streaming_grows_to_the_generated_answer_then_gives_the_draft(seq2seq_tutor, ct2_answerer, engine):
    answerer = seq2seq_tutor.answerer if engine == "transformers" else ct2_answerer
    question, qvec, evidence = evidence_for(seq2seq_tutor, DRIFT)
    items = list(answerer.stream(question, qvec, evidence))
    texts, final = items[:-1], items[-1]
    assert len(texts) > 3 and all(isinstance(t, str) for t in texts)
    assert texts[-1] == answerer.generate([prompt_ids(answerer, seq2seq_tutor, DRIFT)])[0]
    assert final == answerer.answer(question, qvec, evidence)


def test_tutor_stream_ends_with_a_seq2seq_answer(seq2seq_tutor):
    items = list(seq2seq_tutor.stream(DRIFT))
    assert all(isinstance(i, str) for i in items[:-1]) and len(items) > 2
    assert items[-1].generator == "seq2seq:tiny-t5" and items[-1].citations


# --------------------------------------------------------------------------- the command line


def test_cli_ask_answers_with_the_seq2seq_model(corpus_dir, index_dir, tiny_dir):
    env = dict(os.environ, PYTHONPATH=str(ROOT), HF_HUB_OFFLINE="1")
    result = subprocess.run(
        [sys.executable, "-m", "tutor", "ask", "--generator", str(tiny_dir), "--json", DRIFT,
         "--corpus", str(corpus_dir), "--index", str(index_dir)],
        capture_output=True, text=True, env=env, timeout=300,
    )
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["generator"] == "seq2seq:tiny-t5"
    assert data["citations"] and DRIFT_SENTENCE in data["citations"][0]["quote"]
    assert "seq2seq model tiny-t5" in result.stderr and "CTranslate2" in result.stderr


def test_backend_choice_and_the_fallback_when_the_fast_path_cannot_be_used(tiny_dir, tmp_path):
    from tutor.answering.checkpoints import choose_backend

    assert choose_backend("auto", "cpu") == "ctranslate2"  # installed here, as `pip install tutor[fast]` does
    assert choose_backend("auto", "cuda") == "transformers"
    with pytest.raises(TutorError, match="Unknown backend"):
        choose_backend("onnx", "cpu")
    not_a_folder = tmp_path / "index-file"
    not_a_folder.write_text("")
    answerer, notes = resolve_answerer(str(tiny_dir), "cpu", "auto", not_a_folder)
    assert answerer.engine.backend == "transformers" and "Using transformers instead" in notes[1]
    with pytest.raises(TutorError, match="Cannot keep the CTranslate2 copy"):
        resolve_answerer(str(tiny_dir), "cpu", "ctranslate2", not_a_folder)
