"""Course communities in the console, in Chromium against a real `eduvault serve`: a Canvas
course's forum (the Discourse simulator over real HTTP) is brought in step by the server's
own deliverer; a learner without a forum account waits, shown; once she makes one, one
click brings her into the course's group."""

from __future__ import annotations

import pytest

from eduvault.integrations.discourse.simulator import DiscourseSimulator
from eduvault.integrations.services import source_add
from eduvault.pipeline.communities.models import Community
from eduvault.pipeline.communities.services import community_add
from eduvault.pipeline.sync.services import course_sync
from tests.operations.console.test_browser import (  # noqa: F401 - fixtures
    OUTPUT,
    browser,
    canvas,
    operator_create,
    school,
    sign_in,
    stack,
    wait_for,
)

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.once]
KEY = "forum-admin-key"


@pytest.fixture
def forum():
    with DiscourseSimulator(api_keys={KEY: "system"}, per_minute=600) as sim:
        yield sim


def test_operator_watches_a_community_come_in_step_and_brings_a_late_learner_in(school, forum, stack, browser):
    OUTPUT.mkdir(parents=True, exist_ok=True)
    operator_create()
    amina, chisomo, _ = school.students
    forum.add_user("amina_p", email="amina@school.mw", external_id=str(amina.id))
    source_add(
        platform="discourse",
        name="forum",
        base_url=forum.base_url,
        api_key=KEY,
        api_username="system",
        webhook_secret="forum-secret",
        connect_ids=school.source.name,
        per_minute="600",
    )
    course_sync(course_key=school.key, source=school.source, actor="test")
    community = community_add(course_key=school.key, source_name="forum", topic_kind="topic", actor="test")
    url = stack.serve()

    page = browser.new_page(viewport={"width": 1280, "height": 900})
    sign_in(page, url)
    page.click("header nav >> text=Communities")
    row = page.locator(f"#communities tr[data-community='{community.pk}']")

    def members_and_waiting() -> tuple[str, str]:
        page.reload()
        cells = row.locator("td")
        return cells.nth(4).inner_text(), cells.nth(5).inner_text()

    wait_for(lambda: members_and_waiting() == ("1", "1"), "Amina in the group, Chisomo waiting")
    assert "Form 3 Mathematics" in row.inner_text()
    assert "1 members" not in page.locator("#communities-chart").get_attribute("aria-label")
    assert forum.members(Community.objects.get().group_name) == ["amina_p"]
    page.screenshot(path=str(OUTPUT / "communities-waiting.png"), full_page=True)

    forum.add_user("chisomo", email="chisomo@school.mw", external_id=str(chisomo.id))
    row.locator("button.sync").click()
    page.wait_for_selector("#messages")
    assert "steps asked for now" in page.locator("#messages").inner_text()
    wait_for(lambda: members_and_waiting() == ("2", "0"), "Chisomo in the group")
    assert sorted(forum.members(Community.objects.get().group_name)) == ["amina_p", "chisomo"]
    page.screenshot(path=str(OUTPUT / "communities-in-step.png"), full_page=True)


def test_linking_and_unlinking_from_the_console_with_bad_input_refused(school, forum, stack, browser):
    operator_create()
    source_add(
        platform="discourse",
        name="forum",
        base_url=forum.base_url,
        api_key=KEY,
        api_username="system",
        webhook_secret="forum-secret",
        per_minute="600",
    )
    course_sync(course_key=school.key, source=school.source, actor="test")
    url = stack.serve()
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    sign_in(page, url)
    page.goto(f"{url}/console/communities/")
    form = page.locator("#community-add")
    form.locator("input[name=course]").fill(school.key)
    form.locator("input[name=topic_kind]").fill("topic")
    form.locator("input[name=completion_badge]").fill("gold")
    form.locator("button").click()
    assert "completion-badge takes a badge id" in page.content()
    assert not Community.objects.exists()
    page.goto(f"{url}/console/communities/")
    form.locator("input[name=course]").fill(school.key)
    form.locator("input[name=topic_kind]").fill("topic")
    form.locator("button").click()
    page.wait_for_selector("#messages")
    community = Community.objects.get()
    wait_for(
        lambda: any(c.name == "Form 3 Mathematics" for c in forum.categories.values()), "the course's category"
    )
    page.on("dialog", lambda dialog: dialog.accept())
    page.locator(f"#communities tr[data-community='{community.pk}'] button.remove").click()
    page.wait_for_selector("#messages")
    assert "no longer has a community" in page.locator("#messages").inner_text()
    assert not Community.objects.exists()
