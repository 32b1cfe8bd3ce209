"""Answers shaped by the question's form, over a small gardening course of the test's own (real model,
real index): lists whole and in order, steps numbered, one line a side for comparisons, several
units for explanations, each part of a two-part question, an overview from the headings; citations
exactly what the answer quotes; small talk answered without the course."""

from __future__ import annotations

import re

import pytest

from tests.test_question import course_tutor
from tutor.answering.forms import read

GARDEN = """# Home gardening

## Introduction

A home garden feeds a family and teaches patience. The community garden on Elm Street was founded in 1987 by
Maria Lopez.

## Tools

Every gardener needs a few tools:

- A spade for digging beds
- A rake for levelling soil
- A watering can with a fine rose
- Pruning shears for trimming stems

## Seeds worth sowing

- Tomatoes
- Beans
- Peas
- Lettuce
- Radishes
- Carrots
- Spinach
- Kale
- Chard
- Leeks

## Planting a tree

1. Dig a hole twice as wide as the root ball.
2. Loosen the roots with your fingers.
3. Set the tree so the root flare sits at ground level.
4. Fill the hole with the soil you removed.
5. Water deeply and spread mulch around the trunk.

## A raised bed

Goal: Build a raised bed for vegetables beside the shed.

Method:
1. Mark out a rectangle on level ground.
2. Screw four boards into a frame.
3. Line the base with cardboard.
4. Fill the frame with compost and topsoil.

## Soil types

Clay soil: Holds water and nutrients well. Drains slowly and compacts when walked on.

Sandy soil: Drains quickly and warms early in spring. Needs frequent feeding because nutrients wash out.

## Mulch

Mulch is a layer of material spread over the soil surface. It helps because it keeps moisture in the soil, and it
blocks light so that weeds cannot sprout. Mulch also protects roots from frost in winter.

## Fertiliser

Most gardeners feed their beds with an NPK fertiliser in spring.

## Suppliers

Three local companies sell seedlings in spring:

- Greenleaf Nursery
- Oakridge Gardens
- Hollow Pines
"""

MARKER_RE = re.compile(r"\[(\d+)\]")


@pytest.fixture(scope="module")
def garden(tmp_path_factory):
    return course_tutor(tmp_path_factory.mktemp("garden"), GARDEN)


def assert_cites_exactly_what_it_quotes(answer):
    """Markers and citations agree: numbered by first appearance, each quote text of its passage, and
    passages retrieved but not quoted kept apart, without quotes."""
    markers = list(dict.fromkeys(int(n) for n in MARKER_RE.findall(answer.text)))
    assert markers == [c.rank for c in answer.citations] == list(range(1, len(answer.citations) + 1))
    for c in answer.citations:
        assert c.quote and c.quote in c.text
    cited = {c.chunk_id for c in answer.citations}
    assert all(c.quote == "" and c.chunk_id not in cited for c in answer.also_retrieved)


@pytest.mark.parametrize(
    ("question", "form"),
    [
        ("What is mulch?", "definition"),
        ("Define compost", "definition"),
        ("When was the community garden founded?", "factoid"),
        ("How many tools are listed?", "factoid"),
        ("Which tools does a gardener need?", "list"),
        # a plural with words before it, when a plural verb shows where the noun ends
        ("Which hand tools do gardeners need?", "list"),
        ("Which spring vegetables are easy to grow?", "list"),
        ("Which garden tool does a beginner buy first?", "factoid"),
        ("Which shop sells seeds?", "factoid"),
        ("What analysis is done on soil?", "factoid"),
        ("What are the seeds worth sowing?", "list"),
        ("Name the tools a gardener needs.", "list"),
        ("How does clay soil differ from sandy soil?", "comparison"),
        ("Compare clay and sandy soil", "comparison"),
        ("Does clay soil drain slower than sandy soil?", "comparison"),
        ("Why does mulch help?", "explanation"),
        ("What makes clay soil heavy?", "explanation"),
        ("Why is the relationship between roots and soil called symbiotic?", "explanation"),
        ("What comes between sowing and watering?", "procedure"),
        ("How does mulch protect roots?", "explanation"),
        ("What are the steps of planting a tree?", "procedure"),
        ("What comes after loosening the roots?", "procedure"),
        ("What is the second step of planting a tree?", "procedure"),
        ("What is mulch, and why does it help?", "multipart"),
        # after ", and" any wh-word opens the second question
        ("Who founded the community garden, and which tools does a gardener need?", "multipart"),
        ("When was the garden founded? And how long does a tree take to grow?", "multipart"),
        ("Can you summarise the course?", "overview"),
        ("Thanks!", "smalltalk"),
        ("hi there", "smalltalk"),
        # a given clause does not set the form: only the question proper does
        ("Whereas clay holds water, how does sandy soil behave?", "explanation"),
    ],
)
def test_the_form_of_a_question_is_read_from_general_cues(question, form):
    assert read(question).form == form


