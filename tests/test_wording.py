"""Questions read in the course's own words: typing slips, acronyms, numbers, units, spellings and compounds
written differently from the course are read as the course writes them; real words and known words never are."""

from __future__ import annotations

import pytest

from tutor.answering.wording import CourseWords, english_words
from tutor.retrieval import BM25

COURSE = [
    "Earth science. The Mid-Atlantic Ridge spreads at about 2.5 centimetres per year. The Mariana Trench is "
    "11 kilometres deep.",
    "Earth science. After World War II, sonar mapping of the ocean floor revealed the ridges. The Global "
    "Positioning System now measures plate motion.",
    "Instruments. A seismometer records ground motion. There are three kinds of plate boundary. Professor Morton "
    "named them.",
    "Methods. Researchers optimize their models with a dataset of earthquakes. Fine-tuning a model takes time. "
    "The colour of basalt is dark. A carton and a cartel are unrelated. Geologists measure rapid crustal uplift "
    "near the ridges.",
]


def words(vocabulary: frozenset[str] = frozenset()) -> CourseWords:
    bm25 = BM25(COURSE)
    return CourseWords(lambda: COURSE, bm25.uses, lambda: vocabulary)


@pytest.mark.parametrize(
    ("question", "read_as", "why"),
    [
        ("What does a seismomter record?", "What does a seismometer record?", "typo"),
        ("What does a plate boundray do?", "What does a plate boundary do?", "typo"),
        ("Why is basalt dakr?", "Why is basalt dark?", "typo"),
        ("Who named the kinds of plate boundary, Profesor Morton?", "Who named the kinds of plate boundary, "
         "Professor Morton?", "typo"),
        ("What happened after WWII?", "What happened after World War II?", "acronym"),
        ("What does GPS measure?", "What does Global Positioning System measure?", "acronym"),
        ("Are there 3 kinds of plate boundary?", "Are there three kinds of plate boundary?", "number"),
        ("How deep is the Mariana Trench in km?", "How deep is the Mariana Trench in kilometres?", "unit"),
        ("How do researchers optimise models?", "How do researchers optimize models?", "spelling"),
        ("What is the color of basalt?", "What is the colour of basalt?", "spelling"),
        ("Why does finetuning take time?", "Why does fine-tuning take time?", "compound"),
        ("What data set do researchers use?", "What dataset do researchers use?", "compound"),
    ],
)
def test_a_word_the_course_writes_otherwise_is_read_as_the_course_writes_it(question, read_as, why):
    rewritten, changes = words().rewrite(question)
    assert rewritten == read_as
    assert [c.why for c in changes] == [why]


def test_a_question_in_the_course_words_is_left_alone_without_reading_the_course():
    reader = words()
    question = "What does a seismometer record after World War II?"
    assert reader.rewrite(question) == (question, ())
    assert reader._data is None  # every word known: the course's word list is never made


def test_a_real_word_is_never_corrected_into_a_course_word():
    # "Norton" is one letter from the course's "Morton": a question about Norton asks about somebody else.
    assert words().rewrite("Who is Norton?")[0] == "Who is Morton?"  # a slip, to a reader without a dictionary
    assert words(frozenset({"norton"})).rewrite("Who is Norton?") == ("Who is Norton?", ())


def test_a_slip_equally_near_two_course_words_is_left_unread():
    assert words().rewrite("What is a cartol?") == ("What is a cartol?", ())


def test_a_decimal_is_one_number():
    # "3" alone would read as the course's "three"; in "11.3" it is part of a number.
    assert words().rewrite("Is the Mariana Trench 11.3 kilometres deep?")[1] == ()
    assert words().rewrite("Is the Mariana Trench 3 kilometres deep?")[0] == "Is the Mariana Trench three kilometres deep?"


def test_short_words_and_unknown_acronyms_are_not_guessed():
    # Initials of words the course writes in lower case are too weak a reading: "RCU" stays unknown.
    assert words().rewrite("Where is RCU measured?") == ("Where is RCU measured?", ())
    assert words().rewrite("How deep is the ocen?")[1] == ()  # four letters: too short to read as "ocean"
    # ... and in a short word only two letters swapped are read, into the one course word they make
    assert words().rewrite("Why is basalt dakk?")[1] == ()  # one letter other, not swapped: "dark" or "dank"?
    assert words().rewrite("What does a seismometer record over tmie?")[0].endswith("over time?")
    assert words().rewrite("What does NATO do?") == ("What does NATO do?", ())


def test_the_embedding_models_vocabulary_holds_real_words_and_names():
    vocabulary = english_words()
    assert {"gordon", "london", "because"} <= vocabulary
    assert "seismomter" not in vocabulary and "convolutoinal" not in vocabulary


def test_the_tutor_answers_the_question_as_read_and_says_how_it_read_it(tutor):
    answer = tutor.ask("What is deep lerning?")
    assert answer.interpreted_as == "What is deep learning?"
    assert not answer.abstained and answer.citations
    batch = tutor.ask_many(["What is deep lerning?", "What is deep learning?"])
    assert batch[0].interpreted_as == "What is deep learning?" and batch[1].interpreted_as is None
    assert batch[0].text == batch[1].text


def test_a_slip_in_a_follow_up_is_read_before_the_follow_up_is(tutor):
    first = tutor.ask("What is model drift?")
    follow = tutor.ask("And in industy?", history=[first])
    assert follow.interpreted_as and "industry" in follow.interpreted_as.lower()
    assert "industy" not in follow.interpreted_as.lower()
