"""Names and Role Provisioning Services 2.0 (NRPS §2, §3): a course's memberships, paged.

``GET /api/lti/courses/{context_id}/memberships`` with the scope
``…/lti-nrps/scope/contextmembership.readonly``; answered as
``application/vnd.ims.lti-nrps.v2.membershipcontainer+json``: ``{"id": <this URL>, "context":
{id, label, title}, "members": [{status, name, picture?, given_name, family_name, email,
user_id, lis_person_sourcedid?, roles}]}``. ``limit`` pages it; when more members follow, a
``Link: <url>; rel="next"`` header names the next page (NRPS §2.4.2). ``role`` filters by a role
URI (or its short name, e.g. ``Learner``); ``rlid`` must name a resource link of the course.
"""

from __future__ import annotations

from typing import Any

from eduvault.integrations.lti.simulator import tokens
from eduvault.integrations.lti.simulator.ags import accepts, bad, page
from eduvault.integrations.lti.simulator.rest import Call, Reply
from eduvault.integrations.lti.simulator.vocab import MEMBERSHIPS_MEDIA, SCOPE_NRPS


def _has_role(roles: tuple[str, ...], wanted: str) -> bool:
    return any(r == wanted or r.endswith("#" + wanted) or r.endswith("/" + wanted) for r in roles)


def memberships(call: Call) -> Reply:
    tokens.authorize(call, SCOPE_NRPS)
    accepts(call, MEMBERSHIPS_MEDIA)
    platform = call.platform
    context_id = call.args["context_id"]
    with platform.lock:
        course = platform.courses.get(context_id)
        if course is None:
            raise bad(404, f"no course {context_id}")
        if "rlid" in call.query and (context_id, call.query["rlid"]) not in platform.links:
            raise bad(400, f"no resource link {call.query['rlid']} in this course")
        pairs = [(m, platform.users[m.sub]) for m in course.members.values()]
    if call.query.get("role"):
        pairs = [(m, u) for m, u in pairs if _has_role(m.roles, call.query["role"])]
    members: list[dict[str, Any]] = []
    for membership, user in pairs:
        member: dict[str, Any] = {"status": membership.status, "name": user.name}
        if user.picture:
            member["picture"] = user.picture
        for name in ("given_name", "family_name", "email"):
            if getattr(user, name):
                member[name] = getattr(user, name)
        member["user_id"] = user.sub
        if user.sourced_id:
            member["lis_person_sourcedid"] = user.sourced_id
        member["roles"] = list(membership.roles)
        members.append(member)
    chunk, headers = page(call, members, platform.page_size)
    url = platform.base_url + call.path + (("?" + call.raw_query) if call.raw_query else "")
    body = {
        "id": url,
        "context": {"id": course.context_id, "label": course.label, "title": course.title},
        "members": chunk,
    }
    return Reply(200, body, headers, MEMBERSHIPS_MEDIA)
