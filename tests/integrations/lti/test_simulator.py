"""The LTI 1.3 platform simulator, driven over real HTTP (httpx, PyJWT and a tiny fake tool; no database)."""

from __future__ import annotations

import json
import secrets
import threading
import time
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

import httpx
import jwt
import pytest

from eduvault.integrations.lti.simulator import LaunchError, LtiPlatform, parse_form
from eduvault.integrations.lti.simulator.keys import pool_key
from eduvault.integrations.lti.simulator.vocab import (
    AGS_CLAIM,
    ALL_SCOPES,
    CLIENT_ASSERTION_TYPE,
    CONTEXT,
    CUSTOM,
    DEPLOYMENT_ID,
    DL_CONTENT_ITEMS,
    DL_DATA,
    DL_SETTINGS,
    INSTRUCTOR,
    LAUNCH_PRESENTATION,
    LEARNER,
    LINEITEM_MEDIA,
    MEMBERSHIPS_MEDIA,
    MESSAGE_TYPE,
    NRPS_CLAIM,
    RESOURCE_LINK,
    ROLES,
    SCOPE_LINEITEM,
    SCOPE_LINEITEM_READONLY,
    SCOPE_NRPS,
    SCOPE_RESULT_READONLY,
    SCOPE_SCORE,
    SCORE_MEDIA,
    TARGET_LINK_URI,
    TOOL_PLATFORM,
    VERSION,
)

TOOL_KEY, WRONG_KEY = pool_key(100), pool_key(101)
CLIENT_ID = "eduvault"
#: One client for ad-hoc calls (building an httpx client costs ~0.1 s); no cookies kept that matter.
HTTP = httpx.Client(timeout=5)


# -- a tiny tool ------------------------------------------------------------------------------------


class FakeTool:
    """Enough of an LTI tool: OIDC login, launch (verifies the id_token), deep linking, a JWKS."""

    def __init__(self, lms: LtiPlatform) -> None:
        self.lms = lms
        self.states: dict[str, str] = {}
        self.redirect_to: str | None = None
        self.dl_items: list[dict[str, Any]] = []
        self.keys = [TOOL_KEY]
        tool = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                tool.handle(self, "GET")

            def do_POST(self) -> None:
                tool.handle(self, "POST")

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True).start()

    def handle(self, request: BaseHTTPRequestHandler, method: str) -> None:
        url = urlsplit(request.path)
        length = int(request.headers.get("Content-Length") or 0)
        params = dict(parse_qsl(url.query))
        params.update(parse_qsl(request.rfile.read(length).decode()))
        cookie = dict(p.strip().partition("=")[::2] for p in (request.headers.get("Cookie") or "").split(";"))
        status, headers, body = 404, {}, b"not found"
        if url.path == "/jwks":
            status, body = 200, json.dumps({"keys": [k.jwk for k in self.keys]}).encode()
        elif url.path == "/login":
            state, nonce = secrets.token_urlsafe(8), secrets.token_urlsafe(8)
            self.states[state] = nonce
            redirect = self.url + (
                "/deep_link" if params["target_link_uri"].endswith("/deep_link") else "/launch"
            )
            query = {"scope": "openid", "response_type": "id_token", "response_mode": "form_post",
                     "prompt": "none", "client_id": params["client_id"], "redirect_uri": redirect,
                     "login_hint": params["login_hint"], "lti_message_hint": params["lti_message_hint"],
                     "state": state, "nonce": nonce}  # fmt: skip
            status, body = 302, b""
            headers = {"Location": (self.redirect_to or self.lms.auth_url) + "?" + urlencode(query),
                       "Set-Cookie": f"tool_state={state}; Path=/"}  # fmt: skip
        elif url.path in ("/launch", "/deep_link"):
            status, body = self.launch(params, cookie.get("tool_state"), url.path == "/deep_link")
        request.send_response(status)
        for name, value in headers.items():
            request.send_header(name, value)
        request.send_header("Content-Length", str(len(body)))
        request.end_headers()
        request.wfile.write(body)

    def launch(self, params: dict[str, str], state: str | None, deep: bool) -> tuple[int, bytes]:
        if state != params.get("state") or state not in self.states:
            return 400, b"state mismatch"
        claims = verify_id_token(self.lms, params["id_token"])
        if claims["nonce"] != self.states.pop(state):
            return 400, b"nonce mismatch"
        if not deep:
            return 200, json.dumps(claims).encode()
        settings = claims[DL_SETTINGS]
        response = tool_jwt({
            "iss": CLIENT_ID, "aud": self.lms.issuer, "nonce": uuid.uuid4().hex,
            DEPLOYMENT_ID: claims[DEPLOYMENT_ID], MESSAGE_TYPE: "LtiDeepLinkingResponse", VERSION: "1.3.0",
            DL_CONTENT_ITEMS: self.dl_items, DL_DATA: settings["data"],
        })  # fmt: skip
        form = f'<form action="{settings["deep_link_return_url"]}" method="post"><input type="hidden" name="JWT" value="{response}"></form>'
        return 200, form.encode()


