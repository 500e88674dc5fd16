"""Discourse's validations and the messages it answers them with (``config/locales/server.en.yml``).

Full messages are Rails' ``"%{attribute} %{message}"`` with Discourse's attribute names
(``Title``, ``Body``, ``Category``, ``Category Name``, ``Name``) and, for ``external_id``, Rails'
humanized ``External``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

NOT_FOUND = "The requested URL or resource could not be found."
INVALID_ACCESS = "You are not permitted to view the requested resource."
INVALID_API_CREDENTIALS = (
    "You are not permitted to view the requested resource. The API username or key is invalid."
)
NOT_LOGGED_IN = "You need to be logged in to do that."
INVALID_PARAMS = "You supplied invalid parameters to the request: {}"
TOPIC_NOT_FOUND = (
    "Something has gone wrong. Perhaps this topic was closed or deleted while you were looking at it?"
)
CATEGORY_NOT_FOUND = "Category not found!"
INVALID_BADGE_REASON = "External or invalid discourse link is not allowed in badge reason"
TOO_MANY_REQUESTS = "You’ve performed this action too many times. Please wait {} before trying again."
ADDING_TOO_MANY_USERS = "Maximum {} users can be added at once"
USERNAMES_REQUIRED = "Usernames or emails must be present"


def already_members(usernames: list[str]) -> str:
    """``groups.errors.member_already_exist``: one name quoted, several listed."""
    if len(usernames) == 1:
        return f"'{usernames[0]}' is already a member of this group."
    return f"The following users are already members of this group: {', '.join(usernames)}"


def too_short(attribute: str, count: int) -> str:
    unit = "character" if count == 1 else "characters"
    return f"{attribute} is too short (minimum is {count} {unit})"


def too_long(attribute: str, count: int) -> str:
    unit = "character" if count == 1 else "characters"
    return f"{attribute} is too long (maximum is {count} {unit})"


def time_left(seconds: int) -> str:
    """``RateLimiter.time_left``."""
    if seconds <= 3:
        return "a few seconds"
    if seconds < 60:
        return f"{seconds} seconds"
    if seconds < 3600:
        minutes = seconds // 60
        return f"{minutes} minute" + ("" if minutes == 1 else "s")
    hours = seconds // 3600
    return f"{hours} hour" + ("" if hours == 1 else "s")


@dataclass
class Settings:
    """The site settings the simulator enforces, at Discourse's defaults."""

    min_topic_title_length: int = 15
    max_topic_title_length: int = 255
    min_first_post_length: int = 20
    min_post_length: int = 20
    max_post_length: int = 32_000
    min_username_length: int = 3
    max_username_length: int = 20
    unique_posts_mins: int = 5
    allow_duplicate_topic_titles: bool = False
    #: ``PostsController#create`` memoizes API creates for 120 s (``DistributedMemoizer``).
    api_create_memo_seconds: float = 120.0


class Invalid(Exception):
    """A record failed validation: ``errors`` are Rails' full messages."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__("; ".join(errors))
        self.errors = errors


def clean_title(title: Any) -> str:
    """``TextCleaner.clean_title``'s visible effect: trimmed, inner whitespace squeezed."""
    return re.sub(r"\s+", " ", str(title or "")).strip()


def title_errors(title: str, settings: Settings) -> list[str]:
    errors = []
    if not title:
        errors.append("Title can't be blank")
    if len(title) < settings.min_topic_title_length:
        errors.append(too_short("Title", settings.min_topic_title_length))
    elif len(title) > settings.max_topic_title_length:
        errors.append(too_long("Title", settings.max_topic_title_length))
    return errors


def raw_errors(raw: str, *, first_post: bool, settings: Settings) -> list[str]:
    """``PostValidator``: presence, then the stripped length (first posts have their own minimum)."""
    errors = []
    stripped = raw.strip()
    if not stripped:
        errors.append("Body can't be blank")
    minimum = settings.min_first_post_length if first_post else settings.min_post_length
    if len(stripped) < minimum:
        errors.append(too_short("Body", minimum))
    elif len(stripped) > settings.max_post_length:
        errors.append(too_long("Body", settings.max_post_length))
    return errors


EXTERNAL_ID_MAX_LENGTH = 50
_EXTERNAL_ID = re.compile(r"\A[\w-]+\Z", re.ASCII)


def external_id_errors(external_id: str) -> list[str]:
    """``Topic`` validates ``external_id``: at most 50 characters of ``[\\w-]``."""
    errors = []
    if len(external_id) > EXTERNAL_ID_MAX_LENGTH:
        errors.append(too_long("External", EXTERNAL_ID_MAX_LENGTH))
    if not _EXTERNAL_ID.match(external_id):
        errors.append("External is invalid")
    return errors


_INVALID_CHAR = re.compile(r"[^\w.-]", re.ASCII)
_CONFUSING_SUFFIX = re.compile(r"\.(js|json|css|htm|html|xml|jpg|jpeg|png|gif|bmp|ico|tif|tiff|woff)\Z", re.I)
USERNAME_MAX_CHARS = 60


def username_errors(name: str, settings: Settings) -> list[str]:
    """``UsernameValidator`` (also what a group's name must pass): the first failing rule only."""
    if not name or not name.strip():
        return ["must be present"]
    if len(name) < settings.min_username_length:
        return [f"must be at least {settings.min_username_length} characters"]
    if len(name) > settings.max_username_length:
        return [f"must be no more than {settings.max_username_length} characters"]
    if len(name) > USERNAME_MAX_CHARS:
        return ["is too long"]
    if _INVALID_CHAR.search(name):
        return ["must only include numbers, letters, dashes, dots, and underscores"]
    if not (name[0].isalnum() or name[0] == "_"):
        return ["must begin with a letter, a number or an underscore"]
    if not name[-1].isalnum():
        return ["must end with a letter or a number"]
    if re.search(r"[-_.]{2,}", name):
        return ["must not contain a sequence of 2 or more special chars (.-_)"]
    if _CONFUSING_SUFFIX.search(name):
        return ["must not end with a confusing suffix like .json or .png etc."]
    return []


_HEX_COLOR = re.compile(r"\A(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6})\Z")


def color_errors(field: str, value: str) -> list[str]:
    return [] if _HEX_COLOR.match(value) else [f"{field} is invalid"]


def truthy(value: Any) -> bool:
    """Rails' boolean cast of a form value."""
    return str(value).lower() in ("true", "1", "t", "on", "yes")
