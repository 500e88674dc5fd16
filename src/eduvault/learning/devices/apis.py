"""The device sync's HTTP side (``/api/v1/devices/…``): pairing, and transfer sessions under
the device's credential (``Authorization: Bearer evd_…``).

Chunks are binary (``application/octet-stream``): a pull's chunk is read with ``Range`` to
resume inside it; a push's chunk is sent in parts at ``Upload-Offset`` of its
``Upload-Length``, so a cut resends at most one part.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from django.http import HttpResponse
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.exceptions import AuthenticationFailed as DrfAuthenticationFailed
from rest_framework.permissions import AllowAny, BasePermission
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from eduvault.identity.permissions import Admin
from eduvault.kernel.errors import AuthenticationFailed, InvalidInput
from eduvault.learning.devices import schema as _schema  # noqa: F401 - the credential in the OpenAPI schema
from eduvault.learning.devices import services, store
from eduvault.learning.devices.models import Device, TransferSession


@dataclass(frozen=True)
class DevicePrincipal:
    device: Device
    is_authenticated: bool = True
    is_anonymous: bool = False

    @property
    def username(self) -> str:
        return f"device:{self.device.name}"


class DeviceAuthentication(BaseAuthentication):
    def authenticate(self, request: Request) -> tuple[Any, Any] | None:
        header = get_authorization_header(request).split()
        if len(header) != 2 or header[0].lower() != b"bearer" or not header[1].startswith(b"evd_"):
            raise DrfAuthenticationFailed("Send the device's credential as 'Authorization: Bearer evd_…'.")
        try:
            device = services.device_authenticate(credential=header[1].decode())
        except (AuthenticationFailed, UnicodeDecodeError) as exc:
            raise DrfAuthenticationFailed(getattr(exc, "detail", "The credential is not valid.")) from None
        return DevicePrincipal(device), device

    def authenticate_header(self, request: Request) -> str:
        return 'Bearer realm="eduvault-devices"'


class IsDevice(BasePermission):
    def has_permission(self, request: Request, view: Any) -> bool:
        return isinstance(request.user, DevicePrincipal)


class DeviceApi(APIView):
    authentication_classes = [DeviceAuthentication]
    permission_classes = [IsDevice]

    @property
    def device(self) -> Device:
        return self.request.user.device  # type: ignore[union-attr]


def session_data(session: TransferSession) -> dict[str, Any]:
    seen = session.sender_seen if session.direction == TransferSession.Direction.PULL else store.seen_of(session.partitions)
    return {
        "session": str(session.id),
        "direction": session.direction,
        "state": session.state,
        "key": session.key,
        "chunks": session.chunks,
        "records": session.records,
        "bytes": session.bytes,
        "next_seq": session.next_seq,
        "offset": len(bytes(session.partial)),
        "partitions": session.partitions,
        "seen": seen,
    }


SessionOutput = inline_serializer(
    "DeviceSession",
    {
        "session": serializers.UUIDField(),
        "direction": serializers.ChoiceField(choices=["push", "pull"]),
        "state": serializers.CharField(),
        "key": serializers.CharField(help_text="the chunks' HMAC-SHA256 key, hex"),
        "chunks": serializers.IntegerField(),
        "records": serializers.IntegerField(),
        "bytes": serializers.IntegerField(),
        "next_seq": serializers.IntegerField(),
        "offset": serializers.IntegerField(),
        "partitions": serializers.ListField(child=serializers.CharField()),
        "seen": serializers.DictField(),
    },
)


class JoinApi(APIView):
    authentication_classes: list[Any] = []
    permission_classes = [AllowAny]

    @extend_schema(
        summary="Pair a device with its one-time code",
        request=inline_serializer("DeviceJoin", {"code": serializers.CharField(max_length=40)}),
        responses={201: inline_serializer("DeviceJoined", {"device": serializers.CharField(), "credential": serializers.CharField(), "replica": serializers.CharField(), "server_replica": serializers.CharField(), "courses": serializers.ListField(child=serializers.CharField())})},
    )
    def post(self, request: Request) -> Response:
        joined = services.device_join(code=request.data.get("code") if isinstance(request.data, dict) else None)
        device = joined.device
        return Response(
            {
                "device": device.name,
                "credential": joined.credential,
                "replica": device.replica,
                "server_replica": joined.server_replica,
                "courses": sorted(device.courses.values_list("key", flat=True)),
            },
            status=status.HTTP_201_CREATED,
        )


class SessionListApi(DeviceApi):
    @extend_schema(
        summary="Begin a transfer session (pull: the server frames what the device lacks)",
        request=inline_serializer(
            "DeviceSessionOpen",
            {
                "direction": serializers.ChoiceField(choices=["push", "pull"]),
                "partitions": serializers.ListField(child=serializers.CharField(), required=False),
                "seen": serializers.DictField(required=False),
                "clock": serializers.FloatField(required=False, help_text="the device's time (Unix seconds)"),
            },
        ),
        responses={201: SessionOutput},
    )
    def post(self, request: Request) -> Response:
        data = request.data if isinstance(request.data, dict) else {}
        session = services.session_open(
            device=self.device, direction=data.get("direction"), partitions=data.get("partitions"), clock=data.get("clock")
        )
        if session.direction == TransferSession.Direction.PULL:
            services.session_frames(session=session, device_seen=data.get("seen"))
        return Response(session_data(session), status=status.HTTP_201_CREATED)


class SessionDetailApi(DeviceApi):
    @extend_schema(summary="A transfer session's progress (to resume it)", responses={200: SessionOutput})
    def get(self, request: Request, session_id: str) -> Response:
        return Response(session_data(services.session_get(device=self.device, session_id=session_id)))


class SessionFinishApi(DeviceApi):
    @extend_schema(
        summary="Close a transfer session that went through whole",
        request=inline_serializer("DeviceSessionFinish", {"seen": serializers.DictField(required=False)}),
        responses={200: inline_serializer("DeviceSessionDone", {"session": serializers.UUIDField(), "state": serializers.CharField()})},
    )
    def post(self, request: Request, session_id: str) -> Response:
        data = request.data if isinstance(request.data, dict) else {}
        session = services.session_finish(device=self.device, session_id=session_id, seen=data.get("seen"))
        return Response({"session": str(session.id), "state": session.state})


_RANGE = re.compile(r"^bytes=(\d{1,12})-$")


def _header_int(request: Request, name: str) -> int:
    value = request.headers.get(name)
    if value is None or not value.isdigit() or len(value) > 12:
        raise InvalidInput(f"the {name} header: a whole number of bytes")
    return int(value)


class ChunkApi(DeviceApi):
    @extend_schema(
        summary="Read a pull's chunk (Range: bytes=N- resumes inside it)",
        parameters=[OpenApiParameter("Range", str, OpenApiParameter.HEADER, required=False)],
        responses={(200, "application/octet-stream"): bytes, (206, "application/octet-stream"): bytes},
    )
    def get(self, request: Request, session_id: str, seq: int) -> HttpResponse:
        session = services.session_get(device=self.device, session_id=session_id)
        frame = services.chunk_frame(session=session, seq=seq)
        start = 0
        wanted = request.headers.get("Range")
        if wanted:
            match = _RANGE.match(wanted)
            if not match or int(match.group(1)) > len(frame):
                raise InvalidInput("Range: bytes=N- with N within the chunk")
            start = int(match.group(1))
        response = HttpResponse(frame[start:], content_type="application/octet-stream", status=206 if start else 200)
        response["Content-Length"] = str(len(frame) - start)
        if start:
            response["Content-Range"] = f"bytes {start}-{len(frame) - 1}/{len(frame)}"
        response["Accept-Ranges"] = "bytes"
        return response

    @extend_schema(
        summary="Send part of a push's chunk at Upload-Offset of its Upload-Length",
        parameters=[
            OpenApiParameter("Upload-Offset", int, OpenApiParameter.HEADER),
            OpenApiParameter("Upload-Length", int, OpenApiParameter.HEADER),
        ],
        request={"application/octet-stream": bytes},
        responses={200: inline_serializer("DeviceChunkPart", {"next_seq": serializers.IntegerField(), "offset": serializers.IntegerField(), "outcome": serializers.CharField()})},
    )
    def put(self, request: Request, session_id: str, seq: int) -> Response:
        outcome = services.chunk_part(
            device=self.device,
            session_id=session_id,
            seq=seq,
            offset=_header_int(request, "Upload-Offset"),
            total=_header_int(request, "Upload-Length"),
            body=request.body,
        )
        return Response({"next_seq": outcome.next_seq, "offset": outcome.offset, "outcome": outcome.outcome})


class DeviceListApi(APIView):
    permission_classes = [Admin]

    @extend_schema(
        summary="The paired devices",
        responses={200: inline_serializer("DeviceOut", {"name": serializers.CharField(), "courses": serializers.ListField(child=serializers.CharField()), "paired_at": serializers.DateTimeField(allow_null=True), "last_sync_at": serializers.DateTimeField(allow_null=True), "revoked_at": serializers.DateTimeField(allow_null=True), "clock_skew_seconds": serializers.FloatField(allow_null=True)}, many=True)},
    )
    def get(self, request: Request) -> Response:
        return Response([device_data(d) for d in services.device_list()])


def device_data(device: Device) -> dict[str, Any]:
    return {
        "name": device.name,
        "courses": sorted(c.key for c in device.courses.all()),
        "paired_at": device.paired_at,
        "last_sync_at": device.last_sync_at,
        "revoked_at": device.revoked_at,
        "clock_skew_seconds": device.clock_skew_seconds,
    }
