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
  tutor batch exam.txt --out answers.md
  tutor chat                      # http://127.0.0.1:7860
  tutor index --rebuild
  tutor eval                      # the project's question set

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
    batch.add_argument("--out", required=True, metavar="OUTPUT", help="answers file: .jsonl, .csv or .md")
    batch.add_argument("--resume", action="store_true", help="answer only questions not yet in OUTPUT")
    batch.add_argument("--force", action="store_true", help="overwrite an existing OUTPUT")
    batch.add_argument("--strict", action="store_true", help="exit 1 if any question failed")
    _common(batch)

    index = sub.add_parser("index", help="build or refresh the index", description="Build or refresh the index.")
    index.add_argument("--rebuild", action="store_true", help="rebuild from scratch even if it is current")
    _common(index, answering=False)

    chat = sub.add_parser("chat", help="open the chat in a browser", description="Serve the chat tutor.")
    chat.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1)")
    chat.add_argument("--port", type=int, default=7860, help="port (default: 7860)")
    chat.add_argument("--share", action="store_true", help="also make a public share link (off by default)")
    chat.add_argument("--auth", metavar="USER:PASS", help="require this user name and password")
    _common(chat)

    ev = sub.add_parser("eval", help="score the tutor on a question set", description="Score answer quality.")
    ev.add_argument("file", nargs="?", help="question set (default: the project's eval/questions/questions.jsonl)")
    ev.add_argument("--json", action="store_true", help="print the report as JSON")
    ev.add_argument("--calibrate", action="store_true", help="also print abstention rates per threshold")
    _common(ev)
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

    # keep_serving=False: an update that cannot be written is this command's failure, not a warning.
    store = open_index(corpus, index, rebuild=args.rebuild, device=resolve_device(args.device or "auto"),
                       progress=True, keep_serving=False)
    for warning in store.warnings:
        print(f"warning: {printable(warning)}", file=sys.stderr)
    state = "built" if store.rebuilt else "up to date"
    print(f"Index {state}: {len(store.chunks)} passages, {len(store.units)} quotable sentences, in {index}")
    return 0


def cmd_eval(args) -> int:
    from tutor import config
    from tutor.evaluation import calibrate, compare_retrieval, evaluate, format_report, load_questions

    path = Path(args.file) if args.file else config.PROJECT_ROOT / "eval" / "questions" / "questions.jsonl"
    questions = load_questions(path)
    tutor = load_from_args(args)
    report = evaluate(tutor, questions)
    modes = compare_retrieval(tutor, questions)
    if args.json:
        print(json.dumps({"report": report, "retrieval_modes": modes}, indent=2))
        return 0
    print(f"{path} · generator {tutor.generator} · top-k {tutor.top_k}")
    print(format_report(report))
    print("retrieval by mode (answerable questions):")
    for mode, scores in modes.items():
        print(f"  {mode:<7} " + "  ".join(f"{k} {v:.3f}" for k, v in scores.items()))
    if report["failures"]:
        print("misses: " + ", ".join(f"{f['id']} ({f['why']})" for f in report["failures"]))
    if args.calibrate:
        print("abstention threshold → unanswerable caught, answerable lost:")
        for row in calibrate(tutor, questions):
            print(f"  {row['threshold']:.3f}  {row['abstention_recall']:.2f}  {row['false_abstention_rate']:.2f}")
    return 0


def cmd_batch(args) -> int:
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


COMMANDS = {"ask": cmd_ask, "index": cmd_index, "eval": cmd_eval, "batch": cmd_batch, "chat": cmd_chat}


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
