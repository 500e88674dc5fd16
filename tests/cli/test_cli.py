"""The command line, as users and the acceptance checks drive it: real processes."""

from __future__ import annotations

import json

import pytest

from tests.conftest import COURSE_KEY, run_cli, small_course


@pytest.fixture
def files(tmp_path):
    course = small_course()
    old = tmp_path / "old.json"
    old.write_text(json.dumps(course.blocks_response()))
    course.rename(course.usage_key("chapter", "geometry"), "Geometry & measures")
    course.move(course.usage_key("sequential", "circles"), course.usage_key("chapter", "algebra"), 1)
    course.delete(course.usage_key("vertical", "quad-u1"))
    course.add(course.usage_key("vertical", "quad-u0"), "video", "Worked example", block_id="vid", index=0)
    new = tmp_path / "new.json"
    new.write_text(json.dumps(course.blocks_response()))
    return course, str(old), str(new)


def key(course, block_type, block_id):
    return course.usage_key(block_type, block_id)


def test_diff_prints_json_lines_and_needs_no_database(files, tmp_path):
    course, old, new = files
    env = {
        "PATH": "/usr/bin:/bin",
        "EDUVAULT_DATA_DIR": str(tmp_path / "data"),
        "DATABASE_URL": "postgres://nobody@127.0.0.1:1/none",
    }
    result = run_cli("diff", old, new, env=env)
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    # In the new tree's preorder (a parent before its children), then the deletes.
    assert lines == [
        {
            "op": "create",
            "kind": "activity",
            "id": key(course, "video", "vid"),
            "parent": key(course, "vertical", "quad-u0"),
            "position": 0,
            "fields": {"title": "Worked example", "block_type": "video"},
        },
        {
            "op": "move",
            "kind": "subtopic",
            "id": key(course, "sequential", "circles"),
            "parent": key(course, "chapter", "algebra"),
            "position": 1,
        },
        {
            "op": "update",
            "kind": "topic",
            "id": key(course, "chapter", "geometry"),
            "fields": {"title": ["Geometry", "Geometry & measures"]},
        },
        {"op": "delete", "kind": "unit", "id": key(course, "vertical", "quad-u1")},
    ]
    summary = run_cli("diff", old, new, "--summary", env=env)
    assert json.loads(summary.stdout) == {
        "create": {"activity": 1},
        "update": {"topic": 1},
        "move": {"subtopic": 1},
        "delete": {"unit": 1},
        "total": 4,
    }


def test_diff_of_identical_files_is_empty(files):
    _, old, _ = files
    result = run_cli("diff", old, old)
    assert (result.returncode, result.stdout) == (0, "")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "not valid JSON"),
        ('{"root": "a", "blocks": {"a": {"id": "a", "type": "course", "children": ["a"]}}}', "cycle"),
        (
            '{"root": "a", "blocks": {"a": {"id": "a", "type": "course", "children": ["b"]}}}',
            "missing from the structure",
        ),
    ],
)
def test_diff_rejects_invalid_input_with_exit_2_and_one_line(files, tmp_path, content, message):
    _, old, _ = files
    bad = tmp_path / "bad.json"
    bad.write_text(content)
    result = run_cli("diff", old, str(bad))
    assert result.returncode == 2
    assert result.stdout == ""
    assert len(result.stderr.strip().splitlines()) == 1
    assert message in result.stderr and "bad.json" in result.stderr


def test_diff_of_a_missing_file(files):
    _, old, _ = files
    result = run_cli("diff", old, "/nonexistent/new.json")
    assert result.returncode == 2
    assert "no such file" in result.stderr


@pytest.mark.django_db(transaction=True)
def test_sync_show_history_rollback(files):
    course, old, new = files
    first = run_cli("sync", "openedx", COURSE_KEY, "--blocks-file", old, check=True)
    assert "applied" in first.stdout and "version 0 → 1" in first.stdout
    v1 = run_cli("show", COURSE_KEY, check=True).stdout
    assert "topic  Geometry  [" in v1
    second = run_cli("sync", "openedx", COURSE_KEY, "--blocks-file", new, check=True)
    assert "version 1 → 2: 1 created, 1 updated, 1 moved, 1 deleted" in second.stdout
    v2 = run_cli("show", COURSE_KEY, check=True).stdout
    assert "Geometry & measures" in v2 and v2 != v1
    assert run_cli("show", COURSE_KEY, "--version", "1", check=True).stdout == v1

    tree = json.loads(run_cli("show", COURSE_KEY, "--json", check=True).stdout)
    assert (tree["id"], tree["kind"], tree["title"]) == (course.root, "course", "Test Mathematics")
    assert tree["attributes"] == {"block_type": "course", "start": "2026-01-05T07:30:00Z"}
    assert [c["title"] for c in tree["children"]] == ["Algebra", "Geometry & measures"]

    history = run_cli("history", COURSE_KEY, check=True).stdout
    assert "1→2" in history and "applied" in history and "file old.json" in history
    runs = json.loads(run_cli("history", COURSE_KEY, "--json", check=True).stdout)
    assert [(r["version_after"], r["trigger_summary"]) for r in runs] == [
        (1, "file old.json"),
        (2, "file new.json"),
    ]

    rollback = run_cli("rollback", COURSE_KEY, "--to-version", "1", check=True)
    assert "version 2 → 3" in rollback.stdout
    assert run_cli("show", COURSE_KEY, check=True).stdout == v1

    # the rolled-back tree is what search finds (its index followed every version)
    hits = json.loads(run_cli("search", "geometry", "--type", "content", "--json", check=True).stdout)
    assert [(h["title"], h["snippet"]) for h in hits] == [("Geometry", "<mark>Geometry</mark>")]


