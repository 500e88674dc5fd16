"""Several server processes on one port, each with a listening socket of its own.

uvicorn's supervisor binds one socket and shares it: every worker's event loop wakes on a
new connection and the first to call ``accept`` takes every connection waiting (uvloop and
asyncio accept in a loop until none is left). A burst, such as 50 learners' browsers
connecting as an exam opens, then lands on one worker: it holds most keep-alive
connections for the rest of the exam and saturates its interpreter (75 to 100% of a core)
while the other idles (10 to 45%). With ``SO_REUSEPORT`` (Linux 3.9+) each worker listens
on its own socket bound to the same address, and the kernel spreads new connections over
them by a hash of the client's address and port: as many per worker, whoever is awake.

This is uvicorn's supervisor (health checks, restarts, ``SIGHUP``, ``SIGTTIN``/``SIGTTOU``)
with one change: each process it starts is given a socket bound for it, not the shared one.
A dead worker's socket closes with it, so the kernel stops sending it connections.
"""

from __future__ import annotations

import logging
import socket
import sys

from uvicorn import Config
from uvicorn.config import STARTUP_FAILURE
from uvicorn.supervisors import Multiprocess

logger = logging.getLogger("uvicorn.error")


def reuse_port_supported() -> bool:
    """Linux's ``SO_REUSEPORT`` spreads connections over the sockets; the BSDs' (macOS)
    lets them share the address without balancing: there, uvicorn's shared socket."""
    return sys.platform.startswith("linux") and hasattr(socket, "SO_REUSEPORT")


class ReusePortWorkers(Multiprocess):
    """``config.workers`` processes serving ``config.host``:``config.port``, one socket each."""

    def __init__(self, config: Config) -> None:
        self._address = (config.host, config.port)
        super().__init__(config, sockets=[])

    @property
    def sockets(self) -> list[socket.socket]:
        # Read by the supervisor each time it starts a process (at start, on a restart, on
        # SIGHUP and SIGTTIN): a new socket for the new process.
        return [self._bind()]

    @sockets.setter
    def sockets(self, _: list[socket.socket]) -> None:
        """The supervisor's constructor stores the shared sockets here: there are none."""

    def _bind(self) -> socket.socket:
        host, port = self._address
        sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        try:
            sock.bind(self._address)
        except OSError as exc:  # as uvicorn does: the address is taken, or not ours
            sock.close()
            logger.error("cannot listen on %s:%d: %s", host, port, exc)
            sys.exit(STARTUP_FAILURE)
        if port == 0:  # the first bind chose a free port: every later socket takes the same
            self._address = (host, sock.getsockname()[1])
        sock.set_inheritable(True)
        return sock
