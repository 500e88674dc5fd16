"""The tool's endpoints: ``/lti/login`` (OIDC third-party initiated login, GET and POST),
``/lti/launch`` (the platform's form post of the id_token) and ``/lti/jwks`` (our keys).

Framed by LMS pages, posted to from the platform's origin: no CSRF cookie (the server-side
state is what binds a launch to its login), no frame ban. A refused login or launch is a
4xx page saying why, one log line with the reason, and nothing stored."""

from __future__ import annotations

import structlog
from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import render
from django.views.decorators.clickjacking import xframe_options_exempt
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from eduvault.integrations.lti.keys import tool_jwks
from eduvault.integrations.lti.services import launch_accept, login_begin
from eduvault.kernel.errors import Conflict, EduVaultError, InvalidInput
from eduvault.integrations.lti.claims import DEEP_LINKING_REQUEST
from eduvault.learning.lti.attempts import answer_post, attempt_open, page_get, submit_post
from eduvault.learning.lti.deep_linking import deep_link_response, picker_of
from eduvault.learning.lti.services import launch_land

log = structlog.get_logger(__name__)


def public_url(request: HttpRequest, path: str) -> str:
    """Where the platform reaches the tool: ``EDUVAULT_PUBLIC_URL`` when it is set, else
    where this request came (behind a proxy, only as its trusted headers say)."""
    base = settings.EDUVAULT_PUBLIC_URL.rstrip("/")
    return f"{base}{path}" if base else request.build_absolute_uri(path)


def _refused(request: HttpRequest, exc: EduVaultError, step: str) -> HttpResponse:
    status = exc.status if 400 <= exc.status < 600 else 400
    log.warning(f"lti.{step.replace(' ', '_')}_refused", reason=exc.detail, status=status)
    return render(request, "lti/refused.html", {"reason": exc.detail, "step": step}, status=status)


@csrf_exempt
@xframe_options_exempt
@require_http_methods(["GET", "POST"])
def login(request: HttpRequest) -> HttpResponse:
    params = {k: v for k, v in (request.POST if request.method == "POST" else request.GET).items()}
    try:
        target = login_begin(params=params, launch_url=public_url(request, "/lti/launch"))
    except EduVaultError as exc:
        return _refused(request, exc, "login")
    return HttpResponseRedirect(target)


@csrf_exempt
@xframe_options_exempt
@require_POST
def launch(request: HttpRequest) -> HttpResponse:
    try:
        source, claims = launch_accept(
            id_token=request.POST.get("id_token", ""), state=request.POST.get("state", "")
        )
        landed = launch_land(source=source, claims=claims)
        if landed.message_type == DEEP_LINKING_REQUEST:
            return render(request, "lti/picker.html", {"picker": picker_of(landed)})
        if landed.assessment is not None and landed.role == "learner":
            return render(request, "lti/attempt.html", {"page": attempt_open(landed)})
    except EduVaultError as exc:
        return _refused(request, exc, "launch")
    return render(request, "lti/launched.html", {"landed": landed})


@csrf_exempt
@xframe_options_exempt
@require_http_methods(["GET", "POST"])
def attempt_answer_view(request: HttpRequest) -> HttpResponse:
    """One answer (POST), or the page as it is (GET ``?t=``): the credential is in the form."""
    if request.method == "GET":
        try:
            return render(request, "lti/attempt.html", {"page": page_get(credential=request.GET.get("t", "")[:2000])})
        except EduVaultError as exc:
            return _refused(request, exc, "attempt")
    credential = request.POST.get("t", "")[:2000]
    position = request.POST.get("position", "")
    try:
        if not position.isdigit():
            raise InvalidInput("no question named")
        page = answer_post(
            credential=credential,
            position=int(position),
            client_id=request.POST.get("client_id", "")[:100],
            form=request.POST,
        )
    except (InvalidInput, Conflict) as exc:  # the learner can answer again: the page stays
        try:
            page = page_get(credential=credential)
        except EduVaultError as again:
            return _refused(request, again, "attempt")
        return render(request, "lti/attempt.html", {"page": page, "error": exc.detail}, status=exc.status)
    except EduVaultError as exc:
        return _refused(request, exc, "attempt")
    return render(request, "lti/attempt.html", {"page": page})


@csrf_exempt
@xframe_options_exempt
@require_POST
def attempt_submit_view(request: HttpRequest) -> HttpResponse:
    try:
        page = submit_post(credential=request.POST.get("t", "")[:2000])
    except EduVaultError as exc:
        return _refused(request, exc, "attempt")
    return render(request, "lti/attempt.html", {"page": page})


@csrf_exempt
@xframe_options_exempt
@require_POST
def deep_link(request: HttpRequest) -> HttpResponse:
    """The instructor's picks: the signed response, posted back to the platform."""
    try:
        answer = deep_link_response(
            credential=request.POST.get("credential", "")[:4000],
            picked=request.POST.getlist("assessment")[:100],
            launch_url=public_url(request, "/lti/launch"),
        )
    except EduVaultError as exc:
        return _refused(request, exc, "deep link")
    log.info("lti.deep_linked", picked=len(request.POST.getlist("assessment")))
    return render(request, "lti/return.html", answer)


@require_GET
def jwks(request: HttpRequest) -> JsonResponse:
    response = JsonResponse(tool_jwks())
    response["Cache-Control"] = "public, max-age=300"
    return response
