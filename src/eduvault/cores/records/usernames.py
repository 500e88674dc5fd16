"""Discourse usernames: turning a name, login or email from another platform into a username
Discourse accepts, as Discourse's own suggester does. Pure Python, standard library only.

Where each rule comes from (discourse/discourse, read from its source as stored in the public
index; Discourse with ``unicode_usernames`` off, its default):

``config/site_settings.yml``
    ``min_username_length`` 3, ``max_username_length`` 20, ``unicode_usernames`` false,
    ``reserved_usernames`` "admin|moderator|administrator|mod|sys|system|community|info|you|
    name|username|user|nickname|discourse|discourseorg|discourseforum|support|all|here"
    (:data:`RESERVED_USERNAMES`), ``use_email_for_username_and_name_suggestions`` false.

``app/models/username_validator.rb`` (:func:`is_valid_discourse_username`)
    Present; between the minimum and maximum length (counted in grapheme clusters, and at most
    ``MAX_CHARS`` = 60 characters); no character outside ``[\\w.-]`` (Ruby's ``\\w`` is
    ASCII: letters, digits, underscore); first character alphanumeric or "_"
    (``INVALID_LEADING_CHAR_PATTERN``); last character alphanumeric
    (``INVALID_TRAILING_CHAR_PATTERN``); no two of "-", "_", "." in a row
    (``REPEATED_SPECIAL_CHAR_PATTERN``); not ending in a confusing file extension such as
    ".json" or ".png" (``CONFUSING_EXTENSIONS``, case-insensitive). The name is NFC-normalized
    first. Reserved names are not a matter of format: ``User.username_available?`` refuses
    them (case-insensitively, ``*`` a wildcard), with names already taken.

``lib/user_name_suggester.rb`` (:func:`discourse_username`)
    * ``parse_name_from_email``: for ``walter@white.com`` take "walter"; when that is a
      generic name (i, me, info, support, admin, webmaster, hello, mail, office, contact,
      team), take the domain's first label ("me@eviltrout.com" gives "eviltrout").
    * ``suggest(*input)``: the first input that sanitizes to something is used.
    * ``sanitize_username``: transliterate to ASCII (``ActiveSupport::Inflector.transliterate``:
      NFC, then the i18n gem's approximations, "?" for the rest); replace each disallowed
      character with "_"; drop disallowed leading characters; replace a confusing extension
      with "_"; drop disallowed trailing characters; collapse runs of "-", "_", "." into "_".
    * ``fix_username``: an empty result becomes the fallback username, "user"
      (``LAST_RESORT_USERNAME``; the localized ``fallback_username`` could not be read, and is
      taken to be the same). "user" is reserved, so Discourse suggests "user1" (its spec says
      so for input made only of characters it cannot keep, such as "李雷" or "---").
    * ``rightsize_username``: cut to the maximum, drop disallowed trailing characters again,
      pad with "1" up to the minimum ("a" gives "a11").
    * ``find_available_username_based_on``: while the name is reserved or taken (compared
      lowercased), append 1, 2, 3, ..., cutting the name to leave room for the number
      ("myreallylongnam" taken gives "myreallylongna1" at 15); after 100 attempts, random hex.

Differences, all so that every result is valid and deterministic: characters the i18n table
does not know but that decompose to ASCII letters with marks ("ễ", "ș", "ﬁ") are stripped of
their marks rather than replaced ("Nguyễn" gives "Nguyen", not "Nguy_n"); a confusing
extension uncovered by trimming or cutting ("abc.json." or a cut that ends in ".png") is
replaced again, where Discourse would suggest a name its validator refuses; numbered attempts
go on to 1000 (Discourse jumps past the numbers already used by a query), and the last
attempts use hex digits of a SHA-256 of the name instead of random ones; when all fail,
:class:`UsernameError` is raised. Emails: Discourse itself only offers an email to the
suggester when ``use_email_for_username_and_name_suggestions`` is on (off by default: a
username made from an email shows part of the address); pass a display name or login when
one is known, with the email among ``fallbacks`` if at all.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Callable, Iterable

MIN_LENGTH = 3
MAX_LENGTH = 20
#: ``UsernameValidator::MAX_CHARS``: the longest a username may be in characters.
MAX_CHARS = 60
RESERVED_USERNAMES = (
    "admin",
    "moderator",
    "administrator",
    "mod",
    "sys",
    "system",
    "community",
    "info",
    "you",
    "name",
    "username",
    "user",
    "nickname",
    "discourse",
    "discourseorg",
    "discourseforum",
    "support",
    "all",
    "here",
)
GENERIC_NAMES = (
    "i",
    "me",
    "info",
    "support",
    "admin",
    "webmaster",
    "hello",
    "mail",
    "office",
    "contact",
    "team",
)
FALLBACK_USERNAME = "user"
#: Numbered attempts, then hashed ones, before giving up.
NUMBERED_ATTEMPTS = 1000
HASHED_ATTEMPTS = 100

CONFUSING_EXTENSIONS = re.compile(
    r"\.(js|json|css|htm|html|xml|jpg|jpeg|png|gif|bmp|ico|tif|tiff|woff)\Z", re.IGNORECASE | re.ASCII
)
_INVALID_CHAR = re.compile(r"[^\w.-]", re.ASCII)
_INVALID_LEADING = re.compile(r"\A[^A-Za-z0-9_]+")
_INVALID_TRAILING = re.compile(r"[^A-Za-z0-9]+\Z")
_REPEATED_SPECIAL = re.compile(r"[-_.]{2,}")
_VALID_FIRST = re.compile(r"[A-Za-z0-9_]")
_VALID_LAST = re.compile(r"[A-Za-z0-9]")
#: ``User::EMAIL``: searched, not anchored.
_EMAIL = re.compile(r"([^@]+)@([^.]+)")

#: The i18n gem's ``DEFAULT_APPROXIMATIONS`` that are not just a letter without its marks.
_APPROXIMATIONS = {
    "Æ": "AE",
    "æ": "ae",
    "Ð": "D",
    "ð": "d",
    "Ø": "O",
    "ø": "o",
    "Þ": "Th",
    "þ": "th",
    "ß": "ss",
    "ẞ": "SS",
    "×": "x",
    "Đ": "D",
    "đ": "d",
    "Ħ": "H",
    "ħ": "h",
    "ı": "i",
    "Ĳ": "IJ",
    "ĳ": "ij",
    "ĸ": "k",
    "Ŀ": "L",
    "ŀ": "l",
    "Ł": "L",
    "ł": "l",
    "ŉ": "'n",
    "Ŋ": "NG",
    "ŋ": "ng",
    "Œ": "OE",
    "œ": "oe",
    "Ŧ": "T",
    "ŧ": "t",
}


class UsernameError(ValueError):
    """No username could be found, or the limits asked for are not Discourse's kind."""


