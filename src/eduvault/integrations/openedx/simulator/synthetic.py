"""Synthetic courses of any size, and a realistic mix of author edits, for benchmarks and
load tests."""

from __future__ import annotations

import math
import random
from typing import Any

from eduvault.integrations.openedx.simulator.course import SimulatedCourse

COMPONENT_TYPES = ("problem", "html", "video", "problem", "discussion")


def synthetic_course(blocks: int, *, seed: int = 1, run: str = "2026_T1") -> SimulatedCourse:
    """A course of about ``blocks`` blocks: chapters > subsections > units > components,
    with graded subsections, due dates and problem weights."""
    rng = random.Random(seed)
    course = SimulatedCourse(
        "EduVault", f"SYN{blocks}", run, f"Synthetic course of {blocks} blocks", start="2026-01-05T08:00:00Z"
    )
    # Branching: about 10 components per unit, 5 units per subsection, the rest split evenly.
    units = max(1, blocks // 11)
    sequentials = max(1, units // 5)
    chapters = max(1, round(math.sqrt(sequentials / 2)))
    made = 1
    chapter_keys = [
        course.add(course.root, "chapter", f"Chapter {c + 1}", block_id=f"ch{c}") for c in range(chapters)
    ]
    made += chapters
    seq_keys = []
    settings: dict[str, Any]
    for s in range(sequentials):
        graded = s % 3 == 0
        settings = (
            {"graded": True, "format": "Homework", "due": f"2026-{1 + s % 12:02d}-28T23:59:00Z"}
            if graded
            else {}
        )
        seq_keys.append(
            course.add(
                chapter_keys[s % chapters],
                "sequential",
                f"Subsection {s + 1}",
                block_id=f"seq{s}",
                **settings,
            )
        )
    made += sequentials
    unit_keys = []
    for u in range(units):
        unit_keys.append(course.add(seq_keys[u % sequentials], "vertical", f"Unit {u + 1}", block_id=f"v{u}"))
    made += units
    i = 0
    while made < blocks:
        block_type = COMPONENT_TYPES[rng.randrange(len(COMPONENT_TYPES))]
        settings = {"weight": float(rng.randint(1, 5))} if block_type == "problem" else {}
        course.add(
            unit_keys[i % units], block_type, f"{block_type.title()} {i + 1}", block_id=f"c{i}", **settings
        )
        i += 1
        made += 1
    return course


def author_edits(course: SimulatedCourse, *, seed: int = 2, rate: float = 0.01) -> SimulatedCourse:
    """A copy of ``course`` after ``rate`` renames, ``rate`` moves across parents, one
    deleted subsection and one added subsection with units and problems."""
    rng = random.Random(seed)
    edited = course.copy()
    keys = [k for k in edited.blocks if k != edited.root]
    n = max(1, int(len(keys) * rate))
    for key in rng.sample(keys, n):
        edited.rename(key, edited.blocks[key].display_name + " (revised)")
    by_type: dict[str, list[str]] = {}
    for key, block in edited.blocks.items():
        by_type.setdefault(block.block_type, []).append(key)
    containers = {"vertical": "sequential", "sequential": "chapter", "chapter": "course"}
    doomed = rng.choice(by_type["sequential"])
    doomed_set = set(edited.subtree(doomed))
    movable = [k for k in keys if k not in doomed_set]
    moved = 0
    for key in rng.sample(movable, min(len(movable), n * 3)):
        if moved == n:
            break
        block_type = edited.blocks[key].block_type
        parent_type = containers.get(block_type, "vertical")
        candidates = by_type.get(parent_type, [])
        if not candidates:
            continue
        new_parent = rng.choice(candidates)
        if new_parent == edited.parent_of(key) or new_parent in doomed_set:
            continue
        siblings = edited.blocks[new_parent].children
        edited.move(key, new_parent, rng.randint(0, len(siblings)))
        moved += 1
    edited.delete(doomed)
    chapter = rng.choice(by_type["chapter"])
    new = f"new{seed}"
    seq = edited.add(
        chapter,
        "sequential",
        "New subsection",
        block_id=f"{new}-seq",
        graded=True,
        format="Quiz",
        due="2026-12-01T23:59:00Z",
    )
    for u in range(5):
        unit = edited.add(seq, "vertical", f"New unit {u + 1}", block_id=f"{new}-v{u}")
        for p in range(10):
            edited.add(
                unit, "problem", f"New problem {u + 1}.{p + 1}", block_id=f"{new}-p{u}-{p}", weight=1.0
            )
    edited.publish()
    return edited
