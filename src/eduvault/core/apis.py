"""Who am I: the caller's identity, for clients checking their credentials."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from eduvault.accounts.permissions import AnyPerson
from eduvault.accounts.tokens import Person
from eduvault.core.permissions import HasApiToken


class MeApi(APIView):
    permission_classes = [HasApiToken | AnyPerson]

    @extend_schema(
        responses=inline_serializer(
            "Me",
            {
                "name": serializers.CharField(),
                "role": serializers.CharField(),
                "kind": serializers.CharField(
                    help_text="token (an API token) or person (a signed-in person)"
                ),
                "courses": serializers.ListField(required=False),
            },
        )
    )
    def get(self, request: Request) -> Response:
        if isinstance(request.user, Person):
            person = request.user
            return Response({"name": person.username, "role": person.role, "kind": "person", "id": person.id})
        token = request.auth
        return Response({"name": token.name, "role": token.role, "kind": "token", "courses": token.courses})
