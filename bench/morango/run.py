#!/usr/bin/env python
"""Baseline: push/pull attempt logs with Kolibri's sync engine morango over real HTTP.

    bench/morango/setup.sh                                   # once: builds the venv
    /tmp/morango-venv/bin/python bench/morango/run.py --counts 1000 10000
    /tmp/morango-venv/bin/python bench/morango/run.py --records-file recs.jsonl --counts 1000

For every N in --counts: a fresh "server" instance (own SQLite file, served by a
real WSGI server process on a free loopback port) and a fresh "device" instance
(own SQLite file, separate client process) holding N attempt logs; the device
pushes them to the server through a byte-counting TCP proxy on loopback.  Then
the "pull" scenario: a fresh device pulls one class (40 learners x 10 attempts x
20 answers = 8,000 attempt logs by default) from a server that holds them.

One JSON line per scenario goes to stdout; progress goes to stderr.
See README.md for what each figure means.
"""
import argparse
import json
import os
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
PROJ = os.path.join(HERE, "benchproj")
WORKER = os.path.join(PROJ, "worker.py")
sys.path.insert(0, HERE)
import records as records_mod  # noqa: E402

sys.path.insert(1, os.path.dirname(HERE))


def log(msg):
    sys.stderr.write("[morango-bench] {}\n".format(msg))
    sys.stderr.flush()


# --------------------------------------------------------------------------- proxy


class CountingProxy:
    """TCP proxy on loopback that counts the bytes going each way (HTTP headers + bodies)."""

    def __init__(self, throttle_kbit=0.0, throttle_delay_ms=0.0):
        self.lock = threading.Lock()
        # --throttle-kbit / --throttle-delay-ms: a slow link (bench/netlink.py, the same one
        # bench/offline.py puts in front of Edu Vault); off by default.
        self.links = None
        if throttle_kbit or throttle_delay_ms:
            from netlink import Link

            rate = throttle_kbit * 1000 / 8 if throttle_kbit else 0
            self.links = {d: Link(rate, throttle_delay_ms / 1000.0) for d in ("up", "down")}
        self.up = 0  # client -> server
        self.down = 0  # server -> client
        self.connections = 0
        self.target = None
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def snapshot(self):
        with self.lock:
            return self.up, self.down, self.connections

    def _accept(self):
        while True:
            try:
                client, _ = self.sock.accept()
            except OSError:
                return
            try:
                server = socket.create_connection(self.target)
            except OSError:
                client.close()
                continue
            for s in (client, server):
                s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            with self.lock:
                self.connections += 1
            threading.Thread(target=self._pump, args=(client, server, "up"), daemon=True).start()
            threading.Thread(target=self._pump, args=(server, client, "down"), daemon=True).start()

    def _count(self, direction, data):
        with self.lock:
            if direction == "up":
                self.up += len(data)
            else:
                self.down += len(data)

    def _pump(self, src, dst, direction):
        if self.links is not None:
            from netlink import paced_pump

            paced_pump(src, dst, self.links[direction], on_bytes=lambda data: self._count(direction, data))
            return
        try:
            while True:
                data = src.recv(262144)
                if not data:
                    break
                # count before forwarding: once the peer has the bytes, they are counted
                with self.lock:
                    if direction == "up":
                        self.up += len(data)
                    else:
                        self.down += len(data)
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
            src.close()


# --------------------------------------------------------------------------- processes


