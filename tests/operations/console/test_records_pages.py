"""The console's pages of the learner-records hub through Django's test client, on a Canvas
school (its simulator over real HTTP): people and held identities, records with a conflict,
the policies, deliveries per platform target. Who may see them, that their actions do what
they say behind a CSRF token, that bad input changes nothing, and that what the platforms
sent is shown as text, never markup."""

from __future__ import annotations

import json
import re

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from eduvault.identity.models import Identity, IdentityEvent, Person
from eduvault.identity.people import person_for_user
from eduvault.identity.services import access_token_issue, person_of, token_create, user_create
from eduvault.pipeline.content.models import Course
from eduvault.pipeline.outbox.models import Delivery
from eduvault.pipeline.records.links import object_link_set
from eduvault.pipeline.records.models import Record, RecordChange
from eduvault.pipeline.records.selectors import record_conflicts
from eduvault.pipeline.records.services import record_local_change
from eduvault.pipeline.sync.services import course_sync
from tests.pipeline.records import conftest as canvas_school

# The Canvas school fixtures of the records tests (the simulator, a school registered as a source).
canvas = canvas_school.canvas
school = canvas_school.school

pytestmark = pytest.mark.django_db

SCRIPT = "<script>alert('owned')</script>"


def staff_client(**kwargs) -> Client:
    user = user_create(username="operator", role="admin", password="a long admin password")
    client = Client(**kwargs)
    client.force_login(user)
    return client


def csrf_token(page: bytes | str) -> str:
    text = page.decode() if isinstance(page, bytes) else page
    return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', text).group(1)


def build_hub(school, *, hostile: bool = False) -> dict:
    """The school synced with two people Kondwani's SIS id could be (so he is held with
    candidates), Tess held as nobody, and Amina's grade of a linked assessment changed on
    both sides at once: a conflict Edu Vault's value won (as the policy says)."""
    name = f"Kondwani {SCRIPT}" if hostile else "Kondwani Mwale"
    first = Person.objects.create(name=name, sis_id="S-102")
    second = Person.objects.create(name="K. Mwale (old SIS import)", sis_id="S-102")
    if hostile:  # a Canvas account whose name is markup: held, its name shown as text
        eve = school.sim.add_user(f"Eve {SCRIPT}", login_id=f"eve{SCRIPT}", sis_user_id="S-666")
        school.sim.enroll(school.course.id, eve.id)
    course_sync(course_key=school.key, source=school.source, actor="test")
    course = Course.objects.get(key=school.key)
    object_link_set(
        source=school.source,
        course_id=str(school.course.id),
        assignment_id=str(school.quiz.id),
        home_course=course,
        home_object="assessment:1",
        actor="test",
    )
    amina = person_for_user(user=get_user_model().objects.get(username="amina"))
    if hostile:
        amina.name = f"Amina {SCRIPT}"
        amina.save(update_fields=["name"])
    grade = {"kind": "grade", "course": course, "object": "assessment:1", "person": amina}
    record_local_change(**grade, fields={"score": 4, "max": 5}, title=f"Quiz {SCRIPT}" if hostile else "")
    school.deliver()
    school.drain()
    school.sim.live_events.hold()
    school.sim.grade(
        school.course.id, school.quiz.id, school.students[0].id, "6", grader_id=school.teacher.id
    )
    record_local_change(**grade, fields={"score": 5, "max": 5})
    school.sim.live_events.release()
    school.drain()
    record = Record.objects.get(kind="grade", object="assessment:1")
    # Edu Vault owns its assessments' grades: its 5 wins; Canvas's value is kept as the loser
    # of the score (and of the maximum too, when the records layer keeps Canvas's own scale).
    conflicts = {c["field"]: c for c in record_conflicts(record)}
    assert record.fields["score"] == 5 and record.conflicts == len(conflicts) >= 1
    (loser,) = conflicts["score"]["losers"]
    assert (loser["replica"], loser["platform"]) == ("school", "canvas")
    kondwani = Identity.objects.get(realm="school", login="kondwani")
    assert kondwani.state == "held" and sorted(kondwani.candidates) == sorted([first.pk, second.pk])
    return {
        "record": record,
        "conflicts": conflicts,
        #: Canvas's losing score, as it is posted and as it is shown.
        "loser": loser["value"],
        "amina": amina,
        "kondwani": kondwani,
        "tess": Identity.objects.get(realm="school", login="tess"),
        "candidates": (first, second),
    }


