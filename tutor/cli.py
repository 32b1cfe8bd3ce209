"""The `tutor` command: parse, call `Tutor`, format. User mistakes print one line and exit non-zero."""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from pathlib import Path

from tutor.errors import TutorError
from tutor.loading import load_from_args
from tutor.validation import check_chat_address, printable

EPILOG = """examples:
  tutor ask "What is model drift?"
  tutor ask --json "How do academia and industry differ in risk tolerance?"
  tutor batch exam.md --out answers.html
  tutor chat                      # http://127.0.0.1:7860
  tutor chat --library courses/   # a course picker over every folder in courses/
  tutor index --rebuild
  tutor index --ray HEAD:6379     # parse and embed on a Ray cluster
  tutor eval                      # the project's question set
  tutor practice --n 5            # a quiz in the terminal

environment: TUTOR_CORPUS, TUTOR_INDEX, TUTOR_GENERATOR, TUTOR_DEVICE set the defaults of
--corpus, --index, --generator and --device."""


def _common(parser: argparse.ArgumentParser, answering: bool = True) -> None:
    parser.add_argument("--corpus", metavar="DIR", help="course folder (default: the project's corpus/)")
    parser.add_argument("--index", metavar="DIR", help="index folder (default: the project's index/)")
    parser.add_argument("--device", choices=["auto", "cpu", "cuda"], help="where models run (default: auto)")
    parser.add_argument("-v", "--verbose", action="store_true", help="log what happens")
    if answering:
        parser.add_argument("--top-k", type=int, default=3, metavar="K", help="passages to retrieve (default: 3)")
        parser.add_argument(
            "--generator",
            metavar="NAME",
            help="auto (default: a local seq2seq model if present, else extractive), extractive, "
            "or a seq2seq checkpoint folder / model id",
        )
        parser.add_argument(
            "--backend",
            choices=["auto", "transformers", "ctranslate2"],
            default="auto",
            help="seq2seq engine (default: auto)",
        )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tutor",
        description="An offline tutor that answers questions from course material and cites its sources.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True

    ask = sub.add_parser("ask", help="answer one question", description="Answer one question, with sources.")
    ask.add_argument("question", help="the question, in quotes")
    ask.add_argument("--json", action="store_true", help="print the answer as JSON")
    _common(ask)

    batch = sub.add_parser("batch", help="answer a file of questions", description="Answer a file of questions.")
    batch.add_argument("input", help=".txt (one per line), .csv (column 'question'), .jsonl, or a numbered .md exam")
    batch.add_argument(
        "--out", required=True, metavar="OUTPUT", help="answers file: .jsonl, .csv, or a printable .md or .html sheet"
    )
    batch.add_argument(
        "--sheet", choices=["key", "student"], default="key",
        help="for a .md or .html sheet: an answer key (default) or a student sheet with room to write",
    )
    batch.add_argument(
        "--grade", action="store_true",
        help="mark students' answers: INPUT has question and student_answer columns (optional: student)",
    )
    batch.add_argument("--resume", action="store_true", help="answer only questions not yet in OUTPUT")
    batch.add_argument("--force", action="store_true", help="overwrite an existing OUTPUT")
    batch.add_argument("--strict", action="store_true", help="exit 1 if any question failed")
    _common(batch)

    index = sub.add_parser("index", help="build or refresh the index", description="Build or refresh the index.")
    index.add_argument("--rebuild", action="store_true", help="rebuild from scratch even if it is current")
    index.add_argument(
        "--ray", nargs="?", const="local", metavar="ADDRESS",
        help="parse and embed on a Ray cluster (ADDRESS: e.g. auto, HEAD:6379, ray://HEAD:10001; "
        "none: the cluster this machine is in, else Ray started here). Needs pip install tutor[ray]",
    )
    _common(index, answering=False)

    chat = sub.add_parser("chat", help="open the chat in a browser", description="Serve the chat tutor.")
    chat.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1)")
    chat.add_argument("--port", type=int, default=7860, help="port (default: 7860)")
    chat.add_argument("--share", action="store_true", help="also make a public share link (off by default)")
    chat.add_argument("--auth", metavar="USER:PASS", action="append",
                      help="require signing in with this user name and password (repeat for more accounts)")
    chat.add_argument("--library", metavar="DIR",
                      help="serve every course folder under DIR, with a course picker; each course is indexed in "
                           "INDEX/<course> with --index INDEX, else in DIR/.tutor-indexes/<course>; course folders "
                           "added to or removed from DIR while the chat runs join or leave the picker within about 5 s")
    chat.add_argument("--teacher", metavar="USER:PASS",
                      help="with --library: the account that may add and remove course documents, and create "
                           "courses, in the chat (sign-in is then required: students sign in with --auth). Without "
                           "it, documents can be changed only when the chat listens on 127.0.0.1 with no sign-in "
                           "and no share link")
    _common(chat)

    ev = sub.add_parser(
        "eval",
        help="score the tutor on a question set",
        description="Score answer quality on a question set: eval/<set>/questions.jsonl, or a SQuAD-style folder "
        "(qa.jsonl + corpus/) such as shared/bench/squad6. A set with its own corpus/ is scored on that course.",
    )
    ev.add_argument("file", nargs="?", help="question set file or folder (default: eval/questions/questions.jsonl)")
    ev.add_argument("--json", action="store_true", help="print the report as JSON")
    ev.add_argument("--curve", "--calibrate", action="store_true", dest="curve",
                    help="also print the abstention trade-off over the rule's and the verifier's thresholds")
    ev.add_argument("--limit", type=int, metavar="N", help="score only the first N questions")
    ev.add_argument("--articles", metavar="TITLES", help="comma-separated article titles to keep (SQuAD-style sets)")
    ev.add_argument("--verifier", metavar="PATH", help="verifier weights (default: the committed ones)")
    ev.add_argument("--no-verifier", action="store_true", help="skip the learned verifier's figures")
    _common(ev)

    pr = sub.add_parser("practice", help="quiz yourself on the course, or write a printable exam",
                        description="Answer questions made from the course, graded with the passage to reread.")
    pr.add_argument("--n", type=int, default=10, help="number of questions (default: 10)")
    pr.add_argument("--section", metavar="TEXT", help="only sections whose heading contains TEXT")
    pr.add_argument("--seed", type=int, help="the same seed asks the same questions")
    pr.add_argument("--kinds", metavar="K,K", help="definition, comparison, list, cloze, order (default: all)")
    pr.add_argument("--export", metavar="EXAM.md", help="write a printable exam instead of quizzing")
    pr.add_argument("--answers", metavar="KEY.md", help="its answer key (default: EXAM-key.md)")
    pr.add_argument("--force", action="store_true", help="overwrite existing exam and key files")
    _common(pr, answering=False)
    return parser


