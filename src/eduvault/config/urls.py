from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView

from eduvault.identity.apis import MeApi, RefreshApi, SignInApi, SignOutApi, UserListApi
from eduvault.learning.assessments import apis as assessments
from eduvault.learning.search.apis import SearchApi
from eduvault.operations.monitoring import views as monitoring
from eduvault.pipeline.content.apis import CourseDetailApi, CourseListApi
from eduvault.pipeline.feed.apis import (
    ChangeFeedApi,
    SubscriptionAttemptsApi,
    SubscriptionDetailApi,
    SubscriptionEnableApi,
    StreamTicketApi,
    SubscriptionListApi,
    stream,
)
from eduvault.pipeline.inbox.apis import (
    EventDetailApi,
    EventListApi,
    EventReplayApi,
    EventReplayOneApi,
    webhook,
)
from eduvault.pipeline.outbox import apis as outbox
from eduvault.pipeline.sync.apis import CourseRunsApi, CourseTreeApi, RunChangesApi, RunDetailApi

api_v1 = [
    path("me", MeApi.as_view(), name="me"),
    path("auth/token", SignInApi.as_view(), name="auth-token"),
    path("auth/refresh", RefreshApi.as_view(), name="auth-refresh"),
    path("auth/revoke", SignOutApi.as_view(), name="auth-revoke"),
    path("users/", UserListApi.as_view(), name="user-list"),
    path("question-types", assessments.QuestionTypesApi.as_view(), name="question-types"),
    path("courses/<str:key>/questions/", assessments.QuestionListApi.as_view(), name="question-list"),
    path(
        "courses/<str:key>/questions/import", assessments.QuestionImportApi.as_view(), name="question-import"
    ),
    path(
        "courses/<str:key>/questions/export", assessments.QuestionExportApi.as_view(), name="question-export"
    ),
    path(
        "courses/<str:key>/questions/<str:question_key>",
        assessments.QuestionDetailApi.as_view(),
        name="question-detail",
    ),
    path("assessments/", assessments.AssessmentListApi.as_view(), name="assessment-list"),
    path(
        "assessments/<id:assessment_id>/",
        assessments.AssessmentDetailApi.as_view(),
        name="assessment-detail",
    ),
    path(
        "assessments/<id:assessment_id>/attempts",
        assessments.AttemptStartApi.as_view(),
        name="attempt-start",
    ),
    path(
        "assessments/<id:assessment_id>/extra-time",
        assessments.ExtraTimeApi.as_view(),
        name="assessment-extra-time",
    ),
    path(
        "assessments/<id:assessment_id>/results",
        assessments.AssessmentResultsApi.as_view(),
        name="assessment-results",
    ),
    path(
        "assessments/<id:assessment_id>/item-analysis",
        assessments.ItemAnalysisApi.as_view(),
        name="assessment-item-analysis",
    ),
    path(
        "assessments/<id:assessment_id>/links",
        assessments.AssessmentLinksApi.as_view(),
        name="assessment-links",
    ),
    path(
        "assessments/<id:assessment_id>/links/<str:source_name>",
        assessments.AssessmentLinkDetailApi.as_view(),
        name="assessment-link-detail",
    ),
    path("attempts/", assessments.AttemptListApi.as_view(), name="attempt-list"),
    path("attempts/<str:attempt_id>/", assessments.AttemptDetailApi.as_view(), name="attempt-detail"),
    path("attempts/<str:attempt_id>/answers", assessments.AnswerApi.as_view(), name="attempt-answer"),
    path("attempts/<str:attempt_id>/submit", assessments.SubmitApi.as_view(), name="attempt-submit"),
    path("learners/<str:username>/results", assessments.LearnerResultsApi.as_view(), name="learner-results"),
    path("mastery", assessments.MasteryApi.as_view(), name="mastery"),
    path("search", SearchApi.as_view(), name="search"),
    path("changes", ChangeFeedApi.as_view(), name="changes"),
    path("stream", stream, name="stream"),
    path("stream/tickets", StreamTicketApi.as_view(), name="stream-tickets"),
    path("subscriptions/", SubscriptionListApi.as_view(), name="subscription-list"),
    path("subscriptions/<id:subscription_id>/", SubscriptionDetailApi.as_view(), name="subscription-detail"),
    path(
        "subscriptions/<id:subscription_id>/enable",
        SubscriptionEnableApi.as_view(),
        name="subscription-enable",
    ),
    path(
        "subscriptions/<id:subscription_id>/attempts/",
        SubscriptionAttemptsApi.as_view(),
        name="subscription-attempts",
    ),
    path("courses/", CourseListApi.as_view(), name="course-list"),
    path("courses/<str:key>/", CourseDetailApi.as_view(), name="course-detail"),
    path("courses/<str:key>/tree/", CourseTreeApi.as_view(), name="course-tree"),
    path("courses/<str:key>/runs/", CourseRunsApi.as_view(), name="course-runs"),
    path("runs/<id:run_id>/", RunDetailApi.as_view(), name="run-detail"),
    path("runs/<id:run_id>/changes/", RunChangesApi.as_view(), name="run-changes"),
    path("webhooks/<str:source_name>", webhook, name="webhook"),
    path("events/", EventListApi.as_view(), name="event-list"),
    path("events/replay", EventReplayApi.as_view(), name="event-replay"),
    path("events/<id:event_id>/", EventDetailApi.as_view(), name="event-detail"),
    path("events/<id:event_id>/replay", EventReplayOneApi.as_view(), name="event-replay-one"),
    path("", include("eduvault.pipeline.records.urls")),
    path("", include("eduvault.pipeline.communities.urls")),
    path("", include("eduvault.learning.lti.api_urls")),
    path("", include("eduvault.learning.devices.urls")),
    path("deliveries/", outbox.DeliveryListApi.as_view(), name="delivery-list"),
    path("deliveries/replay", outbox.DeliveryReplayApi.as_view(), name="delivery-replay"),
    path("deliveries/<id:delivery_id>/", outbox.DeliveryDetailApi.as_view(), name="delivery-detail"),
    path(
        "deliveries/<id:delivery_id>/replay",
        outbox.DeliveryReplayOneApi.as_view(),
        name="delivery-replay-one",
    ),
]

urlpatterns = [
    path("healthz", monitoring.healthz, name="healthz"),
    path("readyz", monitoring.readyz, name="readyz"),
    path("metrics", monitoring.metrics, name="metrics"),
    path("console/", include("eduvault.operations.console.urls")),
    path("lti/", include("eduvault.learning.lti.urls")),
    path("api/v1/", include(api_v1)),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("admin/", admin.site.urls),
]

handler404 = "eduvault.kernel.problems.not_found"
handler500 = "eduvault.kernel.problems.server_error"
