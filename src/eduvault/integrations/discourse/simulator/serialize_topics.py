"""Discourse's JSON shapes for topics and posts (``app/serializers/``).

``post`` follows ``PostSerializer``, ``topic_view`` ``TopicViewSerializer`` (with its
``post_stream``: the first ``chunk_size`` = 20 posts and the ids of all of them), ``topic_list_item``
``TopicListItemSerializer``, ``basic_topic`` ``BasicTopicSerializer``, and the webhook payloads
``WebHookPostSerializer`` and ``WebHookTopicViewSerializer``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from eduvault.integrations.discourse.simulator.models import Post, Topic, avatar_template, iso
from eduvault.integrations.discourse.simulator.serialize import basic_user

if TYPE_CHECKING:
    from eduvault.integrations.discourse.simulator.state import ForumState

CHUNK_SIZE = 20


def post(forum: ForumState, p: Post, *, include_raw: bool = False, webhook: bool = False) -> dict[str, Any]:
    topic = forum.topics[p.topic_id]
    author = forum.users[p.user_id]
    body: dict[str, Any] = {
        "id": p.id,
        "name": author.name,
        "username": author.username,
        "avatar_template": avatar_template(author.username),
        "created_at": iso(p.created_at),
        "cooked": p.cooked,
        "post_number": p.post_number,
        "post_type": p.post_type,
        "posts_count": len(topic.post_ids),
        "updated_at": iso(p.updated_at),
        "reply_count": sum(1 for i in topic.post_ids if forum.posts[i].reply_to_post_number == p.post_number),
        "reply_to_post_number": p.reply_to_post_number,
        "quote_count": 0,
        "incoming_link_count": 0,
        "reads": 1,
        "readers_count": 0,
        "score": 0,
        "yours": False,
        "topic_id": topic.id,
        "topic_slug": topic.slug,
        "topic_title": topic.title,
        "display_username": author.name,
        "primary_group_name": None,
        "flair_name": None,
        "version": p.version,
        "can_edit": True,
        "can_delete": p.post_number > 1,
        "can_recover": False,
        "can_see_hidden_post": True,
        "can_wiki": True,
        "user_title": author.title,
        "bookmarked": False,
        "actions_summary": [],
        "moderator": author.moderator,
        "admin": author.admin,
        "staff": author.staff,
        "user_id": author.id,
        "hidden": False,
        "trust_level": author.trust_level,
        "deleted_at": None,
        "user_deleted": False,
        "edit_reason": None,
        "can_view_edit_history": True,
        "wiki": False,
        "category_id": topic.category_id,
    }
    if include_raw or webhook:
        body["raw"] = p.raw
    if webhook:
        for key in (
            "can_edit",
            "can_delete",
            "can_recover",
            "can_see_hidden_post",
            "can_wiki",
            "actions_summary",
            "can_view_edit_history",
            "yours",
        ):
            body.pop(key)
        body["topic_posts_count"] = len(topic.post_ids)
        body["topic_filtered_posts_count"] = len(topic.post_ids)
        body["topic_archetype"] = "regular"
        category = forum.categories.get(topic.category_id) if topic.category_id else None
        if category is not None:
            body["category_slug"] = category.slug
    return body


def _participants(forum: ForumState, topic: Topic) -> list[dict[str, Any]]:
    counts: dict[int, int] = {}
    for pid in topic.post_ids:
        uid = forum.posts[pid].user_id
        counts[uid] = counts.get(uid, 0) + 1
    return [{**basic_user(forum.users[uid]), "post_count": n} for uid, n in counts.items()]


def _topic_attributes(forum: ForumState, topic: Topic) -> dict[str, Any]:
    posts = [forum.posts[i] for i in topic.post_ids]
    body: dict[str, Any] = {
        "id": topic.id,
        "title": topic.title,
        "fancy_title": topic.title,
        "posts_count": len(posts),
        "created_at": iso(topic.created_at),
        "views": topic.views,
        "reply_count": max(len(posts) - 1, 0),
        "like_count": 0,
        "last_posted_at": iso(topic.last_posted_at),
        "visible": topic.visible,
        "closed": topic.closed,
        "archived": topic.archived,
        "has_summary": False,
        "archetype": "regular",
        "slug": topic.slug,
        "category_id": topic.category_id,
        "word_count": sum(len(p.raw.split()) for p in posts),
        "deleted_at": None,
        "user_id": topic.user_id,
        "featured_link": None,
        "pinned_globally": False,
        "pinned_at": iso(topic.pinned_at),
        "pinned_until": None,
        "image_url": None,
        "slow_mode_seconds": 0,
    }
    if topic.external_id is not None:  # include_external_id? is external_id.present?
        body["external_id"] = topic.external_id
    return body


def topic_view(forum: ForumState, topic: Topic) -> dict[str, Any]:
    posts = [forum.posts[i] for i in topic.post_ids]
    creator = forum.users[topic.user_id]
    last = forum.users.get(topic.last_post_user_id or topic.user_id, creator)
    return {
        "post_stream": {
            "posts": [post(forum, p) for p in posts[:CHUNK_SIZE]],
            "stream": [p.id for p in posts],
        },
        "timeline_lookup": [[1, 0]],
        "suggested_topics": [],
        "tags": [],
        "tags_descriptions": {},
        **_topic_attributes(forum, topic),
        "draft": None,
        "draft_key": f"topic_{topic.id}",
        "draft_sequence": 0,
        "unpinned": None,
        "pinned": topic.pinned_at is not None,
        "current_post_number": 1,
        "highest_post_number": posts[-1].post_number if posts else 0,
        "deleted_by": None,
        "has_deleted": False,
        "actions_summary": [],
        "chunk_size": CHUNK_SIZE,
        "bookmarked": False,
        "bookmarks": [],
        "topic_timer": None,
        "message_bus_last_id": 0,
        "participant_count": len(_participants(forum, topic)),
        "show_read_indicator": False,
        "thumbnails": None,
        "slow_mode_enabled_until": None,
        "details": {
            "can_edit": True,
            "notification_level": 1,
            "can_move_posts": True,
            "can_delete": True,
            "can_close_topic": True,
            "can_archive_topic": True,
            "can_create_post": not topic.archived,
            "can_reply_as_new_topic": True,
            "created_by": basic_user(creator),
            "last_poster": basic_user(last),
            "participants": _participants(forum, topic),
        },
    }


def topic_posts(forum: ForumState, topic: Topic, post_ids: list[int]) -> dict[str, Any]:
    """``TopicViewPostsSerializer`` (``GET /t/{id}/posts.json?post_ids[]=…``)."""
    wanted = set(post_ids)
    posts = [forum.posts[i] for i in topic.post_ids if i in wanted]
    return {"post_stream": {"posts": [post(forum, p) for p in posts]}, "id": topic.id}


def topic_webhook(forum: ForumState, topic: Topic) -> dict[str, Any]:
    """``WebHookTopicViewSerializer``: the topic view without its stream, with its people."""
    creator = forum.users[topic.user_id]
    last = forum.users.get(topic.last_post_user_id or topic.user_id, creator)
    body = _topic_attributes(forum, topic)
    body.pop("has_summary")
    body.pop("image_url")
    body.update(
        {
            "tags": [],
            "tags_descriptions": {},
            "unpinned": None,
            "pinned": topic.pinned_at is not None,
            "highest_post_number": len(topic.post_ids),
            "deleted_by": None,
            "bookmarked": False,
            "participant_count": len(_participants(forum, topic)),
            "thumbnails": None,
            "created_by": basic_user(creator),
            "last_poster": basic_user(last),
        }
    )
    return body


def basic_topic(topic: Topic) -> dict[str, Any]:
    return {
        "id": topic.id,
        "title": topic.title,
        "fancy_title": topic.title,
        "slug": topic.slug,
        "posts_count": len(topic.post_ids),
    }


def topic_list_item(forum: ForumState, topic: Topic) -> dict[str, Any]:
    posters = []
    for i, (uid, _) in enumerate(_participants_order(forum, topic)):
        description = "Original Poster" if i == 0 else "Frequent Poster"
        posters.append({"extras": None, "description": description, "user_id": uid, "primary_group_id": None})
    return {
        "id": topic.id,
        "title": topic.title,
        "fancy_title": topic.title,
        "slug": topic.slug,
        "posts_count": len(topic.post_ids),
        "reply_count": max(len(topic.post_ids) - 1, 0),
        "highest_post_number": len(topic.post_ids),
        "image_url": None,
        "created_at": iso(topic.created_at),
        "last_posted_at": iso(topic.last_posted_at),
        "bumped": True,
        "bumped_at": iso(topic.bumped_at),
        "archetype": "regular",
        "unseen": False,
        "pinned": topic.pinned_at is not None,
        "unpinned": None,
        "visible": topic.visible,
        "closed": topic.closed,
        "archived": topic.archived,
        "bookmarked": None,
        "liked": None,
        "views": topic.views,
        "like_count": 0,
        "has_summary": False,
        "last_poster_username": forum.users[topic.last_post_user_id or topic.user_id].username,
        "category_id": topic.category_id,
        "pinned_globally": False,
        "featured_link": None,
        "posters": posters,
    }


def _participants_order(forum: ForumState, topic: Topic) -> list[tuple[int, int]]:
    seen: dict[int, int] = {}
    for pid in topic.post_ids:
        seen.setdefault(forum.posts[pid].user_id, len(seen))
    return sorted(seen.items(), key=lambda kv: kv[1])[:5]
