"""The policies in force: ``EDUVAULT_POLICIES_FILE``, or the file shipped beside this module.
Read once per change of the file (its modification time), so an operator's edit applies
without a restart; a file that does not parse keeps the last good policies and says why."""

from __future__ import annotations

import threading
from pathlib import Path

import structlog
from django.conf import settings

from eduvault.cores.records.policy import Policies, PolicyError, parse

log = structlog.get_logger(__name__)

DEFAULT_FILE = Path(__file__).with_name("policies.toml")

_lock = threading.Lock()
_cache: dict[str, tuple[float, Policies]] = {}


def policies_path() -> Path:
    configured = getattr(settings, "EDUVAULT_POLICIES_FILE", "") or ""
    return Path(configured) if configured else DEFAULT_FILE


def current_policies() -> Policies:
    """The policies in force (raises :class:`PolicyError` only if no good file was ever read)."""
    path = policies_path()
    try:
        mtime = path.stat().st_mtime
    except OSError as exc:
        raise PolicyError(f"the policies file {path} cannot be read: {exc.strerror}") from None
    key = str(path)
    with _lock:
        cached = _cache.get(key)
        if cached is not None and cached[0] == mtime:
            return cached[1]
        try:
            policies = parse(path.read_text(encoding="utf-8"))
        except (PolicyError, OSError, UnicodeDecodeError) as exc:
            if cached is None:
                raise PolicyError(f"{path}: {exc}") from None
            log.error("records.policies_unreadable", path=key, error=str(exc))
            return cached[1]
        _cache[key] = (mtime, policies)
        return policies
