"""Console pages: thin views over the selectors and services the API and CLI use too.

Only signed-in staff (admins) reach them; API tokens and learners' JWTs are not sessions,
so they never do. Every form posts with a CSRF token; every value is escaped by the
templates (nothing from a source is marked safe).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from functools import wraps
from typing import Any
from urllib.parse import urlencode

import structlog
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth import views as auth_views
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.views.decorators.http import require_POST

from eduvault.cores.coursetree import OPS
from eduvault.identity.throttling import sign_in_check, sign_in_failed, sign_in_succeeded
from eduvault.integrations.models import Source
from eduvault.kernel.errors import EduVaultError, InvalidInput, TooManyAttempts
from eduvault.kernel.middleware import client_address
from eduvault.kernel.problems import problem_of
from eduvault.kernel.validation import whole_number
from eduvault.operations.console import selectors
from eduvault.operations.console.charts import stacked_bars
from eduvault.operations.monitoring.selectors import (
    QUEUE_STATES,
    delivery_counts,
    queue_counts,
    source_health_list,
    sync_activity,
)
from eduvault.pipeline.content.models import Course
from eduvault.pipeline.content.selectors import course_get
from eduvault.pipeline.feed.selectors import subscriptions_health
from eduvault.pipeline.feed.webhooks import subscription_enable, subscription_get
from eduvault.pipeline.inbox.models import InboundEvent
from eduvault.pipeline.inbox.selectors import event_get, event_list
from eduvault.pipeline.inbox.services import events_replay
from eduvault.pipeline.outbox.models import Delivery
from eduvault.pipeline.outbox.selectors import delivery_get, delivery_list
from eduvault.pipeline.outbox.services import deliveries_replay
from eduvault.pipeline.records.selectors import records_summary
from eduvault.pipeline.sync.models import SyncRun
from eduvault.pipeline.sync.selectors import course_tree_at, run_get
from eduvault.pipeline.sync.services import course_rollback

log = structlog.get_logger(__name__)

View = Callable[..., HttpResponse]


def staff_only(view: View) -> View:
    """Signed-in staff only: others are sent to sign in, or refused (403). Errors of the
    domain are shown as a page with their status, not a stack trace."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        user = request.user
        if not user.is_authenticated:
            return redirect_to_login(request.get_full_path(), reverse("console:login"))
        if not (user.is_active and user.is_staff):
            log.warning("console.refused", user=user.get_username(), path=request.path)
            return render(
                request,
                "console/error.html",
                {"status": 403, "detail": "The console is for staff."},
                status=403,
            )
        try:
            return view(request, *args, **kwargs)
        except EduVaultError as exc:
            problem = problem_of(exc)
            assert problem is not None
            log.info("console.error", path=request.path, error=problem.detail, error_code=type(exc).__name__)
            return render(
                request,
                "console/error.html",
                {"status": problem.status, "detail": problem.detail},
                status=problem.status,
            )

    return wrapped


class LoginView(auth_views.LoginView):
    """Staff sign in; failures are throttled per account and per address, as the API's."""

    template_name = "console/login.html"
    authentication_form = AdminAuthenticationForm  # active staff only
    redirect_authenticated_user = True

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            sign_in_check(username=self._username(), address=client_address(request))
        except TooManyAttempts as exc:
            response = render(
                request, "console/error.html", {"status": exc.status, "detail": exc.detail}, status=exc.status
            )
            response["Retry-After"] = str(int(exc.retry_after))
            return response
        return super().post(request, *args, **kwargs)

    def _username(self) -> str:
        return str(self.request.POST.get("username", ""))[:150]

    def form_valid(self, form: Any) -> HttpResponse:
        sign_in_succeeded(username=self._username())
        return super().form_valid(form)

    def form_invalid(self, form: Any) -> HttpResponse:
        address = client_address(self.request)
        sign_in_failed(username=self._username(), address=address)
        log.info("console.sign_in_failed", username=self._username(), address=address)
        return super().form_invalid(form)

    def get_default_redirect_url(self) -> str:
        return reverse("console:overview")


class LogoutView(auth_views.LogoutView):
    next_page = "console:login"


def actor_of(request: HttpRequest) -> str:
    return f"console:{request.user.get_username()}"


def _when(value: str | None, name: str) -> datetime | None:
    if not value:
        return None
    parsed = parse_datetime(value) or parse_datetime(f"{value}T00:00:00")
    if parsed is None:
        raise InvalidInput(f"{name}: give a date (2026-05-01) or a date and time (2026-05-01T08:00)")
    return timezone.make_aware(parsed) if timezone.is_naive(parsed) else parsed


# -- overview ------------------------------------------------------------------------------------


@staff_only
def overview(request: HttpRequest) -> HttpResponse:
    hours = sync_activity(hours=24)
    bars, top = stacked_bars(
        [
            (
                timezone.localtime(h.start).strftime("%H:00"),
                {"applied": h.applied, "unchanged": h.unchanged, "failed": h.failed},
            )
            for h in hours
        ],
        order=("applied", "unchanged", "failed"),
    )
    return render(
        request,
        "console/overview.html",
        {
            "sources": source_health_list(),
            "queues": queue_counts(),
            "queue_states": QUEUE_STATES,
            "bars": bars,
            "top": top,
            "syncs_24h": sum(h.total for h in hours),
            "failures_24h": sum(h.failed for h in hours),
            "records": _sorted_kinds(records_summary()),
        },
    )


