"""Discourse's JSON shapes for users, groups, badges and categories (``app/serializers/``).

Each function names the serializer it follows; attributes that only make sense for a browser
session (notification counts, theme ids …) are left out. ``forum`` is the simulator's state.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from eduvault.integrations.discourse.simulator.models import (
    BADGE_TYPES,
    Badge,
    Category,
    Group,
    User,
    UserBadge,
    avatar_template,
    cook,
    iso,
)

if TYPE_CHECKING:
    from eduvault.integrations.discourse.simulator.state import ForumState


def basic_user(user: User) -> dict[str, Any]:
    """``BasicUserSerializer``."""
    return {
        "id": user.id,
        "username": user.username,
        "name": user.name,
        "avatar_template": avatar_template(user.username),
    }


def user(forum: ForumState, u: User, *, admin_view: bool, webhook: bool = False) -> dict[str, Any]:
    """``UserSerializer`` (``GET /u/{username}.json``); ``WebHookUserSerializer`` when ``webhook``."""
    groups = [basic_group(forum, g) for g in forum.groups.values() if u.id in g.members and not g.automatic]
    body: dict[str, Any] = {
        **basic_user(u),
        "last_posted_at": iso(forum.last_posted_at(u.id)),
        "last_seen_at": iso(u.last_seen_at),
        "created_at": iso(u.created_at),
        "ignored": False,
        "muted": False,
        "can_ignore_user": False,
        "can_mute_user": False,
        "can_send_private_messages": True,
        "can_send_private_message_to_user": True,
        "trust_level": u.trust_level,
        "moderator": u.moderator,
        "admin": u.admin,
        "title": u.title,
        "badge_count": sum(1 for ub in forum.user_badges.values() if ub.user_id == u.id),
        "post_count": forum.post_count(u.id),
        "profile_view_count": 0,
        "time_read": 0,
        "recent_time_read": 0,
        "primary_group_id": None,
        "flair_group_id": None,
        "bio_raw": u.bio_raw,
        "bio_cooked": cook(u.bio_raw) if u.bio_raw else None,
        "bio_excerpt": u.bio_raw[:300] if u.bio_raw else None,
        "location": u.location,
        "website": u.website,
        "website_name": u.website.split("//")[-1].split("/")[0] if u.website else None,
        "can_edit": admin_view,
        "can_edit_username": admin_view,
        "can_edit_email": admin_view,
        "can_edit_name": admin_view,
        "user_fields": {},
        "groups": groups,
        "featured_user_badge_ids": [],
        "invited_by": None,
        "user_option": {"user_id": u.id, "email_level": 1, "email_messages_level": 0, "timezone": "UTC"},
    }
    if webhook:  # UserSerializer shows the email only to its owner (or staff, for staged users)
        body["email"] = u.email
        body["secondary_emails"] = list(u.secondary_emails)
    if webhook:
        for key in ("can_edit", "can_edit_username", "can_edit_email", "can_edit_name", "bio_cooked"):
            body.pop(key, None)
        body.pop("can_ignore_user")
        body.pop("can_mute_user")
        body.pop("ignored")
        if u.external_id is not None:
            body["external_id"] = u.external_id
    return body


def admin_user(forum: ForumState, u: User, *, show_emails: bool) -> dict[str, Any]:
    """``AdminUserListSerializer`` (``/admin/users/list/{query}.json``)."""
    body = {
        **basic_user(u),
        "active": u.active,
        "admin": u.admin,
        "moderator": u.moderator,
        "last_seen_at": iso(u.last_seen_at),
        "last_emailed_at": None,
        "created_at": iso(u.created_at),
        "last_seen_age": None,
        "last_emailed_age": None,
        "created_at_age": max(forum.clock() - u.created_at, 0.0),
        "trust_level": u.trust_level,
        "manual_locked_trust_level": None,
        "title": u.title,
        "time_read": 0,
        "staged": False,
        "days_visited": 0,
        "posts_read_count": 0,
        "topics_entered": 0,
        "post_count": forum.post_count(u.id),
    }
    if show_emails:
        body["email"] = u.email
        body["secondary_emails"] = list(u.secondary_emails)
    return body


def basic_group(forum: ForumState, g: Group) -> dict[str, Any]:
    """``BasicGroupSerializer``."""
    return {
        "id": g.id,
        "automatic": g.automatic,
        "name": g.name,
        "display_name": g.name,
        "user_count": len(g.members),
        "mentionable_level": g.mentionable_level,
        "messageable_level": g.messageable_level,
        "visibility_level": g.visibility_level,
        "primary_group": False,
        "title": g.title,
        "grant_trust_level": None,
        "incoming_email": None,
        "has_messages": False,
        "flair_url": None,
        "flair_bg_color": None,
        "flair_color": None,
        "bio_raw": g.bio_raw,
        "bio_cooked": cook(g.bio_raw) if g.bio_raw else None,
        "bio_excerpt": g.bio_raw[:300] if g.bio_raw else None,
        "public_admission": False,
        "public_exit": False,
        "allow_membership_requests": False,
        "full_name": g.full_name,
        "default_notification_level": 3,
        "membership_request_template": None,
        "members_visibility_level": g.members_visibility_level,
        "can_see_members": True,
        "can_admin_group": True,
        "publish_read_state": False,
    }


def group_show(forum: ForumState, g: Group, viewer: User | None) -> dict[str, Any]:
    """``GroupShowSerializer``."""
    return {
        **basic_group(forum, g),
        "is_group_user": viewer is not None and viewer.id in g.members,
        "is_group_owner": viewer is not None and viewer.id in g.owners,
        "is_group_owner_display": viewer is not None and viewer.id in g.owners,
        "mentionable": False,
        "messageable": False,
        "automatic_membership_email_domains": None,
        "smtp_updated_at": None,
        "imap_updated_at": None,
        "flair_icon": None,
        "flair_type": None,
    }


def group_member(forum: ForumState, u: User, g: Group) -> dict[str, Any]:
    """``GroupUserSerializer``."""
    return {
        **basic_user(u),
        "title": u.title,
        "last_posted_at": iso(forum.last_posted_at(u.id)),
        "last_seen_at": iso(u.last_seen_at),
        "added_at": iso(g.members.get(u.id)),
        "timezone": "UTC",
    }


def group_user_webhook(g: Group, u: User, membership_id: int) -> dict[str, Any]:
    """``WebHookGroupUserSerializer``."""
    return {
        "id": membership_id,
        "group_id": g.id,
        "user_id": u.id,
        "notification_level": 3,
        "owner": u.id in g.owners,
    }


def badge(b: Badge) -> dict[str, Any]:
    """``BadgeSerializer``."""
    return {
        "id": b.id,
        "name": b.name,
        "description": b.description,
        "grant_count": b.grant_count,
        "allow_title": b.allow_title,
        "multiple_grant": b.multiple_grant,
        "icon": b.icon,
        "image_url": None,
        "listable": b.listable,
        "enabled": b.enabled,
        "badge_grouping_id": b.badge_grouping_id,
        "system": b.system,
        "slug": b.slug,
        "manually_grantable": not b.system,
        "show_in_post_header": False,
        "badge_type_id": b.badge_type_id,
    }


def user_badge(forum: ForumState, ub: UserBadge) -> dict[str, Any]:
    """``DetailedUserBadgeSerializer`` (badges, types and granters side-loaded by the caller)."""
    post = forum.posts.get(ub.post_id) if ub.post_id else None
    return {
        "id": ub.id,
        "granted_at": iso(ub.granted_at),
        "created_at": iso(ub.granted_at),
        "count": 1,
        "post_id": ub.post_id,
        "post_number": post.post_number if post else None,
        "badge_id": ub.badge_id,
        "user_id": ub.user_id,
        "granted_by_id": ub.granted_by_id,
        "topic_id": post.topic_id if post else None,
        "can_favorite": False,
        "is_favorite": False,
    }


def user_badge_webhook(ub: UserBadge) -> dict[str, Any]:
    """``WebHookUserBadgeSerializer``."""
    return {
        "id": ub.id,
        "badge_id": ub.badge_id,
        "user_id": ub.user_id,
        "granted_by_id": ub.granted_by_id,
        "granted_at": iso(ub.granted_at),
        "post_id": ub.post_id,
    }


def user_badges(forum: ForumState, items: list[UserBadge], root: str) -> dict[str, Any]:
    """A user badge (``root="user_badge"``) or a list of them, with Discourse's side-loads."""
    badge_ids = sorted({ub.badge_id for ub in items})
    granter_ids = sorted({ub.granted_by_id for ub in items})
    rows = [user_badge(forum, ub) for ub in items]
    return {
        "badges": [badge(forum.badges[i]) for i in badge_ids],
        "badge_types": BADGE_TYPES,
        "granted_bies": [basic_user(forum.users[i]) for i in granter_ids if i in forum.users],
        root: rows[0] if root == "user_badge" else rows,
    }


