"""The interface every platform integration implements, and the registry of integrations.

An integration is one package per platform (``integrations/openedx``, ...): its HTTP client
(auth, paging, rate limits, timeouts), its webhook verification and parsing into work, its
normalizer to the canonical tree, and, later, the learner records it reads and writes. It
declares what registering a source of its platform takes, and offers each capability it
has; the layers above ask for a capability and never learn which platform they talk to::

    @integrations.register("openedx")
    class OpenEdx(Integration):
        title = "Open edX"
        settings_fields = ("client_id",)
        secret_fields = ("client_secret",)

        def structure(self) -> StructureReader: ...
        def webhooks(self) -> WebhookReceiver: ...
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any, ClassVar, Protocol

from eduvault.cores.coursetree import CourseTree
from eduvault.kernel.errors import EduVaultError, InvalidInput
from eduvault.kernel.registry import Registry


class CapabilityMissing(EduVaultError):
    """This platform's integration cannot do that."""

    status = 422


@dataclass
class FetchedCourse:
    """A course structure read from a source and normalized."""

    key: str
    title: str
    tree: CourseTree
    #: The platform's own version or publish time, when it reports one.
    source_version: str = ""
    source_timestamp: datetime | None = None
    stats: dict[str, Any] = field(default_factory=dict)
    #: Learner records that come with the structure (a Canvas course's enrollments).
    records: list[RecordFacts] = field(default_factory=list)


class StructureReader(Protocol):
    """Reads course structures from the platform (the content direction)."""

    def fetch_course(self, course_key: str) -> FetchedCourse: ...

    def list_courses(self) -> Iterator[str]: ...

    def close(self) -> None: ...


@dataclass(frozen=True)
class Arrival:
    """An inbound event, verified and parsed by its platform's integration: the work it asks
    for. Stored once per source and ``event_id`` (the platform's id, or a key derived from
    what the event is about when the platform gives none)."""

    event_id: str
    type: str
    #: The kind of work: ``course`` (re-read its structure), later ``record``, ``enrollment``.
    subject: str
    #: Which one: a course key, a record's natural key.
    subject_key: str
    payload: dict[str, Any]
    #: The priority class the type has unless configuration says otherwise.
    priority: str = "background"
    time: datetime | None = None


class WebhookReceiver(Protocol):
    """Verifies a webhook delivery and parses it into work (nothing is stored here)."""

    def receive(self, *, body: bytes, headers: Mapping[str, str]) -> list[Arrival]:
        """Raise ``AuthenticationFailed`` (bad signature), ``InvalidInput`` (malformed) or
        ``InvalidEvent`` (unknown type, bad data); else the work the delivery asks for."""
        ...


@dataclass(frozen=True)
class PersonFacts:
    """An account as the platform states it (matched to a person by the operator's rules)."""

    external_id: str
    login: str = ""
    sis_id: str = ""
    email: str = ""
    email_verified: bool = False
    name: str = ""
    #: ``<realm>:<id>``: the account elsewhere the platform vouches this one is (a forum's
    #: DiscourseConnect ``external_id``; ``sis:<id>`` when it carries SIS ids).
    vouched: str = ""


@dataclass(frozen=True)
class RecordFacts:
    """A learner record as a platform states it: a grade, a completion, an enrollment, ...

    ``course_key`` is Edu Vault's key of the course on this source, or the platform's name for
    a place that stands for a course (a forum category linked to one); empty for a person's
    own records (a profile, a badge). ``object`` is what in the course the record is about
    (``assignment:55``, ``course``), ``links`` the platform's own
    ids (and what writing back needs: an assignment's points and grading type), ``at`` the
    platform's own time of the change (seconds since the epoch). ``echo``: the platform is
    reporting a write Edu Vault itself made (an acknowledgement, not a change)."""

    kind: str
    course_key: str
    object: str
    person: PersonFacts
    fields: dict[str, Any]
    at: float
    links: dict[str, Any] = field(default_factory=dict)
    actor: str = ""
    echo: bool = False
    title: str = ""
    #: What in the course the record is about, as the platform names it, when that is not
    #: ``object`` itself (a forum post's topic: ``topic:55``); resolved to Edu Vault's object
    #: (the course node the topic is for) through the replica's object links.
    about: str = ""

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["person"] = asdict(self.person)
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> RecordFacts:
        values = dict(data)
        values["person"] = PersonFacts(**values["person"])
        return cls(**values)


