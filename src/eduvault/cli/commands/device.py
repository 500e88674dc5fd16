from __future__ import annotations

from typing import Any

from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeElapsedColumn, TransferSpeedColumn
from rich.table import Table

from eduvault.cli.base import Command as BaseCommand
from eduvault.cli.base import json_flag


def _size(n: int) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n:,.0f} {unit}" if unit == "B" else f"{n:,.1f} {unit}"
        n /= 1024  # type: ignore[assignment]
    return str(n)


class Command(BaseCommand):
    """Offline school devices. On the server: `device add` (prints a one-time pairing code as
    its last word), `device list`, `device revoke`. On a device (an Edu Vault of its own):
    `device join SERVER_URL CODE` once, then `device sync` whenever there is a connection
    (pull, then push; resumes where a cut left it), and `device status`."""

    help = "Pair offline school devices, sync them with the server, see what waits to go up."

    def add_arguments(self, parser: Any) -> None:
        actions = parser.add_subparsers(dest="action", required=True, metavar="{add,list,revoke,join,sync,status}")
        add = actions.add_parser("add", help="pair a new device (server)", description="Add a device for courses; prints its one-time pairing code last.")
        add.add_argument("name", metavar="NAME")
        add.add_argument("--course", action="append", required=True, metavar="COURSE_KEY", help="a course it carries (repeat for more)")
        listing = actions.add_parser("list", help="the devices (server)", description="List the paired devices.")
        json_flag(listing)
        revoke = actions.add_parser("revoke", help="refuse a device from now on (server)", description="Revoke a device: it may no longer sync.")
        revoke.add_argument("name", metavar="NAME")
        join = actions.add_parser("join", help="pair this device with a server (device)", description="Pair this Edu Vault with a server using the code `device add` printed there.")
        join.add_argument("server_url", metavar="SERVER_URL")
        join.add_argument("code", metavar="CODE")
        sync = actions.add_parser("sync", help="pull, then push (device)", description="Pull what the server has for this device, then push what was done here.")
        sync.add_argument("--timeout", type=float, default=60.0, metavar="SECONDS", help="give up on a silent connection after this long (default 60)")
        json_flag(sync)
        status = actions.add_parser("status", help="last sync and what waits to go up (device)", description="When this device last synced and what waits to go up.")
        json_flag(status)

    def handle(self, *, action: str, **options: Any) -> int | None:
        return getattr(self, f"_{action}")(options)

    def _add(self, options: dict[str, Any]) -> None:
        from eduvault.learning.devices import services

        added = services.device_add(name=options["name"], course_keys=options["course"], actor="cli")
        self.say(
            f"device {added.device.name!r} added for {len(options['course'])} course(s); on the device run "
            f"`eduvault device join SERVER_URL CODE` with this one-time code (valid 7 days, shown once): {added.code}"
        )

    def _list(self, options: dict[str, Any]) -> None:
        from eduvault.learning.devices.apis import device_data
        from eduvault.learning.devices.services import device_list

        devices = device_list()
        if options["json"]:
            self.emit_json([device_data(d) for d in devices])
            return
        table = Table(header_style="bold")
        for column in ("device", "courses", "paired", "last sync", "clock skew", "state"):
            table.add_column(column)
        for d in devices:
            table.add_row(
                d.name,
                ", ".join(sorted(c.key for c in d.courses.all())),
                f"{d.paired_at:%Y-%m-%d %H:%M}" if d.paired_at else "waiting for its code",
                f"{d.last_sync_at:%Y-%m-%d %H:%M}" if d.last_sync_at else "—",
                f"{d.clock_skew_seconds:+.0f} s" if d.clock_skew_seconds is not None else "—",
                "revoked" if d.revoked_at else "active",
            )
        self.console.print(table)

    def _revoke(self, options: dict[str, Any]) -> None:
        from eduvault.learning.devices.services import device_revoke

        device = device_revoke(name=options["name"], actor="cli")
        self.say(f"device {device.name!r} is revoked: it can no longer sync")

    def _join(self, options: dict[str, Any]) -> None:
        from eduvault.learning.devices.client import device_join

        row = device_join(server_url=options["server_url"], code=options["code"])
        self.say(f"paired with {row.server_url} as {row.device_name!r} for {', '.join(row.courses)}; run `eduvault device sync`")

    def _sync(self, options: dict[str, Any]) -> None:
        from eduvault.learning.devices.client import device_sync

        with Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            DownloadColumn(),
            TransferSpeedColumn(),
            TimeElapsedColumn(),
            console=self.err,
            transient=True,
        ) as bar:
            tasks: dict[str, Any] = {}

            def progress(stage: str, done: int, total: int) -> None:
                if stage not in tasks:
                    tasks[stage] = bar.add_task("pull from the server" if stage == "pull" else "push to the server", total=total or 1)
                bar.update(tasks[stage], completed=done if total else 1, total=total or 1)

            report = device_sync(progress=progress, timeout=options["timeout"])
        if options["json"]:
            self.emit_json(
                {
                    "pull": vars(report.pull),
                    "push": vars(report.push),
                    "seconds": round(report.seconds, 3),
                }
            )
            return
        for name, leg in (("pulled", report.pull), ("pushed", report.push)):
            resumed = " (resumed)" if leg.resumed else ""
            self.say(f"{name} {leg.records:,} records in {leg.chunks:,} chunks, {_size(leg.bytes)} on the wire{resumed}")
        self.say(f"synced in {report.seconds:.1f} s")

    def _status(self, options: dict[str, Any]) -> None:
        from eduvault.learning.devices.client import device_status

        status = device_status()
        if options["json"]:
            row = status.pairing
            self.emit_json(
                {
                    "paired": row is not None,
                    "server": row.server_url if row else None,
                    "device": row.device_name if row else None,
                    "last_sync_at": row.last_sync_at if row else None,
                    "last_outcome": row.last_outcome if row else None,
                    "waiting": status.waiting,
                    "open_sessions": [{"session": str(s.id), "direction": s.direction, "next_chunk": s.next_seq, "chunks": s.chunks} for s in status.open_sessions],
                }
            )
            return
        if status.pairing is None:
            self.say("not paired with a server: run `eduvault device join SERVER_URL CODE`")
            return
        row = status.pairing
        last = f"{row.last_sync_at:%Y-%m-%d %H:%M} UTC" if row.last_sync_at else "never"
        self.say(f"{row.device_name!r} of {row.server_url}; last sync {last}" + (f" ({row.last_outcome})" if row.last_outcome and row.last_outcome != "ok" else ""))
        waiting = ", ".join(f"{n:,} {kind}s" for kind, n in sorted(status.waiting.items())) or "nothing"
        self.say(f"waiting to go up: {waiting}")
        for s in status.open_sessions:
            self.say(f"an interrupted {s.direction} is resumed at the next sync (chunk {s.next_seq + 1} of {s.chunks})")
