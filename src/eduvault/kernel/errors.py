"""The one exception hierarchy of Edu Vault.

Pure Python (no Django) so that the diff engine and the connectors' normalizers can raise
these too. Each error's docstring is its default message; ``status`` is the HTTP status the
API renders it with (as problem+json, see ``eduvault.kernel.problems``) and ``exit_code`` is
what the CLI exits with.
"""

from __future__ import annotations

from typing import Any


class EduVaultError(Exception):
    """Something went wrong inside Edu Vault."""

    status: int = 500
    exit_code: int = 1
    #: A transient error may succeed if the same work is tried again later.
    transient: bool = False

    def __init__(self, detail: str | None = None, **context: Any) -> None:
        self.detail = detail or " ".join((self.__doc__ or "").split())
        self.context = context
        super().__init__(self.detail)

    @property
    def title(self) -> str:
        """A short human title derived from the class name (``CourseNotFound`` -> ``Course not found``)."""
        name = type(self).__name__
        words = []
        for i, ch in enumerate(name):
            if ch.isupper() and i:
                words.append(" ")
            words.append(ch.lower() if words else ch)
        return "".join(words)


class InvalidInput(EduVaultError):
    """The input is not valid."""

    status = 400
    exit_code = 2


class InvalidStructure(InvalidInput):
    """The course structure is not a valid tree."""

    status = 422

    def __init__(self, problems: list[str] | str, **context: Any) -> None:
        self.problems = [problems] if isinstance(problems, str) else list(problems)
        first = self.problems[0] if self.problems else "invalid structure"
        more = len(self.problems) - 1
        detail = first if more <= 0 else f"{first} (and {more} more problem{'s' * (more > 1)})"
        super().__init__(detail, **context)


class InvalidQuestion(InvalidStructure):
    """The question document is not valid."""


class InvalidAnswer(InvalidInput):
    """The answer does not fit the question."""

    status = 422


class ChangeSetConflict(EduVaultError):
    """The change set does not apply to this tree."""

    status = 409


class NotFound(EduVaultError):
    """Not found."""

    status = 404
    exit_code = 3


class CourseNotFound(NotFound):
    """No such course."""


class VersionNotFound(NotFound):
    """The course has no such version."""


class SourceNotFound(NotFound):
    """No source is registered under that name."""


class RunNotFound(NotFound):
    """No such sync run."""


class Conflict(EduVaultError):
    """The request conflicts with the current state."""

    status = 409


class AssessmentNotFound(NotFound):
    """No such assessment."""


class AttemptNotFound(NotFound):
    """No such attempt."""


class QuestionNotFound(NotFound):
    """No such question."""


class PersonNotFound(NotFound):
    """No such person."""


class AttemptClosed(Conflict):
    """The attempt is closed: it takes no more answers."""


class TimeUp(AttemptClosed):
    """The time for this attempt is up."""


class AssessmentUnavailable(Conflict):
    """The assessment cannot be attempted now."""


class ConcurrentUpdate(Conflict):
    """Another sync changed the course at the same time; nothing was applied."""

    transient = True


class SourceError(EduVaultError):
    """The source platform could not be read."""

    status = 502


class SourceUnavailable(SourceError):
    """The source platform did not answer in time or answered with a server error."""

    transient = True


class SourceRateLimited(SourceUnavailable):
    """The source platform asked us to slow down (429)."""

    def __init__(self, detail: str | None = None, *, retry_after: float | None = None, **context: Any):
        self.retry_after = retry_after
        super().__init__(detail, **context)


class SourceRejected(SourceError):
    """The source platform rejected our credentials or request."""


class CourseNotFoundAtSource(SourceError):
    """The source platform does not know this course."""

    status = 404


class AuthenticationFailed(EduVaultError):
    """Missing or invalid credentials."""

    status = 401


class PermissionDenied(EduVaultError):
    """These credentials may not do that."""

    status = 403


class TooManyAttempts(EduVaultError):
    """Too many attempts; wait before trying again."""

    status = 429

    def __init__(self, detail: str | None = None, *, retry_after: float, **context: Any) -> None:
        self.retry_after = retry_after
        super().__init__(detail, **context)


class MalformedEvent(InvalidInput):
    """The body is not an event of the form the platform sends."""

    status = 400


class UnknownEventType(InvalidInput):
    """This event type is not one Edu Vault accepts."""

    status = 422


class InvalidEvent(InvalidInput):
    """The event is not a valid event of its type."""

    status = 422
