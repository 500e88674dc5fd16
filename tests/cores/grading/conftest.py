"""The grading engine is pure Python: its tests need neither Django nor a database."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _fresh_source_cache():
    """Overrides the suite-wide fixture of the same name, which loads Django models: nothing
    here registers sources, and these tests also run without pytest-django (``-p no:django``)."""
    yield
