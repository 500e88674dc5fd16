"""Console page of offline school devices: each device's courses, when it last synced, how far
its clock was from the server's, attempts flagged by that, transfers left open by a cut, what
came up and went down each day; pairing a device (its code shown once) and revoking one."""

from __future__ import annotations

from collections import defaultdict
from datetime import timedelta

from django.conf import settings
from django.contrib import messages
from django.db.models import Count, Sum
from django.db.models.functions import TruncDate
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from eduvault.kernel.errors import NotFound
from eduvault.learning.assessments.models import Attempt
from eduvault.learning.devices.models import TransferSession
from eduvault.learning.devices.services import device_add, device_list, device_revoke
from eduvault.operations.console.charts import stacked_bars
from eduvault.operations.console.views import actor_of, staff_only

DAYS = 14


@staff_only
def devices(request: HttpRequest) -> HttpResponse:
    rows = device_list()
    since = timezone.now() - timedelta(days=DAYS)
    moved: dict[tuple[int, str], int] = {}
    for device_id, direction, up, down in (
        TransferSession.objects.filter(device__isnull=False, state=TransferSession.State.DONE)
        .values("device_id", "direction")
        .annotate(up=Sum("applied_records"), down=Sum("records"))
        .values_list("device_id", "direction", "up", "down")
    ):
        moved[(device_id, direction)] = (up if direction == "push" else down) or 0
    open_sessions = dict(
        TransferSession.objects.filter(device__isnull=False, state=TransferSession.State.OPEN)
        .values_list("device_id")
        .annotate(n=Count("id"))
        .values_list("device_id", "n")
    )
    flagged = dict(
        Attempt.objects.exclude(flags=[]).exclude(origin="").values_list("origin").annotate(n=Count("id")).values_list("origin", "n")
    )
    tolerance = settings.EDUVAULT_DEVICE_CLOCK_TOLERANCE_SECONDS
    table = [
        {
            "device": d,
            "courses": sorted(c.key for c in d.courses.all()),
            "up": moved.get((d.pk, "push"), 0),
            "down": moved.get((d.pk, "pull"), 0),
            "open": open_sessions.get(d.pk, 0),
            "flagged": flagged.get(d.replica, 0),
            "skewed": d.clock_skew_seconds is not None and abs(d.clock_skew_seconds) > tolerance,
        }
        for d in rows
    ]
    per_day: dict[str, dict[str, int]] = defaultdict(dict)
    for day, direction, up, down in (
        TransferSession.objects.filter(device__isnull=False, state=TransferSession.State.DONE, started_at__gte=since)
        .annotate(day=TruncDate("started_at"))
        .values("day", "direction")
        .annotate(up=Sum("applied_records"), down=Sum("records"))
        .values_list("day", "direction", "up", "down")
    ):
        series = "up" if direction == "push" else "down"
        per_day[day.isoformat()][series] = per_day[day.isoformat()].get(series, 0) + ((up if series == "up" else down) or 0)
    today = timezone.localdate()
    columns = [
        ((today - timedelta(days=i)).strftime("%m-%d"), per_day.get((today - timedelta(days=i)).isoformat(), {}))
        for i in range(DAYS - 1, -1, -1)
    ]
    bars, top = stacked_bars(columns, order=("up", "down"), width=560, height=140)
    total_up = sum(v.get("up", 0) for _, v in columns)
    total_down = sum(v.get("down", 0) for _, v in columns)
    return render(
        request,
        "console/devices.html",
        {
            "rows": table,
            "bars": bars,
            "top": top,
            "days": DAYS,
            "tolerance": int(tolerance),
            "described": f"{total_up} records up and {total_down} down in {DAYS} days",
        },
    )


@staff_only
@require_POST
def device_add_view(request: HttpRequest) -> HttpResponse:
    name = request.POST.get("name", "").strip()[:100]
    courses = [c.strip() for c in request.POST.get("courses", "").replace(",", " ").split() if c.strip()][:50]
    added = device_add(name=name, course_keys=courses, actor=actor_of(request))
    messages.success(
        request,
        f"Device {added.device.name} added. On it run: eduvault device join SERVER_URL {added.code} "
        "(the code is shown this once and pairs one device, within 7 days).",
    )
    return redirect("console:devices")


@staff_only
@require_POST
def device_revoke_view(request: HttpRequest, device_id: int) -> HttpResponse:
    device = next((d for d in device_list() if d.pk == device_id), None)
    if device is None:
        raise NotFound(f"no device {device_id}")
    device = device_revoke(name=device.name, actor=actor_of(request))
    messages.success(request, f"Device {device.name} is revoked: it can no longer sync.")
    return redirect("console:devices")
