"""Subprocess side of the morango baseline: one morango instance per process.

Run by ../run.py with the morango venv's python; never needs to be run by hand.
The instance (server or device) is chosen by the environment:

  BENCH_DB           SQLite file of this instance
  MORANGO_SYSTEM_ID  distinct per instance, so the two get distinct morango instance ids

Commands:
  init-server META          migrate, scope definition, root certificate (= facility), admin user
  init-device               migrate, scope definition
  seed FACILITY [--records-file F | --generate N ...] [--serialize]
  serve PORT [--server cheroot|runserver] [--threads N]
  push URL FACILITY [--chunk-size N]
  pull URL FACILITY --learners-file F [--chunk-size N]

push/pull talk to run.py over stdin/stdout: they print ``MARK <name>`` and wait
for a line on stdin before going on, so run.py can read the byte counters of its
counting proxy and the server's peak RSS at exact points; ``PROGRESS ...`` lines
report transferred records; the last line is ``RESULT <json>``.
"""
import argparse
import json
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "benchproj.settings")

SCOPE_ID = "full-facility"
PROFILE = "facilitydata"
ADMIN_USER = "bench-admin"
ADMIN_PASSWORD = "bench-password"


def django_setup():
    import django

    django.setup()


# --------------------------------------------------------------------------- helpers


def out(line):
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def mark(name):
    """Tell run.py we reached a measurement point and wait for its go-ahead."""
    out("MARK " + name)
    if not sys.stdin.readline():
        raise SystemExit("run.py went away")


def reset_peak_rss(pid="self"):
    """Reset VmHWM (Linux >= 4.0: write 5 to clear_refs). Returns True on success."""
    try:
        with open("/proc/{}/clear_refs".format(pid), "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def proc_status_kb(field, pid="self"):
    with open("/proc/{}/status".format(pid)) as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return None


def ensure_scope_definition():
    from morango.models.certificates import ScopeDefinition

    # as Kolibri's "full-facility" scope: the whole dataset, read and write
    ScopeDefinition.objects.update_or_create(
        id=SCOPE_ID,
        defaults=dict(
            profile=PROFILE,
            version=1,
            primary_scope_param_key="dataset_id",
            description="Allows full syncing for facility with id ${dataset_id}.",
            read_filter_template="",
            write_filter_template="",
            read_write_filter_template="${dataset_id}",
        ),
    )


def migrate():
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)


# --------------------------------------------------------------------------- records


def iter_records_file(path):
    with open(path) as f:
        for line in f:
            line = line.strip()
            if line:
                yield json.loads(line)


def to_model(rec, facility):
    import datetime
    import uuid
    from django.utils import timezone
    from django.utils.dateparse import parse_datetime
    from benchapp.models import AttemptLog

    answer = rec.get("answer", "")
    if not isinstance(answer, str):
        answer = json.dumps(answer, separators=(",", ":"))
    created = rec.get("created")
    if isinstance(created, (int, float)):
        created = datetime.datetime.fromtimestamp(created, tz=datetime.timezone.utc)
    elif isinstance(created, str):
        created = parse_datetime(created)
    if created is None:
        created = timezone.now()
    elif timezone.is_naive(created):
        created = timezone.make_aware(created, datetime.timezone.utc)
    obj = AttemptLog(
        dataset_id=facility,
        learner=str(rec["learner"]),
        attempt=uuid.UUID(str(rec["attempt"])).hex,
        question=str(rec["question"]),
        answer=answer,
        correct=bool(rec["correct"]),
        score=float(rec["score"]),
        created=created,
    )
    return obj.set_record_id(rec.get("id"))


