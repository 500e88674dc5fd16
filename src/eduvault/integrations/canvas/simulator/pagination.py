"""Canvas's pagination: ``Link`` headers with opaque, absolute URLs.

Sources: instructure/canvas-lms ``doc/api/pagination.md`` and ``lib/api.rb`` (``per_page_for``,
``paginate``, ``build_links``, ``EXCLUDE_IN_PAGINATION_LINKS``), with ``spec/lib/api_spec.rb``:

- 10 per page by default, ``per_page`` clamped to ``[1, max]`` (``[[per_page.to_i, 1].max, max].min``);
- links in the order current, next, prev, first, last, joined by ``,``; each is the endpoint's
  URL, the request's query (Rails ``to_query``: keys escaped and sorted) without ``page``,
  ``per_page``, ``access_token`` and ``api_key``, then ``page=…&per_page=…``;
- an ordinal collection answers ``[]`` past its end and keeps ``last``;
- a bookmarked collection (``BookmarkedCollection``, e.g. ``students/submissions`` ordered by id)
  pages by ``page=first`` / ``page=bookmark:<base64url JSON>`` and has no ``prev`` and no
  ``last`` (counting would be expensive).
"""

from __future__ import annotations

import base64
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote_plus

import orjson

EXCLUDE_IN_PAGINATION_LINKS = ("page", "per_page", "access_token", "api_key")
PAGINATION_RELS = ("current", "next", "prev", "first", "last")
_KEY = re.compile(r"\A[\[\]]*([^\[\]]+)\]*")


class InvalidPage(ValueError):
    """``Folio::InvalidPage``: a page Canvas cannot read (answered 404)."""


@dataclass
class Page:
    items: list[Any]
    link: str


def nested(pairs: Sequence[tuple[str, str]]) -> dict[str, Any]:
    """Rack's nested parameters: ``a[b]=1&c[]=2&c[]=3`` → ``{"a": {"b": "1"}, "c": ["2", "3"]}``."""
    params: dict[str, Any] = {}
    for name, value in pairs:
        _normalize(params, name, value)
    return params


def _normalize(params: dict[str, Any], name: str, value: Any) -> None:
    match = _KEY.match(name)
    if not match:
        return
    key, after = match.group(1), name[match.end() :]
    if after == "":
        params[key] = value
    elif after == "[]":
        current = params.get(key)
        params[key] = [*current, value] if isinstance(current, list) else [value]
    elif after.startswith("[]"):
        current = params.get(key)
        params[key] = [*(current if isinstance(current, list) else []), {}]
        _normalize(params[key][-1], after[2:], value)
    else:
        child = params.get(key)
        if not isinstance(child, dict):
            child = params[key] = {}
        _normalize(child, after, value)


def to_query(value: Any, namespace: str | None = None) -> str:
    """Rails' ``Object#to_query``/``Hash#to_query``."""
    if isinstance(value, dict):
        parts = [
            to_query(v, f"{namespace}[{k}]" if namespace else str(k))
            for k, v in value.items()
            if not (isinstance(v, dict | list) and not v)
        ]
        if "[]" not in (namespace or ""):
            parts.sort()
        return "&".join(parts)
    if isinstance(value, list):
        prefix = f"{namespace}[]"
        if not value:
            return f"{quote_plus(prefix)}="
        return "&".join(to_query(v, prefix) for v in value)
    return f"{quote_plus(str(namespace))}={quote_plus('' if value is None else str(value))}"


def first(query: dict[str, Any], key: str) -> str | None:
    value = query.get(key)
    if isinstance(value, list):
        return value[0] if value else None
    return value if isinstance(value, str) else None


def as_list(value: Any) -> list[str]:
    """``Array(params[:x])``: a single value or a list, as a list of strings."""
    if value is None:
        return []
    if isinstance(value, list):
        return [v for v in value if isinstance(v, str)]
    if isinstance(value, dict):
        return [v for v in value.values() if isinstance(v, str)]
    return [str(value)]


def ruby_to_i(text: str) -> int:
    match = re.match(r"\s*([+-]?\d+)", text)
    return int(match.group(1)) if match else 0


def per_page_for(query: dict[str, Any], *, default: int = 10, maximum: int = 100) -> int:
    raw = first(query, "per_page")
    value = ruby_to_i(raw) if raw is not None else default
    return min(max(value, 1), maximum)


def build_links(base_url: str, query: dict[str, Any], per_page: int, rels: dict[str, Any]) -> str:
    kept = {k: v for k, v in query.items() if k not in EXCLUDE_IN_PAGINATION_LINKS}
    prefix = base_url + ("&" if "?" in base_url else "?")
    if kept:
        prefix += to_query(kept) + "&"
    links = [
        f'<{prefix}page={rels[rel]}&per_page={per_page}>; rel="{rel}"'
        for rel in PAGINATION_RELS
        if rels.get(rel) not in (None, "")
    ]
    return ",".join(links)


def paginate(items: Sequence[Any], query: dict[str, Any], base_url: str, *, maximum: int = 100) -> Page:
    """An ordinal collection: ``page=1, 2, …`` with a ``last`` link."""
    per_page = per_page_for(query, maximum=maximum)
    raw = first(query, "page")
    if raw is None or raw == "":
        page = 1
    elif re.fullmatch(r"\d+", raw.strip()) and int(raw) > 0:
        page = int(raw)
    else:
        raise InvalidPage(raw)
    last = max(1, math.ceil(len(items) / per_page))
    rels = {
        "current": page,
        "next": page + 1 if page < last else None,
        "prev": page - 1 if page > 1 else None,
        "first": 1,
        "last": last,
    }
    chunk = list(items[(page - 1) * per_page : page * per_page])
    return Page(chunk, build_links(base_url, query, per_page, rels))


def _bookmark(values: list[Any]) -> str:
    return "bookmark:" + base64.urlsafe_b64encode(orjson.dumps(values)).rstrip(b"=").decode()


def _read_bookmark(raw: str) -> list[Any]:
    try:
        encoded = raw.removeprefix("bookmark:")
        decoded = orjson.loads(base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4)))
    except (ValueError, orjson.JSONDecodeError) as exc:
        raise InvalidPage(raw) from exc
    if not isinstance(decoded, list):
        raise InvalidPage(raw)
    return decoded


def paginate_bookmarked(
    items: Sequence[Any],
    key: Callable[[Any], list[Any]],
    query: dict[str, Any],
    base_url: str,
    *,
    maximum: int = 100,
) -> Page:
    """A bookmarked collection (``items`` sorted by ``key``): no ``prev``, no ``last``."""
    per_page = per_page_for(query, maximum=maximum)
    raw = first(query, "page")
    if raw in (None, "", "first"):
        start: list[Any] | None = None
    elif raw is not None and raw.startswith("bookmark:"):
        start = _read_bookmark(raw)
    else:
        raise InvalidPage(raw)
    rest = [item for item in items if start is None or key(item) > start]
    chunk = rest[:per_page]
    rels = {
        "current": raw or "first",
        "next": _bookmark(key(chunk[-1])) if len(rest) > per_page else None,
        "first": "first",
    }
    return Page(chunk, build_links(base_url, query, per_page, rels))