@pytest.mark.django_db(transaction=True)
def test_failures_exit_non_zero_with_the_reason(files, tmp_path):
    _, old, _ = files
    missing = run_cli("show", "course-v1:No+Such+Course")
    assert missing.returncode != 0 and "no course with key" in missing.stderr
    run_cli("sync", "openedx", COURSE_KEY, "--blocks-file", old, check=True)
    bad = tmp_path / "bad.json"
    bad.write_text('{"root": "x", "blocks": {"x": {"id": "x", "type": "course", "children": ["x"]}}}')
    failed = run_cli("sync", "openedx", COURSE_KEY, "--blocks-file", str(bad))
    assert failed.returncode != 0 and "cycle" in failed.stderr
    no_version = run_cli("rollback", COURSE_KEY, "--to-version", "7")
    assert no_version.returncode != 0 and "no version 7" in no_version.stderr
    no_source = run_cli("sync", "openedx", COURSE_KEY)
    assert no_source.returncode != 0 and "no openedx source is registered" in no_source.stderr


@pytest.mark.django_db(transaction=True)
def test_source_add_and_list_never_print_the_secret(simulator, course):
    added = run_cli(
        "source",
        "add",
        "openedx",
        "lms",
        "--base-url",
        simulator.base_url,
        "--client-id",
        "eduvault-sync",
        "--client-secret",
        "s3cret-client-secret",
        "--webhook-secret",
        "whsec-42",
        check=True,
    )
    listed = run_cli("source", "list", check=True)
    for output in (added.stdout + added.stderr, listed.stdout + listed.stderr):
        assert "s3cret-client-secret" not in output and "whsec-42" not in output
    assert "lms" in listed.stdout and simulator.base_url in listed.stdout
    synced = run_cli("sync", "openedx", COURSE_KEY, "--source", "lms", check=True)
    assert "version 0 → 1" in synced.stdout
    rotated = run_cli("source", "webhook-secret", "lms", "whsec_bmV3LXNlY3JldC1mb3Itcm90YXRpb24=", check=True)
    assert "accepts 2 webhook secret(s)" in rotated.stdout and "whsec" not in rotated.stdout
    from eduvault.integrations.models import Source

    assert Source.objects.get(name="lms").webhook_secrets == [
        "whsec_bmV3LXNlY3JldC1mb3Itcm90YXRpb24=",
        "whsec-42",
    ]
    run_cli(
        "source",
        "webhook-secret",
        "lms",
        "whsec_dGhpcmQtc2VjcmV0LWZvci1yb3RhdGlvbg==",
        "--drop-previous",
        check=True,
    )
    assert Source.objects.get(name="lms").webhook_secrets == ["whsec_dGhpcmQtc2VjcmV0LWZvci1yb3RhdGlvbg=="]
    assert run_cli("source", "webhook-secret", "lms", "short").returncode == 2
    duplicate = run_cli(
        "source",
        "add",
        "openedx",
        "lms",
        "--base-url",
        simulator.base_url,
        "--client-id",
        "x",
        "--client-secret",
        "y",
    )
    assert duplicate.returncode != 0 and "already exists" in duplicate.stderr


@pytest.mark.django_db(transaction=True)
def test_token_create_prints_the_token_once():
    created = run_cli(
        "token", "create", "student-app", "--role", "consumer", "--course", COURSE_KEY, check=True
    )
    token = created.stdout.strip()
    assert token.startswith("ev_") and len(token) > 40
    listed = run_cli("token", "list", check=True).stdout
    assert "student-app" in listed and token not in listed
    from eduvault.identity.models import ApiToken

    stored = ApiToken.objects.get(name="student-app")
    assert token not in (stored.key_hash, stored.prefix) and stored.courses == [COURSE_KEY]


