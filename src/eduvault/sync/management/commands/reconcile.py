from __future__ import annotations

from typing import Any

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from eduvault.connectors.models import Source
from eduvault.connectors.services import source_get
from eduvault.core.commands import EduVaultCommand
from eduvault.sync.services import sources_reconcile


class Command(EduVaultCommand):
    help = "Sync every course of every source (or one source): the safety net for lost events."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--source", metavar="NAME", help="only this source (default: every enabled source)"
        )

    def handle(self, *args: Any, source: str | None, **options: Any) -> None:
        sources = [source_get(name=source)] if source else list(Source.objects.filter(enabled=True))
        failures: list[str] = []
        with Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=self.err,
            transient=True,
        ) as progress:
            task = progress.add_task("reconciling", total=None)

            def on_course(key: str, run: Any, error: Exception | None) -> None:
                progress.advance(task)
                progress.update(task, description=f"reconciling {key}")
                if error is not None:
                    failures.append(f"{key}: {getattr(error, 'detail', None) or error}")

            counts = sources_reconcile(sources=sources, on_course=on_course)
        self.console.print(
            f"reconciled {counts['courses']} course(s) from {len(sources)} source(s): {counts['applied']} applied, "
            f"{counts['unchanged']} unchanged, {counts['failed']} failed",
            markup=False,
        )
        for failure in failures:
            self.err.print(f"  failed: {failure}", markup=False)
        if counts["failed"]:
            from django.core.management.base import CommandError

            raise CommandError(f"{counts['failed']} course(s) could not be reconciled", returncode=1)
