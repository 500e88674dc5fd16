"""The Canvas simulator, driven over real HTTP with httpx only (no database)."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import jwt
import orjson
import pytest

from eduvault.integrations.canvas.simulator import JWKS_PATH, CanvasSimulator
from eduvault.integrations.canvas.simulator.models import Course, User

TOKEN = "teacher-token"
#: One client for ad-hoc calls: building an httpx client (its TLS context) costs ~0.1 s.
HTTP = httpx.Client(timeout=5, verify=False)
NOT_FOUND = {"errors": [{"message": "The specified resource does not exist."}]}


# -- fixtures ---------------------------------------------------------------------------------------


@dataclass
class World:
    sim: CanvasSimulator
    course: Course
    teacher: User
    students: list[User]
    http: httpx.Client

    def path(self, suffix: str = "") -> str:
        return f"/api/v1/courses/{self.course.id}{suffix}"


def build(sim: CanvasSimulator, students: int = 3) -> World:
    teacher = sim.add_user("Tess Teacher", login_id="tess@example.edu", sis_user_id="T-1")
    pupils = [
        sim.add_user(
            f"Stu Dent{i}", login_id=f"s{i}@example.edu", sis_user_id=f"S-{i}", email=f"s{i}@example.edu"
        )
        for i in range(students)
    ]
    sim.add_token(TOKEN, user_id=teacher.id)
    course = sim.add_course("Mathematics", "MATH-101", sis_course_id="2026-MATH-101")
    sim.enroll(course.id, teacher.id, "TeacherEnrollment")
    for pupil in pupils:
        sim.enroll(course.id, pupil.id)
    http = httpx.Client(
        base_url=sim.base_url, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=5, verify=False
    )
    return World(sim, course, teacher, pupils, http)


@pytest.fixture
def sim() -> Iterator[CanvasSimulator]:
    with CanvasSimulator(bulk_delay=0.02) as simulator:
        yield simulator


@pytest.fixture
def world(sim: CanvasSimulator) -> Iterator[World]:
    w = build(sim)
    yield w
    w.http.close()


@dataclass
class Receiver:
    """A tiny Edu Vault stand-in that records each Live Event POST."""

    status: int = 202
    received: list[tuple[dict[str, str], bytes]] = field(default_factory=list)

    def __post_init__(self) -> None:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def setup(self) -> None:
                super().setup()
                self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                receiver.received.append(({k.lower(): v for k, v in self.headers.items()}, body))
                self.send_response(receiver.status)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/canvas/live-events"

    def names(self, signed: bool = False) -> list[str]:
        out = []
        for _, body in self.received:
            claims = jwt.decode(body, options={"verify_signature": False}) if signed else orjson.loads(body)
            out.append(claims["metadata"]["event_name"])
        return out


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.server.shutdown()
    r.server.server_close()


def links(response: httpx.Response) -> dict[str, str]:
    return {rel: str(link["url"]) for rel, link in response.links.items()}


# -- authentication and errors -----------------------------------------------------------------------


def test_missing_and_unknown_tokens_answer_401(world: World) -> None:
    bare = HTTP.get(world.sim.base_url + world.path())
    assert bare.status_code == 401
    assert bare.json() == {
        "status": "unauthenticated",
        "errors": [{"message": "user authorization required"}],
    }
    assert bare.headers["WWW-Authenticate"] == 'Bearer realm="canvas-lms"'

    wrong = HTTP.get(world.sim.base_url + world.path(), headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 401
    assert wrong.json() == {"errors": [{"message": "Invalid access token."}]}
    assert wrong.headers["WWW-Authenticate"] == 'Bearer realm="canvas-lms"'


def test_unknown_objects_answer_404_and_courses_resolve_by_sis_id(world: World) -> None:
    for path in ("/api/v1/courses/999999", world.path("/modules/424242/items"), world.path("/assignments/1")):
        response = world.http.get(path)
        assert response.status_code == 404
        assert response.json() == NOT_FOUND
    course = world.http.get("/api/v1/courses/sis_course_id:2026-MATH-101").json()
    assert course["id"] == world.course.id and isinstance(course["id"], int)
    assert course["enrollments"][0]["type"] == "teacher"


def test_a_student_cannot_grade(world: World) -> None:
    world.sim.add_token("student-token", user_id=world.students[0].id, admin=False)
    assignment = world.sim.add_assignment(world.course.id, "Essay", points_possible=10)
    response = world.http.put(
        world.path(f"/assignments/{assignment.id}/submissions/{world.students[1].id}"),
        data={"submission[posted_grade]": "5"},
        headers={"Authorization": "Bearer student-token"},
    )
    assert response.status_code == 401
    assert response.json()["status"] == "unauthorized"


# -- pagination ------------------------------------------------------------------------------------


def test_pagination_follows_opaque_links_with_every_rel(world: World) -> None:
    for n in range(25):
        world.sim.add_assignment(world.course.id, f"Task {n + 1}", points_possible=1)
    first = world.http.get(world.path("/assignments"))
    assert len(first.json()) == 10  # Canvas's default page
    assert set(links(first)) == {"current", "next", "first", "last"}
    assert links(first)["last"].endswith("page=3&per_page=10")
    assert first.headers["Link"].startswith("<http://")  # absolute URLs

    names, url = [], world.path("/assignments") + "?per_page=7"
    pages = 0
    while url:
        page = world.http.get(url)
        pages += 1
        names += [a["name"] for a in page.json()]
        rels = links(page)
        if pages > 1:
            assert "prev" in rels
        url = rels.get("next", "")
    assert pages == 4
    assert names == [f"Task {n + 1}" for n in range(25)]

    world.sim.max_per_page = 20
    capped = world.http.get(world.path("/assignments"), params={"per_page": 1000})
    assert len(capped.json()) == 20
    assert "per_page=20" in links(capped)["next"]


def test_access_token_parameter_is_not_carried_into_links(world: World) -> None:
    for n in range(3):
        world.sim.add_module(world.course.id, f"Week {n + 1}")
    bare = httpx.Client(base_url=world.sim.base_url, verify=False)
    page = bare.get(
        world.path("/modules"), params={"access_token": TOKEN, "per_page": 2, "include[]": "items"}
    )
    assert page.status_code == 200
    nxt = links(page)["next"]
    assert "access_token" not in nxt and "include%5B%5D=items" in nxt
    assert bare.get(nxt).status_code == 401  # must be re-appended
    assert len(bare.get(f"{nxt}&access_token={TOKEN}").json()) == 1


def test_student_submissions_page_by_bookmark_without_last(world: World) -> None:
    for n in range(3):
        world.sim.add_assignment(world.course.id, f"Task {n + 1}", points_possible=1)
    url, seen = world.path("/students/submissions?student_ids[]=all&per_page=4"), []
    first = world.http.get(url)
    rels = links(first)
    assert set(rels) == {"current", "next", "first"}
    assert "page=bookmark:" in rels["next"] and "page=first" in rels["first"]
    while url:
        page = world.http.get(url)
        seen += [s["id"] for s in page.json()]
        url = links(page).get("next", "")
    assert len(seen) == 9 and seen == sorted(seen)


def test_too_large_modules_leave_items_out(world: World) -> None:
    big = world.sim.add_module(world.course.id, "Everything")
    small = world.sim.add_module(world.course.id, "Intro")
    for n in range(101):
        world.sim.add_item(
            world.course.id, big.id, type="ExternalUrl", title=f"Link {n}", external_url="https://x"
        )
    world.sim.add_item(world.course.id, small.id, type="SubHeader", title="Welcome")
    modules = world.http.get(
        world.path("/modules"), params={"include[]": ["items", "content_details"]}
    ).json()
    by_name = {m["name"]: m for m in modules}
    assert "items" not in by_name["Everything"] and by_name["Everything"]["items_count"] == 101
    assert [i["title"] for i in by_name["Intro"]["items"]] == ["Welcome"]
    assert "workflow_state" not in by_name["Intro"]

    url, items = by_name["Everything"]["items_url"] + "?per_page=100", []
    while url:
        page = world.http.get(url)
        items += page.json()
        url = links(page).get("next", "")
    assert [i["position"] for i in items] == list(range(1, 102))
    assert items[0]["external_url"] == "https://x" and "content_id" not in items[0]


def test_module_item_shapes(world: World) -> None:
    assignment = world.sim.add_assignment(
        world.course.id, "Quiz 1", points_possible=12, due_at="2026-03-01T23:59:00Z"
    )
    mod = world.sim.add_module(world.course.id, "Week 1")
    world.sim.add_item(
        world.course.id,
        mod.id,
        type="Assignment",
        content_id=assignment.id,
        completion_requirement={"type": "must_submit"},
    )
    world.sim.add_item(world.course.id, mod.id, type="Page", title="Reading", page_url="reading", indent=1)
    items = world.http.get(
        world.path(f"/modules/{mod.id}/items"), params={"include[]": "content_details"}
    ).json()
    quiz, page = items
    assert quiz["content_id"] == assignment.id and quiz["title"] == "Quiz 1"
    assert quiz["url"].endswith(f"/api/v1/courses/{world.course.id}/assignments/{assignment.id}")
    assert (
        quiz["content_details"]["points_possible"] == 12
        and quiz["content_details"]["due_at"] == "2026-03-01T23:59:00Z"
    )
    assert quiz["completion_requirement"] == {"type": "must_submit"}
    assert page["page_url"] == "reading" and page["indent"] == 1 and "content_id" not in page


# -- grading --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("grading_type", "points", "posted", "score", "grade"),
    [
        ("points", 20, "13.5", 13.5, "13.5"),
        ("points", 20, "40%", 8.0, "8"),
        ("percent", 20, "40%", 8.0, "40%"),
        ("percent", 20, "13", 13.0, "65%"),
        ("letter_grade", 10, "A-", 9.3, "A-"),
        ("letter_grade", 10, "8.6", 8.6, "B"),
        ("letter_grade", 10, "A", 10.0, "A"),
        ("gpa_scale", 4, "B+", 3.56, "B+"),
        ("pass_fail", 5, "pass", 5.0, "complete"),
        ("pass_fail", 5, "complete", 5.0, "complete"),
        ("pass_fail", 5, "fail", 0.0, "incomplete"),
        ("pass_fail", 5, "incomplete", 0.0, "incomplete"),
        ("pass_fail", 5, "5", 5.0, "complete"),
    ],
)
def test_posted_grades_score_as_canvas_does(
    world: World, grading_type: str, points: float, posted: str, score: float, grade: str
) -> None:
    assignment = world.sim.add_assignment(
        world.course.id, "Work", points_possible=points, grading_type=grading_type
    )
    student = world.students[0]
    url = world.path(f"/assignments/{assignment.id}/submissions/{student.id}")
    response = world.http.put(
        url, data={"submission[posted_grade]": posted}
    )  # form-encoded, as canvasapi sends
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["score"], body["grade"]) == (pytest.approx(score), grade)
    assert body["workflow_state"] == "graded" and body["grader_id"] == world.teacher.id
    assert body["entered_grade"] == grade and body["graded_at"] and body["posted_at"]
    assert world.http.get(url).json()["grade"] == grade


def test_letter_grades_use_the_assignments_scheme_and_json_bodies(world: World) -> None:
    scheme = [
        {"name": "Excellent", "value": 0.9},
        {"name": "Good", "value": 0.7},
        {"name": "Fail", "value": 0},
    ]
    standard = world.sim.add_grading_standard("Three bands", scheme, course_id=world.course.id)
    assignment = world.sim.add_assignment(
        world.course.id,
        "Project",
        points_possible=10,
        grading_type="letter_grade",
        grading_standard_id=standard.id,
    )
    url = world.path(f"/assignments/{assignment.id}/submissions/{world.students[0].id}")
    body = world.http.put(url, json={"submission": {"posted_grade": "Good"}}).json()
    assert (body["score"], body["grade"]) == (8.9, "Good")  # one point under the band above
    assert world.http.put(url, json={"submission": {"posted_grade": "A"}}).status_code == 400

    standards = world.http.get(world.path("/grading_standards")).json()
    assert standards == [
        {
            "id": standard.id,
            "title": "Three bands",
            "context_type": "Course",
            "context_id": world.course.id,
            "points_based": False,
            "scaling_factor": 1.0,
            "grading_scheme": scheme,
        }
    ]
    assert (
        world.http.get(world.path("/assignments/" + str(assignment.id))).json()["grading_standard_id"]
        == standard.id
    )


@pytest.mark.parametrize(
    ("grading_type", "posted"),
    [("points", "A-"), ("pass_fail", "7"), ("letter_grade", "Z"), ("not_graded", "1")],
)
def test_impossible_grades_answer_400(world: World, grading_type: str, posted: str) -> None:
    assignment = world.sim.add_assignment(
        world.course.id, "Work", points_possible=10, grading_type=grading_type
    )
    url = world.path(f"/assignments/{assignment.id}/submissions/{world.students[0].id}")
    response = world.http.put(url, data={"submission[posted_grade]": posted})
    assert response.status_code == 400
    assert set(response.json()) == {"error"}
    assert world.sim.submission(world.course.id, assignment.id, world.students[0].id).grade is None


def test_the_same_grade_twice_changes_nothing(world: World) -> None:
    assignment = world.sim.add_assignment(
        world.course.id, "Essay", points_possible=10, grading_type="letter_grade"
    )
    student = world.students[0]
    url = world.path(f"/assignments/{assignment.id}/submissions/{student.id}")
    first = world.http.put(url, data={"submission[posted_grade]": "B"}).json()
    events, graded_at = (
        len(world.sim.events),
        world.sim.submission(world.course.id, assignment.id, student.id).graded_at,
    )
    second = world.http.put(
        url, data={"submission[posted_grade]": "8.6"}
    ).json()  # the same grade, as a score
    assert second == first
    assert len(world.sim.events) == events
    assert world.sim.submission(world.course.id, assignment.id, student.id).graded_at == graded_at

    world.http.put(url, data={"submission[posted_grade]": "A-"})
    change = world.sim.events_named("grade_change")[-1]
    assert {k: change["body"][k] for k in ("grade", "old_grade", "score", "old_score")} == {
        "grade": "A-",
        "old_grade": "B",
        "score": 9.3,
        "old_score": 8.6,
    }
    assert change["body"]["submission_id"] == str(first["id"]) and change["body"]["student_sis_id"] == "S-0"
    meta = change["metadata"]
    assert meta["context_id"] == f"2107{world.course.id:013d}" and meta["context_role"] == "TeacherEnrollment"
    assert meta["user_id"] == f"2107{world.teacher.id:013d}" and meta["http_method"] == "PUT"
    assert meta["producer"] == "canvas" and meta["event_time"].endswith("Z") and "id" not in meta
    names = [e["metadata"]["event_name"] for e in world.sim.events[events:]]
    assert names == ["grade_change", "submission_updated", "course_grade_change"]


def test_python_grading_uses_the_same_logic(world: World) -> None:
    assignment = world.sim.add_assignment(world.course.id, "Lab", points_possible=4, grading_type="pass_fail")
    sub = world.sim.grade(
        world.course.id, assignment.id, world.students[1].id, "complete", grader_id=world.teacher.id
    )
    assert (sub.score, sub.grade, sub.workflow_state) == (4.0, "complete", "graded")
    with pytest.raises(ValueError):
        world.sim.grade(world.course.id, assignment.id, world.students[1].id, "2")


def test_bulk_update_grades_through_a_progress(world: World) -> None:
    a1 = world.sim.add_assignment(world.course.id, "One", points_possible=10)
    a2 = world.sim.add_assignment(world.course.id, "Two", points_possible=10, grading_type="letter_grade")
    s0, s1 = world.students[0], world.students[1]
    form = {
        f"grade_data[{a1.id}][{s0.id}][posted_grade]": "7",
        f"grade_data[{a2.id}][{s0.id}][posted_grade]": "B-",
        f"grade_data[{a2.id}][{s1.id}][posted_grade]": "95%",
    }
    progress = world.http.post(world.path("/submissions/update_grades"), data=form).json()
    assert progress["workflow_state"] == "queued" and progress["tag"] == "submissions_update"
    assert set(progress) >= {"id", "context_id", "context_type", "user_id", "completion", "message", "url"}
    states = [progress["workflow_state"]]
    while states[-1] in ("queued", "running"):
        time.sleep(0.005)
        states.append(world.http.get(progress["url"]).json()["workflow_state"])
    assert states[-1] == "completed"
    assert world.sim.submission(world.course.id, a2.id, s0.id).grade == "B-"
    assert world.sim.submission(world.course.id, a2.id, s1.id).grade == "A"
    job_event = world.sim.events_named("grade_change")[-1]["metadata"]
    # A job's event has no request, but grade_change still names its course (amended_context).
    assert "job_id" in job_event and "request_id" not in job_event
    assert job_event["context_type"] == "Course" and job_event["context_id"].endswith(str(world.course.id))

    # the assignment-level endpoint keys grade_data by student only
    single = world.http.post(
        world.path(f"/assignments/{a1.id}/submissions/update_grades"),
        data={f"grade_data[{s1.id}][posted_grade]": "3", "grade_data[99999][posted_grade]": "4"},
    ).json()
    time.sleep(0.1)
    done = world.http.get(f"/api/v1/progress/{single['id']}").json()
    assert (
        done["workflow_state"] == "failed" and done["message"] == "Couldn't find User(s) with API ids '99999'"
    )
    assert world.sim.submission(world.course.id, a1.id, s1.id).score == 3.0

    assert world.http.post(world.path("/submissions/update_grades"), data={}).json() == {
        "error": "'grade_data' parameter required"
    }
    missing = world.http.post(
        world.path("/submissions/update_grades"), data={"grade_data[1][2][posted_grade]": "1"}
    )
    assert missing.status_code == 400 and "could not be found" in missing.json()["error"]


def test_submissions_filters(world: World) -> None:
    a1 = world.sim.add_assignment(world.course.id, "One", points_possible=10)
    a2 = world.sim.add_assignment(world.course.id, "Two", points_possible=10)
    world.sim.submit(world.course.id, a1.id, world.students[0].id, body="my answer")
    world.sim.grade(world.course.id, a2.id, world.students[2].id, "9", grader_id=world.teacher.id)
    path = world.path("/students/submissions")

    def graded_since(offset: float) -> list[tuple[int, int, float]]:
        since = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + offset))
        rows = world.http.get(path, params={"student_ids[]": "all", "graded_since": since}).json()
        return [(s["assignment_id"], s["user_id"], s["score"]) for s in rows]

    assert graded_since(-60) == [(a2.id, world.students[2].id, 9.0)]
    assert graded_since(+60) == []
    submitted = world.http.get(
        path, params={"student_ids[]": "all", "workflow_state": "submitted", "assignment_ids[]": [a1.id]}
    ).json()
    assert [(s["user_id"], s["attempt"], s["body"]) for s in submitted] == [
        (world.students[0].id, 1, "my answer")
    ]
    assert world.http.get(path, params={"student_ids[]": "all", "graded_since": "x"}).status_code == 400
    assert world.http.get(path, params={"student_ids[]": "all", "assignment_ids[]": 1}).status_code == 403
    listed = world.http.get(world.path(f"/assignments/{a1.id}/submissions")).json()
    assert [s["user_id"] for s in listed] == [u.id for u in world.students]
    assert len(world.sim.events_named("submission_created")) == 1


def test_enrollments_and_users_filters(world: World) -> None:
    dropped = world.sim.add_user("Drop Out", login_id="drop")
    enrollment = world.sim.enroll(world.course.id, dropped.id)
    world.sim.update_enrollment(world.course.id, enrollment.id, "completed")
    rows = world.http.get(world.path("/enrollments"), params={"type[]": "StudentEnrollment"}).json()
    assert sorted(r["user_id"] for r in rows) == [u.id for u in world.students]
    assert rows[0]["user"]["login_id"] and rows[0]["grades"]["html_url"]
    done = world.http.get(world.path("/enrollments"), params={"state[]": "completed"}).json()
    assert [r["user_id"] for r in done] == [dropped.id]
    users = world.http.get(
        world.path("/users"), params={"enrollment_type[]": "student", "include[]": ["email", "enrollments"]}
    ).json()
    assert [u["id"] for u in users] == [u.id for u in world.students]
    assert users[0]["email"] == "s0@example.edu" and users[0]["enrollments"][0]["type"] == "StudentEnrollment"
    assert world.sim.events_named("enrollment_updated")[-1]["body"]["workflow_state"] == "completed"


# -- throttling and faults -----------------------------------------------------------------------------


@pytest.mark.parametrize(("status", "body"), [(403, b"403 Forbidden"), (429, b"429 Too Many Requests")])
def test_throttling_answers_canvas_style(status: int, body: bytes) -> None:
    with CanvasSimulator(
        throttle_status=status, throttle_hwm=5, throttle_up_front_cost=1, request_cost=2, throttle_outflow=0
    ) as simulator:
        w = build(simulator, students=1)
        remaining = []
        for _ in range(2):
            ok = w.http.get(w.path())
            assert ok.status_code == 200 and float(ok.headers["X-Request-Cost"]) == 2.0
            remaining.append(float(ok.headers["X-Rate-Limit-Remaining"]))
        assert remaining == [3.0, 1.0]
        refused = w.http.get(w.path())
        assert refused.status_code == status
        assert refused.content == body + b" (Rate Limit Exceeded)\n"
        assert refused.headers["Content-Type"].startswith("text/plain")
        assert "X-Request-Cost" not in refused.headers and "X-Rate-Limit-Remaining" in refused.headers


def test_forced_rate_limits_faults_and_outages(world: World) -> None:
    world.sim.rate_limit_next(1, status=403)
    assert world.http.get(world.path()).status_code == 403
    world.sim.rate_limit_next(1)
    assert world.http.get(world.path()).status_code == 429  # Canvas since 2025-10
    world.sim.fail_next(1, status=502)
    assert world.http.get(world.path()).status_code == 502
    world.sim.slow_next(1, seconds=0.2)
    started = time.monotonic()
    assert world.http.get(world.path()).status_code == 200
    assert time.monotonic() - started >= 0.2
    with world.sim.down():
        assert world.http.get(world.path()).status_code == 503
        assert world.http.get(JWKS_PATH).status_code == 200  # Instructure hosts the JWKS elsewhere
    assert world.http.get(world.path()).status_code == 200
    assert [r.status for r in world.sim.requests_to(world.path())] == [403, 429, 502, 200, 503, 200]


# -- live events: keys, signing, delivery ----------------------------------------------------------------


def test_jwks_is_public_and_rotates(sim: CanvasSimulator) -> None:
    before = HTTP.get(sim.jwks_url).json()["keys"]
    assert len(before) == 3 and all(
        k["kty"] == "RSA" and k["alg"] == "RS256" and k["use"] == "sig" for k in before
    )
    assert sim.current_kid == before[1]["kid"]  # the one in the middle
    sim.rotate_keys()
    after = HTTP.get(sim.jwks_url).json()["keys"]
    assert [k["kid"] for k in after[:2]] == [k["kid"] for k in before[1:]]
    assert after[2]["kid"] not in {k["kid"] for k in before}
    assert sim.current_kid == before[2]["kid"]


def test_signed_events_verify_against_the_served_jwks(sim: CanvasSimulator, receiver: Receiver) -> None:
    sim.live_events_url = receiver.url
    w = build(sim, students=1)
    sim.rotate_keys()
    mod = sim.add_module(w.course.id, "Week 1")
    sim.add_item(w.course.id, mod.id, type="SubHeader", title="Hello")
    headers, token = receiver.received[-1]
    assert headers["content-type"] == "application/jwt"
    kid = jwt.get_unverified_header(token)["kid"]
    assert kid == sim.current_kid
    keys = jwt.PyJWKSet.from_dict(HTTP.get(sim.jwks_url).json())
    claims = jwt.decode(
        token, keys[kid].key, algorithms=["RS256"], issuer="https://live-events.canvas.instructure.com"
    )
    assert {"metadata": claims["metadata"], "body": claims["body"]} == sim.events[-1]
    assert claims["body"] == {
        "module_item_id": str(mod.items[0].id),
        "module_id": str(mod.id),
        "context_id": str(w.course.id),
        "context_type": "Course",
        "position": 1,
        "workflow_state": "active",
    }
    assert [d.status for d in sim.deliveries] == [202] * len(sim.events)


def test_unsigned_events_post_the_raw_json(receiver: Receiver) -> None:
    with CanvasSimulator(live_events_url=receiver.url, live_events_signed=False) as simulator:
        w = build(simulator, students=1)
        headers, body = receiver.received[-1]
        assert headers["content-type"] == "application/json"
        assert orjson.loads(body) == simulator.events[-1]
        assert receiver.names()[:2] == ["course_created", "enrollment_created"]
        simulator.complete_course(w.course.id, w.students[0].id)
        completed = orjson.loads(receiver.received[-1][1])["body"]
        assert set(completed) == {"course", "progress", "user"}
        assert completed["course"]["sis_source_id"] == "2026-MATH-101" and completed["user"]["id"] == str(
            w.students[0].id
        )


def test_delivery_faults_drop_duplicate_and_reorder(sim: CanvasSimulator, receiver: Receiver) -> None:
    w = build(sim, students=1)
    sim.live_events_url, sim.live_events_signed = receiver.url, False
    sim.drop_next_events(1)
    lost = sim.add_module(w.course.id, "Lost")
    kept = sim.add_module(w.course.id, "Kept")
    assert [orjson.loads(b)["body"]["name"] for _, b in receiver.received] == ["Kept"]
    assert sim.live_events.dropped[0]["body"]["module_id"] == str(lost.id)

    sim.duplicate_next_events(1)
    sim.rename_module(w.course.id, kept.id, "Kept (renamed)")
    assert receiver.received[-1][1] == receiver.received[-2][1]

    receiver.received.clear()
    sim.hold_events()
    for name in ("A", "B", "C"):
        sim.add_module(w.course.id, name)
    assert receiver.received == [] and len(sim.live_events.held) == 3
    sim.release_events(order="reverse")
    assert [orjson.loads(b)["body"]["name"] for _, b in receiver.received] == ["C", "B", "A"]

    receiver.status = 500
    sim.add_module(w.course.id, "Refused")
    assert sim.deliveries[-1].status == 500 and sim.deliveries[-1].event_name == "module_created"


def test_module_events_carry_only_what_canvas_sends(sim: CanvasSimulator) -> None:
    w = build(sim, students=0)
    mod = sim.add_module(w.course.id, "Week 1")
    items = [sim.add_item(w.course.id, mod.id, type="SubHeader", title=f"Part {n}") for n in range(3)]
    start = len(sim.events)
    sim.update_item(w.course.id, items[0].id, title="Renamed", indent=2)  # not in the event body: no event
    sim.move_item(w.course.id, items[2].id, position=1)
    sim.delete_item(w.course.id, items[1].id)
    events = sim.events[start:]
    assert [(e["metadata"]["event_name"], e["body"]["module_item_id"]) for e in events] == [
        ("module_item_updated", str(items[2].id)),
        ("module_item_updated", str(items[1].id)),
    ]
    assert events[1]["body"]["workflow_state"] == "deleted"
    listed = w.http.get(w.path(f"/modules/{mod.id}/items")).json()
    assert [(i["title"], i["position"]) for i in listed] == [("Part 2", 1), ("Renamed", 2)]


def test_background_delivery(receiver: Receiver) -> None:
    with CanvasSimulator(live_events_url=receiver.url, live_events_background=True) as simulator:
        build(simulator, students=2)
        assert simulator.wait_for_events(5)
        assert len(receiver.received) == len(simulator.events) == 4