def _sorted_kinds(summary: dict[str, Any]) -> dict[str, Any]:
    return {**summary, "by_kind": dict(sorted(summary["by_kind"].items()))}


# -- runs ------------------------------------------------------------------------------------------


@staff_only
def runs(request: HttpRequest) -> HttpResponse:
    q = request.GET
    filters = {
        "course": q.get("course", "").strip(),
        "outcome": q.get("outcome", ""),
        "since": _when(q.get("since"), "since"),
        "until": _when(q.get("until"), "until"),
    }
    if filters["outcome"] and filters["outcome"] not in SyncRun.Outcome.values:
        raise InvalidInput(f"outcome: one of {', '.join(SyncRun.Outcome.values)}")
    page, more = selectors.keyset(selectors.runs_filtered(**filters), whole_number(q.get("before"), "before"))
    return render(
        request,
        "console/runs.html",
        {"runs": page, "more": more, "q": q, "outcomes": SyncRun.Outcome.values},
    )


@staff_only
def run(request: HttpRequest, run_id: int) -> HttpResponse:
    found = run_get(run_id=run_id)
    return render(
        request,
        "console/run.html",
        {
            "run": found,
            "changes": selectors.run_change_lines(found),
            "events": list(
                InboundEvent.objects.filter(
                    subject="course", subject_key=found.course_key, source=found.source, result__run=found.pk
                )
                .select_related("source")
                .order_by("id")[:50]
            ),
        },
    )


# -- courses ---------------------------------------------------------------------------------------


@staff_only
def courses(request: HttpRequest) -> HttpResponse:
    return render(
        request, "console/courses.html", {"courses": Course.objects.select_related("source").order_by("key")}
    )


@staff_only
def course(request: HttpRequest, key: str) -> HttpResponse:
    found = course_get(key=key)
    tree = course_tree_at(course=found) if found.version else None
    history = list(
        SyncRun.objects.filter(course=found).exclude(outcome=SyncRun.Outcome.UNCHANGED).order_by("-id")[:100]
    )
    return render(
        request,
        "console/course.html",
        {
            "course": found,
            "rows": selectors.tree_rows(tree) if tree is not None else [],
            "history": history,
            "versions": list(range(found.version, 0, -1)),
        },
    )


@staff_only
def course_diff(request: HttpRequest, key: str) -> HttpResponse:
    found = course_get(key=key)
    old = whole_number(request.GET.get("from"), "from") or max(found.version - 1, 1)
    new = whole_number(request.GET.get("to"), "to") or found.version
    changes = selectors.versions_diff(course=found, from_version=old, to_version=new)
    return render(
        request,
        "console/diff.html",
        {
            "course": found,
            "old": old,
            "new": new,
            "changes": changes,
            "versions": list(range(found.version, 0, -1)),
        },
    )


@staff_only
def course_rollback_view(request: HttpRequest, key: str) -> HttpResponse:
    """GET: what rolling back would change, and a confirmation; POST: do it."""
    found = course_get(key=key)
    source = request.POST if request.method == "POST" else request.GET
    target = whole_number(source.get("to"), "to")
    if target is None:
        raise InvalidInput("to: choose the version to roll back to")
    if request.method == "POST":
        done = course_rollback(
            course_key=found.key,
            to_version=target,
            actor=actor_of(request),
            source=found.source.name if found.source else None,
        )
        log.info(
            "console.rollback", course=found.key, to_version=target, run=done.pk, actor=actor_of(request)
        )
        return redirect("console:run", run_id=done.pk)
    changes = selectors.versions_diff(course=found, from_version=found.version, to_version=target)
    return render(request, "console/rollback.html", {"course": found, "target": target, "changes": changes})


# -- failures and replay ---------------------------------------------------------------------------


FAILURE_STATES = ("dead", "failed")


@staff_only
def events(request: HttpRequest) -> HttpResponse:
    q = request.GET
    status = q.get("status", "dead")
    if status not in (*InboundEvent.Status.values, "any"):
        raise InvalidInput(f"status: one of {', '.join(InboundEvent.Status.values)} or any")
    source = _source(q.get("source", ""))
    rows = event_list(
        status=None if status == "any" else status, source=source, subject_key=q.get("course", "").strip()
    )
    page, more = selectors.keyset(rows, whole_number(q.get("before"), "before"))
    return render(
        request,
        "console/events.html",
        {
            "events": page,
            "more": more,
            "q": q,
            "status": status,
            "statuses": [*InboundEvent.Status.values, "any"],
            "sources": Source.objects.order_by("name"),
            "replayed": whole_number(q.get("replayed"), "replayed"),
        },
    )


def _source(name: str) -> Source | None:
    if not name:
        return None
    found = Source.objects.filter(name=name).first()
    if found is None:
        raise InvalidInput(f"source: no source named {name[:64]!r}")
    return found