def verify_id_token(lms: LtiPlatform, token: str) -> dict[str, Any]:
    jwks = HTTP.get(lms.jwks_url).json()
    kid = jwt.get_unverified_header(token)["kid"]
    [jwk] = [k for k in jwks["keys"] if k["kid"] == kid]
    return jwt.decode(token, jwt.PyJWK(jwk).key, algorithms=["RS256"], audience=CLIENT_ID, issuer=lms.issuer)


def tool_jwt(claims: dict[str, Any], *, key: Any = TOOL_KEY, kid: str | None = None) -> str:
    now = int(time.time())
    return jwt.encode({"iat": now, "exp": now + 300, **claims}, key.private, "RS256",
                      headers={"kid": kid or key.kid})  # fmt: skip


def assertion(lms: LtiPlatform, **changes: Any) -> str:
    key = changes.pop("key", TOOL_KEY)
    claims = {"iss": CLIENT_ID, "sub": CLIENT_ID, "aud": lms.token_url, "jti": uuid.uuid4().hex, **changes}
    return tool_jwt({k: v for k, v in claims.items() if v is not None}, key=key)


def token_request(lms: LtiPlatform, scopes: tuple[str, ...] = ALL_SCOPES, **changes: Any) -> httpx.Response:
    form = {"grant_type": "client_credentials", "client_assertion_type": CLIENT_ASSERTION_TYPE,
            "client_assertion": changes.pop("client_assertion", None) or assertion(lms, **changes),
            "scope": " ".join(scopes)}  # fmt: skip
    return HTTP.post(lms.token_url, data=form)


def bearer(lms: LtiPlatform, *scopes: str) -> dict[str, str]:
    response = token_request(lms, scopes or ALL_SCOPES)
    assert response.status_code == 200, response.text
    return {"Authorization": "Bearer " + response.json()["access_token"]}


# -- fixtures ---------------------------------------------------------------------------------------


@pytest.fixture
def lms() -> Iterator[LtiPlatform]:
    with LtiPlatform(page_size=10) as platform:
        yield platform


@pytest.fixture
def tool(lms: LtiPlatform) -> Iterator[FakeTool]:
    fake = FakeTool(lms)
    lms.register_tool(CLIENT_ID, login_url=fake.url + "/login", launch_url=fake.url + "/launch",
                      jwks_url=fake.url + "/jwks", deep_link_url=fake.url + "/deep_link")  # fmt: skip
    lms.add_course("math-f3", "Form 3 Mathematics", "MATH-F3")
    lms.add_user("u-1", "Amina Phiri", "amina@school.mw")
    lms.add_user("u-t", "Grace Banda", "grace@school.mw")
    lms.enroll("math-f3", "u-1", roles=(LEARNER,))
    lms.enroll("math-f3", "u-t", roles=(INSTRUCTOR,))
    lms.add_resource_link("math-f3", "rl-1", title="Quadratics practice", custom={"assessment": 12},
                          line_item={"label": "Quadratics practice", "scoreMaximum": 10})  # fmt: skip
    yield fake
    fake.server.shutdown()
    fake.server.server_close()


