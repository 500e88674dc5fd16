"""Request-level middleware: a request id in every log line, and a bound on body size."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from typing import Any

import structlog
from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.conf import settings
from django.http import HttpRequest, HttpResponse

from eduvault.core.problems import problem_response

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


class RequestContextMiddleware(_DualMode):
    """Bind a request id (the caller's ``X-Request-ID`` if sane, else a new one) to the
    logging context, and echo it in the response."""

    def before(self, request: HttpRequest) -> None:
        incoming = request.headers.get("X-Request-ID", "")
        request_id = incoming if _REQUEST_ID.match(incoming) else uuid.uuid4().hex
        request.request_id = request_id  # type: ignore[attr-defined]
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(request_id=request_id)

    def after(self, request: HttpRequest, response: HttpResponse) -> HttpResponse:
        response["X-Request-ID"] = request.request_id  # type: ignore[attr-defined]
        return response


class RequestSizeLimitMiddleware(_DualMode):
    """Refuse bodies over ``EDUVAULT_MAX_REQUEST_BYTES`` with 413 before anything reads them."""

    def before(self, request: HttpRequest) -> HttpResponse | None:
        limit = settings.EDUVAULT_MAX_REQUEST_BYTES
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return problem_response(400, "Bad request", "The Content-Length header is not a number.")
        if length > limit:
            return problem_response(
                413,
                "Request body too large",
                f"The body is {length:,} bytes; at most {limit:,} are accepted.",
            )
        return None


def client_address(request: HttpRequest) -> str:
    """The client's address: the connection's peer, or, behind a proxy listed in
    ``EDUVAULT_TRUSTED_PROXIES``, the address that proxy reports (``eduvault serve`` has
    already put it in ``REMOTE_ADDR``). Never a header the client could set itself."""
    return str(request.META.get("REMOTE_ADDR") or "")
