"""Practice on a small course written here: each kind of question from the structure that gives it, and the
grading of answers a student might give (a paraphrase, two of three, nothing, something else, the
passage's words with the key fact changed)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tutor import TutorError
from tutor.practice import KINDS, PracticeItem, PracticeSession
from tutor.terms import STOPWORDS

pytestmark = pytest.mark.slow

COURSE = """# Bread Baking Basics

## What is Fermentation?

Fermentation is the process in which yeast converts sugars into carbon dioxide and alcohol. The gas it makes is trapped by the dough, which is why bread rises.

## Key Terms

- Gluten: A protein network that gives dough its stretch and structure
- Proofing: The final rise of shaped dough before it goes into the oven
- Scoring: Cutting the surface of the loaf to control how it expands

## Essential Ingredients

- Flour
- Water
- Salt
- Yeast

## Baking Procedure

1. Mix the flour and water
2. Knead the dough for ten minutes
3. Let the dough rise until doubled
4. Shape the loaf
5. Bake in a hot oven

## Comparison of Flours

| Property | Bread Flour | Cake Flour |
|---|---|---|
| Protein Content | High - about 13 percent | Low - about 8 percent |
| Texture | Chewy and open crumb | Soft and tender crumb |
| Best Use | Crusty loaves | Sponge cakes |

## History

