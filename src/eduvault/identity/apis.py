"""Signing in (``/api/v1/auth/…``) and managing people (``/api/v1/users/``)."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema, extend_schema_view, inline_serializer
from rest_framework import serializers, status
from rest_framework.generics import ListAPIView
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from eduvault.identity.models import Role
from eduvault.identity.permissions import Admin, AnyPerson, HasApiToken
from eduvault.identity.selectors import people_list
from eduvault.identity.services import TokenPair, auth_refresh, auth_sign_in, auth_sign_out, user_create
from eduvault.identity.tokens import SignedIn
from eduvault.kernel.middleware import client_address
from eduvault.kernel.validation import validated


def _tokens(pair: TokenPair) -> dict:
    # OAuth 2.0 names (RFC 6749 §5.1), plus the short names clients written for
    # djangorestframework-simplejwt read.
    return {
        "token_type": "Bearer",
        "access_token": pair.access,
        "refresh_token": pair.refresh,
        "expires_in": pair.expires_in,
        "refresh_expires_in": pair.refresh_expires_in,
        "access": pair.access,
        "refresh": pair.refresh,
        "user": {"id": pair.person.id, "username": pair.person.username, "role": pair.person.role},
    }


TokenResponse = inline_serializer(
    "TokenPair",
    {
        "token_type": serializers.CharField(),
        "access_token": serializers.CharField(),
        "refresh_token": serializers.CharField(),
        "expires_in": serializers.IntegerField(),
        "refresh_expires_in": serializers.IntegerField(),
        "access": serializers.CharField(),
        "refresh": serializers.CharField(),
        "user": serializers.DictField(),
    },
)


class _AuthView(APIView):
    # Sign-in failures are throttled per account and per address by auth_sign_in; refresh
    # tokens are 256 random bits, not worth guessing.
    authentication_classes: list = []
    permission_classes: list = []


@extend_schema_view(post=extend_schema(summary="Sign in with a username and password"))
class SignInApi(_AuthView):
    class SignInInput(serializers.Serializer):
        username = serializers.CharField(max_length=150)
        password = serializers.CharField(max_length=1024, trim_whitespace=False)

    @extend_schema(
        request=SignInInput,
        responses=TokenResponse,
        description="Sign in: a JWT access token and a refresh token.",
    )
    def post(self, request: Request) -> Response:
        data = validated(self.SignInInput, request.data)
        pair = auth_sign_in(
            username=data["username"], password=data["password"], address=client_address(request)
        )
        return Response(_tokens(pair))


@extend_schema_view(post=extend_schema(summary="Swap a refresh token for a new pair"))
class RefreshApi(_AuthView):
    class RefreshInput(serializers.Serializer):
        refresh = serializers.CharField(max_length=200, required=False)
        refresh_token = serializers.CharField(max_length=200, required=False)

        def validate(self, attrs: dict) -> dict:
            if not attrs.get("refresh") and not attrs.get("refresh_token"):
                raise serializers.ValidationError({"refresh": "send the refresh token as 'refresh'"})
            return attrs

    @extend_schema(
        request=RefreshInput,
        responses=TokenResponse,
        description="Swap a refresh token for a new pair; the old refresh token is used up.",
    )
    def post(self, request: Request) -> Response:
        data = validated(self.RefreshInput, request.data)
        return Response(_tokens(auth_refresh(refresh=data.get("refresh") or data["refresh_token"])))


@extend_schema_view(post=extend_schema(summary="Sign out: revoke a session's refresh tokens"))
class SignOutApi(_AuthView):
    @extend_schema(request=RefreshApi.RefreshInput, responses={204: None}, description="Revoke a session.")
    def post(self, request: Request) -> Response:
        data = validated(RefreshApi.RefreshInput, request.data)
        auth_sign_out(refresh=data.get("refresh") or data["refresh_token"])
        return Response(status=status.HTTP_204_NO_CONTENT)


class UserOutput(serializers.Serializer):
    id = serializers.IntegerField()
    username = serializers.CharField()
    role = serializers.CharField(source="account.role", default=Role.LEARNER)
    email = serializers.CharField()
    full_name = serializers.CharField(source="get_full_name")
    is_active = serializers.BooleanField()
    date_joined = serializers.DateTimeField()


@extend_schema_view(get=extend_schema(summary="List people who sign in"), post=extend_schema(summary="Add a person who signs in"))
class UserListApi(ListAPIView):
    permission_classes = [Admin]
    serializer_class = UserOutput

    class NewPersonInput(serializers.Serializer):
        username = serializers.CharField(max_length=150)
        role = serializers.ChoiceField(choices=Role.choices)
        password = serializers.CharField(max_length=1024, required=False, trim_whitespace=False)
        email = serializers.EmailField(required=False, allow_blank=True)
        full_name = serializers.CharField(max_length=300, required=False, default="")

    def get_queryset(self):  # type: ignore[no-untyped-def]
        return people_list(role=self.request.query_params.get("role"))

    @extend_schema(request=NewPersonInput, responses={201: UserOutput})
    def post(self, request: Request) -> Response:
        data = validated(self.NewPersonInput, request.data)
        user = user_create(origin="api", **data)
        return Response(UserOutput(user).data, status=status.HTTP_201_CREATED)


@extend_schema_view(get=extend_schema(summary="Who is calling: a token's name, role and courses, or a person's"))
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
        if isinstance(request.user, SignedIn):
            person = request.user
            return Response({"name": person.username, "role": person.role, "kind": "person", "id": person.id})
        token = request.auth
        return Response({"name": token.name, "role": token.role, "kind": "token", "courses": token.courses})