def category(forum: ForumState, c: Category) -> dict[str, Any]:
    """``CategorySerializer`` (``BasicCategorySerializer`` plus the editing fields)."""
    topics = [t for t in forum.topics.values() if t.category_id == c.id and t.id != c.topic_id]
    return {
        "id": c.id,
        "name": c.name,
        "color": c.color,
        "text_color": c.text_color,
        "slug": c.slug,
        "topic_count": len(topics),
        "post_count": sum(len(t.post_ids) for t in topics),
        "position": c.position,
        "description": c.description,
        "description_text": c.description,
        "description_excerpt": c.description,
        "topic_url": forum.topics[c.topic_id].relative_url if c.topic_id in forum.topics else None,
        "read_restricted": False,
        "permission": 1,
        "notification_level": 1,
        "topic_template": None,
        "has_children": any(o.parent_category_id == c.id for o in forum.categories.values()),
        "subcategory_count": sum(1 for o in forum.categories.values() if o.parent_category_id == c.id),
        "sort_order": None,
        "sort_ascending": None,
        "show_subcategory_list": False,
        "num_featured_topics": 3,
        "default_view": None,
        "subcategory_list_style": "rows_with_featured_topics",
        "default_top_period": "all",
        "default_list_filter": "all",
        "minimum_required_tags": 0,
        "navigate_to_first_post_after_read": False,
        "uploaded_logo": None,
        "uploaded_background": None,
        "parent_category_id": c.parent_category_id,
        "topic_id": c.topic_id,
        "can_edit": True,
        "available_groups": [],
        "auto_close_hours": None,
        "auto_close_based_on_last_post": False,
        "group_permissions": [{"permission_type": 1, "group_name": "everyone", "group_id": 0}],
        "email_in": None,
        "email_in_allow_strangers": False,
        "mailinglist_mirror": False,
        "all_topics_wiki": False,
        "allow_badges": True,
        "custom_fields": {},
        "created_at": iso(c.created_at),
    }
