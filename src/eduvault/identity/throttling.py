"""Failed sign-ins, throttled per account and per client address.

Both the API's sign-in and the console's count here, in the database, so every server
process sees the same counts. Only failures count: a school's learners signing in from
behind one address are never held back by each other's successes. The client address is
the connection's peer, or what a proxy listed in ``EDUVAULT_TRUSTED_PROXIES`` says it is
(``eduvault serve`` reads ``X-Forwarded-For`` from those proxies only), so a client cannot
pick its own address; and an attacker who has many addresses still meets the per-account
limit. Failures are counted for any username, known or not: the answer never tells whether
an account exists.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass

import structlog
from django.conf import settings
from django.db import connection

from eduvault.identity.models import SignInFailures
from eduvault.kernel.errors import InvalidInput, TooManyAttempts

log = structlog.get_logger(__name__)

_UNITS = {"s": 1, "sec": 1, "m": 60, "min": 60, "h": 3600, "hour": 3600, "d": 86400, "day": 86400}
_RATE = re.compile(r"\s*(\d+)\s*/\s*(\d*)\s*([a-z]+)\s*")


@dataclass(frozen=True)
class Rate:
    """At most ``limit`` failures in ``period`` seconds."""

    limit: int
    period: float

    @classmethod
    def parse(cls, text: str, name: str) -> Rate:
        """``30/min``, ``10/15min``, ``100/h``, ``5/30s``."""
        match = _RATE.fullmatch(text.lower())
        if not match or match.group(3) not in _UNITS or int(match.group(1)) < 1:
            raise InvalidInput(f"{name}: give a rate such as 30/min or 10/15min, not {text!r}")
        count = int(match.group(2) or 1)
        return cls(int(match.group(1)), float(count * _UNITS[match.group(3)]))


def _rates() -> dict[str, Rate]:
    return {
        "account": Rate.parse(settings.EDUVAULT_SIGN_IN_ACCOUNT_RATE, "EDUVAULT_SIGN_IN_ACCOUNT_RATE"),
        "address": Rate.parse(settings.EDUVAULT_SIGN_IN_RATE, "EDUVAULT_SIGN_IN_RATE"),
    }


def _keys(username: str, address: str) -> dict[str, str]:
    return {"account": f"account:{username.strip().casefold()[:150]}", "address": f"address:{address[:64]}"}


def sign_in_check(*, username: str, address: str) -> None:
    """Refuse (429) a sign-in for an account or from an address that failed too often lately.

    Called before the password is checked, so a throttled guess costs no password hashing.
    """
    now = time.time()
    rates, keys = _rates(), _keys(username, address)
    rows = {r.key: r for r in SignInFailures.objects.filter(key__in=keys.values())}
    for scope in ("account", "address"):
        row, rate = rows.get(keys[scope]), rates[scope]
        if row is None or row.failures < rate.limit or row.window_started + rate.period <= now:
            continue
        wait = max(1, int(row.window_started + rate.period - now + 0.999))
        log.warning(
            "auth.sign_in_throttled",
            by=scope,
            username=username[:150],
            address=address,
            failures=row.failures,
            retry_after=wait,
        )
        what = "this account" if scope == "account" else "your address"
        raise TooManyAttempts(
            f"Too many failed sign-ins for {what}; try again in {wait} s.", retry_after=wait
        )


def sign_in_failed(*, username: str, address: str) -> None:
    """Count a failed sign-in against the account and the address (one statement each)."""
    now = time.time()
    rates, keys = _rates(), _keys(username, address)
    table = connection.ops.quote_name(SignInFailures._meta.db_table)
    key_column = connection.ops.quote_name("key")
    with connection.cursor() as cursor:
        for scope, key in keys.items():
            cutoff = now - rates[scope].period
            cursor.execute(
                f"INSERT INTO {table} AS f ({key_column}, window_started, failures) VALUES (%s, %s, 1) "
                f"ON CONFLICT ({key_column}) DO UPDATE SET "
                "failures = CASE WHEN f.window_started <= %s THEN 1 ELSE f.failures + 1 END, "
                "window_started = CASE WHEN f.window_started <= %s "
                "THEN excluded.window_started ELSE f.window_started END",
                [key, now, cutoff, cutoff],
            )


def sign_in_succeeded(*, username: str) -> None:
    """A right password clears the account's count (the address's stays)."""
    SignInFailures.objects.filter(key=_keys(username, "")["account"]).delete()


def sign_in_failures_purge() -> int:
    """Forget counts whose window has ended (upkeep)."""
    longest = max(rate.period for rate in _rates().values())
    deleted, _ = SignInFailures.objects.filter(window_started__lt=time.time() - longest).delete()
    return deleted