# -- launches -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("post", [False, True])
def test_launch_carries_every_claim_signed_with_a_published_key(
    lms: LtiPlatform, tool: FakeTool, post: bool
) -> None:
    with httpx.Client() as browser:
        response = lms.launch("u-1", "math-f3", "rl-1", client=browser, post=post)
    assert response.status_code == 200, response.text
    claims = response.json()
    assert (claims["iss"], claims["aud"], claims["sub"]) == (lms.issuer, CLIENT_ID, "u-1")
    assert claims["exp"] - claims["iat"] == 300
    assert (claims["name"], claims["given_name"], claims["family_name"]) == ("Amina Phiri", "Amina", "Phiri")
    assert claims["email"] == "amina@school.mw"
    assert claims[MESSAGE_TYPE] == "LtiResourceLinkRequest" and claims[VERSION] == "1.3.0"
    assert claims[DEPLOYMENT_ID] == "1" and claims[TARGET_LINK_URI] == tool.url + "/launch"
    assert claims[RESOURCE_LINK] == {"id": "rl-1", "title": "Quadratics practice"}
    assert claims[ROLES] == [LEARNER] and claims[CUSTOM] == {"assessment": "12"}
    assert claims[CONTEXT]["id"] == "math-f3" and claims[CONTEXT]["label"] == "MATH-F3"
    assert claims[LAUNCH_PRESENTATION]["document_target"] == "iframe"
    assert claims[TOOL_PLATFORM]["guid"]
    ags = claims[AGS_CLAIM]
    assert set(ags["scope"]) == {SCOPE_LINEITEM, SCOPE_LINEITEM_READONLY, SCOPE_RESULT_READONLY, SCOPE_SCORE}
    assert ags["lineitems"] == lms.base_url + "/api/lti/courses/math-f3/line_items"
    assert ags["lineitem"] == lms.links[("math-f3", "rl-1")].line_item_id
    assert claims[NRPS_CLAIM] == {"context_memberships_url": lms.base_url + "/api/lti/courses/math-f3/memberships",
                                  "service_versions": ["2.0"]}  # fmt: skip
    assert jwt.get_unverified_header(lms.id_tokens_sent[-1])["kid"] == lms.current_kid


def start_login(lms: LtiPlatform, tool: FakeTool, browser: httpx.Client) -> dict[str, str]:
    """Open the launch page; the parameters of the authentication request the tool would make."""
    page = browser.get(lms.launch_url("u-1", "math-f3", "rl-1"))
    assert page.status_code == 302
    initiation = dict(parse_qsl(urlsplit(page.headers["location"]).query))
    return {"scope": "openid", "response_type": "id_token", "response_mode": "form_post", "prompt": "none",
            "client_id": initiation["client_id"], "redirect_uri": tool.url + "/launch", "state": "s1",
            "login_hint": initiation["login_hint"], "lti_message_hint": initiation["lti_message_hint"],
            "nonce": "n-1"}  # fmt: skip


@pytest.mark.parametrize(
    ("name", "value", "reason"),
    [
        ("client_id", "someone-else", "unknown client_id"),
        ("redirect_uri", "http://evil.example/launch", "redirect_uri"),
        ("response_type", "code", "response_type"),
        ("response_mode", "query", "response_mode"),
        ("scope", "profile", "openid"),
        ("prompt", "login", "prompt"),
        ("nonce", None, "missing parameters: nonce"),
        ("login_hint", "lh-0000", "login_hint"),
        ("lti_message_hint", "mh-forged", "lti_message_hint"),
    ],
)
def test_auth_refuses_each_invalid_parameter(
    lms: LtiPlatform, tool: FakeTool, name: str, value: str | None, reason: str
) -> None:
    with httpx.Client() as browser:
        params = start_login(lms, tool, browser)
        params[name] = value  # type: ignore[assignment]
        response = browser.get(lms.auth_url, params={k: v for k, v in params.items() if v is not None})
    assert response.status_code == 400
    assert reason in response.text and "<form" not in response.text


