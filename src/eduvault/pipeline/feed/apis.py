"""The change feed (``GET /api/v1/changes``) and its live stream (``GET /api/v1/stream``)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import orjson
from asgiref.sync import sync_to_async
from django.conf import settings
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view, inline_serializer
from rest_framework import serializers
from rest_framework.generics import ListAPIView
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from eduvault.identity.models import ApiToken
from eduvault.identity.permissions import HasApiToken, IsAdminToken
from eduvault.identity.services import access_token_verify, token_authenticate
from eduvault.identity.tokens import looks_like_jwt
from eduvault.kernel.db import released
from eduvault.kernel.errors import AuthenticationFailed, EduVaultError, InvalidInput, PermissionDenied
from eduvault.kernel.openapi import documented_paths, problem
from eduvault.kernel.problems import problem_for
from eduvault.kernel.validation import whole_number
from eduvault.pipeline.feed import broadcast
from eduvault.pipeline.feed.selectors import (
    MAX_PAGE,
    FeedItem,
    Scope,
    feed_page,
    feed_read,
    subscription_attempts,
    subscriptions_health,
)
from eduvault.pipeline.feed.webhooks import (
    OPS,
    subscription_create,
    subscription_delete,
    subscription_enable,
    subscription_get,
)
from eduvault.pipeline.feed.tickets import stream_ticket_issue, stream_ticket_redeem
from eduvault.pipeline.outbox.models import DeliveryAttempt


def _cursor(value: str | None, name: str) -> int:
    return whole_number(value, name) or 0


class FeedChange(serializers.Serializer):
    cursor = serializers.IntegerField(help_text="Its place in the feed: resume after it.")
    course = serializers.CharField(allow_null=True, help_text="The course's key (null: none).")
    run = serializers.IntegerField(allow_null=True, help_text="The sync run that made it (content).")
    version = serializers.IntegerField(allow_null=True, help_text="The course version it made (content).")
    time = serializers.DateTimeField()
    priority = serializers.ChoiceField(choices=["critical", "high", "background"])
    op = serializers.CharField(help_text="create, update, delete, move…")
    kind = serializers.CharField(help_text="What changed: a node's kind, a grade, a mastery…")
    id = serializers.CharField(help_text="What it changed, e.g. record:12 or a block's id.")
    before = serializers.JSONField(allow_null=True)
    after = serializers.JSONField(allow_null=True)


class FeedPage(serializers.Serializer):
    results = FeedChange(many=True)
    next_cursor = serializers.IntegerField(help_text="Pass as after= to read on.")


@extend_schema_view(get=extend_schema(summary="Read the change feed from a cursor"))
class ChangeFeedApi(APIView):
    @extend_schema(
        parameters=[
            OpenApiParameter(
                "after",
                OpenApiTypes.INT,
                description="the last cursor you have (default: from the beginning)",
            ),
            OpenApiParameter(
                "limit", OpenApiTypes.INT, description=f"at most this many changes (≤ {MAX_PAGE})"
            ),
            OpenApiParameter("course", OpenApiTypes.STR, many=True, description="only these courses"),
            OpenApiParameter("kind", OpenApiTypes.STR, many=True, description="only these kinds"),
        ],
        responses=FeedPage,
        description="Changes in commit order. Resume with after=next_cursor: nothing is missed or repeated.",
    )
    def get(self, request: Request) -> HttpResponse:
        params = request.query_params
        after = _cursor(params.get("after"), "after")
        limit = min(whole_number(params.get("limit"), "limit", minimum=1) or 100, MAX_PAGE)
        scope = Scope.of(request.auth, courses=params.getlist("course"), kinds=params.getlist("kind"))
        entries, next_cursor = feed_page(after=after, limit=limit, scope=scope)
        body = (
            b'{"results":['
            + b",".join(e.json for e in entries)
            + b'],"next_cursor":'
            + str(next_cursor).encode()
            + b"}"
        )
        return HttpResponse(body, content_type="application/json")


async def stream(request: HttpRequest) -> HttpResponse:
    """Server-Sent Events: each change as ``id: <cursor>`` and ``data: <the feed's JSON>``.

    ``Last-Event-ID`` (or ``?after=``) resumes exactly after that cursor; without either the
    stream starts with the next change. Comments keep idle connections open; a client that
    falls too far behind gets an ``event: resync`` naming the cursor to resume the feed from.

    Who may read it: an API token in ``Authorization``; a stream ticket (``?ticket=``, from
    ``POST /api/v1/stream/tickets``: once, for a browser's ``EventSource``, which cannot send
    that header; the answer then allows any origin, since no cookie is involved); or a staff
    member signed in to the console, from a page of the same origin.
    """
    cross_origin = False
    try:
        if request.headers.get("Authorization"):
            scope = Scope.of(await _authenticate(request))
        elif "ticket" in request.GET:
            scope = await sync_to_async(released(stream_ticket_redeem), thread_sensitive=False)(
                value=request.GET["ticket"]
            )
            cross_origin = True
        else:
            scope = await _console_scope(request)
        scope = scope.narrowed(courses=request.GET.getlist("course"), kinds=request.GET.getlist("kind"))
        resume = request.headers.get("Last-Event-ID") or request.GET.get("after")
        after = _cursor(resume, "Last-Event-ID") if resume not in (None, "") else None
    except EduVaultError as exc:
        response = problem_for(exc, request.path)
        assert response is not None
        if "ticket" in request.GET:
            response["Access-Control-Allow-Origin"] = "*"  # a page elsewhere may read why
        return response
    hub = await broadcast.hub()
    client = hub.register(scope)
    if after is None:
        after = hub.head
    response = StreamingHttpResponse(_events(hub, client, after), content_type="text/event-stream")
    response["Cache-Control"] = "no-cache"
    response["X-Accel-Buffering"] = "no"  # proxies must not buffer the stream
    if cross_origin:
        response["Access-Control-Allow-Origin"] = "*"
    return response


async def _authenticate(request: HttpRequest) -> ApiToken:
    """The stream's API token: 401 without a valid credential; 403 for a person's valid JWT,
    which may not read the stream (the change feed is for consumers and operators)."""
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    value = value.strip()
    if scheme.lower() != "bearer" or not value:
        raise AuthenticationFailed("An API token is required: send 'Authorization: Bearer <token>'.")
    if looks_like_jwt(value):
        person = access_token_verify(token=value)  # 401 unless valid
        raise PermissionDenied(
            f"{person.username} is signed in as a {person.role}: the stream needs an API token "
            "(a consumer or admin token)"
        )
    return await sync_to_async(released(token_authenticate), thread_sensitive=False)(value=value)


async def _console_scope(request: HttpRequest) -> Scope:
    """Everything, for a staff member signed in to the console, asking from one of its pages.
    Another site's page never gets in with the console's cookie: the browser does not send
    it (``SameSite=Lax``), says where the request comes from (``Sec-Fetch-Site``, refused
    unless ``same-origin``; browsers leave it out on plain-HTTP origins other than
    localhost), and could not read the answer anyway (no CORS for cookies)."""
    user = await request.auser()
    if not user.is_authenticated:
        raise AuthenticationFailed(
            "An API token is required: send 'Authorization: Bearer <token>', or open the stream with "
            "a ticket from POST /api/v1/stream/tickets (?ticket=…)."
        )
    site = request.headers.get("Sec-Fetch-Site", "same-origin")
    if not (user.is_active and user.is_staff) or site != "same-origin":
        raise PermissionDenied("the console's session opens the stream for staff, from the console's own pages")
    return Scope()


documented_paths.add(
    "/api/v1/stream",
    {
        "get": {
            "operationId": "v1_stream",
            "summary": "Follow the change feed live (Server-Sent Events)",
            "description": (
                "Each change as `id: <cursor>`, `event: change`, `data: <the feed entry's JSON, as in "
                "GET /api/v1/changes>`; comment lines keep an idle connection open; a client too far "
                "behind gets `event: resync` with `{\"next_cursor\": …}` and is let go. `Last-Event-ID` "
                "(or `after`) resumes exactly after that cursor; without either, the stream starts "
                "with the next change. Credentials: an API token in `Authorization`, a stream ticket "
                "(`ticket`, from POST /api/v1/stream/tickets, once), or a staff member's console "
                "session from a page of the same origin."
            ),
            "tags": ["v1"],
            "parameters": [
                {
                    "in": "header",
                    "name": "Last-Event-ID",
                    "schema": {"type": "string", "pattern": "^[0-9]{1,19}$"},
                    "description": "The last cursor received: the stream resumes after it.",
                },
                {"in": "query", "name": "after", "schema": {"type": "integer", "minimum": 0}},
                {"in": "query", "name": "course", "schema": {"type": "array", "items": {"type": "string"}}},
                {"in": "query", "name": "kind", "schema": {"type": "array", "items": {"type": "string"}}},
                {
                    "in": "query",
                    "name": "ticket",
                    "schema": {"type": "string", "pattern": "^evs_"},
                    "description": "A single-use stream ticket, for clients that cannot send headers.",
                },
            ],
            "security": [{"bearer": []}, {}],
            "responses": {
                "200": {
                    "description": "The stream (text/event-stream), open until the client leaves.",
                    "content": {"text/event-stream": {"schema": {"type": "string"}}},
                },
                "400": problem("A cursor that is not a whole number."),
                "401": problem("No credential, or one that is not valid (a spent or expired ticket)."),
                "403": problem("A person's JWT (the stream is for API tokens and the console's staff)."),
            },
        }
    },
)


class StreamTicketApi(APIView):
    permission_classes = [HasApiToken]

    @extend_schema(
        summary="Issue a single-use ticket that opens the live stream",
        request=inline_serializer(
            "StreamTicketInput",
            {
                "course": serializers.ListField(child=serializers.CharField(), required=False),
                "kind": serializers.ListField(child=serializers.CharField(), required=False),
            },
        ),
        responses={
            201: inline_serializer(
                "StreamTicket",
                {
                    "ticket": serializers.CharField(help_text="Opens GET /api/v1/stream?ticket=… once."),
                    "stream": serializers.CharField(help_text="The stream's path with the ticket."),
                    "expires_at": serializers.DateTimeField(),
                    "expires_in": serializers.IntegerField(help_text="Seconds left to use it."),
                },
            )
        },
        description=(
            "For a browser's EventSource, which cannot send an Authorization header: the ticket "
            "carries this token's scope (narrowed by `course` and `kind`), opens one stream within "
            "`EDUVAULT_STREAM_TICKET_SECONDS`, and is never logged. To resume after a drop, ask "
            "for another and open the stream with `?ticket=…&after=<the last id>`."
        ),
    )
    def post(self, request: Request) -> Response:
        body = request.data if isinstance(request.data, dict) else {}
        courses, kinds = _strings(body.get("course"), "course"), _strings(body.get("kind"), "kind")
        value, expires_at = stream_ticket_issue(token=request.auth, courses=courses, kinds=kinds)
        return Response(
            {
                "ticket": value,
                "stream": f"/api/v1/stream?ticket={value}",
                "expires_at": expires_at,
                "expires_in": settings.EDUVAULT_STREAM_TICKET_SECONDS,
            },
            status=201,
        )


def _strings(value: object, name: str) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, str) and 0 < len(v) <= 500 for v in value):
        raise InvalidInput(f"{name}: give a list of strings")
    if len(value) > 200:
        raise InvalidInput(f"{name}: at most 200")
    return value


def _event(entry: FeedItem) -> bytes:
    return b"id: " + str(entry.cursor).encode() + b"\nevent: change\ndata: " + entry.json + b"\n\n"


async def _events(hub: broadcast.Hub, client: broadcast.Client, after: int) -> AsyncIterator[bytes]:
    last = after
    try:
        yield b"retry: 3000\n\n"
        # What the client missed, from the database; live entries meanwhile wait in its queue.
        while True:
            page = await sync_to_async(feed_read, thread_sensitive=False)(
                after=last, limit=500, scope=client.scope
            )
            for entry in page:
                yield _event(entry)
                last = entry.cursor
            if len(page) < 500:
                break
        heartbeat = settings.EDUVAULT_STREAM_HEARTBEAT_SECONDS
        while True:
            try:
                item = await asyncio.wait_for(client.queue.get(), timeout=heartbeat)
            except TimeoutError:
                yield b": keep-alive\n\n"
                continue
            if item is broadcast.RESYNC:
                yield (
                    b"event: resync\ndata: "
                    + orjson.dumps({"next_cursor": last, "reason": "too far behind"})
                    + b"\n\n"
                )
                return
            if item.cursor <= last:
                continue
            yield _event(item)
            last = item.cursor
    finally:
        hub.unregister(client)


# -- subscriptions (admin) -----------------------------------------------------------------


class SubscriptionSerializer(serializers.Serializer):
    """A subscription and how its deliveries stand (from the outbox)."""

    id = serializers.IntegerField()
    name = serializers.CharField()
    url = serializers.CharField()
    courses = serializers.ListField(child=serializers.CharField())
    kinds = serializers.ListField(child=serializers.CharField())
    ops = serializers.ListField(child=serializers.CharField())
    token = serializers.CharField(allow_null=True)
    enabled = serializers.BooleanField()
    disabled_reason = serializers.CharField()
    disabled_at = serializers.DateTimeField(allow_null=True)
    cursor = serializers.IntegerField(help_text="the last feed cursor turned into deliveries")
    waiting = serializers.IntegerField(help_text="deliveries not yet delivered")
    attempts = serializers.IntegerField(help_text="attempts of the oldest waiting delivery")
    next_attempt_at = serializers.DateTimeField(allow_null=True)
    failing_since = serializers.DateTimeField(allow_null=True)
    last_attempt = serializers.DictField(allow_null=True)
    created_at = serializers.DateTimeField()


def _health(subscription_id: int) -> dict:
    return next(s for s in subscriptions_health() if s["id"] == subscription_id)


class SubscriptionCreateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=100)
    url = serializers.URLField(max_length=1000)
    courses = serializers.ListField(child=serializers.CharField(), required=False, default=list)
    kinds = serializers.ListField(child=serializers.CharField(), required=False, default=list)
    ops = serializers.ListField(child=serializers.ChoiceField(choices=OPS), required=False, default=list)
    token = serializers.CharField(
        required=False, help_text="a consumer token whose scope deliveries stay within"
    )
    from_start = serializers.BooleanField(required=False, default=False)


class DeliveryAttemptSerializer(serializers.ModelSerializer):
    delivery_id = serializers.CharField(source="delivery.idempotency_key")
    cursor = serializers.IntegerField(source="delivery.payload.entry.cursor")

    class Meta:
        model = DeliveryAttempt
        fields = [
            "id",
            "delivery_id",
            "cursor",
            "attempt",
            "ok",
            "status_code",
            "latency_ms",
            "response_excerpt",
            "error",
            "created_at",
        ]


@extend_schema_view(get=extend_schema(summary="List webhook subscriptions"), post=extend_schema(summary="Subscribe a URL to the change feed"))
class SubscriptionListApi(APIView):
    permission_classes = [IsAdminToken]

    @extend_schema(responses=SubscriptionSerializer(many=True))
    def get(self, request: Request) -> Response:
        return Response(SubscriptionSerializer(subscriptions_health(), many=True).data)

    @extend_schema(
        request=SubscriptionCreateSerializer,
        responses=SubscriptionSerializer,
        description="Create a subscription. The response carries its signing secret, shown this once.",
    )
    def post(self, request: Request) -> Response:
        body = SubscriptionCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = dict(body.validated_data)
        token_name = data.pop("token", None)
        token = None
        if token_name:
            token = ApiToken.objects.filter(name=token_name, revoked_at__isnull=True).first()
            if token is None:
                raise InvalidInput(f"no live token named {token_name!r}")
        subscription, secret = subscription_create(token=token, **data)
        return Response(
            {**SubscriptionSerializer(_health(subscription.pk)).data, "secret": secret}, status=201
        )


@extend_schema_view(get=extend_schema(summary="Read a webhook subscription"), delete=extend_schema(summary="Remove a webhook subscription"))
class SubscriptionDetailApi(APIView):
    permission_classes = [IsAdminToken]

    @extend_schema(responses=SubscriptionSerializer)
    def get(self, request: Request, subscription_id: int) -> Response:
        return Response(SubscriptionSerializer(_health(subscription_get(name_or_id=subscription_id).pk)).data)

    @extend_schema(responses={204: None})
    def delete(self, request: Request, subscription_id: int) -> Response:
        subscription_delete(subscription=subscription_get(name_or_id=subscription_id))
        return Response(status=204)


@extend_schema_view(post=extend_schema(summary="Enable a disabled webhook subscription"))
class SubscriptionEnableApi(APIView):
    permission_classes = [IsAdminToken]

    @extend_schema(request=None, responses=SubscriptionSerializer)
    def post(self, request: Request, subscription_id: int) -> Response:
        subscription = subscription_enable(subscription=subscription_get(name_or_id=subscription_id))
        return Response(SubscriptionSerializer(_health(subscription.pk)).data)


@extend_schema_view(get=extend_schema(summary="A subscription's delivery attempts"))
class SubscriptionAttemptsApi(ListAPIView):
    """The subscription's delivery attempts, newest first."""

    permission_classes = [IsAdminToken]
    serializer_class = DeliveryAttemptSerializer

    def get_queryset(self):
        return subscription_attempts(subscription=subscription_get(name_or_id=self.kwargs["subscription_id"]))
