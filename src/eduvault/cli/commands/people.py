from __future__ import annotations

from typing import Any

from rich.table import Table
from rich.text import Text

from eduvault.cli.base import Command as BaseCommand
from eduvault.cli.base import json_flag


class Command(BaseCommand):
    """People and their identities on every platform. Identities are matched to people by the
    policies' rules (SIS id, then login, then a verified email; never a name); one that
    matches nobody, or several people, is held here for an operator to link. Every link,
    unlink and merge is audited and can be undone."""

    help = "People and their identities: list, show, link held identities, unlink, merge, undo."

    def add_arguments(self, parser: Any) -> None:
        actions = parser.add_subparsers(
            dest="action", required=True, metavar="{list,show,held,link,unlink,new,merge,undo,history}"
        )
        listing = actions.add_parser("list", help="people", description="List people.")
        listing.add_argument("--search", metavar="TEXT", help="a name, SIS id, login or username")
        json_flag(listing)
        show = actions.add_parser(
            "show", help="one person, their identities and enrollments", description="Show a person."
        )
        show.add_argument("id", type=int, metavar="PERSON_ID")
        held = actions.add_parser(
            "held", help="identities waiting for an operator", description="List held identities."
        )
        json_flag(held)
        link = actions.add_parser(
            "link", help="link an identity to a person", description="Link an identity."
        )
        link.add_argument("identity", type=int, metavar="IDENTITY_ID")
        link.add_argument("person", type=int, metavar="PERSON_ID")
        unlink = actions.add_parser(
            "unlink", help="unlink an identity (it is held)", description="Unlink an identity."
        )
        unlink.add_argument("identity", type=int, metavar="IDENTITY_ID")
        new = actions.add_parser(
            "new", help="a held identity is somebody new", description="Create a person for a held identity."
        )
        new.add_argument("identity", type=int, metavar="IDENTITY_ID")
        merge = actions.add_parser("merge", help="two people are one", description="Merge OTHER into INTO.")
        merge.add_argument("into", type=int, metavar="INTO")
        merge.add_argument("other", type=int, metavar="OTHER")
        undo = actions.add_parser(
            "undo", help="undo a link, unlink or merge", description="Undo an identity event."
        )
        undo.add_argument("event", type=int, metavar="EVENT_ID")
        history = actions.add_parser(
            "history", help="links, unlinks and merges", description="The identity audit."
        )
        history.add_argument("--person", type=int, metavar="PERSON_ID")
        json_flag(history)

    def handle(self, *, action: str, **options: Any) -> None:
        from eduvault.identity import people as identity_people
        from eduvault.pipeline.records import people, selectors

        if action == "list":
            rows = list(selectors.people_list(search=options["search"])[:500])
            if options["json"]:
                self.emit_json([selectors.person_data(p) for p in rows])
                return
            table = Table(header_style="bold")
            for column in ("id", "name", "username", "SIS id", "identities"):
                table.add_column(column)
            for p in rows:
                table.add_row(
                    str(p.pk),
                    p.name,
                    p.user.get_username() if p.user_id else "—",
                    p.sis_id or "—",
                    str(p.identity_count),
                )
            self.console.print(table)
        elif action == "show":
            person = selectors.person_get(person_id=options["id"])
            self.emit_json(
                {
                    **selectors.person_data(person),
                    "enrollments": [
                        selectors.enrollment_data(e) for e in selectors.enrollment_list(person=person.pk)
                    ],
                    "records": selectors.record_list(person=person.pk).count(),
                    "history": [
                        selectors.identity_event_data(e) for e in selectors.identity_events(person=person.pk)
                    ],
                }
            )
        elif action == "held":
            rows = list(selectors.identity_list(state="held")[:500])
            if options["json"]:
                self.emit_json([selectors.identity_data(i) for i in rows])
                return
            table = Table(header_style="bold")
            for column in ("id", "platform", "where", "login", "SIS id", "name", "why", "candidates"):
                table.add_column(column)
            for i in rows:
                table.add_row(
                    str(i.pk),
                    i.platform,
                    i.realm,
                    i.login or "—",
                    i.sis_id or "—",
                    i.name,
                    Text(i.held_reason, style="yellow"),
                    ", ".join(map(str, i.candidates)) or "—",
                )
            self.console.print(table)
        elif action == "link":
            event = people.identity_link(
                identity_id=options["identity"], person_id=options["person"], actor="cli"
            )
            self.say(
                f"linked identity {options['identity']} to person {options['person']} (event {event.pk})"
            )
        elif action == "unlink":
            event = identity_people.identity_unlink(identity_id=options["identity"], actor="cli")
            self.say(f"unlinked identity {options['identity']}; it is held (event {event.pk})")
        elif action == "new":
            event = people.identity_person_create(identity_id=options["identity"], actor="cli")
            self.say(
                f"created person {event.person_id} for identity {options['identity']} (event {event.pk})"
            )
        elif action == "merge":
            event = people.people_merge(into_id=options["into"], other_id=options["other"], actor="cli")
            self.say(
                f"merged person {options['other']} into {options['into']} (event {event.pk}; undo with 'eduvault people undo {event.pk}')"
            )
        elif action == "undo":
            event = people.identity_event_undo(event_id=options["event"], actor="cli")
            self.say(f"undone: event {options['event']} (by event {event.pk})")
        else:
            rows = selectors.identity_events(person=options["person"])
            if options["json"]:
                self.emit_json([selectors.identity_event_data(e) for e in rows])
                return
            table = Table(header_style="bold")
            for column in ("id", "when", "action", "identity", "person", "other", "why", "by", "undone by"):
                table.add_column(column)
            for e in rows:
                table.add_row(
                    str(e.pk),
                    f"{e.created_at:%Y-%m-%d %H:%M}",
                    e.action,
                    str(e.identity or "—"),
                    str(e.person_id or "—"),
                    str(e.other_id or "—"),
                    e.reason,
                    e.actor,
                    str(e.undone_by_id or "—"),
                )
            self.console.print(table)