class RecordReader(Protocol):
    """Reads learner records from the platform: the reconcile's safety net for lost events."""

    def read_records(self, *, course_key: str, kinds: Iterable[str]) -> Iterator[RecordFacts]: ...

    def close(self) -> None: ...


@dataclass(frozen=True)
class RecordWrite:
    """What Edu Vault asks a platform to hold for one record: its fields as Edu Vault has
    settled them, and the platform's ids for the object and the person (``links``)."""

    record_id: int
    kind: str
    links: Mapping[str, Any]
    fields: Mapping[str, Any]


@dataclass(frozen=True)
class Written:
    """What became of one write: ``held``, the fields the platform now holds (in Edu Vault's
    terms), and ``at``, the platform's own time of the write, when it said."""

    ok: bool
    held: Mapping[str, Any] = field(default_factory=dict)
    at: float | None = None
    status_code: int | None = None
    error: str = ""
    #: Refused for good (an impossible grade, a missing account): not tried again.
    permanent: bool = False
    #: The platform asked to be left alone this long.
    retry_after: float | None = None


class RecordWriter(Protocol):
    """Writes learner records to the platform, idempotently (writing what it already holds
    changes nothing there), in batches where the platform has a batch API. On success a
    :class:`Written`'s ``held`` is the record's fields as written (the platform holds the
    record's value)."""

    def write(self, writes: Sequence[RecordWrite]) -> list[Written]: ...

    def close(self) -> None: ...


@dataclass(frozen=True)
class TopicSpec:
    """A discussion a community keeps for one course node: ``external_id`` is made from the
    node's id, so a retry finds the topic it made rather than making a second one."""

    external_id: str
    title: str
    body: str


@dataclass(frozen=True)
class TopicState:
    topic_id: str
    title: str
    closed: bool = False


class CommunityWriter(Protocol):
    """Keeps a course's place on a community platform (a Discourse category, its topics, its
    group, its badges). Every method is idempotent: run twice, it changes nothing the
    second time. Raises ``SourceError`` (with ``retry_after`` on rate limits)."""

    def place_key(self, place_id: str) -> str:
        """The course key the platform's records name the place by (what its events say)."""
        ...

    def topic_object(self, topic_id: str) -> str:
        """What the platform's records say they are about, for a topic."""
        ...

    def ensure_place(self, *, place_id: str, title: str, rename: bool = True) -> str:
        """The id of the course's place: ``place_id`` (retitled unless ``rename`` is false),
        or a new one."""
        ...

    def ensure_topic(self, *, place_id: str, spec: TopicSpec, topic_id: str = "") -> TopicState: ...

    def close_topic(self, *, topic_id: str) -> None: ...

    def ensure_group(self, *, group_id: str, name: str, title: str) -> str:
        """The id of the course's group: ``group_id`` when it still exists, else found by name
        or created."""
        ...

    def add_members(self, *, group_id: str, group_name: str, usernames: Sequence[str]) -> list[str]: ...

    def remove_members(self, *, group_id: str, group_name: str, usernames: Sequence[str]) -> list[str]: ...

    def grant_badge(self, *, badge_id: str, usernames: Sequence[str]) -> int:
        """Grant a badge to people who do not hold it yet, in as few requests as the platform
        allows; those who hold it already are left as they are, so a repeat (a retry after
        an answer that was lost) grants nothing twice. Returns the requests sent."""
        ...

    def accounts(self) -> Iterator[PersonFacts]:
        """Every account on the platform (for matching people to them by email)."""
        ...

    def vouches(self) -> str:
        """The realm whose ids the platform's accounts are vouched by (a forum signing people
        in with DiscourseConnect: ``sis``, ``eduvault`` or a source's name); "" if none."""
        ...

    def account_vouched(self, external_id: str) -> PersonFacts | None:
        """The account the platform holds for that id of the realm it vouches by, if any."""
        ...

    def close(self) -> None: ...


