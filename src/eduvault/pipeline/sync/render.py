"""Change sets and runs, readable by people: for the CLI and the demo."""

from __future__ import annotations

from pathlib import PurePath
from typing import Any

from rich.table import Table
from rich.text import Text

from eduvault.cores.coursetree import Change, CourseTree
from eduvault.pipeline.sync.models import SyncRun

OP_STYLE = {"create": "green", "update": "yellow", "move": "cyan", "delete": "red"}
OUTCOME_STYLE = {"applied": "green", "unchanged": "dim", "failed": "bold red"}


def _title(tree: CourseTree | None, node_id: str | None, fallback: str = "") -> str:
    if node_id is None:
        return "(root)"
    if tree is not None and node_id in tree:
        return tree[node_id].title or node_id
    return fallback or node_id


def _value(value: Any) -> str:
    return "—" if value is None else str(value)


def describe(change: Change, old: CourseTree | None, new: CourseTree | None) -> Text:
    """One line saying what a change did, in the course's own words (titles, not ids)."""
    text = Text()
    if change.op == "create":
        text.append(f"added {change.kind} ")
        text.append(repr(change.fields.get("title", "")), style="bold")
        text.append(f" under {_title(new, change.parent)!r} at position {change.position}")
    elif change.op == "update":
        text.append(f"changed {change.kind} ")
        text.append(repr(_title(new, change.id)), style="bold")
        text.append(": ")
        parts = [
            f"{name} {_value(old_value)} → {_value(new_value)}"
            for name, (old_value, new_value) in change.changed_fields().items()
        ]
        text.append("; ".join(parts))
    elif change.op == "move":
        text.append(f"moved {change.kind} ")
        text.append(repr(_title(new, change.id)), style="bold")
        if change.old_parent == change.parent:
            text.append(
                f" within {_title(new, change.parent)!r} from position {change.old_position} to {change.position}"
            )
        else:
            text.append(
                f" from {_title(old, change.old_parent)!r} (position {change.old_position}) "
                f"to {_title(new, change.parent)!r} (position {change.position})"
            )
    else:
        removed = len(change.subtree)
        text.append(f"deleted {change.kind} ")
        text.append(repr(change.old_fields.get("title", "")), style="bold")
        text.append(f" from {_title(old, change.old_parent)!r}")
        if removed:
            text.append(f" with the {removed} node{'s' * (removed != 1)} inside it")
    return text


def change_table(
    changes: list[Change], old: CourseTree | None, new: CourseTree | None, *, limit: int = 40
) -> Table:
    table = Table(show_header=True, header_style="bold", box=None, pad_edge=False)
    table.add_column("op", no_wrap=True)
    table.add_column("what happened", overflow="fold")
    for change in changes[:limit]:
        table.add_row(Text(change.op, style=OP_STYLE[change.op]), describe(change, old, new))
    if len(changes) > limit:
        table.add_row("…", Text(f"and {len(changes) - limit} more", style="dim"))
    return table


def counts_text(counts: dict[str, int]) -> str:
    words = {"create": "created", "update": "updated", "move": "moved", "delete": "deleted"}
    return ", ".join(f"{counts[op]} {words[op]}" for op in words)


def run_line(run: SyncRun) -> Text:
    """``applied course-v1:… version 3 → 4: 2 created, … (run 17, 45 ms)``"""
    text = Text()
    text.append(run.outcome, style=OUTCOME_STYLE.get(run.outcome, ""))
    text.append(f" {run.course_key}")
    if run.outcome == SyncRun.Outcome.APPLIED:
        text.append(f" version {run.version_before} → {run.version_after}: {counts_text(run.counts)}")
    elif run.outcome == SyncRun.Outcome.UNCHANGED:
        text.append(f" at version {run.version_after}: nothing to apply")
    else:
        text.append(f": {run.error}")
    text.append(f" (run {run.pk}, {run.duration_ms} ms)", style="dim")
    return text


def history_table(runs: list[SyncRun]) -> Table:
    table = Table(header_style="bold")
    for name, justify in (
        ("run", "right"),
        ("version", "right"),
        ("outcome", "left"),
        ("trigger", "left"),
        ("changes (+ ~ ↕ −)", "right"),
        ("ms", "right"),
        ("started (UTC)", "left"),
        ("detail", "left"),
    ):
        table.add_column(name, justify=justify, no_wrap=name != "detail")  # type: ignore[arg-type]
    for run in runs:
        version = (
            f"{run.version_before}→{run.version_after}"
            if run.outcome == SyncRun.Outcome.APPLIED
            else _value(run.version_after)
        )
        detail = run.error if run.outcome == SyncRun.Outcome.FAILED else trigger_summary(run)
        changes = f"+{run.creates} ~{run.updates} ↕{run.moves} −{run.deletes}"
        table.add_row(
            str(run.pk),
            version,
            Text(run.outcome, style=OUTCOME_STYLE.get(run.outcome, "")),
            run.trigger,
            changes,
            str(run.duration_ms),
            run.started_at.strftime("%Y-%m-%d %H:%M:%S"),
            Text(detail, overflow="fold"),
        )
    return table


def trigger_summary(run: SyncRun) -> str:
    """What started a run, in a few words: ``49 events``, ``file course.json``, ``back to
    version 3``, the demo's edit."""
    detail = run.trigger_detail or {}
    if "count" in detail or "events" in detail:
        n = int(detail.get("count") or len(detail.get("events") or ()))
        return f"{n} event{'s' * (n != 1)}"
    if "file" in detail:
        return f"file {PurePath(str(detail['file'])).name}"
    if "to_version" in detail:
        return f"back to version {detail['to_version']}"
    if "edit" in detail:
        return str(detail["edit"])
    return ", ".join(f"{k}={v}" for k, v in detail.items())


def run_data(run: SyncRun) -> dict[str, Any]:
    """A run as plain data (the command line's ``--json``)."""
    return {
        "run": run.pk,
        "course": run.course_key,
        "outcome": run.outcome,
        "trigger": run.trigger,
        "trigger_summary": trigger_summary(run),
        "actor": run.actor,
        "version_before": run.version_before,
        "version_after": run.version_after,
        "counts": run.counts,
        "error": run.error,
        "started_at": run.started_at.isoformat(),
        "duration_ms": run.duration_ms,
    }
