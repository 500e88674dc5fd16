"""Deep linking: an instructor picks practices or exams in an LMS's picker (an
``LtiDeepLinkingRequest`` launch); the tool answers with a signed ``LtiDeepLinkingResponse``
holding one ``ltiResourceLink`` per pick, its custom ``assessment`` the assessment's id and
its ``lineItem`` the label and maximum score the gradebook column gets.

The picker's form carries its own short-lived credential (signed, bound to the platform, the
deployment, the return URL and the instructor), not a cookie: an LMS iframe may have none."""

from __future__ import annotations

import secrets
import time
from typing import Any

from django.core import signing

from eduvault.integrations.lti import claims as c
from eduvault.integrations.lti.keys import tool_sign
from eduvault.integrations.lti.services import registration_of
from eduvault.integrations.models import Source
from eduvault.kernel.errors import InvalidInput, PermissionDenied
from eduvault.learning.assessments.models import Assessment
from eduvault.learning.lti.services import Landed

SALT = "eduvault.lti.deep-linking"
#: How long an instructor has to pick.
PICK_SECONDS = 1800
#: The gradebook column's maximum: scores are sent as given out of their maximum, which the
#: platform scales to this.
SCORE_MAXIMUM = 100


def picker_of(landed: Landed) -> dict[str, Any]:
    """What the picker page shows, and its credential; an instructor only."""
    if landed.role != "instructor":
        raise PermissionDenied("only an instructor places Edu Vault activities in a course")
    settings = landed.claims.get(c.DEEP_LINKING_SETTINGS) or {}
    credential = signing.dumps(
        {
            "platform": landed.source.name,
            "deployment": landed.claims.get(c.DEPLOYMENT_ID),
            "return_url": settings.get("deep_link_return_url"),
            "data": settings.get("data"),
            "person": landed.person.pk,
            "multiple": settings.get("accept_multiple", True) is not False,
        },
        salt=SALT,
    )
    course = landed.context.course if landed.context is not None else None
    choices = Assessment.objects.filter(status=Assessment.Status.ACTIVE).select_related("course")
    choices = choices.filter(course=course) if course is not None else choices
    return {
        "credential": credential,
        "course": course,
        "assessments": list(choices.order_by("course__key", "kind", "title")[:500]),
        "multiple": settings.get("accept_multiple", True) is not False,
    }


def deep_link_response(*, credential: str, picked: list[str], launch_url: str) -> dict[str, Any]:
    """The signed response for the picks, and where the browser posts it."""
    try:
        grant = signing.loads(credential, salt=SALT, max_age=PICK_SECONDS)
    except signing.SignatureExpired:
        raise PermissionDenied("the picker has expired; open it again from your course") from None
    except signing.BadSignature:
        raise PermissionDenied("this picker was not opened by Edu Vault") from None
    ids = [p for p in picked if p.isdigit()]
    if not ids or len(ids) != len(picked):
        raise InvalidInput("pick at least one assessment")
    if len(ids) > 1 and not grant["multiple"]:
        raise InvalidInput("the course takes one activity at a time here: pick one")
    assessments = list(Assessment.objects.filter(pk__in=ids, status=Assessment.Status.ACTIVE))
    if len(assessments) != len(set(ids)):
        raise InvalidInput("an assessment picked is not there any more")
    source = Source.objects.filter(platform="lti", name=grant["platform"]).first()
    if source is None:
        raise PermissionDenied(f"the platform {grant['platform']!r} is not registered any more")
    registration = registration_of(source)
    now = int(time.time())
    claims: dict[str, Any] = {
        "iss": registration.client_id,
        "aud": [registration.issuer],
        "iat": now,
        "exp": now + 300,
        "nonce": secrets.token_urlsafe(16),
        c.DEPLOYMENT_ID: grant["deployment"],
        c.MESSAGE_TYPE: c.DEEP_LINKING_RESPONSE,
        c.VERSION: "1.3.0",
        c.CONTENT_ITEMS: [
            {
                "type": "ltiResourceLink",
                "title": a.title,
                "url": launch_url,
                "custom": {"assessment": str(a.pk)},
                "lineItem": {"label": a.title, "scoreMaximum": SCORE_MAXIMUM, "resourceId": f"assessment:{a.pk}"},
            }
            for a in assessments
        ],
    }
    if grant.get("data") is not None:
        claims[c.DL_DATA] = grant["data"]
    return {"return_url": grant["return_url"], "jwt": tool_sign(claims)}
