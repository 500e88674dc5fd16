"""``/healthz``, ``/readyz`` and ``/metrics``: plain Django views (no content negotiation:
probes and Prometheus get exactly one format)."""

from __future__ import annotations

import structlog
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.http import require_GET

from eduvault.identity.services import token_authenticate
from eduvault.kernel.errors import AuthenticationFailed
from eduvault.kernel.problems import problem_response
from eduvault.operations.monitoring.metrics import metrics_text
from eduvault.operations.monitoring.selectors import readiness

log = structlog.get_logger(__name__)

PROMETHEUS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


@require_GET
def healthz(request: HttpRequest) -> HttpResponse:
    """The process is alive and serving. Unauthenticated, as probes are; it says nothing else."""
    return JsonResponse({"status": "ok"})


@require_GET
def readyz(request: HttpRequest) -> HttpResponse:
    """The database (and the broker, when one is configured) can be reached; 503 naming
    what cannot."""
    checks = readiness()
    down = sorted(name for name, result in checks.items() if result != "ok")
    if down:
        log.warning("readiness.failed", down=down, checks=checks)
        return problem_response(503, "Not ready", f"cannot reach: {', '.join(down)}", checks=checks)
    return JsonResponse({"status": "ready", "checks": checks})


def _may_scrape(request: HttpRequest) -> bool:
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated and user.is_staff:
        return True
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer" or not value:
        return False
    try:
        return token_authenticate(value=value.strip()).is_admin
    except AuthenticationFailed:
        return False


@require_GET
def metrics(request: HttpRequest) -> HttpResponse:
    """Prometheus metrics, for an admin API token (``Authorization: Bearer …``) or a
    signed-in staff member."""
    if not _may_scrape(request):
        response = problem_response(
            401, "Authentication required", "Send an admin API token: 'Authorization: Bearer <token>'."
        )
        response["WWW-Authenticate"] = 'Bearer realm="eduvault"'
        return response
    return HttpResponse(metrics_text(), content_type=PROMETHEUS_CONTENT_TYPE)