def page_urls(hub: dict) -> list[str]:
    return [
        "/console/",
        "/console/people/",
        "/console/people/?q=amina",
        "/console/people/?q=S-102",
        f"/console/people/{hub['amina'].pk}/",
        f"/console/people/{hub['candidates'][0].pk}/",
        "/console/identities/held",
        "/console/records/",
        "/console/records/?kind=grade&conflicts=1",
        "/console/records/?course=school%3A100&kind=enrollment",
        f"/console/records/?person={hub['amina'].pk}",
        f"/console/records/{hub['record'].pk}/",
        "/console/records/policies/",
        "/console/deliveries/",
        "/console/deliveries/?target=school&channel=records",
    ]


ACTIONS = [
    "/console/identities/{kondwani}/link",
    "/console/identities/{kondwani}/new-person",
    "/console/identities/{amina_canvas}/unlink",
    "/console/identity-events/{event}/undo",
    "/console/records/{record}/settle",
    "/console/deliveries/replay",
]


def actions(hub: dict) -> list[str]:
    ids = {
        "kondwani": hub["kondwani"].pk,
        "amina_canvas": Identity.objects.get(realm="school", login="amina").pk,
        "event": IdentityEvent.objects.filter(action="link").first().pk,
        "record": hub["record"].pk,
    }
    return [a.format(**ids) for a in ACTIONS]


def settle_form(value, field: str = "score") -> dict:
    return {"field": field, "value": json.dumps(value)}


def shown(value) -> str:
    return str(int(value)) if isinstance(value, float) and value.is_integer() else str(value)


# -- every page, and only for staff ---------------------------------------------------------------


def test_every_page_renders_for_staff(school):
    hub = build_hub(school)
    client = staff_client()
    for url in page_urls(hub):
        response = client.get(url)
        assert response.status_code == 200, (url, response.content[-800:])
    nav = client.get("/console/").content.decode()
    nav = nav[nav.index("<nav>") : nav.index("</nav>")]
    for label, url in [
        ("People", "/console/people/"),
        ("Held identities", "/console/identities/held"),
        ("Records", "/console/records/"),
        ("Policies", "/console/records/policies/"),
    ]:
        assert re.search(rf'<a href="{url}"\s*>{label}</a>', nav), label


@pytest.mark.parametrize("method", ["get", "post"])
def test_learners_consumers_and_anonymous_callers_never_reach_these_pages(school, method):
    hub = build_hub(school)
    learner = user_create(username="learner-1", role="learner", password="a long learner password")
    instructor = user_create(username="mr-banda", role="instructor", password="a long teacher password")
    jwt = access_token_issue(person=person_of(learner))
    consumer = token_create(name="records-consumer", role="consumer")[1]
    admin_token = token_create(name="ops", role="admin")[1]
    urls = page_urls(hub) if method == "get" else actions(hub)
    form = {"person": str(hub["candidates"][0].pk), "status": "dead", **settle_form(hub["loser"])}
    before = (
        list(Identity.objects.order_by("pk").values_list("pk", "person_id", "state")),
        IdentityEvent.objects.count(),
        Record.objects.get(pk=hub["record"].pk).fields,
        Person.objects.count(),
    )
    signed_in = []
    for user in (learner, instructor):
        client = Client()
        client.force_login(user)
        signed_in.append(client)
    for url in urls:
        for client in signed_in:
            response = getattr(client, method)(url, form)
            assert response.status_code == 403, url
            assert b"The console is for staff" in response.content
        for header in (f"Bearer {jwt}", f"Bearer {consumer}", f"Bearer {admin_token}", None):
            client = Client(HTTP_AUTHORIZATION=header) if header else Client()
            response = getattr(client, method)(url, form)
            assert response.status_code in (302, 403), url
            if response.status_code == 302:
                assert response["Location"].startswith("/console/login/")
    after = (
        list(Identity.objects.order_by("pk").values_list("pk", "person_id", "state")),
        IdentityEvent.objects.count(),
        Record.objects.get(pk=hub["record"].pk).fields,
        Person.objects.count(),
    )
    assert after == before  # nothing was linked, unlinked, undone, settled or created


