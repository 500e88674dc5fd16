from __future__ import annotations

import os
import signal
import socket
import threading
from typing import Any

from eduvault.cli.base import Command as BaseCommand
from eduvault.kernel.errors import InvalidInput


class Command(BaseCommand):
    service = True
    help = "Consume the Open edX event bus (Redis Streams) into the inbox, acknowledging only what is stored."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--topic",
            action="append",
            required=True,
            metavar="TOPIC",
            help="a bus topic, e.g. course-authoring-xblock-lifecycle (repeat for several)",
        )
        parser.add_argument(
            "--source", metavar="NAME", help="the Open edX source the bus belongs to (default: the only one)"
        )
        parser.add_argument(
            "--redis-url",
            default=os.environ.get("EVENT_BUS_REDIS_CONNECTION_URL", "redis://127.0.0.1:6379/0"),
            help="the bus's Redis (default: $EVENT_BUS_REDIS_CONNECTION_URL or redis://127.0.0.1:6379/0)",
        )
        parser.add_argument(
            "--prefix",
            default=os.environ.get("EVENT_BUS_TOPIC_PREFIX", ""),
            help="the platform's EVENT_BUS_TOPIC_PREFIX, if it sets one (streams are <prefix>-<topic>)",
        )
        parser.add_argument("--group", default="eduvault", help="the consumer group (default eduvault)")
        parser.add_argument(
            "--consumer", default=f"{socket.gethostname()}-{os.getpid()}", help="this consumer's name"
        )
        parser.add_argument("--once", action="store_true", help="exit when no message is waiting")

    def handle(
        self,
        *,
        topic: list[str],
        source: str | None,
        redis_url: str,
        prefix: str,
        group: str,
        consumer: str,
        once: bool,
        **options: Any,
    ) -> None:
        from eduvault.integrations.models import Source
        from eduvault.integrations.openedx.bus import consume
        from eduvault.integrations.services import source_get
        from eduvault.pipeline.inbox.models import InboundEvent
        from eduvault.pipeline.inbox.services import arrival_store

        if source:
            chosen = source_get(name=source)
        else:
            sources = list(Source.objects.filter(platform="openedx"))
            if len(sources) != 1:
                raise InvalidInput("choose the Open edX source this bus belongs to with --source")
            chosen = sources[0]
        streams = [f"{prefix}-{t}" if prefix else t for t in topic]
        stop = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        self.err.print(
            f"consuming {', '.join(streams)} as {group}/{consumer} for source {chosen.name!r}", markup=False
        )
        try:
            stats = consume(
                redis_url=redis_url,
                source=chosen,
                topics=streams,
                group=group,
                consumer=consumer,
                once=once,
                store=lambda arrival: arrival_store(source=chosen, arrival=arrival, via=InboundEvent.Via.BUS)[
                    1
                ],
                should_stop=stop.is_set,
            )
        except KeyboardInterrupt:
            return
        self.say(", ".join(f"{n} {k}" for k, n in stats.items()))