def cmd_ask(args) -> int:
    # One question in a fresh process: the NumPy encoder answers it without importing torch.
    tutor = load_from_args(args, embedding_engine="numpy" if args.device in (None, "auto", "cpu") else "auto",
                  progress=sys.stderr.isatty())
    answer = tutor.ask(args.question)
    if args.json:
        print(json.dumps(answer.to_dict(), ensure_ascii=not _utf8(sys.stdout)))
    else:
        print(format_answer(answer))
    return 0


def _utf8(stream) -> bool:
    """Whether `stream` takes any character as it is (else JSON escapes what it cannot show)."""
    return (getattr(stream, "encoding", "") or "").lower().replace("-", "").replace("_", "") in ("utf8", "utf8sig")


def format_answer(answer) -> str:
    """The answer and its sources for a terminal: a file name or passage cannot send it escape sequences."""
    lines = [answer.text, ""]
    if answer.citations:
        lines.append("Sources:")
        for c in answer.citations:
            lines.append(f"  [{c.rank}] {c.section or c.source}  ({c.source}, score {c.score:.3f})")
            if c.quote:
                lines.append(f"      “{c.quote}”")
    return printable("\n".join(lines).rstrip())


def cmd_index(args) -> int:
    from tutor import config
    from tutor.store import open_index

    corpus = Path(args.corpus) if args.corpus else config.default_corpus_dir()
    index = Path(args.index) if args.index else config.default_index_dir()
    from tutor.embeddings import resolve_device

    builder, device = None, args.device or "auto"
    if args.ray is not None:
        from tutor.ray_build import ray_builder

        builder = ray_builder(args.ray)  # the cluster's devices, not this machine's, decide what auto means
    else:
        device = resolve_device(device)
    # keep_serving=False: an update that cannot be written is this command's failure, not a warning.
    store = open_index(corpus, index, rebuild=args.rebuild, device=device, progress=True, keep_serving=False,
                       builder=builder)
    from tutor.repeats import brief

    for warning in brief(store.warnings):
        print(f"warning: {printable(warning)}", file=sys.stderr)
    state = "built" if store.rebuilt else "up to date"
    print(f"Index {state}: {len(store.chunks)} passages, {len(store.units)} quotable sentences, in {index}")
    return 0


