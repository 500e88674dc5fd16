"""The sync and the reconcile against the in-memory Open edX: no HTTP, calls recorded."""

from __future__ import annotations

import pytest

from eduvault.integrations.openedx.fake import FakeOpenEdx
from eduvault.integrations.services import source_add
from eduvault.kernel.errors import SourceUnavailable
from eduvault.pipeline.content.models import Course
from eduvault.pipeline.sync.services import course_sync, sources_reconcile
from tests.conftest import COURSE_KEY, small_course

pytestmark = pytest.mark.django_db


def test_a_sync_reads_through_the_integration_interface():
    source = source_add(
        platform="openedx", name="lms", base_url="http://lms.test", client_id="c", client_secret="s"
    )
    course = small_course()
    fake = FakeOpenEdx(courses={COURSE_KEY: course.blocks_response()})
    with fake.installed():
        assert course_sync(course_key=COURSE_KEY, source=source).outcome == "applied"
        course.rename(course.usage_key("chapter", "algebra"), "Algebra and functions")
        fake.courses[COURSE_KEY] = course.blocks_response()
        fake.failures.append(SourceUnavailable("the fake is down"))
        with pytest.raises(SourceUnavailable):
            course_sync(course_key=COURSE_KEY, source=source)
        assert sources_reconcile() == {"courses": 1, "applied": 1, "unchanged": 0, "failed": 0}
    assert fake.calls == [
        ("fetch_course", COURSE_KEY),
        ("fetch_course", COURSE_KEY),
        ("list_courses", ""),
        ("fetch_course", COURSE_KEY),
    ]
    assert Course.objects.get(key=COURSE_KEY).version == 2
