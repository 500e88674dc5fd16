"""HTTP helpers for the Canvas client: reading Canvas's answers.

- :func:`next_link`: the ``rel="next"`` target of the ``Link`` header(s);
- :func:`is_rate_limited`: a ``429``, or a ``403`` whose body says ``Rate Limit Exceeded``;
- :func:`retry_after_seconds`: ``Retry-After`` as seconds (given as seconds or an HTTP date);
- :func:`parse_number`: a finite number from a header such as ``X-Rate-Limit-Remaining``;
- :func:`decode_json`: the JSON body, without Canvas's ``while(1);`` guard;
- :func:`error_text`: Canvas's own error message, in any of the shapes it sends.
"""

from __future__ import annotations

import math
import re
import time
from email.utils import parsedate_to_datetime
from typing import Any

import httpx
import orjson

from eduvault.kernel.errors import SourceError
from eduvault.kernel.links import next_link

__all__ = ["decode_json", "error_text", "is_rate_limited", "next_link", "parse_number", "retry_after_seconds"]

_RATE_LIMITED = re.compile(rb"rate limit exceeded", re.IGNORECASE)


def is_rate_limited(response: httpx.Response) -> bool:
    if response.status_code == 429:
        return True
    return response.status_code == 403 and bool(_RATE_LIMITED.search(response.content[:1024]))


def parse_number(value: str | None) -> float | None:
    try:
        number = float(value) if value is not None else math.nan
    except ValueError:
        return None
    return number if math.isfinite(number) else None


def retry_after_seconds(response: httpx.Response) -> float | None:
    """Retry-After in seconds, given as seconds or as an HTTP date."""
    value = response.headers.get("Retry-After")
    seconds = parse_number(value)
    if seconds is None and value:
        try:
            seconds = parsedate_to_datetime(value).timestamp() - time.time()
        except (TypeError, ValueError):
            return None
    return None if seconds is None else max(0.0, seconds)


def _body(content: bytes) -> bytes:
    # Canvas guards JSON with this prefix when a request is authenticated by session.
    return content[9:] if content.startswith(b"while(1);") else content


def decode_json(response: httpx.Response, what: str, host: str) -> Any:
    try:
        return orjson.loads(_body(response.content))
    except orjson.JSONDecodeError:
        raise SourceError(f"{host} answered {what} with something that is not JSON") from None


def error_text(response: httpx.Response, limit: int = 300) -> str:
    """Canvas's error message: ``{"errors": [{"message": …}]}``, ``{"errors": {field: …}}``,
    ``{"error": …}`` or ``{"message": …}``; else the start of the body."""
    try:
        body = orjson.loads(_body(response.content))
    except orjson.JSONDecodeError:
        return response.text.strip()[:limit] or response.reason_phrase
    return (_message_of(body) or orjson.dumps(body).decode())[:limit]


def _message_of(value: Any, depth: int = 0) -> str:
    if isinstance(value, str) or depth > 4:
        return value if isinstance(value, str) else ""
    if isinstance(value, list):
        return "; ".join(m for m in (_message_of(v, depth + 1) for v in value) if m)
    if not isinstance(value, dict):
        return ""
    errors = value.get("errors")
    if isinstance(errors, dict):
        parts = ((name, _message_of(detail, depth + 1)) for name, detail in errors.items())
        return "; ".join(f"{name}: {message}" if message else str(name) for name, message in parts)
    for candidate in (errors, *(value.get(k) for k in ("message", "error", "error_description", "status"))):
        message = _message_of(candidate, depth + 1) if candidate else ""
        if message:
            return message
    return ""
