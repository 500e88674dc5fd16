"""Metrics (Prometheus), health and readiness: what a machine watching Edu Vault needs."""
