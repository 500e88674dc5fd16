"""WSGI: ``application`` for WSGI servers, and the handler of short requests under ASGI.

``short_requests()`` is Django's WSGI handler without the middleware that can only run on
an event loop (ServeStatic): with it in a thread's stack, Django wraps every request in
``async_to_sync`` and hops between the thread and a loop at each middleware, which costs
several times the request's own work. `eduvault serve` runs these handlers on a pool of
threads and sends static files to the event loop instead (``config/asgi.py``).
"""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "eduvault.config.settings")

import django
from django.conf import settings
from django.core.handlers.wsgi import WSGIHandler
from django.core.wsgi import get_wsgi_application

#: Middleware that only runs on an event loop.
EVENT_LOOP_ONLY = frozenset({"servestatic.middleware.ServeStaticMiddleware"})


class ShortRequestHandler(WSGIHandler):
    def load_middleware(self, is_async: bool = False) -> None:
        everything = settings.MIDDLEWARE
        settings.MIDDLEWARE = [m for m in everything if m not in EVENT_LOOP_ONLY]
        try:
            super().load_middleware(is_async)
        finally:
            settings.MIDDLEWARE = everything


def short_requests() -> ShortRequestHandler:
    django.setup(set_prefix=False)
    return ShortRequestHandler()


application = get_wsgi_application()
