"""Answering a question from retrieved passages, as a few steps, one module each:

- `question`: what is asked (the part that asks, what is given, the answer type, where to look);
- `forms`: the question's form (definition, factoid, list, comparison, explanation, procedure,
  several parts, overview, or small talk), which decides the answer's shape;
- `followup`: a follow-up rewritten against the conversation, or taken as it stands;
- `rank`: every quotable unit of the retrieved passages scored against the question;
- `verify`: whether the material states what is asked (the abstention rule both answerers share);
- `compose`: the answer of each form, built from ranked units, with exactly the citations it quotes;
- `extractive` and `seq2seq`: the two answerers, on one contract (`Draft`).
"""
