"""Whole numbers in queries: plain digits within a 64-bit column, or a 400 naming the parameter."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from eduvault.kernel.errors import InvalidInput
from eduvault.kernel.validation import MAX_ID, whole_number


@given(st.integers(0, MAX_ID))
def test_every_number_that_fits_reads_back(number):
    assert whole_number(str(number), "after") == number


@given(st.integers(MAX_ID + 1, 10**40) | st.integers(max_value=-1))
def test_numbers_that_do_not_fit_are_refused_by_name(number):
    with pytest.raises(InvalidInput, match=r"^after must be at (most|least)"):
        whole_number(str(number), "after")


@given(st.text(max_size=30))
def test_any_text_is_a_number_in_range_or_a_400_naming_the_parameter(text):
    try:
        number = whole_number(text, "limit", minimum=1)
    except InvalidInput as exc:
        assert exc.detail.startswith("limit must be")
        assert len(exc.detail) < 500  # the value is shown, shortened
    else:
        assert number is None or 1 <= number <= MAX_ID


@pytest.mark.parametrize(
    "text", ["true", "1e3", "0x10", "1.0", "١٢", "½", " ", "+-1", "99999999999999999999"]
)
def test_what_is_not_a_plain_number_is_refused(text):
    with pytest.raises(InvalidInput, match=r"^limit must be"):
        whole_number(text, "limit")


def test_absent_is_none():
    assert whole_number(None, "x") is None and whole_number("", "x") is None
