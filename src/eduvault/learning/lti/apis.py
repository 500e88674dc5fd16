"""The LTI platforms API (admins only): register, list, read and remove the platforms that
launch Edu Vault, and read the tool's configuration."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema, extend_schema_view, inline_serializer
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from eduvault.identity.permissions import Admin
from eduvault.integrations.lti import services
from eduvault.integrations.models import Source
from eduvault.kernel.errors import NotFound
from eduvault.kernel.validation import validated
from eduvault.learning.lti.config import tool_config
from eduvault.learning.lti.views import public_url

FIELDS = ("issuer", "client_id", "auth_url", "token_url", "jwks_url", "deployments")


class PlatformInput(serializers.Serializer):
    name = serializers.RegexField(r"^[a-z0-9][a-z0-9_-]*$", max_length=64)
    issuer = serializers.URLField(max_length=500)
    client_id = serializers.CharField(max_length=255)
    auth_url = serializers.URLField(max_length=500)
    token_url = serializers.URLField(max_length=500)
    jwks_url = serializers.URLField(max_length=500)
    deployments = serializers.ListField(
        child=serializers.CharField(max_length=255), min_length=1, max_length=100
    )


class PlatformOutput(serializers.Serializer):
    name = serializers.CharField()
    issuer = serializers.CharField()
    client_id = serializers.CharField()
    auth_url = serializers.CharField()
    token_url = serializers.CharField()
    jwks_url = serializers.CharField()
    deployments = serializers.ListField(child=serializers.CharField())
    created_at = serializers.DateTimeField()


def platform_data(source: Source) -> dict[str, Any]:
    return {"name": source.name, **{k: source.settings.get(k) for k in FIELDS}, "created_at": source.created_at}


@extend_schema_view(get=extend_schema(summary="List LTI platforms"), post=extend_schema(summary="Register an LTI platform"))
class PlatformListApi(APIView):
    permission_classes = [Admin]

    @extend_schema(responses={200: PlatformOutput(many=True)}, operation_id="v1_lti_platforms_list")
    def get(self, request: Request) -> Response:
        return Response([platform_data(s) for s in services.lti_platforms()])

    @extend_schema(request=PlatformInput, responses={201: PlatformOutput})
    def post(self, request: Request) -> Response:
        data = validated(PlatformInput, request.data)
        source = services.lti_platform_add(**data)
        return Response(platform_data(source), status=status.HTTP_201_CREATED)


@extend_schema_view(get=extend_schema(summary="Read an LTI platform"), delete=extend_schema(summary="Remove an LTI platform"))
class PlatformDetailApi(APIView):
    permission_classes = [Admin]

    def _get(self, name: str) -> Source:
        source = next((s for s in services.lti_platforms() if s.name == name), None)
        if source is None:
            raise NotFound(f"no LTI platform {name!r}")
        return source

    @extend_schema(responses={200: PlatformOutput})
    def get(self, request: Request, name: str) -> Response:
        return Response(platform_data(self._get(name)))

    @extend_schema(responses={204: None})
    def delete(self, request: Request, name: str) -> Response:
        services.lti_platform_remove(name=self._get(name).name)
        return Response(status=status.HTTP_204_NO_CONTENT)


@extend_schema_view(get=extend_schema(summary="The LTI tool's configuration for platforms"))
class ToolConfigApi(APIView):
    permission_classes = [Admin]

    @extend_schema(
        responses={
            200: inline_serializer(
                "LtiToolConfig",
                {"urls": serializers.DictField(), "canvas_developer_key": serializers.DictField(), "jwks": serializers.DictField()},
            )
        },
        description="The tool's login, launch and key URLs (EDUVAULT_PUBLIC_URL, else this request's), and Canvas's developer key JSON.",
    )
    def get(self, request: Request) -> Response:
        return Response(tool_config(public_url(request, "/").rstrip("/")))
