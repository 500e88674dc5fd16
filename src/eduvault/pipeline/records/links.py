"""Objects of one platform that stand for another's: an Edu Vault assessment whose grades go
to a Canvas assignment. Records of the linked object are the home object's records; changes
to them are written to the linked platform (under the policy)."""

from __future__ import annotations

import structlog
from django.db import transaction

from eduvault.integrations.base import integration_for
from eduvault.integrations.models import Source
from eduvault.kernel.errors import Conflict
from eduvault.pipeline.content.models import Course
from eduvault.pipeline.records.models import ObjectLink
from eduvault.pipeline.records.services import records_route

log = structlog.get_logger(__name__)

HUB = "eduvault"


def object_link_set(
    *,
    source: Source,
    course_id: str,
    assignment_id: str,
    home_course: Course,
    home_object: str,
    actor: str,
) -> ObjectLink:
    """Link ``home_object`` (``assessment:12`` of ``home_course``) to an assignment of a
    source's course; what writing to it needs is read from the platform now."""
    integration = integration_for(source)
    obj = f"assignment:{assignment_id}"
    described = integration.describe_object(course_id=str(course_id), object=obj)
    alias = f"{integration.course_key(str(course_id))}/{obj}"
    key = f"{home_course.key}/{home_object}"
    with transaction.atomic():
        taken = ObjectLink.objects.filter(replica=source.name, alias=alias).exclude(key=key).first()
        if taken is not None:
            raise Conflict(f"{alias} of {source.name} is linked to {taken.key} already; unlink it first")
        link, _ = ObjectLink.objects.update_or_create(
            replica=source.name,
            key=key,
            defaults={
                "alias": alias,
                "course": home_course,
                "object": home_object,
                "home": HUB,
                "links": described,
                "created_by": actor,
            },
        )
    # The grades it already has go there now (an operator's hand: no window).
    routed = records_route(key=key, manual=True)
    log.info(
        "records.object_linked", source=source.name, alias=alias, key=key, actor=actor, deliveries=routed
    )
    return link


def object_link_remove(*, source: Source, home_course: Course, home_object: str) -> int:
    deleted, _ = ObjectLink.objects.filter(
        replica=source.name, key=f"{home_course.key}/{home_object}"
    ).delete()
    return deleted
