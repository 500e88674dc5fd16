from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView

from eduvault.content.apis import CourseDetailApi, CourseListApi, CourseTreeApi
from eduvault.core.apis import MeApi
from eduvault.feed.apis import (
    ChangeFeedApi,
    SubscriptionAttemptsApi,
    SubscriptionDetailApi,
    SubscriptionEnableApi,
    SubscriptionListApi,
    stream,
)
from eduvault.inbox.apis import EventDetailApi, EventListApi, EventReplayApi, EventReplayOneApi, webhook
from eduvault.sync.apis import CourseRunsApi, RunChangesApi, RunDetailApi

api_v1 = [
    path("me", MeApi.as_view(), name="me"),
    path("changes", ChangeFeedApi.as_view(), name="changes"),
    path("stream", stream, name="stream"),
    path("subscriptions/", SubscriptionListApi.as_view(), name="subscription-list"),
    path("subscriptions/<int:subscription_id>/", SubscriptionDetailApi.as_view(), name="subscription-detail"),
    path(
        "subscriptions/<int:subscription_id>/enable",
        SubscriptionEnableApi.as_view(),
        name="subscription-enable",
    ),
    path(
        "subscriptions/<int:subscription_id>/attempts/",
        SubscriptionAttemptsApi.as_view(),
        name="subscription-attempts",
    ),
    path("courses/", CourseListApi.as_view(), name="course-list"),
    path("courses/<str:key>/", CourseDetailApi.as_view(), name="course-detail"),
    path("courses/<str:key>/tree/", CourseTreeApi.as_view(), name="course-tree"),
    path("courses/<str:key>/runs/", CourseRunsApi.as_view(), name="course-runs"),
    path("runs/<int:run_id>/", RunDetailApi.as_view(), name="run-detail"),
    path("runs/<int:run_id>/changes/", RunChangesApi.as_view(), name="run-changes"),
    path("webhooks/<str:source_name>", webhook, name="webhook"),
    path("events/", EventListApi.as_view(), name="event-list"),
    path("events/replay", EventReplayApi.as_view(), name="event-replay"),
    path("events/<int:event_id>/", EventDetailApi.as_view(), name="event-detail"),
    path("events/<int:event_id>/replay", EventReplayOneApi.as_view(), name="event-replay-one"),
]

urlpatterns = [
    path("api/v1/", include(api_v1)),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("admin/", admin.site.urls),
]

handler404 = "eduvault.core.problems.not_found"
handler500 = "eduvault.core.problems.server_error"
