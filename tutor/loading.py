"""Open a `Tutor` from command-line options: the one loader the front doors (CLI, batch, chat) share."""

from __future__ import annotations

import sys


def load_from_args(args, **kwargs):
    """A `Tutor` for parsed options (`--corpus`, `--index`, `--generator`, `--device`, `--top-k`, `--backend`),
    with its notes (which answerer answers, and why) printed once on stderr."""
    from tutor.core import Tutor

    tutor = Tutor.load(
        args.corpus,
        args.index,
        generator=getattr(args, "generator", None),
        device=args.device,
        top_k=getattr(args, "top_k", 3),
        backend=getattr(args, "backend", "auto"),
        **kwargs,
    )
    for note in tutor.notes:
        print(f"note: {note}", file=sys.stderr)
    return tutor
