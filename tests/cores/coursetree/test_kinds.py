"""Kinds are extended by registering a handler; the engine does not change."""

from __future__ import annotations

import pytest

from eduvault.cores.coursetree import diff
from eduvault.cores.coursetree.kinds import _REGISTRY, KindHandler, is_number, register
from eduvault.kernel.errors import InvalidStructure

from .strategies import build


@pytest.fixture
def quiz_kind():
    @register("quiz")
    class QuizHandler(KindHandler):
        fields = {"title": str, "time_limit": int, "pass_mark": is_number}
        required = ("title", "time_limit")

    yield
    del _REGISTRY["quiz"]


def spec(**quiz):
    return {
        "r": ("course", {"title": "Course"}, ["t"]),
        "t": ("topic", {"title": "Topic"}, ["q"]),
        "q": ("quiz", {"title": "Quiz", **quiz}, []),
    }


def test_a_registered_kind_is_compared_on_its_own_fields(quiz_kind):
    before = build("r", spec(time_limit=30, pass_mark=0.5))
    after = build("r", spec(time_limit=45, pass_mark=0.5))
    assert [c.to_line() for c in diff(before, after)] == [
        {"op": "update", "kind": "quiz", "id": "q", "fields": {"time_limit": [30, 45]}}
    ]


def test_a_registered_kind_validates_its_nodes(quiz_kind):
    with pytest.raises(InvalidStructure, match="quiz 'q' has no time_limit"):
        build("r", spec())
    with pytest.raises(InvalidStructure, match="quiz 'q': time_limit must be an integer, not True"):
        build("r", spec(time_limit=True))
    with pytest.raises(InvalidStructure, match="quiz 'q' has field 'due', which quiz nodes do not have"):
        build("r", spec(time_limit=5, due="2026-01-01T00:00:00Z"))


def test_an_unregistered_kind_is_rejected():
    with pytest.raises(InvalidStructure, match="no handler is registered for kind 'quiz'"):
        build("r", spec(time_limit=30))
