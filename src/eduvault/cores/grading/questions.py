"""The envelope common to every question document, and parsing of question documents.

A question document is a JSON object: the envelope (``id``, ``type``, ``prompt``,
``hints``, ``explanation``, ``penalty``, ``points``, ``tags``) and the fields of its type
(the grader's ``Body``). :func:`parse_question` validates all of it and reports every
problem at once, each as ``"path: message"`` with paths like ``choices[1].id``.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, Field, ValidationError, create_model

from eduvault.cores.grading.base import ENVELOPE_FIELDS, Grader, Spec, grader_for, question_types
from eduvault.cores.grading.fields import describe
from eduvault.kernel.errors import InvalidQuestion

QUESTION_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]*")


def _check_question_id(value: str) -> str:
    if not QUESTION_ID.fullmatch(value):
        raise ValueError(
            "a question id must start with a letter or digit and contain only letters, digits, "
            f"'.', '_', ':' and '-'; got {value!r}"
        )
    return value


QuestionId = Annotated[str, Field(min_length=1, max_length=100), AfterValidator(_check_question_id)]


class Envelope(Spec):
    """The fields of every question document but ``type`` (which is checked on its own)."""

    id: QuestionId | None = Field(None, description="Assigned by the service when absent.")
    prompt: Annotated[str, Field(min_length=1, max_length=20000)]
    hints: Annotated[list[Annotated[str, Field(min_length=1, max_length=5000)]], Field(max_length=20)] = (
        Field([], description="Shown one more after each wrong answer.")
    )
    explanation: Annotated[str, Field(max_length=20000)] = Field(
        "", description="Shown once the question is over (answered correctly or out of tries)."
    )
    penalty: Annotated[float, Field(ge=0, le=1)] = Field(
        0.0, description="Fraction of full credit deducted for each try after the first."
    )
    points: Annotated[float, Field(gt=0)] = Field(1.0, description="Weight of the question in an assessment.")
    tags: Annotated[list[Annotated[str, Field(min_length=1, max_length=50)]], Field(max_length=50)] = []


@dataclass(frozen=True)
class Question:
    """A validated question: the envelope's fields, the type's ``body`` and the normalised
    ``document`` (JSON-serialisable, defaults filled in) that gets stored.

    ``parse_question(q.document)`` gives back an equal question. Do not mutate ``document``.
    """

    id: str | None
    type: str
    prompt: str
    hints: tuple[str, ...]
    explanation: str
    penalty: float
    points: float
    tags: tuple[str, ...]
    body: BaseModel = field(hash=False)
    document: dict[str, Any] = field(hash=False, repr=False)

    @property
    def grader(self) -> Grader[Any]:
        return grader_for(self.type)

    def with_id(self, new_id: str) -> Question:
        """The same question under the id ``new_id`` (validated like any question id)."""
        try:
            Envelope.model_validate({"id": new_id, "prompt": self.prompt})
        except ValidationError as exc:
            raise InvalidQuestion(format_errors(exc)) from None
        document = {"id": new_id, **{k: v for k, v in self.document.items() if k != "id"}}
        return replace(self, id=new_id, document=document)


def parse_question(document: Any) -> Question:
    """Validate a question document; raise :class:`InvalidQuestion` listing every problem."""
    if not isinstance(document, Mapping):
        raise InvalidQuestion("(document): a question must be a JSON object")
    bad_keys = [k for k in document if not isinstance(k, str)]
    if bad_keys:
        raise InvalidQuestion(f"(document): field names must be strings, got {bad_keys[0]!r}")
    problems: list[str] = []

    grader: Grader[Any] | None = None
    type_name = document.get("type")
    known = ", ".join(question_types())
    if "type" not in document:
        problems.append(f"type: is required; known types: {known}")
    elif not isinstance(type_name, str):
        problems.append(f"type: must be a string naming a question type; known types: {known}")
    else:
        try:
            grader = grader_for(type_name)
        except InvalidQuestion as exc:
            problems.extend(exc.problems)

    envelope: Envelope | None = None
    try:
        envelope = Envelope.model_validate(
            {k: v for k, v in document.items() if k in ENVELOPE_FIELDS and k != "type"}
        )
    except ValidationError as exc:
        problems.extend(format_errors(exc))

    body: BaseModel | None = None
    if grader is not None:
        fields = grader.Body.model_fields
        known_fields = [*ENVELOPE_FIELDS, *fields]
        for key in document:
            if key not in known_fields:
                problems.append(f"{key}: unknown field{_suggestion(key, known_fields)}")
        try:
            body = grader.Body.model_validate({k: v for k, v in document.items() if k in fields})
        except ValidationError as exc:
            problems.extend(format_errors(exc))
        if body is not None:
            problems.extend(grader.validate(body))
            prompt = document.get("prompt")
            if isinstance(prompt, str):
                problems.extend(grader.check_prompt(body, prompt))

    if problems or envelope is None or body is None or not isinstance(type_name, str):
        raise InvalidQuestion(list(dict.fromkeys(problems)) or ["(document): not a valid question"])
    return _question(envelope, type_name, body)


def _question(envelope: Envelope, type_name: str, body: BaseModel) -> Question:
    head = envelope.model_dump(mode="json", exclude_none=True)
    document = {"id": head.pop("id")} if "id" in head else {}
    document.update(type=type_name, **head, **body.model_dump(mode="json", exclude_none=True))
    return Question(
        id=envelope.id,
        type=type_name,
        prompt=envelope.prompt,
        hints=tuple(envelope.hints),
        explanation=envelope.explanation,
        penalty=envelope.penalty,
        points=envelope.points,
        tags=tuple(envelope.tags),
        body=body,
        document=document,
    )


def question_schema(type_name: str) -> dict[str, Any]:
    """The JSON Schema of question documents of type ``type_name`` (envelope and body)."""
    grader = grader_for(type_name)
    definitions: dict[str, Any] = {
        "id": (Envelope.model_fields["id"].annotation, Envelope.model_fields["id"])
    }
    definitions["type"] = (str, Field(description="The question type."))
    for name, info in Envelope.model_fields.items():
        definitions.setdefault(name, (info.annotation, info))
    for name, info in grader.Body.model_fields.items():
        definitions[name] = (info.annotation, info)
    model = create_model(f"{grader.Body.__name__}Question", __base__=Spec, **definitions)
    schema = model.model_json_schema()
    schema["title"] = f"{type_name} question"
    schema["properties"]["type"] = {"const": type_name, "type": "string", "title": "Type"}
    return schema


def format_errors(error: ValidationError) -> list[str]:
    """pydantic's errors as ``"path: message"`` problems with human messages."""
    problems = []
    for e in error.errors(include_url=False):
        loc = list(e["loc"])
        key = False
        if loc and loc[-1] == "[key]":
            loc.pop()
            key = True
        message = _message(e["type"], e.get("ctx") or {}, e["msg"], e.get("input"))
        if key:
            message = f"the key {message}"
        problems.append(f"{format_path(loc)}: {message}")
    return problems


