"""The device sync's routes, under ``/api/v1/``."""

from __future__ import annotations

from django.urls import path

from eduvault.learning.devices import apis

urlpatterns = [
    path("devices/", apis.DeviceListApi.as_view(), name="device-list"),
    path("devices/join", apis.JoinApi.as_view(), name="device-join"),
    path("devices/sessions", apis.SessionListApi.as_view(), name="device-session-list"),
    path("devices/sessions/<uuid:session_id>", apis.SessionDetailApi.as_view(), name="device-session-detail"),
    path(
        "devices/sessions/<uuid:session_id>/finish", apis.SessionFinishApi.as_view(), name="device-session-finish"
    ),
    path(
        "devices/sessions/<uuid:session_id>/chunks/<int:seq>", apis.ChunkApi.as_view(), name="device-session-chunk"
    ),
]
