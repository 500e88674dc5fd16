"""Invariant 2 with real processes: a worker killed mid-apply, and concurrent syncs."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from eduvault.integrations.openedx.normalize import normalize_blocks
from eduvault.integrations.openedx.simulator.synthetic import author_edits, synthetic_course
from eduvault.pipeline.content.models import Course
from eduvault.pipeline.content.selectors import course_tree_load
from eduvault.pipeline.sync.models import SyncRun
from eduvault.pipeline.sync.selectors import course_tree_at
from eduvault.pipeline.sync.services import course_sync_blocks
from tests.conftest import database_env

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[3]


def worker(*args: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "tests.pipeline.sync.sync_worker", *args],
        cwd=ROOT,
        env=database_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def write(path: Path, blocks) -> str:
    path.write_text(json.dumps(blocks))
    return str(path)


def test_a_worker_killed_mid_apply_leaves_the_previous_version_and_a_rerun_applies(tmp_path):
    course = synthetic_course(10_000, run="KILL")
    key = course.course_key
    course_sync_blocks(course_key=key, blocks=course.blocks_response())
    before = course_tree_load(course=Course.objects.get(key=key)).tree
    edited = author_edits(course, rate=0.05)  # a large change set: thousands of changes
    new_file = write(tmp_path / "new.json", edited.blocks_response())

    signal_file = tmp_path / "in-apply"
    child = worker("apply", key, new_file, "--hang-in-apply", str(signal_file))
    try:
        deadline = time.monotonic() + 120
        while not signal_file.exists():
            assert child.poll() is None, child.communicate()
            assert time.monotonic() < deadline, "the worker never reached the apply"
            time.sleep(0.05)
        assert json.loads(signal_file.read_text())["changes"] > 1000
        child.send_signal(signal.SIGKILL)
    finally:
        child.wait(timeout=30)
    assert child.returncode == -signal.SIGKILL

    # The previous version is intact: same version, same tree, no run recorded for the kill.
    db_course = Course.objects.get(key=key)
    assert db_course.version == 1
    assert course_tree_load(course=db_course).tree == before
    assert list(SyncRun.objects.values_list("outcome", flat=True)) == ["applied"]

    # And the same event processed again applies the new version, exactly once.
    rerun = worker("apply", key, new_file)
    out, err = rerun.communicate(timeout=120)
    assert rerun.returncode == 0, err
    assert json.loads(out) == {"outcome": "applied", "version": 2}
    assert course_tree_load(course=Course.objects.get(key=key)).tree == normalize_blocks(
        edited.blocks_response()
    )


def test_concurrent_syncs_of_one_course_keep_versions_gapless(tmp_path):
    base = synthetic_course(600, run="RACE")
    key = base.course_key
    variants = [base]
    for seed in range(3):
        variants.append(author_edits(variants[-1], seed=seed + 10, rate=0.05))
    files = [write(tmp_path / f"v{i}.json", v.blocks_response()) for i, v in enumerate(variants)]
    expected = {f: normalize_blocks(json.loads(Path(f).read_text())) for f in files}

    rounds = 4
    workers = [
        worker("loop", key, *files, "--rounds", str(rounds)),
        worker("loop", key, *reversed(files), "--rounds", str(rounds)),
    ]
    for w in workers:
        _, err = w.communicate(timeout=300)
        assert w.returncode == 0, err

    runs = list(SyncRun.objects.filter(course_key=key).order_by("id"))
    assert len(runs) == 2 * rounds * len(files)
    assert all(r.outcome in ("applied", "unchanged") for r in runs), [r.error for r in runs]
    applied = [r for r in runs if r.outcome == "applied"]
    # Versions rise by exactly one per applied run, with no gaps and no repeats.
    assert [r.version_after for r in applied] == list(range(1, len(applied) + 1))
    assert all(r.version_before == r.version_after - 1 for r in applied)
    assert len(applied) > len(files), "the two workers should have interleaved"
    # Each version holds exactly the structure its run synced; the stored tree is the last.
    course = Course.objects.get(key=key)
    for run in applied:
        assert (
            course_tree_at(course=course, version=run.version_after) == expected[run.trigger_detail["file"]]
        )
    assert course_tree_load(course=course).tree == expected[applied[-1].trigger_detail["file"]]
    assert course.version == applied[-1].version_after
