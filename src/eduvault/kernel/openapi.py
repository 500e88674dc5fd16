"""Endpoints the OpenAPI schema describes by hand: those that are not DRF views (the live
stream, an async Django view; the webhook intake, which reads the raw body to verify its
signature). Their apps register path items here; the schema generator's postprocessing hook
:func:`add_documented_paths` adds them, so `/api/schema/` covers every endpoint."""

from __future__ import annotations

from typing import Any

from eduvault.kernel.registry import Registry

#: path -> OpenAPI path item
documented_paths: Registry[dict[str, Any]] = Registry("documented path")
#: component name -> schema (shapes a serializer cannot state, such as a recursive one)
documented_schemas: Registry[dict[str, Any]] = Registry("documented schema")

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


#: What every operation may answer besides its documented outcomes.
ERRORS = (
    "An error, as an RFC 9457 problem: 400 bad input, 401 no or bad credentials, 403 not "
    "allowed, 404 not found, 405 no such method, 409 a conflict with the current state, 413 "
    "too large, 415 not JSON, 422 well-formed but invalid, 429 too many attempts, 502 or 503 "
    "a platform or a dependency unavailable."
)
METHODS = ("get", "put", "post", "delete", "patch", "head", "options", "trace")


def add_documented_paths(result: dict[str, Any], generator: Any, request: Any, public: bool) -> dict[str, Any]:
    """drf-spectacular postprocessing hook: the registered path items (in path order) and
    schemas, and every operation's errors (a ``default`` problem response: every error is one)."""
    paths = dict(result.get("paths", {}))
    for path, item in documented_paths.items():
        paths[path] = item
    result["paths"] = dict(sorted(paths.items()))
    components = result.setdefault("components", {}).setdefault("schemas", {})
    components["Problem"] = PROBLEM
    for name, component in documented_schemas.items():
        components[name] = component
    error = {
        "description": ERRORS,
        "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}},
    }
    for item in result["paths"].values():
        for method in METHODS:
            if method in item:
                item[method].setdefault("responses", {}).setdefault("default", error)
    return result