def help_of(*argv: str) -> str:
    """What ``eduvault ARGV --help`` prints (in this process: argparse exits after printing)."""
    import contextlib
    import io

    from eduvault.cli import build_parser

    out = io.StringIO()
    with contextlib.redirect_stdout(out), pytest.raises(SystemExit) as done:
        build_parser().parse_args([*argv, "--help"])
    assert done.value.code == 0, argv
    return out.getvalue()


def test_every_command_has_help_and_no_django_option_leaks():
    from eduvault.cli import discover

    overview = help_of()
    names = list(discover())
    assert {
        "demo",
        "sync",
        "show",
        "history",
        "diff",
        "rollback",
        "source",
        "token",
        "serve",
        "worker",
        "events",
        "reconcile",
        "consume-openedx-bus",
        "subscription",
        "deliveries",
        "secrets",
        "migrate",
        "django",
    } <= set(names)
    for command in names:
        assert f"    {command}" in overview, command
        text = help_of(command)
        assert "usage:" in text.lower(), command
        for django_option in ("--settings", "--pythonpath", "--traceback", "--no-color", "--force-color"):
            assert django_option not in text, (command, django_option)
    for sub in (
        ("source", "add"),
        ("source", "list"),
        ("token", "create"),
        ("token", "list"),
        ("token", "revoke"),
    ):
        assert "usage:" in help_of(*sub).lower()


def test_version_and_help_without_django(tmp_path):
    import eduvault

    env = {
        "PATH": "/usr/bin:/bin",
        "EDUVAULT_DATA_DIR": str(tmp_path),
        "DATABASE_URL": "postgres://nobody@127.0.0.1:1/x",
    }
    version = run_cli("--version", env=env)
    assert (version.returncode, version.stdout.strip()) == (0, f"eduvault {eduvault.__version__}")
    overview = run_cli("help", env=env)
    assert (
        overview.returncode == 0 and "Commands" in overview.stdout and "startproject" not in overview.stdout
    )
    # Django's own commands are there for operators, under one command.
    assert "startproject" not in run_cli("--help", env=env).stdout


@pytest.mark.django_db(transaction=True)
def test_the_demo_runs_end_to_end(tmp_path):
    from tests.conftest import database_env

    env = database_env()
    result = run_cli("demo", "--no-serve", env=env, timeout=300)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    for expected in ("Edit 6 of 6", "version 6 → 7", "moved subtopic", "deleted topic", "unchanged"):
        assert expected in out
    # The Canvas part: a grade each way, the one to Canvas written once.
    for expected in ("Canvas → Edu Vault", "entered the feed at cursor", "was written to Canvas once (1 delivery)"):
        assert expected in " ".join(out.split()), expected
    # The forum part: the course's community, a badge granted once, a post in the feed.
    for expected in ("A forum follows the course", "was granted 1 time(s)", "became forum_post record"):
        assert expected in " ".join(out.split()), expected
    # Nothing is left broken behind: the simulator has stopped, and so has syncing from it.
    from eduvault.integrations.models import Source

    source = Source.objects.get(name="demo-openedx")
    assert not source.enabled and "the demo's simulator has stopped" in source.disabled_reason
    listed = json.loads(run_cli("source", "list", "--json", env=env, check=True).stdout)
    assert sorted((s["name"], s["enabled"], s["secrets"]) for s in listed) == [
        ("demo-canvas", False, ["token"]),
        ("demo-forum", False, ["api_key"]),
        ("demo-openedx", False, ["client_secret"]),
    ]


@pytest.mark.django_db(transaction=True)
def test_listings_as_json_and_djangos_commands_under_one_command():
    from eduvault.identity.services import token_create

    token_create(name="reader", role="consumer", courses=[COURSE_KEY])
    tokens = json.loads(run_cli("token", "list", "--json", check=True).stdout)
    assert [(t["name"], t["role"], t["courses"]) for t in tokens] == [("reader", "consumer", [COURSE_KEY])]
    assert json.loads(run_cli("events", "list", "--json", check=True).stdout) == []
    assert json.loads(run_cli("deliveries", "list", "--json", check=True).stdout) == []
    assert json.loads(run_cli("subscription", "list", "--json", check=True).stdout) == []
    bad = run_cli("events", "list", "--status", "sleeping")
    assert (
        bad.returncode == 2 and "status must be one of pending, processing, done, failed, dead" in bad.stderr
    )
    shown = run_cli("django", "showmigrations", "feed", check=True).stdout
    assert "[X] 0001_initial" in shown
