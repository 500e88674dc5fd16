"""The communities API's routes, under ``/api/v1/``."""

from __future__ import annotations

from django.urls import path

from eduvault.pipeline.communities import apis

urlpatterns = [
    path("communities", apis.CommunityListApi.as_view(), name="community-list"),
    path("communities/<id:community_id>", apis.CommunityDetailApi.as_view(), name="community-detail"),
    path("communities/<id:community_id>/sync", apis.CommunitySyncApi.as_view(), name="community-sync"),
]
