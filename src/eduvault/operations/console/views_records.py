"""Console pages of the learner-records hub: people and their identities on every platform
(the held ones, for an operator to link), learner records with their replicas, open
conflicts and field history, and the policies in force.

Thin like the rest of the console: parse, call the records layer's selectors or one of its
services, render. Every action is a POST form with a CSRF token for signed-in staff; a bad
value is a page saying what is wrong, and changes nothing.
"""

from __future__ import annotations

import json
from typing import Any

import structlog
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from eduvault.cores.records.policy import KINDS
from eduvault.identity.models import IdentityEvent
from eduvault.identity.people import identity_unlink
from eduvault.kernel.errors import Conflict, InvalidInput
from eduvault.kernel.validation import whole_number
from eduvault.operations.console import selectors
from eduvault.operations.console.charts import horizontal_bars
from eduvault.operations.console.views import actor_of, staff_only
from eduvault.pipeline.records.people import identity_event_undo, identity_link, identity_person_create
from eduvault.pipeline.records.selectors import (
    change_data,
    enrollment_list,
    identity_event_data,
    identity_events,
    identity_list,
    people_list,
    person_data,
    person_get,
    policies_data,
    record_conflicts,
    record_data,
    record_get,
    record_history,
    record_list,
    records_summary,
)
from eduvault.pipeline.records.services import record_settle, record_take

log = structlog.get_logger(__name__)

#: Identity events an operator can undo from a person's page.
UNDOABLE = (IdentityEvent.Action.LINK, IdentityEvent.Action.UNLINK, IdentityEvent.Action.MERGE)
#: How far into a list a page may start (further is a mistake, not a page).
MAX_OFFSET = 10_000_000


def _offset(request: HttpRequest) -> int | None:
    return whole_number(request.GET.get("offset"), "offset", maximum=MAX_OFFSET)


# -- people and their identities -----------------------------------------------------------------


@staff_only
def people(request: HttpRequest) -> HttpResponse:
    q = request.GET
    search = q.get("q", "").strip()[:200]
    page, more = selectors.offset_page(
        people_list(search=search or None).select_related("user"), _offset(request)
    )
    return render(
        request,
        "console/people.html",
        {"people": page, "more": more, "search": search, "held": identity_list(state="held").count()},
    )


@staff_only
def person(request: HttpRequest, person_id: int) -> HttpResponse:
    found = person_get(person_id=person_id)
    return render(
        request,
        "console/person.html",
        {
            "person": found,
            "data": person_data(found),
            "enrollments": list(enrollment_list(person=found.pk)[:200]),
            "records": list(record_list(person=found.pk)[: selectors.PAGE]),
            "events": [identity_event_data(e) for e in identity_events(person=found.pk)],
            "undoable": UNDOABLE,
        },
    )


@staff_only
def identities_held(request: HttpRequest) -> HttpResponse:
    page, more = selectors.offset_page(identity_list(state="held"), _offset(request))
    return render(
        request, "console/identities_held.html", {"held": selectors.held_identities(page), "more": more}
    )


@staff_only
@require_POST
def identity_link_view(request: HttpRequest, identity_id: int) -> HttpResponse:
    """Link a held identity to a person: a candidate chosen, or a person's id typed in (which
    wins, if both are given)."""
    typed = request.POST.get("person_id", "").strip()
    if typed:
        person_id = whole_number(typed, "person id", minimum=1)
    else:
        person_id = whole_number(request.POST.get("person", ""), "person", minimum=1)
    if person_id is None:
        raise InvalidInput("person: choose one of the candidates, or enter a person's id")
    event = identity_link(identity_id=identity_id, person_id=person_id, actor=actor_of(request))
    log.info("console.identity_linked", identity=identity_id, person=person_id, actor=actor_of(request))
    messages.success(
        request,
        f"Linked {event.identity} to {event.person} (person {person_id}); "
        "the records that came through it are theirs now.",
    )
    return redirect("console:identities-held")


@staff_only
@require_POST
def identity_new_person(request: HttpRequest, identity_id: int) -> HttpResponse:
    event = identity_person_create(identity_id=identity_id, actor=actor_of(request))
    log.info("console.person_created", identity=identity_id, person=event.person_id, actor=actor_of(request))
    messages.success(request, f"{event.identity} is a new person: {event.person} (person {event.person_id}).")
    return redirect("console:identities-held")


@staff_only
@require_POST
def identity_unlink_view(request: HttpRequest, identity_id: int) -> HttpResponse:
    event = identity_unlink(identity_id=identity_id, actor=actor_of(request))
    log.info(
        "console.identity_unlinked", identity=identity_id, person=event.other_id, actor=actor_of(request)
    )
    messages.success(
        request, f"Unlinked {event.identity}; it is held until an operator links it (event {event.pk})."
    )
    return redirect("console:person", person_id=event.other_id)


