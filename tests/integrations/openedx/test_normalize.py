"""The Open edX normalizer: inheritance, kinds, and rejection of malformed structures.

Pure Python: no database.
"""

from __future__ import annotations

import copy

import pytest

from eduvault.cores.coursetree import diff
from eduvault.integrations.openedx.normalize import normalize_blocks
from eduvault.kernel.errors import InvalidStructure
from tests.conftest import small_course

ROOT = "block-v1:MIE+MATH-T+2026_T1+type@course+block@course"


def key(kind: str, block_id: str) -> str:
    return f"block-v1:MIE+MATH-T+2026_T1+type@{kind}+block@{block_id}"


@pytest.fixture
def response():
    return small_course().blocks_response("http://lms.test")


def test_kinds_follow_the_open_edx_mapping(response):
    tree = normalize_blocks(response)
    assert tree[ROOT].kind == "course"
    assert tree[key("chapter", "algebra")].kind == "topic"
    assert tree[key("sequential", "quadratics")].kind == "subtopic"
    assert tree[key("vertical", "quad-u0")].kind == "unit"
    assert {
        tree[key(t, b)].kind
        for t, b in [("html", "quad-u0-html"), ("problem", "quad-u0-p"), ("video", "circles-video")]
    } == {"activity"}
    assert tree[key("video", "circles-video")].fields["block_type"] == "video"


def test_the_kind_mapping_is_configurable(response):
    # Unregistered kinds are rejected: a new kind needs a registered handler.
    with pytest.raises(InvalidStructure, match="no handler is registered for kind 'page'"):
        tree = normalize_blocks(response, kind_map={"vertical": "page"})
    tree = normalize_blocks(response, kind_map={"vertical": "activity", "html": "unit"})
    assert tree[key("vertical", "quad-u0")].kind == "activity"
    assert tree[key("html", "quad-u0-html")].kind == "unit"


def test_inherited_settings_are_kept_only_where_they_differ_from_the_parent(response):
    blocks = response["blocks"]
    # The Blocks API reports graded and due on every descendant of a graded subsection.
    assert blocks[key("problem", "test-p0")]["graded"] is True
    assert blocks[key("problem", "test-p0")]["due"] == "2026-02-13T23:59:00Z"
    tree = normalize_blocks(response)
    test = tree[key("sequential", "algebra-test")].fields
    assert test == {
        "title": "Algebra test",
        "block_type": "sequential",
        "format": "Topic Test",
        "graded": True,
        "due": "2026-02-13T23:59:00Z",
    }
    assert tree[key("problem", "test-p0")].fields == {
        "title": "Test problem 1",
        "block_type": "problem",
        "weight": 2.0,
    }
    assert tree[ROOT].fields["start"] == "2026-01-05T07:30:00Z"
    assert "start" not in tree[key("chapter", "algebra")].fields


def test_changing_a_subsection_due_date_is_one_update():
    course = small_course()
    before = normalize_blocks(course.blocks_response())
    course.set(course.usage_key("sequential", "algebra-test"), due="2026-02-20T23:59:00Z")
    after = normalize_blocks(course.blocks_response())
    changes = diff(before, after)
    assert [c.to_line() for c in changes] == [
        {
            "op": "update",
            "kind": "subtopic",
            "id": key("sequential", "algebra-test"),
            "fields": {"due": ["2026-02-13T23:59:00Z", "2026-02-20T23:59:00Z"]},
        }
    ]


def test_a_child_overriding_an_inherited_value_keeps_it():
    course = small_course()
    course.set(course.usage_key("problem", "test-p1"), due="2026-03-01T00:00:00Z")
    tree = normalize_blocks(course.blocks_response())
    assert tree[key("problem", "test-p1")].fields["due"] == "2026-03-01T00:00:00Z"


def test_list_return_type_gives_the_same_tree(response):
    course = small_course()
    as_list = course.blocks_response("http://lms.test", return_type="list")
    assert normalize_blocks(as_list) == normalize_blocks(response)


# -- rejection ---------------------------------------------------------------------------


def reject(response, match: str) -> InvalidStructure:
    original = copy.deepcopy(response)
    with pytest.raises(InvalidStructure) as info:
        normalize_blocks(response)
    assert match in info.value.detail, info.value.problems
    assert response == original, "a rejected structure must not be modified"
    return info.value


def test_rejects_a_cycle(response):
    unit = key("vertical", "quad-u0")
    response["blocks"][key("problem", "quad-u0-p")]["children"] = [unit]
    error = reject(response, "cycle")
    assert unit in error.detail


