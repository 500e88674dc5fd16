"""Reading sync history: runs, their changes, and a course's tree at any version."""

from __future__ import annotations

from itertools import groupby

from django.db.models import QuerySet

from eduvault.cores.coursetree import Change, CourseTree, apply, invert
from eduvault.kernel.db import consistent_read
from eduvault.kernel.errors import RunNotFound, VersionNotFound
from eduvault.pipeline.content.models import Course
from eduvault.pipeline.content.selectors import course_tree_load
from eduvault.pipeline.feed.models import FeedEntry
from eduvault.pipeline.sync.models import SyncRun


def change_of(record: FeedEntry) -> Change:
    return Change.from_states(record.op, record.external_id, record.kind, record.before, record.after)  # type: ignore[arg-type]


def course_tree_at(*, course: Course, version: int | None = None) -> CourseTree:
    """The course's tree at ``version`` (the current one by default).

    Past versions are rebuilt from the current tree by undoing, newest first, the changes of
    every run applied after ``version``: the history is the only record of them.
    """
    with consistent_read():
        course = Course.objects.get(pk=course.pk)
        if version is None:
            version = course.version
        if not 1 <= version <= course.version:
            raise VersionNotFound(
                f"{course.key} has versions 1 to {course.version}; there is no version {version}"
                if course.version
                else f"{course.key} has no stored version yet"
            )
        tree = course_tree_load(course=course).tree
        assert tree is not None, "a course at version >= 1 has a tree"
        if version == course.version:
            return tree
        # A run's entries carry the version it made; entries of other subjects carry none.
        records = (
            FeedEntry.objects.filter(course=course, run__isnull=False, version__gt=version)
            .order_by("-version", "seq")
            .only("run", "op", "external_id", "kind", "before", "after")
        )
        for _, run_records in groupby(records.iterator(chunk_size=5000), key=lambda r: r.run):
            tree = apply(invert([change_of(r) for r in run_records]), tree, in_place=True)
        return tree


def run_list(*, course: Course | None = None, outcome: str | None = None) -> QuerySet[SyncRun]:
    runs = SyncRun.objects.select_related("course", "source").order_by("-id")
    if course is not None:
        runs = runs.filter(course=course)
    if outcome:
        runs = runs.filter(outcome=outcome)
    return runs


def run_get(*, run_id: int) -> SyncRun:
    try:
        return SyncRun.objects.select_related("course", "source").get(pk=run_id)
    except SyncRun.DoesNotExist:
        raise RunNotFound(f"there is no sync run {run_id}") from None


def run_changes(*, run: SyncRun) -> QuerySet[FeedEntry]:
    """The changes a run applied, in order: its entries in the feed."""
    return FeedEntry.objects.filter(run=run.pk).order_by("seq")