@staff_only
@require_POST
def identity_event_undo_view(request: HttpRequest, event_id: int) -> HttpResponse:
    undo = identity_event_undo(event_id=event_id, actor=actor_of(request))
    log.info("console.identity_event_undone", identity_event=event_id, undo=undo.pk, actor=actor_of(request))
    messages.success(request, f"Undone: event {event_id} (by event {undo.pk}, {undo.get_action_display()}).")
    back = undo.person_id or undo.other_id
    return redirect("console:person", person_id=back) if back else redirect("console:identities-held")


# -- learner records ----------------------------------------------------------------------------


@staff_only
def records(request: HttpRequest) -> HttpResponse:
    q = request.GET
    conflicts = q.get("conflicts", "") not in ("", "0")
    person_id = whole_number(q.get("person"), "person")
    rows = record_list(
        kind=q.get("kind", ""),
        course=q.get("course", "").strip(),
        person=person_id,
        conflicts=conflicts,
    )
    page, more = selectors.offset_page(rows, _offset(request))
    summary = records_summary()
    bars, top, height = horizontal_bars(
        [(k, summary["by_kind"][k]) for k in KINDS if k in summary["by_kind"]]
    )
    return render(
        request,
        "console/records.html",
        {
            "records": page,
            "more": more,
            "q": q,
            "conflicts": conflicts,
            "person": person_id,
            "kinds": list(KINDS),
            "summary": summary,
            "bars": bars,
            "top": top,
            "height": height,
            "described": ", ".join(f"{b.count} {b.label}" for b in bars) or "none yet",
        },
    )


@staff_only
def record(request: HttpRequest, record_id: int) -> HttpResponse:
    found = record_get(record_id=record_id)
    data = record_data(found)
    conflicts = record_conflicts(found)
    return render(
        request,
        "console/record.html",
        {
            "record": found,
            "data": data,
            "fields": [(name, selectors.shown_value(v)) for name, v in data["fields"].items()],
            "replicas": selectors.replica_rows(data),
            "conflicts": selectors.conflict_rows(conflicts),
            "writers": selectors.conflict_writers(conflicts),
            "history": [selectors.history_row(change_data(c)) for c in record_history(record=found)],
        },
    )


def _settled_value(raw: str) -> Any:
    try:
        value = json.loads(raw)
    except ValueError:
        raise InvalidInput("value: the value to settle to is missing or not readable") from None
    if not isinstance(value, str | int | float | bool | type(None)):
        raise InvalidInput("value: a settled value is a number, text, true, false or null")
    return value


@staff_only
@require_POST
def record_settle_view(request: HttpRequest, record_id: int) -> HttpResponse:
    """One-click override of an open conflict: settle a field to the winning value or to one
    of the losing ones; every platform holding the record follows."""
    field = request.POST.get("field", "")[:100]
    value = _settled_value(request.POST.get("value", ""))
    found = record_get(record_id=record_id)
    conflict = next((c for c in record_conflicts(found) if c["field"] == field), None)
    if conflict is None:
        raise Conflict(
            f"record {found.pk} has no open conflict on {field!r} (settled meanwhile?); nothing was changed"
        )
    values = [conflict["winner"]["value"], *(w["value"] for w in conflict["losers"])]
    if not any(type(value) is type(v) or _both_numbers(value, v) for v in values if v == value):
        raise InvalidInput(f"value: {field} can be settled to one of its conflict's values, not {value!r}")
    applied = record_settle(record_id=found.pk, field_name=field, value=value, actor=actor_of(request))
    log.info("console.record_settled", record=found.pk, field=field, actor=actor_of(request))
    messages.success(
        request,
        f"Settled {field} to {selectors.shown_value(value)}; "
        f"{applied.deliveries} deliver{'y' if applied.deliveries == 1 else 'ies'} to platforms.",
    )
    return redirect("console:record", record_id=found.pk)


@staff_only
@require_POST
def record_take_view(request: HttpRequest, record_id: int) -> HttpResponse:
    """One click takes one writer's side in every open conflict of a record (a grade's score
    and maximum together); every platform holding the record follows."""
    replica = request.POST.get("replica", "")[:200]
    applied = record_take(record_id=record_id, replica=replica, actor=actor_of(request))
    log.info("console.record_taken", record=record_id, replica=replica, actor=actor_of(request))
    messages.success(
        request,
        f"Took {replica}'s values; {applied.deliveries} deliver{'y' if applied.deliveries == 1 else 'ies'} to platforms.",
    )
    return redirect("console:record", record_id=record_id)


def _both_numbers(a: Any, b: Any) -> bool:
    return all(isinstance(x, int | float) and not isinstance(x, bool) for x in (a, b))


@staff_only
def policies(request: HttpRequest) -> HttpResponse:
    data = policies_data()
    return render(
        request,
        "console/policies.html",
        {
            "data": data,
            "classes": [(name, ", ".join(members)) for name, members in data["classes"].items()],
        },
    )