def test_every_action_needs_the_csrf_token(school):
    hub = build_hub(school)
    client = staff_client(enforce_csrf_checks=True)
    form = {"person": str(hub["candidates"][0].pk), "status": "dead", **settle_form(hub["loser"])}
    for url in actions(hub):
        response = client.post(url, form)
        assert response.status_code == 403, url
        assert b"CSRF" in response.content
    assert Identity.objects.get(pk=hub["kondwani"].pk).state == "held"
    assert Record.objects.get(pk=hub["record"].pk).conflicts == len(hub["conflicts"])


# -- people and held identities -----------------------------------------------------------------


def test_the_people_page_lists_and_searches_people_and_counts_the_held(school):
    hub = build_hub(school)
    client = staff_client()
    page = client.get("/console/people/").content.decode()
    assert "2 held identities wait for an operator" in page
    assert 'href="/console/identities/held"' in page
    assert "Amina Phiri" in page and "Kondwani Mwale" in page
    found = client.get("/console/people/?q=amina").content.decode()
    assert "Amina Phiri" in found and "Kondwani Mwale" not in found
    assert "Nobody matches zzz" in client.get("/console/people/?q=zzz").content.decode()
    person = client.get(f"/console/people/{hub['amina'].pk}/").content.decode()
    identities = person[person.index('id="identities"') : person.index('id="enrollments"')]
    # Her identities: on Canvas (matched by login, with its SIS id) and her Edu Vault account.
    assert re.search(r"<td>canvas</td>\s*<td>school</td>\s*<td>amina</td>\s*<td>S-100</td>", identities)
    assert "<td>login</td>" in identities and "<td>account</td>" in identities
    assert identities.count('class="unlink"') == 1  # the Edu Vault account is not unlinked here
    assert "school:100" in person[person.index('id="enrollments"') :]
    assert f'href="/console/records/{hub["record"].pk}/"' in person
    assert "matched by login" in person  # the identity audit


def test_the_held_identities_page_shows_why_and_the_candidates(school):
    hub = build_hub(school)
    client = staff_client()
    page = client.get("/console/identities/held").content.decode()
    first, second = hub["candidates"]
    row = page[page.index(f'data-identity="{hub["kondwani"].pk}"') :]
    row = row[: row.index("</tr>")]
    assert "matches 2 people by sis id" in row
    assert f'href="/console/people/{first.pk}/"' in row and f'href="/console/people/{second.pk}/"' in row
    assert f'<option value="{first.pk}">Kondwani Mwale ({first.pk})</option>' in row
    assert 'name="person_id"' in row and "New person" in row
    assert "matches nobody" in page  # Tess
    assert re.search(r'<td class="num">1</td>', row)  # his enrollment waits with him


def test_a_held_identity_is_linked_to_a_candidate_with_its_records(school):
    hub = build_hub(school)
    kondwani, (first, _) = hub["kondwani"], hub["candidates"]
    assert Record.objects.filter(holder=f"i{kondwani.pk}", merged_into=None).count() == 1
    client = staff_client(enforce_csrf_checks=True)
    token = csrf_token(client.get("/console/identities/held").content)
    response = client.post(
        f"/console/identities/{kondwani.pk}/link", {"person": str(first.pk), "csrfmiddlewaretoken": token}
    )
    assert response.status_code == 302 and response["Location"] == "/console/identities/held"
    kondwani.refresh_from_db()
    assert (kondwani.person_id, kondwani.state, kondwani.matched_by) == (first.pk, "linked", "operator")
    assert not Record.objects.filter(holder=f"i{kondwani.pk}", merged_into=None).exists()
    assert Record.objects.filter(person=first, kind="enrollment").exists()
    event = IdentityEvent.objects.filter(identity=kondwani, action="link").get()
    assert event.actor == "console:operator"
    page = client.get(response["Location"]).content.decode()
    assert "Linked kondwani on canvas:school to Kondwani Mwale" in page
    assert f'data-identity="{kondwani.pk}"' not in page  # no longer held
    assert f'data-identity="{hub["tess"].pk}"' in page


