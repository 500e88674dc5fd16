"""``ordering``: put the items in order (they are listed in the correct order)."""

from __future__ import annotations

import random
from typing import Annotated, Any, Literal

from pydantic import Field

from eduvault.cores.grading.base import Grade, Grader, Spec, duplicate_ids, register
from eduvault.cores.grading.fields import Id, Text, describe, listing
from eduvault.kernel.errors import InvalidAnswer


class Item(Spec):
    id: Id
    text: Text


class OrderingBody(Spec):
    items: Annotated[list[Item], Field(min_length=2, max_length=50, description="In the correct order.")]
    scoring: Literal["all_or_nothing", "position"] = Field(
        "all_or_nothing", description="'position': the fraction of items in their correct position."
    )


@register
class OrderingGrader(Grader[OrderingBody]):
    type = "ordering"
    Body = OrderingBody
    answer_schema = {"type": "array", "items": {"type": "string"}, "description": "The item ids in the order chosen."}
    answer_example = ["c", "a", "b"]

    def validate(self, body: OrderingBody) -> list[str]:
        return duplicate_ids((f"items[{i}].id", item.id) for i, item in enumerate(body.items))

    def check_answer(self, body: OrderingBody, answer: Any) -> list[str]:
        ids = [item.id for item in body.items]
        if not isinstance(answer, list):
            raise InvalidAnswer(f"the answer must be a list of the item ids in order, got {describe(answer)}")
        if len(answer) > 2 * len(ids):
            raise InvalidAnswer(f"the answer lists {len(answer)} ids but there are only {len(ids)} items")
        strange = [describe(x) for x in answer if not isinstance(x, str)]
        if strange:
            raise InvalidAnswer(
                f"the answer must be a list of item ids (strings), got {listing(strange, 5)} in it"
            )
        if sorted(answer) == sorted(ids):
            return list(answer)
        known = set(ids)
        missing = [i for i in ids if i not in answer]
        unknown = [describe(x) for x in dict.fromkeys(answer) if x not in known]
        duplicated = [x for x in dict.fromkeys(answer) if x in known and answer.count(x) > 1]
        what = []
        if missing:
            what.append(f"missing {listing(missing)}")
        if unknown:
            what.append(f"unknown {listing(unknown)}")
        if duplicated:
            what.append(f"duplicated {listing(duplicated)}")
        raise InvalidAnswer(f"the answer must list every item exactly once: {'; '.join(what)}")

    def grade(self, body: OrderingBody, answer: list[str]) -> Grade:
        in_place = sum(item.id == given for item, given in zip(body.items, answer))
        n = len(body.items)
        score = (in_place / n) if body.scoring == "position" else float(in_place == n)
        return Grade(score=score, correct=in_place == n)

    def present(self, body: OrderingBody, rng: random.Random, shuffle: bool) -> dict[str, Any]:
        """The items always shuffled (their given order is the answer), never in the correct order."""
        view = [{"id": item.id, "text": item.text} for item in body.items]
        rng.shuffle(view)
        if [v["id"] for v in view] == [item.id for item in body.items]:
            view = view[1:] + view[:1]
        return {"items": view}

    def solution(self, body: OrderingBody) -> list[str]:
        return [item.id for item in body.items]
