"""A learner launched from the LMS (the platform simulator, the tool over real HTTP) takes
the practice on the tool's own pages: its questions shown at once, a wrong answer's hint, a
right answer, an answer sent twice counted once, the attempt submitted, its score on the page
and in the platform's gradebook. No cookie carries the session: each form has its credential."""

from __future__ import annotations

import re

import httpx
import pytest

from eduvault.integrations.lti import services as lti
from eduvault.integrations.lti.simulator import LtiPlatform
from eduvault.learning.assessments.models import Answer, Attempt
from eduvault.pipeline.outbox.services import deliveries_run
from tests.learning.assessments.conftest import QUADRATICS, choice, load_bank, numeric, practice_id, synced  # noqa: F401 - synced: a fixture

pytestmark = pytest.mark.django_db(transaction=True)
CLIENT_ID = "eduvault-tool"


@pytest.fixture
def lms(live_server, synced):
    with LtiPlatform() as platform:
        platform.register_tool(
            CLIENT_ID,
            login_url=f"{live_server.url}/lti/login",
            launch_url=f"{live_server.url}/lti/launch",
            jwks_url=f"{live_server.url}/lti/jwks",
        )
        lti.lti_platform_add(
            name="moodle",
            issuer=platform.issuer,
            client_id=CLIENT_ID,
            auth_url=platform.auth_url,
            token_url=platform.token_url,
            jwks_url=platform.jwks_url,
            deployments=["1"],
        )
        yield platform
    lti._key_sets.pop(platform.jwks_url, None)


def fields(page: str, position: int) -> dict[str, str]:
    form = re.search(rf'<section data-testid="question" data-position="{position}".*?</section>', page, re.S).group(0)
    return dict(re.findall(r'<input type="hidden" name="(t|position|client_id)" value="([^"]*)"', form))


def test_a_learner_takes_the_practice_in_the_lms_and_the_score_reaches_the_gradebook(lms, live_server):
    load_bank(QUADRATICS, [choice("q1"), numeric("q2")])
    practice = practice_id(QUADRATICS)
    lms.add_course("math-f3", "Form 3 Mathematics")
    lms.add_user("u-amina", "Amina Phiri", "amina@school.mw")
    lms.enroll("math-f3", "u-amina")
    lms.add_resource_link(
        "math-f3", "rl-1", title="Quadratics practice", custom={"assessment": str(practice)},
        line_item={"label": "Quadratics practice", "scoreMaximum": 10},
    )
    # A browser that keeps no cookie of the tool's (third-party cookies blocked in the iframe).
    with httpx.Client() as browser:
        page = lms.launch("u-amina", "math-f3", "rl-1", client=browser).text
        assert page.count('data-testid="question"') == 2 and page.count('data-testid="answer-submit"') == 2
        answer_url = f"{live_server.url}/lti/attempt/answer"
        positions = [int(p) for p in re.findall(r'data-position="(\d+)"', page)]
        by_type = {}
        for position in positions:
            section = re.search(rf'data-position="{position}".*?</section>', page, re.S).group(0)
            by_type["choice" if 'name="choice"' in section else "numeric"] = position
        # A wrong choice: a hint, and a try fewer.
        wrong = {**fields(page, by_type["choice"]), "choice": "a"}
        page = httpx.post(answer_url, data=wrong).text
        assert 'data-testid="hint"' in page and "Not quite" in page
        # The same form posted twice (a slow link, a double tap): counted once.
        right = {**fields(page, by_type["choice"]), "choice": "b"}
        httpx.post(answer_url, data=right)
        page = httpx.post(answer_url, data=right).text
        # A number the learner typed with a comma.
        number = {**fields(page, by_type["numeric"]), "value": "12,5"}
        page = httpx.post(answer_url, data=number).text
        assert page.count("Right") == 2
        credential = re.search(r'name="t" value="([^"]+)"', page).group(1)
        # A forged credential is refused.
        forged = httpx.post(f"{live_server.url}/lti/attempt/submit", data={"t": credential[:-3] + "abc"})
        assert forged.status_code == 403
        done = httpx.post(f"{live_server.url}/lti/attempt/submit", data={"t": credential}).text
    assert 'data-testid="score"' in done
    attempt = Attempt.objects.get()
    assert Answer.objects.filter(attempt=attempt).count() == 3 and attempt.status == "submitted"
    deliveries_run(owner="test")
    ((_, ratio),) = lms.gradebook("math-f3").items()
    assert ratio == pytest.approx(attempt.score / attempt.max_score)
