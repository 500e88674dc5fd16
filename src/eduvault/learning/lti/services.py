"""What a verified launch does: the person (the hub identity ``sub`` per issuer), their
enrollment in the context's course, and the context's link to an Edu Vault course."""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass
from typing import Any

import structlog
from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from eduvault.identity.models import Person, Role
from eduvault.identity.people import identities_observe
from eduvault.identity.services import user_create
from eduvault.integrations.base import PersonFacts, RecordFacts
from eduvault.integrations.lti import claims as c
from eduvault.integrations.lti.client import PlatformClient
from eduvault.integrations.lti.services import registration_of
from eduvault.integrations.models import Source
from eduvault.kernel.errors import InvalidInput
from eduvault.learning.assessments.models import Assessment
from eduvault.learning.lti.models import LtiContext
from eduvault.pipeline.content.models import Course
from eduvault.pipeline.records.models import ObjectLink
from eduvault.pipeline.records.policies import current_policies
from eduvault.pipeline.records.services import COURSE_OBJECT, account_of, records_ingest, records_route

log = structlog.get_logger(__name__)


def _memberships_url(claims: dict[str, Any]) -> str:
    nrps = claims.get(c.NRPS)
    url = nrps.get("context_memberships_url") if isinstance(nrps, dict) else None
    return url if isinstance(url, str) and url.startswith(("http://", "https://")) else ""


@dataclass
class Landed:
    source: Source
    person: Person
    role: str
    message_type: str
    context: LtiContext | None
    assessment: Assessment | None
    claims: dict[str, Any]


def _role(roles: list[str]) -> str:
    if any(r in c.INSTRUCTOR_ROLES or r.endswith("#Instructor") for r in roles):
        return "instructor"
    return "learner"


def account_for(person: Person, *, realm: str, external_id: str, role: str = "learner") -> Any:
    """The Edu Vault account of a person met by launch (made the first time, with the role
    the launch gave and no password: they come through their LMS)."""
    if person.user_id is not None:
        return person.user
    digest = hashlib.sha256(f"{realm}\n{external_id}".encode()).hexdigest()[:12]
    username = f"lti-{realm[:40]}-{digest}"
    with transaction.atomic():
        user = get_user_model().objects.filter(username=username).first()
        if user is None:  # made with the account, the person is given it there
            return user_create(
                username=username,
                role=Role.INSTRUCTOR if role == "instructor" else Role.LEARNER,
                email=person.email,
                full_name=person.name,
                origin="lti",
                person=person,
            )
        Person.objects.filter(pk=person.pk, user__isnull=True).update(user=user)
    return user


def context_key(source: Source, context_id: str) -> str:
    """The course key a platform's context stands for, once linked to a course."""
    return f"{source.name}:context:{context_id}"


def launch_land(*, source: Source, claims: dict[str, Any]) -> Landed:
    """Make or find the person, the context and the enrollment a verified launch speaks of:
    the platform reports them, so they are its records (the enrollment under the policy)."""
    custom = claims.get(c.CUSTOM) or {}
    roles = [r for r in claims.get(c.ROLES) or [] if isinstance(r, str)]
    role = _role(roles)
    assessment = None
    assessment_id = str(custom.get("assessment", "")).strip()
    if assessment_id.isdigit():
        assessment = Assessment.objects.filter(pk=int(assessment_id)).select_related("course").first()
    sub = str(claims["sub"])[:300]
    person_facts = PersonFacts(
        external_id=sub,
        login=str(claims.get("preferred_username") or "")[:200],
        email=str(claims.get("email") or "")[:254],
        name=str(claims.get("name") or "")[:200],
    )
    with transaction.atomic():
        identity = identities_observe(
            platform="lti",
            realm=source.name,
            accounts=[account_of(person_facts)],
            rules=current_policies().match_for("lti"),
            create_people=True,
            actor=source.name,
        )[sub]
        person = Person.objects.get(pk=identity.person_id)
        if person.user_id is None:  # an account of their own, listed like any person's
            account_for(person, realm=source.name, external_id=sub, role=role)
            person.refresh_from_db(fields=["user"])
        context = _context(source, claims.get(c.CONTEXT), custom, assessment, _memberships_url(claims))
        ags = claims.get(c.AGS_ENDPOINT)
        lineitem = ags.get("lineitem") if isinstance(ags, dict) else None
        if assessment is not None and context is not None and isinstance(lineitem, str) and lineitem:
            _link_line_item(source, context, assessment, lineitem)
        if context is not None and context.course_id is not None:
            records_ingest(
                source=source,
                facts=[
                    RecordFacts(
                        kind="enrollment",
                        course_key=context_key(source, context.context_id),
                        object=f"role:{role}",
                        person=person_facts,
                        fields={"role": role, "state": "active"},
                        at=float(claims.get("iat") or time.time()),
                        links={"context_id": context.context_id, "roles": roles[:20]},
                        actor=source.name,
                        title=f"{role} in {context.title or context.context_id}",
                    )
                ],
            )
    log.info(
        "lti.launched",
        platform=source.name,
        person=person.pk,
        role=role,
        message_type=claims.get(c.MESSAGE_TYPE),
        context=context.context_id if context else None,
        assessment=assessment.pk if assessment else None,
    )
    return Landed(source, person, role, str(claims.get(c.MESSAGE_TYPE)), context, assessment, claims)


