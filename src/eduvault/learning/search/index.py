"""The search index, kept by the database itself in the transaction of every change.

PostgreSQL: a generated ``tsvector`` column on each searchable table (course nodes,
questions, forum posts among the learner records) with a GIN index. Each text is read
twice, by the ``english`` configuration (stemmed: "equations" finds "equation") and by
``simple`` (every word as written: Chichewa, names, words English stems badly); a query is
read both ways too, so either reading matches. Titles and prompts weigh A, the rest B.

SQLite (the embedded default): one FTS5 table per searchable table (``porter unicode61``
tokenizer: English stemming, accents folded, any other word matched as written), filled by
triggers; besides the text, each row holds its course as a word (``scope``), so that a
search within some courses is narrowed by the index itself. A node's id is a UUID, so its
FTS row is numbered by a small key table rather than by the node's rowid, which ``VACUUM``
or a rebuilt table may renumber.

:func:`install` is idempotent; it runs from this app's migration and after every
``migrate`` (a migration that rebuilds one of these tables on SQLite drops its triggers:
they are put back and that index rebuilt from its table).
"""

from __future__ import annotations

from typing import Any

import structlog

log = structlog.get_logger(__name__)

_BOTH = "setweight(to_tsvector('english'::regconfig, {text}), '{w}') || setweight(to_tsvector('simple'::regconfig, {text}), '{w}')"


def _both(text: str, weight: str) -> str:
    return _BOTH.format(text=text, w=weight)


#: table -> (generated expression, the partial index's condition)
POSTGRES_VECTORS: dict[str, tuple[str, str]] = {
    "content_node": (
        _both("coalesce(title, '')", "A") + " || " + _both("coalesce(attributes->>'description', '')", "B"),
        "",
    ),
    "assessments_question": (
        _both("coalesce(document->>'prompt', '')", "A") + " || " + _both("coalesce(search_text, '')", "B"),
        "current AND archived_at IS NULL",
    ),
    "records_record": (
        "CASE WHEN kind = 'forum_post' THEN "
        + _both("coalesce(title, '')", "A")
        + " || "
        + _both("coalesce(fields->>'raw', '')", "B")
        + " END",
        "kind = 'forum_post'",
    ),
}


def _postgres(cursor: Any) -> None:
    for table, (expression, condition) in POSTGRES_VECTORS.items():
        cursor.execute(
            f"ALTER TABLE {table} ADD COLUMN IF NOT EXISTS search_vector tsvector "
            f"GENERATED ALWAYS AS ({expression}) STORED"
        )
        where = f" WHERE {condition}" if condition else ""
        cursor.execute(f"CREATE INDEX IF NOT EXISTS {table}_search ON {table} USING GIN (search_vector){where}")


_TOKENIZER = "tokenize='porter unicode61 remove_diacritics 2'"

#: FTS table -> (source table, its columns as SQL over ``{row}``, the rows indexed, the
#: statements that (re)fill it from the source, the triggers that keep it)
_SCOPE = "'c' || coalesce({row}.course_id, '')"
_NODE_TEXT = "{row}.title, coalesce(json_extract({row}.attributes, '$.description'), ''), " + _SCOPE
_QUESTION_TEXT = "coalesce(json_extract({row}.document, '$.prompt'), ''), {row}.search_text, " + _SCOPE
_POST_TEXT = "{row}.title, coalesce(json_extract({row}.fields, '$.raw'), ''), " + _SCOPE

SQLITE_TABLES: dict[str, dict[str, str]] = {
    "search_node": {"source": "content_node", "columns": "title, body, scope"},
    "search_question": {"source": "assessments_question", "columns": "prompt, body, scope"},
    "search_post": {"source": "records_record", "columns": "title, body, scope"},
}


def course_token(course_id: int) -> str:
    """The word a row's ``scope`` column holds for its course: a course filter is then part
    of the MATCH, read from the index, not a test of every matching row."""
    return f"c{course_id}"


