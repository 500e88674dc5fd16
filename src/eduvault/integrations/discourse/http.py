"""HTTP helpers for the Discourse client: reading Discourse's answers.

- :func:`error_text`: Discourse's own message, in the shapes it sends: ``render_json_error``'s
  ``{"errors": ["…"], "error_type": "…"}``, ``{"error": "…"}``, and ``failed_json``
  merged with a message (``{"failed": "FAILED", "message": "…"}``);
- :func:`retry_after_seconds`: how long a 429 asks us to wait: ``extras.wait_seconds`` from
  the JSON body first (Discourse's ``render_rate_limit_error``), then the ``Retry-After``
  header, given as seconds or as an HTTP date;
- :func:`decode_json`: the JSON body, or :class:`SourceError` when it is not JSON (an HTML
  error page from a proxy, a login page).
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

_TAGS = re.compile(r"<[^>]*>")
_SPACE = re.compile(r"\s+")


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    try:
        number = float(value) if isinstance(value, (int, float, str)) else math.nan
    except ValueError:
        return None
    return number if math.isfinite(number) else None


def _json(response: httpx.Response) -> Any:
    try:
        return orjson.loads(response.content)
    except orjson.JSONDecodeError:
        return None


def retry_after_seconds(response: httpx.Response) -> float | None:
    """Seconds to wait before trying again, or ``None`` when the answer does not say."""
    body = _json(response)
    if isinstance(body, dict):
        extras = body.get("extras")
        if isinstance(extras, dict):
            wait = _number(extras.get("wait_seconds"))
            if wait is not None and wait >= 0:
                return wait
    value = (response.headers.get("Retry-After") or "").strip()
    if not value:
        return None
    seconds = _number(value)
    if seconds is None:
        try:
            seconds = parsedate_to_datetime(value).timestamp() - time.time()
        except (TypeError, ValueError, IndexError, OverflowError):
            return None
    return max(0.0, seconds)


def decode_json(response: httpx.Response, what: str, host: str) -> Any:
    try:
        return orjson.loads(response.content)
    except orjson.JSONDecodeError:
        raise SourceError(f"{host} answered {what} with something that is not JSON") from None


def error_text(response: httpx.Response, limit: int = 300) -> str:
    """Discourse's error message; else the start of the body as text; else the reason."""
    body = _json(response)
    if body is None:
        text = response.text if response.content else ""
        if text.lstrip().startswith("<"):  # an HTML error page: its words, not its markup
            text = _TAGS.sub(" ", text)
        text = _SPACE.sub(" ", text).strip()
        return text[:limit] or response.reason_phrase or f"HTTP {response.status_code}"
    return (_message_of(body) or orjson.dumps(body).decode())[:limit]


def _message_of(value: Any, depth: int = 0) -> str:
    if depth > 4:
        return ""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, list):
        return "; ".join(m for m in (_message_of(v, depth + 1) for v in value) if m)
    if not isinstance(value, dict):
        return ""
    errors = value.get("errors")
    if isinstance(errors, dict):  # {"errors": {"field": ["…"]}}
        parts = ((name, _message_of(detail, depth + 1)) for name, detail in errors.items())
        return "; ".join(f"{name}: {message}" if message else str(name) for name, message in parts)
    for key in ("errors", "error", "message", "failed"):
        candidate = value.get(key)
        if key == "failed" and candidate == "FAILED":
            continue  # failed_json's marker; its message, if any, was read above
        message = _message_of(candidate, depth + 1) if candidate else ""
        if message:
            return message
    return ""
