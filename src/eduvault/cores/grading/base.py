"""The registry of question types: one :class:`Grader` per type.

A grader knows the type-specific fields of a question document (its pydantic ``Body``),
how a learner's answer to such a question is checked and graded, what a learner may see
of the question and what a correct answer is. Adding a new type of question is one
registration::

    @register
    class TrueFalseGrader(Grader):
        type = "true_false"
        Body = TrueFalseBody
        answer_schema = {"type": "boolean"}
        answer_example = True
        ...

and nothing else in the engine changes.
"""

from __future__ import annotations

import builtins
import hashlib
import random
from abc import ABC, abstractmethod
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, ClassVar, Generic, TypeVar

from pydantic import BaseModel, ConfigDict

from eduvault.kernel.errors import InvalidQuestion

#: Configuration shared by every model of a question document: unknown fields are errors
#: (typos must be caught), JSON values are not coerced ("1" is not a number, 1 is not true)
#: and NaN or infinities are refused.
STRICT = ConfigDict(extra="forbid", strict=True, allow_inf_nan=False, frozen=True)


class Spec(BaseModel):
    """Base of the pydantic models of question documents (see :data:`STRICT`)."""

    model_config = STRICT


@dataclass(frozen=True)
class Grade:
    """The result of grading one answer.

    ``score`` is the credit in [0, 1]; ``correct`` means full credit; ``feedback`` is the
    feedback written for the answer given; ``parts`` holds per-part results (blank or
    prompt id -> right) for the types made of parts.
    """

    score: float
    correct: bool
    feedback: str = ""
    parts: dict[str, bool] | None = None

    def __post_init__(self) -> None:
        if not 0.0 <= self.score <= 1.0:
            raise ValueError(f"a score must be within [0, 1], got {self.score!r}")


B = TypeVar("B", bound=BaseModel)


class Grader(ABC, Generic[B]):
    """How one type of question is validated, presented and graded.

    Every method takes the question's validated ``body`` (an instance of ``Body``).
    """

    #: The name of the type, the ``type`` field of question documents.
    type: ClassVar[str]
    #: The type-specific fields of the question document (``extra="forbid"``).
    Body: ClassVar[builtins.type[BaseModel]]
    #: The shape of an answer to this type, as JSON Schema (OpenAPI 3.0's dialect), and an
    #: answer of that shape: the API documents one per type.
    answer_schema: ClassVar[dict[str, Any]]
    answer_example: ClassVar[Any]

    @abstractmethod
    def check_answer(self, body: B, answer: Any) -> Any:
        """Validate and normalise a learner's answer (a JSON-decoded value).

        Raise :class:`~eduvault.kernel.errors.InvalidAnswer` with a clear detail when the
        answer does not fit the question; never anything else.
        """

    @abstractmethod
    def grade(self, body: B, answer: Any) -> Grade:
        """Grade an answer that :meth:`check_answer` returned."""

    def present(self, body: B, rng: random.Random, shuffle: bool) -> dict[str, Any]:
        """The learner-safe, type-specific view of the question (nothing by default)."""
        return {}

    @abstractmethod
    def solution(self, body: B) -> Any:
        """A correct answer, in the answer format: grading it gives full credit."""

    def validate(self, body: B) -> list[str]:
        """Cross-field problems with ``body``, each as ``"path: message"``."""
        return []

    def check_prompt(self, body: B, prompt: str) -> list[str]:
        """Problems between ``body`` and the question's prompt (e.g. markers of blanks)."""
        return []


#: The fields every question document has, whatever its type (see :mod:`.questions`).
ENVELOPE_FIELDS = ("id", "type", "prompt", "hints", "explanation", "penalty", "points", "tags")

_REGISTRY: dict[str, Grader[Any]] = {}

G = TypeVar("G", bound=type[Grader[Any]])


def register(cls: G) -> G:
    """Class decorator: register an instance of ``cls`` under ``cls.type``."""
    name = getattr(cls, "type", "")
    if not isinstance(name, str) or not name:
        raise ValueError(f"{cls.__name__} has no type name")
    body = getattr(cls, "Body", None)
    if not (isinstance(body, type) and issubclass(body, BaseModel)):
        raise ValueError(f"{cls.__name__}.Body must be a pydantic model")
    clashes = sorted(set(body.model_fields) & set(ENVELOPE_FIELDS))
    if clashes:
        raise ValueError(f"{cls.__name__}.Body redefines fields of the envelope: {', '.join(clashes)}")
    existing = _REGISTRY.get(name)
    if existing is not None and type(existing).__qualname__ != cls.__qualname__:
        raise ValueError(f"question type {name!r} is already registered by {type(existing).__name__}")
    if not isinstance(getattr(cls, "answer_schema", None), dict) or not hasattr(cls, "answer_example"):
        raise ValueError(f"{cls.__name__} must say what its answers look like: answer_schema and answer_example")
    _REGISTRY[name] = cls()
    return cls


def unregister(type_name: str) -> None:
    """Remove a registered type (for tests and plug-ins); unknown names are ignored."""
    _REGISTRY.pop(type_name, None)


def answer_shapes() -> dict[str, tuple[dict[str, Any], Any]]:
    """Every registered type's answer schema and example, by type."""
    return {name: (g.answer_schema, g.answer_example) for name, g in sorted(_REGISTRY.items())}


def question_types() -> list[str]:
    """The names of the registered question types, sorted."""
    return sorted(_REGISTRY)


def grader_for(type_name: str) -> Grader[Any]:
    """The grader registered under ``type_name``, or :class:`InvalidQuestion`."""
    try:
        return _REGISTRY[type_name]
    except (KeyError, TypeError):
        known = ", ".join(question_types())
        raise InvalidQuestion(f"type: unknown question type {type_name!r}; known types: {known}") from None


def seeded_rng(key: str) -> random.Random:
    """A random generator seeded from ``key`` alone (the same sequence in every process)."""
    return random.Random(int.from_bytes(hashlib.sha256(key.encode()).digest()[:8], "big"))


def duplicate_ids(entries: Iterable[tuple[str, str]]) -> list[str]:
    """Problems for repeated ids among ``(path, id)`` pairs, naming the repeated entry."""
    seen: dict[str, str] = {}
    problems = []
    for path, entry_id in entries:
        if entry_id in seen:
            problems.append(f"{path}: duplicate id {entry_id!r} (already used by {seen[entry_id]})")
        else:
            seen[entry_id] = path
    return problems
