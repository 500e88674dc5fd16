from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson

from eduvault.cli.base import Command as BaseCommand
from eduvault.kernel.errors import InvalidInput

PHASES = {
    "fetch": "fetching the course from the source",
    "normalize": "normalizing the structure",
    "diff": "comparing with the stored tree",
    "apply": "applying the changes",
}


class Command(BaseCommand):
    help = "Synchronize a course (its structure, and its enrollments where the platform has them) from a registered source, or from a saved Blocks API response."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("platform", metavar="PLATFORM", help="the source's platform, e.g. openedx")
        parser.add_argument(
            "course_key",
            metavar="COURSE",
            help="the course as the platform names it: course-v1:Org+Num+Run (Open edX), a course id (Canvas)",
        )
        where = parser.add_mutually_exclusive_group()
        where.add_argument(
            "--source", metavar="NAME", help="the registered source to read from (default: the only one)"
        )
        where.add_argument(
            "--blocks-file", metavar="FILE", help="a saved Course Blocks API response to apply"
        )

    def handle(
        self, *, platform: str, course_key: str, source: str | None, blocks_file: str | None, **options: Any
    ) -> None:
        from eduvault.integrations.base import integration_class, integration_for
        from eduvault.pipeline.sync.models import SyncRun
        from eduvault.pipeline.sync.render import run_line
        from eduvault.pipeline.sync.services import course_sync, course_sync_blocks

        integration_class(platform)  # a platform Edu Vault knows, or a clear error
        with self.err.status("starting", spinner="dots") as status:

            def on_phase(phase: str) -> None:
                status.update(PHASES.get(phase, phase))

            if blocks_file:
                run = course_sync_blocks(
                    course_key=course_key,
                    blocks=_read_json(blocks_file),
                    platform=platform,
                    actor="cli",
                    detail={"file": str(Path(blocks_file).resolve())},
                    on_phase=on_phase,
                )
            else:
                picked = _pick_source(platform, source)
                run = course_sync(
                    course_key=integration_for(picked).course_key(course_key),
                    source=picked,
                    actor="cli",
                    trigger=SyncRun.Trigger.CLI,
                    on_phase=on_phase,
                )
        self.console.print(run_line(run))


def _pick_source(platform: str, name: str | None) -> Any:
    from eduvault.integrations.models import Source
    from eduvault.integrations.services import source_get

    if name:
        source = source_get(name=name)
        if source.platform != platform:
            raise InvalidInput(f"source {name!r} is a {source.platform} source, not {platform}")
        return source
    sources = list(Source.objects.filter(platform=platform, enabled=True))
    if len(sources) == 1:
        return sources[0]
    if not sources:
        raise InvalidInput(
            f"no {platform} source is registered (and enabled); add one with 'eduvault source add {platform} NAME …' "
            "or pass --blocks-file"
        )
    names = ", ".join(s.name for s in sources)
    raise InvalidInput(f"several {platform} sources are registered ({names}); choose one with --source")


def _read_json(path: str) -> Any:
    try:
        return orjson.loads(Path(path).read_bytes())
    except OSError as exc:
        raise InvalidInput(f"{path}: {exc.strerror.lower() if exc.strerror else exc}") from None
    except orjson.JSONDecodeError as exc:
        raise InvalidInput(f"{path}: not valid JSON ({exc})") from None