def test_auth_answers_a_form_once_and_needs_the_platform_session(lms: LtiPlatform, tool: FakeTool) -> None:
    with httpx.Client() as browser:
        params = start_login(lms, tool, browser)
        assert HTTP.get(lms.auth_url, params=params).status_code == 400  # another browser: no session
        response = browser.post(lms.auth_url, data=params)  # OIDC allows POST too
        assert response.status_code == 200
        action, method, fields = parse_form(response.text)  # type: ignore[misc]
        assert (action, method, fields["state"]) == (tool.url + "/launch", "post", "s1")
        assert verify_id_token(lms, fields["id_token"])["nonce"] == "n-1"
        again = browser.get(lms.auth_url, params=params)
    assert again.status_code == 400 and "already used" in again.text


def test_launch_refuses_a_tool_redirecting_elsewhere(lms: LtiPlatform, tool: FakeTool) -> None:
    tool.redirect_to = lms.base_url + "/authorize"
    with httpx.Client() as browser, pytest.raises(LaunchError, match="not to"):
        lms.launch("u-1", "math-f3", "rl-1", client=browser)


def test_key_rotation_keeps_the_previous_key_until_retired(lms: LtiPlatform, tool: FakeTool) -> None:
    old = lms.id_token("u-1", "math-f3", "rl-1", nonce="n")
    old_kid = lms.current_kid
    new_kid = lms.rotate_keys()
    assert new_kid != old_kid and {k["kid"] for k in lms.jwks()["keys"]} == {old_kid, new_kid}
    assert verify_id_token(lms, old)["sub"] == "u-1"
    assert jwt.get_unverified_header(lms.id_token("u-1", "math-f3", "rl-1", nonce="n"))["kid"] == new_kid
    lms.retire_old_keys()
    keys = HTTP.get(lms.jwks_url)
    assert [k["kid"] for k in keys.json()["keys"]] == [new_kid]
    assert keys.headers["cache-control"] == "max-age=300"
    assert all(k["alg"] == "RS256" and k["use"] == "sig" for k in keys.json()["keys"])
    with pytest.raises(ValueError):
        verify_id_token(lms, old)
    forged = lms.id_token("u-1", "math-f3", "rl-1", nonce="n", key="other")
    assert jwt.get_unverified_header(forged)["kid"] not in {k["kid"] for k in keys.json()["keys"]}


def test_id_token_overrides(lms: LtiPlatform, tool: FakeTool) -> None:
    token = lms.id_token("u-1", "math-f3", "rl-1", nonce="n", aud=[CLIENT_ID, "other"], azp=CLIENT_ID,
                         roles=None, email=None)  # fmt: skip
    claims = verify_id_token(lms, token)
    assert claims["aud"] == [CLIENT_ID, "other"] and claims["azp"] == CLIENT_ID
    assert ROLES not in claims and "email" not in claims
    unsigned = lms.id_token("u-1", "math-f3", "rl-1", nonce="n", alg="none")
    assert jwt.get_unverified_header(unsigned)["alg"] == "none" and unsigned.endswith(".")
    deep = verify_id_token(
        lms, lms.id_token("u-t", "math-f3", nonce="n", message_type="LtiDeepLinkingRequest")
    )
    assert RESOURCE_LINK not in deep and deep[DL_SETTINGS]["accept_types"] == ["ltiResourceLink"]
    assert deep[DL_SETTINGS]["deep_link_return_url"] == lms.base_url + "/deep_link_return"


# -- the token endpoint ---------------------------------------------------------------------------------


