"""Parsing requests: bodies with DRF serializers, query parameters as bounded numbers."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from rest_framework import serializers

from eduvault.kernel.errors import InvalidInput


def validated(serializer_class: type[serializers.Serializer], data: Any, **context: Any) -> dict[str, Any]:
    """The serializer's validated data; a 400 problem naming each bad field otherwise."""
    serializer = serializer_class(data=data, context=context)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


#: The largest id or cursor there can be (a signed 64-bit column).
MAX_ID = 2**63 - 1


def whole_number(value: str | None, name: str, *, minimum: int = 0, maximum: int = MAX_ID) -> int | None:
    """A query parameter as an int in ``[minimum, maximum]`` (None when absent or empty);
    a 400 naming it otherwise. Only plain decimal digits are taken: not ``true``, not
    ``1e3``, not ``½``, not a number too large for the database."""
    if value in (None, ""):
        return None
    text = value.strip()
    digits = text[1:] if text[:1] == "-" else text
    if not digits.isascii() or not digits.isdigit() or len(digits) > 19:
        shown = f"{value[:40]!r}" + ("..." if len(value) > 40 else "")
        if digits.isascii() and digits.isdigit():
            raise InvalidInput(f"{name} must be at most {maximum}, not {shown}")
        raise InvalidInput(f"{name} must be a whole number, not {shown}")
    number = int(text)
    if number < minimum:
        raise InvalidInput(f"{name} must be at least {minimum}, not {number}")
    if number > maximum:
        raise InvalidInput(f"{name} must be at most {maximum}, not {number}")
    return number


def one_of(value: str | None, name: str, choices: Iterable[str]) -> str | None:
    """A query parameter that must be one of ``choices`` (None when absent or empty); a 400
    listing them otherwise."""
    if value in (None, ""):
        return None
    allowed = list(choices)
    if value not in allowed:
        shown = f"{value[:40]!r}" + ("..." if len(value) > 40 else "")
        raise InvalidInput(f"{name} must be one of {', '.join(allowed)}, not {shown}")
    return value
