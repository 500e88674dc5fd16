"""What the simulated platform knows: tools, users, courses, enrollments, links, line items, scores.

Everything is guarded by one lock (:attr:`PlatformState.lock`); the HTTP handlers take it for
each read or change and never hold it across an outgoing HTTP call.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

from eduvault.integrations.lti.simulator.vocab import ALL_SCOPES, LEARNER, MEMBER_STATUSES

API = "/api/lti/courses"


@dataclass
class Tool:
    """A registered tool (a Canvas developer key / a Moodle external tool type)."""

    client_id: str
    login_url: str
    launch_url: str
    jwks_url: str | None
    deep_link_url: str | None = None
    deployment_ids: tuple[str, ...] = ("1",)
    scopes: tuple[str, ...] = ALL_SCOPES
    #: Appended to every line item URL of this tool (Moodle's ``?type_id=``), e.g. ``"?type=x"``.
    lineitem_query: str = ""
    name: str = "Edu Vault"
    #: A static JWKS used instead of fetching ``jwks_url`` (Canvas's "public JWK" option).
    public_jwks: dict[str, Any] | None = None

    @property
    def redirect_uris(self) -> tuple[str, ...]:
        return tuple(u for u in (self.launch_url, self.deep_link_url) if u)


@dataclass
class User:
    sub: str
    name: str
    email: str | None = None
    given_name: str | None = None
    family_name: str | None = None
    picture: str | None = None
    sourced_id: str | None = None


@dataclass
class Membership:
    sub: str
    roles: tuple[str, ...]
    status: str = "Active"


@dataclass
class Course:
    context_id: str
    title: str
    label: str
    #: Enrollments in the order they were made (NRPS answers in that order).
    members: dict[str, Membership] = field(default_factory=dict)


@dataclass
class ResourceLink:
    context_id: str
    id: str
    title: str
    client_id: str
    custom: dict[str, str] = field(default_factory=dict)
    description: str | None = None
    target_link_uri: str | None = None
    line_item_id: str | None = None  # the line item's URL (its AGS ``id``) when it has exactly one


@dataclass
class LineItem:
    number: int
    context_id: str
    client_id: str
    label: str
    score_maximum: float
    base_url: str
    query: str = ""
    resource_id: str | None = None
    tag: str | None = None
    resource_link_id: str | None = None
    start_date_time: str | None = None
    end_date_time: str | None = None
    grades_released: bool | None = None
    deleted: bool = False

    @property
    def path(self) -> str:
        return f"{API}/{self.context_id}/line_items/{self.number}"

    @property
    def id(self) -> str:
        """AGS §3.2.3: the line item's URL, its ``id`` (with the tool's query string, if any)."""
        return self.base_url + self.path + self.query

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"id": self.id, "scoreMaximum": self.score_maximum, "label": self.label}
        for key, value in (
            ("resourceId", self.resource_id),
            ("tag", self.tag),
            ("resourceLinkId", self.resource_link_id),
            ("startDateTime", self.start_date_time),
            ("endDateTime", self.end_date_time),
            ("gradesReleased", self.grades_released),
        ):
            if value is not None:
                body[key] = value
        return body


class PlatformState:
    base_url: str  # provided by the server

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.tools: dict[str, Tool] = {}
        self.users: dict[str, User] = {}
        self.courses: dict[str, Course] = {}
        self.links: dict[tuple[str, str], ResourceLink] = {}
        self._line_items: dict[int, LineItem] = {}
        #: (line item id URL, sub) → every accepted score, in order.
        self.scores: dict[tuple[str, str], list[dict[str, Any]]] = {}
        self._next_number = 0

    # -- tools ------------------------------------------------------------------------------------

    def register_tool(
        self,
        client_id: str,
        *,
        login_url: str,
        launch_url: str,
        jwks_url: str | None = None,
        deep_link_url: str | None = None,
        deployment_ids: tuple[str, ...] | list[str] = ("1",),
        scopes: tuple[str, ...] | list[str] = ALL_SCOPES,
        lineitem_query: str = "",
        name: str = "Edu Vault",
        public_jwks: dict[str, Any] | None = None,
    ) -> Tool:
        if not jwks_url and not public_jwks:
            raise ValueError("a tool needs jwks_url (or public_jwks)")
        if lineitem_query and not lineitem_query.startswith("?"):
            lineitem_query = "?" + lineitem_query
        tool = Tool(
            client_id, login_url, launch_url, jwks_url, deep_link_url, tuple(deployment_ids),
            tuple(scopes), lineitem_query, name, public_jwks,
        )  # fmt: skip
        with self.lock:
            self.tools[client_id] = tool
        return tool

    def tool(self, client_id: str | None = None) -> Tool:
        """The tool ``client_id``, or the only registered tool when None."""
        with self.lock:
            if client_id is not None:
                return self.tools[client_id]
            if len(self.tools) != 1:
                raise LookupError(f"name the tool: client_id=… (there are {len(self.tools)})")
            return next(iter(self.tools.values()))

    # -- people and courses -----------------------------------------------------------------------

    def add_course(self, context_id: str, title: str, label: str | None = None) -> Course:
        with self.lock:
            course = Course(context_id, title, label or context_id)
            self.courses[context_id] = course
        return course

    def add_user(
        self,
        sub: str,
        name: str,
        email: str | None = None,
        *,
        given_name: str | None = None,
        family_name: str | None = None,
        picture: str | None = None,
        sourced_id: str | None = None,
    ) -> User:
        if given_name is None and family_name is None and " " in name:
            given_name, _, family_name = name.partition(" ")
        with self.lock:
            user = User(sub, name, email, given_name, family_name, picture, sourced_id)
            self.users[sub] = user
        return user

    def enroll(
        self,
        context_id: str,
        sub: str,
        roles: tuple[str, ...] | list[str] = (LEARNER,),
        status: str = "Active",
    ) -> Membership:
        if status not in MEMBER_STATUSES:
            raise ValueError(f"status must be one of {MEMBER_STATUSES}")
        with self.lock:
            if sub not in self.users:
                raise KeyError(f"no user {sub!r}")
            membership = Membership(sub, tuple(roles), status)
            self.courses[context_id].members[sub] = membership
        return membership

    def unenroll(self, context_id: str, sub: str) -> None:
        with self.lock:
            self.courses[context_id].members.pop(sub, None)

    # -- links and line items ---------------------------------------------------------------------

    def add_resource_link(
        self,
        context_id: str,
        resource_link_id: str,
        *,
        title: str = "",
        client_id: str | None = None,
        custom: dict[str, Any] | None = None,
        description: str | None = None,
        target_link_uri: str | None = None,
        line_item: dict[str, Any] | None = None,
        lineitem_query: str | None = None,
    ) -> ResourceLink:
        """A link to the tool in a course; ``line_item`` (AGS line item JSON) couples a gradebook column."""
        tool = self.tool(client_id)
        with self.lock:
            if context_id not in self.courses:
                raise KeyError(f"no course {context_id!r}")
            link = ResourceLink(
                context_id, resource_link_id, title, tool.client_id,
                {k: str(v) for k, v in (custom or {}).items()}, description, target_link_uri,
            )  # fmt: skip
            self.links[(context_id, resource_link_id)] = link
            if line_item is not None:
                item = self.create_line_item(
                    context_id, tool.client_id, {"label": title, **line_item, "resourceLinkId": resource_link_id},
                    query=lineitem_query,
                )  # fmt: skip
                link.line_item_id = item.id
        return link

    def create_line_item(
        self, context_id: str, client_id: str, body: dict[str, Any], *, query: str | None = None
    ) -> LineItem:
        tool = self.tools[client_id]
        query = tool.lineitem_query if query is None else query
        if query and not query.startswith("?"):
            query = "?" + query
        with self.lock:
            self._next_number += 1
            item = LineItem(
                self._next_number, context_id, client_id, str(body["label"]), body["scoreMaximum"],
                self.base_url, query, body.get("resourceId"), body.get("tag"), body.get("resourceLinkId"),
                body.get("startDateTime"), body.get("endDateTime"), body.get("gradesReleased"),
            )  # fmt: skip
            self._line_items[item.number] = item
        return item

    def line_item(self, number: int) -> LineItem | None:
        with self.lock:
            item = self._line_items.get(number)
            return None if item is None or item.deleted else item

    def line_items(self, context_id: str, client_id: str | None = None) -> list[LineItem]:
        with self.lock:
            return [
                i
                for i in self._line_items.values()
                if i.context_id == context_id and not i.deleted and client_id in (None, i.client_id)
            ]

    def link_line_items(self, link: ResourceLink) -> list[LineItem]:
        return [i for i in self.line_items(link.context_id, link.client_id) if i.resource_link_id == link.id]

    # -- grades -----------------------------------------------------------------------------------

    def latest_score(self, line_item: LineItem, sub: str) -> dict[str, Any] | None:
        with self.lock:
            history = self.scores.get((line_item.id, sub))
            return history[-1] if history else None

    def gradebook(self, context_id: str) -> dict[tuple[str, str], float | None]:
        """(line item label, sub) → scoreGiven/scoreMaximum of the latest accepted score."""
        book: dict[tuple[str, str], float | None] = {}
        with self.lock:
            for item in self.line_items(context_id):
                for (item_id, sub), history in self.scores.items():
                    if item_id == item.id and history:
                        latest = history[-1]
                        given = latest.get("scoreGiven")
                        book[(item.label, sub)] = None if given is None else given / latest["scoreMaximum"]
        return book