The first commercial yeast was sold in 1868 by Charles Fleischmann in Cincinnati. Sourdough starters were used by bakers in ancient Egypt long before commercial yeast existed.
"""


def write_course(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "bread.md").write_text(COURSE, encoding="utf-8")
    return folder


@pytest.fixture(scope="module")
def bread(tmp_path_factory):
    from tutor import Tutor

    root = tmp_path_factory.mktemp("bread")
    return Tutor.load(write_course(root / "corpus"), root / "index", generator="extractive", device="cpu")


@pytest.fixture(scope="module")
def everything(bread) -> list[PracticeItem]:
    """Every question of each kind (one kind at a time: a session never asks two on the same sentence)."""
    return [item for kind in KINDS for item in bread.practice(200, seed=0, kinds=kind)]


def one(items: list[PracticeItem], kind: str, question: str) -> PracticeItem:
    found = [i for i in items if i.kind == kind and question in i.question]
    assert len(found) == 1, [i.question for i in items if i.kind == kind]
    return found[0]


# ------------------------------------------------------------------------------------------ generation


def test_definition_from_a_sentence_that_defines_a_term(everything):
    item = one(everything, "definition", "What is fermentation?")
    assert item.answer == "the process in which yeast converts sugars into carbon dioxide and alcohol"
    assert item.citation.section == "What is Fermentation?"
    assert item.citation.quote.startswith("Fermentation is the process")


def test_definition_from_a_labelled_list_item(everything):
    item = one(everything, "definition", "What is proofing")
    assert item.answer == "The final rise of shaped dough before it goes into the oven"
    assert item.citation.quote == "Proofing: The final rise of shaped dough before it goes into the oven"


def test_list_question_from_the_items_under_a_heading(everything):
    item = one(everything, "list", "essential ingredients")
    assert item.question == "Name three of the four essential ingredients the course lists."
    assert item.accept == ("Flour", "Water", "Salt", "Yeast")
    assert item.answer == "- Flour\n- Water\n- Salt\n- Yeast"


def test_order_question_from_numbered_steps(everything):
    item = one(everything, "order", "after “Knead the dough for ten minutes”")
    assert item.answer == "Let the dough rise until doubled"
    first = one(everything, "order", "first step")
    assert first.answer == "Mix the flour and water"
    assert not [i for i in everything if i.kind == "list" and "Mix the flour" in i.answer]  # steps are not a list


def test_comparison_question_from_a_table_row(everything):
    item = one(everything, "comparison", "protein content")
    assert item.question == "How do the bread flour and the cake flour differ in protein content?"
    assert item.accept == ("Bread Flour: High - about 13 percent", "Cake Flour: Low - about 8 percent")
    assert item.citation.quote.startswith("Protein Content — Bread Flour: High")


def test_cloze_blanks_the_year_out_of_a_sentence(everything):
    item = one(everything, "cloze", "yeast was sold in ____")
    assert item.answer == "1868"
    assert item.question == ("Fill in the blank: The first commercial yeast was sold in ____ by Charles Fleischmann "
                             "in Cincinnati.")


def test_every_answer_and_quote_is_text_of_the_course(everything):
    assert {i.kind for i in everything} == set(KINDS)
    flat = " ".join(COURSE.split())
    for item in everything:
        assert item.citation.quote in item.citation.text
        for line in item.answer.split("\n"):
            text = line.removeprefix("- ")
            if item.kind == "comparison":
                text = text.partition(": ")[2]
            assert " ".join(text.split()) in flat, (item.question, text)


def test_poor_candidates_are_not_asked(everything):
    for item in everything:
        # "The gas it makes is trapped …" needs the sentence before it to say what "it" is.
        assert "gas it makes" not in item.question
        if item.kind == "cloze":
            assert item.answer.lower() not in STOPWORDS and len(item.answer) > 2
    assert len({i.id for i in everything}) == len(everything)


def test_the_same_seed_asks_the_same_questions_spread_over_the_sections(bread):
    first = bread.practice(6, seed=11)
    assert first == bread.practice(6, seed=11)
    assert len({i.citation.section for i in first}) == 6
    assert len({i.kind for i in first}) >= 4


def test_a_session_never_asks_the_same_question_twice(bread):
    session = PracticeSession(bread, seed=5)
    asked = []
    for _ in range(100):
        batch = session.next(4)
        if not batch:
            break
        asked.extend(batch)
    assert len(asked) == len(bread.practice(200, seed=0)) > 12
    assert len({i.id for i in asked}) == len(asked)
    assert len({i.citation.quote for i in asked}) == len(asked)  # nor two questions on one sentence


def test_section_and_kinds_narrow_the_questions(bread):
    items = bread.practice(5, seed=1, section="comparison of flours")
    assert items and all(i.citation.section == "Comparison of Flours" for i in items)
    assert {i.kind for i in bread.practice(10, seed=1, kinds=["cloze", "order"])} <= {"cloze", "order"}


@pytest.mark.parametrize("kwargs, message", [
    ({"n": 0}, "number of questions"),
    ({"section": "astrophysics"}, "No section matches 'astrophysics'"),
    ({"kinds": ["essay"]}, "Unknown question kind 'essay'"),
])
def test_a_bad_request_says_what_to_do(bread, kwargs, message):
    with pytest.raises(TutorError, match=message):
        bread.practice(**{"n": 3, **kwargs})


def test_an_item_travels_as_a_dict_and_back(everything):
    item = everything[0]
    assert PracticeItem.from_dict(item.to_dict()) == item
    with pytest.raises(TutorError, match="Not a practice item"):
        PracticeItem.from_dict({"question": "?"})


# ------------------------------------------------------------------------------------------ grading


@pytest.mark.parametrize("kind, question, answer", [
    ("definition", "What is proofing", "the last rise of the shaped dough before baking it in the oven"),
    ("definition", "What is fermentation?", "yeast turning sugar into CO2 and alcohol"),
    ("order", "after “Knead the dough for ten minutes”", "let it rise till it has doubled"),
    ("comparison", "protein content", "Bread flour is high in protein, about 13 percent, cake flour low at 8"),
    ("cloze", "yeast was sold in ____", "in 1868"),
    ("list", "essential ingredients", "flour, watter and yeest"),  # spelling slips
])
def test_a_right_answer_in_other_words_is_correct(bread, everything, kind, question, answer):
    grade = bread.grade(one(everything, kind, question), answer)
    assert grade.verdict == "correct", grade.feedback
    assert grade.score >= 0.7 and grade.feedback.startswith("Correct.")


def test_two_of_three_items_is_partly_right_and_says_what_is_missing(bread, everything):
    grade = bread.grade(one(everything, "list", "essential ingredients"), "flour and salt")
    assert grade.verdict == "partly" and grade.score == pytest.approx(0.67, abs=0.01)
    assert grade.matched == ("Flour", "Salt") and set(grade.missing) == {"Water", "Yeast"}
    assert "2 of the 3" in grade.feedback


@pytest.mark.parametrize("answer", ["", "   ", None])
def test_an_empty_answer_is_incorrect(bread, everything, answer):
    for item in everything[:10]:
        grade = bread.grade(item, answer)
        assert grade.verdict == "incorrect" and grade.score == 0 and "No answer" in grade.feedback


@pytest.mark.parametrize("kind, question", [
    ("definition", "What is proofing"), ("definition", "What is fermentation?"), ("order", "first step"),
    ("comparison", "texture"), ("list", "essential ingredients"), ("cloze", "yeast was sold in ____"),
])
def test_an_off_topic_answer_is_incorrect(bread, everything, kind, question):
    grade = bread.grade(one(everything, kind, question), "The French Revolution began with the storming of the Bastille.")
    assert grade.verdict == "incorrect", grade.feedback
    assert grade.score < 0.3
    if kind in ("definition", "order"):
        assert "Your answer is about something else." in grade.feedback


@pytest.mark.parametrize("kind, question, answer, why", [
    ("cloze", "yeast was sold in ____", "1869", "The course gives 1868, not 1869"),
    ("comparison", "protein content", "Bread Flour: High - about 15 percent; Cake Flour: Low - about 8 percent",
     "The course gives 13, 8, not 15"),
    ("comparison", "texture", "Bread Flour: Soft and tender crumb; Cake Flour: Chewy and open crumb", "wrong way round"),
    ("definition", "What is fermentation?",
     "the process in which bacteria converts sugars into carbon dioxide and alcohol",
     "The course says “yeast”, not “bacteria”"),
])
def test_the_passage_words_with_the_key_fact_changed_are_not_correct(bread, everything, kind, question, answer, why):
    item = one(everything, kind, question)
    grade = bread.grade(item, answer)
    assert grade.verdict != "correct", grade.feedback
    assert why in grade.feedback


def test_answering_with_the_question_is_not_correct(bread, everything):
    item = one(everything, "definition", "What is proofing")
    grade = bread.grade(item, "Proofing, as the course lists it")
    # Restating the asked term names the topic and nothing of what the course says of it: little credit.
    assert grade.verdict == "partly" and grade.score <= 0.2 and "Your answer repeats the question" in grade.feedback


def test_feedback_quotes_the_passage_to_reread(bread, everything):
    item = one(everything, "definition", "What is fermentation?")
    grade = bread.grade(item, "a kind of flour")
    assert grade.verdict == "incorrect"
    assert f"Reread: “{item.citation.quote}” (What is Fermentation?)" in grade.feedback
    assert grade.model_answer == item.answer and grade.citation == item.citation
    assert re.fullmatch(r"[a-z]+", grade.to_dict()["verdict"])


def test_grade_takes_the_item_as_a_dict(bread, everything):
    item = one(everything, "cloze", "yeast was sold in ____")
    assert bread.grade(item.to_dict(), "1868").verdict == "correct"


def test_picks_go_round_the_parts_then_to_sections_and_kinds_not_yet_asked():
    import random

    from tutor.practice.generate import Candidate, pick

    def candidate(group, section, kind, n):
        return Candidate(kind, f"{section} {kind} {n}?", "a", ("a",), 0, f"{section}/{kind}/{n}", group, section)

    candidates = [candidate("A", f"A{s}", kind, n) for s in range(5) for kind in ("cloze", "list", "order")
                  for n in range(2)] + [candidate("B", "B0", "cloze", 0)]
    for seed in range(20):
        chosen = [candidates[i] for i in pick(candidates, 7, random.Random(seed))]
        assert "B0" in {c.section for c in chosen}  # every part of the course before a second from one
        from_a = [c for c in chosen if c.group == "A"]
        assert len({c.section for c in from_a[:5]}) == 5  # a section not yet asked about comes first
        kinds = [c.kind for c in chosen]  # the kind least asked so far comes next
        assert max(kinds.count(k) for k in set(kinds)) - min(kinds.count(k) for k in ("cloze", "list", "order")) <= 1


# ------------------------------------------------------------------------------------------ what is not asked

FILTERS_COURSE = """# River Studies

