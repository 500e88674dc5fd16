from __future__ import annotations

from typing import Any

from rich.table import Table

from eduvault.cli.base import Command as BaseCommand
from eduvault.cli.base import json_flag


class Command(BaseCommand):
    """A course's community on a Discourse forum: its category, a topic per node, a group of
    its learners, badges for completions, certificates and masteries."""

    help = "Link courses to Discourse communities kept in step with them, list them, unlink them."

    def add_arguments(self, parser: Any) -> None:
        actions = parser.add_subparsers(dest="action", required=True, metavar="{add,list,remove}")
        add = actions.add_parser(
            "add",
            help="link a course to a Discourse source",
            description="Link a course (of any source) to a Discourse source and bring its community in step now.",
        )
        add.add_argument("course_key", metavar="COURSE_KEY")
        add.add_argument("--discourse", required=True, metavar="NAME", help="the Discourse source")
        add.add_argument("--category", metavar="ID", help="an existing category (else one is made)")
        add.add_argument(
            "--topic-kind",
            default="subtopic",
            metavar="KIND",
            help="the course nodes that get a topic each (default: subtopic; a Canvas module is a topic)",
        )
        for cause in ("completion", "certificate", "mastery"):
            add.add_argument(f"--{cause}-badge", metavar="ID", help=f"the badge a {cause} earns")
        add.add_argument(
            "--participation-assignment",
            metavar="ID",
            help="an assignment of the course's own platform that counts each learner's forum posts as a grade",
        )
        add.add_argument(
            "--participation-posts",
            type=int,
            default=3,
            metavar="N",
            help="posts for full credit on that assignment (default: 3)",
        )
        listing = actions.add_parser("list", help="the communities", description="List communities.")
        listing.add_argument("--course", metavar="COURSE_KEY")
        listing.add_argument("--discourse", metavar="NAME")
        json_flag(listing)
        remove = actions.add_parser(
            "remove",
            help="unlink a course from its community",
            description="Stop keeping a community (what was made in the forum stays there).",
        )
        remove.add_argument("course_key", metavar="COURSE_KEY")
        remove.add_argument("--discourse", required=True, metavar="NAME")

    def handle(self, *, action: str, **options: Any) -> None:
        from eduvault.pipeline.communities import selectors, services

        if action == "add":
            community = services.community_add(
                course_key=options["course_key"],
                source_name=options["discourse"],
                category=options["category"],
                topic_kind=options["topic_kind"],
                completion_badge=options["completion_badge"],
                certificate_badge=options["certificate_badge"],
                mastery_badge=options["mastery_badge"],
                participation_assignment=options["participation_assignment"],
                participation_posts=options["participation_posts"],
                actor="cli",
            )
            self.say(
                f"{community.course.key} now has a community on {community.source.name}; "
                "its category, topics, group and badges are being brought in step"
            )
            return
        if action == "remove":
            services.community_remove(
                course_key=options["course_key"], source_name=options["discourse"], actor="cli"
            )
            self.say(f"{options['course_key']} no longer has a community on {options['discourse']}")
            return
        rows = list(selectors.community_list(course=options["course"], source=options["discourse"]))
        if options["json"]:
            self.emit_json([selectors.community_data(c) for c in rows])
            return
        table = Table(header_style="bold")
        for column in ("course", "discourse", "category", "topics", "members", "waiting", "badges", "last step"):
            table.add_column(column)
        for c in rows:
            table.add_row(
                c.course.key,
                c.source.name,
                c.place_id or "—",
                str(c.topic_count),
                str(c.member_count),
                str(len(c.waiting or [])),
                str(c.badge_count),
                f"{c.last_step_at:%Y-%m-%d %H:%M}" if c.last_step_at else "—",
            )
        self.console.print(table)
