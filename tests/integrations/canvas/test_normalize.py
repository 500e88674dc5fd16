"""The Canvas normalizer: modules and items to topics and activities, strict validation.

Pure Python: no database.
"""

from __future__ import annotations

import copy
from typing import Any

import orjson
import pytest

from eduvault.cores.coursetree import diff
from eduvault.integrations.canvas import normalize as canvas_normalize
from eduvault.integrations.canvas.normalize import normalize_course, normalize_document
from eduvault.kernel.errors import InvalidStructure

KEY = "canvas:canvas.test:101"
BASE = "https://canvas.test/api/v1/courses/101"


def item(item_id: int, position: int, title: str, type_: str, **extra: Any) -> dict[str, Any]:
    return {
        "id": item_id,
        "position": position,
        "title": title,
        "indent": extra.pop("indent", 0),
        "type": type_,
        "html_url": f"https://canvas.test/courses/101/modules/items/{item_id}",
        "published": extra.pop("published", True),
        **extra,
    }


def biology() -> dict[str, Any]:
    """A course as the REST API answers it, modules listed out of order."""
    week2 = {
        "id": 12,
        "name": "Week 2: Genetics",
        "position": 2,
        "published": False,
        "unlock_at": "2026-01-19T08:00:00Z",
        "items_count": 3,
        "items_url": f"{BASE}/modules/12/items",
        "items": [
            item(121, 2, "Draft worksheet", "Assignment", content_id=502, published=False),
            item(122, 1, "Genetics discussion", "Discussion", content_id=701),
            item(123, 3, "Old video", "File", content_id=801, workflow_state="deleted"),
        ],
    }
    week1 = {
        "id": 11,
        "name": "Week 1: Cells",
        "position": 1,
        "published": True,
        "unlock_at": None,
        "items_count": 6,
        "items_url": f"{BASE}/modules/11/items",
        "items": [
            item(111, 1, "Readings", "SubHeader"),
            item(112, 2, "Cell structure", "Page", indent=1, page_url="cell-structure"),
            item(
                113,
                3,
                "Lab report 1",
                "Assignment",
                indent=1,
                content_id=501,
                content_details={"points_possible": 10, "due_at": "2026-01-16T23:59:00Z"},
            ),
            item(114, 4, "Practice", "SubHeader"),
            item(115, 5, "Cells quiz", "Quiz", indent=1, content_id=601),
            item(
                116,
                6,
                "Khan Academy: cells",
                "ExternalUrl",
                external_url="https://www.khanacademy.org/cells",
                new_tab=True,
            ),
        ],
    }
    removed = {"id": 13, "name": "Removed", "position": 3, "workflow_state": "deleted", "items": []}
    assignments = [
        {
            "id": 501,
            "name": "Lab report 1",
            "points_possible": 10,
            "grading_type": "points",
            "due_at": "2026-01-19T23:59:00Z",
            "submission_types": ["online_upload"],
        },
        {
            "id": 502,
            "name": "Draft worksheet",
            "points_possible": 5.5,
            "grading_type": "not_graded",
            "due_at": None,
        },
        {
            "id": 503,
            "name": "Cells quiz",
            "points_possible": 20.0,
            "grading_type": "points",
            "quiz_id": 601,
            "submission_types": ["online_quiz"],
            "due_at": "2026-01-21T23:59:00Z",
        },
        {
            "id": 504,
            "name": "Genetics discussion",
            "points_possible": 0,
            "grading_type": "pass_fail",
            "discussion_topic": {"id": 701, "title": "Genetics discussion"},
        },
        {"id": 505, "name": "Not in any module", "points_possible": 5, "grading_type": "points"},
    ]
    course = {
        "id": 101,
        "name": "Biology 101",
        "course_code": "BIO101",
        "start_at": "2026-01-12T08:00:00Z",
        "workflow_state": "available",
    }
    return {"course": course, "modules": [week2, removed, week1], "assignments": assignments}


def tree_of(document: dict[str, Any], **kwargs: Any):
    return normalize_course(
        document["course"], document["modules"], document["assignments"], key=KEY, **kwargs
    )


@pytest.fixture
def document() -> dict[str, Any]:
    return biology()


