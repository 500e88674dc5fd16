"""Parsing request bodies with DRF serializers."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from eduvault.exceptions import InvalidInput


def validated(serializer_class: type[serializers.Serializer], data: Any, **context: Any) -> dict[str, Any]:
    """The serializer's validated data; a 400 problem naming each bad field otherwise."""
    serializer = serializer_class(data=data, context=context)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


def whole_number(value: str | None, name: str) -> int | None:
    """A query parameter as an int (None when absent or empty); a 400 naming it otherwise."""
    if value in (None, ""):
        return None
    try:
        return int(value)
    except ValueError:
        raise InvalidInput(f"{name} must be a whole number, not {value[:40]!r}") from None