def test_a_typed_person_id_wins_and_a_new_person_can_be_made(school):
    hub = build_hub(school)
    client = staff_client()
    amina_person = hub["amina"]
    other = Person.objects.create(name="Tess Banda", sis_id="T-1")
    response = client.post(
        f"/console/identities/{hub['tess'].pk}/link", {"person": "", "person_id": f" {other.pk} "}
    )
    assert response.status_code == 302
    assert Identity.objects.get(pk=hub["tess"].pk).person_id == other.pk
    response = client.post(f"/console/identities/{hub['kondwani'].pk}/new-person")
    assert response.status_code == 302
    kondwani = Identity.objects.get(pk=hub["kondwani"].pk)
    assert kondwani.person_id not in (None, amina_person.pk, *(p.pk for p in hub["candidates"]))
    assert kondwani.person.name == "Kondwani Mwale" and kondwani.person.sis_id == "S-102"
    assert "is a new person: Kondwani Mwale" in client.get("/console/identities/held").content.decode()


def test_bad_links_say_what_is_wrong_and_change_nothing(school):
    hub = build_hub(school)
    client = staff_client()
    kondwani, amina_canvas = hub["kondwani"], Identity.objects.get(realm="school", login="amina")
    events = IdentityEvent.objects.count()
    for url, form, status, words in [
        (f"/console/identities/{kondwani.pk}/link", {}, 400, b"choose one of the candidates"),
        (
            f"/console/identities/{kondwani.pk}/link",
            {"person_id": "abc"},
            400,
            b"person id must be a whole number",
        ),
        (f"/console/identities/{kondwani.pk}/link", {"person_id": "0"}, 400, b"person id must be at least 1"),
        (f"/console/identities/{kondwani.pk}/link", {"person_id": "999999"}, 404, b"no person 999999"),
        ("/console/identities/999999/link", {"person_id": str(hub["amina"].pk)}, 404, b"no identity 999999"),
        # Amina has a Canvas identity on this school already: she cannot have two.
        (
            f"/console/identities/{kondwani.pk}/link",
            {"person_id": str(hub["amina"].pk)},
            409,
            b"already has an identity",
        ),
        (f"/console/identities/{amina_canvas.pk}/new-person", {}, 409, b"already linked"),
        (f"/console/identities/{kondwani.pk}/unlink", {}, 409, b"not linked to anyone"),
        ("/console/identity-events/999999/undo", {}, 404, b"no identity event 999999"),
    ]:
        response = client.post(url, form)
        assert response.status_code == status, (url, form, response.content[-500:])
        assert words in response.content, (url, response.content[-500:])
    assert IdentityEvent.objects.count() == events
    assert Identity.objects.get(pk=kondwani.pk).state == "held"
    assert client.get(f"/console/identities/{kondwani.pk}/link").status_code == 405


def test_unlink_from_a_person_page_and_undo_it_from_the_audit(school):
    hub = build_hub(school)
    client = staff_client()
    amina_canvas = Identity.objects.get(realm="school", login="amina")
    page = client.get(f"/console/people/{hub['amina'].pk}/").content.decode()
    assert f'action="/console/identities/{amina_canvas.pk}/unlink"' in page
    response = client.post(f"/console/identities/{amina_canvas.pk}/unlink")
    assert response.status_code == 302 and response["Location"] == f"/console/people/{hub['amina'].pk}/"
    amina_canvas.refresh_from_db()
    assert amina_canvas.state == "held" and amina_canvas.held_reason == "unlinked by an operator"
    page = client.get(response["Location"]).content.decode()
    assert "Unlinked amina on canvas:school" in page
    unlink = IdentityEvent.objects.get(identity=amina_canvas, action="unlink")
    assert f'action="/console/identity-events/{unlink.pk}/undo"' in page
    response = client.post(f"/console/identity-events/{unlink.pk}/undo")
    assert response.status_code == 302 and response["Location"] == f"/console/people/{hub['amina'].pk}/"
    amina_canvas.refresh_from_db()
    assert amina_canvas.state == "linked" and amina_canvas.person_id == hub["amina"].pk
    page = client.get(response["Location"]).content.decode()
    assert f"Undone: event {unlink.pk}" in page and "undone by" in page
    # Undone once; a second undo is refused, and says why.
    again = client.post(f"/console/identity-events/{unlink.pk}/undo")
    assert again.status_code == 409 and b"was undone already" in again.content


