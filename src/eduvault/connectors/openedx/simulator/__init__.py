"""An Open edX simulator for the demo and the tests (real HTTP on loopback)."""

from eduvault.connectors.openedx.simulator.course import SimulatedCourse
from eduvault.connectors.openedx.simulator.server import OpenEdxSimulator

__all__ = ["OpenEdxSimulator", "SimulatedCourse"]
