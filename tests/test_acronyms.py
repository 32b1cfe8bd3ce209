"""What an acronym stands for: read from where the material spells it out, and only there."""

from __future__ import annotations

import pytest

from tutor.answering.acronyms import asked_acronym, expansion, stands_for


@pytest.mark.parametrize(
    ("acronym", "text", "words"),
    [
        ("YOLO", "Example 3: YOLO (You Only Look Once)", "You Only Look Once"),
        ("CNN", "CNNs (Convolutional Neural Networks)", "Convolutional Neural Networks"),
        ("GANs", "GANs (Generative Adversarial Networks)", "Generative Adversarial Networks"),
        ("ResNet", "Example 2: ResNet (Residual Networks)", "Residual Networks"),  # the capitals of a mixed-case name
        ("LSTM", "we use Long Short-Term Memory (LSTM) networks", "Long Short-Term Memory"),  # words first
        ("DOE", "grants from the Department of Energy (DOE) fund it", "Department of Energy"),  # "of" may be left out
        ("CNN", "Neural network architectures (CNNs, RNNs, Transformers)", None),  # examples, not an expansion
        ("RNN", "RNNs and LSTMs", None),
        ("GPU", "GPUs (graphics cards)", None),  # a gloss whose initials do not spell it
    ],
)
def test_an_expansion_counts_only_when_its_initials_spell_the_acronym(acronym, text, words):
    assert expansion(acronym, text) == words


@pytest.mark.parametrize(
    ("question", "acronym"),
    [
        ("What does YOLO stand for?", "YOLO"),
        ('What does the acronym "ResNet" stand for?', "ResNet"),
        ("What do GANs stand for?", "GANs"),
        ("What does sustainability stand for?", None),  # not an acronym: what it is about
        ("What is YOLO?", None),
    ],
)
def test_the_acronym_a_question_asks_about(question, acronym):
    assert asked_acronym(question) == acronym


def test_the_answer_sentence_agrees_with_a_plural():
    assert stands_for("YOLO", "You Only Look Once") == "YOLO stands for You Only Look Once."
    assert stands_for("GANs", "Generative Adversarial Networks") == "GANs stand for Generative Adversarial Networks."


def test_an_acronym_spelled_out_only_in_a_heading_is_answered_and_cited(tutor):
    answer = tutor.ask("What does YOLO stand for?")
    assert answer.text == "YOLO stands for You Only Look Once. [1]"
    (first,) = answer.citations  # the one passage under the heading that spells it out
    assert first.section.endswith("Example 3: YOLO (You Only Look Once)")
    assert first.quote and first.quote in first.text  # a quote is always text of its passage


def test_an_acronym_the_material_uses_but_never_spells_out_abstains(tutor):
    # The article lists "RNNs and LSTMs" without saying what LSTM stands for.
    answer = tutor.ask("What does LSTM stand for?")
    assert answer.abstained and answer.citations == ()
    assert tutor.ask_many(["What does LSTM stand for?", "What does YOLO stand for?"])[1].text.startswith("YOLO stands")