# -- records and their conflicts ----------------------------------------------------------------


def test_the_records_page_filters_and_charts_records_by_kind(school):
    hub = build_hub(school)
    client = staff_client()
    page = client.get("/console/records/").content.decode()
    chart = page[page.index('id="kinds-chart"') : page.index("</svg>")]
    assert 'role="img"' in page and 'aria-label="Records by kind: ' in page
    assert "<title>grade: 2</title>" in chart and "<title>enrollment: 4</title>" in chart
    assert 'href="?kind=grade"' in chart
    conflicts = client.get("/console/records/?conflicts=1").content.decode()
    assert conflicts.count('<tr data-record="') == 1
    assert f'data-record="{hub["record"].pk}"' in conflicts
    grades = client.get("/console/records/?kind=enrollment").content.decode()
    assert grades.count('<tr data-record="') == 4 and "held (i" in grades  # Kondwani's and Tess's
    assert client.get("/console/records/?course=nowhere").content.decode().count('<tr data-record="') == 0
    for url, words in [
        ("/console/records/?kind=bogus", b"kind must be one of grade"),
        ("/console/records/?offset=abc", b"offset must be a whole number"),
        ("/console/records/999999/", b"there is no learner record 999999"),
        ("/console/people/999999/", b"there is no person 999999"),
    ]:
        response = client.get(url)
        assert 400 <= response.status_code < 500 and words in response.content, (url, response.content[-400:])


def test_a_record_shows_its_replicas_conflict_and_history(school):
    hub = build_hub(school)
    client = staff_client()
    page = client.get(f"/console/records/{hub['record'].pk}/").content.decode()
    conflict = page[page.index('id="conflicts"') : page.index("Which platform holds what")]
    assert 'data-field="score"' in conflict and "owned by Edu Vault under the policy" in conflict
    assert re.search(r'<tr class="winner">.*<strong>5</strong>.*eduvault.*Edu Vault', conflict)
    loser = shown(hub["loser"])
    assert re.search(rf'<tr class="loser">.*<td>{loser}</td>.*school.*Canvas.*canvas user 1', conflict)
    assert (
        "Keep Edu Vault&#x27;s 5</button>" in conflict and f"Take Canvas&#x27;s {loser}</button>" in conflict
    )
    assert conflict.count('<table class="conflict"') == len(hub["conflicts"])
    replicas = page[page.index('id="replicas"') : page.index('id="history"')]
    assert 'data-replica="school"' in replicas and "<td>Canvas</td>" in replicas
    assert 'class="differs"' in replicas[replicas.index('data-replica="school"') :]  # Canvas holds the loser
    assert "assignment_id" in replicas
    history = page[page.index('id="history"') :]
    assert re.search(r'class="outcome-lost">lost <span class="muted">\(conflict\)', history)
    assert history.count('class="outcome-applied"') >= 2


