"""The endpoints, as Discourse's routes and controllers answer them (people in :mod:`.api_people`).

``route(method, path)`` finds the handler; each handler takes a :class:`~.rest.Call` and returns a
:class:`~.rest.Reply` or raises :class:`~.rest.ApiError`. Sources per handler: the named
controller action of discourse/discourse.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from eduvault.integrations.discourse.simulator import api_people, api_site, rules
from eduvault.integrations.discourse.simulator import serialize as ser
from eduvault.integrations.discourse.simulator import serialize_topics as tser
from eduvault.integrations.discourse.simulator.content import STATUSES
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

Handler = Callable[[Call], Reply]
PER_PAGE = 30  # TopicQuery: a topic list page
_NOT_FOUND_PAGE = {"title": "Page Not Found", "html": "<div class='page-not-found'></div>", "group": None}


# -- categories --------------------------------------------------------------------------------------


def categories(call: Call) -> Reply:
    """``CategoriesController#index`` (``CategoryList``): top level, children under ``subcategory_list``."""
    sim = call.sim
    listed = [c for c in sim.categories.values() if c.id != sim.uncategorized_id]
    with_children = str(call.params.get("include_subcategories", "")).lower() == "true"
    rows = []
    for c in sorted(listed, key=lambda c: (c.position, c.id)):
        if c.parent_category_id is not None:
            continue
        row = ser.category(sim, c)
        children = [ser.category(sim, o) for o in listed if o.parent_category_id == c.id]
        row["subcategory_ids"] = [o["id"] for o in children]
        if with_children:
            row["subcategory_list"] = children
        rows.append(row)
    admin = call.user is not None and call.user.admin
    return Reply(
        200,
        {
            "category_list": {
                "can_create_category": admin,
                "can_create_topic": call.user is not None,
                "categories": rows,
            }
        },
    )


def create_category(call: Call) -> Reply:
    """``CategoriesController#create``: name, color and text_color are required."""
    call.login()
    call.admin()
    name, color, text_color = call.require("name"), call.require("color"), call.require("text_color")
    parent = call.params.get("parent_category_id")
    if parent not in (None, "") and int(parent) not in call.sim.categories:
        raise json_error(rules.CATEGORY_NOT_FOUND)
    category = call.sim.create_category(
        str(name),
        color=str(color),
        text_color=str(text_color),
        slug=call.params.get("slug") or None,
        description=call.params.get("description"),
        parent_category_id=int(parent) if parent not in (None, "") else None,
    )
    return Reply(200, {"category": ser.category(call.sim, category)})


def update_category(call: Call) -> Reply:
    """``CategoriesController#update``: ``{"success": "OK", "category": {...}}``."""
    call.admin()
    category = _category(call, call.args[0])
    fields = {
        k: call.params[k]
        for k in ("name", "color", "text_color", "slug", "description", "parent_category_id")
        if k in call.params
    }
    category = call.sim.update_category(category.id, **fields)
    return Reply(200, {"success": "OK", "category": ser.category(call.sim, category)})


def show_category(call: Call) -> Reply:
    """``CategoriesController#show`` (``/c/{id}/show.json``)."""
    return Reply(200, {"category": ser.category(call.sim, _category(call, call.args[0]))})


def category_topics(call: Call) -> Reply:
    """``ListController#category_default``: pinned first, then by bump; ``page`` counts from 0."""
    sim = call.sim
    category = _category(call, call.args[-1])
    page = call.int_param("page", default=0)
    ids = {category.id} | {c.id for c in sim.categories.values() if c.parent_category_id == category.id}
    topics = [t for t in sim.topics.values() if t.category_id in ids and t.visible]
    topics.sort(key=lambda t: (t.pinned_at is None, -t.bumped_at, -t.id))
    chunk = topics[page * PER_PAGE : (page + 1) * PER_PAGE]
    user_ids = {sim.posts[p].user_id for t in chunk for p in t.post_ids}
    topic_list: dict[str, Any] = {
        "can_create_topic": call.user is not None,
        "per_page": PER_PAGE,
        "top_tags": [],
        "topics": [tser.topic_list_item(sim, t) for t in chunk],
    }
    if len(topics) > (page + 1) * PER_PAGE:
        topic_list["more_topics_url"] = f"/c/{category.slug}/{category.id}/l/latest?page={page + 1}"
    users = [ser.basic_user(sim.users[i]) for i in sorted(user_ids)]
    return Reply(200, {"users": users, "primary_groups": [], "flair_groups": [], "topic_list": topic_list})


def _category(call: Call, raw_id: str) -> Any:
    category = call.sim.categories.get(int(raw_id))
    if category is None:
        raise not_found()
    return category


# -- topics and posts ------------------------------------------------------------------------------------


def create_post(call: Call) -> Reply:
    """``PostsController#create``: the post (200) or ``{"action": "create_post", "errors": [...]}``
    (422); an API create is memoized for 120 s, so an identical retry gets the same answer."""
    user = call.login()
    permitted = ("raw", "title", "category", "topic_id", "external_id", "reply_to_post_number", "archetype")
    args = {k: call.params[k] for k in permitted if k in call.params}
    return call.sim.memoized(
        ("post", user.id, call.client, repr(sorted(args.items()))), lambda: _create_post(call, user, args)
    )


def _create_post(call: Call, user: Any, args: dict[str, Any]) -> Reply:
    try:
        post = call.sim.create_post(
            user,
            raw=args.get("raw"),
            title=args.get("title"),
            category=args.get("category"),
            topic_id=args.get("topic_id"),
            external_id=args.get("external_id"),
            reply_to_post_number=args.get("reply_to_post_number"),
        )
    except Invalid as exc:
        return Reply(422, {"action": "create_post", "errors": exc.errors})
    except LookupError:
        raise invalid_params("category") from None
    return Reply(200, {**tser.post(call.sim, post), "draft_sequence": 0})