def _context(
    source: Source, ctx: Any, custom: dict[str, Any], assessment: Assessment | None, memberships_url: str
) -> LtiContext | None:
    """The launch's context, linked to the course of the assessment it opens (or the one its
    custom ``course`` names) the first time that is known."""
    if not isinstance(ctx, dict) or not ctx.get("id"):
        return None
    context, _ = LtiContext.objects.update_or_create(
        source=source,
        context_id=str(ctx["id"])[:255],
        defaults={"title": str(ctx.get("title") or "")[:500], "label": str(ctx.get("label") or "")[:255]},
    )
    if memberships_url and memberships_url != context.memberships_url:
        context.memberships_url = memberships_url[:2000]
        context.save(update_fields=["memberships_url", "updated_at"])
    course = assessment.course if assessment is not None else None
    if course is None and str(custom.get("course", "")).strip():
        course = Course.objects.filter(key=str(custom["course"]).strip()).first()
    if course is not None and context.course_id != course.pk:
        context.course = course
        context.save(update_fields=["course", "updated_at"])
        ObjectLink.objects.update_or_create(
            replica=source.name,
            key=f"{course.key}/context:{context.context_id}",
            defaults={
                "alias": context_key(source, context.context_id),
                "course": course,
                "object": COURSE_OBJECT,
                "home": course.source.name if course.source_id else "eduvault",
                "links": {"context_id": context.context_id},
                "created_by": "lti",
            },
        )
    return context


def _link_line_item(source: Source, context: LtiContext, assessment: Assessment, lineitem: str) -> None:
    """The launch's line item is where the assessment's grades go on this platform: its
    learners' grades (those already given too) are delivered there under the policy."""
    key = f"{assessment.course.key}/assessment:{assessment.pk}"
    alias = f"{context_key(source, context.context_id)}/lineitem:{hashlib.sha256(lineitem.encode()).hexdigest()[:24]}"
    link = ObjectLink.objects.filter(replica=source.name, key=key).first()
    if link is not None and link.links.get("lineitem") == lineitem:
        return
    ObjectLink.objects.update_or_create(
        replica=source.name,
        key=key,
        defaults={
            "alias": alias,
            "course": assessment.course,
            "object": f"assessment:{assessment.pk}",
            "home": "eduvault",
            "links": {"lineitem": lineitem, "context_id": context.context_id},
            "created_by": "lti",
        },
    )
    records_route(key=key, manual=True)


# -- rosters (NRPS) ------------------------------------------------------------------------------


def roster_read(*, context: LtiContext) -> dict[str, int]:
    """Read a context's roster from its platform into people and enrollments (the platform
    reports them: its records, under the policy). Needs the context linked to a course."""
    if not context.memberships_url:
        raise InvalidInput(f"no launch from {context.context_id} has given its roster's address yet")
    if context.course_id is None:
        raise InvalidInput(f"{context.context_id} is not linked to an Edu Vault course yet")
    source = context.source
    facts: list[RecordFacts] = []
    now = time.time()
    with PlatformClient(registration_of(source)) as client:
        for member in client.memberships(context.memberships_url):
            user_id = member.get("user_id")
            if not isinstance(user_id, str) or not user_id:
                continue
            roles = [r for r in member.get("roles") or [] if isinstance(r, str)]
            active = str(member.get("status", "Active")).lower() == "active"
            role = _role(roles)
            facts.append(
                RecordFacts(
                    kind="enrollment",
                    course_key=context_key(source, context.context_id),
                    object=f"role:{role}",
                    person=PersonFacts(
                        external_id=user_id[:300],
                        email=str(member.get("email") or "")[:254],
                        name=str(member.get("name") or "")[:200],
                    ),
                    fields={"role": role, "state": "active" if active else "inactive"},
                    at=now,
                    links={"context_id": context.context_id, "roles": roles[:20]},
                    actor=source.name,
                    title=f"{role} in {context.title or context.context_id}",
                )
            )
    applied = records_ingest(source=source, facts=facts, manual=True)
    context.roster_read_at = timezone.now()
    context.save(update_fields=["roster_read_at", "updated_at"])
    log.info("lti.roster_read", platform=source.name, context=context.context_id, members=len(facts), records=applied.records)
    return {"members": len(facts), "records": applied.records}
