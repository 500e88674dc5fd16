"""Endpoints the OpenAPI schema describes by hand: those that are not DRF views (the live
stream, an async Django view; the webhook intake, which reads the raw body to verify its
signature). Their apps register path items here; the schema generator's postprocessing hook
:func:`add_documented_paths` adds them, so `/api/schema/` covers every endpoint."""

from __future__ import annotations

from typing import Any

from eduvault.kernel.registry import Registry

#: path -> OpenAPI path item
documented_paths: Registry[dict[str, Any]] = Registry("documented path")

PROBLEM = {
    "type": "object",
    "description": "An RFC 9457 problem.",
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "instance": {"type": "string"},
    },
    "required": ["type", "title", "status", "detail"],
}


def problem(description: str) -> dict[str, Any]:
    """A problem+json response."""
    return {"description": description, "content": {"application/problem+json": {"schema": PROBLEM}}}


def add_documented_paths(result: dict[str, Any], generator: Any, request: Any, public: bool) -> dict[str, Any]:
    """drf-spectacular postprocessing hook: the registered path items, in path order."""
    paths = dict(result.get("paths", {}))
    for path, item in documented_paths.items():
        paths[path] = item
    result["paths"] = dict(sorted(paths.items()))
    return result
