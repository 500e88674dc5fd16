"""An LTI 1.3 / LTI Advantage platform simulator (an LMS as Canvas or Moodle is), real HTTP on loopback.

Used by Edu Vault's tests, the demo and the browser test to exercise Edu Vault's LTI tool:
OIDC third-party-initiated login and launches, the platform JWKS and key rotation, the token
endpoint, AGS 2.0, NRPS 2.0 and Deep Linking 2.0. See :mod:`.server` for the endpoints.
"""

from eduvault.integrations.lti.simulator.browser import LaunchError, parse_form
from eduvault.integrations.lti.simulator.deep_linking import DeepLinkItem
from eduvault.integrations.lti.simulator.server import LtiPlatform, Request
from eduvault.integrations.lti.simulator.state import Course, LineItem, Membership, ResourceLink, Tool, User

__all__ = [
    "Course",
    "DeepLinkItem",
    "LaunchError",
    "LineItem",
    "LtiPlatform",
    "Membership",
    "Request",
    "ResourceLink",
    "Tool",
    "User",
    "parse_form",
]
