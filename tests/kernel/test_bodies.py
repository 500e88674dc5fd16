"""The one JSON body parser: any document within the depth is read as it is; anything deeper,
or holding a NUL, is a MalformedBody naming the place; nothing exhausts the stack."""

from __future__ import annotations

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from eduvault.kernel.bodies import MalformedBody, check_document, parse_json

LIMIT = 32

scalars = (
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**64 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=5)
)
documents = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner, max_size=3),
    max_leaves=40,
)


def depth(value) -> int:
    if isinstance(value, dict):
        return 1 + max((depth(v) for v in value.values()), default=0)
    if isinstance(value, list):
        return 1 + max((depth(v) for v in value), default=0)
    return 0


def has_nul(value) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any("\x00" in k or has_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(has_nul(v) for v in value)
    return False


@settings(max_examples=300)
@given(documents)
def test_documents_within_the_limit_read_back_unchanged(document):
    raw = orjson.dumps(document)
    if has_nul(document):
        with pytest.raises(MalformedBody, match="NUL character"):
            parse_json(raw)
    else:
        assert parse_json(raw) == document


@settings(max_examples=100)
@given(st.integers(LIMIT + 1, 200_000), st.sampled_from(["[]", "{}"]), st.booleans())
def test_any_depth_beyond_the_limit_is_refused_never_a_recursion_error(levels, brackets, closed):
    if brackets == "[]":
        raw = "[" * levels + "]" * (levels if closed else 0)
    else:
        raw = '{"a":' * (levels - 1) + "{}" + "}" * ((levels - 1) if closed else 0)
    with pytest.raises(MalformedBody) as refused:
        parse_json(raw)
    if closed:
        assert "nests deeper than 32 levels" in refused.value.detail


@given(st.integers(1, LIMIT))
def test_the_limit_itself_is_accepted(levels):
    assert depth(parse_json("[" * levels + "]" * levels)) == levels


def test_the_place_is_named():
    with pytest.raises(MalformedBody, match=r"at data\.items\[1\]\.x"):
        check_document({"data": {"items": [0, {"x": [[[[]]]]}]}}, max_depth=5)
    with pytest.raises(MalformedBody, match=r"data\.name contains a NUL character"):
        parse_json(b'{"data": {"name": "a\\u0000b"}}')
    with pytest.raises(MalformedBody, match="is not valid JSON"):
        parse_json(b'{"data": ')
