"""URL path converters."""

from __future__ import annotations

from eduvault.kernel.validation import MAX_ID


class IdConverter:
    """``<id:name>``: a row id, 1 to 19 digits and within a 64-bit column. A larger number
    cannot be the id of anything, so the path does not match (404) rather than reaching the
    database (where it would not fit the column)."""

    regex = "[0-9]{1,19}"

    def to_python(self, value: str) -> int:
        number = int(value)
        if number > MAX_ID:
            raise ValueError(value)
        return number

    def to_url(self, value: int) -> str:
        return str(value)