def format_path(loc: Iterable[int | str]) -> str:
    """``("choices", 1, "id")`` -> ``choices[1].id``; the empty path is ``(document)``."""
    path = ""
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += f".{part}" if path else str(part)
    return path or "(document)"


_TYPES = {
    "string_type": "must be a string",
    "float_type": "must be a number",
    "int_type": "must be an integer",
    "bool_type": "must be true or false",
    "list_type": "must be a list",
    "dict_type": "must be an object",
    "model_type": "must be an object",
    "model_attributes_type": "must be an object",
    "finite_number": "must be a finite number",
    "missing": "is required",
    "extra_forbidden": "unknown field",
}


def _message(kind: str, ctx: dict[str, Any], default: str, value: Any) -> str:
    if kind in _TYPES:
        message = _TYPES[kind]
        if kind.endswith("_type") and kind != "model_attributes_type":
            message += f", got {describe(value)}"
        return message
    if kind == "value_error":
        return str(ctx.get("error", default))
    if kind == "string_too_short":
        n = ctx.get("min_length", 1)
        return "must not be empty" if n == 1 else f"must be at least {n} characters long"
    if kind == "string_too_long":
        return f"must be at most {ctx.get('max_length')} characters long"
    if kind == "too_short":
        n = ctx.get("min_length")
        return f"must have at least {n} {'entry' if n == 1 else 'entries'} (has {ctx.get('actual_length')})"
    if kind == "too_long":
        n = ctx.get("max_length")
        return f"must have at most {n} {'entry' if n == 1 else 'entries'}"
    bounds = {
        "greater_than_equal": ("at least", "ge"),
        "greater_than": ("greater than", "gt"),
        "less_than_equal": ("at most", "le"),
        "less_than": ("less than", "lt"),
    }
    if kind in bounds:
        words, name = bounds[kind]
        return f"must be {words} {ctx.get(name)}, got {describe(value)}"
    if kind == "literal_error":
        return f"must be one of {ctx.get('expected')}, got {describe(value)}"
    return default[:1].lower() + default[1:]


def _suggestion(key: str, known: list[str]) -> str:
    close = difflib.get_close_matches(key, known, n=1)
    return f"; did you mean {close[0]!r}?" if close else f"; known fields: {', '.join(known)}"
