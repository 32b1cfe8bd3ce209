"""Reading a question for what it asks: the given part, order, and the asked-for noun phrase; and the
answers that depend on it, over a small Markdown course of its own (real model, real index)."""

from __future__ import annotations

import time

import numpy as np
import pytest

from tutor.answering.compose import single
from tutor.answering.question import Place, answer_type, has_answer_type, named_place, parse, which_kinds
from tutor.answering.rank import Evidence, Quote, rank_quotes, supported_quotes
from tutor.chunking import Unit
from tutor.models import Chunk
from tutor.terms import terms

BREAD = """# Baking bread at home

## Steps

1. Mix flour, water, salt and yeast in a large bowl.
2. Knead the dough for ten minutes until it is smooth.
3. Let the dough rest in a warm place for an hour.
4. Shape the loaf and put it on a tray.
5. Bake at 230 degrees for thirty minutes.

## Home bakers

Home bakers are limited by small kitchens and ordinary ovens. They focus on flavour rather than speed.
Bakeries work the other way round: they care about output per hour.

## Resting the dough

Resting dough is the step home bakers most often cut short. Resting matters because the gluten relaxes and the
loaf rises evenly.

## A bakery's first year

Goal: a full shelf of bread every morning of the first year
Success: a waiting list by the spring

## Storing bread

Bread keeps for two days in a paper bag. Frozen slices keep for a month.
"""


@pytest.mark.parametrize(
    ("question", "given", "asked"),
    [
        # a leading clause
        ("Given their small kitchens, what do home bakers focus on?", "Given their small kitchens",
         "what do home bakers focus on?"),
        # a trailing clause
        ("Where do chefs look for ideas when they invent new dishes?", "when they invent new dishes",
         "Where do chefs look for ideas"),
        # a statement before a semicolon
        ("The recipe bakes at 230 degrees; how long does the bread bake?", "The recipe bakes at 230 degrees",
         "how long does the bread bake?"),
        # ... or before a full stop, whatever the number of statements
        ("Our oven is small. It bakes one loaf. Which tray fits it?", "Our oven is small. It bakes one loaf.",
         "Which tray fits it?"),
    ],
)
def test_a_clause_that_sets_the_scene_is_given_and_the_rest_is_asked(question, given, asked):
    parts = parse(question)
    assert (parts.given, parts.asked) == (given, asked)


def test_a_statement_that_instead_sets_the_answer_against_is_contrast():
    parts = parse("Home bakers focus on flavour. What do bakeries focus on instead?")
    assert (parts.asked, parts.given, parts.contrast) == (
        "What do bakeries focus on instead?", "", "Home bakers focus on flavour.")
    # a question mark before the last sentence: the question came first, nothing is given
    assert parse("What do bakeries sell? Name one.").given == ""
    # "e.g." does not end a sentence
    assert parse("What do mills, e.g. Shipton, which grind rye, sell?").asked.startswith("What do mills")


def test_what_besides_rules_out_is_given_and_excluded():
    parts = parse("Besides flour, water and salt, what goes into the bowl?")
    assert parts.asked == "what goes into the bowl?"
    assert parts.given == "Besides flour, water and salt"
    assert parts.excluded == "flour, water and salt"


def test_named_examples_are_given():
    parts = parse("What do bakeries such as Poilane and Tartine sell?")
    assert parts.asked == "What do bakeries sell?"
    assert "Poilane and Tartine" in parts.given
    assert parse("What do students like about baking?").given == ""  # "like", the verb


@pytest.mark.parametrize(
    "question",
    [
        "When was the first bakery opened?",  # "when" asks; it does not open a clause
        "Which breads are given as examples of sourdough?",  # "given" is a participle here
        "Where and when did sourdough originate?",
        "How long does the dough rest?",
    ],
)
def test_plain_questions_take_nothing_as_given(question):
    parts = parse(question)
    assert (parts.asked, parts.given, parts.order) == (question, "", 0)