def test_token_endpoint_grants_scopes_for_a_valid_assertion(lms: LtiPlatform, tool: FakeTool) -> None:
    response = token_request(lms, (SCOPE_SCORE, "https://example.com/not-a-scope"))
    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "Bearer" and body["expires_in"] == 3600 and body["scope"] == SCOPE_SCORE
    assert response.headers["cache-control"] == "no-store"
    assert [t["scope"] for t in lms.tokens_issued] == [SCOPE_SCORE]
    assert token_request(lms, aud=lms.issuer).status_code == 200  # the issuer is an accepted audience


@pytest.mark.parametrize(
    ("changes", "error"),
    [
        ({"key": WRONG_KEY}, "invalid_client"),
        ({"aud": "https://elsewhere.example/token"}, "invalid_client"),
        ({"exp": int(time.time()) - 60}, "invalid_client"),
        ({"iss": "someone-else"}, "invalid_client"),
        ({"jti": None}, "invalid_client"),
        ({"sub": "unknown-client"}, "invalid_client"),
    ],
)
def test_token_endpoint_refuses_bad_assertions(
    lms: LtiPlatform, tool: FakeTool, changes: dict, error: str
) -> None:
    response = token_request(lms, **changes)
    assert (response.status_code, response.json()["error"]) == (401, error)
    assert lms.tokens_issued == []


def test_token_endpoint_refuses_a_replayed_jti_and_bad_requests(lms: LtiPlatform, tool: FakeTool) -> None:
    signed = assertion(lms)
    assert token_request(lms, client_assertion=signed).status_code == 200
    replay = token_request(lms, client_assertion=signed)
    assert (replay.status_code, replay.json()["error"]) == (401, "invalid_client")
    assert token_request(lms, (), client_assertion=assertion(lms)).json()["error"] == "invalid_scope"
    form = {"grant_type": "password", "client_assertion_type": CLIENT_ASSERTION_TYPE, "client_assertion": "x"}
    assert HTTP.post(lms.token_url, data=form).json()["error"] == "unsupported_grant_type"


def test_token_endpoint_refetches_the_tool_jwks_for_a_new_kid(lms: LtiPlatform, tool: FakeTool) -> None:
    assert token_request(lms).status_code == 200
    tool.keys = [TOOL_KEY, WRONG_KEY]  # the tool rotates: a new key, published
    assert token_request(lms, key=WRONG_KEY).status_code == 200
    assert len(lms.tool_jwks_fetches) == 2


# -- AGS ------------------------------------------------------------------------------------------------


def score(
    user: str = "u-1", given: float | None = 7, stamp: str = "2026-03-01T10:00:00.000Z", **extra: Any
) -> dict:
    body = {"userId": user, "scoreGiven": given, "scoreMaximum": 10, "activityProgress": "Completed",
            "gradingProgress": "FullyGraded", "timestamp": stamp, **extra}  # fmt: skip
    return {k: v for k, v in body.items() if v is not None}


def post_score(url: str, body: dict, headers: dict[str, str], media: str = SCORE_MEDIA) -> httpx.Response:
    return HTTP.post(url, content=json.dumps(body), headers={**headers, "Content-Type": media})


