"""Set-based writes: insert, update or delete any number of rows in one statement.

Each operation ships its rows as one JSON document parameter and lets the database expand
it (``jsonb_to_recordset`` on PostgreSQL, ``json_each`` on SQLite), so a sync issues the
same handful of statements whether it changes one node or a hundred thousand.

Values must be JSON-ready: UUIDs as hex strings, JSON columns as Python objects.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

import orjson
from django.db import connection, models
from django.utils.dateparse import parse_datetime

# Column SQL types for PostgreSQL's recordset definitions, by Django internal type.
_PG_TYPES = {
    "UUIDField": "uuid",
    "BigAutoField": "bigint",
    "BigIntegerField": "bigint",
    "ForeignKey": None,  # the target's type
    "PositiveIntegerField": "integer",
    "IntegerField": "integer",
    "CharField": "text",
    "TextField": "text",
    "JSONField": "jsonb",
    "DateTimeField": "timestamptz",
    "BooleanField": "boolean",
    "FloatField": "double precision",
    "PositiveSmallIntegerField": "integer",
    "SmallIntegerField": "smallint",
}


def _column(model: type[models.Model], name: str) -> tuple[str, str, bool]:
    """(db column, PostgreSQL type, is JSON) for a model field name."""
    field = model._meta.get_field(name)
    kind = field.get_internal_type()
    if kind == "ForeignKey":
        kind = field.target_field.get_internal_type()  # type: ignore[union-attr]
    pg = _PG_TYPES[kind]
    return field.column, pg or "text", kind == "JSONField"  # type: ignore[union-attr]


def _is_postgres() -> bool:
    return connection.vendor == "postgresql"


def _payload(rows: Sequence[dict[str, Any]]) -> str:
    return orjson.dumps(rows).decode()


def _sqlite_value(name: str, is_json: bool) -> str:
    path = f"'$.\"{name}\"'"
    extract = f"json_extract(j.value, {path})"
    if not is_json:
        return extract
    # A JSONField is stored as JSON text on SQLite. json_extract gives objects and arrays as
    # JSON text already, but strings unquoted and booleans as 1/0: re-encode those. JSON
    # null becomes SQL NULL, as Django stores None.
    return (
        f"CASE json_type(j.value, {path}) WHEN 'null' THEN NULL WHEN 'true' THEN 'true' "
        f"WHEN 'false' THEN 'false' WHEN 'text' THEN json_quote({extract}) ELSE {extract} END"
    )


def _sqlite_times(model: type[models.Model], rows: Sequence[dict[str, Any]]) -> Sequence[dict[str, Any]]:
    """Date-times as Django stores them on SQLite (UTC text, ``YYYY-MM-DD HH:MM:SS[.ffffff]``),
    so that rows written here compare and sort with rows the ORM wrote."""
    names = [n for n in rows[0] if model._meta.get_field(n).get_internal_type() == "DateTimeField"]
    if not names:
        return rows
    adapt = connection.ops.adapt_datetimefield_value
    out = []
    for row in rows:
        row = dict(row)
        for name in names:
            value = row[name]
            if isinstance(value, str):
                value = parse_datetime(value)
            row[name] = adapt(value) if value is not None else None
        out.append(row)
    return out


def insert_rows(model: type[models.Model], rows: Sequence[dict[str, Any]]) -> int:
    """INSERT every row in one statement (``COPY`` on PostgreSQL), in the order given."""
    if not rows:
        return 0
    if not _is_postgres():
        rows = _sqlite_times(model, rows)
    table = connection.ops.quote_name(model._meta.db_table)
    names = list(rows[0])
    cols = [_column(model, n) for n in names]
    column_list = ", ".join(connection.ops.quote_name(c) for c, _, _ in cols)
    if _is_postgres():
        return _copy_rows(table, column_list, names, [js for _, _, js in cols], rows)
    else:
        select = ", ".join(_sqlite_value(n, js) for n, (_, _, js) in zip(names, cols))
        sql = f"INSERT INTO {table} ({column_list}) SELECT {select} FROM json_each(%s) AS j ORDER BY j.key"
    with connection.cursor() as cursor:
        cursor.execute(sql, [_payload(rows)])
        return cursor.rowcount


def _copy_rows(
    table: str, column_list: str, names: list[str], json_columns: list[bool], rows: Sequence[dict[str, Any]]
) -> int:
    """PostgreSQL's COPY: the fastest way in, one statement whatever the number of rows."""
    sql = f"COPY {table} ({column_list}) FROM STDIN"
    dumps = orjson.dumps
    started = time.perf_counter()
    with connection.cursor() as cursor, cursor.cursor.copy(sql) as copy:
        write = copy.write_row
        for row in rows:
            write(
                [
                    (None if row[n] is None else dumps(row[n]).decode()) if js else row[n]
                    for n, js in zip(names, json_columns)
                ]
            )
    if connection.queries_logged:  # count it like any other statement (tests, benchmarks)
        connection.queries_log.append({"sql": sql, "time": f"{time.perf_counter() - started:.3f}"})
    return len(rows)


def update_rows(model: type[models.Model], rows: Sequence[dict[str, Any]], *, key: str = "id") -> int:
    """UPDATE the rows matching each row's ``key``, setting its other values, in one statement."""
    if not rows:
        return 0
    if not _is_postgres():
        rows = _sqlite_times(model, rows)
    table = connection.ops.quote_name(model._meta.db_table)
    names = list(rows[0])
    key_col = _column(model, key)[0]
    sets = [n for n in names if n != key]
    qn = connection.ops.quote_name
    if _is_postgres():
        record = ", ".join(f"{qn(n)} {_column(model, n)[1]}" for n in names)
        assignments = ", ".join(f"{qn(_column(model, n)[0])} = r.{qn(n)}" for n in sets)
        sql = (
            f"UPDATE {table} AS t SET {assignments} FROM jsonb_to_recordset(%s::jsonb) AS r({record}) "
            f"WHERE t.{qn(key_col)} = r.{qn(key)}"
        )
    else:
        assignments = ", ".join(
            f"{qn(_column(model, n)[0])} = {_sqlite_value(n, _column(model, n)[2])}" for n in sets
        )
        sql = (
            f"UPDATE {table} SET {assignments} FROM json_each(%s) AS j "
            f"WHERE {table}.{qn(key_col)} = json_extract(j.value, '$.\"{key}\"')"
        )
    with connection.cursor() as cursor:
        cursor.execute(sql, [_payload(rows)])
        return cursor.rowcount


def delete_rows(model: type[models.Model], keys: Sequence[Any], *, key: str = "id") -> int:
    """DELETE the rows whose ``key`` is in ``keys``, in one statement."""
    if not keys:
        return 0
    table = connection.ops.quote_name(model._meta.db_table)
    column, pg, _ = _column(model, key)
    if _is_postgres():
        sql = f"DELETE FROM {table} WHERE {connection.ops.quote_name(column)} IN (SELECT value::{pg} FROM jsonb_array_elements_text(%s::jsonb))"
    else:
        sql = f"DELETE FROM {table} WHERE {connection.ops.quote_name(column)} IN (SELECT value FROM json_each(%s))"
    with connection.cursor() as cursor:
        cursor.execute(sql, [_payload(list(keys))])
        return cursor.rowcount