_SQLITE_TRIGGERS: dict[str, list[tuple[str, str]]] = {
    "search_node": [
        (
            "search_node_insert",
            "AFTER INSERT ON content_node BEGIN "
            "INSERT INTO search_node_key(node_id) VALUES (new.id); "
            "INSERT INTO search_node(rowid, title, body, scope) SELECT k.rowid, "
            + _NODE_TEXT.format(row="new")
            + " FROM search_node_key k WHERE k.node_id = new.id; END",
        ),
        (
            "search_node_delete",
            "AFTER DELETE ON content_node BEGIN "
            "DELETE FROM search_node WHERE rowid = (SELECT rowid FROM search_node_key WHERE node_id = old.id); "
            "DELETE FROM search_node_key WHERE node_id = old.id; END",
        ),
        (
            "search_node_update",
            "AFTER UPDATE OF title, attributes, course_id ON content_node BEGIN "
            "DELETE FROM search_node WHERE rowid = (SELECT rowid FROM search_node_key WHERE node_id = old.id); "
            "INSERT INTO search_node(rowid, title, body, scope) SELECT k.rowid, "
            + _NODE_TEXT.format(row="new")
            + " FROM search_node_key k WHERE k.node_id = new.id; END",
        ),
    ],
    "search_question": [
        (
            "search_question_insert",
            "AFTER INSERT ON assessments_question BEGIN "
            "INSERT INTO search_question(rowid, prompt, body, scope) VALUES (new.id, "
            + _QUESTION_TEXT.format(row="new")
            + "); END",
        ),
        (
            "search_question_delete",
            "AFTER DELETE ON assessments_question BEGIN DELETE FROM search_question WHERE rowid = old.id; END",
        ),
        (
            "search_question_update",
            "AFTER UPDATE OF document, search_text, course_id ON assessments_question BEGIN "
            "DELETE FROM search_question WHERE rowid = old.id; "
            "INSERT INTO search_question(rowid, prompt, body, scope) VALUES (new.id, "
            + _QUESTION_TEXT.format(row="new")
            + "); END",
        ),
    ],
    "search_post": [
        (
            "search_post_insert",
            "AFTER INSERT ON records_record WHEN new.kind = 'forum_post' BEGIN "
            "INSERT INTO search_post(rowid, title, body, scope) VALUES (new.id, " + _POST_TEXT.format(row="new") + "); END",
        ),
        (
            "search_post_delete",
            "AFTER DELETE ON records_record WHEN old.kind = 'forum_post' BEGIN "
            "DELETE FROM search_post WHERE rowid = old.id; END",
        ),
        (
            "search_post_update",
            "AFTER UPDATE OF kind, title, fields, course_id ON records_record "
            "WHEN new.kind = 'forum_post' OR old.kind = 'forum_post' BEGIN "
            "DELETE FROM search_post WHERE rowid = old.id; "
            "INSERT INTO search_post(rowid, title, body, scope) SELECT new.id, "
            + _POST_TEXT.format(row="new")
            + " WHERE new.kind = 'forum_post'; END",
        ),
    ],
}

_SQLITE_FILL = {
    "search_node": [
        "DELETE FROM search_node",
        "DELETE FROM search_node_key",
        "INSERT INTO search_node_key(node_id) SELECT id FROM content_node",
        "INSERT INTO search_node(rowid, title, body, scope) SELECT k.rowid, "
        + _NODE_TEXT.format(row="n")
        + " FROM content_node n JOIN search_node_key k ON k.node_id = n.id",
    ],
    "search_question": [
        "DELETE FROM search_question",
        "INSERT INTO search_question(rowid, prompt, body, scope) SELECT q.id, "
        + _QUESTION_TEXT.format(row="q")
        + " FROM assessments_question q",
    ],
    "search_post": [
        "DELETE FROM search_post",
        "INSERT INTO search_post(rowid, title, body, scope) SELECT r.id, "
        + _POST_TEXT.format(row="r")
        + " FROM records_record r WHERE r.kind = 'forum_post'",
    ],
}


def _sqlite(cursor: Any) -> None:
    cursor.execute(
        "CREATE TABLE IF NOT EXISTS search_node_key (rowid INTEGER PRIMARY KEY, node_id TEXT NOT NULL UNIQUE)"
    )
    cursor.execute("SELECT name FROM sqlite_master WHERE type IN ('table', 'trigger')")
    present = {row[0] for row in cursor.fetchall()}
    for table, spec in SQLITE_TABLES.items():
        if table in present:
            cursor.execute(f"SELECT name FROM pragma_table_info('{table}')")
            if [row[0] for row in cursor.fetchall()] != [c.strip() for c in spec["columns"].split(",")]:
                # An index of an earlier version (before the course column): made again.
                cursor.execute(f"DROP TABLE {table}")
                present.discard(table)
                log.warning("search.index_upgraded", table=table, columns=spec["columns"])
        cursor.execute(f"CREATE VIRTUAL TABLE IF NOT EXISTS {table} USING fts5({spec['columns']}, {_TOKENIZER})")
        triggers = _SQLITE_TRIGGERS[table]
        if table in present and all(name in present for name, _ in triggers):
            continue
        for name, body in triggers:
            cursor.execute(f"DROP TRIGGER IF EXISTS {name}")
            cursor.execute(f"CREATE TRIGGER {name} {body}")
        for statement in _SQLITE_FILL[table]:
            cursor.execute(statement)
        if table in present:  # it was there without its triggers: say so once
            log.warning("search.index_rebuilt", table=table, source=spec["source"])


def install(connection: Any) -> None:
    """Create (or repair) the search index on ``connection``'s database."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            _postgres(cursor)
        elif connection.vendor == "sqlite":
            _sqlite(cursor)
        else:
            raise NotImplementedError(f"search has no index for {connection.vendor}")


def uninstall(connection: Any) -> None:
    """Remove the search index (the migration's way back)."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            for table in POSTGRES_VECTORS:
                cursor.execute(f"ALTER TABLE {table} DROP COLUMN IF EXISTS search_vector")
        elif connection.vendor == "sqlite":
            for table, triggers in _SQLITE_TRIGGERS.items():
                for name, _ in triggers:
                    cursor.execute(f"DROP TRIGGER IF EXISTS {name}")
                cursor.execute(f"DROP TABLE IF EXISTS {table}")
            cursor.execute("DROP TABLE IF EXISTS search_node_key")