@staff_only
def event(request: HttpRequest, event_id: int) -> HttpResponse:
    found = event_get(event_id=event_id)
    run_id = found.result.get("run") if isinstance(found.result, dict) else None
    run = SyncRun.objects.filter(pk=run_id).first() if isinstance(run_id, int) else None
    return render(request, "console/event.html", {"event": found, "run": run})


@staff_only
@require_POST
def event_replay(request: HttpRequest, event_id: int) -> HttpResponse:
    found = event_get(event_id=event_id)
    events_replay(ids=[found.pk])
    log.info("console.replay", events=1, event_pk=found.pk, actor=actor_of(request))
    return redirect("console:event", event_id=found.pk)


@staff_only
@require_POST
def events_replay_matching(request: HttpRequest) -> HttpResponse:
    status = request.POST.get("status", "")
    if status not in FAILURE_STATES:
        raise InvalidInput("status: replay dead letters (dead) or permanent failures (failed)")
    source = _source(request.POST.get("source", ""))
    course_key = request.POST.get("course", "").strip()
    matching = event_list(status=status, source=source, subject_key=course_key)
    replayed = events_replay(ids=list(matching.values_list("pk", flat=True)))
    log.info("console.replay", events=len(replayed), status=status, actor=actor_of(request))
    return redirect(f"{reverse('console:events')}?status=any&replayed={len(replayed)}")


# -- audit ------------------------------------------------------------------------------------------


@staff_only
def audit(request: HttpRequest) -> HttpResponse:
    q = request.GET
    op = q.get("op", "")
    if op and op not in OPS:
        raise InvalidInput(f"op: one of {', '.join(OPS)}")
    rows = selectors.audit_filtered(
        course=q.get("course", "").strip(),
        node=q.get("node", "").strip(),
        op=op,
        actor=q.get("actor", "").strip(),
        since=_when(q.get("since"), "since"),
        until=_when(q.get("until"), "until"),
    )
    page, more = selectors.keyset(rows, whole_number(q.get("before"), "before"), field="cursor")
    return render(
        request,
        "console/audit.html",
        {"changes": selectors.audit_rows(page), "more": more, "q": q, "ops": OPS},
    )


# -- subscriptions -----------------------------------------------------------------------------------


@staff_only
def subscriptions(request: HttpRequest) -> HttpResponse:
    counts = delivery_counts()
    health = [
        (s, counts.get((s["name"], "ok"), 0), counts.get((s["name"], "failed"), 0))
        for s in subscriptions_health()
    ]
    return render(request, "console/subscriptions.html", {"subscriptions": health})


@staff_only
@require_POST
def subscription_reenable(request: HttpRequest, subscription_id: int) -> HttpResponse:
    found = subscription_get(name_or_id=subscription_id)
    subscription_enable(subscription=found)
    log.info("console.subscription_enabled", subscription=found.name, actor=actor_of(request))
    return redirect("console:subscriptions")


# -- deliveries (the outbox) ---------------------------------------------------------------------------


@staff_only
def deliveries(request: HttpRequest) -> HttpResponse:
    q = request.GET
    status = q.get("status", "")
    rows = delivery_list(
        status=status or None,
        target=q.get("target", "").strip() or None,
        channel=q.get("channel", "").strip() or None,
    )
    page, more = selectors.keyset(rows, whole_number(q.get("before"), "before"))
    return render(
        request,
        "console/deliveries.html",
        {
            "deliveries": page,
            "more": more,
            "q": q,
            "statuses": Delivery.Status.values,
            "counts": selectors.outbox_overview(),
            "targets": selectors.outbox_by_target(),
            "replayed": whole_number(q.get("replayed"), "replayed"),
        },
    )


@staff_only
def delivery(request: HttpRequest, delivery_id: int) -> HttpResponse:
    found = delivery_get(delivery_id=delivery_id)
    attempts = list(found.attempt_log.order_by("-id")[:50])
    return render(request, "console/delivery.html", {"d": found, "attempts": attempts})


@staff_only
@require_POST
def deliveries_replay_view(request: HttpRequest) -> HttpResponse:
    """Replay one delivery (``id``), or every delivery with a status (``dead`` or ``failed``),
    optionally of one target and channel (a platform's dead grade deliveries)."""
    delivery_id = whole_number(request.POST.get("id"), "id")
    target = request.POST.get("target", "").strip()[:200]
    channel = request.POST.get("channel", "").strip()[:50]
    if delivery_id is not None:
        delivery_get(delivery_id=delivery_id)
        replayed = deliveries_replay(ids=[delivery_id])
        target = channel = ""
    else:
        status = request.POST.get("status", "")
        if status not in ("dead", "failed"):
            raise InvalidInput("status: replay dead or failed deliveries")
        replayed = deliveries_replay(status=status, target=target or None, channel=channel or None)
    log.info(
        "console.deliveries_replayed",
        deliveries=len(replayed),
        target=target or None,
        channel=channel or None,
        actor=actor_of(request),
    )
    return redirect(
        f"{reverse('console:deliveries')}?{urlencode({'replayed': len(replayed), 'target': target, 'channel': channel})}"
    )
