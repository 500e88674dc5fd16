"""The tool over real HTTP (`live_server`) launched by the LTI platform simulator: the OIDC
round trip with a browser-like client, the launch's person, context and enrollment, the
assessment's grade posted to the launch's line item by AGS (once, whatever the retries),
the platform's key rotated between launches, a replayed launch refused."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import pytest

from eduvault.identity.models import Identity
from eduvault.integrations.lti import services as lti
from eduvault.integrations.lti.simulator import LtiPlatform
from eduvault.integrations.models import LtiLogin
from eduvault.learning.assessments.models import Assessment
from eduvault.learning.lti.models import LtiContext
from eduvault.pipeline.outbox.services import deliveries_run
from eduvault.pipeline.records.models import Enrollment, Record
from eduvault.pipeline.records.services import record_local_change, records_route
from eduvault.pipeline.sync.services import course_sync

pytestmark = pytest.mark.django_db(transaction=True)
CLIENT_ID = "eduvault-tool"


@pytest.fixture
def lms(live_server):
    with LtiPlatform() as platform:
        platform.register_tool(
            CLIENT_ID,
            login_url=f"{live_server.url}/lti/login",
            launch_url=f"{live_server.url}/lti/launch",
            jwks_url=f"{live_server.url}/lti/jwks",
            deployment_ids=("1",),
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


@pytest.fixture
def assessment(source, course) -> Assessment:
    from eduvault.learning.assessments.services import questions_import
    from tests.learning.assessments.conftest import choice

    course_sync(course_key=course.course_key, source=source, actor="test")
    practice = Assessment.objects.filter(kind="practice").order_by("pk").first()
    questions_import(course=practice.course, subtopic=practice.subtopic, documents=[choice("q1")], actor="test")
    return practice


def test_a_learner_launches_and_her_grade_reaches_the_gradebook_once(lms, assessment):
    lms.add_course("math-f3", "Form 3 Mathematics", "MATH-F3")
    lms.add_user("u-amina", "Amina Phiri", "amina@school.mw")
    lms.enroll("math-f3", "u-amina")
    lms.add_resource_link(
        "math-f3",
        "rl-1",
        title=assessment.title,
        custom={"assessment": str(assessment.pk)},
        line_item={"label": "Quadratics practice", "scoreMaximum": 10},
        lineitem_query="?type_id=7",
    )
    with httpx.Client() as browser:
        response = lms.launch("u-amina", "math-f3", "rl-1", client=browser)
    assert response.status_code == 200, response.text
    assert 'data-testid="question"' in response.text and assessment.title in response.text
    identity = Identity.objects.get(platform="lti", realm="moodle", external_id="u-amina")
    context = LtiContext.objects.get(context_id="math-f3")
    assert context.course_id == assessment.course_id
    assert Enrollment.objects.get(person=identity.person, course=assessment.course).state == "active"

    # Her attempt is graded: 3 of 4. The score goes to the line item (before its query).
    record_local_change(
        kind="grade",
        course=assessment.course,
        object=f"assessment:{assessment.pk}",
        person=identity.person,
        fields={"score": 3.0, "max": 4.0, "graded_at": datetime.now(UTC).isoformat(timespec="microseconds")},
    )
    sent = deliveries_run(owner="test")
    assert sent.get("delivered") == 1, sent
    assert lms.gradebook("math-f3") == {("Quadratics practice", "u-amina"): 0.75}
    # Routed again (a retry, a reconcile): the platform holds the value; nothing is posted.
    records_route(key=f"{assessment.course.key}/assessment:{assessment.pk}", manual=True)
    deliveries_run(owner="test")
    assert sum(len(v) for v in lms.scores.values()) == 1
    grade = Record.objects.get(kind="grade", person=identity.person)
    assert grade.replicas["moodle"]["fields"]["score"] == 3.0


def test_launches_go_on_through_a_platform_key_rotation_and_a_replay_is_refused(lms, assessment, live_server):
    lms.add_course("math-f3", "Form 3 Mathematics")
    lms.add_user("u-1", "Chisomo Banda")
    lms.enroll("math-f3", "u-1")
    lms.add_resource_link("math-f3", "rl-1", title="Practice", custom={"assessment": str(assessment.pk)})
    with httpx.Client() as browser:
        assert lms.launch("u-1", "math-f3", "rl-1", client=browser).status_code == 200
        lms.rotate_keys()  # a new kid signs: the tool fetches the platform's keys again
        lti._key_sets[lms.jwks_url].min_refetch_interval = 0
        assert lms.launch("u-1", "math-f3", "rl-1", client=browser).status_code == 200
    # The same id_token and state posted again (the form resubmitted, or an attacker's copy).
    state = LtiLogin.objects.filter(used_at__isnull=False).latest("created_at").state
    replay = httpx.post(f"{live_server.url}/lti/launch", data={"id_token": lms.id_tokens_sent[-1], "state": state})
    assert replay.status_code == 401 and "used already" in replay.text


def test_a_courses_roster_is_read_into_people_and_enrollments(lms, assessment):
    from eduvault.learning.lti.services import roster_read

    lms.add_course("math-f3", "Form 3 Mathematics")
    for n in range(25):  # the platform pages by 10
        lms.add_user(f"u-{n}", f"Learner {n}", f"l{n}@school.mw")
        lms.enroll("math-f3", f"u-{n}")
    lms.add_user("t-1", "Tess Banda")
    lms.enroll("math-f3", "t-1", roles=("http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor",))
    lms.add_resource_link("math-f3", "rl-1", title="Practice", custom={"assessment": str(assessment.pk)})
    with httpx.Client() as browser:
        assert lms.launch("t-1", "math-f3", "rl-1", client=browser).status_code == 200
    read = roster_read(context=LtiContext.objects.get(context_id="math-f3"))
    assert read["members"] == 26
    roles = dict(
        Enrollment.objects.filter(course=assessment.course, person__identities__realm="moodle")
        .values_list("person__identities__external_id", "role")
    )
    assert len(roles) == 26 and roles["t-1"] == "instructor" and roles["u-7"] == "learner"
    assert len([r for r in lms.requests if "/memberships" in r.path]) == 3


def test_an_instructor_places_an_assessment_by_deep_linking(lms, assessment):
    import re

    from eduvault.integrations.lti.simulator import parse_form

    lms.add_course("math-f3", "Form 3 Mathematics")
    lms.add_user("t-1", "Tess Banda")
    lms.enroll("math-f3", "t-1", roles=("http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor",))
    lms.add_user("u-1", "Amina Phiri")
    lms.enroll("math-f3", "u-1")
    with httpx.Client() as browser:
        # Learners do not place activities.
        refused = lms.deep_link("u-1", "math-f3", client=browser)
        assert refused.status_code == 403 and "only an instructor" in refused.text
        picker = lms.deep_link("t-1", "math-f3", client=browser)
        assert picker.status_code == 200 and 'data-testid="picker"' in picker.text
        credential = re.search(r'name="credential" value="([^"]+)"', picker.text).group(1)
        # A forged credential changes nothing.
        forged = browser.post(str(picker.url).replace("/lti/launch", "/lti/deep-link"), data={"credential": credential[:-2] + "xx", "assessment": str(assessment.pk)})
        assert forged.status_code == 403
        answer = browser.post(
            str(picker.url).replace("/lti/launch", "/lti/deep-link"),
            data={"credential": credential, "assessment": str(assessment.pk)},
        )
        assert answer.status_code == 200
        form = parse_form(answer.text)
        assert form is not None
        returned = lms.follow_form(answer, browser)
    assert returned.status_code == 200, returned.text
    (item,) = lms.deep_link_items
    assert item.item["custom"] == {"assessment": str(assessment.pk)}
    assert item.item["lineItem"]["label"] == assessment.title and item.line_item_id


def test_rosters_are_read_after_launches_and_the_tools_key_rotates_under_way(lms, assessment):
    from eduvault.integrations.lti import client as client_module
    from eduvault.integrations.lti.keys import tool_key_rotate, tool_keys_retire
    from eduvault.learning.lti.jobs import rosters

    lms.add_course("math-f3", "Form 3 Mathematics")
    for sub in ("u-1", "u-2", "u-3"):
        lms.add_user(sub, f"Learner {sub}")
        lms.enroll("math-f3", sub)
    lms.add_resource_link(
        "math-f3", "rl-1", title="Practice", custom={"assessment": str(assessment.pk)},
        line_item={"label": "Practice", "scoreMaximum": 10},
    )
    with httpx.Client() as browser:
        assert lms.launch("u-1", "math-f3", "rl-1", client=browser).status_code == 200
    assert rosters() == {"read": 1, "failed": 0}
    assert rosters() == {"read": 0, "failed": 0}  # read a moment ago: not again
    assert Identity.objects.filter(platform="lti", realm="moodle").count() == 3
    # The tool's key rotates between two scores: the platform takes both (it fetches our keys anew).
    person = Identity.objects.get(platform="lti", external_id="u-1").person
    key = f"{assessment.course.key}/assessment:{assessment.pk}"
    for score in (1.0, 2.0):
        record_local_change(
            kind="grade", course=assessment.course, object=f"assessment:{assessment.pk}", person=person,
            fields={"score": score, "max": 4.0, "graded_at": datetime.now(UTC).isoformat(timespec="microseconds")},
        )
        deliveries_run(owner="test")
        tool_key_rotate()
        client_module._tokens.clear()  # the next score asks for a token, signed by the new key
    tool_keys_retire()
    assert [s["scoreGiven"] for s in next(iter(lms.scores.values()))] == [1.0, 2.0]
    assert key
