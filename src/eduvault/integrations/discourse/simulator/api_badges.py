"""Badges endpoints: ``Admin::BadgesController#index`` and ``#mass_award``, and
``UserBadgesController`` (``username``, ``create``).
"""

from __future__ import annotations

from urllib.parse import urlsplit

from eduvault.integrations.discourse.simulator import rules
from eduvault.integrations.discourse.simulator import serialize as ser
from eduvault.integrations.discourse.simulator.models import BADGE_TYPES, User
from eduvault.integrations.discourse.simulator.rest import Call, Reply, not_found


def _user(call: Call, username: str) -> User:
    user = call.sim.user_named(username)
    if user is None:
        raise not_found()
    return user


def admin_badges(call: Call) -> Reply:
    """``Admin::BadgesController#index``."""
    badges = sorted(call.sim.badges.values(), key=lambda b: b.id)
    groupings = [
        {"id": i, "name": n, "description": None, "position": p}
        for i, n, p in [
            (1, "GettingStarted", 10),
            (2, "Community", 11),
            (3, "Posting", 12),
            (4, "TrustLevel", 13),
            (5, "Other", 14),
        ]
    ]
    return Reply(
        200,
        {
            "badges": [ser.badge(b) for b in badges],
            "badge_types": BADGE_TYPES,
            "badge_groupings": groupings,
            "admin_badges": {
                "protected_system_fields": [
                    "name",
                    "badge_type_id",
                    "multiple_grant",
                    "target_posts",
                    "show_posts",
                    "query",
                    "trigger",
                    "auto_revoke",
                    "listable",
                ],
                "triggers": {
                    "user_change": 8,
                    "none": 0,
                    "post_revision": 2,
                    "trust_level_change": 4,
                    "post_action": 1,
                },
                "badge_ids": [b.id for b in badges],
                "badge_grouping_ids": [g["id"] for g in groupings],
                "badge_type_ids": [t["id"] for t in BADGE_TYPES],
            },
        },
    )


def user_badges(call: Call) -> Reply:
    """``UserBadgesController#username``."""
    user = _user(call, call.args[0])
    items = [
        ub
        for ub in call.sim.user_badges.values()
        if ub.user_id == user.id and call.sim.badges[ub.badge_id].enabled
    ]
    return Reply(200, ser.user_badges(call.sim, items, "user_badges"))


def grant_badge(call: Call) -> Reply:
    """``UserBadgesController#create``: staff only (403 ``{"failed": "FAILED"}``); an unknown user
    or a missing or disabled badge is 404; ``reason`` must link a topic or post of this site (400)."""
    viewer = call.login()
    username = call.require("username")
    user = _user(call, str(username))
    if not viewer.staff:
        return Reply(403, {"failed": "FAILED"})
    badge_id = str(call.require("badge_id"))
    badge = call.sim.badges.get(int(badge_id)) if badge_id.isdigit() else None
    if badge is None or not badge.enabled:
        raise not_found()
    post_id = None
    reason = call.params.get("reason")
    if reason:
        post_id, valid = _reason_post(call, str(reason))
        if not valid:
            return Reply(400, {"failed": "FAILED", "message": rules.INVALID_BADGE_REASON})
    granted = call.sim.grant_badge(badge, user, granted_by=viewer, post_id=post_id)
    return Reply(200, ser.user_badges(call.sim, [granted], "user_badge"))


def _reason_post(call: Call, reason: str) -> tuple[int | None, bool]:
    """``Discourse.route_for``: a URL of this site routed to topics or posts."""
    url = urlsplit(reason)
    base = urlsplit(call.sim.base_url)
    if url.netloc and url.netloc != base.netloc:
        return None, False
    parts = [p for p in url.path.split("/") if p]
    if len(parts) >= 2 and parts[0] == "t":
        numbers = [p for p in parts[1:] if p.isdigit()]
        if not numbers:
            return None, False
        topic = call.sim.topics.get(int(numbers[0]))
        number = int(numbers[1]) if len(numbers) > 1 else 1
        post = (
            next((call.sim.posts[i] for i in topic.post_ids if call.sim.posts[i].post_number == number), None)
            if topic
            else None
        )
        return (post.id if post else None), True
    if len(parts) == 2 and parts[0] in ("p", "posts") and parts[1].isdigit():
        return None, True
    return None, False


#: ``Admin::BadgesController::MAX_CSV_LINES``.
MAX_CSV_LINES = 50_000


def mass_award(call: Call) -> Reply:
    """``Admin::BadgesController#mass_award``: a CSV of emails or usernames (``file``), the
    first line deciding which; holders are skipped unless ``grant_existing_holders`` (which a
    badge that is not ``multiple_grant`` refuses, 422); a disabled badge is 422; more than
    ``MAX_CSV_LINES`` entries 400. Discourse grants in a job and answers an empty 200; here
    the grants are made before the answer."""
    viewer = call.login()
    if not viewer.admin:
        return Reply(403, {"failed": "FAILED"})
    upload = call.params.get("file")
    badge_id = call.args[0]
    badge = call.sim.badges.get(int(badge_id)) if badge_id.isdigit() else None
    if not isinstance(upload, dict) or badge is None:
        return Reply(400, {"errors": ["Invalid parameters"], "error_type": "invalid_parameters"})
    if not badge.enabled:
        return Reply(422, {"errors": [f"Badge {badge.name} is disabled."], "failed": "FAILED"})
    again = call.params.get("grant_existing_holders") == "true"
    if again and not badge.multiple_grant:
        return Reply(422, {"errors": [f"{badge.name} badge can't be granted multiple times."], "failed": "FAILED"})
    lines = [line.split(",")[0].strip().lower() for line in upload["content"].decode().splitlines()]
    entries = [line for line in lines if line]
    if len(entries) > MAX_CSV_LINES:
        return Reply(400, {"errors": [f"Too many entries in the CSV file. Please provide a CSV file with no more than {MAX_CSV_LINES} entries."]})
    by_email = bool(entries) and "@" in entries[0]
    users = []
    for entry in dict.fromkeys(entries):
        user = (
            next((u for u in call.sim.users.values() if u.email.lower() == entry), None)
            if by_email
            else call.sim.user_named(entry)
        )
        if user is not None:
            users.append(user)
    for user in users:
        held = any(ub.badge_id == badge.id and ub.user_id == user.id for ub in call.sim.user_badges.values())
        if held and not again:
            continue
        call.sim.grant_badge(badge, user, granted_by=viewer)
    return Reply(200, None)