def _check_lengths(min_length: int, max_length: int) -> None:
    for value in (min_length, max_length):
        if isinstance(value, bool) or not isinstance(value, int):
            raise UsernameError(f"username lengths are whole numbers, not {value!r}")
    if not 1 <= min_length <= max_length <= MAX_CHARS:
        raise UsernameError(f"need 1 <= min_length <= max_length <= {MAX_CHARS}: {min_length}, {max_length}")


def is_valid_discourse_username(
    name: str, min_length: int = MIN_LENGTH, max_length: int = MAX_LENGTH
) -> bool:
    """Whether Discourse's ``UsernameValidator`` (ASCII usernames) accepts ``name``."""
    _check_lengths(min_length, max_length)
    if not isinstance(name, str):
        return False
    name = unicodedata.normalize("NFC", name)
    return bool(
        name.strip()
        and min_length <= len(name) <= min(max_length, MAX_CHARS)
        and not _INVALID_CHAR.search(name)
        and _VALID_FIRST.fullmatch(name[0])
        and _VALID_LAST.fullmatch(name[-1])
        and not _REPEATED_SPECIAL.search(name)
        and not CONFUSING_EXTENSIONS.search(name)
    )


def _transliterate(text: str) -> str:
    """ASCII for ``text``: the i18n approximations, marks stripped, "?" for the rest."""
    out = []
    for char in unicodedata.normalize("NFC", text):
        if char.isascii():
            out.append(char)
        elif char in _APPROXIMATIONS:
            out.append(_APPROXIMATIONS[char])
        else:
            bare = "".join(c for c in unicodedata.normalize("NFKD", char) if not unicodedata.combining(c))
            out.append(bare if bare and bare.isascii() else "?")
    return "".join(out)


