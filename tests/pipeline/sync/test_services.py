"""Applying course structures: versions, audit, unchanged runs, failures, rollback, subscribers."""

from __future__ import annotations

import copy

import pytest

from eduvault.integrations.openedx.normalize import normalize_blocks
from eduvault.kernel.errors import CourseNotFoundAtSource, InvalidStructure, SourceRejected, VersionNotFound
from eduvault.pipeline.content.models import Course, Node
from eduvault.pipeline.content.selectors import course_tree_load
from eduvault.pipeline.feed.models import FeedEntry
from eduvault.pipeline.sync import subscriptions
from eduvault.pipeline.sync.models import SyncRun
from eduvault.pipeline.sync.selectors import course_tree_at
from eduvault.pipeline.sync.services import course_rollback, course_sync, course_sync_blocks
from tests.conftest import COURSE_KEY

pytestmark = pytest.mark.django_db


def stored(key: str = COURSE_KEY):
    return course_tree_load(course=Course.objects.get(key=key)).tree


def snapshot(key: str = COURSE_KEY):
    course = Course.objects.get(key=key)
    nodes = sorted(
        Node.objects.filter(course=course).values_list(
            "external_id", "kind", "parent__external_id", "position", "title", "attributes", "content_hash"
        )
    )
    return course.version, course.content_hash, nodes, FeedEntry.objects.filter(course=course).count()


def test_first_sync_creates_the_course_at_version_1(source, course):
    run = course_sync(course_key=COURSE_KEY, source=source, actor="tester")
    assert (run.outcome, run.version_before, run.version_after) == ("applied", 0, 1)
    assert run.creates == len(course.blocks) and run.updates == run.moves == run.deletes == 0
    db_course = Course.objects.get(key=COURSE_KEY)
    assert db_course.title == "Test Mathematics"
    assert db_course.source == source
    assert db_course.node_count == len(course.blocks)
    assert stored() == normalize_blocks(course.blocks_response())
    assert db_course.content_hash == stored().hash
    # Every applied change is recorded with its run, before and after.
    changes = list(FeedEntry.objects.filter(run=run.pk).order_by("seq"))
    assert [c.seq for c in changes] == list(range(len(course.blocks)))
    assert changes[0].op == "create" and changes[0].before is None and changes[0].after["parent"] is None
    assert run.actor == "tester" and run.trigger == "cli"


def test_an_unchanged_structure_is_an_unchanged_run_that_writes_nothing_else(source, course):
    course_sync(course_key=COURSE_KEY, source=source)
    before = snapshot()
    run = course_sync(course_key=COURSE_KEY, source=source)
    assert (run.outcome, run.version_before, run.version_after) == ("unchanged", 1, 1)
    assert run.change_count == 0
    assert snapshot() == before


def test_each_applied_run_raises_the_version_by_one_and_records_its_changes(source, course):
    course_sync(course_key=COURSE_KEY, source=source)
    course.rename(course.usage_key("chapter", "geometry"), "Geometry and measures")
    course.move(course.usage_key("sequential", "circles"), course.usage_key("chapter", "algebra"), 0)
    course.delete(course.usage_key("vertical", "quad-u2"))
    course.add(course.usage_key("vertical", "quad-u0"), "problem", "New problem", block_id="np", weight=1.0)
    run = course_sync(course_key=COURSE_KEY, source=source)
    assert (run.outcome, run.version_before, run.version_after) == ("applied", 1, 2)
    assert run.counts == {"create": 1, "update": 1, "move": 1, "delete": 1}
    assert stored() == normalize_blocks(course.blocks_response())
    delete = FeedEntry.objects.get(run=run.pk, op="delete")
    assert delete.external_id == course.usage_key("vertical", "quad-u2")
    assert [entry[0] for entry in delete.before["subtree"]] == [
        course.usage_key("html", "quad-u2-html"),
        course.usage_key("problem", "quad-u2-p"),
    ]
    move = FeedEntry.objects.get(run=run.pk, op="move")
    assert move.before == {"parent": course.usage_key("chapter", "geometry"), "position": 0}
    assert move.after == {"parent": course.usage_key("chapter", "algebra"), "position": 0}
    # Positions of the siblings that shifted are stored too.
    algebra = Node.objects.get(external_id=course.usage_key("chapter", "algebra"))
    assert list(algebra.children.order_by("position").values_list("title", "position")) == [
        ("Circles", 0),
        ("Quadratics", 1),
        ("Algebra test", 2),
    ]


