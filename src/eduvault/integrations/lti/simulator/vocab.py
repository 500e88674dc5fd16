"""The 1EdTech names the platform speaks: claims, scopes, media types, roles, enumerations.

Sources: LTI Core 1.3 §5 (message claims), AGS 2.0 §3 (claim, scopes, media types,
``activityProgress``/``gradingProgress``), NRPS 2.0 §3 (claim, scope, media type), Deep
Linking 2.0 §4 (settings and response claims), Security Framework 1.0 §4.1 (client assertion).
"""

from __future__ import annotations

LTI = "https://purl.imsglobal.org/spec/lti/claim/"
MESSAGE_TYPE = LTI + "message_type"
VERSION = LTI + "version"
DEPLOYMENT_ID = LTI + "deployment_id"
TARGET_LINK_URI = LTI + "target_link_uri"
RESOURCE_LINK = LTI + "resource_link"
ROLES = LTI + "roles"
CONTEXT = LTI + "context"
CUSTOM = LTI + "custom"
LAUNCH_PRESENTATION = LTI + "launch_presentation"
TOOL_PLATFORM = LTI + "tool_platform"
LIS = LTI + "lis"
ROLE_SCOPE_MENTOR = LTI + "role_scope_mentor"

AGS_CLAIM = "https://purl.imsglobal.org/spec/lti-ags/claim/endpoint"
NRPS_CLAIM = "https://purl.imsglobal.org/spec/lti-nrps/claim/namesroleservice"
DL = "https://purl.imsglobal.org/spec/lti-dl/claim/"
DL_SETTINGS = DL + "deep_linking_settings"
DL_CONTENT_ITEMS = DL + "content_items"
DL_DATA = DL + "data"
DL_MSG, DL_LOG, DL_ERRORMSG, DL_ERRORLOG = DL + "msg", DL + "log", DL + "errormsg", DL + "errorlog"

#: Short names accepted by ``LtiPlatform.id_token(**overrides)`` for the namespaced claims.
CLAIM_ALIASES = {
    "message_type": MESSAGE_TYPE,
    "version": VERSION,
    "deployment_id": DEPLOYMENT_ID,
    "target_link_uri": TARGET_LINK_URI,
    "resource_link": RESOURCE_LINK,
    "roles": ROLES,
    "context": CONTEXT,
    "custom": CUSTOM,
    "launch_presentation": LAUNCH_PRESENTATION,
    "tool_platform": TOOL_PLATFORM,
    "lis": LIS,
    "role_scope_mentor": ROLE_SCOPE_MENTOR,
    "ags": AGS_CLAIM,
    "endpoint": AGS_CLAIM,
    "nrps": NRPS_CLAIM,
    "namesroleservice": NRPS_CLAIM,
    "deep_linking_settings": DL_SETTINGS,
}

RESOURCE_LINK_REQUEST = "LtiResourceLinkRequest"
DEEP_LINKING_REQUEST = "LtiDeepLinkingRequest"
DEEP_LINKING_RESPONSE = "LtiDeepLinkingResponse"
LTI_VERSION = "1.3.0"

SCOPE_LINEITEM = "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem"
SCOPE_LINEITEM_READONLY = "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem.readonly"
SCOPE_RESULT_READONLY = "https://purl.imsglobal.org/spec/lti-ags/scope/result.readonly"
SCOPE_SCORE = "https://purl.imsglobal.org/spec/lti-ags/scope/score"
SCOPE_NRPS = "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly"
AGS_SCOPES = (SCOPE_LINEITEM, SCOPE_LINEITEM_READONLY, SCOPE_RESULT_READONLY, SCOPE_SCORE)
ALL_SCOPES = (*AGS_SCOPES, SCOPE_NRPS)

CLIENT_ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"

LINEITEM_MEDIA = "application/vnd.ims.lis.v2.lineitem+json"
LINEITEMS_MEDIA = "application/vnd.ims.lis.v2.lineitemcontainer+json"
SCORE_MEDIA = "application/vnd.ims.lis.v1.score+json"
RESULTS_MEDIA = "application/vnd.ims.lis.v2.resultcontainer+json"
MEMBERSHIPS_MEDIA = "application/vnd.ims.lti-nrps.v2.membershipcontainer+json"

ACTIVITY_PROGRESS = ("Initialized", "Started", "InProgress", "Submitted", "Completed")
GRADING_PROGRESS = ("FullyGraded", "Pending", "PendingManual", "Failed", "NotReady")

LEARNER = "http://purl.imsglobal.org/vocab/lis/v2/membership#Learner"
INSTRUCTOR = "http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor"
COURSE_OFFERING = "http://purl.imsglobal.org/vocab/lis/v2/course#CourseOffering"
MEMBER_STATUSES = ("Active", "Inactive", "Deleted")
