"""How the OpenAPI schema describes a device's credential."""

from __future__ import annotations

from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension


class DeviceScheme(OpenApiAuthenticationExtension):
    target_class = "eduvault.learning.devices.apis.DeviceAuthentication"
    name = "device"

    def get_security_definition(self, auto_schema: Any) -> dict[str, Any]:
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "A paired device's credential (evd_…), issued once by POST /api/v1/devices/join.",
        }
