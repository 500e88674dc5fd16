"""A webhook receiver for the tests: real HTTP on loopback, verifying every signature."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from eduvault.kernel.signing import SignatureError, verify


class Receiver:
    def __init__(self) -> None:
        self.secret = ""
        self.status = 200
        self.delay = 0.0
        self.received: list[dict] = []  # every delivery, duplicates included
        self.bad_signatures = 0
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # quiet
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                headers = {k.lower(): v for k, v in self.headers.items()}
                try:
                    verify([receiver.secret], headers, body)
                except SignatureError:
                    with receiver._lock:
                        receiver.bad_signatures += 1
                    self.send_response(401)
                    self.end_headers()
                    return
                if receiver.delay:
                    time.sleep(receiver.delay)
                status = receiver.status
                if 200 <= status < 300:
                    with receiver._lock:
                        receiver.received.append({"id": headers["webhook-id"], **json.loads(body)})
                self.send_response(status)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hooks/eduvault"

    def unique(self) -> list[dict]:
        """What a receiver that drops duplicates by webhook-id keeps, in arrival order."""
        seen, out = set(), []
        for delivery in self.received:
            if delivery["id"] not in seen:
                seen.add(delivery["id"])
                out.append(delivery)
        return out

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
