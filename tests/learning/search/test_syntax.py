"""The search box's syntax in FTS5's grammar: pure, against SQLite's own FTS5 (no Django)."""

from __future__ import annotations

import sqlite3

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from eduvault.learning.search.syntax import MAX_TERMS, fts5_match, parse

DOCS = {
    1: "Solving quadratic equations by factorising",
    2: "Angles in a semicircle are right angles",
    3: "Madzi ndi moyo: kusunga madzi",
    4: "Circle theorems and the radius",
}


@pytest.fixture(scope="module")
def fts():
    db = sqlite3.connect(":memory:")
    db.execute("CREATE VIRTUAL TABLE t USING fts5(body, tokenize='porter unicode61 remove_diacritics 2')")
    db.executemany("INSERT INTO t(rowid, body) VALUES (?, ?)", DOCS.items())
    return db


def found(db: sqlite3.Connection, query: str) -> set[int]:
    match = fts5_match(query)
    if match is None:
        return set()
    return {row[0] for row in db.execute("SELECT rowid FROM t WHERE t MATCH ?", (match,))}


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("quadratic equation", {1}),  # every word, stemmed: "equation" finds "equations"
        ("angle", {2}),
        ('"right angles"', {2}),  # a phrase
        ('"angles right"', set()),  # a phrase is in order
        ("madzi", {3}),  # a Chichewa word, as written
        ("circle or madzi", {3, 4}),
        ("circle -radius", set()),
        ("angles -radius", {2}),
        ("theorems OR quadratic -factorising", {4}),
        ("-radius", set()),  # a lone negation is no search
        ("", set()),
        ("   ", set()),
        ('"', set()),
        ("NOT AND OR NEAR", set()),  # FTS5's operators are plain words here
    ],
)
def test_queries_mean_what_websearch_means(fts, query, expected):
    assert found(fts, query) == expected


def test_operators_and_punctuation_are_words_not_syntax():
    assert fts5_match('NEAR(a b) "x" OR -y') == '("NEAR a" AND "b" AND "x")'
    assert fts5_match('say "hi') == '("say" AND "hi")'
    assert fts5_match("x^2 + c*") == '("x 2" AND "c")'


def test_terms_are_bounded():
    assert len(parse(" ".join(f"w{i}" for i in range(100)))) == MAX_TERMS
    assert parse("a" * 1000)[0].text == "a" * 200


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=80))
def test_no_input_is_an_fts5_syntax_error(text):
    db = sqlite3.connect(":memory:")
    db.execute("CREATE VIRTUAL TABLE t USING fts5(body, tokenize='porter unicode61 remove_diacritics 2')")
    db.execute("INSERT INTO t(body) VALUES ('anything at all')")
    match = fts5_match(text)
    if match is not None:
        db.execute("SELECT rowid FROM t WHERE t MATCH ?", (match,)).fetchall()
