import pytest

from eduvault.pipeline.sync.models import SyncRun
from eduvault.pipeline.sync.services import course_sync


@pytest.mark.django_db
def test_sync_from_simulator(source, course):
    run = course_sync(course_key=course.course_key, source=source)
    assert run.outcome == SyncRun.Outcome.APPLIED
