"""The REST layer's building blocks: a call, a reply, and Discourse's error answers.

Error bodies follow ``ApplicationController#rescue_discourse_actions`` and ``JsonError``:
``{"errors": [message], "error_type": type}`` for ``not_found`` (404), ``invalid_access`` (403),
``not_logged_in`` (403) and ``invalid_parameters`` (400); ``render_json_error`` of a record or a
string is ``{"errors": [...]}`` with 422 and no type; ``ActionController::ParameterMissing`` is
400 ``{"errors": ["param is missing or the value is empty: <name>"]}``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from eduvault.integrations.discourse.simulator import rules
from eduvault.integrations.discourse.simulator.models import User

if TYPE_CHECKING:
    from eduvault.integrations.discourse.simulator.server import DiscourseSimulator


class ApiError(Exception):
    def __init__(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        super().__init__(status)
        self.status, self.body, self.headers = status, body, headers or {}


def not_found(extras: dict[str, Any] | None = None) -> ApiError:
    body: dict[str, Any] = {"errors": [rules.NOT_FOUND], "error_type": "not_found"}
    if extras is not None:
        body["extras"] = extras
    return ApiError(404, body)


def invalid_access() -> ApiError:
    return ApiError(403, {"errors": [rules.INVALID_ACCESS], "error_type": "invalid_access"})


def not_logged_in() -> ApiError:
    return ApiError(403, {"errors": [rules.NOT_LOGGED_IN], "error_type": "not_logged_in"})


def invalid_params(message: str) -> ApiError:
    body = {"errors": [rules.INVALID_PARAMS.format(message)], "error_type": "invalid_parameters"}
    return ApiError(400, body)


def param_missing(name: str) -> ApiError:
    return ApiError(400, {"errors": [f"param is missing or the value is empty: {name}"]})


def json_error(*messages: str, status: int = 422) -> ApiError:
    return ApiError(status, {"errors": list(messages)})


@dataclass
class Reply:
    status: int
    body: Any
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str = "application/json; charset=utf-8"


@dataclass
class Call:
    sim: DiscourseSimulator
    method: str
    query: dict[str, Any]
    params: dict[str, Any]
    user: User | None
    args: tuple[str, ...]
    client: str = ""

    def require(self, name: str) -> Any:
        """``params.require``: present, or ``false``."""
        value = self.params.get(name)
        if value is False or (value not in (None, "") and value != [] and value != {}):
            return value
        raise param_missing(name)

    def login(self) -> User:
        if self.user is None:
            raise not_logged_in()
        return self.user

    def admin(self) -> User:
        user = self.login()
        if not user.admin:
            raise invalid_access()
        return user

    def int_param(self, name: str, *, default: int, minimum: int = 0, maximum: int | None = None) -> int:
        """``fetch_int_from_params``: an integer within bounds, else ``InvalidParameters(name)``."""
        if name not in self.params:
            return default
        try:
            value = int(str(self.params[name]))
        except ValueError:
            raise invalid_params(name) from None
        if value < minimum or (maximum is not None and value > maximum):
            raise invalid_params(name)
        return value
