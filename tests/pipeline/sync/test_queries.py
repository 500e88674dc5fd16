"""The apply issues a constant number of queries, whatever the size of the change set."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from eduvault.integrations.openedx.simulator.synthetic import author_edits, synthetic_course
from eduvault.pipeline.content.models import Course
from eduvault.pipeline.content.selectors import course_tree_load
from eduvault.pipeline.sync.services import course_sync_blocks

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _sync_alone():
    """The sync's own statements: other apps' subscribers (tested on their own) left out."""
    from eduvault.pipeline.sync import subscriptions

    saved = list(subscriptions._SUBSCRIPTIONS)
    subscriptions._SUBSCRIPTIONS.clear()
    yield
    subscriptions._SUBSCRIPTIONS[:] = saved


def statements(blocks, key) -> list[str]:
    """The statements one sync issues, as 'VERB table' (savepoints left out)."""
    with CaptureQueriesContext(connection) as ctx:
        run = course_sync_blocks(course_key=key, blocks=blocks)
    assert run.outcome == "applied"
    out = []
    for query in ctx.captured_queries:
        sql = query["sql"]
        if "SAVEPOINT" in sql:
            continue
        verb = sql.split(None, 1)[0].upper().replace("COPY", "INSERT")  # COPY … FROM STDIN inserts
        table = re.search(r'(?:COPY|FROM|INTO|UPDATE)\s+"?(\w+)"?', sql)
        out.append(f"{verb} {table.group(1) if table else '?'}")
    return out


def sync_twice(size: int) -> tuple[list[str], list[str]]:
    course = synthetic_course(size, run=f"R{size}")
    first = statements(course.blocks_response(), course.course_key)
    edited = author_edits(course, rate=0.01)  # 1% renames and moves, a subtree gone, one added
    second = statements(edited.blocks_response(), course.course_key)
    tree = course_tree_load(course=Course.objects.get(key=course.course_key)).tree
    assert len(tree) == len(edited.blocks)
    return first, second


def test_the_same_statements_whatever_the_size():
    small_first, small_second = sync_twice(200)
    big_first, big_second = sync_twice(5000)
    assert small_first == big_first
    assert small_second == big_second
    # One statement per kind of write: nodes deleted, updated (renames, moves and shifted
    # positions together) and inserted once each; all changes inserted at once.
    assert sorted(big_second) == sorted(
        [
            "SELECT content_course",  # lock the course row
            "SELECT content_node",  # load the stored tree
            "UPDATE content_course",  # the version compare-and-swap
            "INSERT sync_syncrun",
            "DELETE content_node",
            "UPDATE content_node",
            "INSERT content_node",
            # The feed cursors, taken last and held to the commit, in one statement (on
            # PostgreSQL with the pg_notify sent at commit: WITH moved AS (UPDATE …) SELECT …).
            ("WITH" if connection.vendor == "postgresql" else "UPDATE") + " feed_feedcounter",
            "INSERT feed_feedentry",
        ]
    )
