from django.urls import path

from eduvault.operations.console import (
    views,
    views_assessments,
    views_communities,
    views_devices,
    views_lti,
    views_records,
    views_search,
)

app_name = "console"

urlpatterns = [
    path("", views.overview, name="overview"),
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", views.LogoutView.as_view(), name="logout"),
    path("search", views_search.search_view, name="search"),
    path("assessments/", views_assessments.assessments, name="assessments"),
    path("assessments/<id:assessment_id>/items", views_assessments.assessment_items, name="assessment-items"),
    path("runs/", views.runs, name="runs"),
    path("runs/<id:run_id>/", views.run, name="run"),
    path("courses/", views.courses, name="courses"),
    path("courses/<str:key>/", views.course, name="course"),
    path("courses/<str:key>/diff", views.course_diff, name="course-diff"),
    path("courses/<str:key>/rollback", views.course_rollback_view, name="course-rollback"),
    path("events/", views.events, name="events"),
    path("events/replay", views.events_replay_matching, name="events-replay"),
    path("events/<id:event_id>/", views.event, name="event"),
    path("events/<id:event_id>/replay", views.event_replay, name="event-replay"),
    path("audit/", views.audit, name="audit"),
    path("subscriptions/", views.subscriptions, name="subscriptions"),
    path(
        "subscriptions/<id:subscription_id>/enable", views.subscription_reenable, name="subscription-enable"
    ),
    path("deliveries/", views.deliveries, name="deliveries"),
    path("deliveries/replay", views.deliveries_replay_view, name="deliveries-replay"),
    path("deliveries/<id:delivery_id>/", views.delivery, name="delivery"),
    # the learner-records hub: people, identities, records, policies
    path("people/", views_records.people, name="people"),
    path("people/<id:person_id>/", views_records.person, name="person"),
    path("identities/held", views_records.identities_held, name="identities-held"),
    path("identities/<id:identity_id>/link", views_records.identity_link_view, name="identity-link"),
    path(
        "identities/<id:identity_id>/new-person",
        views_records.identity_new_person,
        name="identity-new-person",
    ),
    path("identities/<id:identity_id>/unlink", views_records.identity_unlink_view, name="identity-unlink"),
    path(
        "identity-events/<id:event_id>/undo",
        views_records.identity_event_undo_view,
        name="identity-event-undo",
    ),
    path("records/", views_records.records, name="records"),
    path("records/policies/", views_records.policies, name="policies"),
    path("records/<id:record_id>/", views_records.record, name="record"),
    path("records/<id:record_id>/settle", views_records.record_settle_view, name="record-settle"),
    path("records/<id:record_id>/take", views_records.record_take_view, name="record-take"),
    # the LTI tool: platforms, configuration, keys
    path("devices/", views_devices.devices, name="devices"),
    path("devices/add", views_devices.device_add_view, name="device-add"),
    path("devices/<int:device_id>/revoke", views_devices.device_revoke_view, name="device-revoke"),
    path("lti/", views_lti.lti_platforms, name="lti"),
    path("lti/add", views_lti.lti_platform_add_view, name="lti-add"),
    path("lti/rotate", views_lti.lti_key_rotate_view, name="lti-rotate"),
    path("lti/<str:name>/remove", views_lti.lti_platform_remove_view, name="lti-remove"),
    # course communities on forums
    path("communities/", views_communities.communities, name="communities"),
    path("communities/add", views_communities.community_add_view, name="community-add"),
    path(
        "communities/<id:community_id>/remove", views_communities.community_remove_view, name="community-remove"
    ),
    path(
        "communities/<id:community_id>/sync", views_communities.community_sync_view, name="community-sync"
    ),
]
