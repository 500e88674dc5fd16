"""The simulated Discourse's records, and the small helpers Discourse applies to them.

Ids follow a fresh Discourse site: the system user is ``-1``, real users start at ``1``;
automatic groups keep their fixed ids (``Group::AUTO_GROUPS``: admins 1, moderators 2, staff 3,
trust_level_0..4 10..14) and custom groups come after them; badges below 100 are system badges
(``Badge`` reserves them), custom badges start at 100.
"""

from __future__ import annotations

import html
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import UTC, datetime

AUTO_GROUPS = {
    "admins": 1,
    "moderators": 2,
    "staff": 3,
    "trust_level_0": 10,
    "trust_level_1": 11,
    "trust_level_2": 12,
    "trust_level_3": 13,
    "trust_level_4": 14,
}
#: ``BadgeType``: Gold 1, Silver 2, Bronze 3.
BADGE_TYPES = [
    {"id": 1, "name": "Gold", "sort_order": 9},
    {"id": 2, "name": "Silver", "sort_order": 8},
    {"id": 3, "name": "Bronze", "sort_order": 7},
]


def iso(ts: float | None) -> str | None:
    """Rails' JSON time: ISO 8601 in UTC with milliseconds and a ``Z``."""
    if ts is None:
        return None
    moment = datetime.fromtimestamp(ts, UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def slugify(text: str) -> str:
    """``Slug.for`` with the default ``ascii`` method: transliterated, lower case, dashes."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    return re.sub(r"-{2,}", "-", slug)


def cook(raw: str) -> str:
    """A stand-in for PrettyText: paragraphs and line breaks, HTML-escaped (no Markdown)."""
    paragraphs = [p for p in re.split(r"\n\s*\n", raw.strip()) if p.strip()]
    return "\n".join("<p>" + html.escape(p.strip()).replace("\n", "<br>\n") + "</p>" for p in paragraphs)


def avatar_template(username: str) -> str:
    return f"/letter_avatar_proxy/v4/letter/{username[:1].lower() or 'x'}/8e7dd6/{{size}}.png"


@dataclass
class User:
    id: int
    username: str
    name: str
    email: str
    created_at: float
    admin: bool = False
    moderator: bool = False
    active: bool = True
    trust_level: int = 1
    external_id: str | None = None
    title: str | None = None
    bio_raw: str = ""
    location: str = ""
    website: str = ""
    secondary_emails: list[str] = field(default_factory=list)
    last_seen_at: float | None = None
    updated_at: float = 0.0

    @property
    def staff(self) -> bool:
        return self.admin or self.moderator


@dataclass
class Category:
    id: int
    name: str
    slug: str
    color: str
    text_color: str
    created_at: float
    description: str | None = None
    parent_category_id: int | None = None
    topic_id: int | None = None
    position: int = 0
    updated_at: float = 0.0


@dataclass
class Post:
    id: int
    topic_id: int
    user_id: int
    post_number: int
    raw: str
    created_at: float
    updated_at: float
    version: int = 1
    reply_to_post_number: int | None = None
    post_type: int = 1

    @property
    def cooked(self) -> str:
        return cook(self.raw)


@dataclass
class Topic:
    id: int
    title: str
    slug: str
    category_id: int | None
    user_id: int
    created_at: float
    external_id: str | None = None
    closed: bool = False
    archived: bool = False
    visible: bool = True
    pinned_at: float | None = None
    post_ids: list[int] = field(default_factory=list)
    views: int = 0
    last_post_user_id: int | None = None
    bumped_at: float = 0.0
    last_posted_at: float | None = None
    updated_at: float = 0.0

    @property
    def relative_url(self) -> str:
        return f"/t/{self.slug}/{self.id}"


@dataclass
class Group:
    id: int
    name: str
    created_at: float
    full_name: str | None = None
    automatic: bool = False
    visibility_level: int = 0
    members_visibility_level: int = 0
    mentionable_level: int = 0
    messageable_level: int = 0
    title: str | None = None
    bio_raw: str = ""
    #: user id → when they were added (``group_users.created_at``).
    members: dict[int, float] = field(default_factory=dict)
    owners: set[int] = field(default_factory=set)
    updated_at: float = 0.0


@dataclass
class Badge:
    id: int
    name: str
    created_at: float
    description: str = ""
    multiple_grant: bool = False
    enabled: bool = True
    badge_type_id: int = 3
    badge_grouping_id: int = 5
    system: bool = False
    icon: str = "certificate"
    listable: bool = True
    allow_title: bool = False
    grant_count: int = 0

    @property
    def slug(self) -> str:
        return slugify(self.name)


@dataclass
class UserBadge:
    id: int
    badge_id: int
    user_id: int
    granted_at: float
    granted_by_id: int
    post_id: int | None = None
    seq: int = 0