def test_rejects_a_cycle_away_from_the_root(response):
    a, b = key("vertical", "loop-a"), key("vertical", "loop-b")
    response["blocks"][a] = {"id": a, "type": "vertical", "display_name": "A", "children": [b]}
    response["blocks"][b] = {"id": b, "type": "vertical", "display_name": "B", "children": [a]}
    error = reject(response, "cycle")
    assert a in error.detail and b in error.detail


def test_rejects_the_root_listed_as_a_child(response):
    response["blocks"][key("vertical", "quad-u0")]["children"].append(ROOT)
    reject(response, f"cycle: the root {ROOT!r} is listed as a child of")


def test_rejects_a_block_with_two_parents(response):
    shared = key("html", "quad-u0-html")
    response["blocks"][key("vertical", "quad-u1")]["children"].append(shared)
    error = reject(response, "is listed as a child of both")
    assert shared in error.detail


def test_rejects_a_child_listed_twice(response):
    unit = key("vertical", "quad-u0")
    response["blocks"][unit]["children"].append(key("html", "quad-u0-html"))
    reject(response, f"{unit!r} lists child")


def test_rejects_a_child_missing_from_blocks(response):
    ghost = key("problem", "ghost")
    response["blocks"][key("vertical", "quad-u0")]["children"].append(ghost)
    reject(response, f"lists child {ghost!r}, which is missing from the structure")


def test_rejects_a_block_unreachable_from_the_root(response):
    orphan = key("chapter", "orphan")
    response["blocks"][orphan] = {"id": orphan, "type": "chapter", "display_name": "Orphan"}
    reject(response, f"{orphan!r} is not reachable from the root")


def test_rejects_depth_over_32(response):
    parent = key("vertical", "quad-u0")
    for level in range(40):
        child = key("vertical", f"deep{level}")
        response["blocks"][parent].setdefault("children", []).append(child)
        response["blocks"][child] = {"id": child, "type": "vertical", "display_name": f"Deep {level}"}
        parent = child
    error = reject(response, "the deepest allowed is 32")
    assert "deep29" in error.detail  # depth 33: root 0, chapter 1, sequential 2, vertical 3, deep0 4, ...


def test_accepts_depth_32(response):
    parent = key("vertical", "quad-u0")
    for level in range(29):  # the vertical is at depth 3, so deep28 is at depth 32
        child = key("vertical", f"deep{level}")
        response["blocks"][parent].setdefault("children", []).append(child)
        response["blocks"][child] = {"id": child, "type": "vertical", "display_name": f"Deep {level}"}
        parent = child
    assert len(normalize_blocks(response)) == len(response["blocks"])


def test_rejects_more_than_200000_blocks(response):
    blocks = response["blocks"]
    unit = key("vertical", "quad-u0")
    for i in range(200_001 - len(blocks)):
        child = key("html", f"bulk{i}")
        blocks[unit]["children"].append(child)
        blocks[child] = {"id": child, "type": "html", "display_name": "x"}
    reject(response, "at most 200,000 are accepted")


@pytest.mark.parametrize(
    ("mutate", "match"),
    [
        (lambda r: r.pop("root"), "the response has no root"),
        (lambda r: r.pop("blocks"), "the response has no blocks object"),
        (lambda r: r["blocks"].pop(ROOT), "is missing from blocks"),
        (
            lambda r: r["blocks"][key("vertical", "quad-u0")].__setitem__("children", "nope"),
            "children must be a list of block ids",
        ),
        (
            lambda r: r["blocks"][key("vertical", "quad-u0")].__setitem__("children", [["x"]]),
            "children must be a list of block ids",
        ),
        (lambda r: r["blocks"][key("vertical", "quad-u0")].__setitem__("type", None), "has no type"),
        (lambda r: r["blocks"][key("vertical", "quad-u0")].__setitem__("id", "other"), "has a different id"),
        (
            lambda r: r["blocks"][key("vertical", "quad-u0")].__setitem__("display_name", 42),
            "title must be a string",
        ),
        (
            lambda r: r["blocks"][key("sequential", "algebra-test")].__setitem__("due", "next Tuesday"),
            "due must be an ISO 8601 date-time",
        ),
        (
            lambda r: r["blocks"][key("problem", "quad-u0-p")].__setitem__("weight", "heavy"),
            "weight must be a number",
        ),
        (
            lambda r: r["blocks"][key("sequential", "quadratics")].__setitem__("graded", "yes"),
            "graded must be a boolean",
        ),
        (lambda r: r["blocks"].__setitem__(key("html", "bad"), "not an object"), "is not a JSON object"),
    ],
)
def test_rejects_malformed_blocks(response, mutate, match):
    mutate(response)
    reject(response, match)


def test_rejects_something_that_is_not_a_blocks_response():
    for bad in (None, 42, "blocks", [], {"detail": "Not found"}):
        with pytest.raises(InvalidStructure):
            normalize_blocks(bad)