def test_order_and_position():
    assert parse("What happens after the dough is kneaded?").order == 1
    assert parse("What do you do after kneading the dough?").order == 1
    assert parse("Once the loaf is shaped, what comes next?").order == 1
    assert parse("What must be done before the bread is baked?").order == -1
    assert parse("What do academics owe to the next generation?").order == 0  # "next" describes, it does not order
    assert parse("What is the last step of baking bread?").last
    assert not parse("What is the first step of baking bread?").last
    assert parse("What is the first step of baking bread?").position == 1
    assert parse("What's the very first thing the team does?").position == 1
    assert parse("What is the second stage?").position == 2
    assert parse("What is the tenth step?").position == 10
    assert parse("What is step 6 of the workflow?").position == 6
    assert parse("What are the 6 steps?").position == 0
    assert parse("What does the team do first?").position == 1
    assert parse("What happens last?").last and not parse("Who came last in the race?").last


def test_what_the_answer_is_compared_with_is_neither_asked_nor_given():
    parts = parse("How do home bakers work compared with bakeries?")
    assert (parts.asked, parts.given, parts.contrast) == ("How do home bakers work", "", "compared with bakeries")


def test_the_place_a_question_says_to_look_in():
    assert named_place("In the key takeaways, what matters?") == Place(frozenset({"key", "takeaway"}))
    assert named_place("What matters, according to the conclusion?") == Place(frozenset(terms("conclusion")))
    assert named_place("What matters?") == Place()
    table = named_place("According to the comparison table, how long do projects take?")
    assert table == Place(frozenset({"comparison"}), table=True)
    # a table is a passage with table rows: a heading that only shares the word is not it
    assert table.holds(frozenset({"detailed", "comparison"}), has_table=True)
    assert not table.holds(frozenset({"detailed", "comparison"}), has_table=False)


def test_what_a_which_question_asks_for_an_instance_of():
    assert which_kinds("Which storage method keeps bread?") == (
        frozenset({"storag", "method", "keep"}), frozenset({"storag", "method"}), frozenset({"storag"}))
    assert which_kinds("Which is the first step?") == ()
    assert which_kinds("What is bread?") == ()


def test_the_asked_for_noun_phrase():
    assert parse("What is the maximum fine a bakery can get?").asked_for == "maximum fine"
    assert parse("What is the loss function?").asked_for == "loss function"  # whole words, to the end
    assert parse("What is the accuracy?").asked_for == "accuracy"
    assert parse("What oven temperature is used for baking?").asked_for == "oven temperature"
    assert parse("Which kinds of flour are mixed in?").asked_for == "flour"
    assert parse("In what year was the bakery founded?").asked_for == "year"
    assert parse("Why does a baker explain what the dough does?").asked_for == ""


def course_tutor(root, markdown: str):
    """A Tutor over a one-file Markdown course in `root` (real model, real index)."""
    from tutor import Tutor

    (root / "corpus").mkdir()
    (root / "corpus" / "course.md").write_text(markdown, encoding="utf-8")
    return Tutor.load(root / "corpus", root / "index", generator="extractive", device="cpu")


@pytest.fixture(scope="module")
def bread_tutor(tmp_path_factory):
    return course_tutor(tmp_path_factory.mktemp("bread"), BREAD)


def first_quote(answer) -> str:
    assert not answer.abstained, answer.text
    return answer.citations[0].quote


def test_the_step_after_the_one_named(bread_tutor):
    assert first_quote(bread_tutor.ask("What happens after the dough is kneaded?")).startswith("Let the dough rest")


def test_the_step_before_the_one_named(bread_tutor):
    assert first_quote(bread_tutor.ask("What comes before the dough rests?")).startswith("Knead the dough")


@pytest.mark.parametrize(
    ("question", "step"),
    [
        ("What happens between kneading the dough and shaping the loaf?", "Let the dough rest"),
        ("Which step comes between mixing the flour and letting the dough rest?", "Knead the dough"),
    ],
)
def test_the_step_between_the_two_named(bread_tutor, question, step):
    assert first_quote(bread_tutor.ask(question)).startswith(step)


