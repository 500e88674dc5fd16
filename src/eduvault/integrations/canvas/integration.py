"""The Canvas integration: what a source needs, and what it can do."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.conf import settings

from eduvault.cores.coursetree import CourseTree
from eduvault.integrations.base import (
    Integration,
    RecordReader,
    RecordWriter,
    StructureReader,
    WebhookReceiver,
    register,
)
from eduvault.integrations.canvas.client import CanvasClient
from eduvault.integrations.canvas.normalize import normalize_document
from eduvault.integrations.canvas.records import WRITES, CanvasGrades, CanvasRecords, scale_links
from eduvault.integrations.canvas.structure import CanvasStructure, course_id_of
from eduvault.integrations.canvas.webhooks import LiveEvents
from eduvault.kernel.errors import InvalidInput


@register("canvas")
class Canvas(Integration):
    title = "Canvas"
    settings_fields = ()
    #: ``jwks_url`` verifies signed Live Events; ``allow_unsigned``: accept unsigned ones;
    #: ``api_user_id``: the Canvas user the token acts as (its writes' echoes are ours);
    #: ``create_people``: accounts that match nobody become new people.
    optional_settings = ("jwks_url", "allow_unsigned", "api_user_id", "create_people")
    secret_fields = ("token",)
    reads_records = True
    writes_records = WRITES

    def client(self, *, attempts: int | None = None) -> CanvasClient:
        return CanvasClient(
            self.source.base_url,
            self.source.credential("token"),
            timeout=settings.EDUVAULT_HTTP_TIMEOUT,
            attempts=settings.EDUVAULT_HTTP_ATTEMPTS if attempts is None else attempts,
        )

    def discover(self) -> dict[str, Any]:
        with self.client(attempts=2) as client:
            me = client.self_user()
        return {"api_user_id": str(me["id"])} if me.get("id") is not None else {}

    def describe_object(self, *, course_id: str, object: str) -> dict[str, Any]:
        kind, _, object_id = object.partition(":")
        if kind != "assignment" or not object_id.isdigit():
            raise InvalidInput(f"a Canvas object to link is assignment:<id>, not {object!r}")
        with self.client() as client:
            assignment = client.assignment(course_id, object_id)
            schemes = (
                {str(s["id"]): s.get("grading_scheme") for s in client.grading_standards(course_id)}
                if assignment.get("grading_standard_id") is not None
                else {}
            )
        return {
            "course_id": str(course_id),
            "assignment_id": object_id,
            "title": assignment.get("name") or "",
            **scale_links(assignment, schemes),
        }

    def course_key(self, given: str) -> str:
        return f"{self.source.name}:{course_id_of(self.source, given)}"

    def structure(self) -> StructureReader:
        return CanvasStructure(self.source, self.client())

    def webhooks(self) -> WebhookReceiver:
        return LiveEvents(self.source)

    def records_reader(self) -> RecordReader:
        return CanvasRecords(self.source, self.client())

    def records_writer(self) -> RecordWriter:
        # One attempt: the outbox retries, with backoff, within Canvas's rate limits.
        return CanvasGrades(self.source, self.client(attempts=1))

    @classmethod
    def normalize_structure(cls, document: Any, *, kind_map: Mapping[str, str] | None = None) -> CourseTree:
        key = str((document.get("course") or {}).get("id", "")) if isinstance(document, Mapping) else ""
        return normalize_document(document, key=key or "canvas-course", kind_map=kind_map)
