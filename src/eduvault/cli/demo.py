"""The demo: a realistic Open edX course synchronized edit after edit, a learner practising
it, a Canvas course with learner records going both ways, then the API served
(``eduvault demo``)."""

from __future__ import annotations

import secrets
from collections import Counter
from collections.abc import Callable
from typing import Any

from django.conf import settings
from rich.panel import Panel
from rich.rule import Rule
from rich.table import Table

from eduvault.cli.demo_canvas import CanvasDemo
from eduvault.cli.runtime import serve
from eduvault.identity.services import token_create, user_create
from eduvault.integrations.models import Source
from eduvault.integrations.openedx.simulator import OpenEdxSimulator, SimulatedCourse
from eduvault.integrations.openedx.simulator.catalog import DEMO_TARGETS, add_topic, msce_mathematics
from eduvault.integrations.services import source_add, source_disable, source_point_to
from eduvault.learning.assessments.demo import practice_walkthrough
from eduvault.learning.assessments.models import Assessment
from eduvault.pipeline.content.models import Course
from eduvault.pipeline.content.selectors import course_get
from eduvault.pipeline.sync.models import SyncRun
from eduvault.pipeline.sync.render import change_table, history_table, run_line
from eduvault.pipeline.sync.selectors import change_of, course_tree_at, run_changes, run_list
from eduvault.pipeline.sync.services import course_sync

SOURCE_NAME = "demo-openedx"
CLIENT_ID = "eduvault-demo"


class Demo:
    """The walkthrough, printed on ``console`` (progress on ``err``)."""

    def __init__(self, console: Any, err: Any) -> None:
        self.console, self.err = console, err

    def run(self, *, no_serve: bool, host: str, port: int) -> None:
        out = self.console
        db = settings.DATABASES["default"]
        out.print(
            Panel.fit(
                "[bold]Edu Vault demo[/bold]: an Open edX course, synchronized edit after edit\n"
                f"data directory: {settings.DATA_DIR}\n"
                f"database: {db['ENGINE'].rsplit('.', 1)[-1]} {db['NAME']}",
                border_style="blue",
            )
        )
        with OpenEdxSimulator() as lms:
            secret = secrets.token_urlsafe(24)
            lms.add_client(CLIENT_ID, secret)
            course = lms.add_course(msce_mathematics(run=_free_run()))
            source = _demo_source(lms.base_url, secret)
            out.print(
                f"An Open edX LMS simulator is listening on {lms.base_url}; source {SOURCE_NAME!r} reads it "
                "with OAuth2 client credentials.",
                markup=False,
            )
            out.print(Rule(f"Publish: {course.title}"))
            first = self._sync(source, course, "initial import")
            kinds = Counter(node["kind"] for node in _walk(course_tree_at(course=first.course).to_nested()))
            out.print("Imported " + ", ".join(_count(n, k) for k, n in kinds.items()) + ".", markup=False)

            for number, (title, edit) in enumerate(_edits(course), start=1):
                out.print(Rule(f"Edit {number} of 6: {title}"))
                edit()
                course.publish()
                self._sync(source, course, title, explain=True)

            out.print(Rule("Publish again without changes"))
            self._sync(source, course, "republish")

            stored = course_get(key=course.course_key)
            out.print(Rule("History"))
            out.print(history_table(list(reversed(run_list(course=stored)))))
            out.print(
                f"{stored.key} is at version {stored.version} with {stored.node_count} nodes; every version is "
                "kept and any of them can be restored.",
                markup=False,
            )
            out.print(Rule("Practice on the synced course"))
            learner = practice_walkthrough(console=out, course=stored)
            practised = (
                Assessment.objects.filter(course=stored, kind=Assessment.Kind.PRACTICE).order_by("id").first()
            )
            if practised is not None:
                CanvasDemo(out, self.err).run(learner=learner[0], assessment=practised)
            self._next_steps(stored, no_serve, host, port, learner)
        # The simulator is gone: the source it stood for must not be synced (and fail) until
        # the next demo points it at a new one.
        source_disable(
            name=SOURCE_NAME, reason="the demo's simulator has stopped; 'eduvault demo' starts it again"
        )
        if not no_serve:
            serve(host=host, port=port)

    def _sync(self, source: Source, course: SimulatedCourse, what: str, *, explain: bool = False) -> SyncRun:
        with self.err.status(f"syncing after: {what}", spinner="dots"):
            run = course_sync(
                course_key=course.course_key,
                source=source,
                trigger=SyncRun.Trigger.DEMO,
                actor="demo",
                detail={"edit": what},
            )
        if explain and run.outcome == SyncRun.Outcome.APPLIED:
            old = course_tree_at(course=run.course, version=run.version_before)
            new = course_tree_at(course=run.course, version=run.version_after)
            self.console.print(change_table([change_of(c) for c in run_changes(run=run)], old, new))
        self.console.print(run_line(run))
        return run

    def _next_steps(
        self, course: Course, no_serve: bool, host: str, port: int, learner: tuple[str, str]
    ) -> None:
        key = course.key
        steps = Table.grid(padding=(0, 2))
        steps.add_column(style="bold")
        steps.add_column()
        steps.add_row("outline", f"eduvault show {key}")
        steps.add_row("a past version", f"eduvault show {key} --version 1")
        steps.add_row("history", f"eduvault history {key}")
        steps.add_row("roll back", f"eduvault rollback {key} --to-version {course.version - 1}")
        steps.add_row("assessments", f"eduvault assessment list --course {key}")
        steps.add_row("learner records", "eduvault records list  ·  eduvault records show <id>")
        steps.add_row("people to link", "eduvault people held  ·  eduvault people link <identity> <person>")
        steps.add_row("communities", "eduvault community list  ·  the console's Communities page")
        steps.add_row("outbox", "eduvault deliveries list")
        steps.add_row(
            "knowledge tracing",
            "eduvault mastery trace --prior 0.2 --learn 0.15 --guess 0.2 --slip 0.1 --answers 1,0,1,1",
        )
        if not no_serve:
            _, token = token_create(name=f"demo-admin-{secrets.token_hex(3)}", role="admin")
            base = f"http://{host}:{port}"
            steps.add_row("API token", token)
            steps.add_row("courses", f'curl -H "Authorization: Bearer {token}" {base}/api/v1/courses/')
            steps.add_row(
                "tree", f'curl -H "Authorization: Bearer {token}" "{base}/api/v1/courses/{key}/tree/"'
            )
            steps.add_row("OpenAPI", f'curl -H "Authorization: Bearer {token}" {base}/api/schema/')
            username, password = learner
            steps.add_row(
                "sign in",
                f"curl -X POST {base}/api/v1/auth/token -H 'Content-Type: application/json' "
                f"""-d '{{"username": "{username}", "password": "{password}"}}'""",
            )
            steps.add_row(
                "practise", f'curl -H "Authorization: Bearer <access_token>" "{base}/api/v1/assessments/"'
            )
            operator, operator_password = _demo_operator()
            steps.add_row("console", f"{base}/console/ (sign in as {operator} / {operator_password})")
            steps.add_row("metrics", f'curl -H "Authorization: Bearer {token}" {base}/metrics')
        self.console.print(Panel(steps, title="Try next", border_style="green"))
        if not no_serve:
            self.console.print(f"Serving the API on http://{host}:{port} (Ctrl-C to stop)…", markup=False)