def test_line_items_crud_paging_filters_and_scopes(lms: LtiPlatform, tool: FakeTool) -> None:
    container = lms.base_url + "/api/lti/courses/math-f3/line_items"
    auth = bearer(lms, SCOPE_LINEITEM)
    assert HTTP.get(container).status_code == 401
    create = {"Content-Type": LINEITEM_MEDIA, **auth}
    for n in range(3):
        body = {"label": f"Quiz {n}", "scoreMaximum": 5, "tag": "quiz", "resourceId": f"q-{n}"}
        created = HTTP.post(container, content=json.dumps(body), headers=create)
        assert created.status_code == 201 and created.json()["id"].startswith(container + "/")
    for invalid in ({"label": "x", "scoreMaximum": 0}, {"label": "", "scoreMaximum": 5}):
        assert HTTP.post(container, content=json.dumps(invalid), headers=create).status_code == 400
    orphan = {"label": "x", "scoreMaximum": 5, "resourceLinkId": "rl-nope"}
    assert HTTP.post(container, content=json.dumps(orphan), headers=create).status_code == 404
    readonly = bearer(lms, SCOPE_LINEITEM_READONLY)
    forbidden = HTTP.post(container, content=json.dumps(body), headers={**create, **readonly})
    assert forbidden.status_code == 403 and "insufficient_scope" in forbidden.headers["www-authenticate"]
    seen, url = [], container + "?limit=2&tag=quiz"
    while url:
        page = HTTP.get(
            url, headers={**readonly, "Accept": "application/vnd.ims.lis.v2.lineitemcontainer+json"}
        )
        assert page.headers["content-type"] == "application/vnd.ims.lis.v2.lineitemcontainer+json"
        seen += [i["label"] for i in page.json()]
        url = page.links.get("next", {}).get("url")
    assert seen == ["Quiz 0", "Quiz 1", "Quiz 2"]
    linked = HTTP.get(container, params={"resource_link_id": "rl-1"}, headers=readonly).json()
    assert [i["label"] for i in linked] == ["Quadratics practice"]
    item = HTTP.get(container, params={"resource_id": "q-1"}, headers=readonly).json()[0]
    updated = HTTP.put(item["id"], content=json.dumps({**item, "label": "Quiz one"}), headers=create)
    assert updated.status_code == 200 and updated.json()["label"] == "Quiz one"
    assert HTTP.delete(item["id"], headers=auth).status_code == 204
    assert HTTP.get(item["id"], headers=auth).status_code == 404


def test_scores_results_and_the_timestamp_rule(lms: LtiPlatform, tool: FakeTool) -> None:
    lineitem = lms.links[("math-f3", "rl-1")].line_item_id
    assert lineitem is not None
    auth = bearer(lms, SCOPE_SCORE, SCOPE_RESULT_READONLY)
    assert post_score(lineitem + "/scores", score(), bearer(lms, SCOPE_LINEITEM)).status_code == 403
    assert post_score(lineitem + "/scores", score(), auth, "application/json").status_code == 415
    for bad in (score(activityProgress="Done"), score(gradingProgress="Graded"), score(stamp="2026-03-01T10:00:00Z"),
                score(given=-1), {**score(), "scoreMaximum": 0}, score(stamp=None)):  # fmt: skip
        assert post_score(lineitem + "/scores", bad, auth).status_code == 400, bad
    lms.add_user("u-9", "Not Enrolled")
    assert post_score(lineitem + "/scores", score("u-9"), auth).status_code == 422
    assert post_score(lineitem + "/scores", score(), auth).status_code == 200
    same = post_score(lineitem + "/scores", score(given=8), auth)
    assert same.status_code == 409 and "earlier timestamp" in same.text
    earlier = post_score(lineitem + "/scores", score(given=8, stamp="2026-03-01T09:59:59.999+00:00"), auth)
    assert earlier.status_code == 409
    later = post_score(lineitem + "/scores", score(given=8, stamp="2026-03-01T11:00:00.001+01:00"), auth)
    assert later.status_code == 200  # 10:00:00.001 UTC
    assert [s["scoreGiven"] for s in lms.scores[(lineitem, "u-1")]] == [7, 8]
    assert lms.gradebook("math-f3") == {("Quadratics practice", "u-1"): 0.8}
    results = HTTP.get(lineitem + "/results", headers=auth)
    assert results.headers["content-type"] == "application/vnd.ims.lis.v2.resultcontainer+json"
    [result] = results.json()
    assert (result["userId"], result["resultScore"], result["resultMaximum"], result["scoreOf"]) == (
        "u-1", 8, 10, lineitem)  # fmt: skip
    assert HTTP.get(lineitem + "/results", params={"user_id": "u-t"}, headers=auth).json() == []


