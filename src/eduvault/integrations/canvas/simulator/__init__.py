"""A Canvas LMS simulator for the demo and the tests (real HTTP on loopback).

See :mod:`.server` for what it serves and :mod:`.state` for how to drive it.
"""

from eduvault.integrations.canvas.simulator.grading import DEFAULT_SCHEME, GradeError
from eduvault.integrations.canvas.simulator.live_events import Delivery
from eduvault.integrations.canvas.simulator.server import JWKS_PATH, CanvasSimulator

__all__ = ["DEFAULT_SCHEME", "JWKS_PATH", "CanvasSimulator", "Delivery", "GradeError"]