def test_a_list_answer_gives_every_item_in_order_one_line_each(garden):
    answer = garden.ask("Which tools does a gardener need?")
    assert answer.form == "list"
    lines = answer.text.split("\n")
    assert lines[0] == "Every gardener needs a few tools:"
    assert [line.split(" [")[0] for line in lines[1:]] == [
        "- A spade for digging beds", "- A rake for levelling soil", "- A watering can with a fine rose",
        "- Pruning shears for trimming stems",
    ]
    assert_cites_exactly_what_it_quotes(answer)
    assert len(answer.citations) == 1 and answer.citations[0].quote.startswith("Every gardener needs")


def test_a_question_for_names_is_answered_by_a_lead_in_whose_items_are_the_names(garden):
    # "Which companies" asks for names: the lead-in holds none, the items it brings along do.
    answer = garden.ask("Which companies sell seedlings?")
    assert not answer.abstained
    assert [line.split(" [")[0] for line in answer.text.split("\n")[1:]] == [
        "- Greenleaf Nursery", "- Oakridge Gardens", "- Hollow Pines"]
    assert_cites_exactly_what_it_quotes(answer)


def test_a_long_list_is_capped_with_how_many_more(garden):
    answer = garden.ask("What are the seeds worth sowing?")
    lines = answer.text.split("\n")
    assert len(lines) == 9 and lines[-1].startswith("- … and 2 more")
    assert lines[0].startswith("- Tomatoes")


def test_a_procedure_gives_the_steps_numbered_and_in_order(garden):
    answer = garden.ask("What are the steps of planting a tree?")
    assert answer.form == "procedure"
    lines = answer.text.split("\n")
    assert [line[:3] for line in lines] == ["1. ", "2. ", "3. ", "4. ", "5. "]
    assert lines[0].startswith("1. Dig a hole") and lines[-1].startswith("5. Water deeply")
    assert_cites_exactly_what_it_quotes(answer)


def test_steps_answer_from_the_passage_of_what_they_are_the_steps_of(garden):
    answer = garden.ask("How do you go about building a raised bed for vegetables?")
    lines = answer.text.split("\n")
    assert answer.form == "procedure" and lines[0] == "Method:"
    assert [line[:3] for line in lines[1:]] == ["1. ", "2. ", "3. ", "4. "]
    assert lines[1].startswith("1. Mark out a rectangle") and lines[-1].startswith("4. Fill the frame")
    assert_cites_exactly_what_it_quotes(answer)


def test_steps_that_carry_their_own_numbers_are_not_numbered_again(tutor):
    lines = tutor.ask("What are the steps of the academic workflow?").text.split("\n")
    assert lines[0].startswith("- Step 1: Literature review") and lines[1].startswith("- Step 2:")


def test_a_question_for_one_step_gets_that_step(garden):
    answer = garden.ask("What comes after loosening the roots?")
    assert answer.text.startswith("Set the tree") and "\n" not in answer.text
    assert garden.ask("What is the second step of planting a tree?").text.startswith("Loosen the roots")
    # the step a number word points at, whatever its words share with the question
    assert garden.ask("What is the fourth step of planting a tree?").text.startswith("Fill the hole")
    assert garden.ask("When planting a tree, what is the very first thing you do?").text.startswith("Dig a hole")
    assert garden.ask("What is the last step of planting a tree?").text.startswith("Water deeply")
    # the place said with a verb
    assert garden.ask("When planting a tree, what do you do first?").text.startswith("Dig a hole")
    assert garden.ask("What do you do last when planting a tree?").text.startswith("Water deeply")