def show_post(call: Call) -> Reply:
    post = call.sim.posts.get(int(call.args[0]))
    if post is None:
        raise not_found()
    return Reply(200, tser.post(call.sim, post, include_raw=True))


def update_post(call: Call) -> Reply:
    """``PostsController#update``: ``{"post": {...}}`` (``params.require(:post)``)."""
    user = call.login()
    body = call.require("post")
    post = call.sim.posts.get(int(call.args[0]))
    if post is None:
        raise not_found()
    if not (user.staff or user.id == post.user_id):
        raise invalid_access()
    try:
        post = call.sim.revise_post(
            post.id, str(body.get("raw", post.raw) if isinstance(body, dict) else body)
        )
    except Invalid as exc:
        raise json_error(*exc.errors) from None
    return Reply(200, {"post": tser.post(call.sim, post, include_raw=True)})


def topic_by_external_id(call: Call) -> Reply:
    """``TopicsController#show_by_external_id``: 301 to the topic's URL (``.json`` kept)."""
    external_id = call.args[0]
    topic = next((t for t in call.sim.topics.values() if t.external_id == external_id), None)
    if topic is None:
        raise not_found()
    return _redirect(call, topic)


def _redirect(call: Call, topic: Any) -> Reply:
    location = f"{call.sim.base_url}{topic.relative_url}.json"
    return Reply(301, b"", {"Location": location}, "text/html; charset=utf-8")


def show_topic(call: Call) -> Reply:
    """``TopicsController#show``: the topic view; a wrong slug redirects to the right one."""
    topic = call.sim.topics.get(int(call.args[-1]))
    if topic is None:
        raise not_found(_NOT_FOUND_PAGE)
    if len(call.args) == 2 and call.args[0] != topic.slug:
        return _redirect(call, topic)
    return Reply(200, tser.topic_view(call.sim, topic))


def topic_posts(call: Call) -> Reply:
    topic = call.sim.topics.get(int(call.args[0]))
    if topic is None:
        raise not_found()
    wanted = call.params.get("post_ids") or []
    wanted = wanted if isinstance(wanted, list) else [wanted]
    try:
        ids = [int(i) for i in wanted]
    except ValueError:
        raise invalid_params("post_ids") from None
    return Reply(200, tser.topic_posts(call.sim, topic, ids))


def update_topic(call: Call) -> Reply:
    """``TopicsController#update`` (``PUT /t/-/{id}.json``): ``{"basic_topic": {...}}``."""
    user = call.login()
    topic = call.sim.topics.get(int(call.args[-1]))
    if topic is None or not (user.staff or user.id == topic.user_id):
        raise invalid_access()  # guardian.ensure_can_edit!(nil) is an InvalidAccess too
    try:
        topic = call.sim.update_topic(
            topic.id, title=call.params.get("title"), category_id=call.params.get("category_id")
        )
    except Invalid as exc:
        raise json_error(*exc.errors) from None
    return Reply(200, {"basic_topic": tser.basic_topic(topic)})


def topic_status(call: Call) -> Reply:
    """``TopicsController#status``: ``enabled`` is on only when it is the string ``"true"``
    (``params[:enabled] == "true"``), so a JSON ``true`` turns the status off."""
    user = call.login()
    status = call.require("status")
    enabled = call.require("enabled") == "true"
    if status not in STATUSES:
        raise invalid_params("status")
    topic = call.sim.topics.get(int(call.args[0]))
    if topic is None or not user.staff:
        raise invalid_access()
    call.sim.set_status(topic.id, str(status), enabled)
    return Reply(200, {"success": "OK", "topic_status_update": None})


# -- routes -------------------------------------------------------------------------------------------

_SEG = r"([^/]+?)"
ROUTES: list[tuple[str, re.Pattern[str], Handler]] = [
    (m, re.compile(f"^{p}$"), h)
    for m, p, h in [
        ("GET", r"/site\.json", api_site.site),
        ("GET", r"/about\.json", api_site.about),
        ("GET", r"/categories\.json", categories),
        ("POST", r"/categories\.json", create_category),
        ("PUT", r"/categories/(\d+)\.json", update_category),
        ("GET", r"/c/(\d+)/show\.json", show_category),
        ("GET", r"/c/(\d+)\.json", category_topics),
        ("GET", rf"/c/{_SEG}/(\d+)\.json", category_topics),
        ("POST", r"/posts\.json", create_post),
        ("GET", r"/posts/(\d+)\.json", show_post),
        ("PUT", r"/posts/(\d+)\.json", update_post),
        ("GET", r"/t/external_id/([\w-]+)\.json", topic_by_external_id),
        ("GET", r"/t/(\d+)/posts\.json", topic_posts),
        ("PUT", r"/t/(\d+)/status\.json", topic_status),
        ("GET", r"/t/(\d+)\.json", show_topic),
        ("GET", rf"/t/{_SEG}/(\d+)\.json", show_topic),
        ("PUT", rf"/t/{_SEG}/(\d+)\.json", update_topic),
        *api_people.ROUTES,
    ]
]


def route(method: str, path: str) -> tuple[Handler, tuple[str, ...]] | None:
    for route_method, pattern, handler in ROUTES:
        if route_method == method:
            match = pattern.match(path)
            if match:
                return handler, match.groups()
    return None


__all__ = ["ROUTES", "ApiError", "route"]
