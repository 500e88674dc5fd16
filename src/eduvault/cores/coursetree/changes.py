"""Changes: the unit of difference between two course trees, as plain data.

A change set is an ordered list of :class:`Change`. Positions are *final* indices among
the new siblings; a sibling that does not move keeps its place relative to the other
siblings that do not move. This is what makes a change set minimal (moving one node among
a hundred siblings is one change) and order-independent within a parent.

Every change carries what is needed to undo it (old fields, old place, and for a delete the
whole removed subtree), so the inverse of a change set is computed from the change set
alone (:func:`eduvault.cores.coursetree.patch.invert`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

Op = Literal["create", "update", "move", "delete"]
OPS: tuple[Op, ...] = ("create", "update", "move", "delete")


@dataclass(slots=True)
class Change:
    op: Op
    id: str
    kind: str
    #: create/move: the new parent and the final 0-based index among the new siblings.
    parent: str | None = None
    position: int | None = None
    #: create: every field; update: the new value of each changed field (absent = unset).
    fields: dict[str, Any] = field(default_factory=dict)
    #: update: the old value of each changed field (absent = was unset); delete: the old fields.
    old_fields: dict[str, Any] = field(default_factory=dict)
    #: move/delete: where the node was.
    old_parent: str | None = None
    old_position: int | None = None
    #: delete: the nodes removed with it, in preorder: (id, kind, parent, position, fields).
    subtree: list[tuple[str, str, str, int, dict[str, Any]]] = field(default_factory=list)

    def changed_fields(self) -> dict[str, tuple[Any, Any]]:
        """update: {name: (old, new)}, with None for a side where the field is unset."""
        names = list(self.old_fields)
        names += [n for n in self.fields if n not in self.old_fields]
        return {n: (self.old_fields.get(n), self.fields.get(n)) for n in names}

    def to_line(self) -> dict[str, Any]:
        """The public JSON-lines shape (``eduvault diff``)."""
        line: dict[str, Any] = {"op": self.op, "kind": self.kind, "id": self.id}
        if self.op in ("create", "move"):
            line["parent"] = self.parent
            line["position"] = self.position
        if self.op == "create":
            line["fields"] = self.fields
        elif self.op == "update":
            line["fields"] = {n: [old, new] for n, (old, new) in self.changed_fields().items()}
        return line

    # -- storage: before/after states --------------------------------------------------

    def before(self) -> dict[str, Any] | None:
        if self.op == "create":
            return None
        if self.op == "update":
            return {"fields": self.old_fields}
        if self.op == "move":
            return {"parent": self.old_parent, "position": self.old_position}
        return {
            "parent": self.old_parent,
            "position": self.old_position,
            "fields": self.old_fields,
            "subtree": [list(entry) for entry in self.subtree],
        }

    def after(self) -> dict[str, Any] | None:
        if self.op == "create":
            return {"parent": self.parent, "position": self.position, "fields": self.fields}
        if self.op == "update":
            return {"fields": self.fields}
        if self.op == "move":
            return {"parent": self.parent, "position": self.position}
        return None

    @classmethod
    def from_states(
        cls, op: Op, id: str, kind: str, before: dict[str, Any] | None, after: dict[str, Any] | None
    ) -> Change:
        """Rebuild a change from its stored before/after states (the inverse of before()/after())."""
        before = before or {}
        after = after or {}
        if op == "update":
            return cls(op, id, kind, fields=after["fields"], old_fields=before["fields"])
        return cls(
            op,
            id,
            kind,
            parent=after.get("parent"),
            position=after.get("position"),
            fields=after.get("fields", {}),
            old_fields=before.get("fields", {}),
            old_parent=before.get("parent"),
            old_position=before.get("position"),
            subtree=[tuple(entry) for entry in before.get("subtree", [])],  # type: ignore[misc]
        )


def summarize(changes: list[Change]) -> dict[str, dict[str, int]]:
    """Counts by operation, then by kind: {"create": {"unit": 3}, ...}."""
    out: dict[str, dict[str, int]] = {}
    for ch in changes:
        by_kind = out.setdefault(ch.op, {})
        by_kind[ch.kind] = by_kind.get(ch.kind, 0) + 1
    return out


def count_ops(changes: list[Change]) -> dict[str, int]:
    counts: dict[str, int] = dict.fromkeys(OPS, 0)
    for ch in changes:
        counts[ch.op] += 1
    return counts