def test_a_comparison_gives_one_line_per_side_each_cited(garden):
    answer = garden.ask("How does clay soil differ from sandy soil?")
    assert answer.form == "comparison"
    lines = answer.text.split("\n")
    assert len(lines) == 2 and lines[0].startswith("- Clay soil: Holds water") and lines[1].startswith("- Sandy soil:")
    # each side is its labelled paragraph whole, not only its first sentence
    assert "compacts" in lines[0] and "nutrients wash out" in lines[1]
    assert all(MARKER_RE.search(line) for line in lines)
    assert_cites_exactly_what_it_quotes(answer)


def test_a_comparison_from_a_table_row_gives_both_cells(tutor):
    answer = tutor.ask("How does academia differ from industry in risk tolerance?")
    assert answer.text.split("\n") == [
        "Risk Tolerance:",
        "- Academic Perspective: High - encouraged to try new things [1]",
        "- Industry Perspective: Low - must ensure reliability [1]",
    ]
    # the quote is the row as it stands in the passage text
    assert answer.citations[0].quote.startswith("Risk Tolerance — Academic Perspective: High")
    assert_cites_exactly_what_it_quotes(answer)


def test_an_explanation_gives_the_reason_from_more_than_one_unit(garden):
    answer = garden.ask("Why does mulch help?")
    assert answer.form == "explanation"
    assert "keeps moisture" in answer.text and "frost" in answer.text
    assert_cites_exactly_what_it_quotes(answer)


def test_each_part_of_a_two_part_question_is_answered(garden):
    answer = garden.ask("What is mulch, and why does it help?")
    assert answer.form == "multipart"
    assert "layer of material" in answer.text and "keeps moisture" in answer.text
    assert_cites_exactly_what_it_quotes(answer)
    # each part is ranked by its own words: the first part's answer is not the second's
    answer = garden.ask("What is mulch, and how does it protect roots in winter?")
    assert answer.text.startswith("Mulch is a layer of material") and "frost in winter" in answer.text
    # a part the quoted sentence already answers adds nothing more
    answer = garden.ask("When was the community garden founded, and who founded it?")
    assert answer.text == "The community garden on Elm Street was founded in 1987 by Maria Lopez. [1]"


def test_an_overview_walks_the_headings(garden):
    answer = garden.ask("Can you summarise the course?")
    assert answer.form == "overview"
    lines = answer.text.split("\n")
    assert len(lines) >= 4 and lines[0].startswith("- Introduction: A home garden")
    assert_cites_exactly_what_it_quotes(answer)


def test_an_overview_of_a_section_walks_its_subsections(tutor):
    # the section holds no text of its own, only subsections
    lines = tutor.ask("Summarise the section on common misconceptions").text.split("\n")
    assert len(lines) == 4 and all(line.startswith(f"- Misconception {n}:") for n, line in enumerate(lines, 1))
    # a section named in part: every word asked about besides the overview is in its heading
    lines = tutor.ask("Give me an overview of the industry perspective").text.split("\n")
    assert lines[0].startswith("- Industry Perspective on Deep Learning: In industry, deep learning is a tool")
    assert len(lines) >= 3


def test_an_overview_of_a_section_named_in_overview_words(tutor):
    answer = tutor.ask("Summarise the key takeaways.")
    assert answer.form == "overview" and answer.text.startswith("- Similarities: Both use same core technologies")
    assert_cites_exactly_what_it_quotes(answer)


def test_list_items_run_on_as_prose_are_set_off_from_each_other(tutor):
    text = tutor.ask("What are the main points about transformers?").text
    assert "language models; Used in Google Search" in text


