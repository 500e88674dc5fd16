"""The admin API over the outbox: deliveries, their attempts, replay."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import serializers
from rest_framework.generics import ListAPIView
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from eduvault.identity.permissions import IsAdminToken
from eduvault.kernel.validation import MAX_ID
from eduvault.pipeline.outbox.models import Delivery, DeliveryAttempt
from eduvault.pipeline.outbox.selectors import delivery_get, delivery_list
from eduvault.pipeline.outbox.services import deliveries_replay


class DeliverySerializer(serializers.ModelSerializer):
    class Meta:
        model = Delivery
        fields = [
            "id",
            "target",
            "channel",
            "idempotency_key",
            "priority",
            "summary",
            "status",
            "attempts",
            "next_attempt_at",
            "failing_since",
            "last_error",
            "last_error_code",
            "created_at",
            "delivered_at",
        ]


class AttemptSerializer(serializers.ModelSerializer):
    class Meta:
        model = DeliveryAttempt
        fields = ["attempt", "ok", "status_code", "latency_ms", "response_excerpt", "error", "created_at"]


class DeliveryDetailSerializer(DeliverySerializer):
    payload = serializers.JSONField()
    attempt_log = AttemptSerializer(many=True)

    class Meta(DeliverySerializer.Meta):
        fields = [*DeliverySerializer.Meta.fields, "payload", "attempt_log"]


@extend_schema_view(get=extend_schema(summary="List deliveries"))
class DeliveryListApi(ListAPIView):
    """Deliveries, newest first; filter with ``status``, ``target`` and ``channel``."""

    serializer_class = DeliverySerializer
    permission_classes = [IsAdminToken]

    def get_queryset(self):  # type: ignore[no-untyped-def]
        params = self.request.query_params
        return delivery_list(
            status=params.get("status"), target=params.get("target"), channel=params.get("channel")
        )


@extend_schema_view(get=extend_schema(summary="Read a delivery and its attempts"))
class DeliveryDetailApi(APIView):
    permission_classes = [IsAdminToken]

    @extend_schema(responses=DeliveryDetailSerializer)
    def get(self, request: Request, delivery_id: int) -> Response:
        return Response(DeliveryDetailSerializer(delivery_get(delivery_id=delivery_id)).data)


class DeliveryReplaySerializer(serializers.Serializer):
    ids = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=MAX_ID), max_length=10_000, required=False
    )
    status = serializers.ChoiceField(choices=("dead", "failed"), required=False)
    target = serializers.CharField(max_length=200, required=False)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if not attrs.get("ids") and not attrs.get("status"):
            raise serializers.ValidationError("give the ids to replay, or a status (and optionally a target)")
        return attrs


@extend_schema_view(post=extend_schema(summary="Replay deliveries by ids or filter"))
class DeliveryReplayApi(APIView):
    """Replay deliveries: ``{"ids": [...]}`` or ``{"status": "dead", "target": "subscription:3"}``."""

    permission_classes = [IsAdminToken]

    @extend_schema(
        request=DeliveryReplaySerializer, responses={202: None}, operation_id="v1_deliveries_replay_matching"
    )
    def post(self, request: Request) -> Response:
        body = DeliveryReplaySerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        replayed = deliveries_replay(
            ids=data.get("ids"), status=data.get("status"), target=data.get("target")
        )
        return Response({"replayed": [d.pk for d in replayed]}, status=202)


@extend_schema_view(post=extend_schema(summary="Replay one delivery"))
class DeliveryReplayOneApi(APIView):
    permission_classes = [IsAdminToken]

    @extend_schema(request=None, responses={202: None})
    def post(self, request: Request, delivery_id: int) -> Response:
        delivery_get(delivery_id=delivery_id)
        return Response({"replayed": [d.pk for d in deliveries_replay(ids=[delivery_id])]}, status=202)
