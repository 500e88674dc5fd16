"""The priority classes of work and deliveries, most urgent first (the one list of them).

Critical: grades, certificates, exam results. High: completions, badges, submissions.
Background: forum posts, profiles, content edits. Each class has its own queue.
"""

from __future__ import annotations

PRIORITIES: tuple[str, ...] = ("critical", "high", "background")


def rank(priority: str) -> int:
    """Sort key: critical first; an unknown class after every known one."""
    try:
        return PRIORITIES.index(priority)
    except ValueError:
        return len(PRIORITIES)


def check_priority(priority: str) -> str:
    if priority not in PRIORITIES:
        raise ValueError(f"unknown priority class {priority!r}; the classes are {', '.join(PRIORITIES)}")
    return priority
