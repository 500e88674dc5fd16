"""Console page of the LTI tool: the platforms that launch Edu Vault (add, remove), what a
platform administrator pastes in, and the tool's keys."""

from __future__ import annotations

import structlog
from django.contrib import messages
from django.db.models import Count, Max
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from eduvault.integrations.lti import services as lti
from eduvault.integrations.lti.keys import tool_key_rotate
from eduvault.integrations.models import ToolKey
from eduvault.learning.lti.config import tool_config
from eduvault.learning.lti.models import LtiContext
from eduvault.learning.lti.views import public_url
from eduvault.operations.console.views import actor_of, staff_only

log = structlog.get_logger(__name__)


@staff_only
def lti_platforms(request: HttpRequest) -> HttpResponse:
    contexts = {
        row["source__name"]: row
        for row in LtiContext.objects.values("source__name").annotate(n=Count("pk"), last=Max("updated_at"))
    }
    platforms = [
        {"source": s, "contexts": contexts.get(s.name, {}).get("n", 0), "last": contexts.get(s.name, {}).get("last")}
        for s in lti.lti_platforms()
    ]
    return render(
        request,
        "console/lti.html",
        {
            "platforms": platforms,
            "config": tool_config(public_url(request, "/").rstrip("/")),
            "keys": ToolKey.objects.order_by("-created_at")[:20],
        },
    )


@staff_only
@require_POST
def lti_platform_add_view(request: HttpRequest) -> HttpResponse:
    form = request.POST
    source = lti.lti_platform_add(
        name=form.get("name", "").strip()[:64],
        issuer=form.get("issuer", "").strip()[:500],
        client_id=form.get("client_id", "").strip()[:255],
        auth_url=form.get("auth_url", "").strip()[:500],
        token_url=form.get("token_url", "").strip()[:500],
        jwks_url=form.get("jwks_url", "").strip()[:500],
        deployments=[d.strip() for d in form.get("deployments", "").split(",") if d.strip()][:100],
    )
    log.info("console.lti_platform_added", platform=source.name, actor=actor_of(request))
    messages.success(request, f"Registered the LTI platform {source.name} ({source.setting('issuer')}).")
    return redirect("console:lti")


@staff_only
@require_POST
def lti_platform_remove_view(request: HttpRequest, name: str) -> HttpResponse:
    lti.lti_platform_remove(name=name[:64])
    log.info("console.lti_platform_removed", platform=name[:64], actor=actor_of(request))
    messages.success(request, f"Removed the LTI platform {name}.")
    return redirect("console:lti")


@staff_only
@require_POST
def lti_key_rotate_view(request: HttpRequest) -> HttpResponse:
    key, older = tool_key_rotate()
    log.info("console.lti_key_rotated", kid=key.kid, actor=actor_of(request), still_published=len(older))
    messages.success(request, f"Key {key.kid} signs from now on; {len(older)} older key(s) stay published.")
    return redirect("console:lti")
