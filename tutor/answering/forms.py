"""The form of a question, which decides the shape of its answer.

Cues are English question syntax, never the words of one course:

- smalltalk: a greeting or thanks with nothing to look up ("Thanks!", "hi there");
- overview: "summarise", "overview", "what is this article about", "main points";
- procedure: steps, stages, a process or workflow, an order ("what comes after X", "the last step");
- comparison: two or more things set side by side ("compare", "differ", "versus", "X and Y",
  "in academia and in industry", "how does X compare with Y");
- list: several things asked for ("which ... are", "what are the ...s", "name", "list", "examples of");
- explanation: why, how does, what causes, what happens when, "explain";
- definition: "what is X", "define X", "what does X mean";
- factoid: who, when, how many, which one, what year, or any other single fact;
- multipart: two questions in one ("What is X, and why does it matter?"), each read on its own.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from tutor.answering.question import body_start, parse

SMALLTALK_RE = re.compile(
    r"^\s*(?:(?:hi|hello|hey|hiya|howdy|yo|greetings|good\s+(?:morning|afternoon|evening|night)|"
    r"thanks?(?:\s+(?:a\s+lot|so\s+much|very\s+much|again))?|thank\s+you(?:\s+(?:so|very)\s+much)?(?:\s+again)?|"
    r"thx|ty|cheers|ok(?:ay)?|cool|great|nice|awesome|perfect|got\s+it|i\s+see|understood|makes\s+sense|"
    r"bye|goodbye|see\s+you|that\s+helps|that\s+(?:was\s+)?helpful|(?:very\s+)?helpful|wonderful|excellent|"
    r"alright|sure|yes|no|nope|yep|fine)(?:\s+(?:there|tutor|everyone|all))?[\s,.!?:;)(-]*)+$",
    re.I,
)
OVERVIEW_RE = re.compile(
    r"\b(?:summar(?:y|i[sz]e|i[sz]ing)|overview|outline|main\s+(?:points?|ideas?|topics?|themes?)|"
    r"key\s+(?:points?|ideas?|takeaways?)|gist|tl;?dr|what\s+(?:is|are)\s+(?:this|the)\s+"
    r"(?:article|course|document|text|material|chapter|section|lesson)s?\s+(?:about|on)\s*\??\s*$|"
    # "What does the article cover?", but not "What does the article say about the delay …?"
    r"what\s+does\s+(?:this|the)\s+(?:article|course|document|text|material|chapter|section)\s+"
    r"(?:cover|say|discuss)\s*\??\s*$)",
    re.I,
)
PROCEDURE_RE = re.compile(
    r"\b(?:steps?|stages?|phases?|procedure|process|workflow|pipeline|in\s+what\s+order|sequence|go\s+about|"
    r"(?:what|which)\s+(?:method|methods|methodology)|"
    r"how\s+(?:do|does|should|would|can)\s+(?:i|you|we|one)\b|what\s+(?:comes|happens)\s+(?:next|after|before|first|last)|"
    r"(?:first|last|final|next)\s+(?:thing|step|stage))\b",
    re.I,
)
COMPARISON_RE = re.compile(
    r"\b(?:compare|compares|compared\s+(?:with|to)|comparing|comparison|contrast|differ(?:s|ed|ent|ence|ences)?|distinguish|"
    r"versus|vs\.?|(?:similar(?:ities|ity)?|alike|same)\b.*\b(?:and|between)|how\s+(?:do|does)\s+.+\s+compare|"
    r"unlike|whereas|as\s+opposed\s+to|better|worse|equally|[a-z]+er\s+than|(?:more|less|fewer)\s+(?:\w+\s+)?than)\b",
    re.I,
)
# "in academia and in industry", "for students and for teachers": the same slot filled twice.
BOTH_SIDES_RE = re.compile(r"\b(in|for|at|on|by|between)\s+([\w-]+(?:\s+[\w-]+)?)\s+and\s+(?:\1\s+)?([\w-]+)", re.I)
LIST_RE = re.compile(
    r"^\s*(?:list|name|enumerate|give|mention|identify)\b|"
    r"\b(?:which|what)\s+(?:are|were)\b|\bwhat\s+(?:\w+\s+){0,3}(?:are|were|include|includes)\b|"
    r"\b(?:what|which)\s+(?:kinds|types|sorts|examples)\s+of\b|\bexamples\s+of\b",
    re.I,
)
EXPLANATION_RE = re.compile(
    r"^\s*(?:why|explain|describe)\b|\bhow\s+(?:does|do|did|can|could|is|are|was|were)\b|"
    r"\bwhat\s+(?:causes?|makes|leads\s+to|drives|explains)\b|"
    r"\bwhat\s+happens\b|\bwhat\s+(?:is|are)\s+the\s+(?:reason|cause|effect|impact|purpose|role)s?\b|\bwhy\b",
    re.I,
)
DEFINITION_RE = re.compile(
    r"^\s*(?:define|definition\s+of)\b|^\s*what\s+(?:is|are)\s+(?:an?\s+|the\s+)?(?:meant\s+by\s+)?[^?,]{1,60}\??\s*$|"
    r"^\s*what\s+(?:does|do)\s+[^?]{1,60}\s+(?:mean|stand\s+for|refer\s+to)\b|^\s*what\s+is\s+meant\s+by\b|"
    r"^\s*meaning\s+of\b",
    re.I,
)
FACTOID_RE = re.compile(
    r"^\s*(?:who|whom|whose|when|where)\b|\bhow\s+(?:many|much|long|old|often|big|large|fast)\b|"
    r"\b(?:what|which)\s+(?:year|date|number|percentage|amount|company|person|organi[sz]ation)\b",
    re.I,
)
# Two questions in one: "What is X, and why does it matter?", "What is X? How is it used?"
# After ", and" or a question mark any wh-word opens the second ("…, and which models do they power?",
# "…, and how long did it take?"); after a bare "and", a wh-word and its verb.
PARTS_RE = re.compile(
    r"(?:,\s*|\s+|\?\s*)(?:and|also|plus)?\s*(?=(?:why|how|what|which|who|when|where)\b\s+"
    r"(?:is|are|was|were|do|does|did|can|could|should|would|will|has|have|makes?|happens?|causes?)\b)"
    r"|(?:,\s*(?:and|plus)\s+|\?\s+(?:and\s+)?)(?=(?:why|how|what|which|who|whom|whose|when|where)\b)",
    re.I,
)
# Words in -s after "what" that are no plural noun: auxiliaries, and verbs that ask for a cause or an effect
# ("What makes X a risk?", "What causes Y?").
_AUX_S = (r"(?:is|was|does|has|this|thus|its|as|us|makes|causes|happens|leads|drives|determines|means|"
          r"explains|affects|limits|allows|keeps|gives|takes|helps|matters|needs|goes|comes|says|shows)\b")
ASKING_RE = re.compile(
    r"\b(?:what|why|how|who|whom|which|when|where)\b|^\s*(?:is|are|do|does|did|can|define|explain)\b", re.I
)
# "Which conferences ...", "What tools ...": a plural noun right after the wh-word asks for several.
# Up to two words may describe it first ("Which top conferences do ...", "Which evaluation metrics are ..."),
# when a plural verb follows to show the noun ended there ("Which conference does ..." is one). A word in
# -is or -us ("analysis", "focus") is no plural.
_MODIFIER = rf"(?!{_AUX_S}|(?:are|were|do|did|the|a|an)\b)[a-z-]+\s+"
_PLURAL_VERB = r"(?:are|were|do|did|have|can|could|should|would|will|might|must)\b"
PLURAL_ASKED_RE = re.compile(
    rf"^\s*(?:what|which)\s+(?!{_AUX_S})(?:[a-z-]{{2,}}[^siu\W]s\b|(?:{_MODIFIER}){{1,2}}"
    rf"[a-z-]{{2,}}[^siu\W]s\s*(?={_PLURAL_VERB}))",
    re.I,
)

# "What are the challenges ...?", "What are some ...": several things, not one thing defined.
SEVERAL_RE = re.compile(r"^\s*what\s+(?:are|were)\s+(?:the|some|its|their|all|two|three|four|five|several)\b", re.I)


# "a shared priority for researchers and companies", "what do both use": what they have in common, not
# how they differ.
SHARED_RE = re.compile(
    r"\b(?:shared?|both|common|in\s+common|alike|together|joint(?:ly)?|similar(?:ities|ity)?)\b", re.I
)


@dataclass(frozen=True)
class Reading:
    """A question's form, and for several parts, each part with its own form."""

    form: str
    parts: tuple[tuple[str, str], ...] = ()  # (part, form) for a question of several parts