def cmd_eval(args) -> int:
    from tutor import config
    from tutor.evaluation import (
        answer_all,
        calibrate,
        compare_retrieval,
        evaluate,
        evaluate_squad,
        format_report,
        format_verifier,
        keyword_share,
        open_set,
        squad_score,
        verifier_report,
        verifier_scores,
    )

    path = Path(args.file) if args.file else config.PROJECT_ROOT / "eval" / "questions" / "questions.jsonl"
    articles = [a for a in (args.articles or "").split(",") if a.strip()]
    qset = open_set(path, limit=args.limit, articles=articles)
    if qset.corpus_dir is not None and not args.corpus:
        # The set is about its own course: score it there, in an index folder of its own.
        args.corpus = str(qset.corpus_dir)
        args.index = args.index or str(_own_index(qset.corpus_dir))
    tutor = load_from_args(args)
    questions = list(qset.questions)
    answers = answer_all(tutor, questions)
    squad = qset.style == "squad"
    report = (evaluate_squad if squad else evaluate)(tutor, questions, answers=answers)
    correct = squad_score if squad else keyword_share
    modes = {} if squad else compare_retrieval(tutor, questions)
    if not args.no_verifier:
        from tutor.answering.verify import Verifier

        scores = verifier_scores(tutor, qset, Verifier.load(args.verifier))
        report["verifier"] = verifier_report(questions, answers, scores, correct, curve=args.curve)
    rule_curve = calibrate(tutor, questions) if args.curve else []
    if args.json:
        print(json.dumps({"set": str(qset.path), "style": qset.style, "notes": list(qset.notes), "report": report,
                          "retrieval_modes": modes, "rule_curve": rule_curve}, indent=2))
        return 0
    print(f"{qset.path} · {tutor.corpus_dir} · generator {tutor.generator} · top-k {tutor.top_k}"
          + "".join(f" · {n}" for n in qset.notes))
    print(format_report(report))
    if modes:
        print("retrieval by mode (answerable questions):")
        for mode, scores_ in modes.items():
            print(f"  {mode:<7} " + "  ".join(f"{k} {v:.3f}" for k, v in scores_.items()))
    if report.get("failures") and not squad:
        print("misses: " + ", ".join(f"{f['id']} ({f['why']})" for f in report["failures"]))
    if rule_curve:
        print("the tutor's own rule: support threshold → unanswerable caught, answerable lost:")
        for row in rule_curve:
            print(f"  {row['threshold']:.3f}  {row['abstention_recall']:.2f}  {row['false_abstention_rate']:.2f}")
    if "verifier" in report:
        print(format_verifier(report["verifier"]))
    return 0


def cmd_practice(args) -> int:
    from tutor.practice.quiz import exam_paths, run_quiz, write_exam

    if args.answers and not args.export:
        raise TutorError("--answers names the key of an exam: use it with --export EXAM.md.")
    paths = exam_paths(args.export, args.answers, args.force) if args.export else None
    args.generator = "extractive"  # practice quotes the course; it never generates
    tutor = load_from_args(args, embedding_engine="numpy" if args.device in (None, "auto", "cpu") else "auto")
    items = tutor.practice(args.n, seed=args.seed, section=args.section, kinds=args.kinds)
    if paths is None:
        run_quiz(tutor, items)
        return 0
    write_exam(tutor, items, *paths)
    print(f"Wrote {len(items)} questions to {paths[0]} and their answers to {paths[1]}.")
    return 0


def _own_index(corpus: Path) -> Path:
    """An index folder for a question set's own course, in the system temp folder, one per course path."""
    import hashlib
    import tempfile

    key = hashlib.sha256(str(corpus.resolve()).encode()).hexdigest()[:12]
    return Path(tempfile.gettempdir()) / f"tutor-eval-index-{corpus.parent.name}-{key}"


def cmd_batch(args) -> int:
    if args.grade:
        from tutor.marking import run_marking

        return run_marking(args)
    from tutor.batch import run_batch

    return run_batch(args)


def cmd_chat(args) -> int:
    from tutor.ui import serve

    check_chat_address(args.host, args.port)  # before loading anything: a typo fails at once
    return serve(args)


class PrintableFormatter(logging.Formatter):
    """Log lines name course files: their names must not reach the terminal as escape sequences."""

    def format(self, record: logging.LogRecord) -> str:
        return printable(super().format(record))


COMMANDS = {"ask": cmd_ask, "index": cmd_index, "eval": cmd_eval, "batch": cmd_batch, "chat": cmd_chat,
            "practice": cmd_practice}


def main(argv: list[str] | None = None) -> int:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    for stream in (sys.stdout, sys.stderr):
        # A terminal that cannot show "›" or an accented letter must not turn an answer into a traceback.
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="backslashreplace")
    args = build_parser().parse_args(argv)
    handler = logging.StreamHandler()
    handler.setFormatter(PrintableFormatter("%(levelname)s: %(message)s"))
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, handlers=[handler])
    try:
        return COMMANDS[args.command](args)
    except TutorError as exc:
        print(f"tutor: error: {printable(str(exc))}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("tutor: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # output piped into `head` and the like
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


if __name__ == "__main__":
    sys.exit(main())