def test_a_rejected_structure_changes_nothing_and_the_run_says_why(course):
    blocks = course.blocks_response()
    course_sync_blocks(course_key=COURSE_KEY, blocks=blocks)
    before = snapshot()
    bad = copy.deepcopy(blocks)
    ghost = course.usage_key("problem", "ghost")
    bad["blocks"][course.usage_key("vertical", "quad-u0")]["children"].append(ghost)
    with pytest.raises(InvalidStructure, match="missing from the structure"):
        course_sync_blocks(course_key=COURSE_KEY, blocks=bad)
    assert snapshot() == before
    failed = SyncRun.objects.latest("id")
    assert failed.outcome == "failed" and failed.error_code == "InvalidStructure"
    assert ghost in failed.error
    assert failed.version_before == failed.version_after == 1


def test_a_rejected_first_sync_creates_no_course(course):
    bad = course.blocks_response()
    bad["blocks"][course.root]["children"].append(bad["root"])
    with pytest.raises(InvalidStructure, match="cycle"):
        course_sync_blocks(course_key=COURSE_KEY, blocks=bad)
    assert not Course.objects.exists()
    run = SyncRun.objects.get()
    assert (run.course, run.course_key, run.outcome) == (None, COURSE_KEY, "failed")


@pytest.mark.parametrize(
    ("break_source", "error", "match"),
    [
        (lambda sim: sim.fail_next(20, status=503), "SourceUnavailable", "answered 503"),
        (lambda sim: sim.revoke_tokens() or sim.clients.clear(), "SourceRejected", "client credentials"),
        (lambda sim: sim.courses.clear(), "CourseNotFoundAtSource", "no course"),
    ],
)
def test_source_failures_are_recorded_and_change_nothing(
    source, course, simulator, break_source, error, match, settings
):
    settings.EDUVAULT_HTTP_ATTEMPTS = 2
    course_sync(course_key=COURSE_KEY, source=source)
    before = snapshot()
    break_source(simulator)
    with pytest.raises((SourceRejected, CourseNotFoundAtSource, Exception), match=match):
        course_sync(course_key=COURSE_KEY, source=source)
    assert snapshot() == before
    assert SyncRun.objects.latest("id").error_code == error


def test_rollback_is_a_new_run_that_restores_the_old_tree(source, course):
    course_sync(course_key=COURSE_KEY, source=source)
    v1 = stored()
    course.delete(course.usage_key("chapter", "geometry"))
    course.rename(course.usage_key("sequential", "quadratics"), "Quadratic equations")
    course_sync(course_key=COURSE_KEY, source=source)
    course.reorder(
        course.usage_key("vertical", "quad-u0"),
        reversed(course.blocks[course.usage_key("vertical", "quad-u0")].children),
    )
    course_sync(course_key=COURSE_KEY, source=source)
    v3 = stored()

    run = course_rollback(course_key=COURSE_KEY, to_version=1, actor="ops")
    assert (run.outcome, run.trigger, run.version_before, run.version_after) == ("applied", "rollback", 3, 4)
    assert run.trigger_detail == {"to_version": 1}
    assert stored() == v1
    # History is never rewritten: every version is still there.
    assert course_tree_at(course=Course.objects.get(), version=3) == v3
    assert course_tree_at(course=Course.objects.get(), version=1) == v1
    assert list(
        SyncRun.objects.filter(outcome="applied").values_list("version_after", flat=True).order_by("id")
    ) == [1, 2, 3, 4]


def test_rollback_to_the_current_content_is_unchanged(source, course):
    course_sync(course_key=COURSE_KEY, source=source)
    run = course_rollback(course_key=COURSE_KEY, to_version=1)
    assert run.outcome == "unchanged"


def test_rollback_to_a_version_that_does_not_exist(source, course):
    course_sync(course_key=COURSE_KEY, source=source)
    with pytest.raises(VersionNotFound, match="versions 1 to 1"):
        course_rollback(course_key=COURSE_KEY, to_version=5)
    with pytest.raises(VersionNotFound):
        course_rollback(course_key=COURSE_KEY, to_version=0)


def test_every_version_can_be_rebuilt(course):
    """Apply a series of edits; each version rebuilt from history equals what was synced."""
    expected = {}
    edits = [
        lambda c: c.rename(c.usage_key("chapter", "algebra"), "Algebra I"),
        lambda c: c.move(c.usage_key("vertical", "circles-u"), c.usage_key("sequential", "quadratics"), 1),
        lambda c: c.delete(c.usage_key("chapter", "geometry")),
        lambda c: c.add(c.root, "chapter", "Statistics", block_id="stats", index=0),
        lambda c: c.set(c.usage_key("sequential", "algebra-test"), due="2026-03-01T23:59:00Z", graded=False),
    ]
    course_sync_blocks(course_key=COURSE_KEY, blocks=course.blocks_response())
    expected[1] = stored()
    for version, edit in enumerate(edits, start=2):
        edit(course)
        run = course_sync_blocks(course_key=COURSE_KEY, blocks=course.blocks_response())
        assert run.version_after == version
        expected[version] = stored()
    db_course = Course.objects.get()
    for version, tree in expected.items():
        assert course_tree_at(course=db_course, version=version) == tree


