"""Author patterns (the ``regex`` of text answers), run by RE2 in time linear in the answer.

Python's ``re`` backtracks: a pattern such as ``(a+)+$`` takes exponential time on an answer
of a few dozen ``a`` followed by a ``!``, and the C matcher cannot be interrupted, so one
learner's answer could hold a server process for ever. Patterns are written by instructors
and matched against answers typed by learners; both are untrusted here. RE2 (google-re2)
compiles a pattern into an automaton and matches in time proportional to
``len(answer) * program size``, with no backtracking at all.

Every pattern is checked when its question is saved: it must compile under RE2 (which has
no backreferences and no lookaround, the constructs that make backtracking necessary) and
its compiled program must stay within :data:`MAX_PROGRAM_SIZE` instructions; a question's
patterns together within :data:`MAX_QUESTION_PROGRAM_SIZE`. With answers of at most 1,000
characters, that bounds the time of grading any answer, whatever the pattern and the answer
(``bench/grading.py`` measures the worst case).

Differences from Python's ``re`` an author may notice: ``\\d``, ``\\w`` and ``\\s`` are ASCII
only (``\\pN``, ``\\pL`` are the Unicode classes); ``\\Z`` is written ``\\z``; possessive and
atomic groups, backreferences and lookaround are refused with the reason.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache
from typing import Any

import re2

#: The most RE2 instructions one pattern may compile to (``[a-z]{1,100}`` is about 200).
MAX_PROGRAM_SIZE = 2_000
#: The most instructions all the patterns of one question may compile to together.
MAX_QUESTION_PROGRAM_SIZE = 20_000
#: Memory RE2 may use for one compiled pattern (its DFA cache included).
MAX_MEMORY = 8 << 20


class PatternRefused(ValueError):
    """A pattern RE2 cannot run, or that is too large; the message names the pattern."""


def _options(case_sensitive: bool) -> Any:
    options = re2.Options()
    options.case_sensitive = case_sensitive
    options.log_errors = False  # a refused pattern is the author's error, reported to them
    options.max_mem = MAX_MEMORY
    return options


def _short(pattern: str) -> str:
    return repr(pattern) if len(pattern) <= 60 else f"{pattern[:57]!r}..."


#: What RE2's message means for an author used to Python's ``re``.
_HINTS = (
    (re.compile(r"invalid escape sequence: \\[1-9]"), "backreferences are not supported"),
    (re.compile(r"invalid perl operator: \(\?<?[=!]"), "lookaround is not supported"),
    (re.compile(r"invalid perl operator: \(\?>"), "atomic groups are not supported"),
    (re.compile(r"bad repetition operator: .\+"), "possessive quantifiers are not supported"),
    (re.compile(r"invalid escape sequence: \\Z"), "write \\z for the end of the text"),
)


def _reason(error: Exception) -> str:
    message = error.args[0] if error.args else str(error)
    if isinstance(message, bytes):
        message = message.decode("utf-8", "replace")
    message = str(message)
    hint = next((hint for known, hint in _HINTS if known.match(message)), None)
    return f"{message} ({hint})" if hint else message


@lru_cache(maxsize=2048)
def compiled(pattern: str, case_sensitive: bool) -> Any:
    """The RE2 program for ``pattern``; :class:`PatternRefused` if RE2 cannot run it."""
    try:
        program = re2.compile(pattern, _options(case_sensitive))
    except re2.error as exc:
        raise PatternRefused(f"the pattern {_short(pattern)} cannot be used: {_reason(exc)}") from None
    except (TypeError, ValueError, OverflowError) as exc:  # e.g. a NUL or a lone surrogate
        raise PatternRefused(f"the pattern {_short(pattern)} cannot be used: {exc}") from None
    if program.programsize > MAX_PROGRAM_SIZE:
        raise PatternRefused(
            f"the pattern {_short(pattern)} is too complex: it compiles to {program.programsize:,} "
            f"instructions, at most {MAX_PROGRAM_SIZE:,} are allowed (lower its repetition counts)"
        )
    return program


def check_pattern(pattern: str) -> str:
    """``pattern`` if RE2 runs it (as the grader will, in either case mode)."""
    compiled(pattern, True)
    compiled(pattern, False)
    return pattern


def program_size(patterns: Iterable[str], case_sensitive: bool = False) -> int:
    """The instructions these (checked) patterns compile to, together."""
    return sum(compiled(p, case_sensitive).programsize for p in patterns)


def fullmatch(pattern: str, text: str, case_sensitive: bool) -> bool:
    """Whether ``pattern`` matches the whole of ``text`` (linear time in ``len(text)``)."""
    return compiled(pattern, case_sensitive).fullmatch(text) is not None