def test_between_names_two_things_and_leaves_the_question_whole():
    assert parse("Which step sits between mixing and shaping?").between == "mixing and shaping"
    assert parse("How does the article describe the relationship between academia and industry?").asked == (
        "How does the article describe the relationship between academia and industry?"
    )


def test_the_last_step(bread_tutor):
    assert first_quote(bread_tutor.ask("What is the last step of baking bread at home?")).startswith("Bake at 230")


def test_a_number_in_the_given_part_does_not_pick_the_answer(bread_tutor):
    answer = bread_tutor.ask("The oven is set to 230 degrees; what is done just before baking?")
    assert first_quote(answer).startswith("Shape the loaf")


def test_a_why_question_is_answered_with_the_reason(bread_tutor):
    answer = bread_tutor.ask("Why is resting dough worth it?")
    assert answer.form == "explanation" and "because" in answer.text


def test_a_labelled_field_answers_the_question_that_names_its_label(bread_tutor):
    answer = bread_tutor.ask("What counted as success for the bakery in its first year?")
    assert first_quote(answer) == "Success: a waiting list by the spring"


def test_the_items_a_question_rules_out_are_not_the_answer(tmp_path):
    tutor = course_tutor(
        tmp_path,
        "# A home bakery\n\n## Tools\n\n- A large bowl\n- A dough scraper\n- A baking stone\n\n"
        "## Flour\n\nStrong white flour makes an open crumb.\n",
    )
    answer = tutor.ask("Apart from a large bowl and a dough scraper, which tool does a home baker need?")
    assert first_quote(answer) == "A baking stone"


def test_the_last_step_is_the_end_of_a_numbered_list_not_of_any_list(tmp_path):
    tutor = course_tutor(
        tmp_path,
        "# Baking\n\n## Steps and tools\n\n1. Mix the dough\n2. Knead the dough\n3. Bake the loaf\n\n"
        "Baking also takes tools:\n\n- A bowl\n- A baking stone\n",
    )
    assert first_quote(tutor.ask("What is the last step of baking?")) == "Bake the loaf"


def test_the_answer_is_about_what_is_asked_not_what_it_is_set_against(bread_tutor):
    parts = parse("Whereas home bakers focus on flavour, what do bakeries care about?")
    assert (parts.asked, parts.contrast) == ("what do bakeries care about?", "Whereas home bakers focus on flavour")
    answer = bread_tutor.ask("Whereas home bakers focus on flavour, what do bakeries care about?")
    assert first_quote(answer).startswith("Bakeries work the other way round")


def test_a_question_that_names_a_section_is_answered_from_it(bread_tutor):
    answer = bread_tutor.ask("In the resting section, what do bakers care about?")
    assert answer.citations[0].section == "Resting the dough", answer.text


def test_the_answer_is_about_what_is_asked_not_what_is_given(bread_tutor):
    answer = bread_tutor.ask("Given their small kitchens, what do home bakers focus on?")
    assert first_quote(answer) == "They focus on flavour rather than speed."


@pytest.mark.parametrize(
    "question",
    [
        "How many minutes is the dough kneaded?",  # "ten minutes": a number in words
        "What oven temperature is the bread baked at?",
    ],
)
def test_a_question_for_a_value_is_answered_when_the_quote_has_one(bread_tutor, question):
    assert not bread_tutor.ask(question).abstained


@pytest.mark.parametrize(
    "question",
    [
        "What salt ratio does the recipe use?",  # the recipe names salt, but no ratio
        "What is the formula for the dough's hydration?",
        "What is the maximum number of loaves a home oven can bake at once?",
        "How many loaves are baked at 230 degrees?",  # the step has numbers, but no count of loaves
    ],
)
def test_a_question_for_a_value_the_material_lacks_abstains(bread_tutor, question):
    answer = bread_tutor.ask(question)
    assert answer.abstained and answer.citations == ()