## Rivers

The Danube is a major river of Central Europe that flows into the Black Sea through a wide delta.
Sediment is one of the largest problems in the lower valley near the delta of the Danube.
The rule had been intended to protect the fish of the lower valley from heavy sediment.
Engineers measured the sediment load of the Danube in 1985 near the city of Vienna.
The river has been important for trade in many different ways over a very long time.
The first stone bridge over the Danube at Regensburg was built in 1135–1146 by local masons.
"""


@pytest.fixture(scope="module")
def river(tmp_path_factory):
    from tutor import Tutor

    root = tmp_path_factory.mktemp("river")
    (root / "corpus").mkdir()
    (root / "corpus" / "river.md").write_text(FILTERS_COURSE, encoding="utf-8")
    tutor = Tutor.load(root / "corpus", root / "index", generator="extractive", device="cpu")
    return [item for kind in ("definition", "cloze") for item in tutor.practice(50, seed=0, kinds=kind)]


def test_a_sentence_that_defines_its_subject_gives_a_definition_and_one_that_ranks_it_does_not(river):
    definitions = {i.question: i.answer for i in river if i.kind == "definition"}
    assert definitions.get("What is the Danube?", "").startswith("a major river of Central Europe")
    # "Sediment is one of the largest problems …" says how big a problem it is, not what sediment is.
    assert not [q for q in definitions if "sediment" in q.lower()]


def test_a_cloze_blank_is_a_key_term_never_a_stop_word_or_a_common_word(river):
    from tutor.practice.generate import english_rank

    clozes = {i.citation.quote: i.answer for i in river if i.kind == "cloze"}
    assert clozes.get("Engineers measured the sediment load of the Danube in 1985 near the city of Vienna.") == "1985"
    for answer in clozes.values():
        assert answer.lower() not in STOPWORDS
        rank = english_rank(answer) if answer.isalpha() else None
        assert rank is None or rank >= 2000, answer  # never "important", "way", "time"
    # Every word of "The river has been important for trade in many different ways …" is common English.
    assert not [q for q in clozes if q.startswith("The river has been important")]


def test_a_sentence_that_leans_on_the_one_before_is_not_asked_about(river):
    assert not [i for i in river if "The rule had been intended" in i.citation.quote]
    assert not [i for i in river if i.citation.quote.startswith(("This", "These", "However"))]


def test_a_blank_takes_a_whole_range_of_years_never_a_part_of_it(river):
    clozes = [i for i in river if i.kind == "cloze" and "Regensburg" in i.citation.quote]
    assert [i.answer for i in clozes] == ["1135–1146"]
    assert "built in ____ by local masons" in clozes[0].question


# ------------------------------------------------------------------------------------------ cloze blanks

HARBOUR_COURSE = """# Harbour History

