"""Who am I: the caller's token, for clients checking their credentials."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView


class MeApi(APIView):
    @extend_schema(
        responses=inline_serializer(
            "Me",
            {
                "name": serializers.CharField(),
                "role": serializers.CharField(),
                "courses": serializers.ListField(),
            },
        )
    )
    def get(self, request: Request) -> Response:
        token = request.auth
        return Response({"name": token.name, "role": token.role, "courses": token.courses})