def proc_kb(pid, field):
    try:
        with open("/proc/{}/status".format(pid)) as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def reset_peak(pid):
    try:
        with open("/proc/{}/clear_refs".format(pid), "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Bench:
    def __init__(self, args):
        self.args = args
        self.python = args.python
        self.work = args.workdir or tempfile.mkdtemp(prefix="morango-bench-")
        os.makedirs(self.work, exist_ok=True)
        self.proxy = CountingProxy(args.throttle_kbit, args.throttle_delay_ms)
        self.versions = json.loads(subprocess.check_output([
            self.python, "-c",
            "import json, django, morango, sys; print(json.dumps({'morango': morango.__version__, "
            "'django': django.get_version(), 'python': sys.version.split()[0]}))"]))

    # -- helpers ----------------------------------------------------------
    def env(self, db, system_id):
        e = dict(os.environ)
        e.update(BENCH_DB=db, MORANGO_SYSTEM_ID=system_id,
                 BENCH_GZIP_RESPONSES="1" if self.args.gzip_responses else "0", DJANGO_SETTINGS_MODULE="benchproj.settings",
                 PYTHONPATH=PROJ + os.pathsep + HERE, PYTHONUNBUFFERED="1")
        return e

    def worker(self, db, system_id, *argv):
        p = subprocess.run([self.python, WORKER] + list(argv), env=self.env(db, system_id),
                           cwd=PROJ, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        if p.returncode != 0:
            raise RuntimeError("worker {} failed ({}):\n{}\n{}".format(argv[0], p.returncode, p.stdout, p.stderr))
        for line in p.stdout.splitlines():
            if line.startswith("RESULT "):
                return json.loads(line[7:])
        return {}

    def copy_db(self, src, dst):
        for suffix in ("", "-wal", "-shm"):
            if os.path.exists(dst + suffix):
                os.remove(dst + suffix)
            if os.path.exists(src + suffix):
                shutil.copyfile(src + suffix, dst + suffix)

    # -- templates --------------------------------------------------------
    def build_templates(self):
        t = time.perf_counter()
        self.server_tpl = os.path.join(self.work, "server-template.sqlite3")
        self.device_tpl = os.path.join(self.work, "device-template.sqlite3")
        for p in (self.server_tpl, self.device_tpl):
            self.copy_db(os.path.join(self.work, "nonexistent"), p)
        meta = os.path.join(self.work, "meta.json")
        self.facility = self.worker(self.server_tpl, "bench-server-tpl", "init-server", meta)["facility"]
        self.worker(self.device_tpl, "bench-device-tpl", "init-device")
        log("templates ready in {:.1f}s (facility/dataset id {})".format(time.perf_counter() - t, self.facility))

    # -- server -----------------------------------------------------------
    def start_server(self, db):
        port = free_port()
        cmd = [self.python, WORKER, "serve", str(port), "--server", self.args.server,
               "--threads", str(self.args.server_threads)]
        self.server_log = open(os.path.join(self.work, "server.log"), "a")
        proc = subprocess.Popen(cmd, env=self.env(db, "bench-server"), cwd=PROJ,
                                stdout=self.server_log, stderr=subprocess.STDOUT)
        url = "http://127.0.0.1:{}/api/morango/v1/morangoinfo/1/".format(port)
        deadline = time.time() + 60
        while True:
            if proc.poll() is not None:
                raise RuntimeError("server exited with {}; see {}".format(proc.returncode, self.server_log.name))
            try:
                with urllib.request.urlopen(url, timeout=2) as r:
                    r.read()
                break
            except Exception:
                if time.time() > deadline:
                    proc.kill()
                    raise RuntimeError("server did not come up; see " + self.server_log.name)
                time.sleep(0.1)
        self.proxy.target = ("127.0.0.1", port)
        return proc

    def stop_server(self, proc):
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        self.server_log.close()

    # -- one measured transfer --------------------------------------------
    def run_client(self, kind, device_db, server_proc, extra, expected_records):
        base_up, base_down, base_conns = self.proxy.snapshot()
        cmd = [self.python, WORKER, kind, "http://127.0.0.1:{}/".format(self.proxy.port), self.facility,
               "--chunk-size", str(self.args.chunk_size)] + extra
        client = subprocess.Popen(cmd, env=self.env(device_db, "bench-device"), cwd=PROJ,
                                  stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  stderr=open(os.path.join(self.work, "client.log"), "a"), text=True, bufsize=1)
        marks, progress, result = {}, {}, None
        phase = "initializing"  # serialize + queue
        t_start = None
        timed_out = False
        buf = ""
        fd = client.stdout.fileno()
        while True:
            timeout = None
            if t_start is not None and self.args.max_seconds:
                timeout = max(0.0, t_start + self.args.max_seconds - time.perf_counter())
            ready, _, _ = select.select([fd], [], [], timeout)
            if not ready:
                timed_out = True
                break
            chunk = os.read(fd, 65536).decode()
            if not chunk:
                break
            buf += chunk
            while "\n" in buf:
                line, buf = buf.split("\n", 1)
                if line.startswith("MARK "):
                    name = line[5:].strip()
                    up, down, conns = self.proxy.snapshot()
                    marks[name] = {"up": up, "down": down, "conns": conns, "t": time.perf_counter()}
                    if name == "start":
                        marks[name]["server_rss_kb"] = proc_kb(server_proc.pid, "VmRSS")
                        marks[name]["server_reset"] = reset_peak(server_proc.pid)
                        t_start = time.perf_counter()
                    elif name == "end":
                        marks[name]["server_hwm_kb"] = proc_kb(server_proc.pid, "VmHWM")
                    client.stdin.write("\n")
                    client.stdin.flush()
                elif line.startswith("PROGRESS "):
                    progress = json.loads(line[9:])
                    phase = {"initialized": "transferring", "transferred": "finalizing"}.get(
                        progress.get("phase"), phase)
                    log("  {} {}".format(kind, progress))
                elif line.startswith("RESULT "):
                    result = json.loads(line[7:])
        if timed_out:
            now = time.perf_counter()
            up, down, conns = self.proxy.snapshot()
            server_hwm = proc_kb(server_proc.pid, "VmHWM")
            client_hwm = proc_kb(client.pid, "VmHWM")
            client.kill()
            client.wait()
            elapsed = now - t_start
            done = progress.get("records_transferred", 0)
            return {
                "status": "timeout", "seconds": elapsed, "records_done": done,
                "records_per_s": done / elapsed if elapsed else None,
                "phase_at_timeout": phase,
                "bytes_up": up - marks["start"]["up"], "bytes_down": down - marks["start"]["down"],
                "client_peak_rss_mb": client_hwm / 1024.0 if client_hwm else None,
                "server_peak_rss_mb": server_hwm / 1024.0 if server_hwm else None,
                "note": "stopped after --max-seconds {}; records_per_s = records transferred so far / elapsed"
                        .format(self.args.max_seconds),
            }
        rc = client.wait()
        if rc != 0 or result is None:
            raise RuntimeError("{} client failed (rc={}); see {}".format(
                kind, rc, os.path.join(self.work, "client.log")))
        s, e = marks["start"], marks["end"]
        out = {
            "status": "ok",
            "seconds": result["seconds"],
            "records_per_s": expected_records / result["seconds"] if result["seconds"] else None,
            "bytes_up": e["up"] - s["up"],
            "bytes_down": e["down"] - s["down"],
            "client_peak_rss_mb": round(result["client_peak_rss_mb"], 1),
            "server_peak_rss_mb": round(e["server_hwm_kb"] / 1024.0, 1) if e.get("server_hwm_kb") else None,
            "client_rss_before_mb": round(result["client_rss_before_mb"], 1),
            "server_rss_before_mb": round(s["server_rss_kb"] / 1024.0, 1) if s.get("server_rss_kb") else None,
            "peak_rss_reset": bool(result["client_peak_rss_reset"] and s.get("server_reset")),
            "seconds_excluding_backoff": round(result["seconds"] - result["backoff_sleep_s"], 3),
            "http_connections_opened": e["conns"] - base_conns,
            "phases": {k: round(v, 3) for k, v in result["phases"].items()},
            "backoff_sleep_s": result["backoff_sleep_s"],
            "backoff_sleep_calls": result["backoff_sleep_calls"],
            "records_transferred": result["records_transferred"],
            "morango_bytes_sent": result["morango_bytes_sent"],
            "morango_bytes_received": result["morango_bytes_received"],
            "setup_seconds": round(result["setup_seconds"], 3),
            "setup_bytes_up": s["up"] - base_up,
            "setup_bytes_down": s["down"] - base_down,
            "device_rows_after": result["local_attemptlogs"],
        }
        return out

    def common(self):
        out = {"engine": "morango", "morango_version": self.versions["morango"],
               "django_version": self.versions["django"], "python": self.versions["python"],
               "server": self.args.server, "chunk_size": self.args.chunk_size,
               "gzip_responses": self.args.gzip_responses}
        if self.proxy.links is not None:
            out.update(throttle_kbit=self.args.throttle_kbit, throttle_delay_ms=self.args.throttle_delay_ms)
        return out

    # -- scenarios --------------------------------------------------------
    def push(self, n):
        tag = "push-{}".format(n)
        server_db = os.path.join(self.work, tag + "-server.sqlite3")
        device_db = os.path.join(self.work, tag + "-device.sqlite3")
        self.copy_db(self.server_tpl, server_db)
        self.copy_db(self.device_tpl, device_db)
        seed_args = ["seed", self.facility]
        if self.args.records_file:
            seed_args += ["--records-file", self.args.records_file]
            if n is not None:
                seed_args += ["--limit", str(n)]
        else:
            seed_args += ["--generate", str(n), "--learners", str(self.args.learners)]
        seeded = self.worker(device_db, "bench-device", *seed_args)
        n = seeded["inserted"]
        log("push {}: device seeded in {:.1f}s".format(n, seeded["insert_seconds"]))
        server = self.start_server(server_db)
        try:
            res = self.run_client("push", device_db, server, [], n)
        finally:
            self.stop_server(server)
        if res["status"] == "ok":
            res["server_rows_after"] = self.worker(server_db, "bench-server", "count")["attemptlogs"]
            if res["server_rows_after"] != n:
                res["status"] = "mismatch"
        line = dict(self.common(), scenario="push", records=n, **res)
        self.cleanup(server_db, device_db)
        return line

    def pull(self):
        a = self.args
        tag = "pull"
        server_db = os.path.join(self.work, tag + "-server.sqlite3")
        device_db = os.path.join(self.work, tag + "-device.sqlite3")
        self.copy_db(self.server_tpl, server_db)
        self.copy_db(self.device_tpl, device_db)
        n_class = a.pull_learners * a.pull_attempts * a.pull_answers
        if a.pull_records_file:
            seed_args = ["--records-file", a.pull_records_file]
            learners = sorted({r["learner"] for r in map(json.loads, open(a.pull_records_file)) if r})
        else:
            seed_args = ["--generate", str(n_class), "--learners", str(a.pull_learners),
                         "--answers-per-attempt", str(a.pull_answers), "--seed", "2"]
            learners = records_mod.learners_of(n_class, a.pull_learners, a.pull_answers)
        seeded = self.worker(server_db, "bench-server", "seed", self.facility, "--serialize", *seed_args)
        n = seeded["inserted"]
        extra = 0
        if a.pull_other_records:
            # records of other classes on the same server, which the class filter must leave out
            o = self.worker(server_db, "bench-server", "seed", self.facility, "--serialize",
                            "--generate", str(a.pull_other_records), "--learners", "200",
                            "--learner-prefix", "other", "--seed", "3")
            extra = o["inserted"]
        log("pull: server seeded with {} class records (+{} others) in {:.1f}s, serialized in {:.1f}s".format(
            n, extra, seeded["insert_seconds"], seeded["serialize_seconds"] or 0))
        learners_file = os.path.join(self.work, "class-learners.json")
        with open(learners_file, "w") as f:
            json.dump(learners, f)
        server = self.start_server(server_db)
        try:
            res = self.run_client("pull", device_db, server, ["--learners-file", learners_file], n)
        finally:
            self.stop_server(server)
        if res["status"] == "ok" and res["device_rows_after"] != n:
            res["status"] = "mismatch"
        line = dict(self.common(), scenario="pull", records=n, learners=len(learners),
                    server_other_records=extra, **res)
        self.cleanup(server_db, device_db)
        return line

    def cleanup(self, *dbs):
        if self.args.keep:
            return
        for db in dbs:
            for suffix in ("", "-wal", "-shm"):
                if os.path.exists(db + suffix):
                    os.remove(db + suffix)


def default_python():
    if os.path.exists(os.path.join(sys.prefix, "bin", "python")) and sys.prefix != sys.base_prefix:
        return sys.executable
    venv = os.environ.get("MORANGO_VENV", "/tmp/morango-venv")
    return os.path.join(venv, "bin", "python")


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--counts", type=int, nargs="*", default=None,
                   help="push scenario sizes (default 1000 10000; with --records-file: the whole file)")
    p.add_argument("--records-file", help="JSON lines of records to push (id, learner, attempt, question, "
                   "answer, correct, score, created); with --counts, the first N lines for each N")
    p.add_argument("--learners", type=int, default=40, help="learners the generated push records spread over")
    p.add_argument("--scenarios", nargs="+", choices=["push", "pull"], default=["push", "pull"])
    p.add_argument("--pull-learners", type=int, default=40)
    p.add_argument("--pull-attempts", type=int, default=10)
    p.add_argument("--pull-answers", type=int, default=20)
    p.add_argument("--pull-records-file", help="JSON lines of the class's records held by the server")
    p.add_argument("--pull-other-records", type=int, default=0,
                   help="also put this many records of other learners on the server (not pulled)")
    p.add_argument("--chunk-size", type=int, default=500, help="morango records per HTTP chunk (its default: 500)")
    p.add_argument("--server", choices=["cheroot", "runserver"], default="cheroot")
    p.add_argument("--server-threads", type=int, default=10)
    p.add_argument("--gzip-responses", action="store_true",
                   help="add Django's GZipMiddleware to the server (old Kolibri had it; current Kolibri "
                   "does not, so pulled buffers go uncompressed by default)")
    p.add_argument("--max-seconds", type=float, default=600,
                   help="stop a scenario after this many seconds and report it as a timeout (0: no limit)")
    p.add_argument("--throttle-kbit", type=float, default=0,
                   help="make the proxy a slow link: this many kbit/s each way (0: unthrottled, the default)")
    p.add_argument("--throttle-delay-ms", type=float, default=0,
                   help="with the slow link: milliseconds added each way to every segment (250: 500 ms round trip)")
    p.add_argument("--python", default=default_python(), help="python of the morango venv")
    p.add_argument("--workdir", help="where the SQLite files go (default: a new temp dir, removed at the end)")
    p.add_argument("--keep", action="store_true", help="keep the work dir and databases")
    args = p.parse_args()
    if args.counts is None:
        args.counts = [None] if args.records_file else [1000, 10000]

    bench = Bench(args)
    log("python {} ({}) morango {} django {}; work dir {}".format(
        args.python, bench.versions["python"], bench.versions["morango"], bench.versions["django"], bench.work))
    try:
        bench.build_templates()
        if "push" in args.scenarios:
            for n in args.counts:
                line = bench.push(n)
                print(json.dumps(line), flush=True)
        if "pull" in args.scenarios:
            print(json.dumps(bench.pull()), flush=True)
    finally:
        if not args.keep and not args.workdir:
            shutil.rmtree(bench.work, ignore_errors=True)


if __name__ == "__main__":
    main()