def test_modules_become_topics_and_items_activities_in_canvas_order(document):
    tree = tree_of(document)
    assert tree.root == KEY
    root = tree[KEY]
    assert root.kind == "course"
    assert root.fields == {"title": "Biology 101", "block_type": "course", "start": "2026-01-12T08:00:00Z"}
    assert root.children == ["module:11", "module:12"]  # by position; the deleted module is left out
    week1 = tree["module:11"]
    assert week1.kind == "topic"
    assert week1.fields == {"title": "Week 1: Cells", "block_type": "module", "published": True}
    # SubHeaders keep their places among the items.
    assert week1.children == ["item:111", "item:112", "item:113", "item:114", "item:115", "item:116"]
    assert [tree[c].fields["block_type"] for c in week1.children] == [
        "SubHeader",
        "Page",
        "Assignment",
        "SubHeader",
        "Quiz",
        "ExternalUrl",
    ]
    assert {tree[c].kind for c in week1.children} == {"activity"}
    week2 = tree["module:12"]
    assert week2.fields == {
        "title": "Week 2: Genetics",
        "block_type": "module",
        "start": "2026-01-19T08:00:00Z",
        "published": False,  # unpublished modules are kept, marked
    }
    assert week2.children == ["item:122", "item:121"]  # by position; the deleted file is left out
    assert "item:123" not in tree and "module:13" not in tree
    assert tree["item:113"].parent == "module:11"
    assert len(tree) == 1 + 2 + 6 + 2


def test_assignment_backed_items_carry_points_due_and_graded(document):
    tree = tree_of(document)
    assert tree["item:113"].fields == {
        "title": "Lab report 1",
        "block_type": "Assignment",
        "published": True,
        "content_id": "501",
        "indent": 1,
        "grading_type": "points",
        "graded": True,
        "weight": 10.0,  # the assignment's, not content_details'
        "due": "2026-01-19T23:59:00Z",
    }
    # A classic quiz item's content_id is the quiz: matched by the assignment's quiz_id.
    assert tree["item:115"].fields == {
        "title": "Cells quiz",
        "block_type": "Quiz",
        "published": True,
        "content_id": "601",
        "indent": 1,
        "grading_type": "points",
        "graded": True,
        "weight": 20.0,
        "due": "2026-01-21T23:59:00Z",
    }
    # not_graded: points but no grade; a discussion worth nothing is not graded either.
    assert tree["item:121"].fields == {
        "title": "Draft worksheet",
        "block_type": "Assignment",
        "published": False,
        "content_id": "502",
        "indent": 0,
        "grading_type": "not_graded",
        "weight": 5.5,
    }
    # A graded discussion's content_id is its topic: matched by the assignment's discussion_topic.
    assert tree["item:122"].fields == {
        "title": "Genetics discussion",
        "block_type": "Discussion",
        "published": True,
        "content_id": "701",
        "indent": 0,
        "grading_type": "pass_fail",
        "weight": 0.0,
    }
    assert tree["item:116"].fields == {
        "title": "Khan Academy: cells",
        "block_type": "ExternalUrl",
        "published": True,
        "indent": 0,
    }


def test_without_its_assignment_an_item_falls_back_to_content_details_and_is_not_graded(document):
    document["assignments"] = []
    fields = tree_of(document)["item:113"].fields
    assert fields == {
        "title": "Lab report 1",
        "block_type": "Assignment",
        "published": True,
        "content_id": "501",
        "indent": 1,
        "weight": 10.0,
        "due": "2026-01-16T23:59:00Z",
    }


def test_the_canvas_attributes_are_kept(document):
    tree = tree_of(document)
    # Unpublished modules and items are kept, marked; published ones are marked too.
    assert tree["module:12"].fields["published"] is False
    assert tree["item:121"].fields["published"] is False
    assert tree["module:11"].fields["published"] is True
    assert tree["item:112"].fields["published"] is True
    assert tree["item:112"].fields["indent"] == 1
    # SubHeaders show no content and have no assignment.
    assert tree["item:111"].fields == {
        "title": "Readings",
        "block_type": "SubHeader",
        "published": True,
        "indent": 0,
    }


def test_a_workflow_state_of_unpublished_means_unpublished(document):
    document["modules"][2]["items"][1]["workflow_state"] = "unpublished"
    del document["modules"][2]["items"][1]["published"]
    assert tree_of(document)["item:112"].fields["published"] is False


def test_item_types_can_map_to_other_kinds(document):
    tree = tree_of(document, kind_map={"SubHeader": "unit"})
    assert tree["item:111"].kind == "unit"
    assert tree["item:112"].kind == "activity"
    with pytest.raises(InvalidStructure, match="no handler is registered for kind 'lesson'"):
        tree_of(document, kind_map={"module": "lesson"})


def test_a_saved_document_normalizes_the_same(document):
    expected = tree_of(document)
    assert normalize_document(document, key=KEY) == expected
    assert normalize_document(orjson.dumps(document), key=KEY) == expected
    assert normalize_document(orjson.dumps(document).decode(), key=KEY) == expected
    del document["assignments"]
    assert normalize_document(document, key=KEY)["item:113"].fields["due"] == "2026-01-16T23:59:00Z"


