"""Request-level middleware: a request id in every log line, and a bound on body size."""

from __future__ import annotations

import io
import re
import uuid
from collections.abc import Callable, Mapping
from typing import Any

import structlog
from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.conf import settings
from django.core.handlers.wsgi import LimitedStream
from django.http import HttpRequest, HttpResponse

from eduvault.kernel.errors import EduVaultError, InvalidInput
from eduvault.kernel.problems import problem_for, problem_response

log = structlog.get_logger(__name__)

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


class _DualMode:
    """A middleware that runs in whichever mode its neighbours do (sync under WSGI, async
    under ASGI), so a request does not hop between threads at every middleware."""

    sync_capable = True
    async_capable = True

    def __init__(self, get_response: Callable[[HttpRequest], Any]) -> None:
        self.get_response = get_response
        self.is_async = iscoroutinefunction(get_response)
        if self.is_async:
            markcoroutinefunction(self)

    def __call__(self, request: HttpRequest) -> Any:
        if self.is_async:
            return self._acall(request)
        early = self.before(request)
        return early if early is not None else self.after(request, self.get_response(request))

    async def _acall(self, request: HttpRequest) -> HttpResponse:
        early = self.before(request)
        return early if early is not None else self.after(request, await self.get_response(request))

    def before(self, request: HttpRequest) -> HttpResponse | None:
        return None

    def after(self, request: HttpRequest, response: HttpResponse) -> HttpResponse:
        return response


def request_context_bind(incoming: str) -> str:
    """The request's id (the caller's ``X-Request-ID`` if sane, else a new one), bound to
    the logging context from now on."""
    request_id = incoming if _REQUEST_ID.match(incoming) else uuid.uuid4().hex
    structlog.contextvars.clear_contextvars()
    structlog.contextvars.bind_contextvars(request_id=request_id)
    return request_id


class RequestContextMiddleware(_DualMode):
    """Bind a request id (the caller's ``X-Request-ID`` if sane, else a new one) to the
    logging context, and echo it in the response."""

    def before(self, request: HttpRequest) -> None:
        request.request_id = request_context_bind(request.headers.get("X-Request-ID", ""))  # type: ignore[attr-defined]

    def after(self, request: HttpRequest, response: HttpResponse) -> HttpResponse:
        response["X-Request-ID"] = request.request_id  # type: ignore[attr-defined]
        return response


class RequestSizeLimitMiddleware(_DualMode):
    """Bound what a request may bring before anything reads it.

    - A body over ``EDUVAULT_MAX_REQUEST_BYTES`` is a 413, whether its length is declared
      (``Content-Length``) or not (``Transfer-Encoding: chunked``: the body is read here, up
      to one byte past the limit, so a signed webhook verifies whatever its framing).
    - A NUL character in the path or in a query parameter is a 400: no database column
      stores it (PostgreSQL's text refuses it).
    """

    def before(self, request: HttpRequest) -> HttpResponse | None:
        if "\x00" in request.path:
            return _refuse(request, 400, "Bad request", "The path contains a NUL character.")
        for name, values in request.GET.lists():
            if "\x00" in name or any("\x00" in v for v in values):
                shown = name.replace("\x00", "\\0")[:40]
                return _refuse(
                    request, 400, "Bad request", f"The query parameter {shown!r} contains a NUL character."
                )
        try:
            length = body_length(request.META)
            if length is None:  # sent chunked: read here, and handed on as if it had a length
                stream = request.META.get("wsgi.input")
                # (Under the ASGI handler the whole body has been read already.)
                body = body_unframed(io.BytesIO(request.body) if stream is None else stream)
                request._stream = LimitedStream(io.BytesIO(body), len(body))  # type: ignore[attr-defined]
                request.META["CONTENT_LENGTH"] = str(len(body))
        except EduVaultError as exc:
            return problem_for(exc, request.path)
        return None


class RequestBodyTooLarge(EduVaultError):
    status = 413
    title = "Request body too large"

    def __init__(self, what: str) -> None:
        limit = settings.EDUVAULT_MAX_REQUEST_BYTES
        super().__init__(f"{what}; at most {limit:,} bytes are accepted.")


def body_length(meta: Mapping[str, Any]) -> int | None:
    """A request's body length by its headers (WSGI ``meta``): 0 for no body, None when it
    is sent chunked (read it with :func:`body_unframed`). One rule for every way in (the
    middleware, the lean routes): over ``EDUVAULT_MAX_REQUEST_BYTES`` is a 413."""
    declared = meta.get("CONTENT_LENGTH") or ""
    if not declared:
        return None if "chunked" in meta.get("HTTP_TRANSFER_ENCODING", "").lower() else 0
    try:
        length = int(declared)
    except ValueError:
        raise InvalidInput("The Content-Length header is not a number.") from None
    if length > settings.EDUVAULT_MAX_REQUEST_BYTES:
        raise RequestBodyTooLarge(f"The body is {length:,} bytes")
    return length


def body_unframed(stream: Any) -> bytes:
    """A body sent without a length, read up to one byte past the bound (then a 413)."""
    limit = settings.EDUVAULT_MAX_REQUEST_BYTES
    body = stream.read(limit + 1)
    if len(body) > limit:
        raise RequestBodyTooLarge("The body (sent chunked) is larger than that")
    return body


def _refuse(request: HttpRequest, status: int, title: str, detail: str) -> HttpResponse:
    log.info("api.problem", status=status, problem=title, detail=detail, path=request.path)
    return problem_response(status, title, detail, instance=request.path)


def client_address(request: HttpRequest) -> str:
    """The client's address: the connection's peer, or, behind a proxy listed in
    ``EDUVAULT_TRUSTED_PROXIES``, the address that proxy reports (``eduvault serve`` has
    already put it in ``REMOTE_ADDR``). Never a header the client could set itself."""
    return str(request.META.get("REMOTE_ADDR") or "")
