"""Would the embedding model, fine-tuned as a cross-encoder, tell answerable questions from near misses better
than the learned verifier's features? A probe on shared/bench/squad6, one held-out article at a time.

For each question it takes the two sentences the answerer ranks first (with their heading), the pipeline's
own (`tutor.answering.verify.candidates`), and trains all-MiniLM-L6-v2 with a logistic head on the pair
(question, sentences) to say "answerable", on the other five articles; then it scores the held-out article.
It prints the training loss per epoch, the held-out article's ROC AUC, and the share of its unanswerable
questions declined at the threshold that loses 5 % of its answerable ones (chosen on the held-out article
itself: the most the probe could do; the verifier's figures are at thresholds chosen without it). Nothing is
written; the model lives in memory only.

    .venv/bin/python bench/probe_cross_encoder.py --article Normans [--layers 6] [--epochs 4] [--lr 5e-5]
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from train_verifier import default_squad  # noqa: E402

from tutor.answering.verify import MAX_FALSE_ABSTENTION, candidates  # noqa: E402
from tutor.embeddings import model_path  # noqa: E402
from tutor.evaluation import open_set  # noqa: E402


def pairs(tutor, questions) -> list[tuple[str, str]]:
    """(question, its two best-ranked sentences under their headings), as the answerer ranks them."""
    out = []
    for q, c in zip(questions, candidates(tutor, [q.question for q in questions])):
        said = " ".join(f"{s.section.split(' › ')[-1]}: {s.text}" if s.section else s.text for s in c.sentences[:2])
        out.append((q.question, said))
    return out


def auc(scores: np.ndarray, positive: np.ndarray) -> float:
    """ROC AUC by ranks (ties averaged)."""
    order = scores.argsort()
    ranks = np.empty(len(scores))
    ranks[order] = np.arange(1, len(scores) + 1)
    for value in np.unique(scores):
        tied = scores == value
        ranks[tied] = ranks[tied].mean()
    n_pos, n_neg = positive.sum(), (~positive).sum()
    return float((ranks[positive].sum() - n_pos * (n_pos + 1) / 2) / max(n_pos * n_neg, 1))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--squad", default=str(default_squad()), help="the squad6 folder (default: %(default)s)")
    parser.add_argument("--index", help="index folder for its corpus (default: one in the system temp folder)")
    parser.add_argument("--article", default="Normans", help="the held-out article (default: %(default)s)")
    parser.add_argument("--layers", type=int, default=6, help="top layers trained; the rest frozen (default: 6)")
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--lr", type=float, default=5e-5)
    args = parser.parse_args()

    import torch
    from transformers import AutoModel, AutoTokenizer

    from tutor import Tutor

    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    qset = open_set(args.squad)
    index = args.index or str(Path(tempfile.gettempdir()) / "tutor-squad6-index")
    tutor = Tutor.load(qset.corpus_dir, index, generator="extractive", device="cpu")
    questions = list(qset.questions)
    texts = pairs(tutor, questions)
    answerable = np.array([q.answerable for q in questions])
    held = np.array([q.title == args.article for q in questions])
    if not held.any():
        parser.error(f"no article {args.article!r}: {sorted({q.title for q in questions})}")
    train, test = np.flatnonzero(~held), np.flatnonzero(held)

    tokenizer = AutoTokenizer.from_pretrained(str(model_path()))
    model = AutoModel.from_pretrained(str(model_path()))
    for p in model.parameters():
        p.requires_grad = False
    for layer in model.encoder.layer[-args.layers:]:
        for p in layer.parameters():
            p.requires_grad = True
    head = torch.nn.Linear(model.config.hidden_size, 1)
    trained = [p for p in model.parameters() if p.requires_grad] + list(head.parameters())
    optimiser = torch.optim.AdamW(trained, lr=args.lr, weight_decay=0.01)

    def logits(rows: np.ndarray) -> torch.Tensor:
        enc = tokenizer([texts[i][0] for i in rows], [texts[i][1] for i in rows], truncation=True, max_length=160,
                        padding=True, return_tensors="pt")
        with torch.autocast("cpu", dtype=torch.bfloat16):
            states = model(**enc).last_hidden_state
        mask = enc["attention_mask"].unsqueeze(-1).float()
        return head((states.float() * mask).sum(1) / mask.sum(1)).squeeze(-1)

    started = time.perf_counter()
    for epoch in range(args.epochs):
        model.train()
        total = 0.0
        order = train[rng.permutation(len(train))]
        for start in range(0, len(order), 16):
            rows = order[start:start + 16]
            loss = torch.nn.functional.binary_cross_entropy_with_logits(
                logits(rows), torch.tensor(answerable[rows], dtype=torch.float32))
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            total += loss.item() * len(rows)
        print(f"epoch {epoch + 1}: training loss {total / len(train):.3f} ({time.perf_counter() - started:.0f} s)",
              flush=True)

    model.eval()
    with torch.inference_mode():
        scores = torch.sigmoid(torch.cat([logits(test[i:i + 64]) for i in range(0, len(test), 64)])).numpy()
    positive = answerable[test]
    kept = np.sort(scores[positive])
    threshold = kept[int(math.floor(MAX_FALSE_ABSTENTION * len(kept)))]
    declined = scores < threshold
    print(f"{args.article} ({len(test)} questions, trained on {len(train)}): ROC AUC {auc(scores, positive):.3f}; "
          f"at the threshold losing {declined[positive].mean():.3f} of the answerable, "
          f"{declined[~positive].mean():.3f} of the unanswerable declined")
    return 0


if __name__ == "__main__":
    sys.exit(main())
