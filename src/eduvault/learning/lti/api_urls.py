"""The LTI API's routes, under ``/api/v1/``."""

from __future__ import annotations

from django.urls import path

from eduvault.learning.lti import apis

urlpatterns = [
    path("lti/platforms", apis.PlatformListApi.as_view(), name="lti-platform-list"),
    path("lti/platforms/<str:name>", apis.PlatformDetailApi.as_view(), name="lti-platform-detail"),
    path("lti/config", apis.ToolConfigApi.as_view(), name="lti-config"),
]
