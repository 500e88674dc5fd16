"""Request bodies, parsed once: JSON within a nesting depth, with no NUL in any string.

Every JSON body the service reads (DRF's parser for the API, the webhook receiver, files the
CLI imports) goes through :func:`parse_json`. A document nested thousands of levels deep
would otherwise exhaust the recursion of whatever walks it next (a serializer, a validator,
the database's JSON encoder) and answer 500; a NUL character is refused by PostgreSQL's text
and JSON types. Both are refused here, as a 400 naming the place, before anything is stored.
"""

from __future__ import annotations

from typing import Any

import orjson
from django.conf import settings

from eduvault.kernel.errors import InvalidInput

#: Deeper than any document Edu Vault reads (a question bank is about six levels).
DEFAULT_MAX_DEPTH = 32


class MalformedBody(InvalidInput):
    """The body is not a JSON document Edu Vault accepts."""


def _path(parts: list[str | int]) -> str:
    text = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in parts).lstrip(".")
    return text or "(document)"


def check_document(document: Any, *, max_depth: int | None = None, what: str = "the body") -> Any:
    """``document`` if no container in it is nested deeper than ``max_depth`` and no string
    (key or value) holds a NUL; :class:`MalformedBody` naming the place otherwise.

    Iterative, so that it cannot itself run out of stack.
    """
    limit = settings.EDUVAULT_MAX_JSON_DEPTH if max_depth is None else max_depth
    stack: list[tuple[Any, int, list[str | int]]] = [(document, 1, [])]
    while stack:
        value, depth, path = stack.pop()
        if isinstance(value, dict):
            if depth > limit:
                raise MalformedBody(
                    f"{what} nests deeper than {limit} levels (at {_path(path)}); at most {limit} are accepted"
                )
            for key, item in value.items():
                if "\x00" in key:
                    raise MalformedBody(f"{what}: a field name at {_path(path)} contains a NUL character")
                if isinstance(item, dict | list | str):
                    stack.append((item, depth + 1, [*path, key]))
        elif isinstance(value, list):
            if depth > limit:
                raise MalformedBody(
                    f"{what} nests deeper than {limit} levels (at {_path(path)}); at most {limit} are accepted"
                )
            for index, item in enumerate(value):
                if isinstance(item, dict | list | str):
                    stack.append((item, depth + 1, [*path, index]))
        elif isinstance(value, str) and "\x00" in value:
            raise MalformedBody(f"{what}: {_path(path)} contains a NUL character")
    return document


def parse_json(raw: bytes | str, *, max_depth: int | None = None, what: str = "the body") -> Any:
    """Parse a JSON document and :func:`check_document` it; :class:`MalformedBody` otherwise."""
    try:
        document = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        reason = str(exc)
        if "depth" in reason.lower() or "recursion" in reason.lower():
            limit = settings.EDUVAULT_MAX_JSON_DEPTH if max_depth is None else max_depth
            raise MalformedBody(
                f"{what} nests deeper than {limit} levels; at most {limit} are accepted"
            ) from None
        raise MalformedBody(f"{what} is not valid JSON: {reason}") from None
    return check_document(document, max_depth=max_depth, what=what)
