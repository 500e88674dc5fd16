"""Every error the API returns is a problem+json document (RFC 9457), rendered here once.

Views never catch domain errors: :class:`eduvault.kernel.errors.EduVaultError` and DRF's own
exceptions bubble up to :func:`exception_handler`, which logs the cause once and answers
with ``type``, ``title``, ``status``, ``detail`` and ``instance``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import structlog
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig
from django.http import Http404, HttpRequest, JsonResponse
from rest_framework import exceptions as drf

from eduvault.kernel.errors import EduVaultError, InvalidStructure, TooManyAttempts

log = structlog.get_logger(__name__)

PROBLEM_CONTENT_TYPE = "application/problem+json"


def _slug(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "-", name).lower()


def problem_body(
    status: int,
    title: str,
    detail: str,
    *,
    type_: str = "about:blank",
    instance: str | None = None,
    **extra: Any,
) -> dict[str, Any]:
    body: dict[str, Any] = {"type": type_, "title": title, "status": status, "detail": detail}
    if instance:
        body["instance"] = instance
    body.update(extra)
    return body


def problem_response(status: int, title: str, detail: str, **extra: Any) -> JsonResponse:
    """A problem+json response for code paths outside DRF (middleware, Django handlers)."""
    return JsonResponse(
        problem_body(status, title, detail, **extra), status=status, content_type=PROBLEM_CONTENT_TYPE
    )


def _drf_detail(exc: drf.APIException) -> tuple[str, dict[str, Any]]:
    detail = exc.detail
    if isinstance(detail, (list, dict)):
        errors = exc.get_full_details()
        flat = _flatten(detail)
        return (flat[0] if flat else "Invalid input."), {"errors": errors}
    return str(detail), {}


def _flatten(detail: Any, prefix: str = "") -> list[str]:
    if isinstance(detail, dict):
        out = []
        for key, value in detail.items():
            name = key if key != "non_field_errors" else ""
            out.extend(_flatten(value, f"{prefix}{name}: " if name else prefix))
        return out
    if isinstance(detail, list):
        return [m for item in detail for m in _flatten(item, prefix)]
    return [f"{prefix}{detail}"]


@dataclass(frozen=True)
class Problem:
    """An error as people and clients are told it (RFC 9457's fields)."""

    status: int
    title: str
    detail: str
    type: str = "about:blank"
    extra: dict[str, Any] = field(default_factory=dict)


def problem_of(exc: Exception) -> Problem | None:
    """What an exception means for whoever caused it, or None if it is not one we expect (a
    bug: it is logged with its traceback and answered 500). The one mapping of errors: the
    API renders it as problem+json, the console as a page, the command line as a line."""
    if isinstance(exc, EduVaultError):
        extra = {"problems": exc.problems} if isinstance(exc, InvalidStructure) else {}
        return Problem(
            exc.status, exc.title, exc.detail, f"urn:eduvault:problem:{_slug(type(exc).__name__)}", extra
        )
    if isinstance(exc, drf.NotAuthenticated):
        return Problem(401, "Unauthorized", "An API token is required: send 'Authorization: Bearer <token>'.")
    if isinstance(exc, drf.APIException):
        detail, extra = _drf_detail(exc)
        return Problem(exc.status_code, _drf_title(exc), detail, extra=extra)
    if isinstance(exc, Http404):
        return Problem(404, "Not found", str(exc) or "Not found.")
    if isinstance(exc, DjangoPermissionDenied):
        return Problem(403, "Forbidden", str(exc) or "Permission denied.")
    if isinstance(exc, RequestDataTooBig):
        return Problem(413, "Request body too large", str(exc))
    return None


def problem_for(exc: Exception, instance: str | None = None) -> JsonResponse | None:
    """The problem+json response for an exception, or None if it is not one we expect."""
    problem = problem_of(exc)
    if problem is None:
        return None  # a bug: let Django log it and answer 500
    log.info(
        "api.problem", status=problem.status, problem=type(exc).__name__, detail=problem.detail, path=instance
    )
    # A plain JSON response, not a DRF Response: a problem is JSON whatever renderer the
    # view negotiated (the schema view would otherwise render it as YAML).
    response = problem_response(
        problem.status, problem.title, problem.detail, type_=problem.type, instance=instance, **problem.extra
    )
    if isinstance(exc, TooManyAttempts):
        response["Retry-After"] = str(int(exc.retry_after))
    if isinstance(exc, drf.APIException):
        if getattr(exc, "auth_header", None):
            response["WWW-Authenticate"] = exc.auth_header  # type: ignore[attr-defined]
        if getattr(exc, "wait", None) is not None:
            response["Retry-After"] = str(int(exc.wait))  # type: ignore[attr-defined]
    elif problem.status == 401:
        response["WWW-Authenticate"] = 'Bearer realm="eduvault"'
    return response


def exception_handler(exc: Exception, context: dict[str, Any]) -> JsonResponse | None:
    """DRF's exception handler: every error a DRF view raises, as problem+json."""
    request = context.get("request")
    return problem_for(exc, request.get_full_path() if request is not None else None)


def _drf_title(exc: drf.APIException) -> str:
    titles = {
        400: "Bad request",
        401: "Unauthorized",
        403: "Forbidden",
        404: "Not found",
        405: "Method not allowed",
        406: "Not acceptable",
        415: "Unsupported media type",
        429: "Too many requests",
    }
    return titles.get(exc.status_code, "Error")


def not_found(request: HttpRequest, exception: Exception | None = None) -> JsonResponse:
    """handler404 for paths outside DRF views."""
    return problem_response(404, "Not found", f"Nothing is served at {request.path}.", instance=request.path)


def server_error(request: HttpRequest) -> JsonResponse:
    """handler500: the cause is in the log, under this request's id."""
    request_id = getattr(request, "request_id", "")
    return problem_response(
        500,
        "Internal server error",
        f"Something went wrong on our side; the log has the cause under request id {request_id}.",
        instance=request.path,
    )