@pytest.mark.parametrize(
    ("question", "kind"),
    [
        ("When was the bakery opened?", "year"),
        ("When does a baker call a loaf done?", None),  # a condition, not a date
        ("In what year was the bakery opened?", "year"),
        ("How many loaves fit in the oven?", "number"),
        ("What oven temperature is used?", "number"),
        ("What is the maximum fine for a late delivery?", "number"),
        ("How long does the dough rest?", "duration"),
        ("How much time does the dough need?", "duration"),
        ("What is the formula for hydration?", "formula"),
        ("Who founded the bakery?", "name"),
        ("Why does dough need to rest?", None),
    ],
)
def test_the_kind_of_answer_a_question_asks_for(question, kind):
    assert answer_type(question) == kind


@pytest.mark.parametrize(
    ("kind", "text", "question", "found"),
    [
        ("number", "Train on the big set for 200 epochs", "How many images are in the big set?", False),
        ("number", "Timeline: 4-8 weeks", "How many weeks does the project take?", True),
        ("number", "It holds sixty thousand digit images", "How many handwritten digit images are there?", True),
        ("number", "Train on the big set for 200 epochs", "What batch size was used?", False),
        ("number", "Success: Paper acceptance, 0.6% improvement", "What is the paper acceptance rate?", False),
        ("number", "Bake at 230 degrees for thirty minutes.", "What oven temperature is used?", True),
        ("number", "Bake at two hundred degrees.", "What oven temperature is used?", True),
        ("number", "Success: 95% accuracy, 50ms latency", "What latency was achieved?", True),
        ("name", "Academic Origin: University research project", "Which university built the detector?", False),
        ("name", "Computing infrastructure (GPUs, TPUs)", "Which company designed the TPU?", False),
        ("name", "It was proposed by Google researchers", "Who proposed the model?", True),
        ("name", "Frameworks (PyTorch, TensorFlow, Keras)", "Who created Keras?", False),
        ("name", "Frameworks (PyTorch, TensorFlow, Keras)", "Who makes deep learning frameworks?", True),
        # "When" asks for a point in time, which is not always a four-digit year.
        ("year", "The town was founded in 1987.", "When was the town founded?", True),
        ("year", "The duchy began in 911 as a fiefdom.", "When was the duchy founded?", True),
        ("year", "They came in the 10th and 11th centuries.", "When did they come?", True),
        ("year", "He served as a general in the 1050s.", "When did he serve?", True),
        ("year", "The road was built around 44 BC.", "When was the road built?", True),
        ("year", "The vote was held on June 5.", "When was the vote held?", True),
        ("year", "The lab holds 1200 images.", "When was the lab opened?", False),
        ("year", "It may be 10 metres long.", "When was it measured?", False),
        ("year", "The founders met at a small bakery.", "When was the bakery founded?", False),
        ("year", "In the 1950s she drew the first maps.", "In what year did she publish her map?", False),
        ("year", "She published the map in 1957.", "In what year did she publish her map?", True),
        ("number", "The new engine used half as much coal.", "How much coal did the new engine use?", True),
        ("number", "The club won the cup twice as well.", "How many times has the club won the cup?", True),
        ("number", "The club won the cup in 1946.", "How many times has the club won the cup?", False),
    ],
)
def test_what_holds_the_kind_of_answer_asked_for(kind, text, question, found):
    # A count counts what the question asks about, and a value measures it (a bare measure, "230
    # degrees", may be it; "200 epochs" is something else); a field's label and a plural ("GPUs") name nobody,
    # and examples listed beside the one the question names are its siblings, not its maker.
    assert has_answer_type(kind, text, question) is found


