"""One search interface, two engines: PostgreSQL full-text search and SQLite FTS5.

Each engine answers :meth:`Engine.hits` with the best ``limit`` hits after ``offset``,
across the types asked for, best first. A hit's snippet comes back with the matched words
between ``\\x02`` and ``\\x03``; :func:`eduvault.learning.search.selectors.search` escapes
it for HTML and makes those marks ``<mark>``. Every value reaches SQL as a parameter.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import connection

from eduvault.learning.search.index import course_token
from eduvault.learning.search.syntax import fts5_match

START, STOP = "\x02", "\x03"
TYPES = ("content", "question", "post")


@dataclass(frozen=True)
class Filters:
    """What a search may return, in ids the tables hold (None: no limit of that kind)."""

    types: frozenset[str]
    courses: frozenset[int] | None = None
    #: Node kinds a consumer may see.
    node_kinds: frozenset[str] | None = None
    #: (course id, subtopic) pairs whose questions may be shown; None: every question.
    subtopics: frozenset[tuple[int, str]] | None = None
    #: Snippets of questions from the prompt only (a learner's: never the explanation).
    prompt_only: bool = False


@dataclass(frozen=True)
class RawHit:
    type: str
    ref: str
    course: str
    title: str
    kind: str
    snippet: str
    score: float


def _in(column: str, values: Sequence[Any], params: list[Any]) -> str:
    if not values:
        return "1 = 0"
    params.extend(values)
    return f"{column} IN ({', '.join(['%s'] * len(values))})"


def _pairs(values: frozenset[tuple[int, str]], params: list[Any]) -> str:
    if not values:
        return "1 = 0"
    rows = sorted(values)
    for course, subtopic in rows:
        params.extend((course, subtopic))
    return "(q.course_id, q.subtopic) IN (VALUES " + ", ".join(["(%s, %s)"] * len(rows)) + ")"


def _scope(filters: Filters, type_: str, alias: str, params: list[Any]) -> str:
    clauses = []
    if filters.courses is not None:
        clauses.append(_in(f"{alias}.course_id", sorted(filters.courses), params))
    if type_ == "content" and filters.node_kinds is not None:
        clauses.append(_in("n.kind", sorted(filters.node_kinds), params))
    if type_ == "question" and filters.subtopics is not None:
        clauses.append(_pairs(filters.subtopics, params))
    return "".join(" AND " + c for c in clauses)


class Engine:
    vendor = ""

    def hits(self, *, query: str, filters: Filters, limit: int, offset: int) -> list[RawHit]:
        raise NotImplementedError


ENGINES: dict[str, Callable[[], Engine]] = {}


def _register(cls: type[Engine]) -> type[Engine]:
    ENGINES[cls.vendor] = cls
    return cls


def engine() -> Engine:
    """The engine of the database in use."""
    try:
        return ENGINES[connection.vendor]()
    except KeyError:
        raise NotImplementedError(f"search has no engine for {connection.vendor}") from None


_PG_HEADLINE = f"StartSel={START}, StopSel={STOP}, MaxWords=30, MinWords=12, MaxFragments=2, FragmentDelimiter=\" … \""


@_register
class PostgresEngine(Engine):
    """``websearch_to_tsquery`` read by ``english`` or ``simple``, ranked by ``ts_rank``
    against the GIN-indexed generated columns; ``ts_headline`` only for the page shown.

    Ranking reads every row it ranks, so a query is ranked among the first
    ``EDUVAULT_SEARCH_CANDIDATES`` rows of each type that match it within the caller's scope:
    a word in half the bank costs what a word in a few thousand questions does (the order
    among that many hits is the index's, not the best of all of them)."""

    vendor = "postgresql"

    def hits(self, *, query: str, filters: Filters, limit: int, offset: int) -> list[RawHit]:
        params: list[Any] = []
        parts = []
        take = limit + offset
        cap = max(settings.EDUVAULT_SEARCH_CANDIDATES, take)
        if "content" in filters.types:
            parts.append(
                "(SELECT 'content' AS type, n.external_id AS ref, c.key AS course, n.title, n.kind,"
                " n.title || ' ' || coalesce(n.attributes->>'description', '') AS body,"
                " ts_rank(n.search_vector, w.q) AS score"
                " FROM (SELECT n.* FROM content_node n, w WHERE n.search_vector @@ w.q"
                + _scope(filters, "content", "n", params)
                + " LIMIT %s) n JOIN content_course c ON c.id = n.course_id, w ORDER BY score DESC, ref LIMIT %s)"
            )
            params.extend((cap, take))
        if "question" in filters.types:
            body = (
                "coalesce(q.document->>'prompt', '')"
                if filters.prompt_only
                else "coalesce(q.document->>'prompt', '') || ' ' || q.search_text"
            )
            parts.append(
                "(SELECT 'question' AS type, q.key AS ref, c.key AS course,"
                " left(coalesce(q.document->>'prompt', ''), 200) AS title, q.type AS kind,"
                f" {body} AS body, ts_rank(q.search_vector, w.q) AS score"
                " FROM (SELECT q.* FROM assessments_question q, w"
                " WHERE q.search_vector @@ w.q AND q.current AND q.archived_at IS NULL"
                + _scope(filters, "question", "q", params)
                + " LIMIT %s) q JOIN content_course c ON c.id = q.course_id, w ORDER BY score DESC, ref LIMIT %s)"
            )
            params.extend((cap, take))
        if "post" in filters.types:
            parts.append(
                "(SELECT 'post' AS type, r.id::text AS ref, c.key AS course, r.title, r.kind,"
                " coalesce(r.fields->>'raw', '') AS body, ts_rank(r.search_vector, w.q) AS score"
                " FROM (SELECT r.* FROM records_record r, w"
                " WHERE r.kind = 'forum_post' AND r.search_vector @@ w.q"
                " AND coalesce(r.fields->>'deleted', 'false') <> 'true'"
                + _scope(filters, "post", "r", params)
                + " LIMIT %s) r JOIN content_course c ON c.id = r.course_id, w ORDER BY score DESC, ref LIMIT %s)"
            )
            params.extend((cap, take))
        if not parts:
            return []
        sql = (
            "WITH w AS (SELECT websearch_to_tsquery('english', %s) || websearch_to_tsquery('simple', %s) AS q)"
            " SELECT hits.type, hits.ref, hits.course, hits.title, hits.kind,"
            " ts_headline('english', hits.body, w.q, %s), hits.score"
            " FROM (SELECT * FROM (" + " UNION ALL ".join(parts) + ") found ORDER BY score DESC, type, ref"
            " LIMIT %s OFFSET %s) hits, w ORDER BY hits.score DESC, hits.type, hits.ref"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, [query, query, _PG_HEADLINE, *params, limit, offset])
            return [RawHit(*row[:6], float(row[6])) for row in cursor.fetchall()]


@dataclass(frozen=True)
class _Fts5Type:
    """One searchable type on SQLite: its FTS5 table and text columns, how its rows join
    their source (as ``alias``), what a shown row must be, and its fields as SQL."""

    table: str
    text: str
    source: str
    alias: str
    condition: str
    ref: str
    title: str
    kind: str


_FTS5 = {
    "content": _Fts5Type(
        "search_node",
        "{title body}",
        "search_node_key k ON k.rowid = f.id JOIN content_node n ON n.id = k.node_id",
        "n",
        "1 = 1",
        ref="n.external_id",
        title="n.title",
        kind="n.kind",
    ),
    "question": _Fts5Type(
        "search_question",
        "{prompt body}",
        "assessments_question q ON q.id = f.id",
        "q",
        "q.current AND q.archived_at IS NULL",
        ref="q.key",
        title="substr(coalesce(json_extract(q.document, '$.prompt'), ''), 1, 200)",
        kind="q.type",
    ),
    "post": _Fts5Type(
        "search_post",
        "{title body}",
        "records_record r ON r.id = f.id",
        "r",
        "coalesce(json_extract(r.fields, '$.deleted'), 0) = 0",
        ref="CAST(r.id AS TEXT)",
        title="r.title",
        kind="r.kind",
    ),
}


@_register
class SqliteEngine(Engine):
    """The query in FTS5's grammar (:func:`fts5_match`) over the text columns, and the
    caller's courses as words of the ``scope`` column, so the index narrows by course;
    ranked by ``bm25`` (titles and prompts weigh 4, the rest 1) among the first
    ``EDUVAULT_SEARCH_CANDIDATES`` matches of each type, as on PostgreSQL; ``snippet`` for
    the page's hits only (a second MATCH, by rowid)."""

    vendor = "sqlite"

    def hits(self, *, query: str, filters: Filters, limit: int, offset: int) -> list[RawHit]:
        words = fts5_match(query)
        if words is None or filters.courses == frozenset():
            return []
        take = limit + offset
        cap = max(settings.EDUVAULT_SEARCH_CANDIDATES, take)
        params: list[Any] = []
        parts = []
        matches: dict[str, str] = {}
        for type_ in TYPES:
            if type_ not in filters.types:
                continue
            t = _FTS5[type_]
            match = f"{t.text} : ({words})"
            if filters.courses is not None:
                match += " AND scope : (" + " OR ".join(course_token(c) for c in sorted(filters.courses)) + ")"
            matches[type_] = match
            params.extend((match, cap))
            parts.append(
                f"SELECT * FROM (SELECT '{type_}' AS type, f.id AS id, {t.ref} AS ref, c.key AS course,"
                f" {t.title} AS title, {t.kind} AS kind, f.score AS score"
                f" FROM (SELECT rowid AS id, -bm25({t.table}, 4.0, 1.0, 0.0) AS score FROM {t.table}"
                f" WHERE {t.table} MATCH %s LIMIT %s) f"
                f" JOIN {t.source} JOIN content_course c ON c.id = {t.alias}.course_id"
                f" WHERE {t.condition}" + _scope(filters, type_, t.alias, params) + " ORDER BY score DESC, ref LIMIT %s)"
            )
            params.append(take)
        if not parts:
            return []
        sql = " UNION ALL ".join(parts) + " ORDER BY score DESC, type, ref LIMIT %s OFFSET %s"
        with connection.cursor() as cursor:
            cursor.execute(sql, [*params, limit, offset])
            rows = cursor.fetchall()
            snippets = self._snippets(cursor, rows, matches, prompt_only=filters.prompt_only)
        return [
            RawHit(type_, ref, course, title, kind, snippets.get((type_, fts_id), ""), float(score))
            for type_, fts_id, ref, course, title, kind, score in rows
        ]

    @staticmethod
    def _snippets(cursor: Any, rows: list[tuple], matches: dict[str, str], *, prompt_only: bool) -> dict:
        """The snippets of the hits shown, per type one MATCH limited to their rowids."""
        wanted: dict[str, list[int]] = {}
        for type_, fts_id, *_ in rows:
            wanted.setdefault(type_, []).append(fts_id)
        out: dict[tuple[str, int], str] = {}
        for type_, ids in wanted.items():
            table = _FTS5[type_].table
            # Which text column: the best (title or body), or a question's prompt alone.
            column = 0 if type_ == "question" and prompt_only else -1
            cursor.execute(
                f"SELECT rowid, snippet({table}, {column}, char(2), char(3), ' … ', 24) FROM {table}"
                f" WHERE {table} MATCH %s AND rowid IN ({', '.join(['%s'] * len(ids))})",
                [matches[type_], *ids],
            )
            out.update(((type_, rowid), text) for rowid, text in cursor.fetchall())
        return out
