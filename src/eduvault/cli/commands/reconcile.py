from __future__ import annotations

from typing import Any

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from eduvault.cli.base import Command as BaseCommand
from eduvault.cli.base import Failed


class Command(BaseCommand):
    help = "Sync every course of every source (or one source): the safety net for lost events."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--source", metavar="NAME", help="only this source (default: every enabled source)"
        )

    def handle(self, *, source: str | None, **options: Any) -> None:
        from eduvault.integrations.models import Source
        from eduvault.integrations.services import source_get
        from eduvault.pipeline.sync.services import sources_reconcile

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
        self.say(
            f"reconciled {counts['courses']} course(s) from {len(sources)} source(s): {counts['applied']} applied, "
            f"{counts['unchanged']} unchanged, {counts['failed']} failed"
        )
        for failure in failures:
            self.err.print(f"  failed: {failure}", markup=False)
        if counts["failed"]:
            raise Failed(f"{counts['failed']} course(s) could not be reconciled")
