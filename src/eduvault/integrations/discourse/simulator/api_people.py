"""Users, groups and badges endpoints (``UsersController``, ``GroupsController``,
``Admin::GroupsController``, ``Admin::UsersController``, ``Admin::BadgesController``,
``UserBadgesController``).
"""

from __future__ import annotations

from typing import Any

from eduvault.integrations.discourse.simulator import api_badges, rules
from eduvault.integrations.discourse.simulator import serialize as ser
from eduvault.integrations.discourse.simulator.rest import (
    ApiError,
    Call,
    Reply,
    invalid_access,
    invalid_params,
    json_error,
    not_found,
)
from eduvault.integrations.discourse.simulator.rules import Invalid

ADD_MEMBERS_LIMIT = 1000  # GroupsController::ADD_MEMBERS_LIMIT
MEMBERS_DEFAULT_PAGE_SIZE = 50
MEMBERS_MAX_PAGE_SIZE = 1000
ADMIN_USERS_PAGE_SIZE = 100  # AdminUserIndexQuery


# -- users ------------------------------------------------------------------------------------------


def _user(call: Call, username: str) -> Any:
    user = call.sim.user_named(username)
    if user is None:
        raise not_found()
    return user


def show_user(call: Call) -> Reply:
    """``UsersController#show``: ``{"user_badges": [], "user": {...}}``."""
    user = _user(call, call.args[0])
    admin_view = call.user is not None and call.user.admin
    return Reply(200, {"user_badges": [], "user": ser.user(call.sim, user, admin_view=admin_view)})


def user_by_external_id(call: Call) -> Reply:
    """``UsersController#show`` by DiscourseConnect ``external_id`` (``/u/by-external/{id}.json``)."""
    user = call.sim.user_by_external_id(call.args[0])
    if user is None:
        raise not_found()
    admin_view = call.user is not None and call.user.admin
    return Reply(200, {"user_badges": [], "user": ser.user(call.sim, user, admin_view=admin_view)})


def user_emails(call: Call) -> Reply:
    """``UsersController#check_emails``: the owner, or staff who may check emails."""
    viewer = call.login()
    user = _user(call, call.args[0])
    if viewer.id != user.id and not viewer.admin:
        raise invalid_access()
    return Reply(
        200,
        {
            "email": user.email,
            "secondary_emails": list(user.secondary_emails),
            "unconfirmed_emails": [],
            "associated_accounts": [],
        },
    )


def admin_users(call: Call) -> Reply:
    """``Admin::UsersController#index`` (``AdminUserIndexQuery``): 100 a page, ``page`` from 1."""
    query = call.args[0]
    users = [u for u in call.sim.users.values() if u.id > 0]
    if query == "active":
        users = [u for u in users if u.active]
    elif query == "staff":
        users = [u for u in users if u.staff]
    elif query in ("new", "all"):
        pass
    elif query in ("suspended", "silenced", "staged", "suspect", "pending"):
        users = []
    else:
        raise not_found()
    users.sort(key=lambda u: (-(u.last_seen_at or 0.0), -u.created_at, u.id))
    page = max(call.int_param("page", default=1, minimum=-(10**9)) - 1, 0)
    chunk = users[page * ADMIN_USERS_PAGE_SIZE : (page + 1) * ADMIN_USERS_PAGE_SIZE]
    show_emails = str(call.params.get("show_emails", "")).lower() == "true"
    return Reply(200, [ser.admin_user(call.sim, u, show_emails=show_emails) for u in chunk])


# -- groups ------------------------------------------------------------------------------------------


def _visible_group(call: Call, name: str) -> Any:
    group = call.sim.group_named(name)
    viewer = call.user
    if group is None or (
        group.visibility_level > 0 and not (viewer and (viewer.staff or viewer.id in group.members))
    ):
        raise not_found()
    return group


def show_group(call: Call) -> Reply:
    """``GroupsController#show``: ``{"group": {...}, "extras": {"visible_group_names": [...]}}``."""
    group = _visible_group(call, call.args[0])
    visible = sorted(
        g.name for g in call.sim.groups.values() if g.visibility_level == 0 or (call.user and call.user.staff)
    )
    return Reply(
        200, {"group": ser.group_show(call.sim, group, call.user), "extras": {"visible_group_names": visible}}
    )


