"""BETWEEN_RE ("which step comes between mixing and shaping?") reads any question in one pass.

A pattern whose quantifiers can trade characters with each other tries every way of splitting a long
run of spaces or words: on 2,000 characters that took seconds. These tests time nothing: they check
the two properties that keep the pattern linear, then its answers on long adversarial questions.
"""

from __future__ import annotations

import pytest

from tutor.answering.question import BETWEEN_RE, parse

try:
    from re import _parser as sre_parse  # Python 3.11+
except ImportError:  # Python 3.10
    import sre_parse

MAX_REPEAT, MIN_REPEAT = sre_parse.MAX_REPEAT, sre_parse.MIN_REPEAT


def nodes(pattern):
    """Every (op, argument) in a parsed pattern, nested ones included."""
    for op, av in pattern:
        yield op, av
        if op in (MAX_REPEAT, MIN_REPEAT):
            yield from nodes(av[2])
        elif op is sre_parse.SUBPATTERN:
            yield from nodes(av[-1])
        elif op is sre_parse.BRANCH:
            for branch in av[1]:
                yield from nodes(branch)
        elif op in (sre_parse.ASSERT, sre_parse.ASSERT_NOT):
            yield from nodes(av[1])


def test_between_regex_starts_only_at_the_beginning_or_after_a_question_mark():
    # So a search tries one start per sentence, not one per "between".
    op, (_, alternatives) = list(sre_parse.parse(BETWEEN_RE.pattern, BETWEEN_RE.flags))[0]
    assert op is sre_parse.BRANCH
    starts = sorted(str(list(alternative)) for alternative in alternatives)
    assert starts == sorted([str([(sre_parse.AT, sre_parse.AT_BEGINNING)]), str([(sre_parse.LITERAL, ord("?"))])])


def test_between_regex_has_no_lazy_quantifier():
    # A lazy quantifier before an open-ended tail is what made it retry every split.
    parsed = sre_parse.parse(BETWEEN_RE.pattern, BETWEEN_RE.flags)
    assert not [av for op, av in nodes(parsed) if op is MIN_REPEAT]


ADVERSARIAL = {
    "a run of spaces before a stray '?'": ("Which step comes between a and b" + " " * 1980 + "x?y", None),
    "250 x 'between'": ("between " * 250, None),
    "'and' 330 times, no end": ("between a" + " and b" * 330 + "?z", None),
    "a 'b' on every other character": ("b " * 990 + "between mixing and shaping?", "mixing and shaping"),
    "2,000 b's": ("b" * 2000, None),
    "spaces after 'between'": ("between" + " " * 1980 + "x and y?", "x and y"),
    "80 questions in one": ("What is between a and b?" * 80, "a and b"),
    "a long list of steps": (
        "Which step comes between " + "mixing and " * 180 + "shaping?", "mixing and " * 180 + "shaping"),
}


@pytest.mark.parametrize("case", ADVERSARIAL)
def test_between_regex_on_long_adversarial_questions(case):
    question, expected = ADVERSARIAL[case]
    assert 1900 <= len(question) <= 2100
    match = BETWEEN_RE.search(question)
    assert (match.group(1) if match else None) == expected


@pytest.mark.parametrize(
    "question, between",
    [
        ("Which step sits between mixing and shaping?", "mixing and shaping"),
        ("What happens between kneading the dough and shaping the loaf ?  ", "kneading the dough and shaping the loaf"),
        ("BETWEEN Mixing AND shaping, what comes?", "Mixing AND shaping, what comes"),
        ("Between lessons? What comes between A and B?", "A and B"),
        ("What comes between mixing and?", ""),
        ("What is the difference between a sandwich?", ""),
        ("Is a mixer betweenness and shaping?", ""),
        ("What comes between (mixing) and (shaping)?", "(mixing) and (shaping)"),
    ],
)
def test_between_names_the_two_things_as_before(question, between):
    assert parse(question).between == between
