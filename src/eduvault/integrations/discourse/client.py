"""HTTP client for the Discourse REST API, authenticated with an admin API key.

What it relies on (discourse/discourse ``config/routes.rb``, ``app/controllers/*``,
``application_controller.rb``):

- Credentials go in the ``Api-Key`` and ``Api-Username`` headers, never in the URL or body.
- The admin API allows ``max_admin_api_reqs_per_minute`` (60) requests a key, over a sliding
  minute. A token bucket (:mod:`.pacing`) shared by the source's clients in the process
  keeps us below it. A 429 is answered with ``{"errors": [...], "error_type": "rate_limit",
  "extras": {"wait_seconds": N}}`` and ``Retry-After: N``: waited and tried again.
- 5xx, timeouts and connection errors are retried with backoff and jitter; 4xx are the
  forum's answer on the merits (:class:`DiscourseRefused`), except 404 on the lookups that
  say they return ``None``.
- ``GET /t/external_id/{id}.json`` answers ``301`` to ``/t/{slug}/{id}.json``
  (``TopicsController#redirect_to_correct_topic``). Only that request follows redirects,
  by hand, and only within the same origin: httpx's own redirect following would carry our
  ``Api-Key`` header to any host (it strips only ``Authorization``).
- Lists: ``/c/{id}.json?page=N`` (from 0) and ``/admin/users/list/active.json?page=N``
  (from 1, ``AdminUserIndexQuery``: 100 a page) are read until a page is empty;
  ``/groups/{name}/members.json`` by ``offset``/``limit`` (``limit`` at most 1000, 50 by
  default) until ``meta.total``; a topic's posts beyond its first chunk by
  ``/t/{id}/posts.json?post_ids[]=…``, 20 at a time (``posts_chunksize``).
- ``PUT /groups/{id}/members.json`` takes at most ``ADD_MEMBERS_LIMIT`` (1000) users and
  answers 422 (``member_already_exist``) when *every* user named is already a member; so
  the current members are read first and never sent again.

Every answer is read to at most :data:`MAX_BODY_BYTES`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any
from urllib.parse import quote, urljoin

import httpx
import structlog

from eduvault import __version__
from eduvault.integrations.discourse.http import decode_json, error_text, retry_after_seconds
from eduvault.integrations.discourse.pacing import TokenBucket, bucket_for, bucket_key
from eduvault.kernel.backoff import retry_delay
from eduvault.kernel.errors import SourceError, SourceRateLimited, SourceRejected, SourceUnavailable

log = structlog.get_logger(__name__)

#: Discourse's ``GroupsController::ADD_MEMBERS_LIMIT``: users one ``PUT …/members.json`` may name.
MEMBERS_PER_REQUEST = 1000
#: ``Admin::BadgesController::MAX_CSV_LINES``: the most people one mass award names.
MASS_AWARD_LIMIT = 50_000
#: Members asked for per page (``MEMBERS_DEFAULT_PAGE_SIZE``; the server's maximum is 1000).
MEMBERS_PAGE_SIZE = 1000
#: Post ids asked for per ``/t/{id}/posts.json`` request (Discourse's ``posts_chunksize``).
POSTS_PER_REQUEST = 20
#: The longest answer read, in bytes; a longer one is refused.
MAX_BODY_BYTES = 8 * 1024 * 1024
#: A list longer than this many pages is refused (a server that never stops).
MAX_PAGES = 10_000
#: Never wait longer than this for one 429; a longer wait is left to the caller.
MAX_RETRY_AFTER = 120.0
#: How long a 429 waits when it says nothing.
DEFAULT_RATE_LIMIT_WAIT = 10.0
#: Redirects followed at most, where following is allowed at all.
MAX_REDIRECTS = 3


class DiscourseRateLimited(SourceRateLimited):
    """Discourse kept asking us to slow down (429)."""


class DiscourseRefused(SourceRejected):
    """Discourse refused the request (a 4xx on the merits: validation, permission, missing)."""

    def __init__(self, detail: str | None = None, *, status: int, **context: Any) -> None:
        #: Discourse's own status (``status`` stays the one Edu Vault's API answers with: 502).
        self.forum_status = status
        super().__init__(detail, **context)


class DiscourseClient:
    def __init__(
        self,
        base_url: str,
        api_key: str,
        api_username: str,
        *,
        timeout: float = 10.0,
        attempts: int = 3,
        per_minute: int = 60,
        bucket: TokenBucket | None = None,
        sleep: Callable[[float], None] = time.sleep,
        backoff: float = 0.5,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        if not isinstance(api_key, str) or not api_key.strip():
            raise ValueError("a Discourse API key is required")
        if not isinstance(api_username, str) or not api_username.strip():
            raise ValueError("a Discourse API username is required")
        #: Where the forum lives, without a trailing slash (a subfolder install keeps its path).
        self.base_url = base_url.strip().rstrip("/")
        origin = httpx.URL(self.base_url + "/")
        if origin.scheme not in ("http", "https") or not origin.host:
            raise ValueError(f"not a Discourse base URL: {base_url!r}")
        #: How errors name the forum: its host.
        self.host = origin.netloc.decode("ascii")
        self._origin = (origin.scheme, origin.host, origin.port)
        self.api_username = api_username.strip()
        self.attempts = max(1, int(attempts))
        self.backoff = backoff
        self.bucket = (
            bucket
            if bucket is not None
            else bucket_for(bucket_key(self.base_url, self.api_username), per_minute)
        )
        self._sleep = sleep
        self._http = httpx.Client(
            timeout=httpx.Timeout(timeout, connect=min(timeout, 10.0)),
            transport=transport,
            headers={
                "Api-Key": api_key.strip(),
                "Api-Username": self.api_username,
                "Accept": "application/json",
                "User-Agent": f"eduvault/{__version__}",
            },
            follow_redirects=False,
        )
        #: Group names by id, as learnt from group() and create_group() (members are read by name).
        self._group_names: dict[int, str] = {}

    def __repr__(self) -> str:  # never show the key
        return f"DiscourseClient({self.base_url!r}, api_username={self.api_username!r})"

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> DiscourseClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- the site -------------------------------------------------------------------------

    def site(self) -> dict[str, Any]:
        return self._dict(self._call("GET", "/site.json", what="the site"), "the site")

    def about(self) -> dict[str, Any]:
        """The ``about`` object (``version``, ``title``, …)."""
        body = self._dict(self._call("GET", "/about.json", what="the about page"), "the about page")
        return self._dict(body.get("about"), "the about page")

    # -- categories -----------------------------------------------------------------------

    def categories(self) -> list[dict[str, Any]]:
        """Every category the key sees, subcategories included: each parent as Discourse
        sends it, followed by the entries of its ``subcategory_list`` (each id once)."""
        what = "the categories"
        body = self._dict(
            self._call("GET", "/categories.json", what=what, params={"include_subcategories": "true"}),
            what,
        )
        listed = self._dict(body.get("category_list"), what).get("categories")
        found: list[dict[str, Any]] = []
        seen: set[Any] = set()

        def add(items: Any, depth: int) -> None:
            for item in items if isinstance(items, list) else []:
                if not isinstance(item, dict) or item.get("id") in seen:
                    continue
                seen.add(item.get("id"))
                found.append(item)
                if depth < 4:
                    add(item.get("subcategory_list"), depth + 1)

        add(listed, 0)
        return found

    def category(self, category_id: Any) -> dict[str, Any] | None:
        """The category, or ``None`` (404)."""
        what = f"category {category_id}"
        body = self._call("GET", f"/c/{_seg(category_id)}/show.json", what=what, lookup=True)
        return None if body is None else self._dict(self._dict(body, what).get("category"), what)

    def create_category(
        self,
        name: str,
        *,
        color: str = "0088CC",
        text_color: str = "FFFFFF",
        slug: str | None = None,
        description: str | None = None,
    ) -> dict[str, Any]:
        payload: dict[str, Any] = {"name": name, "color": color, "text_color": text_color}
        if slug is not None:
            payload["slug"] = slug
        if description is not None:
            payload["description"] = description
        what = f"a new category {name!r}"
        body = self._dict(self._call("POST", "/categories.json", what=what, json=payload), what)
        return self._dict(body.get("category"), what)

    def update_category(self, category_id: Any, *, name: str | None = None, **fields: Any) -> dict[str, Any]:
        payload = {k: v for k, v in fields.items() if v is not None}
        if name is not None:
            payload["name"] = name
        what = f"category {category_id}"
        body = self._dict(
            self._call("PUT", f"/categories/{_seg(category_id)}.json", what=what, json=payload), what
        )
        return self._dict(body.get("category"), what)

    def category_topics(self, category_id: Any) -> Iterator[dict[str, Any]]:
        """The category's topics (topic-list entries), page after page until an empty one;
        a topic seen on an earlier page (pinned, or moved up by a reply) is given once."""
        what = f"the topics of category {category_id}"
        seen: set[Any] = set()
        for page in range(MAX_PAGES):
            body = self._dict(
                self._call("GET", f"/c/{_seg(category_id)}.json", what=what, params={"page": page}), what
            )
            topics = self._dict(body.get("topic_list"), what).get("topics")
            if not isinstance(topics, list) or not topics:
                return
            for topic in topics:
                if isinstance(topic, dict) and topic.get("id") not in seen:
                    seen.add(topic.get("id"))
                    yield topic
        raise SourceError(f"{self.host} answered more than {MAX_PAGES:,} pages of {what}")

    # -- topics ---------------------------------------------------------------------------

    def topic(self, topic_id: Any) -> dict[str, Any] | None:
        """The topic (with its first chunk of posts), or ``None`` (404 or 410)."""
        what = f"topic {topic_id}"
        body = self._call("GET", f"/t/{_seg(topic_id)}.json", what=what, lookup=True)
        return None if body is None else self._dict(body, what)

    def topic_by_external_id(self, external_id: str) -> dict[str, Any] | None:
        """The topic created with this ``external_id``, or ``None``. Discourse answers with a
        301 to the topic's own URL; it is followed on the same host only."""
        what = f"the topic with external id {external_id!r}"
        path = f"/t/external_id/{_seg(external_id)}.json"
        body = self._call("GET", path, what=what, lookup=True, follow=True)
        return None if body is None else self._dict(body, what)

    def create_topic(
        self, *, title: str, raw: str, category_id: Any, external_id: str | None = None
    ) -> dict[str, Any]:
        """A new topic; returns its first post (``topic_id``, ``id``, ``topic_slug``, …)."""
        payload: dict[str, Any] = {"title": title, "raw": raw, "category": category_id}
        if external_id is not None:
            payload["external_id"] = external_id
        what = f"a new topic {title!r}"
        return self._dict(self._call("POST", "/posts.json", what=what, json=payload), what)

    def update_topic(
        self, topic_id: Any, *, title: str | None = None, category_id: Any = None
    ) -> dict[str, Any]:
        payload: dict[str, Any] = {}
        if title is not None:
            payload["title"] = title
        if category_id is not None:
            payload["category_id"] = category_id
        what = f"topic {topic_id}"
        body = self._dict(self._call("PUT", f"/t/-/{_seg(topic_id)}.json", what=what, json=payload), what)
        return self._dict(body.get("basic_topic"), what)

    def set_topic_status(self, topic_id: Any, *, status: str = "closed", enabled: bool = True) -> None:
        """Close/open, archive, list/unlist (``visible``) or pin a topic. ``enabled`` goes as
        the string ``"true"``/``"false"``: ``TopicsController#status`` compares it to
        ``"true"``, so a JSON boolean would always mean false."""
        what = f"the {status} status of topic {topic_id}"
        payload = {"status": status, "enabled": "true" if enabled else "false"}
        self._call("PUT", f"/t/{_seg(topic_id)}/status.json", what=what, json=payload)

    def topic_posts(self, topic_id: Any) -> Iterator[dict[str, Any]]:
        """Every post of the topic, in order: the first chunk from the topic itself, the rest
        (ids from ``post_stream.stream``) :data:`POSTS_PER_REQUEST` at a time."""
        what = f"the posts of topic {topic_id}"
        topic = self._dict(self._call("GET", f"/t/{_seg(topic_id)}.json", what=what), what)
        stream = self._dict(topic.get("post_stream"), what)
        first = [p for p in stream.get("posts") or [] if isinstance(p, dict)]
        ids = [i for i in stream.get("stream") or [] if isinstance(i, int) and not isinstance(i, bool)]
        seen: set[Any] = set()
        for post in first:
            seen.add(post.get("id"))
            yield post
        missing = [i for i in dict.fromkeys(ids) if i not in seen]
        for start in range(0, len(missing), POSTS_PER_REQUEST):
            chunk = missing[start : start + POSTS_PER_REQUEST]
            body = self._dict(
                self._call("GET", f"/t/{_seg(topic_id)}/posts.json", what=what, params={"post_ids[]": chunk}),
                what,
            )
            posts = self._dict(body.get("post_stream"), what).get("posts")
            for post in posts if isinstance(posts, list) else []:
                if isinstance(post, dict) and post.get("id") not in seen:
                    seen.add(post.get("id"))
                    yield post

    # -- groups ---------------------------------------------------------------------------

    def group(self, name: str) -> dict[str, Any] | None:
        """The group, or ``None`` (404)."""
        what = f"group {name!r}"
        body = self._call("GET", f"/groups/{_seg(name)}.json", what=what, lookup=True)
        if body is None:
            return None
        group = self._dict(self._dict(body, what).get("group"), what)
        self._learn_group(group)
        return group

    def create_group(self, *, name: str, full_name: str = "", visibility_level: int = 0) -> dict[str, Any]:
        what = f"a new group {name!r}"
        payload = {"group": {"name": name, "full_name": full_name, "visibility_level": visibility_level}}
        body = self._dict(self._call("POST", "/admin/groups.json", what=what, json=payload), what)
        group = self._dict(body.get("basic_group"), what)
        self._learn_group(group)
        return group

    def group_members(self, name: str) -> Iterator[dict[str, Any]]:
        """The group's members (basic user dicts; Discourse leaves out bots and ``system``)."""
        what = f"the members of group {name!r}"
        offset = 0
        seen: set[Any] = set()
        for _ in range(MAX_PAGES):
            body = self._dict(
                self._call(
                    "GET",
                    f"/groups/{_seg(name)}/members.json",
                    what=what,
                    params={"offset": offset, "limit": MEMBERS_PAGE_SIZE},
                ),
                what,
            )
            members = body.get("members")
            if not isinstance(members, list) or not members:
                return
            for member in members:
                if isinstance(member, dict) and member.get("id") not in seen:
                    seen.add(member.get("id"))
                    yield member
            offset += len(members)
            meta = body.get("meta")
            total = meta.get("total") if isinstance(meta, dict) else None
            if isinstance(total, int) and offset >= total:
                return
        raise SourceError(f"{self.host} answered more than {MAX_PAGES:,} pages of {what}")

    def add_group_members(
        self, group_id: Any, usernames: Iterable[str], *, group_name: str | None = None
    ) -> list[str]:
        """Add users to the group; returns the usernames Discourse added.

        The group's members are read first (by name: ``group_name``, else as learnt from
        :meth:`group`/:meth:`create_group`, else looked up by id) and those already in it
        are not sent. The rest go :data:`MEMBERS_PER_REQUEST` at a time. Discourse drops
        usernames it does not know (a batch of only unknown ones is a 400); a 422 because
        someone else added them meanwhile is checked against the members and passed over."""
        wanted = _usernames(usernames)
        if not wanted:
            return []
        name = group_name or self._group_name(group_id)
        current = {str(m.get("username", "")).lower() for m in self.group_members(name)}
        todo = [u for u in wanted if u.lower() not in current]
        added: list[str] = []
        path = f"/groups/{_seg(group_id)}/members.json"
        for start in range(0, len(todo), MEMBERS_PER_REQUEST):
            batch = todo[start : start + MEMBERS_PER_REQUEST]
            what = f"adding {len(batch)} member(s) to group {name!r}"
            try:
                body = self._call("PUT", path, what=what, json={"usernames": ",".join(batch)})
            except DiscourseRefused as refused:
                if refused.forum_status != 422:
                    raise
                now = {str(m.get("username", "")).lower() for m in self.group_members(name)}
                if not all(u.lower() in now for u in batch):
                    raise
                log.info("discourse.members_already_added", host=self.host, group=name, users=len(batch))
                continue
            answered = body.get("usernames") if isinstance(body, dict) else None
            added += [u for u in answered if isinstance(u, str)] if isinstance(answered, list) else batch
        return added

    def remove_group_members(self, group_id: Any, usernames: Iterable[str]) -> list[str]:
        """Remove users from the group, :data:`MEMBERS_PER_REQUEST` at a time; returns the
        usernames Discourse removed (it skips those that were not members). A batch naming
        only users Discourse does not know is a 400 (:class:`DiscourseRefused`), as is a
        member it could not remove (``GroupsController#remove_member``)."""
        wanted = _usernames(usernames)
        removed: list[str] = []
        path = f"/groups/{_seg(group_id)}/members.json"
        for start in range(0, len(wanted), MEMBERS_PER_REQUEST):
            batch = wanted[start : start + MEMBERS_PER_REQUEST]
            what = f"removing {len(batch)} member(s) from group {group_id}"
            body = self._call("DELETE", path, what=what, json={"usernames": ",".join(batch)})
            answered = body.get("usernames") if isinstance(body, dict) else None
            removed += [u for u in answered if isinstance(u, str)] if isinstance(answered, list) else batch
        return removed

    def _learn_group(self, group: dict[str, Any]) -> None:
        if isinstance(group.get("id"), int) and isinstance(group.get("name"), str):
            self._group_names[group["id"]] = group["name"]

    def _group_name(self, group_id: Any) -> str:
        try:
            key = int(group_id)
        except (TypeError, ValueError):
            raise ValueError(f"not a Discourse group id: {group_id!r}") from None
        if key in self._group_names:
            return self._group_names[key]
        what = "the groups"
        groups = self._call("GET", "/groups/search.json", what=what)
        for group in groups if isinstance(groups, list) else []:
            if isinstance(group, dict):
                self._learn_group(group)
        if key not in self._group_names:
            raise DiscourseRefused(f"{self.host} has no group {group_id} the key can see", status=404)
        return self._group_names[key]

    # -- badges ---------------------------------------------------------------------------

    def badges(self) -> list[dict[str, Any]]:
        what = "the badges"
        body = self._dict(self._call("GET", "/admin/badges.json", what=what), what)
        return _list(body.get("badges"))

    def user_badges(self, username: str) -> list[dict[str, Any]]:
        """The user's badges (``user_badge`` dicts, each with ``badge_id``)."""
        what = f"the badges of {username!r}"
        body = self._dict(self._call("GET", f"/user-badges/{_seg(username)}.json", what=what), what)
        return _list(body.get("user_badges"))

    def grant_badge(self, *, username: str, badge_id: Any, reason: str | None = None) -> dict[str, Any]:
        """Grant a badge; returns the ``user_badge``. Granting a badge that is not
        ``multiple_grant`` again answers the existing grant (``BadgeGranter#grant``); a
        ``multiple_grant`` badge is granted once more each time, so look before granting."""
        payload: dict[str, Any] = {"username": username, "badge_id": badge_id}
        if reason:
            payload["reason"] = reason  # a link to a post or topic of this forum, or a 400
        what = f"badge {badge_id} for {username!r}"
        body = self._dict(self._call("POST", "/user_badges.json", what=what, json=payload), what)
        granted = body.get("user_badge")
        if not isinstance(granted, dict):
            raise SourceError(f"{self.host} granted nothing for {what} (badges disabled?)")
        return granted

    def mass_award(self, badge_id: Any, usernames: Iterable[str]) -> int:
        """Grant a badge to many people in one request: ``POST /admin/badges/award/{id}``
        with a CSV of usernames, one a line (``Admin::BadgesController#mass_award``; at most
        ``MASS_AWARD_LIMIT`` lines a request, so longer lists take several). Without
        ``grant_existing_holders`` those who hold it already are left as they are, so a
        repeat grants nothing twice, ``multiple_grant`` badges included. Discourse grants in
        a background job and answers an empty 200. Returns the requests sent."""
        names = _usernames(usernames)
        sent = 0
        for start in range(0, len(names), MASS_AWARD_LIMIT):
            chunk = names[start : start + MASS_AWARD_LIMIT]
            csv = ("\n".join(chunk) + "\n").encode()
            self._call(
                "POST",
                f"/admin/badges/award/{_seg(badge_id)}.json",
                what=f"badge {badge_id} for {len(chunk)} people",
                files={"file": ("usernames.csv", csv, "text/csv")},
                data={"replace_badge_owners": "false", "grant_existing_holders": "false"},
            )
            sent += 1
        return sent

    # -- users ----------------------------------------------------------------------------

    def user(self, username: str) -> dict[str, Any] | None:
        """The ``user`` dict, or ``None`` (404)."""
        what = f"user {username!r}"
        body = self._call("GET", f"/u/{_seg(username)}.json", what=what, lookup=True)
        return None if body is None else self._dict(self._dict(body, what).get("user"), what)

    def user_by_external_id(self, external_id: str) -> dict[str, Any] | None:
        """The user whose DiscourseConnect ``external_id`` this is, or ``None`` (404)."""
        what = f"the user with external id {external_id!r}"
        body = self._call("GET", f"/u/by-external/{_seg(external_id)}.json", what=what, lookup=True)
        return None if body is None else self._dict(self._dict(body, what).get("user"), what)

    def user_emails(self, username: str) -> dict[str, Any]:
        """``{"email": …, "secondary_emails": […], "unconfirmed_emails": […], …}``."""
        what = f"the emails of {username!r}"
        return self._dict(self._call("GET", f"/u/{_seg(username)}/emails.json", what=what), what)

    def users(self) -> Iterator[dict[str, Any]]:
        """Every active user as the admin list gives them (``email`` included)."""
        what = "the active users"
        seen: set[Any] = set()
        for page in range(1, MAX_PAGES + 1):
            users = self._call(
                "GET",
                "/admin/users/list/active.json",
                what=what,
                params={"show_emails": "true", "page": page},
            )
            if not isinstance(users, list):
                raise SourceError(f"{self.host} answered {what} with something that is not a list")
            if not users:
                return
            for user in users:
                if isinstance(user, dict) and user.get("id") not in seen:
                    seen.add(user.get("id"))
                    yield user
        raise SourceError(f"{self.host} answered more than {MAX_PAGES:,} pages of {what}")

    # -- plumbing -------------------------------------------------------------------------

    def _dict(self, value: Any, what: str) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise SourceError(f"{self.host} answered {what} with something that is not an object")
        return value

    def _call(
        self,
        method: str,
        path: str,
        *,
        what: str,
        params: dict[str, Any] | None = None,
        json: Any = None,
        files: Any = None,
        data: Any = None,
        lookup: bool = False,
        follow: bool = False,
    ) -> Any:
        """One API call: the decoded JSON answer, or ``None`` for an empty one and, when
        ``lookup``, for 404/410."""
        url = self.base_url + path
        for _ in range(MAX_REDIRECTS + 1):
            response = self._send(method, url, what=what, params=params, json=json, files=files, data=data)
            status = response.status_code
            if 300 <= status < 400:
                target = self._redirect_target(response, what, follow)
                url, params = target, None  # the Location carries what it needs
                continue
            if status < 300:
                return decode_json(response, what, self.host) if response.content.strip() else None
            if lookup and status in (404, 410):
                return None
            text = error_text(response)
            log.warning(
                "discourse.request_refused",
                host=self.host,
                method=method,
                path=_path(response),
                status=status,
                error=text,
            )
            raise DiscourseRefused(f"{self.host} refused {what} ({status}: {text})", status=status)
        raise SourceError(f"{self.host} redirected {what} more than {MAX_REDIRECTS} times")

    def _redirect_target(self, response: httpx.Response, what: str, follow: bool) -> str:
        location = response.headers.get("Location")
        if not follow or not location:
            where = location or "nowhere"
            raise SourceError(f"{self.host} redirected {what} to {where}; check the Discourse base URL")
        target = urljoin(str(response.request.url), location)
        if not self._same_origin(target):
            log.warning("discourse.redirect_refused", host=self.host, path=_path(response), location=location)
            raise SourceError(f"{self.host} redirected {what} to another host ({location}); not followed")
        return target

    def _same_origin(self, url: str) -> bool:
        try:
            parsed = httpx.URL(url)
        except (httpx.InvalidURL, TypeError):
            return False
        return (parsed.scheme, parsed.host, parsed.port) == self._origin

    def _send(self, method: str, url: str, *, what: str, **kwargs: Any) -> httpx.Response:
        """One request, paced by the bucket, retried on 429, 5xx and transport errors."""
        kwargs = {k: v for k, v in kwargs.items() if v is not None}
        last: SourceError | None = None
        status: int | str
        for attempt in range(1, self.attempts + 1):
            self.bucket.take()
            try:
                response = self._fetch(method, url, **kwargs)
            except httpx.TimeoutException as exc:
                last = SourceUnavailable(f"{self.host} did not answer in time when asked for {what}")
                last.__cause__ = exc
                status = "timeout"
            except httpx.TransportError as exc:
                last = SourceUnavailable(f"could not reach {self.host} for {what}: {exc}")
                last.__cause__ = exc
                status = "unreachable"
            else:
                status = response.status_code
                if status == 429:
                    hint = retry_after_seconds(response)
                    wait = DEFAULT_RATE_LIMIT_WAIT if hint is None else hint
                    giving_up = attempt >= self.attempts or wait > MAX_RETRY_AFTER
                    log.warning(
                        "discourse.rate_limited",
                        host=self.host,
                        method=method,
                        path=_path(response),
                        wait=wait,
                        attempt=attempt,
                        retrying=not giving_up,
                    )
                    if giving_up:
                        raise DiscourseRateLimited(
                            f"{self.host} is rate limiting us for {what} ({error_text(response)})",
                            retry_after=wait,
                        )
                    self._sleep(wait)  # Discourse's own figure: its window frees a slot then
                    continue
                if status < 500:
                    return response
                last = SourceUnavailable(
                    f"{self.host} answered {status} for {what} ({error_text(response, limit=120)})"
                )
            retrying = attempt < self.attempts
            log.warning(
                "discourse.request_failed",
                host=self.host,
                method=method,
                path=httpx.URL(url).path,
                status=status,
                attempt=attempt,
                retrying=retrying,
            )
            if retrying:
                self._sleep(retry_delay(attempt, base=self.backoff, cap=MAX_RETRY_AFTER))
        assert last is not None
        raise last

    def _fetch(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        """The answer, its body read to at most :data:`MAX_BODY_BYTES`."""
        with self._http.stream(method, url, **kwargs) as streamed:
            declared = streamed.headers.get("Content-Length", "")
            if declared.isdigit() and int(declared) > MAX_BODY_BYTES:
                raise SourceError(f"{self.host} sent an answer of {int(declared):,} bytes; refused")
            chunks: list[bytes] = []
            size = 0
            for chunk in streamed.iter_bytes():
                size += len(chunk)
                if size > MAX_BODY_BYTES:
                    raise SourceError(f"{self.host} sent an answer over {MAX_BODY_BYTES:,} bytes; refused")
                chunks.append(chunk)
        headers = [
            (k, v)
            for k, v in streamed.headers.multi_items()
            if k.lower() not in ("content-encoding", "content-length", "transfer-encoding")
        ]
        return httpx.Response(
            streamed.status_code, headers=headers, content=b"".join(chunks), request=streamed.request
        )


def _seg(value: Any) -> str:
    """One path segment: an id, a name or a username, quoted (``/`` too)."""
    text = str(value) if value is not None and not isinstance(value, bool) else ""
    if not text.strip():
        raise ValueError(f"not a Discourse id or name: {value!r}")
    return quote(text, safe="")


def _path(response: httpx.Response) -> str:
    return response.request.url.path


def _list(value: Any) -> list[dict[str, Any]]:
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def _usernames(usernames: Iterable[str]) -> list[str]:
    """Each username once (Discourse compares them case-insensitively), in the order given."""
    if isinstance(usernames, str):
        usernames = [usernames]
    found: dict[str, str] = {}
    for username in usernames:
        text = str(username).strip()
        if text and "," not in text:
            found.setdefault(text.lower(), text)
        elif "," in text:
            raise ValueError(f"not a username: {username!r}")
    return list(found.values())
