"""A Discourse forum simulator for the demo and the tests (real HTTP on loopback).

See :mod:`.server` for what it serves and :mod:`.driving` for how to drive it.
"""

from eduvault.integrations.discourse.simulator.rules import Invalid, Settings
from eduvault.integrations.discourse.simulator.server import DiscourseSimulator, Request
from eduvault.integrations.discourse.simulator.webhooks import Delivery, Event

__all__ = ["Delivery", "DiscourseSimulator", "Event", "Invalid", "Request", "Settings"]
