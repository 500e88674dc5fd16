"""Lean routes: the few hot endpoints (an exam's answers) answered ahead of Django's middleware,
URL resolver and DRF, with the guarantees those give every other request kept here:

- a request id (the caller's ``X-Request-ID`` if sane, else a new one) bound to the log
  lines and echoed; the same security headers as every response;
- the body bounded by ``EDUVAULT_MAX_REQUEST_BYTES`` (a declared length over it, or a
  chunked body, is refused before it is read), parsed by :func:`parse_json` (depth, NUL);
- errors as problem+json by :func:`problem_for`, one log line; an unexpected one logged with
  its traceback and answered 500;
- Django's ``request_started``/``request_finished`` signals, so database connections go back
  to the pool as after any request.

A route is registered by its app (``lean_routes.add``) with a handler taking a
:class:`LeanRequest` and returning ``(status, JSON-able body)``; the same handler serves the
app's ordinary view, so the two paths cannot drift apart. ``lean_wsgi`` puts the routes in
front of a WSGI application (`eduvault serve`'s threads).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import orjson
import structlog
from django.core import signals

from eduvault.kernel.errors import EduVaultError, InvalidInput
from eduvault.kernel.middleware import body_length, body_unframed, request_context_bind
from eduvault.kernel.problems import problem_body, problem_for
from eduvault.kernel.registry import Registry

log = structlog.get_logger(__name__)

#: What Django's security and clickjacking middleware add to every response.
SECURITY_HEADERS = (
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "same-origin"),
    ("Cross-Origin-Opener-Policy", "same-origin"),
    ("X-Frame-Options", "DENY"),
)

STATUS_TEXT = {
    200: "OK", 201: "Created", 400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found",
    409: "Conflict", 410: "Gone", 413: "Content Too Large", 415: "Unsupported Media Type",
    422: "Unprocessable Content", 429: "Too Many Requests", 500: "Internal Server Error",
    503: "Service Unavailable",
}


@dataclass
class LeanRequest:
    path: str
    #: The route's named groups.
    params: dict[str, str]
    #: Header names lower-cased.
    headers: Mapping[str, str]
    body: bytes

    def json(self) -> Any:
        from eduvault.kernel.bodies import parse_json

        if not self.body:
            raise InvalidInput("the body is empty: send a JSON object")
        return parse_json(self.body)


Handler = Callable[[LeanRequest], tuple[int, Any]]


@dataclass(frozen=True)
class LeanRoute:
    method: str
    pattern: re.Pattern[str]
    handler: Handler = field(compare=False)


lean_routes: Registry[LeanRoute] = Registry("lean route")


def _headers_of(environ: Mapping[str, Any]) -> dict[str, str]:
    headers = {k[5:].replace("_", "-").lower(): v for k, v in environ.items() if k.startswith("HTTP_")}
    if "CONTENT_TYPE" in environ:
        headers["content-type"] = environ["CONTENT_TYPE"]
    return headers


def _read_body(environ: Mapping[str, Any]) -> bytes:
    length = body_length(environ)
    stream = environ["wsgi.input"]
    if length is None:
        return body_unframed(stream)
    return stream.read(length) if length > 0 else b""


Answer = tuple[int, list[tuple[str, str]], bytes]


def _problem(exc: Exception, path: str) -> Answer:
    """The problem ``exc`` is, by :func:`problem_for` (one rendering of every error, as
    everywhere else); called while it is being handled, so a bug is logged with its trace."""
    response = problem_for(exc, path)
    if response is None:
        log.exception("api.error", path=path)
        body = orjson.dumps(problem_body(500, "Internal server error", "Something went wrong on our side."))
        return 500, [("Content-Type", "application/problem+json")], body
    headers = [(k, v) for k, v in response.items() if k.lower() != "content-length"]
    return response.status_code, headers, response.content


def serve(handler: Handler, request: LeanRequest) -> Answer:
    """Run ``handler``: its answer, or the problem it raised, as status, headers and body."""
    try:
        status, payload = handler(request)
        return status, [("Content-Type", "application/json")], orjson.dumps(payload)
    except Exception as exc:
        return _problem(exc, request.path)


def lean_wsgi(app: Callable[..., Iterable[bytes]]) -> Callable[..., Iterable[bytes]]:
    """``app`` with the registered lean routes answered in front of it."""
    table: list[LeanRoute] = []

    def dispatch(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if not table:
            table.extend(route for _, route in lean_routes.items())
        method, path = environ["REQUEST_METHOD"], environ.get("PATH_INFO", "")
        for route in table:
            if route.method == method and (match := route.pattern.fullmatch(path)):
                return _answer(route, match, environ, start_response)
        return app(environ, start_response)

    return dispatch


def _answer(
    route: LeanRoute, match: re.Match[str], environ: dict[str, Any], start_response: Callable[..., Any]
) -> Iterable[bytes]:
    request_id = request_context_bind(environ.get("HTTP_X_REQUEST_ID", ""))
    signals.request_started.send(sender=LeanRoute, environ=environ)
    try:
        path = environ.get("PATH_INFO", "")
        try:
            request = LeanRequest(path, match.groupdict(), _headers_of(environ), _read_body(environ))
        except EduVaultError as exc:
            status, headers, body = _problem(exc, path)
        else:
            status, headers, body = serve(route.handler, request)
    finally:
        signals.request_finished.send(sender=LeanRoute)
    start_response(
        f"{status} {STATUS_TEXT.get(status, 'Unknown')}",
        [*headers, ("Content-Length", str(len(body))), ("X-Request-ID", request_id), *SECURITY_HEADERS],
    )
    return [body]

