"""Hypothesis strategies: random valid question documents of every registered type."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

TEXT = st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=12)
WORD = st.text(alphabet="abcdefghijklmnopqrstuvwxyzÉéß", min_size=1, max_size=8)
FEEDBACK = st.text(alphabet="abc .!", max_size=10)
ID = st.from_regex(r"[a-z0-9_][a-z0-9_.:-]{0,5}", fullmatch=True)
NUMBER = st.floats(min_value=-1e9, max_value=1e9, allow_nan=False, allow_infinity=False)
PATTERNS = st.sampled_from([r"[a-c]+", r"x\d{1,3}", r"(foo|bar)baz", r".*z", r"colou?r"])


def ids(n: int) -> st.SearchStrategy[list[str]]:
    return st.lists(ID, min_size=n, max_size=n, unique=True)


@st.composite
def envelope(draw: st.DrawFn, type_name: str, prompt: str | None = None) -> dict[str, Any]:
    document: dict[str, Any] = {"type": type_name, "prompt": prompt or draw(TEXT)}
    if draw(st.booleans()):
        document["id"] = draw(st.from_regex(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,20}", fullmatch=True))
    if draw(st.booleans()):
        document["hints"] = draw(st.lists(TEXT, max_size=3))
    if draw(st.booleans()):
        document["explanation"] = draw(TEXT)
    if draw(st.booleans()):
        document["penalty"] = draw(st.floats(0, 1))
    if draw(st.booleans()):
        document["points"] = draw(st.floats(0.1, 100))
    if draw(st.booleans()):
        document["tags"] = draw(st.lists(WORD, max_size=3))
    return document


@st.composite
def single_choice(draw: st.DrawFn) -> dict[str, Any]:
    n = draw(st.integers(2, 8))
    right = draw(st.integers(0, n - 1))
    choices = []
    for i, choice_id in enumerate(draw(ids(n))):
        choice: dict[str, Any] = {"id": choice_id, "text": draw(TEXT), "feedback": draw(FEEDBACK)}
        if i == right:
            choice["correct"] = True
        elif draw(st.booleans()):
            choice["credit"] = draw(st.floats(0, 0.99))
        choices.append(choice)
    return {**draw(envelope("single_choice")), "choices": choices}


@st.composite
def multiple_response(draw: st.DrawFn) -> dict[str, Any]:
    n = draw(st.integers(2, 8))
    scoring = draw(st.sampled_from(["all_or_nothing", "every_decision_counts", "halves", "fractions"]))
    flags = draw(st.lists(st.booleans(), min_size=n, max_size=n).filter(any))
    weights = draw(st.lists(st.integers(1, 10), min_size=n, max_size=n))
    total = sum(w for w, flag in zip(weights, flags) if flag)
    choices = []
    for flag, weight, choice_id in zip(flags, weights, draw(ids(n))):
        choice: dict[str, Any] = {"id": choice_id, "text": draw(TEXT), "feedback": draw(FEEDBACK)}
        if scoring == "fractions":
            choice["fraction"] = weight / total if flag else -draw(st.floats(0, 1))
        else:
            choice["correct"] = flag
        choices.append(choice)
    return {**draw(envelope("multiple_response")), "choices": choices, "scoring": scoring}


@st.composite
def numeric_fields(draw: st.DrawFn) -> dict[str, Any]:
    if draw(st.booleans()):
        fields: dict[str, Any] = {"answer": draw(NUMBER)}
        if draw(st.booleans()):
            fields["absolute_tolerance"] = draw(st.floats(0, 10))
        if draw(st.booleans()):
            fields["relative_tolerance"] = draw(st.floats(0, 0.5))
        return fields
    low = draw(NUMBER)
    high = draw(NUMBER.filter(lambda x: x > low + 1e-6 * max(1.0, abs(low))))
    opening, closing = draw(st.sampled_from(["[", "("])), draw(st.sampled_from(["]", ")"]))
    spaces = draw(st.sampled_from(["", " "]))
    return {"range": f"{opening}{low!r},{spaces}{high!r}{closing}"}


@st.composite
def numeric(draw: st.DrawFn) -> dict[str, Any]:
    return {**draw(envelope("numeric")), **draw(numeric_fields())}


@st.composite
def text_fields(draw: st.DrawFn) -> dict[str, Any]:
    answers: list[dict[str, str]] = [{"value": draw(TEXT.filter(str.strip))}]
    answers += [{"regex": p} for p in draw(st.lists(PATTERNS, max_size=2))]
    answers += [{"value": v} for v in draw(st.lists(WORD, max_size=2))]
    answers = draw(st.permutations(answers)) if draw(st.booleans()) else answers
    fields: dict[str, Any] = {"answers": answers, "case_sensitive": draw(st.booleans())}
    if draw(st.booleans()):
        fields["wrong_answers"] = [{"value": draw(WORD), "feedback": "Not that."}]
    return fields


@st.composite
def text_input(draw: st.DrawFn) -> dict[str, Any]:
    return {**draw(envelope("text_input")), **draw(text_fields())}


@st.composite
def fill_blanks(draw: st.DrawFn) -> dict[str, Any]:
    n = draw(st.integers(1, 5))
    blanks = []
    for blank_id in draw(ids(n)):
        if draw(st.booleans()):
            blanks.append({"id": blank_id, "kind": "numeric", **draw(numeric_fields())})
        else:
            kind = {"kind": "text"} if draw(st.booleans()) else {}
            blanks.append({"id": blank_id, **kind, **draw(text_fields())})
    words = draw(st.lists(WORD, min_size=n + 1, max_size=n + 1))
    prompt = words[0] + "".join(
        f" [[{b['id']}]] {w}" for b, w in zip(draw(st.permutations(blanks)), words[1:])
    )
    return {**draw(envelope("fill_blanks", prompt=prompt)), "blanks": blanks}


@st.composite
def ordering(draw: st.DrawFn) -> dict[str, Any]:
    n = draw(st.integers(2, 8))
    items = [{"id": i, "text": draw(TEXT)} for i in draw(ids(n))]
    return {
        **draw(envelope("ordering")),
        "items": items,
        "scoring": draw(st.sampled_from(["all_or_nothing", "position"])),
    }


@st.composite
def matching(draw: st.DrawFn) -> dict[str, Any]:
    n = draw(st.integers(1, 5))
    m = draw(st.integers(1, 6))
    all_ids = draw(ids(n + m))
    prompts = [{"id": i, "text": draw(TEXT)} for i in all_ids[:n]]
    options = [{"id": i, "text": draw(TEXT)} for i in all_ids[n:]]
    pairs = {p["id"]: draw(st.sampled_from(all_ids[n:])) for p in prompts}
    scoring = draw(st.sampled_from(["partial", "all_or_nothing"]))
    return {
        **draw(envelope("matching")),
        "prompts": prompts,
        "options": options,
        "pairs": pairs,
        "scoring": scoring,
    }


STRATEGIES = {
    "single_choice": single_choice,
    "multiple_response": multiple_response,
    "numeric": numeric,
    "text_input": text_input,
    "fill_blanks": fill_blanks,
    "ordering": ordering,
    "matching": matching,
}


def questions() -> st.SearchStrategy[dict[str, Any]]:
    """A valid question document of any type."""
    return st.one_of([strategy() for strategy in STRATEGIES.values()])


def pools() -> st.SearchStrategy[dict[str, list[str]]]:
    """Pools of question ids by subtopic (some subtopics empty), ids unique across the pool."""
    return st.lists(st.integers(0, 12), min_size=1, max_size=6).map(
        lambda sizes: {f"sub{s}": [f"q{s}-{i}" for i in range(size)] for s, size in enumerate(sizes)}
    )
