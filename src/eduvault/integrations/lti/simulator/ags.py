"""Assignment and Grade Services 2.0: line items, scores, results (AGS §3.2 to §3.4).

Paths as Canvas's (``/api/lti/courses/{context_id}/line_items[/{id}[/scores|/results]]``). A
tool sees only its own line items (AGS §1: "only expose gradebook information directly tied to
the tool"); another tool's, or one in another course, is 404. A line item URL with a query
(``Tool.lineitem_query``, Moodle's ``?type_id=``) must be called with that query, as Moodle
requires its ``type_id``: AGS §3.3.1/§3.4.1 say ``/scores`` and ``/results`` go on the *path*
and "any query or route parameters from the line item URL must also be added".

Scores (§3.4): ``userId``, ``activityProgress``, ``gradingProgress`` (the spec's enumerations)
and ``timestamp`` (ISO 8601, sub-second, with a time zone) are required; ``scoreGiven`` ≥ 0 and
then ``scoreMaximum`` > 0; the user must be a member of the course (Canvas: 422 "User not
found in course"). A timestamp not later than the last accepted one for that (line item, user)
is refused — §3.4.9: timestamps "MUST always be strictly increasing" and the platform "MUST NOT
update a result if the last timestamp on record is later" — with Moodle's 409 ("Refusing score
with an earlier timestamp", ``grade.timemodified >= timestamp``); Canvas answers 400 and only
for strictly earlier ones (``stale_score_status`` picks the status).
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any
from urllib.parse import parse_qsl, urlencode

from eduvault.integrations.lti.simulator import tokens
from eduvault.integrations.lti.simulator.rest import ApiError, Call, Reply
from eduvault.integrations.lti.simulator.state import LineItem
from eduvault.integrations.lti.simulator.vocab import (
    ACTIVITY_PROGRESS,
    GRADING_PROGRESS,
    LINEITEM_MEDIA,
    LINEITEMS_MEDIA,
    RESULTS_MEDIA,
    SCOPE_LINEITEM,
    SCOPE_LINEITEM_READONLY,
    SCOPE_RESULT_READONLY,
    SCOPE_SCORE,
    SCORE_MEDIA,
)

_TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.(\d+)(Z|[+-]\d{2}(?::?\d{2})?)$")
_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}(?::?\d{2})?)$")


def bad(status: int, message: str) -> ApiError:
    return ApiError(
        status, {"errors": {"type": "bad_request" if status == 400 else "error", "message": message}}
    )


def page(call: Call, items: list[Any], default_limit: int) -> tuple[list[Any], dict[str, str]]:
    """``limit`` and ``page`` paging; a ``Link: <…>; rel="next"`` that keeps every other parameter."""
    try:
        limit = max(1, int(call.query.get("limit") or default_limit))
        number = max(1, int(call.query.get("page") or 1))
    except ValueError:
        raise bad(400, "limit and page must be integers") from None
    start = (number - 1) * limit
    chunk = items[start : start + limit]
    if start + limit >= len(items):
        return chunk, {}
    params = [(k, v) for k, v in parse_qsl(call.raw_query, keep_blank_values=True) if k != "page"]
    params.append(("page", str(number + 1)))
    url = call.platform.base_url + call.path + "?" + urlencode(params)
    return chunk, {"Link": f'<{url}>; rel="next"'}


def accepts(call: Call, media: str) -> None:
    accept = call.headers.get("accept", "")
    if accept and not any(m in accept for m in (media, "*/*", "application/json")):
        raise bad(406, f"this resource is served as {media}")


def _content(call: Call, media: str) -> dict[str, Any]:
    if call.content_type != media:
        raise bad(415, f"Content-Type must be {media}")
    body = call.json()
    if not isinstance(body, dict):
        raise bad(400, "the body must be a JSON object")
    return body


def _course(call: Call) -> str:
    context_id = call.args["context_id"]
    if context_id not in call.platform.courses:
        raise bad(404, f"no course {context_id}")
    return context_id


def _item(call: Call) -> LineItem:
    context_id = _course(call)
    item = call.platform.line_item(int(call.args["item"]))
    if item is None or item.context_id != context_id or item.client_id != call.client_id:
        raise bad(404, "line item not found")
    _query_kept(call, item.query)
    return item


def _validate_line_item(call: Call, body: dict[str, Any], context_id: str) -> None:
    label = body.get("label")
    if not isinstance(label, str) or not label.strip():
        raise bad(400, "label is required and must not be blank")
    maximum = body.get("scoreMaximum")
    if isinstance(maximum, bool) or not isinstance(maximum, int | float) or maximum <= 0:
        raise bad(400, "scoreMaximum must be a number greater than 0")
    for name in ("startDateTime", "endDateTime"):
        if body.get(name) is not None and not _DATETIME.match(str(body[name])):
            raise bad(400, f"{name} must be ISO 8601 with a time zone designator")
    for name in ("resourceId", "tag"):
        if body.get(name) is not None and not isinstance(body[name], str):
            raise bad(400, f"{name} must be a string")
    link_id = body.get("resourceLinkId")
    if link_id is not None:
        link = call.platform.links.get((context_id, str(link_id)))
        if link is None or link.client_id != call.client_id:  # AGS §3.2.9: "MUST fail with … 404"
            raise bad(404, f"no resource link {link_id} of this tool in this course")


def _query_kept(call: Call, query: str) -> None:
    """Moodle-style URLs carry a query (``?type_id=``) every call must keep."""
    given = parse_qsl(call.raw_query, keep_blank_values=True)
    missing = [k for k, v in parse_qsl(query.lstrip("?")) if (k, v) not in given]
    if missing:
        raise bad(400, "the URL's query parameters are missing: " + ", ".join(missing))


def line_items(call: Call) -> Reply:
    if call.method == "GET":
        tokens.authorize(call, SCOPE_LINEITEM, SCOPE_LINEITEM_READONLY)
    else:
        tokens.authorize(call, SCOPE_LINEITEM)
    context_id = _course(call)
    _query_kept(call, call.platform.tools[call.client_id].lineitem_query)
    if call.method == "GET":
        accepts(call, LINEITEMS_MEDIA)
        items = call.platform.line_items(context_id, call.client_id)
        for param, attribute in (("resource_link_id", "resource_link_id"), ("resource_id", "resource_id"),
                                 ("tag", "tag")):  # fmt: skip
            if param in call.query:
                items = [i for i in items if getattr(i, attribute) == call.query[param]]
        chunk, headers = page(call, items, call.platform.page_size)
        return Reply(200, [i.body() for i in chunk], headers, LINEITEMS_MEDIA)
    body = _content(call, LINEITEM_MEDIA)
    _validate_line_item(call, body, context_id)
    item = call.platform.create_line_item(context_id, call.client_id, body)
    return Reply(201, item.body(), {"Location": item.id}, LINEITEM_MEDIA)


def line_item(call: Call) -> Reply:
    if call.method == "GET":
        tokens.authorize(call, SCOPE_LINEITEM, SCOPE_LINEITEM_READONLY)
    else:
        tokens.authorize(call, SCOPE_LINEITEM)
    item = _item(call)
    if call.method == "GET":
        accepts(call, LINEITEM_MEDIA)
        return Reply(200, item.body(), {}, LINEITEM_MEDIA)
    if call.method == "DELETE":
        with call.platform.lock:
            item.deleted = True
        return Reply(204, None, {}, LINEITEM_MEDIA)
    body = _content(call, LINEITEM_MEDIA)
    _validate_line_item(call, body, item.context_id)
    if body.get("id") not in (None, item.id):  # AGS §3.2.6: a tool MUST NOT change id …
        raise bad(400, "a line item's id cannot be changed")
    if body.get("resourceLinkId", item.resource_link_id) != item.resource_link_id:  # … nor resourceLinkId
        raise bad(400, "a line item's resourceLinkId cannot be changed")
    with call.platform.lock:
        item.label, item.score_maximum = body["label"], body["scoreMaximum"]
        item.resource_id, item.tag = body.get("resourceId"), body.get("tag")
        item.start_date_time, item.end_date_time = body.get("startDateTime"), body.get("endDateTime")
        item.grades_released = body.get("gradesReleased")
    return Reply(200, item.body(), {}, LINEITEM_MEDIA)


def _validate_score(call: Call, item: LineItem, score: dict[str, Any]) -> str:
    for name in ("userId", "activityProgress", "gradingProgress", "timestamp"):
        if score.get(name) in (None, ""):
            raise bad(400, f"{name} is required")
    if score["activityProgress"] not in ACTIVITY_PROGRESS:
        raise bad(400, f"activityProgress must be one of {', '.join(ACTIVITY_PROGRESS)}")
    if score["gradingProgress"] not in GRADING_PROGRESS:
        raise bad(400, f"gradingProgress must be one of {', '.join(GRADING_PROGRESS)}")
    if not _TIMESTAMP.match(str(score["timestamp"])):
        raise bad(
            400, f"timestamp {score['timestamp']!r} is not ISO 8601 with sub-second precision and a zone"
        )
    given = score.get("scoreGiven")
    if given is not None:
        if isinstance(given, bool) or not isinstance(given, int | float) or given < 0:
            raise bad(400, "scoreGiven must be a number ≥ 0")
        maximum = score.get("scoreMaximum")
        if isinstance(maximum, bool) or not isinstance(maximum, int | float) or maximum <= 0:
            raise bad(400, "scoreMaximum must be present, and greater than 0, when scoreGiven is")
    if "scoringUserId" in score and not (isinstance(score["scoringUserId"], str) and score["scoringUserId"]):
        raise bad(400, "scoringUserId, when present, must be a user id")
    if score.get("comment") is not None and not isinstance(score["comment"], str):
        raise bad(400, "comment must be a string")
    user_id = str(score["userId"])
    if user_id not in call.platform.courses[item.context_id].members:
        raise bad(422, "User not found in course or is not a student")
    return user_id


def scores(call: Call) -> Reply:
    tokens.authorize(call, SCOPE_SCORE)
    item = _item(call)
    score = _content(call, SCORE_MEDIA)
    user_id = _validate_score(call, item, score)
    stamp = _instant(str(score["timestamp"]))
    platform = call.platform
    with platform.lock:
        history = platform.scores.setdefault((item.id, user_id), [])
        if history and stamp <= _instant(history[-1]["timestamp"]):
            last = history[-1]["timestamp"]
            raise bad(
                platform.stale_score_status,
                f"Refusing score with an earlier timestamp for item {item.number} and user {user_id}: "
                f"{score['timestamp']} is not later than {last}",
            )
        history.append(dict(score))
    result_url = f"{platform.base_url}{item.path}/results/{user_id}{item.query}"
    return Reply(200, {"resultUrl": result_url}, {}, "application/json")


def _instant(stamp: str) -> tuple[int, ...]:
    """A comparable UTC instant (seconds, microseconds) of an ISO 8601 timestamp the regex accepted."""
    match = _TIMESTAMP.match(stamp) or _DATETIME.match(stamp)
    assert match is not None
    zone = match.group(2)
    fraction = stamp[stamp.index(".") + 1 : len(stamp) - len(zone)] if "." in stamp else "0"
    base = stamp[:19]
    if zone == "Z":
        zone = "+00:00"
    elif len(zone) == 3:
        zone += ":00"
    elif ":" not in zone:
        zone = zone[:3] + ":" + zone[3:]
    moment = datetime.fromisoformat(base + zone)
    return (int(moment.timestamp()), int((fraction + "000000")[:6]))


def result_body(call: Call, item: LineItem, sub: str, latest: dict[str, Any]) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": f"{call.platform.base_url}{item.path}/results/{sub}{item.query}",
        "scoreOf": item.id,
        "userId": sub,
        "resultMaximum": item.score_maximum,
    }
    if latest.get("scoreGiven") is not None:  # re-scaled to the line item's maximum (AGS §3.4.4)
        body["resultScore"] = latest["scoreGiven"] * item.score_maximum / latest["scoreMaximum"]
    if latest.get("comment"):
        body["comment"] = latest["comment"]
    if latest.get("scoringUserId"):
        body["scoringUserId"] = latest["scoringUserId"]
    return body


def results(call: Call) -> Reply:
    tokens.authorize(call, SCOPE_RESULT_READONLY)
    item = _item(call)
    accepts(call, RESULTS_MEDIA)
    platform = call.platform
    with platform.lock:
        members = list(platform.courses[item.context_id].members)
    wanted = call.args.get("sub") or call.query.get("user_id")
    found = []
    for sub in members:
        latest = platform.latest_score(item, sub)
        if latest is not None and wanted in (None, sub):
            found.append(result_body(call, item, sub, latest))
    if call.args.get("sub"):
        if not found:
            raise bad(404, "no result for that user")
        return Reply(200, found[0], {}, "application/vnd.ims.lis.v2.result+json")
    chunk, headers = page(call, found, platform.page_size)
    return Reply(200, chunk, headers, RESULTS_MEDIA)