def seed(args):
    """Insert records into this instance's database (not part of any measurement)."""
    from django.db import transaction
    from benchapp.models import AttemptLog

    sys.path.insert(0, os.path.dirname(HERE))
    import records as records_mod

    if args.records_file:
        source = iter_records_file(args.records_file)
    else:
        source = records_mod.generate(
            args.generate, learners=args.learners, answers_per_attempt=args.answers_per_attempt,
            seed=args.seed, learner_prefix=args.learner_prefix,
        )
    if args.limit is not None:
        import itertools

        source = itertools.islice(source, args.limit)
    t0 = time.perf_counter()
    n = 0
    batch = []
    with transaction.atomic():
        for rec in source:
            batch.append(to_model(rec, args.facility))
            if len(batch) >= 2000:
                AttemptLog.objects.bulk_create(batch)
                n += len(batch)
                batch = []
        if batch:
            AttemptLog.objects.bulk_create(batch)
            n += len(batch)
    seconds = time.perf_counter() - t0
    ser_seconds = None
    if args.serialize:
        # what a server that had received these records by earlier syncs would hold
        from morango.models.certificates import Filter
        from morango.sync.controller import MorangoProfileController

        t1 = time.perf_counter()
        MorangoProfileController(PROFILE).serialize_into_store(Filter(args.facility))
        ser_seconds = time.perf_counter() - t1
    out("RESULT " + json.dumps({"inserted": n, "insert_seconds": seconds, "serialize_seconds": ser_seconds}))


# --------------------------------------------------------------------------- init


def init_server(args):
    from morango.models.certificates import Certificate
    from morango.models.core import InstanceIDModel
    from benchapp.models import BenchUser

    migrate()
    ensure_scope_definition()
    root = Certificate.generate_root_certificate(SCOPE_ID)
    BenchUser.objects.create_superuser(ADMIN_USER, ADMIN_PASSWORD)
    InstanceIDModel.get_or_create_current_instance()
    with open(args.meta, "w") as f:
        json.dump({"facility": root.id}, f)
    out("RESULT " + json.dumps({"facility": root.id}))


def init_device(args):
    migrate()
    ensure_scope_definition()
    out("RESULT {}")


# --------------------------------------------------------------------------- server


def serve(args):
    if args.server == "runserver":
        from django.core.management import call_command

        call_command("runserver", "127.0.0.1:{}".format(args.port), use_reloader=False, use_threading=True)
        return
    from cheroot import wsgi
    from benchproj.wsgi import application

    server = wsgi.Server(("127.0.0.1", args.port), application, numthreads=args.threads)
    server.timeout = 300
    try:
        server.start()
    except KeyboardInterrupt:
        server.stop()


# --------------------------------------------------------------------------- clients


class SleepMeter:
    """Counts the seconds morango's controller spends in its back-off sleeps."""

    def __init__(self):
        import morango.sync.controller as ctl

        self.total = 0.0
        self.calls = 0
        real_sleep = ctl.sleep

        def counted(seconds):
            self.total += seconds
            self.calls += 1
            real_sleep(seconds)

        ctl.sleep = counted


def open_connection(url, facility, chunk_size):
    from morango.sync.controller import MorangoProfileController

    controller = MorangoProfileController(PROFILE)
    conn = controller.create_network_connection(url, chunk_size=chunk_size)
    server_cert = [c for c in conn.get_remote_certificates(facility, SCOPE_ID)][0]
    client_cert = conn.certificate_signing_request(
        server_cert, SCOPE_ID, {"dataset_id": facility},
        userargs=ADMIN_USER, password=ADMIN_PASSWORD,
    )
    return conn, server_cert, client_cert