def _demo_operator() -> tuple[str, str]:
    """A staff account for the console, with a fresh password each run."""
    username, password = f"operator-{secrets.token_hex(3)}", secrets.token_urlsafe(12)
    user_create(username=username, role="admin", password=password, origin="cli")
    return username, password


def _edits(course: SimulatedCourse) -> list[tuple[str, Callable[[], None]]]:
    """The author's six edits, each as Studio would make it."""
    t = DEMO_TARGETS
    find = lambda title, block_type: _find(course, title, block_type)  # noqa: E731

    def rename() -> None:
        course.rename(find(t["rename"], "sequential"), t["rename_to"])

    def add() -> None:
        add_topic(course, t["new_topic_outline"], index=2)

    def move() -> None:
        course.move(find(t["move_subtopic"], "sequential"), find(t["move_to_topic"], "chapter"), index=0)

    def reorder() -> None:
        subtopic = find(t["reorder_subtopic"], "sequential")
        units = course.blocks[subtopic].children
        course.reorder(subtopic, [units[-1], *units[:-1]])

    def due() -> None:
        course.set(find(t["due_subtopic"], "sequential"), due=t["new_due"])

    def delete() -> None:
        course.delete(find(t["delete_topic"], "chapter"))

    return [
        (f"rename the subtopic {t['rename']!r}", rename),
        (f"add the topic {t['new_topic']!r}", add),
        (f"move {t['move_subtopic']!r} into {t['move_to_topic']!r}", move),
        (f"put the last unit of {t['reorder_subtopic']!r} first", reorder),
        (f"give {t['due_subtopic']!r} a week more", due),
        (f"delete the topic {t['delete_topic']!r} and everything in it", delete),
    ]


def _find(course: SimulatedCourse, title: str, block_type: str) -> str:
    (key,) = [k for k, b in course.blocks.items() if b.display_name == title and b.block_type == block_type]
    return key


def _count(n: int, kind: str) -> str:
    plural = kind[:-1] + "ies" if kind.endswith("y") else kind + "s"
    return f"{n} {kind if n == 1 else plural}"


def _walk(node: dict[str, Any]):
    yield node
    for child in node["children"]:
        yield from _walk(child)


def _free_run() -> str:
    """A course run not used by an earlier demo in this database."""
    run, n = "2026_T1", 1
    while Course.objects.filter(key=f"course-v1:MIE+MATH-F3+{run}").exists():
        n += 1
        run = f"2026_T1_demo{n}"
    return run


def _demo_source(base_url: str, secret: str) -> Source:
    if Source.objects.filter(name=SOURCE_NAME).exists():
        return source_point_to(name=SOURCE_NAME, base_url=base_url, client_id=CLIENT_ID, client_secret=secret)
    return source_add(
        platform="openedx", name=SOURCE_NAME, base_url=base_url, client_id=CLIENT_ID, client_secret=secret
    )