## Trade Routes

Merchant ships carried cargo between Lisbon and Antwerp for many decades.
Between 1405 and 1433 the admiral Zheng He led seven voyages across the Indian Ocean.
Coastguards ordered a Sikorsky 61 helicopter for rescue work in 1962.
The warehouses of Riga stored barrels of tallow and beeswax for export.
King Eric sealed the harbour charter on 14 March 1296 at Tonsberg.
Northern ports exported cured fish such as stockfish to distant markets.
Masons built the new pier from granite at great cost.
In the first years of the league the population of the port was c. 12,000, so the town soon ran short of housing.

## Ports and People

Under the charter of the guild, it controlled the wharves of the northern coast.
Harbour engineers spent this funding on breakwaters near the old quay of Bergen.
Bergen later became the busiest herring port of the whole Norwegian coast.
Denmark did so too, and the merchants of Lubeck opened a counting house at Bergen in 1360.
Founded by the merchant guilds of the northern towns, it ruled the trade of the Baltic Sea.
The bishop's palace overlooked the harbour from a low hill.
The eastern wing of the quay stood closest to the Palace of the bishop.
The improvements lowered the cost of unloading herring at the quay of Bergen.
Merchants grew increasingly reliant on credit from the banking houses of the port.
Dockers unloaded barrels with a treadwheel crane in the old port.
Quarries near the coast supplied granite to the builders of the quay.
In 1652 the navy under admiral Tromp fought the English fleet near the coast.
Merchants in Leiden praised admiral Tromp for his escorts of the grain convoys.
The fleet of admiral Tromp was anchored off the coast of Zeeland for a whole winter.