def test_a_near_tie_goes_to_the_quote_that_holds_the_year_asked_for():
    question = "In what year was the bakery on Mill Street opened?"
    text = "The bakery on Mill Street was opened by a baker from Lyon. It opened in 1998."
    units = (Unit("The bakery on Mill Street was opened by a baker from Lyon.", ""), Unit("It opened in 1998.", ""))
    chunk = Chunk("c1", "course.md", "The bakery", text, 0, len(text))

    def quotes(year_cosine: float) -> list[str]:
        vectors = np.array([[0.5, 0.75**0.5], [year_cosine, (1 - year_cosine**2) ** 0.5]], dtype=np.float32)
        evidence = [Evidence(1, chunk, 0.6, 0.6, units, vectors)]
        ranked = supported_quotes(question, np.array([1.0, 0.0], dtype=np.float32), evidence)
        return [units[q.unit].text for q in ranked]

    # The sentence about who opened the bakery matches more of the question's words; nearly as good,
    # the sentence with the year answers it.
    assert quotes(0.7)[0] == "It opened in 1998."
    # Far behind, the year is not the answer to this question, and the quote that is lacks a year.
    assert quotes(0.1) == []


def test_a_year_far_behind_answers_when_its_passage_names_what_the_question_names():
    question = "In what year was the Mill Street bakery opened?"
    units = (Unit("The founders of bakeries are often millers.", ""), Unit("It opened in 1998.", ""))
    vectors = np.array([[0.6, 0.8], [0.1, (1 - 0.1**2) ** 0.5]], dtype=np.float32)

    def answer(section: str) -> list[str]:
        text = "The founders of bakeries are often millers. It opened in 1998."
        evidence = [Evidence(1, Chunk("c1", "course.md", section, text, 0, len(text)), 0.6, 0.6, units, vectors)]
        ranked = supported_quotes(question, np.array([1.0, 0.0], dtype=np.float32), evidence)
        return [units[q.unit].text for q in ranked]

    assert answer("Bakeries › The Mill Street bakery")[0] == "It opened in 1998."
    assert answer("Bakeries › Opening hours") == []  # a year, but of something the question does not name


def test_the_label_a_sentence_sits_under_counts_like_its_own():
    # "Bakeries: Open at dawn. Heat ovens to 250 degrees." - the second sentence is the bakeries' too.
    question = "What do bakeries heat ovens to?"
    text = "Home bakers: Heat ovens to 200 degrees.\nBakeries: Open at dawn. Heat ovens to 250 degrees."
    units = (
        Unit("Home bakers: Heat ovens to 200 degrees.", ""),
        Unit("Open at dawn.", "Bakeries"),
        Unit("Heat ovens to 250 degrees.", "Bakeries"),
    )
    chunk = Chunk("c1", "course.md", "Ovens", text, 0, len(text))
    # The home bakers' sentence is closer by meaning; the question names the bakeries' label.
    cosines = [0.5, 0.0, 0.25]
    vectors = np.array([[c, (1 - c**2) ** 0.5] for c in cosines], dtype=np.float32)
    evidence = [Evidence(1, chunk, 0.6, 0.6, units, vectors)]
    ranked = rank_quotes(question, np.array([1.0, 0.0], dtype=np.float32), evidence)
    assert units[ranked[0].unit].text == "Heat ovens to 250 degrees."


def test_which_x_prefers_the_items_of_the_list_headed_x():
    question = "Which storage method suits a small kitchen?"

    def listed(rank: int, section: str, items: list[str], cosines: list[float]) -> Evidence:
        text = "\n".join(f"- {item}" for item in items)
        vectors = np.array([[c, (1 - c**2) ** 0.5] for c in cosines], dtype=np.float32)
        chunk = Chunk(f"c{rank}", "course.md", section, text, 0, len(text))
        return Evidence(rank, chunk, 0.5, 0.5, tuple(Unit(item, "", True) for item in items), vectors)

    evidence = [
        listed(1, "Bread › Storage Methods", ["A paper bag", "A freezer"], [0.4, 0.3]),
        # closer by meaning and words, but a tool, not a storage method
        listed(2, "Bread › Kitchen Tools", ["A bread tin for small kitchens"], [0.45]),
    ]
    ranked = rank_quotes(question, np.array([1.0, 0.0], dtype=np.float32), evidence)
    assert ranked[0].evidence.units[ranked[0].unit].text == "A paper bag"


