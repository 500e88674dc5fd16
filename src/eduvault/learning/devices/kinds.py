"""What a device sync carries, kind by kind: a registry of handlers.

A handler says how its objects are found in a scope (:meth:`Kind.scan`: natural key,
partition, fingerprint), serialized (:meth:`Kind.load`), applied (:meth:`Kind.apply`, many at
once, inside the chunk's transaction) and merged when two replicas changed one concurrently
(:meth:`Kind.merge`). Natural keys are the same on every replica: a course's key, a question's
course, key and version, an account's username, an attempt's id (made on the replica that
started it and kept everywhere), an answer's attempt and client id. Assessments keep the
server's ids on devices (a device never authors one).

Down (server to device): courses with their trees, questions, assessments, accounts with
their password hashes, enrollments, attempts and answers, masteries, records. Up (device to
server): attempts and answers, append-only under ids the device made; the server retraces the
learners' masteries from the merged answers and grades the attempts submitted on devices.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Iterator
from itertools import islice
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar

import orjson
from django.contrib.auth import get_user_model
from django.db.models import Q
from django.utils.dateparse import parse_datetime

from eduvault.cores.records.replication import account_partition, course_partition, learner_partition
from eduvault.identity.models import Account
from eduvault.identity.people import person_for_user
from eduvault.kernel.errors import InvalidInput
from eduvault.kernel.registry import Registry
from eduvault.learning.assessments.models import Answer, Assessment, Attempt, ExtraTime, Mastery, Question, Response
from eduvault.pipeline.content.models import Course, Node
from eduvault.pipeline.records.models import Enrollment, Record
from eduvault.pipeline.records.services import PERSONAL


@dataclass(frozen=True)
class Scope:
    """What a replica serves: courses (by key) and, per course, the learners' usernames
    (``None``: everyone it holds, a device's own view)."""

    courses: tuple[str, ...]
    people: dict[str, frozenset[str]] | None = None

    def usernames(self) -> set[str]:
        if self.people is None:
            return set()
        return set().union(*self.people.values()) if self.people else set()

    def partitions(self) -> set[str]:
        out = {course_partition(k) for k in self.courses}
        for course, names in (self.people or {}).items():
            out.update(learner_partition(course, n) for n in names)
            out.update(account_partition(n) for n in names)
        return out


@dataclass(frozen=True)
class Arrival:
    """Where applied objects come from: the sending replica, whether this replica is the
    server (it grades and traces what devices send), and the sender's clock minus ours."""

    sender: str
    server: bool
    clock_skew: float | None = None


def digest(value: Any) -> str:
    return hashlib.blake2b(orjson.dumps(value, option=orjson.OPT_SORT_KEYS), digest_size=16).hexdigest()


def _time(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _parse_time(value: Any, what: str) -> datetime | None:
    if value is None:
        return None
    parsed = parse_datetime(value) if isinstance(value, str) else None
    if parsed is None:
        raise InvalidInput(f"{what}: not a date and time: {value!r}")
    return parsed


class Kind:
    name: ClassVar[str]
    #: Devices may send it up; the server sends it down.
    up: ClassVar[bool] = False
    down: ClassVar[bool] = True

    def scan(self, scope: Scope) -> Iterator[tuple[str, str, Any]]:
        """(key, partition, fingerprint) of every object in scope; the fingerprint changes
        whenever the object does (the payload itself, or something cheaper)."""
        for key, partition, payload in self.rows(scope):
            yield key, partition, payload

    def rows(self, scope: Scope) -> Iterator[tuple[str, str, dict[str, Any]]]:
        raise NotImplementedError

    def fingerprint(self, payload: dict[str, Any]) -> Any:
        """The fingerprint :meth:`scan` gives for the object ``payload`` makes."""
        return payload

    def load(self, keys: list[str], scope: Scope) -> dict[str, dict[str, Any]]:
        """The payloads of ``keys``."""
        wanted = set(keys)
        return {key: payload for key, _, payload in self.rows(scope) if key in wanted}

    def partition_of(self, payload: dict[str, Any]) -> str:
        raise NotImplementedError

    def apply(self, payloads: list[dict[str, Any]], context: Arrival) -> None:
        raise NotImplementedError

    def merge(self, local: dict[str, Any], incoming: dict[str, Any]) -> dict[str, Any]:
        """Concurrent changes of one object: by default the server's kinds never change on a
        device, so the incoming (server's) one wins; the choice must not depend on which side
        merges (both sides settle on the same)."""
        return min(local, incoming, key=digest)


kinds: Registry[Kind] = Registry("kind of replicated object")
_BATCH = 1000


def _register(cls: type[Kind]) -> type[Kind]:
    kinds.add(cls.name, cls())
    return cls


def _text(payload: dict[str, Any], name: str, limit: int = 400) -> str:
    value = payload.get(name)
    if not isinstance(value, str) or not value or len(value) > limit:
        raise InvalidInput(f"{name}: text of 1 to {limit} characters")
    return value


# -- content ---------------------------------------------------------------------------------


@_register
class CourseKind(Kind):
    name = "course"

    def scan(self, scope: Scope) -> Iterator[tuple[str, str, Any]]:
        for key, title, version, content_hash in Course.objects.filter(key__in=scope.courses).values_list(
            "key", "title", "version", "content_hash"
        ):
            yield key, course_partition(key), [title, version, content_hash]

    def fingerprint(self, payload: dict[str, Any]) -> Any:
        return [payload["title"], payload["version"], payload["content_hash"]]

    def rows(self, scope: Scope) -> Iterator[tuple[str, str, dict[str, Any]]]:
        for course in Course.objects.filter(key__in=scope.courses):
            nodes = [
                [str(n[0]), n[1], n[2], str(n[3]) if n[3] else None, n[4], n[5], n[6], n[7], n[8]]
                for n in Node.objects.filter(course=course)
                .order_by("id")
                .values_list(
                    "id", "external_id", "kind", "parent_id", "position", "title", "attributes",
                    "content_hash", "subtree_hash",
                )
            ]
            yield course.key, course_partition(course.key), {
                "key": course.key,
                "title": course.title,
                "platform": course.platform,
                "version": course.version,
                "content_hash": course.content_hash,
                "nodes": nodes,
            }

    def partition_of(self, payload: dict[str, Any]) -> str:
        return course_partition(_text(payload, "key"))

    def apply(self, payloads: list[dict[str, Any]], context: Arrival) -> None:
        for payload in payloads:
            course, _ = Course.objects.update_or_create(
                key=payload["key"],
                source=None,
                defaults={
                    "title": payload["title"],
                    "platform": payload["platform"],
                    "version": payload["version"],
                    "content_hash": payload["content_hash"],
                    "node_count": len(payload["nodes"]),
                },
            )
            Node.objects.filter(course=course).update(parent=None)
            Node.objects.filter(course=course).delete()
            rows = [
                Node(
                    id=n[0], course=course, external_id=n[1], kind=n[2], parent_id=n[3], position=n[4],
                    title=n[5], attributes=n[6], content_hash=n[7], subtree_hash=n[8],
                )
                for n in payload["nodes"]
            ]
            # Parents first: a node's parent is in the table before it.
            by_id = {n.id: n for n in rows}
            placed: set[str] = set()
            ordered: list[Node] = []

            def place(node: Node) -> None:
                if str(node.id) in placed:
                    return
                if node.parent_id and node.parent_id in by_id:
                    place(by_id[node.parent_id])
                placed.add(str(node.id))
                ordered.append(node)

            for node in rows:
                place(node)
            Node.objects.bulk_create(ordered, batch_size=500)


def _question_key(course: str, key: str, version: int) -> str:
    return f"{course}|{key}|{version}"


@_register
class QuestionKind(Kind):
    name = "question"

    def rows(self, scope: Scope) -> Iterator[tuple[str, str, dict[str, Any]]]:
        for q in Question.objects.filter(course__key__in=scope.courses).select_related("course").order_by("id"):
            yield _question_key(q.course.key, q.key, q.version), course_partition(q.course.key), {
                "course": q.course.key,
                "key": q.key,
                "version": q.version,
                "subtopic": q.subtopic,
                "type": q.type,
                "document": q.document,
                "tags": q.tags,
                "current": q.current,
                "archived_at": _time(q.archived_at),
            }

    def partition_of(self, payload: dict[str, Any]) -> str:
        return course_partition(_text(payload, "course"))

    def apply(self, payloads: list[dict[str, Any]], context: Arrival) -> None:
        courses = dict(Course.objects.filter(key__in={p["course"] for p in payloads}).values_list("key", "pk"))
        # Versions no longer current first: one current version per question at any time.
        for payload in sorted(payloads, key=lambda p: p["current"]):
            Question.objects.update_or_create(
                course_id=courses[payload["course"]],
                key=payload["key"],
                version=payload["version"],
                defaults={
                    "subtopic": payload["subtopic"],
                    "type": payload["type"],
                    "document": payload["document"],
                    "tags": payload["tags"],
                    "current": payload["current"],
                    "archived_at": _parse_time(payload["archived_at"], "archived_at"),
                },
            )


_ASSESSMENT_FIELDS = (
    "kind", "title", "subtopics", "subtopic", "status", "attempt_limit", "passing_threshold",
    "questions_per_attempt", "shuffle", "feedback", "max_tries", "time_limit_seconds", "grace_seconds",
    "mastery_rule",
)


@_register
class AssessmentKind(Kind):
    name = "assessment"

    def rows(self, scope: Scope) -> Iterator[tuple[str, str, dict[str, Any]]]:
        extra: dict[int, dict[str, int]] = defaultdict(dict)
        for assessment_id, username, seconds in ExtraTime.objects.filter(
            assessment__course__key__in=scope.courses
        ).values_list("assessment_id", "learner__username", "seconds"):
            extra[assessment_id][username] = seconds
        for a in Assessment.objects.filter(course__key__in=scope.courses).select_related("course").order_by("id"):
            payload = {f: getattr(a, f) for f in _ASSESSMENT_FIELDS}
            payload.update(
                id=a.pk,
                course=a.course.key,
                opens_at=_time(a.opens_at),
                due_at=_time(a.due_at),
                archived_at=_time(a.archived_at),
                extra_time=dict(sorted(extra[a.pk].items())),
            )
            yield str(a.pk), course_partition(a.course.key), payload

    def partition_of(self, payload: dict[str, Any]) -> str:
        return course_partition(_text(payload, "course"))

    def apply(self, payloads: list[dict[str, Any]], context: Arrival) -> None:
        courses = dict(Course.objects.filter(key__in={p["course"] for p in payloads}).values_list("key", "pk"))
        users = get_user_model().objects
        for payload in payloads:
            values = {f: payload[f] for f in _ASSESSMENT_FIELDS}
            values.update(
                course_id=courses[payload["course"]],
                opens_at=_parse_time(payload["opens_at"], "opens_at"),
                due_at=_parse_time(payload["due_at"], "due_at"),
                archived_at=_parse_time(payload["archived_at"], "archived_at"),
            )
            assessment, _ = Assessment.objects.update_or_create(pk=payload["id"], defaults=values)
            ExtraTime.objects.filter(assessment=assessment).delete()
            learners = dict(users.filter(username__in=payload["extra_time"]).values_list("username", "pk"))
            ExtraTime.objects.bulk_create(
                ExtraTime(assessment=assessment, learner_id=learners[name], seconds=seconds)
                for name, seconds in payload["extra_time"].items()
                if name in learners
            )


# -- people ----------------------------------------------------------------------------------


@_register
class AccountKind(Kind):
    """A person's account with what they need to sign in offline: the password's hash,
    never the password."""

    name = "account"

    def rows(self, scope: Scope) -> Iterator[tuple[str, str, dict[str, Any]]]:
        users = get_user_model().objects.select_related("account", "person")
        if scope.people is not None:
            users = users.filter(username__in=scope.usernames())
        for user in users.order_by("id"):
            account = getattr(user, "account", None)
            person = getattr(user, "person", None)
            yield user.username, account_partition(user.username), {
                "username": user.username,
                "password": user.password,
                "first_name": user.first_name,
                "last_name": user.last_name,
                "email": user.email,
                "is_active": user.is_active,
                "role": account.role if account else "learner",
                "name": person.name if person else "",
                "sis_id": person.sis_id if person else "",
            }

    def partition_of(self, payload: dict[str, Any]) -> str:
        return account_partition(_text(payload, "username", 150))

    def apply(self, payloads: list[dict[str, Any]], context: Arrival) -> None:
        User = get_user_model()
        for payload in payloads:
            user, _ = User.objects.update_or_create(
                username=payload["username"],
                defaults={
                    "password": payload["password"],
                    "first_name": payload["first_name"],
                    "last_name": payload["last_name"],
                    "email": payload["email"],
                    "is_active": payload["is_active"],
                },
            )
            Account.objects.update_or_create(user=user, defaults={"role": payload["role"], "origin": "device"})
            person = person_for_user(user=user)
            if (person.name, person.sis_id) != (payload["name"], payload["sis_id"]):
                person.name, person.sis_id = payload["name"], payload["sis_id"]
                person.save(update_fields=["name", "sis_id", "updated_at"])


def _enrollment_key(course: str, username: str, role: str) -> str:
    return f"{course}|{username}|{role}"


@_register
class EnrollmentKind(Kind):
    name = "enrollment"

    def rows(self, scope: Scope) -> Iterator[tuple[str, str, dict[str, Any]]]:
        enrollments = Enrollment.objects.filter(course__key__in=scope.courses, person__user__isnull=False)
        for course, username, role, state in enrollments.order_by("id").values_list(
            "course__key", "person__user__username", "role", "state"
        ):
            if scope.people is not None and username not in scope.people.get(course, ()):
                continue
            yield _enrollment_key(course, username, role), course_partition(course), {
                "course": course,
                "username": username,
                "role": role,
                "state": state,
            }

    def partition_of(self, payload: dict[str, Any]) -> str:
        return course_partition(_text(payload, "course"))

    def apply(self, payloads: list[dict[str, Any]], context: Arrival) -> None:
        from eduvault.pipeline.records.enrollments import enrollment_set

        courses = {c.key: c for c in Course.objects.filter(key__in={p["course"] for p in payloads}, source=None)}
        for payload in payloads:
            enrollment_set(
                course=courses[payload["course"]],
                username=payload["username"],
                role=payload["role"],
                state=payload["state"],
                actor="device-sync",
            )


# -- learners' work --------------------------------------------------------------------------


def _learner_filter(scope: Scope, course_field: str, user_field: str) -> Q:
    if scope.people is None:
        return Q(**{f"{course_field}__in": scope.courses})
    q = Q(pk__in=[])
    for course, names in scope.people.items():
        q |= Q(**{course_field: course, f"{user_field}__in": sorted(names)})
    return q


@_register
class AttemptKind(Kind):
    """An attempt with its draw (the questions in order); its answers travel on their own.
    Append-only under the id its replica made; a learner's attempts are numbered by when
    they began, on every replica alike."""

    name = "attempt"
    up = True

    def rows(self, scope: Scope, ids: set[str] | None = None) -> Iterator[tuple[str, str, dict[str, Any]]]:
        """In batches (an attempt's draw read with its batch): memory holds one batch."""
        attempts = Attempt.objects.filter(_learner_filter(scope, "assessment__course__key", "learner__username"))
        if ids is not None:
            attempts = attempts.filter(pk__in=sorted(ids))
        from eduvault.learning.devices.store import replica

        me = replica().name
        pks = attempts.order_by("started_at", "id").values_list("pk", flat=True).iterator(chunk_size=_BATCH)
        while batch := list(islice(pks, _BATCH)):
            draws: dict[Any, list[str]] = defaultdict(list)
            for attempt_id, course, key, version in (
                Response.objects.filter(attempt_id__in=batch)
                .order_by("attempt_id", "position")
                .values_list("attempt_id", "question__course__key", "question__key", "question__version")
            ):
                draws[attempt_id].append(_question_key(course, key, version))
            rows = Attempt.objects.filter(pk__in=batch).select_related("assessment__course", "learner")
            for a in sorted(rows, key=lambda a: (a.started_at, a.pk)):
                yield str(a.pk), learner_partition(a.assessment.course.key, a.learner.username), self._payload(
                    a, draws, me
                )

    def load(self, keys: list[str], scope: Scope) -> dict[str, dict[str, Any]]:
        return {key: payload for key, _, payload in self.rows(scope, set(keys))}

    @staticmethod
    def _payload(a: Attempt, draws: dict[Any, list[str]], me: str) -> dict[str, Any]:
        return {
            "id": str(a.pk),
            "assessment": a.assessment_id,
            "course": a.assessment.course.key,
            "learner": a.learner.username,
            "seed": a.seed,
            "status": a.status,
            "started_at": _time(a.started_at),
            "ends_at": _time(a.ends_at),
            "deadline": _time(a.deadline),
            "submitted_at": _time(a.submitted_at),
            "closed_by": a.closed_by,
            "score": a.score,
            "max_score": a.max_score,
            "passed": a.passed,
            # Where it began: the same name on every replica (blank here means here).
            "origin": a.origin or me,
            "flags": a.flags,
            "questions": draws.get(a.pk, []),
        }

    def partition_of(self, payload: dict[str, Any]) -> str:
        return learner_partition(_text(payload, "course"), _text(payload, "learner", 150))

    def merge(self, local: dict[str, Any], incoming: dict[str, Any]) -> dict[str, Any]:
        """The same attempt changed on two replicas: a submitted one beats an open one; two
        submitted, the earlier submission (then the smaller digest) stands; flags of both."""

        def rank(p: dict[str, Any]) -> tuple[int, str, str]:
            return (0 if p["status"] == Attempt.Status.SUBMITTED else 1, p["submitted_at"] or "", digest(p))

        winner = dict(min(local, incoming, key=rank))
        winner["flags"] = sorted({*local.get("flags", []), *incoming.get("flags", [])})
        return winner

    def apply(self, payloads: list[dict[str, Any]], context: Arrival) -> None:
        from eduvault.learning.devices import arrivals

        arrivals.attempts_apply(payloads, context)


@_register
class AnswerKind(Kind):
    """An answer: immutable once given, under its attempt and client id."""

    name = "answer"
    up = True

    def rows(self, scope: Scope, attempts: set[str] | None = None) -> Iterator[tuple[str, str, dict[str, Any]]]:
        answers = Answer.objects.filter(
            _learner_filter(scope, "attempt__assessment__course__key", "attempt__learner__username")
        ).order_by("id")
        if attempts is not None:
            answers = answers.filter(attempt_id__in=sorted(attempts))
        for row in answers.values_list(
            "attempt_id", "client_id", "question__course__key", "question__key", "question__version",
            "try_number", "answer", "score", "raw_score", "correct", "result", "created_at",
            "attempt__learner__username",
        ).iterator(chunk_size=_BATCH):
            attempt, client_id, course, key, version, try_number, answer, score, raw, correct, result, at, who = row
            yield f"{attempt}|{client_id}", learner_partition(course, who), {
                "attempt": str(attempt),
                "client_id": client_id,
                "course": course,
                "learner": who,
                "question": _question_key(course, key, version),
                "try_number": try_number,
                "answer": answer,
                "score": score,
                "raw_score": raw,
                "correct": correct,
                "result": result,
                "created_at": _time(at),
            }

    def load(self, keys: list[str], scope: Scope) -> dict[str, dict[str, Any]]:
        wanted = set(keys)
        attempts = {k.split("|", 1)[0] for k in keys}
        return {key: payload for key, _, payload in self.rows(scope, attempts) if key in wanted}

    def partition_of(self, payload: dict[str, Any]) -> str:
        return learner_partition(_text(payload, "course"), _text(payload, "learner", 150))

    def apply(self, payloads: list[dict[str, Any]], context: Arrival) -> None:
        from eduvault.learning.devices import arrivals

        arrivals.answers_apply(payloads, context)


@_register
class MasteryKind(Kind):
    name = "mastery"

    def rows(self, scope: Scope) -> Iterator[tuple[str, str, dict[str, Any]]]:
        rows = Mastery.objects.filter(_learner_filter(scope, "course__key", "learner__username")).order_by("id")
        for course, who, subtopic, p, answers, correct, recent, mastered, at in rows.values_list(
            "course__key", "learner__username", "subtopic", "p_known", "answers", "correct", "recent",
            "mastered", "mastered_at",
        ):
            yield f"{course}|{who}|{subtopic}", learner_partition(course, who), {
                "course": course,
                "learner": who,
                "subtopic": subtopic,
                "p_known": p,
                "answers": answers,
                "correct": correct,
                "recent": recent,
                "mastered": mastered,
                "mastered_at": _time(at),
            }

    def partition_of(self, payload: dict[str, Any]) -> str:
        return learner_partition(_text(payload, "course"), _text(payload, "learner", 150))

    def apply(self, payloads: list[dict[str, Any]], context: Arrival) -> None:
        courses = dict(Course.objects.filter(key__in={p["course"] for p in payloads}, source=None).values_list("key", "pk"))
        users = dict(
            get_user_model().objects.filter(username__in={p["learner"] for p in payloads}).values_list("username", "pk")
        )
        for p in payloads:
            Mastery.objects.update_or_create(
                learner_id=users[p["learner"]],
                course_id=courses[p["course"]],
                subtopic=p["subtopic"],
                defaults={
                    "p_known": p["p_known"],
                    "answers": p["answers"],
                    "correct": p["correct"],
                    "recent": p["recent"],
                    "mastered": p["mastered"],
                    "mastered_at": _parse_time(p["mastered_at"], "mastered_at"),
                },
            )


@_register
class RecordKind(Kind):
    """A learner's records as the hub settled them (enrollments travel as their own kind):
    a course's in the learner's partition, a person's own (their profile) in the account's."""

    name = "record"

    def rows(self, scope: Scope) -> Iterator[tuple[str, str, dict[str, Any]]]:
        own = Q(course__isnull=True, kind__in=PERSONAL)
        if scope.people is not None:
            own &= Q(person__user__username__in=sorted(scope.usernames()))
        records = (
            Record.objects.filter(_learner_filter(scope, "course__key", "person__user__username") | own)
            .exclude(kind="enrollment")
            .filter(merged_into__isnull=True, person__user__isnull=False)
            .order_by("id")
        )
        for kind, key, course, who, obj, home, platform, title, fields, vector, at in records.values_list(
            "kind", "key", "course__key", "person__user__username", "object", "home", "home_platform", "title",
            "fields", "vector", "source_time",
        ).iterator(chunk_size=_BATCH):
            yield f"{kind}|{key}|{who}", self._partition(course, who), {
                "kind": kind,
                "key": key,
                "course": course,
                "learner": who,
                "object": obj,
                "home": home,
                "home_platform": platform,
                "title": title,
                "fields": fields,
                "vector": vector,
                "source_time": _time(at),
            }

    @staticmethod
    def _partition(course: str | None, who: str) -> str:
        return learner_partition(course, who) if course else account_partition(who)

    def partition_of(self, payload: dict[str, Any]) -> str:
        course = payload.get("course")
        return self._partition(_text(payload, "course") if course is not None else None, _text(payload, "learner", 150))

    def apply(self, payloads: list[dict[str, Any]], context: Arrival) -> None:
        courses = dict(Course.objects.filter(key__in={p["course"] for p in payloads}, source=None).values_list("key", "pk"))
        users = {u.username: u for u in get_user_model().objects.filter(username__in={p["learner"] for p in payloads})}
        for p in payloads:
            person = person_for_user(user=users[p["learner"]])
            Record.objects.update_or_create(
                kind=p["kind"],
                key=p["key"],
                holder=f"p{person.pk}",
                defaults={
                    "person": person,
                    "course_id": courses[p["course"]] if p["course"] is not None else None,
                    "object": p["object"],
                    "home": p["home"],
                    "home_platform": p["home_platform"],
                    "title": p["title"],
                    "fields": p["fields"],
                    "vector": p["vector"],
                    "source_time": _parse_time(p["source_time"], "source_time"),
                },
            )


@_register
class ProfileEditKind(Kind):
    """A person's edit of their own profile on a device, field by field: up only. The server
    takes it into the hub as the device's change, so each field follows its policy (the
    loser kept in the record's history); the settled profile comes down as a record."""

    name = "profile_edit"
    up = True
    down = False

    def rows(self, scope: Scope) -> Iterator[tuple[str, str, dict[str, Any]]]:
        from eduvault.learning.devices.store import replica
        from eduvault.pipeline.records.models import RecordChange

        me = replica().name
        changes = RecordChange.objects.filter(
            record__kind="profile", replica="eduvault", outcome="applied", record__person__user__isnull=False
        ).order_by("id")
        for pk, field_name, value, who, at in changes.values_list(
            "pk", "field", "value", "record__person__user__username", "created_at"
        ).iterator(chunk_size=_BATCH):
            yield f"{me}|{pk}", account_partition(who), {"learner": who, "field": field_name, "value": value, "at": _time(at)}

    def partition_of(self, payload: dict[str, Any]) -> str:
        return account_partition(_text(payload, "learner", 150))

    def apply(self, payloads: list[dict[str, Any]], context: Arrival) -> None:
        from eduvault.pipeline.records.services import PROFILE_FIELDS, device_profile_edits

        for p in payloads:
            if p["field"] not in PROFILE_FIELDS:
                raise InvalidInput(f"profile_edit: a device edits {', '.join(PROFILE_FIELDS)}, not {p['field']!r}")
        device_profile_edits(
            edits=[(p["learner"], p["field"], p["value"], _parse_time(p["at"], "at")) for p in payloads],
            replica=f"device:{context.sender}",
        )


ORDER = (
    "course", "question", "assessment", "account", "enrollment", "attempt", "answer", "mastery", "record", "profile_edit",
)
#: What the server sends down (everything a replica may hold, but a device's own edits).
DOWN = tuple(name for name in ORDER if kinds.get(name).down)