def split_parts(question: str) -> list[str]:
    """The questions inside one ("What is X, and why does it matter?" gives two); one part if it is one."""
    text = question.strip()
    cuts = [m for m in PARTS_RE.finditer(text) if m.start() > 0 and re.search(r"[,?]|\band\b", m.group(0))]
    if not cuts:
        return [text]
    pieces, start = [], 0
    for m in cuts:
        pieces.append(text[start : m.start()].strip(" ,?") + "?")
        start = m.end()
    pieces.append(text[start:].strip())
    # Each piece must be a question of its own: three words or more, asking something ("Along with X and Y,
    # what is …?" is one question with a given clause, not two).
    return pieces if all(len(p.split()) >= 3 and ASKING_RE.search(p) for p in pieces) else [text]


def _form_of_one(question: str) -> str:
    # A leading clause or statement is given ("Whereas companies see X as critical, how do researchers
    # regard it?", "If reliability matters more than novelty, …"): its words do not set the form.
    text = question.strip()
    text = text[body_start(text) :]
    parts = parse(text)
    asked = parts.asked
    if OVERVIEW_RE.search(text):
        return "overview"
    # "Between X and Y" places a step only in a question for one: "Why is the relationship between academia
    # and industry called symbiotic?" asks for a reason.
    between = parts.between and not COMPARISON_RE.search(text) and not re.match(r"^\s*(?:why|how)\b", asked, re.I)
    if parts.order or parts.last or parts.position or between:
        return "procedure"  # "what comes right after X?": a position in a list of steps
    if re.match(r"^\s*why\b", asked, re.I):
        return "explanation"  # before the factoid cues: "Why does X focus on how fast …?"
    if FACTOID_RE.search(asked) and not COMPARISON_RE.search(text):
        return "factoid"
    if COMPARISON_RE.search(text) or (BOTH_SIDES_RE.search(asked) and not SHARED_RE.search(text)):
        return "comparison"
    if PROCEDURE_RE.search(text):
        return "procedure"
    if re.match(r"^\s*why\b", asked, re.I) or re.match(r"^\s*why\b", text, re.I):
        return "explanation"
    if FACTOID_RE.search(asked):
        return "factoid"
    if SEVERAL_RE.match(asked):
        return "list"
    if DEFINITION_RE.search(asked) and not PLURAL_ASKED_RE.match(asked):
        return "definition"
    if LIST_RE.search(asked) or PLURAL_ASKED_RE.match(asked):
        return "list"
    if EXPLANATION_RE.search(asked):
        return "explanation"
    return "factoid"


def is_smalltalk(text: str) -> bool:
    return bool(SMALLTALK_RE.match(text))


@lru_cache(maxsize=4096)
def read(question: str) -> Reading:
    """The form of `question` (see the module docstring)."""
    if is_smalltalk(question):
        return Reading("smalltalk")
    body = question.strip()[body_start(question.strip()) :]
    parts = split_parts(body)
    if len(parts) > 1:
        return Reading("multipart", tuple((p, _form_of_one(p)) for p in parts))
    return Reading(_form_of_one(question))