def test_a_later_sentence_of_a_labelled_paragraph_is_answered_with_the_field_from_its_start():
    text = "Bakeries: Open at dawn. Heat ovens to 250 degrees.\n- Tools\n  - A peel"
    units = (
        Unit("Bakeries: Open at dawn.", ""),
        Unit("Heat ovens to 250 degrees.", "Bakeries"),
        Unit("Tools", "", True),
        Unit("A peel", "Tools", True),
    )
    evidence = Evidence(1, Chunk("c1", "course.md", "Ovens", text, 0, len(text)), 0.6, 0.6, units, np.zeros((4, 2)))
    assert single(Quote(evidence, 1, 1.0)).text == "Bakeries: Open at dawn. Heat ovens to 250 degrees."
    assert single(Quote(evidence, 3, 1.0)).text == "Tools: A peel"  # a nested item names its parent


def test_a_sentence_takes_the_words_of_its_whole_heading_path():
    # Two passages say the same thing under the same heading; the parent heading tells them apart.
    def evidence(section: str, text: str) -> Evidence:
        chunk = Chunk(section, "course.md", section, text, 0, len(text))
        vectors = np.array([[0.6, 0.8]], dtype=np.float32)
        return Evidence(1, chunk, 0.5, 0.5, (Unit(text, ""),), vectors)

    sourdough = evidence("Sourdough › Timing", "The dough rests for four hours.")
    rye = evidence("Rye › Timing", "The dough rests for two hours.")
    ranked = rank_quotes("How long does rye dough rest?", np.array([1.0, 0.0], dtype=np.float32), [sourdough, rye])
    assert ranked[0].evidence is rye


def test_the_kind_of_answer_is_read_from_the_asked_part():
    assert answer_type("When the dough is kneaded, what comes next?") is None
    assert answer_type("Although the bakery is old, who built it?") == "name"


@pytest.mark.parametrize(
    "question",
    [
        "What " + "b" * 1990 + "?",  # one long token
        "x " + "when " * 399 + "?x",
        ("We bake bread when it is cold, and rest it when it is warm; " * 34)[:1980] + "? Thanks",
        "Which " + "Abc " * 495 + "do?",
        "What do labs such as " + "Abc and " * 240 + "do?",
        "What, " * 333,
    ],
)
def test_reading_a_long_question_takes_linear_time(question):
    # Regular expressions that backtrack took seconds to minutes on such 2,000-character questions.
    started = time.perf_counter()
    parse.__wrapped__(question)
    answer_type.__wrapped__(question)
    assert time.perf_counter() - started < 2.0


def test_a_passage_that_holds_the_kind_of_answer_asked_for_ranks_first(tmp_path):
    tutor = course_tutor(
        tmp_path,
        "# Proofing\n\n## In the fridge\n\nA cold proof of the dough takes care and patience.\n\n"
        "## On the counter\n\nA warm proof of the dough takes about two hours.\n",
    )
    for question in ("How long does a proof of the dough take?", "How long does a cold proof of the dough take?"):
        hits = tutor.retriever.search([question], 2)[0]
        assert "two hours" in tutor.store.chunks[hits[0].position].text, question


@pytest.mark.parametrize(
    ("text", "span"),
    [
        ("The duchy began in 911 as a fiefdom. [1]", "911"),
        ("They came in the 10th and 11th centuries. [1]", "10th and 11th centuries"),
        ("It opened in 1987, after 1985's vote. [1]", "1987"),
    ],
)
def test_the_time_that_answers_when_is_the_span_marked_without_its_preposition(text, span):
    from tutor.answering.compose import highlights

    assert highlights("When did it happen?", "factoid", text) == (span,)
