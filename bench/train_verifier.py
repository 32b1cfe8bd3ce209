"""Train the answerability verifier on shared/bench/squad6 and print how it does on articles it never saw.

Builds each question's candidates with the real pipeline (a Tutor over the squad6 course, in an index
folder of its own), then for each article trains on the other five and scores the sixth (leave one
article out), at a threshold chosen on the five alone. Prints, per held-out article and pooled, the
share of unanswerable questions declined against the share of answerable ones lost, over thresholds,
and the operating point at <= 5 % false abstentions. Finally trains on all six and writes the weights
(tutor/answering/verifier.json), whose threshold is the pooled held-out one.

    .venv/bin/python bench/train_verifier.py                      # train and write the weights
    .venv/bin/python bench/train_verifier.py --compare            # every feature set, nothing written
    .venv/bin/python bench/train_verifier.py --features hand --out /tmp/v.json
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from tutor.answering.verify import (  # noqa: E402
    DEFAULT_FEATURES,
    DEFAULT_L2,
    FEATURE_SETS,
    MAX_FALSE_ABSTENTION,
    WEIGHTS_PATH,
    Verifier,
    candidates,
    leave_one_group_out,
    out_of_group,
    threshold_at,
)
from tutor.evaluation import open_set, trade_off  # noqa: E402

CURVE = [round(t, 2) for t in np.arange(0.10, 0.61, 0.05)]


def default_squad() -> Path:
    """shared/bench/squad6 beside the project (../shared), or beside a folder above it (a worktree's)."""
    for folder in ROOT.parents:
        if (folder / "shared" / "bench" / "squad6").is_dir():
            return folder / "shared" / "bench" / "squad6"
    return ROOT.parent / "shared" / "bench" / "squad6"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--squad", default=str(default_squad()), help="the squad6 folder (default: %(default)s)")
    parser.add_argument("--index", help="index folder for its corpus (default: one in the system temp folder)")
    parser.add_argument("--features", default=DEFAULT_FEATURES, choices=sorted(FEATURE_SETS))
    parser.add_argument("--l2", type=float, default=DEFAULT_L2, help="L2 penalty of the logistic head")
    parser.add_argument("--compare", action="store_true", help="print every feature set's figures; write nothing")
    parser.add_argument("--out", default=str(WEIGHTS_PATH), help="where to write the weights")
    args = parser.parse_args(argv)

    from tutor import Tutor

    started = time.perf_counter()
    qset = open_set(args.squad)
    if qset.style != "squad" or qset.corpus_dir is None:
        parser.error(f"{args.squad} is not a SQuAD-style set with a corpus/ folder")
    index = args.index or str(Path(tempfile.gettempdir()) / "tutor-squad6-index")
    tutor = Tutor.load(qset.corpus_dir, index, generator="extractive", device="cpu")
    questions = list(qset.questions)
    cands = candidates(tutor, [q.question for q in questions])
    answerable = np.array([q.answerable for q in questions])
    articles = [q.title for q in questions]
    print(f"{len(questions)} questions ({answerable.sum()} answerable) on {len(set(articles))} articles; "
          f"candidates built in {time.perf_counter() - started:.1f} s")

    if args.compare:
        print(f"\nleave one article out, each feature set (L2 {args.l2}): unanswerable declined / answerable lost")
        for name in FEATURE_SETS:
            print(f"  {name:<34} " + _summary(*_held_out(cands, answerable, articles, FEATURE_SETS[name], args.l2)))
        return 0

    groups = FEATURE_SETS[args.features]
    fit_started = time.perf_counter()
    probabilities, thresholds, folds, *_ = _held_out(cands, answerable, articles, groups, args.l2)
    print(f"\nfeatures {args.features} (L2 {args.l2}); leave one article out in {time.perf_counter() - fit_started:.1f} s")
    print("curve: threshold → unanswerable declined / answerable lost, per held-out article and pooled")
    names = list(folds)
    print("  thr   " + "".join(f"{n[:13]:>15}" for n in [*names, "pooled"]))
    g = np.asarray(articles)
    for t in CURVE:
        cells = []
        for n in [*names, None]:
            mask = g == n if n else np.ones(len(g), dtype=bool)
            row = trade_off(probabilities[mask], answerable[mask], [t])[0]
            cells.append(f"{row['abstention_recall']:.2f} / {row['false_abstention_rate']:.2f}")
        print(f"  {t:.2f}  " + "".join(f"{c:>15}" for c in cells))
    print(f"\nat the threshold chosen on the other five articles (≤ {MAX_FALSE_ABSTENTION:.0%} false abstentions there):")
    print(_summary(probabilities, thresholds, folds, answerable, articles))

    threshold = threshold_at(probabilities, answerable)
    declined = probabilities < threshold
    info = {
        "trained_on": "shared/bench/squad6: all six articles, "
                      f"{len(questions)} questions ({int(answerable.sum())} answerable)",
        "features": args.features,
        "l2": args.l2,
        "threshold_from": f"pooled leave-one-article-out probabilities, ≤ {MAX_FALSE_ABSTENTION:.0%} false abstentions",
        "leave_one_article_out": {
            "pooled_at_fold_thresholds": {
                "abstention_recall": round(float(np.mean((probabilities < thresholds)[~answerable])), 4),
                "false_abstention_rate": round(float(np.mean((probabilities < thresholds)[answerable])), 4),
            },
            "pooled_at_threshold": {
                "abstention_recall": round(float(np.mean(declined[~answerable])), 4),
                "false_abstention_rate": round(float(np.mean(declined[answerable])), 4),
            },
        },
    }
    verifier = Verifier.fit(cands, answerable, groups, args.l2, threshold=threshold, info=info)
    verifier.save(args.out)
    timing = _timing(verifier, cands)
    print(f"\nwrote {args.out} (trained on all six articles; threshold {threshold:.3f}: pooled held-out "
          f"{np.mean(declined[~answerable]):.3f} declined / {np.mean(declined[answerable]):.3f} lost); "
          f"{timing:.3f} ms a question; {time.perf_counter() - started:.0f} s in all")
    return 0


def _held_out(cands, answerable, articles, groups, l2):
    folds = leave_one_group_out(cands, answerable, articles, groups, l2)
    probabilities, thresholds = out_of_group(folds, articles)
    return probabilities, thresholds, folds, answerable, articles


def _summary(probabilities, thresholds, folds, answerable, articles) -> str:
    declined = probabilities < thresholds
    g = np.asarray(articles)
    parts = [f"pooled {declined[~answerable].mean():.3f} / {declined[answerable].mean():.3f}"]
    for n in folds:
        m = g == n
        parts.append(f"{n} {declined[m & ~answerable].mean():.2f} / {declined[m & answerable].mean():.2f}")
    at = threshold_at(probabilities, answerable)
    parts.append(f"(pooled at one threshold with ≤ 5 % lost: {(probabilities[~answerable] < at).mean():.3f})")
    return "; ".join(parts)


def _timing(verifier: Verifier, cands) -> float:
    """Milliseconds per question, one question at a time."""
    sample = cands[:200]
    started = time.perf_counter()
    for c in sample:
        verifier.accepts(c)
    return (time.perf_counter() - started) * 1000 / len(sample)


if __name__ == "__main__":
    sys.exit(main())
