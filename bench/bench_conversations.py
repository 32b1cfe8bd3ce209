"""How well follow-ups are understood: each conversation of a set asked turn by turn through `Tutor.ask`
(earlier turns as history), as tests/test_conversations.py does, and each turn scored by its kind: a new
question answered as asked, small talk answered without the course, a follow-up rewritten (`interpreted_as`)
to hold every word of `must_contain` and none of `must_not_contain`.

    .venv/bin/python bench/bench_conversations.py [eval/conversations2/conversations.jsonl] [--misses]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from tutor import Tutor  # noqa: E402


def turn_ok(turn: dict, said: str, answer) -> bool:
    rewrite = answer.interpreted_as
    if turn["kind"] == "new":
        return rewrite in (None, said) and answer.form != "smalltalk"
    if turn["kind"] == "smalltalk":
        return answer.form == "smalltalk" and not answer.citations
    understood = (rewrite or "").lower()
    return (isinstance(rewrite, str) and rewrite != said and all(w in understood for w in turn["must_contain"])
            and not any(w in understood for w in turn["must_not_contain"]))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("file", nargs="?", default=str(ROOT / "eval" / "conversations2" / "conversations.jsonl"))
    parser.add_argument("--index", help="index folder for the bundled course (default: the project's)")
    parser.add_argument("--misses", action="store_true", help="print each turn not understood")
    args = parser.parse_args()
    tutor = Tutor.load(index_dir=args.index, generator="extractive")
    rows = [json.loads(line) for line in Path(args.file).read_text(encoding="utf-8").splitlines() if line.strip()]
    asked, right = Counter(), Counter()
    for conversation in rows:
        history: list[str] = []
        for turn in conversation["turns"]:
            said = turn["say"]
            answer = tutor.ask(said, history=list(history))
            ok = turn_ok(turn, said, answer)
            asked[turn["kind"]] += 1
            right[turn["kind"]] += ok
            if not ok and args.misses:
                print(f"{conversation['id']} {turn['kind']}: after {history[-1:]!r}, {said!r} -> "
                      f"{answer.interpreted_as!r}")
            history.append(said)
    print(f"{Path(args.file).parent.name}: {len(rows)} conversations")
    for kind in ("new", "followup", "smalltalk"):
        if asked[kind]:
            print(f"  {kind:10} {right[kind]} of {asked[kind]} understood ({right[kind] / asked[kind]:.3f})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
