"""A Canvas school (its simulator) with a forum: the in-memory fake Discourse, registered as
a source whose DiscourseConnect external ids are the school's Canvas user ids."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from eduvault.integrations.discourse.fake import FakeDiscourse
from eduvault.integrations.services import source_add
from tests.pipeline.records.conftest import School, canvas, school  # noqa: F401 - fixtures

FORUM = "forum"
SECRET = "forum-webhook-secret"


@pytest.fixture
def fake_forum(school: School, settings) -> Iterator[FakeDiscourse]:
    settings.EDUVAULT_BACKGROUND_WINDOW_SECONDS = 0
    fake = FakeDiscourse()
    amina, chisomo, _ = school.students
    fake.add_user("system", email="system@forum.test", admin=True)
    fake.add_user("amina_p", email="amina@school.mw", name="Amina Phiri", external_id=str(amina.id))
    fake.add_user("chisomo", email="chisomo@school.mw", name="Chisomo Banda", external_id=str(chisomo.id))
    with fake.installed():
        source_add(
            platform="discourse",
            name=FORUM,
            base_url="https://forum.school.test",
            api_key="forum-api-key",
            api_username="system",
            webhook_secret=SECRET,
            connect_ids=school.source.name,
        )
        yield fake