def test_line_items_are_the_tools_own(lms: LtiPlatform, tool: FakeTool) -> None:
    lms.register_tool("other", login_url=tool.url + "/login", launch_url=tool.url + "/launch",
                      jwks_url=tool.url + "/jwks")  # fmt: skip
    lineitem = lms.links[("math-f3", "rl-1")].line_item_id
    other = token_request(lms, (SCOPE_SCORE,), iss="other", sub="other")
    headers = {"Authorization": "Bearer " + other.json()["access_token"]}
    assert post_score(lineitem + "/scores", score(), headers).status_code == 404


def test_scores_go_before_the_line_item_query(lms: LtiPlatform, tool: FakeTool) -> None:
    link = lms.add_resource_link("math-f3", "rl-2", title="Moodle-style", lineitem_query="?type=x",
                                 line_item={"scoreMaximum": 4})  # fmt: skip
    lineitem = link.line_item_id
    assert lineitem is not None and lineitem.endswith("?type=x")
    with httpx.Client() as browser:
        claims = lms.launch("u-1", "math-f3", "rl-2", client=browser).json()
    assert claims[AGS_CLAIM]["lineitem"] == lineitem
    auth = bearer(lms, SCOPE_SCORE)
    base, _, query = lineitem.partition("?")
    # "…?type=x/scores" is the line item itself, with a mangled query: a POST there is not allowed.
    assert post_score(lineitem + "/scores", score(), auth).status_code == 405
    assert post_score(base + "/scores", score(), auth).status_code == 400  # the query dropped
    assert post_score(f"{base}/scores?{query}", score(), auth).status_code == 200


def test_a_tool_lineitem_query_is_on_every_ags_url(lms: LtiPlatform, tool: FakeTool) -> None:
    lms.register_tool(CLIENT_ID, login_url=tool.url + "/login", launch_url=tool.url + "/launch",
                      jwks_url=tool.url + "/jwks", lineitem_query="type_id=7")  # fmt: skip
    lms.add_resource_link("math-f3", "rl-3", title="Typed", line_item={"scoreMaximum": 3})
    with httpx.Client() as browser:
        ags = lms.launch("u-1", "math-f3", "rl-3", client=browser).json()[AGS_CLAIM]
    assert ags["lineitems"].endswith("/line_items?type_id=7") and ags["lineitem"].endswith("?type_id=7")
    auth = bearer(lms, SCOPE_LINEITEM)
    assert HTTP.get(ags["lineitems"].split("?")[0], headers=auth).status_code == 400
    listed = HTTP.get(ags["lineitems"] + "&limit=1", headers=auth)
    assert listed.status_code == 200 and "type_id=7" in listed.links["next"]["url"]


# -- NRPS -----------------------------------------------------------------------------------------------


def test_memberships_are_paged_with_link_next(lms: LtiPlatform, tool: FakeTool) -> None:
    for n in range(5):
        lms.add_user(f"s-{n}", f"Student {n}", f"s{n}@school.mw")
        lms.enroll("math-f3", f"s-{n}")
    auth = {**bearer(lms, SCOPE_NRPS), "Accept": MEMBERSHIPS_MEDIA}
    url = lms.base_url + "/api/lti/courses/math-f3/memberships?limit=3"
    pages = []
    while url:
        response = HTTP.get(url, headers=auth)
        assert response.status_code == 200 and response.headers["content-type"] == MEMBERSHIPS_MEDIA
        pages.append(response.json())
        url = response.links.get("next", {}).get("url")
    assert [len(p["members"]) for p in pages] == [3, 3, 1]
    assert pages[0]["context"] == {"id": "math-f3", "label": "MATH-F3", "title": "Form 3 Mathematics"}
    first = pages[0]["members"][0]
    assert first == {"status": "Active", "name": "Amina Phiri", "given_name": "Amina", "family_name": "Phiri",
                     "email": "amina@school.mw", "user_id": "u-1", "roles": [LEARNER]}  # fmt: skip
    teachers = HTTP.get(lms.base_url + "/api/lti/courses/math-f3/memberships", params={"role": INSTRUCTOR},
                         headers=auth).json()["members"]  # fmt: skip
    assert [m["user_id"] for m in teachers] == ["u-t"]
    wrong_scope = bearer(lms, SCOPE_SCORE)
    assert (
        HTTP.get(lms.base_url + "/api/lti/courses/math-f3/memberships", headers=wrong_scope).status_code
        == 403
    )