def test_subscribers_run_inside_the_sync_transaction(source, course):
    seen = []

    @subscriptions.subscribe(kinds={"subtopic"}, ops={"create", "delete"})
    def record(*, course, run, changes):
        seen.append(
            (run.version_after, sorted((c.op, c.external_id, c.node_pk is not None) for c in changes))
        )

    try:
        course_sync(course_key=COURSE_KEY, source=source)
        assert seen == [
            (
                1,
                sorted(
                    ("create", course.usage_key("sequential", s), True)
                    for s in ("quadratics", "algebra-test", "circles")
                ),
            )
        ]
        course.rename(course.usage_key("sequential", "circles"), "Circle theorems")  # an update: not wanted
        course_sync(course_key=COURSE_KEY, source=source)
        assert len(seen) == 1
    finally:
        subscriptions.unsubscribe(record)


def test_a_failing_subscriber_fails_the_run_and_nothing_is_applied(source, course):
    course_sync(course_key=COURSE_KEY, source=source)
    before = snapshot()

    @subscriptions.subscribe(kinds={"topic"})
    def explode(*, course, run, changes):
        raise RuntimeError("subscriber broke")

    try:
        course.rename(course.usage_key("chapter", "geometry"), "Shapes")
        with pytest.raises(RuntimeError):
            course_sync(course_key=COURSE_KEY, source=source)
    finally:
        subscriptions.unsubscribe(explode)
    assert snapshot() == before
    assert SyncRun.objects.latest("id").error == "subscriber broke"


def test_stored_subtree_hashes_stay_true_to_the_tree(course):
    """The hashes kept with the nodes (which let the next diff skip unchanged subtrees)
    always equal freshly computed ones, through every kind of edit and a rollback."""
    edits = [
        lambda c: c.rename(c.usage_key("problem", "quad-u1-p"), "Harder problem"),
        lambda c: c.move(c.usage_key("vertical", "circles-u"), c.usage_key("sequential", "quadratics"), 0),
        lambda c: (
            c.delete(c.usage_key("html", "quad-u0-html")) or c.delete(c.usage_key("problem", "quad-u0-p"))
        ),
        lambda c: c.add(c.usage_key("vertical", "quad-u0"), "html", "Back again", block_id="again"),
        lambda c: c.delete(c.usage_key("chapter", "geometry")),
    ]
    course_sync_blocks(course_key=COURSE_KEY, blocks=course.blocks_response())
    for edit in edits:
        edit(course)
        course_sync_blocks(course_key=COURSE_KEY, blocks=course.blocks_response())
        check_stored_hashes()
    course_rollback(course_key=COURSE_KEY, to_version=2)
    check_stored_hashes()


def check_stored_hashes():
    loaded = stored()
    assert loaded.has_subtree_hashes
    kept = dict(loaded.subtree_hashes())
    loaded.invalidate()
    assert kept == loaded.subtree_hashes()
    assert Course.objects.get(key=COURSE_KEY).content_hash == loaded.hash


def test_a_course_is_unique_per_source_and_its_key(simulator, course, source):
    """Two platforms may each have a course-v1:…; each is its own course here."""
    from eduvault.integrations.services import source_add
    from eduvault.kernel.errors import Conflict
    from eduvault.pipeline.content.selectors import course_get
    from tests.conftest import CLIENT_ID, CLIENT_SECRET

    other = source_add(
        platform="openedx",
        name="lms2",
        base_url=simulator.base_url,
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
    )
    course_sync(course_key=COURSE_KEY, source=source)
    course_sync(course_key=COURSE_KEY, source=other)
    assert sorted(Course.objects.filter(key=COURSE_KEY).values_list("source__name", "version")) == [
        ("lms", 1),
        ("lms2", 1),
    ]
    with pytest.raises(Conflict, match="several sources have a course with key"):
        course_get(key=COURSE_KEY)
    assert course_get(key=COURSE_KEY, source="lms2").source == other


def test_a_course_synced_from_a_file_is_adopted_by_its_source(simulator, course, source):
    course_sync_blocks(course_key=COURSE_KEY, blocks=course.blocks_response())
    run = course_sync(course_key=COURSE_KEY, source=source)
    stored = Course.objects.get(key=COURSE_KEY)
    assert stored.source == source and (run.outcome, stored.version) == ("unchanged", 1)
