"""``POST /api/v1/attempts/{id}/answers``: the exam's hot endpoint, one handler for both ways
in. `eduvault serve` answers it as a lean route (:mod:`eduvault.kernel.lean`: no middleware
stack, no URL resolver, no DRF; JSON by orjson); the DRF view in :mod:`.apis` (what Django's
test client, other servers and the OpenAPI schema see) calls the same :func:`answer`."""

from __future__ import annotations

import re
from typing import Any

from eduvault.identity.authentication import bearer_caller
from eduvault.identity.tokens import SignedIn
from eduvault.kernel.errors import AuthenticationFailed, InvalidInput, PermissionDenied
from eduvault.kernel.lean import LeanRequest, LeanRoute, lean_routes
from eduvault.learning.assessments.services import attempt_answer

PATH = re.compile(r"/api/v1/attempts/(?P<attempt_id>[^/]{1,64})/answers")
FIELDS = ("client_id", "question", "answer")


def _person(authorization: str) -> SignedIn:
    caller = bearer_caller(authorization.encode("latin-1"))
    if caller is None:
        raise AuthenticationFailed("Sign in (POST /api/v1/auth/token) and send 'Authorization: Bearer <access token>'.")
    if not isinstance(caller, SignedIn):
        raise PermissionDenied("attempts belong to people: sign in at /api/v1/auth/token")
    return caller


def _fields(body: Any) -> tuple[str, str, Any]:
    if not isinstance(body, dict):
        raise InvalidInput("the body must be a JSON object with client_id, question and answer")
    missing = [f for f in FIELDS if f not in body]
    if missing:
        raise InvalidInput(f"{missing[0]}: this field is required")
    unknown = sorted(set(body) - set(FIELDS))
    if unknown:
        raise InvalidInput(f"{unknown[0]}: not a field of an answer (client_id, question, answer)")
    client_id, question = body["client_id"], body["question"]
    if not isinstance(client_id, str) or not 1 <= len(client_id) <= 100:
        raise InvalidInput("client_id: give a string of 1 to 100 characters, unique per answer")
    if not isinstance(question, str) or not 1 <= len(question) <= 100:
        raise InvalidInput("question: give the question's id, a string of 1 to 100 characters")
    return client_id, question, body["answer"]


def answer(request: LeanRequest) -> tuple[int, Any]:
    """Record one answer: 201 with what the learner is shown, or 200 with the first result
    when the client id was answered before (a retry)."""
    person = _person(request.headers.get("authorization", ""))
    client_id, question, given = _fields(request.json())
    outcome = attempt_answer(
        attempt_id=request.params["attempt_id"], person=person, client_id=client_id, question=question, answer=given
    )
    return (200 if outcome.repeated else 201), outcome.result


lean_routes.add("attempt-answer", LeanRoute("POST", PATH, answer))