# -- deep linking -----------------------------------------------------------------------------------------


def test_deep_link_response_is_accepted_once(lms: LtiPlatform, tool: FakeTool) -> None:
    tool.dl_items = [{"type": "ltiResourceLink", "title": "Circles quiz", "url": tool.url + "/launch",
                      "custom": {"assessment": "14"}, "lineItem": {"scoreMaximum": 20, "tag": "quiz"}}]  # fmt: skip
    with httpx.Client() as browser:
        picker = lms.deep_link("u-t", "math-f3", client=browser)
        assert picker.status_code == 200, picker.text
        added = lms.follow_form(picker, browser)
        assert added.status_code == 200 and "Circles quiz" in added.text
        again = lms.follow_form(picker, browser)
    assert again.status_code == 400
    [accepted] = lms.deep_link_items
    link = lms.links[("math-f3", accepted.resource_link_id)]
    assert link.custom == {"assessment": "14"} and link.title == "Circles quiz"
    [item] = lms.link_line_items(link)
    assert (item.label, item.score_maximum, item.tag) == ("Circles quiz", 20, "quiz")
    assert item.id == accepted.line_item_id


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"aud": "https://elsewhere.example"}, "Audience"),
        ({DL_DATA: "dl-forged"}, "data claim"),
        ({MESSAGE_TYPE: "LtiResourceLinkRequest"}, "message_type"),
        ({DEPLOYMENT_ID: "99"}, "deployment_id"),
        ({"key": WRONG_KEY}, "Signature"),
        ({DL_CONTENT_ITEMS: [{"type": "file", "url": "x"}]}, "not accepted"),
    ],
)
def test_deep_link_response_refused(lms: LtiPlatform, tool: FakeTool, changes: dict, reason: str) -> None:
    request = verify_id_token(
        lms, lms.id_token("u-t", "math-f3", nonce="n", message_type="LtiDeepLinkingRequest")
    )
    key = changes.pop("key", TOOL_KEY)
    claims = {"iss": CLIENT_ID, "aud": lms.issuer, "nonce": "dl-n", DEPLOYMENT_ID: "1", VERSION: "1.3.0",
              MESSAGE_TYPE: "LtiDeepLinkingResponse", DL_CONTENT_ITEMS: [],
              DL_DATA: request[DL_SETTINGS]["data"], **changes}  # fmt: skip
    response = HTTP.post(
        lms.base_url + "/deep_link_return", data={"JWT": tool_jwt(claims, key=key, kid=TOOL_KEY.kid)}
    )
    assert response.status_code == 400 and reason in response.text and lms.deep_link_items == []


# -- faults ---------------------------------------------------------------------------------------------


def test_faults_outage_expiry_and_the_request_log(lms: LtiPlatform, tool: FakeTool) -> None:
    auth = bearer(lms, SCOPE_NRPS)
    url = lms.base_url + "/api/lti/courses/math-f3/memberships"
    lms.fail_next(1, status=502)
    assert HTTP.get(url, headers=auth).status_code == 502
    assert HTTP.get(url, headers=auth).status_code == 200
    with lms.down():
        assert HTTP.get(url, headers=auth).status_code == 503
    lms.expire_tokens()
    expired = HTTP.get(url, headers=auth)
    assert expired.status_code == 401 and 'error="invalid_token"' in expired.headers["www-authenticate"]
    assert [r.status for r in lms.requests_to("/api/lti/")] == [502, 200, 503, 401]
    assert ("POST", "/token", 200) in lms.requests
