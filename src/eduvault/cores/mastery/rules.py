"""Mastery rules: when does a learner count as having mastered a skill?

Each rule is a small frozen dataclass registered under a name and built from a JSON spec
such as ``{"rule": "m_of_n", "m": 3, "n": 5}``. A rule decides from the learner's current
BKT estimate ``p_known`` and ``recent``, the learner's most recent outcomes on the skill
(oldest first). ``window`` says how many of those the caller must keep: 0 for a rule that
looks only at ``p_known``. Adding a rule is one registration::

    @register("first_try")
    @dataclass(frozen=True)
    class FirstTry(Rule):
        ...

and nothing else changes.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, TypeVar

from eduvault.kernel.errors import InvalidInput

#: The most recent outcomes a count-based rule may look at.
MAX_WINDOW = 100


class Rule:
    """A mastery rule (see the module docstring); subclasses are frozen dataclasses."""

    #: The registry key, set by :func:`register`.
    name: ClassVar[str] = ""

    @property
    def window(self) -> int:
        """How many most recent outcomes :meth:`mastered` needs in ``recent``."""
        raise NotImplementedError

    @classmethod
    def from_spec(cls, spec: Mapping[str, Any]) -> Rule:
        """Build the rule from its spec (the ``rule`` key may be present), validating it."""
        raise NotImplementedError

    def to_spec(self) -> dict[str, Any]:
        """The JSON spec :func:`rule_from_spec` turns back into this rule."""
        raise NotImplementedError

    def mastered(self, *, p_known: float, recent: Sequence[bool]) -> bool:
        """Whether the skill counts as mastered; ``recent`` is oldest first, at most ``window`` long."""
        raise NotImplementedError


_RULES: dict[str, type[Rule]] = {}

R = TypeVar("R", bound=type[Rule])


def register(name: str) -> Callable[[R], R]:
    """Class decorator: register a rule under ``name`` (the spec's ``rule`` value)."""

    def decorate(cls: R) -> R:
        if name in _RULES:
            raise ValueError(f"a mastery rule named {name!r} is already registered")
        cls.name = name
        _RULES[name] = cls
        return cls

    return decorate


def rule_names() -> list[str]:
    """The registered rules' names, sorted."""
    return sorted(_RULES)


def rule_from_spec(spec: Mapping[str, Any] | None) -> Rule:
    """The rule a spec describes; None is the ``bkt`` rule with its default threshold."""
    if spec is None:
        return BktThreshold()
    if not isinstance(spec, Mapping):
        raise InvalidInput(f"a mastery rule must be an object, got {type(spec).__name__}", field="rule")
    name = spec.get("rule")
    if name is None:
        raise InvalidInput(f"a mastery rule needs 'rule', one of: {', '.join(rule_names())}", field="rule")
    cls = _RULES.get(name) if isinstance(name, str) else None
    if cls is None:
        raise InvalidInput(
            f"unknown mastery rule {name!r}; known rules: {', '.join(rule_names())}", field="rule"
        )
    return cls.from_spec(spec)


# -- validation helpers -------------------------------------------------------------------


def _check_fields(rule: str, spec: Mapping[str, Any], allowed: Sequence[str]) -> None:
    for key in spec:
        if key != "rule" and key not in allowed:
            expected = ", ".join(allowed) or "no other fields"
            raise InvalidInput(
                f"unknown field {key!r} for mastery rule {rule!r} (expected {expected})", field=str(key)
            )


def _int_field(rule: str, spec: Mapping[str, Any], name: str, low: int, high: int) -> int:
    if name not in spec:
        raise InvalidInput(f"mastery rule {rule!r} needs {name}", field=name)
    value = spec[name]
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise InvalidInput(f"{name} must be an integer, got {value!r}", field=name)
    number = int(value)
    if not low <= number <= high:
        raise InvalidInput(f"{name} must be between {low} and {high}, got {value!r}", field=name)
    return number


# -- the rules ------------------------------------------------------------------------------


@register("bkt")
@dataclass(frozen=True)
class BktThreshold(Rule):
    """Mastered when the BKT estimate P(known) reaches ``threshold`` (in (0, 1])."""

    threshold: float = 0.95

    def __post_init__(self) -> None:
        value = self.threshold
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            raise InvalidInput(f"threshold must be a number, got {value!r}", field="threshold")
        number = float(value)
        if not math.isfinite(number) or not 0.0 < number <= 1.0:
            raise InvalidInput(
                f"threshold must be greater than 0 and at most 1, got {value!r}", field="threshold"
            )
        object.__setattr__(self, "threshold", number)

    @property
    def window(self) -> int:
        return 0

    @classmethod
    def from_spec(cls, spec: Mapping[str, Any]) -> BktThreshold:
        _check_fields("bkt", spec, ("threshold",))
        return cls(threshold=spec.get("threshold", 0.95))

    def to_spec(self) -> dict[str, Any]:
        return {"rule": self.name, "threshold": self.threshold}

    def mastered(self, *, p_known: float, recent: Sequence[bool]) -> bool:
        return p_known >= self.threshold


@register("m_of_n")
@dataclass(frozen=True)
class MOfN(Rule):
    """Kolibri's "m of n": at least ``m`` correct among the last ``n`` answers (1 ≤ m ≤ n ≤ 100)."""

    m: int
    n: int

    def __post_init__(self) -> None:
        n = _int_field("m_of_n", {"n": self.n}, "n", 1, MAX_WINDOW)
        m = _int_field("m_of_n", {"m": self.m}, "m", 1, MAX_WINDOW)
        if m > n:
            raise InvalidInput(f"m must not exceed n, got m={m} and n={n}", field="m")
        object.__setattr__(self, "m", m)
        object.__setattr__(self, "n", n)

    @property
    def window(self) -> int:
        return self.n

    @classmethod
    def from_spec(cls, spec: Mapping[str, Any]) -> MOfN:
        _check_fields("m_of_n", spec, ("m", "n"))
        n = _int_field("m_of_n", spec, "n", 1, MAX_WINDOW)
        m = _int_field("m_of_n", spec, "m", 1, MAX_WINDOW)
        return cls(m=m, n=n)

    def to_spec(self) -> dict[str, Any]:
        return {"rule": self.name, "m": self.m, "n": self.n}

    def mastered(self, *, p_known: float, recent: Sequence[bool]) -> bool:
        return sum(1 for outcome in recent[-self.n :] if outcome) >= self.m


@register("streak")
@dataclass(frozen=True)
class Streak(Rule):
    """Kolibri's "n in a row": the last ``n`` answers all correct (1 ≤ n ≤ 100)."""

    n: int

    def __post_init__(self) -> None:
        object.__setattr__(self, "n", _int_field("streak", {"n": self.n}, "n", 1, MAX_WINDOW))

    @property
    def window(self) -> int:
        return self.n

    @classmethod
    def from_spec(cls, spec: Mapping[str, Any]) -> Streak:
        _check_fields("streak", spec, ("n",))
        return cls(n=_int_field("streak", spec, "n", 1, MAX_WINDOW))

    def to_spec(self) -> dict[str, Any]:
        return {"rule": self.name, "n": self.n}

    def mastered(self, *, p_known: float, recent: Sequence[bool]) -> bool:
        last = recent[-self.n :]
        return len(last) >= self.n and all(last)