class Integration:
    """A platform. Subclass, declare, register with :data:`integrations`."""

    #: The registry name; set by :func:`register`.
    platform: ClassVar[str] = ""
    title: ClassVar[str] = ""
    #: What registering a source takes besides its name and base URL: plain settings, and
    #: secrets (sealed at rest, never printed).
    settings_fields: ClassVar[tuple[str, ...]] = ()
    optional_settings: ClassVar[tuple[str, ...]] = ()
    secret_fields: ClassVar[tuple[str, ...]] = ()
    #: Whether :meth:`records_reader` gives a reader (asked without building a client).
    reads_records: ClassVar[bool] = False
    #: The kinds of learner record :meth:`records_writer` writes.
    writes_records: ClassVar[frozenset[str]] = frozenset()
    #: Its webhooks are signed with a secret the operator gives when registering a source.
    requires_webhook_secret: ClassVar[bool] = False

    def __init__(self, source: Any) -> None:
        self.source = source

    def discover(self) -> dict[str, Any]:
        """Settings the platform tells about itself once a source is registered (Canvas: the
        user its token acts as). Best effort: may raise ``SourceError``."""
        return {}

    def describe_object(self, *, course_id: str, object: str) -> dict[str, Any]:
        """The platform's ids for an object of one of its courses (``assignment:55``), and
        what writing records to it needs (Canvas: points possible, grading type, scheme)."""
        raise CapabilityMissing(f"{self.title or self.platform} objects cannot be linked")

    def course_key(self, given: str) -> str:
        """Edu Vault's key for a course the operator names as the platform does (Canvas:
        ``123`` is ``<source>:123``); the key itself where the platform's keys are global."""
        return given

    # -- capabilities: each returns None where the platform has none ----------------------------

    def structure(self) -> StructureReader | None:
        return None

    def webhooks(self) -> WebhookReceiver | None:
        return None

    def records_reader(self) -> RecordReader | None:
        return None

    def records_writer(self) -> RecordWriter | None:
        return None

    def community(self) -> CommunityWriter | None:
        return None

    @classmethod
    def normalize_structure(cls, document: Any, *, kind_map: Mapping[str, str] | None = None) -> CourseTree:
        """A course structure document of the platform (a saved API response) as a tree."""
        raise CapabilityMissing(f"{cls.title or cls.platform} course structures cannot be read from a file")

    @classmethod
    def check_values(cls, values: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
        """Split what an operator gave into (settings, secrets); InvalidInput naming what is
        missing or unknown."""
        known = set(cls.settings_fields) | set(cls.optional_settings) | set(cls.secret_fields)
        unknown = sorted(k for k, v in values.items() if k not in known and v not in (None, ""))
        if unknown:
            raise InvalidInput(f"{cls.title} sources take no {', '.join(unknown)}")
        missing = [k for k in (*cls.settings_fields, *cls.secret_fields) if not values.get(k)]
        if missing:
            options = ", ".join("--" + m.replace("_", "-") for m in missing)
            raise InvalidInput(f"a {cls.title} source needs {options}")
        names = (*cls.settings_fields, *cls.optional_settings)
        settings = {k: values[k] for k in names if values.get(k) not in (None, "")}
        secrets = {k: values[k] for k in cls.secret_fields if values.get(k)}
        return settings, secrets


integrations: Registry[type[Integration]] = Registry("platform")


def register(platform: str):  # type: ignore[no-untyped-def]
    def decorate(cls: type[Integration]) -> type[Integration]:
        cls.platform = platform
        integrations.add(platform, cls)
        return cls

    return decorate


def integration_class(platform: str) -> type[Integration]:
    try:
        return integrations.get(platform)
    except KeyError:
        raise InvalidInput(
            f"unknown platform {platform!r}; Edu Vault integrates {', '.join(integrations) or 'none'}"
        ) from None


def integration_for(source: Any) -> Integration:
    """The integration of a registered source."""
    return integration_class(source.platform)(source)


def structure_reader(source: Any) -> StructureReader:
    reader = integration_for(source).structure()
    if reader is None:
        raise CapabilityMissing(f"{source.name} ({source.platform}) has no course structures to read")
    return reader


def webhook_receiver(source: Any) -> WebhookReceiver:
    receiver = integration_for(source).webhooks()
    if receiver is None:
        raise CapabilityMissing(f"{source.name} ({source.platform}) sends no webhooks Edu Vault reads")
    return receiver


def records_reader(source: Any) -> RecordReader:
    reader = integration_for(source).records_reader()
    if reader is None:
        raise CapabilityMissing(f"{source.name} ({source.platform}) has no learner records to read")
    return reader


def records_writer(source: Any) -> RecordWriter:
    writer = integration_for(source).records_writer()
    if writer is None:
        raise CapabilityMissing(f"{source.name} ({source.platform}) takes no learner records")
    return writer


def community_writer(source: Any) -> CommunityWriter:
    writer = integration_for(source).community()
    if writer is None:
        raise CapabilityMissing(f"{source.name} ({source.platform}) keeps no course communities")
    return writer