## Harbour Machines

Cranes stood on granite foundations near the water.

### Tide Mill (Coastal Power)

- First Use: Strangford Lough, 619
- Wheel: undershot, turned by the ebbing tide

### Treadwheel Crane (Medieval Harbours)

- First Use: Utrecht harbour, 1244
- Wheel: walked by two labourers inside it
"""


@pytest.fixture(scope="module")
def harbour(tmp_path_factory) -> dict[str, list[PracticeItem]]:
    """The course's cloze items by the sentence each is made from."""
    from tutor import Tutor

    root = tmp_path_factory.mktemp("harbour")
    (root / "corpus").mkdir()
    (root / "corpus" / "harbour.md").write_text(HARBOUR_COURSE, encoding="utf-8")
    tutor = Tutor.load(root / "corpus", root / "index", generator="extractive", device="cpu")
    by_quote: dict[str, list[PracticeItem]] = {}
    for item in tutor.practice(200, seed=0, kinds="cloze"):
        by_quote.setdefault(item.citation.quote, []).append(item)
    return by_quote


def answers(harbour, start: str) -> list[str]:
    return [i.answer for quote, items in harbour.items() if quote.startswith(start) for i in items]


def test_the_course_gives_cloze_items_to_check_the_filters_on(harbour):
    # The filters below leave some sentences unasked; the ones they leave must still give their blank.
    assert answers(harbour, "Between 1405 and 1433") == ["Zheng He"]
    assert answers(harbour, "The fleet of admiral Tromp") == ["Zeeland"]


def test_a_name_named_side_by_side_with_another_is_not_blanked(harbour):
    # "between Lisbon and ____": any port would do, and the other gives the kind away.
    assert answers(harbour, "Merchant ships carried cargo") == []
    # "barrels of tallow and ____": the same for a term.
    assert not set(answers(harbour, "The warehouses of Riga")) & {"tallow", "beeswax"}


def test_one_end_of_a_year_range_is_not_blanked(harbour):
    assert not set(answers(harbour, "Between 1405 and 1433")) & {"1405", "1433"}


def test_a_number_in_a_name_or_the_day_of_a_month_is_not_blanked(harbour):
    assert answers(harbour, "Coastguards ordered") == ["1962"]  # not the "61" of "Sikorsky 61"
    assert answers(harbour, "King Eric sealed") == ["1296"]  # not the day


def test_an_example_after_such_as_is_not_blanked(harbour):
    assert "stockfish" not in answers(harbour, "Northern ports exported")


def test_a_sentence_that_needs_the_one_before_anywhere_in_it_is_not_asked(harbour):
    assert answers(harbour, "Under the charter of the guild, it") == []  # whose charter: "it" before the verb
    assert answers(harbour, "Harbour engineers spent this funding") == []  # which funding
    assert answers(harbour, "Bergen later became") == []  # later than what
    assert answers(harbour, "Denmark did so too") == []  # did what
    # Cut at "c." (circa): neither piece is a sentence.
    assert not [a for quote, items in harbour.items() if "ran short of housing" in quote for a in items]
    assert answers(harbour, "Founded by the merchant guilds") == []  # what was: "it" comes before the verb
    assert answers(harbour, "The improvements lowered") == []  # which improvements


def test_a_blank_is_a_thing_not_a_quality_or_a_modifier(harbour):
    assert "reliant" not in answers(harbour, "Merchants grew increasingly")  # after an adverb: a quality
    assert "treadwheel" not in answers(harbour, "Dockers unloaded barrels")  # it only qualifies "crane"


def test_a_common_noun_the_sentence_capitalises_is_not_blanked_as_a_name(harbour):
    # "the Palace of the bishop": the course writes "palace" in lower case too; it is a palace, not a name.
    assert "Palace" not in answers(harbour, "The eastern wing of the quay")


def test_a_blank_its_neighbour_predicts_in_the_course_is_not_asked(harbour):
    # The course always writes "admiral Tromp": "admiral ____" gives the name away; Zeeland is asked instead.
    assert "Tromp" not in [a for quote, items in harbour.items() if "admiral Tromp" in quote for a in
                           (i.answer for i in items)]


