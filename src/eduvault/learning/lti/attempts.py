"""A learner's attempt in an LMS page: the assessment a launch opened, its questions shown
at once, answered one by one (idempotent: each form carries its own client id), submitted.

Every form carries the page's credential (signed: the learner's account and the attempt,
valid for the attempt's time and a margin), never a cookie: the browser of a learner in an
LMS iframe may not keep one. Answers go through the assessments' services, so grading,
progressive feedback, deadlines and the grade's record are theirs."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.core import signing

from eduvault.identity.models import Role
from eduvault.identity.tokens import SignedIn
from eduvault.kernel.errors import InvalidInput, PermissionDenied
from eduvault.learning.assessments.models import Attempt
from eduvault.learning.assessments.selectors import attempt_data
from eduvault.learning.assessments.services import attempt_answer, attempt_read, attempt_start, attempt_submit
from eduvault.learning.lti.services import Landed, account_for

SALT = "eduvault.lti.attempt"
#: A page's credential lasts this long past the attempt's own time limit (or alone).
MARGIN_SECONDS = 3 * 3600


def _signed_in(user: Any) -> SignedIn:
    role = getattr(getattr(user, "account", None), "role", Role.LEARNER)
    return SignedIn(id=user.pk, username=user.get_username(), role=role)


def attempt_open(landed: Landed) -> dict[str, Any]:
    """Start (or resume) the launched assessment's attempt; the page's data."""
    if landed.assessment is None:
        raise InvalidInput("this link opens no Edu Vault assessment")
    user = landed.person.user or account_for(
        landed.person, realm=landed.source.name, external_id=str(landed.claims["sub"]), role=landed.role
    )
    attempt, _ = attempt_start(assessment_id=landed.assessment.pk, person=_signed_in(user))
    return page_of(attempt, user)


def credential_for(attempt: Attempt, user: Any) -> str:
    return signing.dumps({"u": user.pk, "a": str(attempt.pk)}, salt=SALT)


def _grant(credential: str, attempt_limit: int | None = None) -> tuple[Any, str]:
    try:
        grant = signing.loads(credential, salt=SALT, max_age=MARGIN_SECONDS + (attempt_limit or 0))
    except signing.SignatureExpired:
        raise PermissionDenied("this page has expired; open the activity again from your course") from None
    except signing.BadSignature:
        raise PermissionDenied("this page was not opened by Edu Vault") from None
    user = get_user_model().objects.filter(pk=grant["u"]).first()
    if user is None:
        raise PermissionDenied("the account of this page is gone")
    return user, grant["a"]


def page_of(attempt: Attempt, user: Any) -> dict[str, Any]:
    data = attempt_data(attempt, person=_signed_in(user))
    return {"attempt": data, "credential": credential_for(attempt, user)}


def answer_of(question: dict[str, Any], form: Any) -> Any:
    """The answer a question's form states, in the question type's answer format."""
    kind = question.get("type")
    if kind == "multiple_response":
        return form.getlist("choice")
    if kind == "single_choice":
        return form.get("choice", "")
    if kind == "numeric":
        text = form.get("value", "").strip().replace(",", ".")
        try:
            return float(text)
        except ValueError:
            raise InvalidInput(f"give a number, not {text!r}") from None
    if kind == "fill_blanks":
        return {b["id"]: form.get(f"blank:{b['id']}", "") for b in question.get("blanks", [])}
    if kind == "ordering":
        places = []
        for item in question.get("items", []):
            text = form.get(f"place:{item['id']}", "").strip()
            if not text.isdigit():
                raise InvalidInput("give every item its place: 1, 2, 3, …")
            places.append((int(text), item["id"]))
        return [item for _, item in sorted(places)]
    if kind == "matching":
        return {p["id"]: form.get(f"match:{p['id']}", "") for p in question.get("prompts", [])}
    return form.get("value", "")


def answer_post(*, credential: str, position: int, client_id: str, form: Any) -> dict[str, Any]:
    user, attempt_id = _grant(credential)
    person = _signed_in(user)
    attempt = attempt_read(attempt_id=attempt_id, person=person)
    data = attempt_data(attempt, person=person)
    question = next((q for q in data["questions"] if q["position"] == position), None)
    if question is None:
        raise InvalidInput(f"no question {position} in this attempt")
    attempt_answer(
        attempt_id=attempt_id,
        person=person,
        client_id=client_id,
        question=question["question"]["id"],
        answer=answer_of(question["question"], form),
    )
    return page_of(attempt_read(attempt_id=attempt_id, person=person), user)


def submit_post(*, credential: str) -> dict[str, Any]:
    user, attempt_id = _grant(credential)
    attempt = attempt_submit(attempt_id=attempt_id, person=_signed_in(user))
    return page_of(attempt, user)


def page_get(*, credential: str) -> dict[str, Any]:
    user, attempt_id = _grant(credential)
    return page_of(attempt_read(attempt_id=attempt_id, person=_signed_in(user)), user)
