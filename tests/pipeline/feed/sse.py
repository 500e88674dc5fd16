"""A Server-Sent Events client for the tests: reads a stream in a thread."""

from __future__ import annotations

import json
import threading
import time

import httpx


class SSEReader(threading.Thread):
    def __init__(
        self, url: str, token: str, *, last_event_id: str | None = None, stop_after: int | None = None
    ) -> None:
        super().__init__(daemon=True)
        self.url, self.token, self.last_event_id, self.stop_after = url, token, last_event_id, stop_after
        self.events: list[tuple[str | None, str, str]] = []  # (id, event, data)
        self.comments = 0
        self.status: int | None = None
        self.connected = threading.Event()
        self._halt = threading.Event()

    def run(self) -> None:
        headers = {"Authorization": f"Bearer {self.token}"}
        if self.last_event_id is not None:
            headers["Last-Event-ID"] = self.last_event_id
        with httpx.stream("GET", self.url, headers=headers, timeout=httpx.Timeout(30, read=60)) as response:
            self.status = response.status_code
            self.connected.set()
            if response.status_code != 200:
                self.body = response.read()
                return
            fields: dict[str, str] = {}
            for line in response.iter_lines():
                if self._halt.is_set():
                    return
                if line == "":
                    if "data" in fields or "event" in fields:
                        self.events.append(
                            (fields.get("id"), fields.get("event", "message"), fields.get("data", ""))
                        )
                        if self.stop_after is not None and len(self.changes()) >= self.stop_after:
                            return
                    fields = {}
                elif line.startswith(":"):
                    self.comments += 1
                else:
                    name, _, value = line.partition(":")
                    fields[name] = value.removeprefix(" ")

    def stop(self) -> None:
        self._halt.set()
        self.join(10)

    def changes(self) -> list[dict]:
        return [json.loads(data) for _, event, data in self.events if event == "change"]

    def wait_for(self, count: int, timeout: float = 30) -> list[dict]:
        deadline = time.monotonic() + timeout
        while len(self.changes()) < count:
            if time.monotonic() > deadline or not self.is_alive():
                raise AssertionError(
                    f"got {len(self.changes())} of {count} changes; events: {self.events[-3:]}"
                )
            time.sleep(0.02)
        return self.changes()
