"""Enrollments: person, course, role and state, from every platform that reports them, and
Edu Vault's own (``eduvault enrollment add``; a learner who starts an attempt)."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.db import transaction

from eduvault.identity.models import Person
from eduvault.identity.people import person_for_user
from eduvault.kernel.errors import Conflict, InvalidInput, NotFound, PersonNotFound
from eduvault.pipeline.content.models import Course
from eduvault.pipeline.records.models import Enrollment
from eduvault.pipeline.records.services import record_local_change

ROLES = tuple(Enrollment.Role.values)


def _user(username: str):  # type: ignore[no-untyped-def]
    user = get_user_model().objects.filter(username=username).first()
    if user is None:
        raise PersonNotFound(f"no Edu Vault account {username!r}")
    return user


def enrollment_set(
    *, course: Course, username: str, role: str, state: str, actor: str, manual: bool = True
) -> Enrollment:
    if role not in ROLES:
        raise InvalidInput(f"role {role!r} is not one of {', '.join(ROLES)}")
    person = person_for_user(user=_user(username))
    with transaction.atomic():
        record_local_change(
            kind="enrollment",
            course=course,
            object=f"role:{role}",
            person=person,
            title=f"{role} in {course.key}",
            actor=actor,
            manual=manual,
            fields={"role": role, "state": state},
        )
    return Enrollment.objects.get(person=person, course=course, role=role)


def enrollment_add(*, course: Course, username: str, role: str = "learner", actor: str) -> Enrollment:
    """Enroll an Edu Vault account in a course (active), or make its removed enrollment active again."""
    return enrollment_set(course=course, username=username, role=role, state="active", actor=actor)


def enrollment_remove(*, course: Course, username: str, role: str = "learner", actor: str) -> Enrollment:
    person = person_for_user(user=_user(username))
    current = Enrollment.objects.filter(person=person, course=course, role=role).first()
    if current is None or current.state == Enrollment.State.DELETED:
        raise NotFound(f"{username} is not enrolled in {course.key} as {role}")
    return enrollment_set(course=course, username=username, role=role, state="deleted", actor=actor)


def enrollment_ensure(*, course: Course, person: Person, username: str, role: str = "learner") -> bool:
    """Enroll a person who starts working in a course, if they are not yet (True if enrolled now)."""
    held = set(Enrollment.objects.filter(person=person, course=course).order_by().values_list("role", "state"))
    if any(state == Enrollment.State.ACTIVE for _, state in held):
        return False
    if (role, Enrollment.State.DELETED) in held:
        raise Conflict(f"{username} was removed from {course.key}")
    record_local_change(
        kind="enrollment",
        course=course,
        object=f"role:{role}",
        person=person,
        title=f"{role} in {course.key}",
        actor=username,
        fields={"role": role, "state": "active"},
    )
    return True