def _without_confusing_end(name: str) -> str:
    while CONFUSING_EXTENSIONS.search(name):
        name = _INVALID_TRAILING.sub("", CONFUSING_EXTENSIONS.sub("_", name))
    return name


def _sanitize(name: str) -> str:
    name = _INVALID_CHAR.sub("_", _transliterate(name))
    name = _INVALID_LEADING.sub("", name)
    name = CONFUSING_EXTENSIONS.sub("_", name)
    name = _INVALID_TRAILING.sub("", name)
    name = _REPEATED_SPECIAL.sub("_", name)
    return _without_confusing_end(name)


def _name_from_email(text: str) -> str:
    match = _EMAIL.search(text)
    if match is None:
        return text
    local, domain = match.group(1), match.group(2)
    return domain if local in GENERIC_NAMES else local


def _rightsize(name: str, min_length: int, max_length: int) -> str:
    name = _without_confusing_end(_INVALID_TRAILING.sub("", name[:max_length]))
    return name + "1" * (min_length - len(name))


def _is_reserved(name: str, reserved: tuple[str, ...]) -> bool:
    lower = unicodedata.normalize("NFC", name).lower()
    for pattern in reserved:
        expression = re.escape(unicodedata.normalize("NFC", pattern).lower()).replace(r"\*", ".*")
        if re.fullmatch(expression, lower, re.DOTALL):
            return True
    return False


def _never_taken(_: str) -> bool:
    return False


def discourse_username(
    preferred: str | None,
    *,
    taken: Callable[[str], bool] = _never_taken,
    min_length: int = MIN_LENGTH,
    max_length: int = MAX_LENGTH,
    fallbacks: Iterable[str | None] = (),
    reserved: Iterable[str] = RESERVED_USERNAMES,
) -> str:
    """A username Discourse accepts for ``preferred`` (a name, a login, an email), as
    Discourse's ``UserNameSuggester`` makes one: "Chisomo Banda" gives "Chisomo_Banda",
    "amina.phiri@school.mw" "amina.phiri", "Jørn" "Jorn", "x" "x11", "李雷" "user1".

    ``fallbacks`` are tried in turn when ``preferred`` keeps no character. ``taken`` says
    whether a candidate is already someone's (compare lowercased: Discourse usernames are
    unique ignoring case); ``reserved`` names are never returned. The same arguments always
    give the same username. Raises :class:`UsernameError` when every attempt is taken."""
    _check_lengths(min_length, max_length)
    refused = tuple(reserved)
    chosen = ""
    for item in (preferred, *fallbacks):
        if item is not None:
            chosen = _sanitize(_name_from_email(str(item)))
            if chosen:
                break
    name = _rightsize(chosen or _sanitize(FALLBACK_USERNAME), min_length, max_length)

    def available(candidate: str) -> bool:
        return not _is_reserved(candidate, refused) and not taken(candidate)

    if available(name):
        return name
    for number in range(1, NUMBERED_ATTEMPTS + 1):
        suffix = str(number)
        if len(suffix) > max_length:
            break
        candidate = name[: max_length - len(suffix)] + suffix
        if available(candidate):
            return candidate
    for attempt in range(HASHED_ATTEMPTS):
        digest = hashlib.sha256(f"{name}\x00{attempt}".encode()).hexdigest()
        candidate = digest[1 : max_length + 1]
        if len(candidate) >= min_length and available(candidate):
            return candidate
    raise UsernameError(f"no username is free for {preferred!r} (tried {name!r}, numbered and hashed)")
