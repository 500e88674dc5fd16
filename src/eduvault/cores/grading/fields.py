"""Field types shared by the question models, and helpers for checking answers."""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import AfterValidator, Field

from eduvault.kernel.errors import InvalidAnswer

ID_PATTERN = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.:-]*")


def _check_id(value: str) -> str:
    if not ID_PATTERN.fullmatch(value):
        raise ValueError(
            "an id must start with a letter, digit or underscore and contain only letters, digits, "
            f"'_', '.', ':' and '-'; got {value!r}"
        )
    return value


#: The id of an entry of a question (a choice, an item, a blank...).
Id = Annotated[str, Field(min_length=1, max_length=100), AfterValidator(_check_id)]
#: Text shown to the learner (a choice, an item, a prompt of a matching question).
Text = Annotated[str, Field(min_length=1, max_length=5000)]
#: Feedback for a particular answer (may be empty).
Feedback = Annotated[str, Field(max_length=5000)]
#: A fraction of full credit.
Credit = Annotated[float, Field(ge=0, le=1)]


def describe(value: Any) -> str:
    """A short description of a JSON value for messages (never echoes a long string)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return f"a boolean ({str(value).lower()})"
    if isinstance(value, str):
        return repr(value) if len(value) <= 40 else f"{value[:37]!r}... ({len(value)} characters)"
    if isinstance(value, int | float):
        text = repr(value)
        return text if len(text) <= 40 else "a very long number"
    if isinstance(value, list | tuple):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return f"a value of type {type(value).__name__}"


def listing(ids: Any, limit: int = 20) -> str:
    """``a, b, c`` (shortened after ``limit`` ids)."""
    ids = [str(i) for i in ids]
    text = ", ".join(ids[:limit])
    return text + (f", ... ({len(ids)} in all)" if len(ids) > limit else "")


def answer_string(answer: Any, what: str, *, max_length: int) -> str:
    """``answer`` if it is a string of at most ``max_length`` characters, else InvalidAnswer."""
    if not isinstance(answer, str):
        raise InvalidAnswer(f"{what} must be a string, got {describe(answer)}")
    if len(answer) > max_length:
        raise InvalidAnswer(f"{what} must be at most {max_length} characters long, got {len(answer)}")
    return answer


def answer_ids(answer: Any, what: str, known: list[str]) -> list[str]:
    """``answer`` if it is a list of distinct ids out of ``known``, else InvalidAnswer."""
    if not isinstance(answer, list):
        raise InvalidAnswer(f"{what} must be a list of ids ({listing(known)}), got {describe(answer)}")
    if len(answer) > len(known):
        raise InvalidAnswer(f"{what} lists {len(answer)} ids but there are only {len(known)} to choose from")
    bad = [describe(x) for x in answer if not isinstance(x, str)]
    if bad:
        raise InvalidAnswer(f"{what} must be a list of ids (strings), got {listing(bad, 5)} in the list")
    known_set = set(known)
    unknown = [x for x in dict.fromkeys(answer) if x not in known_set]
    if unknown:
        raise InvalidAnswer(
            f"{what} holds unknown ids: {listing(describe(x) for x in unknown)}; the ids are: {listing(known)}"
        )
    duplicated = [x for x in dict.fromkeys(answer) if answer.count(x) > 1]
    if duplicated:
        raise InvalidAnswer(f"{what} lists some ids more than once: {listing(duplicated)}")
    return list(answer)


def answer_object(answer: Any, what: str, keys: str, known: list[str]) -> dict[str, Any]:
    """``answer`` if it is a JSON object whose keys are among ``known``, else InvalidAnswer."""
    if not isinstance(answer, dict):
        raise InvalidAnswer(f"{what} must be an object mapping {keys} ids to answers, got {describe(answer)}")
    known_set = set(known)
    unknown = [k for k in answer if not isinstance(k, str) or k not in known_set]
    if unknown:
        raise InvalidAnswer(
            f"{what} names unknown {keys} ids: {listing(describe(k) for k in unknown)}; "
            f"the {keys} ids are: {listing(known)}"
        )
    return dict(answer)
