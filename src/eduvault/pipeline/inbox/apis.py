"""The webhook receiver, and the admin API over the inbox."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST
from drf_spectacular.utils import extend_schema, extend_schema_view, inline_serializer
from rest_framework import serializers
from rest_framework.generics import ListAPIView
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from eduvault.identity.permissions import IsAdminToken
from eduvault.integrations.services import source_get
from eduvault.kernel.errors import EduVaultError, InvalidInput
from eduvault.kernel.openapi import documented_paths, problem
from eduvault.kernel.problems import problem_for
from eduvault.kernel.validation import MAX_ID
from eduvault.pipeline.inbox.models import InboundEvent
from eduvault.pipeline.inbox.selectors import event_get, event_list
from eduvault.pipeline.inbox.services import event_receive, events_replay

_RECEIVED = {
    "type": "object",
    "properties": {
        "id": {"type": "integer", "nullable": True},
        "event_id": {"type": "string", "nullable": True},
        "status": {"type": "string", "enum": ["accepted", "duplicate"]},
        "events": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "id": {"type": "integer"},
                    "event_id": {"type": "string"},
                    "status": {"type": "string", "enum": ["accepted", "duplicate"]},
                },
            },
        },
    },
}


@csrf_exempt
@require_POST
def webhook(request: HttpRequest, source_name: str) -> JsonResponse:
    """``POST /api/v1/webhooks/<source>``: a signed delivery, verified and parsed as the
    source's platform sends them (Open edX: a CloudEvent under Standard Webhooks).

    202 once its events are committed to the inbox; 200 when every one was stored before.
    """
    try:
        body = request.body
        if not body:
            raise _empty_body(request)
        stored = event_receive(source_name=source_name, body=body, headers=request.headers)
    except (EduVaultError, RequestDataTooBig) as exc:
        response = problem_for(exc, request.path)
        assert response is not None
        return response
    events = [
        {"id": e.pk, "event_id": e.event_id, "status": "accepted" if created else "duplicate"}
        for e, created in stored
    ]
    first = events[0] if events else {"id": None, "event_id": None, "status": "duplicate"}
    return JsonResponse(
        {**first, "events": events}, status=202 if any(created for _, created in stored) else 200
    )


documented_paths.add(
    "/api/v1/webhooks/{source_name}",
    {
        "post": {
            "operationId": "v1_webhooks_receive",
            "summary": "Receive a platform's signed event delivery",
            "description": (
                "The source's platform posts its events here, signed as it signs them: Open edX a "
                "CloudEvent under Standard Webhooks (`webhook-id`, `webhook-timestamp`, "
                "`webhook-signature`), Canvas Live Events signed by its key set, Discourse with "
                "`X-Discourse-Event-Signature`. The signature, not a token, authenticates it; it is "
                "checked in constant time before the body is parsed. 202 once its events are "
                "committed to the inbox, 200 when every one was stored before (a redelivery)."
            ),
            "tags": ["v1"],
            "parameters": [
                {"in": "path", "name": "source_name", "required": True, "schema": {"type": "string"}},
                {"in": "header", "name": "webhook-id", "schema": {"type": "string"}},
                {"in": "header", "name": "webhook-timestamp", "schema": {"type": "string"}},
                {"in": "header", "name": "webhook-signature", "schema": {"type": "string"}},
            ],
            "requestBody": {
                "required": True,
                "description": "The platform's event as it sends it (any JSON content type).",
                "content": {"application/json": {"schema": {"type": "object", "additionalProperties": {}}}},
            },
            "security": [{}],
            "responses": {
                "200": {"description": "Every event was stored before.", "content": {"application/json": {"schema": _RECEIVED}}},
                "202": {"description": "Accepted into the inbox.", "content": {"application/json": {"schema": _RECEIVED}}},
                "400": problem("A body that is empty or not the platform's event."),
                "401": problem("A missing, stale or wrong signature."),
                "404": problem("No source of that name."),
                "411": problem("No Content-Length and not chunked."),
                "413": problem("A body over EDUVAULT_MAX_REQUEST_BYTES."),
            },
        }
    },
)


class LengthRequired(InvalidInput):
    """The request says neither how long its body is nor that it is chunked."""

    status = 411


def _empty_body(request: HttpRequest) -> InvalidInput:
    """Why a webhook came with no body: no framing at all (411), or an empty one (400)."""
    if "CONTENT_LENGTH" not in request.META and "HTTP_TRANSFER_ENCODING" not in request.META:
        return LengthRequired(
            "the event must be the body, sent with Content-Length or Transfer-Encoding: chunked"
        )
    return InvalidInput("the body is empty: the event must be the body")


class EventSerializer(serializers.ModelSerializer):
    source = serializers.SlugRelatedField(slug_field="name", read_only=True)

    class Meta:
        model = InboundEvent
        fields = [
            "id",
            "source",
            "event_id",
            "type",
            "priority",
            "subject",
            "subject_key",
            "via",
            "status",
            "attempts",
            "received_at",
            "next_attempt_at",
            "lease_owner",
            "lease_expires_at",
            "processed_at",
            "last_error",
            "last_error_code",
            "result",
            "payload",
        ]


@extend_schema_view(get=extend_schema(summary="List inbound events"))
class EventListApi(ListAPIView):
    """Inbox events, newest first; filter with ``status``, ``source`` and ``course``."""

    serializer_class = EventSerializer
    permission_classes = [IsAdminToken]

    def get_queryset(self):
        params = self.request.query_params
        status = params.get("status")
        source = source_get(name=params["source"]) if params.get("source") else None
        return event_list(
            status=status, source=source, subject_key=params.get("course") or params.get("subject")
        )


@extend_schema_view(get=extend_schema(summary="Read an inbound event and its attempts"))
class EventDetailApi(APIView):
    permission_classes = [IsAdminToken]

    @extend_schema(responses=EventSerializer)
    def get(self, request: Request, event_id: int) -> Response:
        return Response(EventSerializer(event_get(event_id=event_id)).data)


class ReplaySerializer(serializers.Serializer):
    ids = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=MAX_ID), max_length=10_000, required=False
    )
    status = serializers.ChoiceField(choices=InboundEvent.Status.values, required=False)
    source = serializers.CharField(required=False)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if not attrs.get("ids") and not attrs.get("status"):
            raise serializers.ValidationError("give the ids to replay, or a status (and optionally a source)")
        return attrs


#: What a replay answers: the events put back in the queue.
Replayed = inline_serializer("Replayed", {"replayed": serializers.ListField(child=serializers.IntegerField())})


@extend_schema_view(post=extend_schema(summary="Replay inbound events by ids or filter"))
class EventReplayApi(APIView):
    """Replay events: ``{"ids": [...]}`` or ``{"status": "dead", "source": "lms"}``."""

    permission_classes = [IsAdminToken]

    @extend_schema(
        request=ReplaySerializer,
        responses={202: Replayed},
        operation_id="v1_events_replay_matching",
    )
    def post(self, request: Request) -> Response:
        body = ReplaySerializer(data=request.data)
        body.is_valid(raise_exception=True)
        source = source_get(name=body.validated_data["source"]) if body.validated_data.get("source") else None
        replayed = events_replay(
            ids=body.validated_data.get("ids"), status=body.validated_data.get("status"), source=source
        )
        return Response({"replayed": [e.pk for e in replayed]}, status=202)


@extend_schema_view(post=extend_schema(summary="Replay one inbound event"))
class EventReplayOneApi(APIView):
    permission_classes = [IsAdminToken]

    @extend_schema(request=None, responses={202: Replayed})
    def post(self, request: Request, event_id: int) -> Response:
        event_get(event_id=event_id)
        replayed = events_replay(ids=[event_id])
        return Response({"replayed": [e.pk for e in replayed]}, status=202)