def transfer(args, is_push):
    django_setup()
    from morango.models.certificates import Filter

    t_setup = time.perf_counter()
    conn, server_cert, client_cert = open_connection(args.url, args.facility, args.chunk_size)
    setup_seconds = time.perf_counter() - t_setup
    if is_push:
        sync_filter = Filter(args.facility)
    else:
        with open(args.learners_file) as f:
            learners = json.load(f)
        sync_filter = Filter("\n".join("{}:user-rw:{}".format(args.facility, l) for l in learners))

    sleeps = SleepMeter()
    rss_before_kb = proc_status_kb("VmRSS")
    reset_ok = reset_peak_rss()
    mark("start")
    t0 = time.perf_counter()
    phases = {}
    state = {"last": 0.0}

    def progress(**kwargs):
        ts = kwargs.get("transfer_session")
        now = time.perf_counter()
        if ts is not None and now - state["last"] >= 0.5:
            state["last"] = now
            out("PROGRESS " + json.dumps({
                "records_transferred": ts.records_transferred, "records_total": ts.records_total,
                "elapsed": now - t0,
            }))

    sync_client = conn.create_sync_session(client_cert, server_cert)
    client = sync_client.get_push_client() if is_push else sync_client.get_pull_client()
    client.signals.transferring.in_progress.connect(progress)
    t1 = time.perf_counter()
    phases["sync_session_s"] = t1 - t0
    client.initialize(sync_filter)
    ts = client.current_transfer_session
    out("PROGRESS " + json.dumps({"phase": "initialized", "records_transferred": 0,
                                  "records_total": ts.records_total, "elapsed": time.perf_counter() - t0}))
    t2 = time.perf_counter()
    phases["initialize_s"] = t2 - t1  # serialize + queue (both ends), remote transfer session
    client.run()
    t3 = time.perf_counter()
    phases["transfer_s"] = t3 - t2
    out("PROGRESS " + json.dumps({"phase": "transferred", "records_transferred": ts.records_transferred,
                                  "records_total": ts.records_total, "elapsed": t3 - t0}))
    client.finalize()
    t4 = time.perf_counter()
    phases["finalize_s"] = t4 - t3  # dequeue + deserialize into the app models, cleanup
    conn.close_sync_session(sync_client.sync_session)
    conn.close()
    t5 = time.perf_counter()
    phases["close_s"] = t5 - t4
    mark("end")

    from benchapp.models import AttemptLog

    result = {
        "seconds": t5 - t0,
        "setup_seconds": setup_seconds,
        "phases": phases,
        "records_total": ts.records_total,
        "records_transferred": ts.records_transferred,
        "morango_bytes_sent": conn.bytes_sent,
        "morango_bytes_received": conn.bytes_received,
        "backoff_sleep_s": round(sleeps.total, 3),
        "backoff_sleep_calls": sleeps.calls,
        "client_rss_before_mb": rss_before_kb / 1024.0 if rss_before_kb else None,
        "client_peak_rss_mb": proc_status_kb("VmHWM") / 1024.0,
        "client_peak_rss_reset": reset_ok,
        "local_attemptlogs": AttemptLog.objects.count(),
    }
    out("RESULT " + json.dumps(result))


def count_rows(args):
    from benchapp.models import AttemptLog
    from morango.models.core import Store

    out("RESULT " + json.dumps({"attemptlogs": AttemptLog.objects.count(), "store": Store.objects.count()}))


# --------------------------------------------------------------------------- main


def main(argv=None):
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("init-server")
    s.add_argument("meta")
    sub.add_parser("init-device")
    s = sub.add_parser("seed")
    s.add_argument("facility")
    s.add_argument("--records-file")
    s.add_argument("--generate", type=int, default=0)
    s.add_argument("--limit", type=int)
    s.add_argument("--learners", type=int, default=40)
    s.add_argument("--answers-per-attempt", type=int, default=20)
    s.add_argument("--learner-prefix", default="learner")
    s.add_argument("--seed", type=int, default=1)
    s.add_argument("--serialize", action="store_true")
    s = sub.add_parser("serve")
    s.add_argument("port", type=int)
    s.add_argument("--server", choices=["cheroot", "runserver"], default="cheroot")
    s.add_argument("--threads", type=int, default=10)
    for name in ("push", "pull"):
        s = sub.add_parser(name)
        s.add_argument("url")
        s.add_argument("facility")
        s.add_argument("--chunk-size", type=int, default=500)
        if name == "pull":
            s.add_argument("--learners-file", required=True)
    sub.add_parser("count")
    args = p.parse_args(argv)

    if args.cmd == "serve":
        django_setup()
        return serve(args)
    if args.cmd in ("push", "pull"):
        return transfer(args, is_push=args.cmd == "push")
    django_setup()
    {"init-server": init_server, "init-device": init_device, "seed": seed, "count": count_rows}[args.cmd](args)


if __name__ == "__main__":
    main()
