"""The ASGI application `eduvault serve` runs.

The live stream (``/api/v1/stream``, server-sent events) is served by Django's ASGI handler:
it holds a connection open on the event loop without holding a thread. Every other request
is a short one, and goes to Django's WSGI handler on a pool of threads (a2wsgi): the
middleware stack then runs synchronously in one thread per request, instead of hopping
between the event loop and a thread at each middleware, which costs about a third of a
trivial request's CPU. The pool has ``EDUVAULT_SERVER_THREADS`` threads (a few: the work is
mostly Python under one interpreter lock), fewer than the database pool's connections, so a
burst waits for a thread rather than for a connection. The hot endpoints (an exam's answers) are
lean routes, answered before Django's middleware and DRF (:mod:`eduvault.kernel.lean`).
Static files (the admin's) are served on the event loop.
"""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "eduvault.config.settings")

from a2wsgi import WSGIMiddleware
from django.conf import settings
from django.core.asgi import get_asgi_application

from eduvault.config.wsgi import short_requests
from eduvault.kernel.lean import lean_wsgi

#: Paths that stay on the event loop (long-lived responses).
STREAMING = frozenset({"/api/v1/stream"})

_event_loop = get_asgi_application()
_short = WSGIMiddleware(lean_wsgi(short_requests()), workers=settings.EDUVAULT_SERVER_THREADS)


async def application(scope, receive, send):  # type: ignore[no-untyped-def]
    if scope["type"] == "http" and scope["path"] not in STREAMING and not scope["path"].startswith("/static/"):
        await _short(scope, receive, send)
    else:
        # The stream, and the static files (served by ServeStatic, a middleware that only
        # runs on the event loop: in the threads' stack it would make Django hop between
        # threads and the loop at every request).
        await _event_loop(scope, receive, send)