@pytest.mark.parametrize(
    ("document", "message"),
    [
        (b"{not json", "not JSON"),
        ([], "not a JSON object"),
        ({"course": {}}, "needs both course and modules"),
    ],
)
def test_a_malformed_document_is_rejected(document, message):
    with pytest.raises(InvalidStructure, match=message):
        normalize_document(document, key=KEY)


# -- validation ---------------------------------------------------------------------------


def week1(document: dict[str, Any]) -> dict[str, Any]:
    return document["modules"][2]


def test_a_module_without_an_id_is_named(document):
    del document["modules"][0]["id"]
    with pytest.raises(InvalidStructure, match=r"module #1 \('Week 2: Genetics'\) has no id"):
        tree_of(document)


def test_an_item_without_an_id_is_named(document):
    week1(document)["items"][2]["id"] = None
    with pytest.raises(InvalidStructure, match=r"item #3 \('Lab report 1'\) in module 11 has no id"):
        tree_of(document)


def test_duplicate_ids_are_rejected(document):
    duplicate = copy.deepcopy(week1(document)["items"][2])
    document["modules"][0]["items"].append(duplicate)
    with pytest.raises(InvalidStructure, match="item 113 appears in both module 11 and module 12"):
        tree_of(document)
    document = biology()
    week1(document)["items"].append(copy.deepcopy(week1(document)["items"][0]))
    with pytest.raises(InvalidStructure, match="item 111 appears twice in module 11"):
        tree_of(document)
    document = biology()
    document["modules"][1] = {**week1(document), "position": 9}
    with pytest.raises(InvalidStructure, match="module 11 appears twice"):
        tree_of(document)
    document = biology()
    document["assignments"].append({"id": 501})
    with pytest.raises(InvalidStructure, match="assignment 501 appears twice"):
        tree_of(document)


@pytest.mark.parametrize(
    ("break_it", "message"),
    [
        (lambda d: week1(d).__setitem__("items", {"113": {}}), "module 11: items must be a list"),
        (lambda d: week1(d)["items"].append("item"), "item #7 in module 11 is not a JSON object"),
        (lambda d: week1(d)["items"][4].pop("type"), "item 115 in module 11 has no type"),
        (lambda d: week1(d)["items"][4].__setitem__("title", 7), "item 115: title must be a string"),
        (
            lambda d: week1(d)["items"][4].__setitem__("position", "5"),
            "item 115 in module 11: position must be",
        ),
        (lambda d: d.__setitem__("modules", {"11": {}}), "modules must be a list"),
        (lambda d: d.__setitem__("assignments", None), "assignments must be a list"),
        (lambda d: d["assignments"].append(["x"]), "assignment #6 is not a JSON object"),
        (lambda d: d["assignments"][2].pop("id"), r"assignment #3 \('Cells quiz'\) has no id"),
        (lambda d: d.__setitem__("course", "Biology"), "the course is not a JSON object"),
        (
            lambda d: d["assignments"][0].__setitem__("due_at", "next Tuesday"),
            "activity 'item:113': due must be an ISO 8601 date-time",
        ),
        (
            lambda d: d["assignments"][0].__setitem__("points_possible", "ten"),
            "activity 'item:113': weight must be a number",
        ),
        (
            lambda d: week1(d).__setitem__("unlock_at", "soon"),
            "topic 'module:11': start must be an ISO 8601 date-time",
        ),
    ],
)
def test_malformed_courses_are_rejected_naming_the_offender(document, break_it, message):
    break_it(document)
    with pytest.raises(InvalidStructure, match=message):
        tree_of(document)


def test_absurd_sizes_are_rejected(document, monkeypatch):
    monkeypatch.setattr(canvas_normalize, "MAX_NODES", 10)
    with pytest.raises(InvalidStructure, match="at most 10 are accepted"):
        tree_of(document)


# -- round trips through the diff engine ---------------------------------------------------


def test_renaming_an_item_is_one_update(document):
    old = tree_of(document)
    week1(document)["items"][1]["title"] = "The cell"
    changes = diff(old, tree_of(document))
    assert [(c.op, c.id) for c in changes] == [("update", "item:112")]
    assert changes[0].changed_fields() == {"title": ("Cell structure", "The cell")}


def test_moving_an_item_to_another_module_is_one_move(document):
    old = tree_of(document)
    moved = week1(document)["items"].pop(5)
    week2 = document["modules"][0]["items"]
    for other in week2:  # Canvas renumbers the module's positions
        other["position"] += 1
    week2.append({**moved, "position": 1})
    changes = diff(old, tree_of(document))
    assert [(c.op, c.id, c.parent, c.position) for c in changes] == [("move", "item:116", "module:12", 0)]


def test_the_same_course_twice_is_no_change(document):
    assert diff(tree_of(document), tree_of(biology())) == []
