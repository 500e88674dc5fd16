"""The Open edX plugin: what each signal sends, and that it waits for the publish to commit.

Open edX itself cannot run here; the receivers are called as the platform's signals call
them, with openedx-events' real data classes, and the delivery task's retry policy is
exercised against a receiver that fails and then recovers.
"""

from __future__ import annotations

from datetime import UTC, datetime
from unittest import mock

import pytest
from eduvault_openedx import handlers, sender
from eduvault_openedx.apps import EduVaultOpenEdxConfig
from eduvault_openedx.settings.common import plugin_settings
from opaque_keys.edx.keys import CourseKey, UsageKey
from openedx_events.content_authoring.data import CourseCatalogData, CourseScheduleData, XBlockData

COURSE = "course-v1:MIE+MATH-F3+2026_T1"
UNIT = "block-v1:MIE+MATH-F3+2026_T1+type@vertical+block@u1"


@pytest.fixture(autouse=True)
def configured(settings):
    settings.EDUVAULT_WEBHOOK_URL = "https://eduvault.test/api/v1/webhooks/lms"
    settings.EDUVAULT_WEBHOOK_SECRET = "whsec_c2VjcmV0"
    settings.EDUVAULT_WEBHOOK_SOURCE = "https://studio.test"
    settings.EDUVAULT_WEBHOOK_TIMEOUT = 5


@pytest.fixture
def queued():
    with mock.patch("eduvault_openedx.tasks.deliver_event.delay") as delay:
        yield delay


def sent(queued):
    return [call.args[0] for call in queued.call_args_list]


@pytest.mark.django_db
def test_course_published_is_sent_only_after_the_publish_commits(queued, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        handlers.course_published(sender=None, course_key=CourseKey.from_string(COURSE))
    assert queued.call_count == 0, "nothing may leave before the transaction commits"
    for callback in callbacks:
        callback()
    (event,) = sent(queued)
    assert event["type"] == sender.COURSE_PUBLISHED and event["data"] == {"course_key": COURSE}
    assert event["specversion"] == "1.0" and event["source"] == "https://studio.test" and event["id"]


@pytest.mark.django_db
def test_a_rolled_back_publish_sends_nothing(queued):
    from django.db import transaction

    with pytest.raises(RuntimeError), transaction.atomic():
        handlers.course_published(sender=None, course_key=CourseKey.from_string(COURSE))
        raise RuntimeError("the publish failed")
    assert queued.call_count == 0


@pytest.mark.django_db
def test_block_and_catalog_signals(queued, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        handlers.xblock_published(
            xblock_info=XBlockData(usage_key=UsageKey.from_string(UNIT), block_type="vertical")
        )
        handlers.xblock_deleted(
            xblock_info=XBlockData(usage_key=UsageKey.from_string(UNIT), block_type="vertical")
        )
        handlers.catalog_info_changed(
            catalog_info=CourseCatalogData(
                course_key=CourseKey.from_string(COURSE),
                name="Maths",
                schedule_data=CourseScheduleData(start=datetime(2026, 1, 5, tzinfo=UTC), pacing="instructor"),
            )
        )
    published, deleted, catalog = sent(queued)
    assert published["type"] == sender.XBLOCK_PUBLISHED
    assert published["data"] == {
        "xblock_info": {"usage_key": UNIT, "block_type": "vertical", "version": None}
    }
    assert deleted["type"] == sender.XBLOCK_DELETED
    assert catalog["data"]["catalog_info"] == {
        "course_key": COURSE,
        "name": "Maths",
        "hidden": False,
        "invitation_only": False,
        "schedule_data": {"start": "2026-01-05T00:00:00+00:00", "pacing": "instructor"},
    }
    # Every one is a CloudEvent Edu Vault accepts.
    from eduvault.integrations.openedx.events import parse_cloud_event

    assert {parse_cloud_event(e).subject_key for e in (published, deleted, catalog)} == {COURSE}


@pytest.mark.django_db
def test_nothing_is_sent_without_a_webhook_url(queued, settings, django_capture_on_commit_callbacks):
    settings.EDUVAULT_WEBHOOK_URL = ""
    with django_capture_on_commit_callbacks(execute=True):
        handlers.course_published(sender=None, course_key=CourseKey.from_string(COURSE))
    assert queued.call_count == 0


def test_the_delivery_task_retries_what_may_succeed_later():
    from eduvault_openedx.tasks import deliver_event

    event = sender.cloud_event(sender.COURSE_PUBLISHED, {"course_key": COURSE}, source="s")
    with (
        mock.patch("eduvault_openedx.tasks.deliver", side_effect=sender.DeliveryError("503", retryable=True)),
        mock.patch.object(deliver_event, "retry", side_effect=RuntimeError("retry scheduled")) as retry,
    ):
        with pytest.raises(RuntimeError, match="retry scheduled"):
            deliver_event.run(event)
    assert 1 <= retry.call_args.kwargs["countdown"] <= 3
    with mock.patch(
        "eduvault_openedx.tasks.deliver", side_effect=sender.DeliveryError("401", retryable=False)
    ):
        with pytest.raises(sender.DeliveryError):
            deliver_event.run(event)


def test_plugin_configuration():
    assert EduVaultOpenEdxConfig.plugin_app["signals_config"]["cms.djangoapp"]["receivers"][0][
        "signal_path"
    ] == ("xmodule.modulestore.django.COURSE_PUBLISHED")
    for receiver in EduVaultOpenEdxConfig.plugin_app["signals_config"]["cms.djangoapp"]["receivers"]:
        assert callable(getattr(handlers, receiver["receiver_func_name"]))

    class Settings:
        CMS_BASE = "studio.example.org"

    configured = Settings()
    plugin_settings(configured)
    assert (configured.EDUVAULT_WEBHOOK_URL, configured.EDUVAULT_WEBHOOK_SOURCE) == ("", "studio.example.org")


def test_the_sender_refuses_nothing_silently():
    with pytest.raises(sender.DeliveryError) as info:
        sender.deliver(
            "http://127.0.0.1:9/api/v1/webhooks/lms", "s", sender.cloud_event("t", {}, source="s"), timeout=1
        )
    assert info.value.retryable
