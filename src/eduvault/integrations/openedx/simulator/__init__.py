"""An Open edX simulator for the demo and the tests (real HTTP on loopback)."""

from eduvault.integrations.openedx.simulator.course import SimulatedCourse
from eduvault.integrations.openedx.simulator.server import OpenEdxSimulator

__all__ = ["OpenEdxSimulator", "SimulatedCourse"]
