"""Edu Vault's assessments launched from an LMS by LTI 1.3 (the tool's endpoints and pages)."""
