"""Canvas users and enrollments as Edu Vault sees them (pure: REST payloads in, facts out)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from eduvault.integrations.base import PersonFacts, RecordFacts
from eduvault.integrations.canvas.events import ROLES, STATES


def person_of(user: Mapping[str, Any]) -> PersonFacts:
    """A Canvas user (``GET /courses/:id/users``, or an enrollment's ``user``) as an account.
    Canvas does not say whether an email is verified: it is not used to match people."""
    return PersonFacts(
        external_id=str(user["id"]),
        login=str(user.get("login_id") or ""),
        sis_id=str(user.get("sis_user_id") or ""),
        email=str(user.get("email") or ""),
        name=str(user.get("name") or user.get("sortable_name") or ""),
    )


def timestamp(value: Any, default: float = 0.0) -> float:
    if not value:
        return default
    try:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00")).timestamp()
    except ValueError:
        return default


def enrollment_facts(
    course_key: str,
    course_id: str,
    enrollments: Iterable[Mapping[str, Any]],
    users: Iterable[Mapping[str, Any]],
) -> list[RecordFacts]:
    """A course's enrollments (``GET /courses/:id/enrollments``) with what ``/users`` says of
    each person (login, SIS id, email)."""
    by_id = {str(u["id"]): u for u in users if "id" in u}
    facts = []
    for enrollment in enrollments:
        user = {**(enrollment.get("user") or {}), **by_id.get(str(enrollment.get("user_id")), {})}
        user.setdefault("id", enrollment.get("user_id"))
        role = ROLES.get(str(enrollment.get("type")), "learner")
        facts.append(
            RecordFacts(
                kind="enrollment",
                course_key=course_key,
                object=f"role:{role}",
                person=person_of(user),
                fields={"role": role, "state": STATES.get(str(enrollment.get("enrollment_state")), "active")},
                at=timestamp(enrollment.get("updated_at") or enrollment.get("created_at")),
                links={"course_id": course_id, "enrollment_id": str(enrollment.get("id", ""))},
                actor="canvas",
            )
        )
    return facts
