"""Version vectors: one counter per replica (a platform source, Edu Vault itself, a device)
that changed a record, to tell whether one change has seen another.

A vector is a plain ``dict[str, int]``; a missing replica counts as 0. Platforms that keep no
counters of their own (Canvas, Discourse) count with their own clock: the change's source
time in milliseconds, which only ever goes up for one replica, so a later change of theirs
has a larger counter than an earlier one whatever order the two arrive in.

>>> compare({"a": 1}, {"a": 1, "b": 2})
'before'
>>> compare({"a": 2}, {"b": 1})
'concurrent'
>>> join({"a": 2}, {"a": 1, "b": 1})
{'a': 2, 'b': 1}
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Literal

Vector = Mapping[str, int]
Order = Literal["before", "after", "equal", "concurrent"]


def compare(a: Vector, b: Vector) -> Order:
    """How ``a`` stands to ``b``: ``before`` (b has seen all of a and more), ``after``,
    ``equal``, or ``concurrent`` (each has seen something the other has not)."""
    less = more = False
    for replica in a.keys() | b.keys():
        x, y = a.get(replica, 0), b.get(replica, 0)
        if x < y:
            less = True
        elif x > y:
            more = True
        if less and more:
            return "concurrent"
    if less:
        return "before"
    if more:
        return "after"
    return "equal"


def covers(a: Vector, b: Vector) -> bool:
    """``a`` has seen everything ``b`` has (a ≥ b, pointwise)."""
    return all(a.get(replica, 0) >= n for replica, n in b.items())


def join(*vectors: Vector) -> dict[str, int]:
    """The least vector that covers them all (pointwise maximum); zeros are left out."""
    out: dict[str, int] = {}
    for vector in vectors:
        for replica, n in vector.items():
            if n > out.get(replica, 0):
                out[replica] = n
    return dict(sorted(out.items()))


def join_all(vectors: Iterable[Vector]) -> dict[str, int]:
    return join(*vectors)


def bump(vector: Vector, replica: str, counter: int | None = None) -> dict[str, int]:
    """``vector`` with ``replica``'s counter advanced: to ``counter`` if given (a platform's
    clock; never backwards), else by one."""
    out = dict(vector)
    current = out.get(replica, 0)
    out[replica] = max(current + 1, counter) if counter is not None else current + 1
    return dict(sorted(out.items()))


def check(vector: object) -> dict[str, int]:
    """A vector read from storage or the wire, validated: replica names are non-empty text,
    counters whole numbers ≥ 0."""
    if not isinstance(vector, Mapping):
        raise ValueError("a version vector is an object of replica: counter")
    out: dict[str, int] = {}
    for replica, n in vector.items():
        if not isinstance(replica, str) or not replica or len(replica) > 200:
            raise ValueError(
                f"a version vector's replica names are text of 1 to 200 characters, not {replica!r}"
            )
        if isinstance(n, bool) or not isinstance(n, int) or n < 0 or n >= 2**63:
            raise ValueError(f"replica {replica!r} has counter {n!r}; counters are whole numbers ≥ 0")
        if n:
            out[replica] = n
    return dict(sorted(out.items()))
