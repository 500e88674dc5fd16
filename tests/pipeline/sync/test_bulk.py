"""Set-based writes keep every JSON value exactly, on PostgreSQL and SQLite alike."""

from __future__ import annotations

import uuid

import pytest

from eduvault.kernel import bulk
from eduvault.pipeline.content.models import Course, Node

pytestmark = pytest.mark.django_db

ATTRIBUTES = [
    {},
    {"graded": True, "format": "Homework", "due": "2026-02-13T23:59:00Z"},
    {"graded": False, "weight": 2.5, "due": None},
    {"nested": {"a": [1, "two", None, True]}, "empty": "", "quote": 'it\'s "quoted" ✓'},
]


def test_insert_update_delete_round_trip():
    course = Course.objects.create(key="course-v1:A+B+C")
    ids = [uuid.uuid4().hex for _ in ATTRIBUTES]
    rows = [
        {
            "id": pk,
            "course": course.pk,
            "external_id": f"n{i}",
            "kind": "unit",
            "parent": ids[0] if i else None,
            "position": i,
            "title": f"Title {i} ' \" \\ ✓",
            "attributes": attrs,
            "content_hash": "0" * 32,
            "subtree_hash": "",
        }
        for i, (pk, attrs) in enumerate(zip(ids, ATTRIBUTES))
    ]
    assert bulk.insert_rows(Node, rows) == len(rows)
    stored = {n.external_id: n for n in Node.objects.filter(course=course)}
    for i, attrs in enumerate(ATTRIBUTES):
        node = stored[f"n{i}"]
        assert node.attributes == attrs
        assert node.title == f"Title {i} ' \" \\ ✓"
        assert node.position == i
        assert (node.parent_id.hex if node.parent_id else None) == (ids[0] if i else None)

    updated = [
        {"id": ids[1], "title": "Renamed", "attributes": {"graded": False, "list": [1.5]}, "position": 7}
    ]
    assert bulk.update_rows(Node, updated) == 1
    node = Node.objects.get(pk=ids[1])
    assert (node.title, node.attributes, node.position) == ("Renamed", {"graded": False, "list": [1.5]}, 7)
    assert Node.objects.get(pk=ids[2]).attributes == ATTRIBUTES[2]

    assert bulk.delete_rows(Node, ids[1:]) == len(ids) - 1
    assert list(Node.objects.filter(course=course).values_list("external_id", flat=True)) == ["n0"]


def test_null_json_is_sql_null():
    from django.utils import timezone

    from eduvault.pipeline.feed.models import FeedEntry
    from eduvault.pipeline.sync.models import SyncRun

    course = Course.objects.create(key="course-v1:A+B+D")
    now = timezone.now()
    run = SyncRun.objects.create(
        course=course,
        course_key=course.key,
        trigger="cli",
        outcome="applied",
        started_at=now,
        finished_at=now,
    )
    bulk.insert_rows(
        FeedEntry,
        [
            {
                "run": run.pk,
                "course": course.pk,
                "cursor": 1001,
                "seq": 0,
                "op": "create",
                "external_id": "x",
                "kind": "unit",
                "before": None,
                "after": {"parent": None},
                "created_at": now.isoformat(),
                "priority": "background",
            },
            {
                "run": run.pk,
                "course": course.pk,
                "cursor": 1002,
                "seq": 1,
                "op": "delete",
                "external_id": "y",
                "kind": "unit",
                "before": {"fields": {}},
                "after": None,
                "created_at": now.isoformat(),
                "priority": "background",
            },
        ],
    )
    assert list(FeedEntry.objects.filter(before__isnull=True).values_list("external_id", flat=True)) == ["x"]
    assert list(FeedEntry.objects.filter(after__isnull=True).values_list("external_id", flat=True)) == ["y"]
    assert FeedEntry.objects.get(external_id="x").after == {"parent": None}
    # Inserted in the order given.
    assert list(FeedEntry.objects.order_by("id").values_list("seq", flat=True)) == [0, 1]


def test_nothing_to_write_issues_no_statement(django_assert_num_queries):
    with django_assert_num_queries(0):
        assert bulk.insert_rows(Node, []) == 0
        assert bulk.update_rows(Node, []) == 0
        assert bulk.delete_rows(Node, []) == 0