def test_a_term_the_course_only_lists_is_not_defined_by_the_list(tutor):
    answer = tutor.ask("What is differential privacy?")
    assert answer.abstained
    assert answer.text.startswith("The course names differential privacy but does not say what it is.")
    assert answer.citations and "differential privacy" in answer.citations[0].quote
    # a term the course does define is answered, and so is a question for which thing a description means
    assert not tutor.ask("What is model drift?").abstained
    assert not tutor.ask("What is the primary goal in academia?").abstained


def test_a_question_about_a_name_the_best_passage_never_mentions_is_declined(tutor):
    # "Proposed by Google researchers in 2017" is said of the Transformer, under its own heading
    answer = tutor.ask("Which Google researchers proposed ResNet?")
    assert answer.abstained and "does not mention ResNet" in answer.text
    assert not tutor.ask("Which Google researchers proposed the Transformer?").abstained
    # a name given or set aside, not asked about, does not count
    assert not tutor.ask("Apart from GDPR, which regulation is a compliance challenge?").abstained
    # the sides of a comparison may each be in a passage of their own
    assert not tutor.ask("Compare YOLO and ResNet.").abstained


def test_the_span_that_answers_is_marked(garden):
    answer = garden.ask("When was the community garden founded?")
    assert answer.highlights == ("1987",) and "1987" in answer.text
    assert garden.ask("Who founded the community garden?").highlights == ("Maria Lopez",)


def test_thanks_and_greetings_get_a_friendly_word_not_the_course(garden):
    for said in ("Thanks!", "hello"):
        answer = garden.ask(said)
        assert answer.form == "smalltalk" and answer.citations == () and not answer.abstained
    thanks, question = garden.ask_many(["thank you", "What is mulch?"], ids=["a", "b"])
    assert thanks.form == "smalltalk" and thanks.id == "a" and question.citations


def test_a_near_miss_is_declined(garden):
    # The course names NPK fertiliser but never says what NPK stands for.
    answer = garden.ask("What does NPK stand for?")
    assert answer.abstained and "does not cover" in answer.text


def test_a_term_the_course_never_uses_is_not_defined(garden):
    # "soil" is all over the course, "hydroponic" nowhere: there is nothing to define it from.
    answer = garden.ask("What is hydroponic soil?")
    assert answer.abstained and answer.citations == ()
    assert answer.text.endswith("It never mentions hydroponic.")
    # A description in the student's own words is no term: it is answered from what the course says.
    assert not garden.ask("What is the best way to keep moisture in the soil?").abstained


def test_a_follow_up_carries_the_question_as_understood(garden):
    first = "How does clay soil drain?"
    answer = garden.ask("And sandy soil?", history=[first])
    assert answer.interpreted_as and "sandy" in answer.interpreted_as.lower()
    assert "quickly" in answer.text
    assert garden.ask("What is mulch?", history=[first]).interpreted_as is None


def test_no_answer_ends_on_a_lead_in_without_its_items(tutor):
    """Over every question of two sets: a line ending in a colon is always followed by the items it leads to."""
    import json
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent / "eval"
    questions = [json.loads(line)["question"] for name in ("questions", "forms")
                 for line in (root / name / "questions.jsonl").open(encoding="utf-8")]
    for answer in tutor.ask_many(questions):
        lines = [MARKER_RE.sub("", line).strip() for line in answer.text.split("\n")]
        for n, line in enumerate(lines):
            if line.endswith(":"):
                assert n + 1 < len(lines) and lines[n + 1].startswith(("- ", "1. ")), (answer.question, answer.text)


def test_a_list_named_by_its_heading_answers_over_a_sentence_that_ranks_higher(tutor):
    # "Industry faces unique challenges …" ranks first, but the list headed "Industry Challenges" is the answer.
    answer = tutor.ask("What are the challenges faced in industry?")
    lines = answer.text.split("\n")
    assert len(lines) == 6 and all(line.startswith("- ") for line in lines)
    assert lines[0].startswith("- Data Quality") and lines[-1].startswith("- Explainability")
    assert answer.citations[0].section.endswith("Industry Challenges")
