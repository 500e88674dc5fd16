"""The learner-records API's routes, under ``/api/v1/``."""

from __future__ import annotations

from django.urls import path

from eduvault.pipeline.records import apis

urlpatterns = [
    path("me/profile", apis.ProfileApi.as_view(), name="me-profile"),
    path("records", apis.RecordListApi.as_view(), name="record-list"),
    path("records/<id:record_id>", apis.RecordDetailApi.as_view(), name="record-detail"),
    path("records/<id:record_id>/settle", apis.RecordSettleApi.as_view(), name="record-settle"),
    path("people", apis.PeopleListApi.as_view(), name="person-list"),
    path("people/merge", apis.PeopleMergeApi.as_view(), name="people-merge"),
    path("people/<id:person_id>", apis.PersonDetailApi.as_view(), name="person-detail"),
    path("identities", apis.IdentityListApi.as_view(), name="identity-list"),
    path("identities/<id:identity_id>/link", apis.IdentityLinkApi.as_view(), name="identity-link"),
    path("identities/<id:identity_id>/unlink", apis.IdentityUnlinkApi.as_view(), name="identity-unlink"),
    path(
        "identities/<id:identity_id>/new-person",
        apis.IdentityNewPersonApi.as_view(),
        name="identity-new-person",
    ),
    path("identity-events", apis.IdentityEventListApi.as_view(), name="identity-event-list"),
    path(
        "identity-events/<id:identity_event_id>/undo",
        apis.IdentityEventUndoApi.as_view(),
        name="identity-event-undo",
    ),
    path("enrollments", apis.EnrollmentListApi.as_view(), name="enrollment-list"),
    path("policies", apis.PoliciesApi.as_view(), name="policies"),
]
