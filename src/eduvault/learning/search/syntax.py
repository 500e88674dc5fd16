"""The search box's syntax, read once for every engine (pure Python).

It is PostgreSQL's ``websearch_to_tsquery`` syntax: words are all required, ``"quoted
words"`` are a phrase, ``or`` between two terms takes either, ``-word`` leaves out what has
it. PostgreSQL reads the raw text itself; :func:`fts5_match` writes the same query in
SQLite FTS5's grammar, every term a quoted string (so no input is FTS5 syntax).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

#: Longest query read, in characters, and most terms kept: a search is bounded work.
MAX_QUERY = 200
MAX_TERMS = 16

_TOKEN = re.compile(r'(-?)"([^"]*)"?|(\S+)')


@dataclass(frozen=True)
class Term:
    text: str
    negated: bool = False
    #: Joined to the term before it by OR (else by AND).
    either: bool = False


def parse(query: str) -> list[Term]:
    """The terms of ``query``; empty when it has no words."""
    terms: list[Term] = []
    either = False
    for match in _TOKEN.finditer(query[:MAX_QUERY]):
        minus, phrase, word = match.groups()
        if word is not None:
            if word.lower() == "or":
                either = bool(terms)
                continue
            negated, text = word.startswith("-") and len(word) > 1, word
            if negated:
                text = word[1:]
        else:
            negated, text = bool(minus), phrase
        text = " ".join(re.findall(r"\w+", text))
        if not text:
            continue
        terms.append(Term(text, negated, either and bool(terms)))
        either = False
        if len(terms) == MAX_TERMS:
            break
    return terms


def _quoted(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'


def fts5_match(query: str) -> str | None:
    """``query`` as an FTS5 MATCH expression, or None when nothing can match it.

    FTS5 binds NOT tighter than AND and AND tighter than OR, as PostgreSQL reads websearch
    queries; it has no lone negation, so a left-out term needs something before it in its
    OR-group (``-x`` alone or right after ``or`` is dropped: PostgreSQL would match
    everything without ``x``, which is no search at all).
    """
    groups: list[list[Term]] = []
    for term in parse(query):
        if term.either or not groups:
            groups.append([])
        groups[-1].append(term)
    parts: list[str] = []
    for group in groups:
        wanted = [t for t in group if not t.negated]
        if not wanted:
            continue
        expression = " AND ".join(_quoted(t.text) for t in wanted)
        for term in group:
            if term.negated:
                expression += " NOT " + _quoted(term.text)
        parts.append(f"({expression})")
    return " OR ".join(parts) or None