def test_one_click_takes_canvas_value_and_canvas_follows(school):
    hub = build_hub(school)
    record = hub["record"]
    school.deliver()
    assert school.sim.submission(school.course.id, school.quiz.id, school.students[0].id).score == 10
    client = staff_client(enforce_csrf_checks=True)
    page = client.get(f"/console/records/{record.pk}/").content.decode()
    # One button per open conflict takes Canvas's value: score first, then any other field.
    for field in sorted(hub["conflicts"], key=lambda f: f != "score"):
        form = re.search(
            rf'name="field" value="{field}"><input type="hidden" name="value" value="([^"]+)"><button class="loser',
            page,
        )
        value = hub["conflicts"][field]["losers"][0]["value"]
        assert form and json.loads(form.group(1)) == value
        response = client.post(
            f"/console/records/{record.pk}/settle",
            {"field": field, "value": form.group(1), "csrfmiddlewaretoken": csrf_token(page)},
        )
        assert response.status_code == 302 and response["Location"] == f"/console/records/{record.pk}/"
        page = client.get(response["Location"]).content.decode()
        assert f"Settled {field} to {shown(value)}; 1 delivery to platforms." in page
        assert f'data-field="{field}"' not in page
        settled = RecordChange.objects.filter(record=record, field=field).order_by("-id").first()
        assert (settled.outcome, settled.actor, settled.replica) == (
            "applied",
            "console:operator",
            "eduvault",
        )
    record.refresh_from_db()
    assert record.fields["score"] == hub["loser"] and record.conflicts == 0
    assert 'id="no-conflicts"' in page and 'class="settle' not in page
    school.deliver()  # Canvas follows: its own 6 of the quiz's 10 points
    assert school.sim.submission(school.course.id, school.quiz.id, school.students[0].id).score == 6
    # The conflict is gone: clicking again (a stale page) is refused, and changes nothing.
    again = client.post(
        f"/console/records/{record.pk}/settle",
        {"field": "score", "value": "5", "csrfmiddlewaretoken": csrf_token(page)},
    )
    assert again.status_code == 409 and b"no open conflict on &#x27;score&#x27;" in again.content
    record.refresh_from_db()
    assert record.fields["score"] == hub["loser"]


def test_keeping_the_winner_settles_the_conflict_too(school):
    hub = build_hub(school)
    client = staff_client()
    response = client.post(f"/console/records/{hub['record'].pk}/settle", settle_form(5))
    assert response.status_code == 302
    record = Record.objects.get(pk=hub["record"].pk)
    assert record.fields["score"] == 5 and "score" not in {c["field"] for c in record_conflicts(record)}
    assert record.conflicts == len(hub["conflicts"]) - 1


def test_bad_overrides_say_what_is_wrong_and_change_nothing(school):
    hub = build_hub(school)
    client = staff_client()
    url = f"/console/records/{hub['record'].pk}/settle"
    changes = RecordChange.objects.count()
    for form, status, words in [
        ({"field": "score", "value": "7"}, 400, b"one of its conflict&#x27;s values, not 7"),
        ({"field": "score", "value": "true"}, 400, b"not True"),
        ({"field": "score", "value": "{not json"}, 400, b"missing or not readable"),
        ({"field": "score", "value": "[3]"}, 400, b"a number, text, true, false or null"),
        ({"field": "score"}, 400, b"missing or not readable"),
        ({"field": "status", "value": '"graded"'}, 409, b"no open conflict on &#x27;status&#x27;"),
        ({"field": "nothing", "value": "5"}, 409, b"no open conflict on &#x27;nothing&#x27;"),
        ({"field": SCRIPT, "value": "5"}, 409, b"no open conflict on &quot;&lt;script&gt;"),
    ]:
        response = client.post(url, form)
        assert response.status_code == status, (form, response.content[-400:])
        assert words in response.content, (form, response.content[-400:])
    assert client.post("/console/records/999999/settle", settle_form(hub["loser"])).status_code == 404
    record = Record.objects.get(pk=hub["record"].pk)
    assert record.fields["score"] == 5 and record.conflicts == len(hub["conflicts"])
    assert RecordChange.objects.count() == changes


def test_the_policies_page_shows_the_policies_in_force(school):
    client = staff_client()
    page = client.get("/console/records/policies/").content.decode()
    assert re.search(
        r'data-kind="grade">\s*<td><a[^>]*>grade</a></td>\s*<td>critical</td>\s*<td>home</td>', page
    )
    assert re.search(r'data-kind="profile">.*<span class="muted">bio</span> discourse', page, re.S)
    assert "<td>lms</td><td>canvas, openedx, lti</td>" in page
    assert (
        "<strong>sis_id</strong>, then <strong>login</strong>, then <strong>verified_email</strong>" in page
    )
    assert "policies.toml</code>" in page and "[records.grade]" in page


