"""Discourse usernames: the suggester's examples, the validator's rules, and properties."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from eduvault.cores.records.usernames import (
    GENERIC_NAMES,
    RESERVED_USERNAMES,
    UsernameError,
    discourse_username,
    is_valid_discourse_username,
)


@pytest.mark.parametrize(
    ("preferred", "expected"),
    [
        ("amina.phiri@school.mw", "amina.phiri"),
        ("Chisomo Banda", "Chisomo_Banda"),
        ("李雷", "user1"),  # nothing kept: the fallback "user", which is reserved
        ("x", "x11"),
        ("Jørn", "Jorn"),
        ("Łukasz Żółć", "Lukasz_Zolc"),
        ("Nguyễn Văn An", "Nguyen_Van_An"),
        ("Darth%^Vader", "Darth_Vader"),
        ("=myname", "_myname"),
        ("_myname", "_myname"),
        ("myname!^$=", "myname"),
        ("---", "user1"),
        ("my.name", "my.name"),
        ("my..name", "my_name"),
        ("..myname", "myname"),
        ("myname..", "myname"),
        ("Darth__Vader", "Darth_Vader"),
        ("Darth_-_Vader", "Darth_Vader"),
        ("me@eviltrout.com", "eviltrout"),
        ("i@eviltrout.com", "eviltrout"),
        ("a.png", "a11"),
        ("abc.json.", "abc"),  # Discourse would suggest "abc.json", which its validator refuses
        ("Admin", "Admin1"),  # reserved, ignoring case
        (None, "user1"),
    ],
)
def test_the_suggesters_examples(preferred: str | None, expected: str) -> None:
    assert discourse_username(preferred) == expected


def test_generic_email_names_take_the_domain() -> None:
    for name in GENERIC_NAMES:
        assert discourse_username(f"{name}@apple.org") == "apple"


def test_lengths_at_fifteen_as_in_discourses_spec() -> None:
    assert discourse_username("myreallylongnameisrobinwardesquire", max_length=15) == "myreallylongnam"
    assert discourse_username("roger.nelson.3344913", max_length=15) == "roger.nelson.33"
    assert not discourse_username("uuuuuuuuuuuuuu_u", max_length=15).endswith("_")
    assert discourse_username("uuuuuuu_u", min_length=8, max_length=8) == "uuuuuuu1"
    taken = {"myreallylongnam"}
    assert (
        discourse_username("myreallylongnam", max_length=15, taken=lambda n: n.lower() in taken)
        == "myreallylongna1"
    )


def test_a_cut_that_ends_in_an_extension_is_trimmed() -> None:
    assert discourse_username("aaaaaaaaaaaaaaa.jsonxyz") == "aaaaaaaaaaaaaaa"


def test_numbers_are_added_while_taken_or_reserved() -> None:
    taken = {"sam", "sam1", "sam2", "sam4"}
    assert discourse_username("saM", taken=lambda n: n.lower() in taken) == "saM3"
    assert discourse_username("steve", reserved=["myadmin", "steve", "steve1"]) == "steve2"
    assert discourse_username("moderator7", reserved=["mod*"]) != "moderator7"
    assert discourse_username("user", reserved=()) == "user"


def test_fallbacks_are_used_when_the_preferred_keeps_nothing() -> None:
    assert discourse_username("李雷", fallbacks=["Li Lei"]) == "Li_Lei"
    assert discourse_username("William", fallbacks=["علي"]) == "William"
    assert discourse_username("Πλάτων", fallbacks=[None, "علي", "William"]) == "William"


def test_gives_up_rather_than_returning_a_taken_name() -> None:
    with pytest.raises(UsernameError):
        discourse_username("bob", taken=lambda _: True)


def test_limits_are_checked() -> None:
    for limits in ((0, 20), (5, 4), (3, 61), (True, 20)):
        with pytest.raises(UsernameError):
            discourse_username("bob", min_length=limits[0], max_length=limits[1])


def test_validator_rules() -> None:
    valid = ["bob", "_bob", "b.o-b_1", "Chisomo_Banda", "a" * 20, "abc.jso"]
    invalid = [
        "",
        "   ",
        "ab",  # too short
        "a" * 21,  # too long
        "bo b",
        "bøb",  # not ASCII (unicode usernames are off by default)
        ".bob",
        "-bob",
        "bob_",
        "bob.",
        "bo__b",
        "bo.-b",
        "bob.json",
        "bob.PNG",
        "bob\n",
    ]
    for name in valid:
        assert is_valid_discourse_username(name), name
    for name in invalid:
        assert not is_valid_discourse_username(name), name
    assert not is_valid_discourse_username(None)  # type: ignore[arg-type]
    assert is_valid_discourse_username("ab", min_length=2)


def test_reserved_defaults_are_discourses() -> None:
    assert "user" in RESERVED_USERNAMES and "here" in RESERVED_USERNAMES and "admin" in RESERVED_USERNAMES


# -- properties ----------------------------------------------------------------------------------

names = st.one_of(
    st.text(),
    st.text(alphabet=st.characters(codec="ascii")),
    st.from_regex(r"[a-z.\-_]{0,30}(\.(json|png|js))?[.\-_]{0,3}", fullmatch=True),
    st.emails(),
)
limits = st.tuples(st.integers(1, 20), st.integers(0, 40)).map(lambda t: (t[0], min(60, t[0] + t[1])))


@given(names, limits)
@settings(max_examples=300)
def test_any_input_gives_a_valid_username(preferred: str, bounds: tuple[int, int]) -> None:
    low, high = bounds
    username = discourse_username(preferred, min_length=low, max_length=high)
    assert is_valid_discourse_username(username, low, high), username
    assert username.lower() not in RESERVED_USERNAMES
    assert discourse_username(preferred, min_length=low, max_length=high) == username


@given(names, limits, st.integers(1, 5))
def test_taken_first_choices_give_another_valid_username(
    preferred: str, bounds: tuple[int, int], n: int
) -> None:
    low, high = bounds
    firsts: set[str] = set()
    for _ in range(n):
        firsts.add(
            discourse_username(
                preferred, min_length=low, max_length=high, taken=lambda c: c.lower() in firsts
            ).lower()
        )
    taken = firsts
    username = discourse_username(
        preferred, min_length=low, max_length=high, taken=lambda c: c.lower() in taken
    )
    assert username.lower() not in taken
    assert is_valid_discourse_username(username, low, high), username