def group_members(call: Call) -> Reply:
    """``GroupsController#members``: owners first, then by username descending (unless ``asc``);
    ``limit`` defaults to 50 and may not exceed 1000, ``offset`` may not be negative (400)."""
    group = _visible_group(call, call.args[0])
    limit = call.int_param("limit", default=MEMBERS_DEFAULT_PAGE_SIZE, maximum=MEMBERS_MAX_PAGE_SIZE)
    try:
        offset = int(str(call.params.get("offset") or 0))
    except ValueError:
        offset = 0
    if offset < 0:
        raise invalid_params("offset")
    members = [call.sim.users[uid] for uid in group.members if uid > 0]
    ascending = bool(call.params.get("asc"))
    members.sort(key=lambda u: u.username.lower(), reverse=not ascending)
    members.sort(key=lambda u: u.id not in group.owners)
    rows = [ser.group_member(call.sim, u, group) for u in members[offset : offset + limit]]
    owners = [ser.group_member(call.sim, u, group) for u in members if u.id in group.owners]
    return Reply(
        200,
        {
            "members": rows,
            "owners": owners,
            "meta": {"total": len(members), "limit": limit, "offset": offset},
        },
    )


def _editable_group(call: Call) -> Any:
    user = call.login()
    group = call.sim.groups.get(int(call.args[0]))
    if group is None:
        raise not_found()
    if group.automatic or not (user.admin or user.id in group.owners):
        raise invalid_access()
    return group


def _users_from_params(call: Call) -> list[Any]:
    """``GroupsController#users_from_params``: unknown usernames are skipped; none known is a 400."""
    if "usernames" not in call.params or call.params["usernames"] in (None, ""):
        return []
    names = call.params["usernames"]
    if not isinstance(names, str):  # Rails calls String#split on it: anything else is a 500
        raise ApiError(500, {"status": 500, "error": "Internal Server Error"})
    wanted = {n.strip().lower() for n in names.split(",")}
    users = sorted((u for u in call.sim.users.values() if u.username.lower() in wanted), key=lambda u: u.id)
    if not users:
        raise invalid_params("usernames")
    return users


def add_members(call: Call) -> Reply:
    """``GroupsController#add_members``: at most 1000 users; when every one is already a member,
    422; otherwise the new ones are added and every named user is answered."""
    group = _editable_group(call)
    users = _users_from_params(call)
    if not users:
        raise invalid_params(rules.USERNAMES_REQUIRED)
    if len(users) > ADD_MEMBERS_LIMIT:
        raise json_error(rules.ADDING_TOO_MANY_USERS.format(ADD_MEMBERS_LIMIT))
    already = sorted(u.username for u in users if u.id in group.members)
    if already and len(already) == len(users):
        raise json_error(rules.already_members(already))
    call.sim.add_members(group, users)
    return Reply(200, {"success": "OK", "usernames": [u.username for u in users], "emails": []})


def remove_members(call: Call) -> Reply:
    """``GroupsController#remove_member``: ``{"usernames": [removed], "skipped_usernames": [...]}``."""
    group = _editable_group(call)
    if call.params.get("username") and not call.params.get("usernames"):
        call.params["usernames"] = call.params["username"]
    users = _users_from_params(call)
    if not users:
        raise invalid_params("user_ids or usernames or user_emails must be present")
    removed, skipped = call.sim.remove_members(group, users)
    return Reply(
        200,
        {
            "success": "OK",
            "usernames": [u.username for u in removed],
            "skipped_usernames": [u.username for u in skipped],
        },
    )


def create_group(call: Call) -> Reply:
    """``Admin::GroupsController#create``: ``params.require(:group)``; ``{"basic_group": {...}}``."""
    call.admin()
    attrs = call.require("group")
    if not isinstance(attrs, dict):
        raise invalid_params("group")
    split = lambda v: [n.strip() for n in str(v or "").split(",") if n.strip()]  # noqa: E731
    try:
        group = call.sim.create_group(
            str(attrs.get("name") or ""),
            full_name=attrs.get("full_name"),
            visibility_level=int(attrs.get("visibility_level") or 0),
            usernames=split(attrs.get("usernames")),
            owner_usernames=split(attrs.get("owner_usernames")),
        )
    except Invalid as exc:
        raise json_error(*exc.errors) from None
    return Reply(200, {"basic_group": ser.basic_group(call.sim, group)})


_SEG = r"([^/]+?)"
ROUTES = [
    ("GET", r"/u/by-external/(.+?)\.json", user_by_external_id),
    ("GET", rf"/u/{_SEG}/emails\.json", user_emails),
    ("GET", rf"/u/{_SEG}\.json", show_user),
    ("GET", r"/admin/users/list/([a-z_]+)\.json", admin_users),
    ("GET", rf"/groups/{_SEG}/members\.json", group_members),
    ("GET", rf"/groups/{_SEG}\.json", show_group),
    ("PUT", r"/groups/(\d+)/members\.json", add_members),
    ("DELETE", r"/groups/(\d+)/members\.json", remove_members),
    ("POST", r"/admin/groups\.json", create_group),
    ("GET", r"/admin/badges\.json", api_badges.admin_badges),
    ("GET", rf"/user-badges/{_SEG}\.json", api_badges.user_badges),
    ("POST", r"/user_badges\.json", api_badges.grant_badge),
    ("POST", r"/admin/badges/award/(\d+)(?:\.json)?", api_badges.mass_award),
]