def test_a_lone_word_in_the_blank_is_rare_in_english(harbour):
    from tutor.practice.generate import RARE_RANK, english_rank

    # "granite" is a word the course keeps using, but common enough in English to guess.
    assert "granite" not in answers(harbour, "Masons built the new pier")
    for items in harbour.values():
        for item in items:
            if item.answer.isalpha() and item.answer.islower():
                rank = english_rank(item.answer)
                assert rank is None or rank >= RARE_RANK, item.answer


def test_a_field_under_a_heading_reads_as_a_note_on_it(harbour):
    [item] = harbour["First Use: Strangford Lough, 619"]
    assert item.question == "Fill in the blank on Tide Mill (Coastal Power) — first use: Strangford Lough, ____"
    assert item.answer == "619"


@pytest.mark.parametrize("answer, verdict", [
    ("2 hours", "correct"), ("two hours", "correct"),  # the number in words
    ("5 hours", "incorrect"), ("2 days", "incorrect"),  # another number; the same number of another unit
    ("a few hours", "partly"),  # the idea of the figure without it
    ("I don't know", "incorrect"), ("The French Revolution began in 1789.", "incorrect"),
])
def test_a_blanked_number_is_graded_by_its_figure(bread, answer, verdict):
    from tutor.models import Citation
    from tutor.practice.models import PracticeItem

    sentence = "The dough is left to rise for two hours in a warm kitchen."
    item = PracticeItem("x", "cloze", "Fill in the blank: The dough is left to rise for ____ in a warm kitchen.",
                        "two hours", ("two hours",), Citation(1, "c", "s", "", sentence, sentence, 1.0))
    assert bread.grade(item, answer).verdict == verdict


def test_spelling_slips_in_a_multi_word_blank_are_forgiven_but_another_word_is_not():
    from tutor.practice.grading import slipped

    assert slipped("you only lok once", "you only look once")
    assert not slipped("you only live once", "you only look once")


def test_a_misspelt_answer_is_embedded_as_the_course_spells_it():
    from tutor.practice.grading import respell

    assert respell("propose novel atention mechanizm", "Propose novel attention mechanism") == (
        "propose novel attention mechanism")
    assert respell("a new idea", "Propose novel attention mechanism") == "a new idea"


def test_comparison_sides_are_read_from_an_answer_without_labelled_terms(bread):
    from tutor.models import Citation
    from tutor.practice.models import PracticeItem

    answer = "Bread flour has more protein and gives a chewy crumb; cake flour has less and gives a tender crumb."
    item = PracticeItem("x", "comparison", "How do bread flour and cake flour differ?", answer, (),
                        Citation(1, "c", "s", "", answer, answer, 1.0))
    assert bread.grade(item, "bread flour: chewy crumb, more protein; cake flour: tender crumb, less protein").verdict \
        == "correct"
    assert bread.grade(item, "Cake flour gives a chewy crumb and bread flour a tender one.").verdict == "incorrect"


def test_every_part_of_an_answer_is_in_a_passage_the_item_cites_and_every_quote_is_that_passage_s_text(tutor):
    """A list that runs on past its passage, or a comparison whose other side is in another passage, cites
    that passage too (`also`), so the student is sent to every passage the answer comes from."""
    items = [i for kind in KINDS for i in tutor.practice(500, seed=0, kinds=kind)]
    assert any(i.also for i in items if i.kind == "comparison") and any(i.also for i in items if i.kind == "list")
    for item in items:
        parts = ([a.partition(": ")[2] if item.kind == "comparison" else a for a in item.accept]
                 if item.kind in ("list", "comparison") else [item.answer])
        for part in parts:
            words = re.compile(r"\s+".join(re.escape(w) for w in part.split()), re.I)
            assert any(words.search(c.text) for c in item.citations), (item.question, part)
        for citation in item.citations:
            assert citation.quote and citation.quote in citation.text, item.question
        assert item.also == type(item).from_dict(item.to_dict()).also  # the API and the session keep them
        if item.also:
            grade = tutor.grade(item, "no idea at all")
            assert all(" ".join(c.quote.split())[:40] in grade.feedback for c in item.citations)
