"""In Debian's Chromium: the LMS's activity page (the platform simulator, one origin) frames
Edu Vault's tool (another origin: `eduvault serve` on localhost against the platform's
127.0.0.1), where the browser blocks third-party cookies; the learner launches, answers,
submits, and the platform's gradebook shows her score."""

from __future__ import annotations

import pytest

from eduvault.integrations.lti import services as lti
from eduvault.integrations.lti.simulator import LtiPlatform
from tests.learning.assessments.conftest import QUADRATICS, choice, load_bank, numeric, practice_id, synced  # noqa: F401
from tests.operations.console.test_browser import OUTPUT, browser, stack, wait_for  # noqa: F401 - fixtures

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.once]
CLIENT_ID = "eduvault-tool"


def test_a_learner_takes_a_practice_framed_in_the_lms_and_the_gradebook_shows_it(synced, stack, browser):
    OUTPUT.mkdir(parents=True, exist_ok=True)
    load_bank(QUADRATICS, [choice("q1"), numeric("q2")])
    practice = practice_id(QUADRATICS)
    url = stack.serve().replace("127.0.0.1", "localhost")  # the tool: another site than the LMS
    with LtiPlatform() as lms:
        lms.register_tool(
            CLIENT_ID, login_url=f"{url}/lti/login", launch_url=f"{url}/lti/launch", jwks_url=f"{url}/lti/jwks"
        )
        lti.lti_platform_add(
            name="moodle",
            issuer=lms.issuer,
            client_id=CLIENT_ID,
            auth_url=lms.auth_url,
            token_url=lms.token_url,
            jwks_url=lms.jwks_url,
            deployments=["1"],
        )
        lms.add_course("math-f3", "Form 3 Mathematics")
        lms.add_user("u-amina", "Amina Phiri", "amina@school.mw")
        lms.enroll("math-f3", "u-amina")
        lms.add_resource_link(
            "math-f3", "rl-1", title="Quadratics practice", custom={"assessment": str(practice)},
            line_item={"label": "Quadratics practice", "scoreMaximum": 10},
        )
        launch = lms.launch_url("u-amina", "math-f3", "rl-1")
        hint = launch.rsplit("/", 1)[-1]
        context = browser.new_context(viewport={"width": 420, "height": 860})  # a small phone
        page = context.new_page()
        page.goto(f"{lms.base_url}/courses/math-f3/activity?launch={hint}")
        tool = page.frame_locator("#tool")
        questions = tool.locator("[data-testid=question]")
        questions.first.wait_for(timeout=20_000)
        assert questions.count() == 2
        page.screenshot(path=str(OUTPUT / "lti-attempt.png"), full_page=True)
        for position in range(questions.count()):
            section = tool.locator("[data-testid=question]").nth(position)
            if section.locator("input[name=choice]").count():
                section.locator("input[value=b]").check()
            else:
                section.locator("input[name=value]").fill("12.5")
            section.locator("[data-testid=answer-submit]").click()
            tool.locator("[data-testid=question]").first.wait_for()
        tool.locator("[data-testid=attempt-submit]").click()
        tool.locator("[data-testid=score]").wait_for(timeout=20_000)
        assert "2 of 2" in tool.locator("[data-testid=score]").inner_text()
        page.screenshot(path=str(OUTPUT / "lti-score.png"), full_page=True)
        wait_for(lambda: lms.gradebook("math-f3") == {("Quadratics practice", "u-amina"): 1.0}, "the gradebook")
        # The tool set no cookie the learner's session depended on.
        assert not [c for c in context.cookies() if "localhost" in c["domain"]]