# -- deliveries per platform target, the overview ---------------------------------------------------


def test_deliveries_per_target_and_replaying_a_target_dead_ones(school):
    hub = build_hub(school)
    school.deliver()
    # Edu Vault regrades Amina (2 of 5); its delivery to Canvas dies.
    course = hub["record"].course
    record_local_change(
        kind="grade", course=course, object="assessment:1", person=hub["amina"], fields={"score": 2, "max": 5}
    )
    Delivery.objects.filter(status="pending").update(status="dead", attempts=5, last_error=f"503 {SCRIPT}")
    dead = Delivery.objects.filter(status="dead").count()
    assert dead == 1
    client = staff_client()
    page = client.get("/console/deliveries/").content.decode()
    row = page[page.index('<tr data-target="school" data-channel="records">') :]
    row = row[: row.index("</tr>")]
    assert "<td>Canvas</td>" in row and f"Replay {dead} dead</button>" in row
    assert re.search(rf'href="\?status=dead&amp;target=school&amp;channel=records">{dead}</a>', row)
    listed = client.get("/console/deliveries/?status=dead&target=school&channel=records").content.decode()
    assert "503 &lt;script&gt;" in listed and "<script>alert" not in listed
    response = client.post(
        "/console/deliveries/replay", {"status": "dead", "target": "school", "channel": "records"}
    )
    assert response.status_code == 302
    assert response["Location"] == f"/console/deliveries/?replayed={dead}&target=school&channel=records"
    assert not Delivery.objects.filter(status="dead").exists()
    assert f"{dead} deliver" in client.get(response["Location"]).content.decode()
    assert school.deliver().get("delivered") == dead
    # Another target's dead ones are not touched; a bad status is refused.
    nothing = client.post("/console/deliveries/replay", {"status": "dead", "target": "elsewhere"})
    assert "replayed=0" in nothing["Location"]
    assert (
        client.post("/console/deliveries/replay", {"status": "done", "target": "school"}).status_code == 400
    )


def test_the_overview_shows_the_records_summary(school):
    build_hub(school)
    page = staff_client().get("/console/").content.decode()
    panel = page[page.index('id="records-summary"') : page.index("<h2>Event queues</h2>")]
    assert re.search(r'id="open-conflicts">1</span>record with open conflicts', panel)
    assert re.search(r'id="held-identities">2</span>held identities', panel)
    assert 'href="/console/records/?conflicts=1"' in panel and 'href="/console/identities/held"' in panel
    assert re.search(r'\?kind=grade">grade</a></td><td class="num">2</td>', panel)


# -- hostile strings ------------------------------------------------------------------------------


def test_names_and_values_with_script_tags_show_as_text_everywhere(school):
    hub = build_hub(school, hostile=True)
    eve = Identity.objects.get(realm="school", sis_id="S-666")
    assert eve.state == "held"
    client = staff_client()
    urls = [*page_urls(hub), "/console/people/?q=" + SCRIPT, f"/console/people/{hub['amina'].pk}/"]
    seen = 0
    for url in urls:
        body = client.get(url).content.decode()
        assert "<script>alert" not in body, url
        seen += "&lt;script&gt;alert(" in body
    assert seen >= 8
    # A message naming a hostile name is escaped too.
    response = client.post(f"/console/identities/{eve.pk}/new-person")
    body = client.get(response["Location"]).content.decode()
    assert "is a new person: Eve &lt;script&gt;" in body and "<script>alert" not in body


def test_searching_people_counts_each_identity_once(school):
    hub = build_hub(school)
    page = staff_client().get("/console/people/?q=Amina").content.decode()
    row = page[page.index(f'/console/people/{hub["amina"].pk}/">Amina Phiri') :]
    assert row[: row.index("</tr>")].rstrip().endswith('<td class="num">2</td>')
