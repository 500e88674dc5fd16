"""``GET /site.json`` (``SiteController#site``) and ``GET /about.json`` (``AboutController#index``)."""

from __future__ import annotations

from eduvault.integrations.discourse.simulator import serialize as ser
from eduvault.integrations.discourse.simulator.models import iso
from eduvault.integrations.discourse.simulator.rest import Call, Reply


def site(call: Call) -> Reply:
    """``SiteController#site`` (``SiteSerializer``), the parts an integration reads."""
    sim = call.sim
    return Reply(
        200,
        {
            "default_archetype": "regular",
            "notification_types": {
                "mentioned": 1,
                "replied": 2,
                "quoted": 3,
                "edited": 4,
                "liked": 5,
                "private_message": 6,
                "posted": 9,
                "granted_badge": 12,
            },
            "post_types": {"regular": 1, "moderator_action": 2, "small_action": 3, "whisper": 4},
            "trust_levels": {"newuser": 0, "basic": 1, "member": 2, "regular": 3, "leader": 4},
            "groups": [
                {"id": g.id, "name": g.name, "flair_url": None, "flair_bg_color": None, "flair_color": None}
                for g in sorted(sim.groups.values(), key=lambda g: g.name)
            ],
            "filters": ["latest", "unread", "new", "unseen", "top", "read", "posted", "bookmarks"],
            "periods": ["all", "yearly", "quarterly", "monthly", "weekly", "daily"],
            "top_menu_items": ["latest", "new", "unread", "unseen", "top", "categories"],
            "anonymous_top_menu_items": ["latest", "top", "categories"],
            "uncategorized_category_id": sim.uncategorized_id,
            "user_field_max_length": 2048,
            "post_action_types": [],
            "topic_flag_types": [],
            "can_create_tag": False,
            "can_tag_topics": False,
            "can_tag_pms": False,
            "tags_filter_regexp": "[/\\?#\\[\\]@!\\$&'\\(\\)\\*\\+,;=\\.%\\\\`^\\s|\\{\\}\"<>]+",
            "top_tags": [],
            "topic_featured_link_allowed_category_ids": [],
            "user_themes": [],
            "user_color_schemes": [],
            "censored_regexp": [],
            "custom_emoji_translation": {},
            "watched_words_replace": None,
            "watched_words_link": None,
            "categories": [
                ser.category(sim, c) for c in sorted(sim.categories.values(), key=lambda c: c.position)
            ],
            "archetypes": [{"id": "regular", "name": "Regular Topic", "options": []}],
            "user_fields": [],
            "auth_providers": [],
        },
    )


def about(call: Call) -> Reply:
    """``AboutController#index`` (``AboutSerializer``)."""
    sim = call.sim
    people = [u for u in sim.users.values() if u.id > 0]
    admins = [ser.basic_user(u) for u in people if u.admin]
    moderators = [ser.basic_user(u) for u in people if u.moderator]
    return Reply(
        200,
        {
            "about": {
                "stats": {
                    "topic_count": len(sim.topics),
                    "post_count": len(sim.posts),
                    "user_count": len(people),
                    "active_users_7_days": len(people),
                    "active_users_30_days": len(people),
                    "like_count": 0,
                },
                "description": sim.description,
                "extended_site_description": None,
                "banner_image": None,
                "site_creation_date": iso(sim.created_at),
                "title": sim.title,
                "locale": "en",
                "version": sim.version,
                "https": False,
                "can_see_about_stats": True,
                "contact_url": "",
                "contact_email": sim.contact_email,
                "moderator_ids": [m["id"] for m in moderators],
                "admin_ids": [a["id"] for a in admins],
                "category_moderators": [],
                "admins": admins,
                "moderators": moderators,
            }
        },
    )
