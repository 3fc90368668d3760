"""The tenancy matrix's tables: the status each persona gets from every API operation and
every dashboard URL, and the requests that make the cells.

Routes are discovered, not listed: API operations from drf-spectacular's schema,
pages from the URL resolver. Each must have a row in this file's literal tables
(API_TABLE, PAGE_TABLE) giving the status each persona gets, so a new route
fails test_tenancy_matrix.py until someone decides who may use it; a row without a
route fails too.

Status codes per persona, in the order of PERSONAS: anonymous, outsider (an
admin of an unrelated organisation), client viewer, client manager, provider
manager, client admin. `login` is a redirect to the login page, `302` any other
redirect (a dashboard form that saved).
"""

from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import URLPattern, URLResolver, get_resolver
from drf_spectacular.generators import SchemaGenerator
from rest_framework.test import APIClient

from notices.delivery import unsubscribe_token
from relationships.periods import QUARTER, period_containing
from relationships.scoring_config import DIMENSIONS
from tests.reliability.conftest import PERSONAS, PULSE_ANSWERS


def _schema_operations() -> list[tuple[str, str]]:
    schema = SchemaGenerator().get_schema(request=None, public=True)
    return sorted(
        (method.upper(), path)
        for path, operations in schema["paths"].items()
        for method in operations
        if method in ("get", "post", "put", "patch", "delete")
    )


def _resolver_routes(patterns=None, prefix="") -> list[tuple[str, str]]:
    """(route text, name) of every URL pattern, includes walked."""
    found = []
    for pattern in get_resolver().url_patterns if patterns is None else patterns:
        if isinstance(pattern, URLResolver):
            found += _resolver_routes(pattern.url_patterns, prefix + str(pattern.pattern))
        elif isinstance(pattern, URLPattern):
            found.append((prefix + str(pattern.pattern), pattern.name))
    return found


OPERATIONS = _schema_operations()
ROUTES = _resolver_routes()
# The admin site has its own permission system (staff only); test_tenancy_matrix.py checks it for
# survey responses, not cell by cell.
PAGE_NAMES = sorted({name for route, name in ROUTES if not route.startswith(("api/v1/", "admin/"))})

# ------------------------------------------------------------------ API table
# "METHOD /path/": statuses for anonymous outsider viewer client-mgr provider-mgr admin.
API_TABLE = {
    # Collections: anonymous 401; everyone else 200 with only what is theirs
    # (an outsider's list is checked to hold nothing of the engagement).
    "GET /api/v1/action-items/": "401 200 200 200 200 200",
    "GET /api/v1/alerts/": "401 200 200 200 200 200",
    "GET /api/v1/change-requests/": "401 200 200 200 200 200",
    "GET /api/v1/checkins/": "401 200 200 200 200 200",
    "GET /api/v1/contacts/": "401 200 200 200 200 200",
    "GET /api/v1/engagements/": "401 200 200 200 200 200",
    "GET /api/v1/feedback/": "401 200 200 200 200 200",
    "GET /api/v1/goal-progress/": "401 200 200 200 200 200",
    "GET /api/v1/goals/": "401 200 200 200 200 200",
    "GET /api/v1/invitations/": "401 200 200 200 200 200",
    "GET /api/v1/issues/": "401 200 200 200 200 200",
    "GET /api/v1/measurements/": "401 200 200 200 200 200",
    "GET /api/v1/measurement-disputes/": "401 200 200 200 200 200",
    "GET /api/v1/memberships/": "401 200 200 200 200 200",
    "GET /api/v1/organizations/": "401 200 200 200 200 200",
    "GET /api/v1/portfolio-packs/": "401 200 200 200 200 200",
    "GET /api/v1/pulse-responses/": "401 200 200 200 200 200",
    "GET /api/v1/reviews/": "401 200 200 200 200 200",
    "GET /api/v1/runs/": "401 200 200 200 200 200",
    "GET /api/v1/scorecards/": "401 200 200 200 200 200",
    "GET /api/v1/scorecards/latest/": "401 200 200 200 200 200",
    "GET /api/v1/slas/": "401 200 200 200 200 200",
    "GET /api/v1/tokens/": "401 200 200 200 200 200",
    "GET /api/v1/webhooks/": "401 200 200 200 200 200",
    # Engagement records: members of either side read, outsiders get 404.
    "GET /api/v1/action-items/{id}/": "401 404 200 200 200 200",
    "GET /api/v1/alerts/{id}/": "401 404 200 200 200 200",
    "GET /api/v1/change-requests/{id}/": "401 404 200 200 200 200",
    "GET /api/v1/checkins/{id}/": "401 404 200 200 200 200",
    "GET /api/v1/contacts/{id}/": "401 404 200 200 200 200",
    "GET /api/v1/engagements/{id}/": "401 404 200 200 200 200",
    "GET /api/v1/engagements/{id}/pulse-aggregates/": "401 404 200 200 200 200",
    "GET /api/v1/engagements/{id}/survey-report/": "401 404 200 200 200 200",
    "GET /api/v1/engagements/{id}/scorecards/": "401 404 200 200 200 200",
    "GET /api/v1/engagements/{id}/scorecards/export/": "401 404 200 200 200 200",
    "GET /api/v1/engagements/{id}/scoring-config/": "401 404 200 200 200 200",
    "GET /api/v1/engagements/{id}/periods/{period_start}/pack/": "401 404 200 200 200 200",
    "GET /api/v1/engagements/{id}/quarters/{quarter_start}/pack/": "401 404 200 200 200 200",
    "GET /api/v1/feedback/{id}/": "401 404 200 200 200 200",
    "GET /api/v1/goal-progress/{id}/": "401 404 200 200 200 200",
    "GET /api/v1/goals/{id}/": "401 404 200 200 200 200",
    "GET /api/v1/issues/{id}/": "401 404 200 200 200 200",
    "GET /api/v1/measurements/{id}/": "401 404 200 200 200 200",
    "GET /api/v1/measurement-disputes/{id}/": "401 404 200 200 200 200",
    "GET /api/v1/reviews/{id}/": "401 404 200 200 200 200",
    "GET /api/v1/runs/{id}/": "401 404 200 200 200 200",
    "GET /api/v1/scorecards/{id}/": "401 404 200 200 200 200",
    "GET /api/v1/slas/{id}/": "401 404 200 200 200 200",
    # Organisation records: members of the (client) organisation only.
    "GET /api/v1/organizations/{id}/": "401 404 200 200 200 200",
    # The organisation's roll-up (overview): its own members only, not its counterparts'.
    "GET /api/v1/organizations/{id}/rollup/": "401 404 200 200 404 200",
    "GET /api/v1/memberships/{id}/": "401 404 200 200 404 200",
    "GET /api/v1/invitations/{id}/": "401 404 404 404 404 200",
    "GET /api/v1/webhooks/{id}/": "401 404 404 404 404 200",
    "GET /api/v1/webhooks/{id}/deliveries/": "401 404 404 404 404 200",
    # Portfolio packs (and their zips): the organisation's admins.
    "GET /api/v1/portfolio-packs/{id}/": "401 404 404 404 404 200",
    "GET /api/v1/portfolio-packs/{id}/download/": "401 404 404 404 404 200",
    # The client manager's own survey answer and token: nobody else sees them.
    "GET /api/v1/pulse-responses/{id}/": "401 404 404 200 404 404",
    "DELETE /api/v1/tokens/{token_key}/": "401 404 404 204 404 404",
    # Creating engagement records: an outsider names an engagement (goal, issue,
    # SLA) that is not theirs, which is refused as a field error.
    "POST /api/v1/action-items/": "401 400 403 201 201 201",
    "POST /api/v1/checkins/": "401 400 403 201 201 201",
    "POST /api/v1/contacts/": "401 400 403 201 201 201",
    "POST /api/v1/feedback/": "401 400 403 201 201 201",
    "POST /api/v1/goal-progress/": "401 400 403 201 201 201",
    "POST /api/v1/issues/": "401 400 403 201 201 201",
    "POST /api/v1/measurements/": "401 400 403 201 201 201",
    "POST /api/v1/measurements/bulk/": "401 400 403 201 201 201",
    "POST /api/v1/reviews/": "401 400 403 201 201 201",
    # Any member answers the survey, viewers included.
    "POST /api/v1/pulse-responses/": "401 400 201 201 201 201",
    # What-if and back-tests read with a body: any member, nothing written.
    "POST /api/v1/engagements/{id}/what-if/": "401 404 200 200 200 200",
    "POST /api/v1/slas/{id}/target-backtest/": "401 404 200 200 200 200",
    # Changing engagement records: managers and admins of either side.
    "PUT /api/v1/contacts/{id}/": "401 404 403 200 200 200",
    "PATCH /api/v1/contacts/{id}/": "401 404 403 200 200 200",
    "PUT /api/v1/engagements/{id}/": "401 404 403 200 200 200",
    "POST /api/v1/alerts/{id}/acknowledge/": "401 404 403 200 200 200",
    "POST /api/v1/issues/{id}/resolve/": "401 404 403 200 200 200",
    "POST /api/v1/engagements/{id}/recompute/": "401 404 403 202 202 202",
    "POST /api/v1/scorecards/{id}/review/": "401 404 403 201 201 201",
    # The action item is the client side's: only that side completes or cancels it.
    "POST /api/v1/action-items/{id}/cancel/": "401 404 403 200 403 200",
    "POST /api/v1/action-items/{id}/complete/": "401 404 403 200 403 200",
    # The terms of an active engagement: managers and admins of either side ask (202), a
    # change request opens and nothing changes; the scoring configuration, admins only.
    "POST /api/v1/change-requests/": "401 400 403 202 202 202",
    "POST /api/v1/goals/": "401 400 403 202 202 202",
    "POST /api/v1/slas/": "401 400 403 202 202 202",
    "PATCH /api/v1/engagements/{id}/": "401 404 403 202 202 202",
    "PUT /api/v1/goals/{id}/": "401 404 403 202 202 202",
    "PATCH /api/v1/goals/{id}/": "401 404 403 202 202 202",
    "PUT /api/v1/slas/{id}/": "401 404 403 202 202 202",
    "PATCH /api/v1/slas/{id}/": "401 404 403 202 202 202",
    "PATCH /api/v1/engagements/{id}/scoring-config/": "401 404 403 403 403 202",
    # The provider manager's open request: the client's side decides, the provider's
    # side withdraws, either side's writers comment.
    "POST /api/v1/change-requests/{id}/accept/": "401 404 403 200 403 200",
    "POST /api/v1/change-requests/{id}/decline/": "401 404 403 200 403 200",
    "POST /api/v1/change-requests/{id}/withdraw/": "401 404 403 403 200 403",
    "POST /api/v1/change-requests/{id}/comment/": "401 404 403 201 201 201",
    # Disputed values (the SLA is the provider's, the value the client's): the provider's
    # managers and admins dispute and withdraw, the client's accept the proposed correction.
    # An outsider names a value it cannot see, which is refused as a field error.
    "POST /api/v1/measurement-disputes/": "401 400 403 403 201 403",
    "POST /api/v1/measurement-disputes/{id}/withdraw/": "401 404 403 403 200 403",
    "POST /api/v1/measurement-disputes/{id}/accept-correction/": "401 404 403 200 403 200",
    # Admins only: archiving, and accepting a proposal from the other side.
    "POST /api/v1/engagements/{id}/archive/": "401 404 403 403 403 200",
    "DELETE /api/v1/engagements/{id}/": "401 404 403 403 403 204",
    "POST /api/v1/engagements/{id}/accept/": "401 404 403 403 403 200",
    "POST /api/v1/engagements/{id}/decline/": "401 404 403 403 403 200",
    # Proposing: managers and admins, from an organisation of their own.
    "POST /api/v1/engagements/": "401 400 403 201 400 201",
    # Organisation administration: its admins; other organisations' people see nothing.
    "PUT /api/v1/memberships/{id}/": "401 404 403 403 404 200",
    "PATCH /api/v1/memberships/{id}/": "401 404 403 403 404 200",
    "DELETE /api/v1/memberships/{id}/": "401 404 403 403 404 204",
    "POST /api/v1/invitations/": "401 400 403 403 400 201",
    "DELETE /api/v1/invitations/{id}/": "401 404 404 404 404 204",
    "POST /api/v1/invitations/{id}/resend/": "401 404 404 404 404 200",
    "POST /api/v1/webhooks/": "401 400 403 403 400 201",
    "POST /api/v1/portfolio-packs/": "401 400 403 403 400 202",
    "PUT /api/v1/webhooks/{id}/": "401 404 404 404 404 200",
    "PATCH /api/v1/webhooks/{id}/": "401 404 404 404 404 200",
    "DELETE /api/v1/webhooks/{id}/": "401 404 404 404 404 204",
    # Each member's own notice settings and inbox (notices): an outsider cannot name an
    # engagement that is not theirs; only the client manager's notice is theirs to mark read.
    "GET /api/v1/me/notice-preferences/": "401 200 200 200 200 200",
    "PATCH /api/v1/me/notice-preferences/": "401 400 200 200 200 200",
    "GET /api/v1/me/notices/": "401 200 200 200 200 200",
    "POST /api/v1/me/notices/{id}/read/": "401 404 404 200 404 404",
    # Anyone signed in: their own organisation, their own token.
    "POST /api/v1/organizations/": "401 201 201 201 201 201",
    "POST /api/v1/tokens/": "401 201 201 201 201 201",
    # An invitation's token joins only the person it was sent to (the provider manager).
    "POST /api/v1/invitations/accept/": "401 403 403 403 200 403",
}

# ------------------------------------------------------------------ page table
# name: (object the URL is about, {METHOD: statuses}).
PAGE_TABLE = {
    # Public pages.
    "healthz": (None, {"GET": "200 200 200 200 200 200", "POST": "200 200 200 200 200 200"}),
    "api-schema": (None, {"GET": "200 200 200 200 200 200", "POST": "405 405 405 405 405 405"}),
    "api-docs": (None, {"GET": "200 200 200 200 200 200", "POST": "405 405 405 405 405 405"}),
    "login": (None, {"GET": "200 200 200 200 200 200", "POST": "200 200 200 200 200 200"}),
    "logout": (
        None,
        {"GET": "405 405 405 405 405 405", "POST": "login login login login login login"},
    ),
    "password_reset": (None, {"GET": "200 200 200 200 200 200", "POST": "200 200 200 200 200 200"}),
    "password_reset_done": (
        None,
        {"GET": "200 200 200 200 200 200", "POST": "405 405 405 405 405 405"},
    ),
    "password_reset_confirm": (
        "reset",
        {"GET": "200 200 200 200 200 200", "POST": "200 200 200 200 200 200"},
    ),
    "password_reset_complete": (
        None,
        {"GET": "200 200 200 200 200 200", "POST": "405 405 405 405 405 405"},
    ),
    # The invitation's link: anyone holding it sees whom it is for; only the person it was
    # sent to (the provider manager) joins, and anonymous visitors sign up for that
    # address (an empty form is a 400).
    "invitation-accept": (
        "invitation",
        {"GET": "200 200 200 200 200 200", "POST": "400 403 403 403 302 403"},
    ),
    # Signed-in pages about the user only; the read pages refuse other methods.
    "portfolio": (None, {"GET": "login 200 200 200 200 200", "POST": "login 405 405 405 405 405"}),
    "alert-list": (None, {"GET": "login 200 200 200 200 200", "POST": "login 405 405 405 405 405"}),
    # The site's icon, for everyone: a redirect to the static file.
    "favicon": (None, {"GET": "302 302 302 302 302 302", "POST": "405 405 405 405 405 405"}),
    "password_change": (
        None,
        {"GET": "login 200 200 200 200 200", "POST": "login 200 200 200 200 200"},
    ),
    "password_change_done": (
        None,
        {"GET": "login 200 200 200 200 200", "POST": "login 405 405 405 405 405"},
    ),
    # Engagement pages: members read, outsiders get 404.
    "engagement-detail": (
        "engagement",
        {"GET": "login 404 200 200 200 200", "POST": "login 405 405 405 405 405"},
    ),
    # The provisional scorecard's paragraph, which the engagement page polls.
    "engagement-provisional": (
        "engagement",
        {"GET": "login 404 200 200 200 200", "POST": "login 405 405 405 405 405"},
    ),
    "engagement-period": (
        "period",
        {"GET": "login 404 200 200 200 200", "POST": "login 405 405 405 405 405"},
    ),
    # The picker redirects to the chosen period's page, the one in progress by default.
    "engagement-period-pick": (
        "engagement",
        {"GET": "login 404 302 302 302 302", "POST": "login 405 405 405 405 405"},
    ),
    # The what-if page is a GET form: any member tries weights; nothing is written.
    "what-if": (
        "engagement",
        {"GET": "login 404 200 200 200 200", "POST": "login 405 405 405 405 405"},
    ),
    # The review pack of a closed period (print view and PDF), and of its quarter: members.
    "period-pack": (
        "period",
        {"GET": "login 404 200 200 200 200", "POST": "login 405 405 405 405 405"},
    ),
    "period-pack-pdf": (
        "period",
        {"GET": "login 404 200 200 200 200", "POST": "login 405 405 405 405 405"},
    ),
    "quarter-pack": (
        "quarter",
        {"GET": "login 404 200 200 200 200", "POST": "login 405 405 405 405 405"},
    ),
    "quarter-pack-pdf": (
        "quarter",
        {"GET": "login 404 200 200 200 200", "POST": "login 405 405 405 405 405"},
    ),
    "scorecard-export": (
        "engagement",
        {"GET": "login 404 200 200 200 200", "POST": "login 405 405 405 405 405"},
    ),
    "run-status": (
        "run",
        {"GET": "login 404 200 200 200 200", "POST": "login 405 405 405 405 405"},
    ),
    # Any member answers the survey.
    "pulse-survey": (
        "engagement",
        {"GET": "login 404 200 200 200 200", "POST": "login 404 302 302 302 302"},
    ),
    # Forms that record: managers and admins of either side; a saved form redirects.
    "checkin-create": (
        "engagement",
        {"GET": "login 404 403 200 200 200", "POST": "login 404 403 302 302 302"},
    ),
    "feedback-create": (
        "engagement",
        {"GET": "login 404 403 200 200 200", "POST": "login 404 403 302 302 302"},
    ),
    "issue-create": (
        "engagement",
        {"GET": "login 404 403 200 200 200", "POST": "login 404 403 302 302 302"},
    ),
    "action-item-create": (
        "engagement",
        {"GET": "login 404 403 200 200 200", "POST": "login 404 403 302 302 302"},
    ),
    "goal-progress-create": (
        "goal",
        {"GET": "login 404 403 200 200 200", "POST": "login 404 403 302 302 302"},
    ),
    "measurement-create": (
        "engagement",
        {"GET": "login 404 403 200 200 200", "POST": "login 404 403 302 302 302"},
    ),
    "measurement-upload": (
        "engagement",
        {"GET": "login 404 403 200 200 200", "POST": "login 404 403 302 302 302"},
    ),
    # Buttons (POST only).
    "issue-resolve": (
        "issue",
        {"GET": "login 405 405 405 405 405", "POST": "login 404 403 302 302 302"},
    ),
    "issue-review-open": (
        "fresh_issue",
        {"GET": "login 405 405 405 405 405", "POST": "login 404 403 302 302 302"},
    ),
    "action-item-cancel": (
        "action_item",
        {"GET": "login 405 405 405 405 405", "POST": "login 404 403 302 403 302"},
    ),
    "key-contact-change": (
        "engagement",
        {"GET": "login 404 403 200 200 200", "POST": "login 404 403 302 302 302"},
    ),
    "key-contact-hours": (
        "contact",
        {"GET": "login 404 403 200 200 200", "POST": "login 404 403 302 302 302"},
    ),
    # Planning the next check-in sends invitations: managers and admins of either side.
    "checkin-plan": (
        "engagement",
        {"GET": "login 404 403 200 200 200", "POST": "login 404 403 302 302 302"},
    ),
    # Slack and Teams channels: the admins of each side, for their side's channels only.
    "engagement-integrations": (
        "engagement",
        {"GET": "login 404 403 403 403 200", "POST": "login 404 403 403 403 302"},
    ),
    "engagement-integration-test": (
        "channel",
        {"GET": "login 405 405 405 405 405", "POST": "login 404 403 403 403 302"},
    ),
    "engagement-integration-remove": (
        "channel",
        {"GET": "login 405 405 405 405 405", "POST": "login 404 403 403 403 302"},
    ),
    # The terms: managers and admins of either side propose a change (a change request,
    # since the engagement is active), which redirects to it.
    "sla-propose": (
        "engagement",
        {"GET": "login 404 403 200 200 200", "POST": "login 404 403 302 302 302"},
    ),
    "sla-change": (
        "sla",
        {"GET": "login 404 403 200 200 200", "POST": "login 404 403 302 302 302"},
    ),
    "goal-propose": (
        "engagement",
        {"GET": "login 404 403 200 200 200", "POST": "login 404 403 302 302 302"},
    ),
    "goal-change": (
        "engagement_goal",
        {"GET": "login 404 403 200 200 200", "POST": "login 404 403 302 302 302"},
    ),
    "engagement-terms-change": (
        "engagement",
        {"GET": "login 404 403 200 200 200", "POST": "login 404 403 302 302 302"},
    ),
    # The provider side asked: the client side's managers and admins decide, the provider's
    # withdraw, both comment.
    "change-request-accept": (
        "change_request",
        {"GET": "login 405 405 405 405 405", "POST": "login 404 403 302 403 302"},
    ),
    "change-request-decline": (
        "change_request",
        {"GET": "login 405 405 405 405 405", "POST": "login 404 403 302 403 302"},
    ),
    "change-request-withdraw": (
        "change_request",
        {"GET": "login 405 405 405 405 405", "POST": "login 404 403 403 302 403"},
    ),
    "change-request-comment": (
        "change_request",
        {"GET": "login 405 405 405 405 405", "POST": "login 404 403 302 302 302"},
    ),
    # Disputed values (the provider's SLA, a value the client recorded): the provider's
    # managers and admins dispute (a form) and withdraw, the client's accept the correction.
    "measurement-dispute": (
        "measurement",
        {"GET": "login 404 403 403 200 403", "POST": "login 404 403 403 302 403"},
    ),
    "measurement-dispute-withdraw": (
        "dispute",
        {"GET": "login 405 405 405 405 405", "POST": "login 404 403 403 302 403"},
    ),
    "measurement-correction-accept": (
        "dispute",
        {"GET": "login 405 405 405 405 405", "POST": "login 404 403 302 403 302"},
    ),
    # Admins of either side (a change request, since the engagement is active).
    "scoring-config-update": (
        "engagement",
        {"GET": "login 404 403 403 403 200", "POST": "login 404 403 403 403 302"},
    ),
    "engagement-archive": (
        "engagement",
        {"GET": "login 404 403 403 403 200", "POST": "login 404 403 403 403 302"},
    ),
    "alert-acknowledge": (
        "alert",
        {"GET": "login 405 405 405 405 405", "POST": "login 404 403 302 302 302"},
    ),
    "engagement-recompute": (
        "engagement",
        {"GET": "login 405 405 405 405 405", "POST": "login 404 403 302 302 302"},
    ),
    "scorecard-review": (
        "scorecard",
        {"GET": "login 405 405 405 405 405", "POST": "login 404 403 302 302 302"},
    ),
    # A past period's page recomputes it (and the later periods) for managers and admins.
    "engagement-period-recompute": (
        "period",
        {"GET": "login 405 405 405 405 405", "POST": "login 404 403 302 302 302"},
    ),
    # The client side owns the action item.
    "action-item-complete": (
        "action_item",
        {"GET": "login 405 405 405 405 405", "POST": "login 404 403 302 403 302"},
    ),
    # The provider proposed: the client's admin accepts.
    "engagement-decline": (
        "proposed",
        {"GET": "login 405 405 405 405 405", "POST": "login 404 403 403 403 302"},
    ),
    "engagement-accept": (
        "proposed",
        {"GET": "login 405 405 405 405 405", "POST": "login 404 403 403 403 302"},
    ),
    # Proposing from the client organisation: its managers and admins.
    "engagement-propose": (
        None,
        {"GET": "login 200 200 200 200 200", "POST": "login 400 400 302 400 302"},
    ),
    # Across engagements (overview): the client organisation's page for its members; compare
    # and search over the user's own engagements (GET forms).
    "organisation-detail": (
        "organization",
        {"GET": "login 404 200 200 404 200", "POST": "login 405 405 405 405 405"},
    ),
    "compare": (None, {"GET": "login 200 200 200 200 200", "POST": "login 405 405 405 405 405"}),
    "search": (None, {"GET": "login 200 200 200 200 200", "POST": "login 405 405 405 405 405"}),
    # The client organisation's invitations: its admins.
    # Notices: each member's own profile and inbox; the unsubscribe link needs no sign-in.
    "notice-profile": (
        None,
        {"GET": "login 200 200 200 200 200", "POST": "login 302 302 302 302 302"},
    ),
    "notice-profile-engagement": (
        None,
        {"GET": "login 200 200 200 200 200", "POST": "login 400 302 302 302 302"},
    ),
    "notice-inbox": (
        None,
        {"GET": "login 200 200 200 200 200", "POST": "login 405 405 405 405 405"},
    ),
    "notice-inbox-read-all": (
        None,
        {"GET": "login 405 405 405 405 405", "POST": "login 302 302 302 302 302"},
    ),
    "notice-inbox-read": (
        "notice",
        {"GET": "login 405 405 405 405 405", "POST": "login 404 404 302 404 404"},
    ),
    "notice-unsubscribe": (
        "unsubscribe",
        {"GET": "200 200 200 200 200 200", "POST": "200 200 200 200 200 200"},
    ),
    "invitation-list": (
        "organization",
        {"GET": "login 404 403 403 404 200", "POST": "login 404 403 403 404 302"},
    ),
    # An organisation's portfolio packs: its admins ask and download.
    "portfolio-packs": (
        "organization",
        {"GET": "login 404 403 403 404 200", "POST": "login 404 403 403 404 302"},
    ),
    "portfolio-pack-download": (
        "portfolio_pack",
        {"GET": "login 404 403 403 404 200", "POST": "login 405 405 405 405 405"},
    ),
    # Its members page: every member reads who the members are; only admins act on them
    # (others' members are not found; its members who are not admins are refused).
    "organization-members": (
        "organization",
        {"GET": "login 404 200 200 404 200", "POST": "login 405 405 405 405 405"},
    ),
    "membership-role-change": (
        "membership",
        {"GET": "login 405 405 405 405 405", "POST": "login 404 403 403 404 302"},
    ),
    "membership-remove": (
        "membership",
        {"GET": "login 405 405 405 405 405", "POST": "login 404 403 403 404 302"},
    ),
    # Invitations are shown to the organisation's admins alone, as in the API.
    "invitation-resend": (
        "pending_invitation",
        {"GET": "login 405 405 405 405 405", "POST": "login 404 404 404 404 302"},
    ),
    "invitation-revoke": (
        "pending_invitation",
        {"GET": "login 405 405 405 405 405", "POST": "login 404 404 404 404 302"},
    ),
}


# ------------------------------------------------------------------ bodies
def api_bodies(w) -> dict:
    """A valid body for each API write, as a manager of the engagement would send it."""
    e = w["engagement"].pk
    return {
        "POST /api/v1/action-items/": {
            "engagement": e,
            "owner_side": "client",
            "description": "Share the roadmap",
            "due_date": "2026-03-20",
        },
        "POST /api/v1/action-items/{id}/complete/": {"completed_at": "2026-03-01T10:00:00Z"},
        "POST /api/v1/alerts/{id}/acknowledge/": {},
        "POST /api/v1/checkins/": {
            "engagement": e,
            "occurred_at": "2026-02-02T10:00:00Z",
            "kind": "review",
            "tier": "executive",
            "notes": "Quarterly review",
        },
        "POST /api/v1/contacts/": {
            "engagement": e,
            "side": "client",
            "role": "delivery_lead",
            "tier": "management",
            "name": "Dana Lee",
            "start_date": "2026-02-01",
        },
        "PUT /api/v1/contacts/{id}/": {
            "name": "Dana Lee",
            "email": "dana@example.com",
            "time_zone": "Asia/Kolkata",
            "work_starts": "10:00",
            "work_ends": "18:00",
        },
        "PATCH /api/v1/contacts/{id}/": {"name": "Dana Lee"},
        "POST /api/v1/engagements/": {
            "organization": w["organizations"].pk,
            "side": "client",
            "counterpart": w["engagement"].provider.pk,
            "name": "Field service",
            "start_date": "2026-04-01",
        },
        # Its name and phase change directly; its check-in cadence is a term.
        "PUT /api/v1/engagements/{id}/": {"name": "Service desk 2", "phase": "expanding"},
        "PATCH /api/v1/engagements/{id}/": {
            "checkin_cadence_days": 14,
            "executive_cadence_days": 90,
        },
        "POST /api/v1/engagements/{id}/decline/": {"reason": "Not this year."},
        "PATCH /api/v1/engagements/{id}/scoring-config/": {"survey_threshold": 4},
        "POST /api/v1/engagements/{id}/what-if/": {
            "weights": {"reliance": 40},
            "band_limits": {"healthy_at": 80},
        },
        "POST /api/v1/slas/{id}/target-backtest/": {"target": "95"},
        "POST /api/v1/change-requests/": {
            "engagement": e,
            "subject": "sla",
            "sla": w["slas"].pk,
            "values": {"target": "95"},
        },
        "POST /api/v1/change-requests/{id}/decline/": {"reason": "Not this quarter."},
        "POST /api/v1/change-requests/{id}/comment/": {"body": "Why 95?"},
        "POST /api/v1/feedback/": {
            "engagement": e,
            "kind": "appreciation",
            "text": "Great handover.",
        },
        "POST /api/v1/goal-progress/": {"goal": w["goals"].pk, "date": "2026-03-02", "percent": 40},
        "POST /api/v1/goals/": {
            "engagement": e,
            "title": "Halve P1 incidents",
            "start_date": "2026-01-01",
            "due_date": "2026-12-31",
        },
        "PUT /api/v1/goals/{id}/": {
            "title": "Halve P1 incidents",
            "start_date": "2026-01-01",
            "due_date": "2026-12-31",
        },
        "PATCH /api/v1/goals/{id}/": {"title": "Halve P2 incidents"},
        "POST /api/v1/invitations/": {
            "organization": w["organizations"].pk,
            "email": "another@example.com",
            "role": "viewer",
        },
        "POST /api/v1/invitations/accept/": {"token": w["invitation_token"]},
        "POST /api/v1/issues/": {
            "engagement": e,
            "title": "Backup job failed",
            "severity": "high",
            "responsible_side": "provider",
            "detected_at": "2026-02-01T09:00:00Z",
        },
        "POST /api/v1/issues/{id}/resolve/": {"resolved_at": "2026-03-01T10:00:00Z"},
        "POST /api/v1/measurements/": {
            "sla": w["slas"].pk,
            "period_start": "2026-04-01",
            "period_end": "2026-04-30",
            "value": "99.7",
        },
        "POST /api/v1/measurement-disputes/": {
            "measurement": w["measurements"].pk,
            "reason": "Our probe saw 99.9.",
            "corrected_value": "99.5",
        },
        "POST /api/v1/measurements/bulk/": {
            "rows": [
                {
                    "sla": w["slas"].pk,
                    "period_start": "2026-04-01",
                    "period_end": "2026-04-30",
                    "value": "99.7",
                }
            ]
        },
        "PUT /api/v1/memberships/{id}/": {"role": "manager"},
        "PATCH /api/v1/memberships/{id}/": {"role": "manager"},
        "POST /api/v1/organizations/": {"name": "Tailspin Toys"},
        "POST /api/v1/portfolio-packs/": {
            "organization": w["organizations"].pk,
            "quarter_start": "2026-01-01",
        },
        "POST /api/v1/pulse-responses/": {"engagement": e, **dict.fromkeys(PULSE_ANSWERS, 3)},
        "POST /api/v1/reviews/": {"issue": w["fresh_issue"].pk, "summary": "Both sides act."},
        "POST /api/v1/scorecards/{id}/review/": {"decision": "signed"},
        "POST /api/v1/engagements/{id}/recompute/": {"period_start": "2026-03-01"},
        "POST /api/v1/slas/": {
            "engagement": e,
            "owner_side": "client",
            "name": "Approvals within 2 days",
            "unit": "%",
            "direction": "higher_is_better",
            "target": "90",
            "weight": "2",
        },
        "PUT /api/v1/slas/{id}/": {
            "owner_side": "client",
            "name": "Approvals within 2 days",
            "unit": "%",
            "direction": "higher_is_better",
            "target": "90",
            "weight": "2",
        },
        "PATCH /api/v1/slas/{id}/": {"target": "95"},
        "POST /api/v1/tokens/": {"name": "deploy"},
        "PATCH /api/v1/me/notice-preferences/": {
            "preferences": [{"engagement": e, "kind": "alert", "channel": "daily"}]
        },
        "POST /api/v1/me/notices/{id}/read/": {},
        "POST /api/v1/webhooks/": {
            "organization": w["organizations"].pk,
            "url": "https://hooks.example.com/other",
            "secret": "t" * 32,
            "events": ["scorecard.computed"],
        },
        "PUT /api/v1/webhooks/{id}/": {
            "url": "https://hooks.example.com/moved",
            "events": ["scorecard.computed"],
        },
        "PATCH /api/v1/webhooks/{id}/": {"active": False},
    }


def page_bodies(w) -> dict:
    """A valid form submission for each dashboard page that takes one."""
    return {
        "action-item-create": {
            "owner_side": "client",
            "description": "Share the roadmap",
            "due_date": "2026-03-20",
        },
        "checkin-create": {"occurred_at": "2026-02-02T10:00", "kind": "sync", "tier": "executive"},
        "checkin-plan": {
            "starts_at": next_checkin_slot(w["engagement"]),
            "attendee_contacts": [w["contacts"].pk],
        },
        "engagement-integrations": {
            "format": "slack",
            "url": "https://hooks.example.com/another",
            "events": ["alert.raised", "scorecard.computed"],
        },
        "key-contact-hours": {
            "time_zone": "Asia/Kolkata",
            "work_starts": "10:00",
            "work_ends": "18:00",
        },
        "engagement-propose": {
            "own_organization": w["organizations"].pk,
            "own_side": "client",
            "counterpart": w["engagement"].provider.pk,
            "name": "Field service",
            "phase": "pilot",
            "start_date": "2026-04-01",
            "time_zone": "UTC",
            "scorecard_period": "month",
            "checkin_cadence_days": 7,
        },
        "feedback-create": {"kind": "appreciation", "text": "Great handover."},
        "goal-progress-create": {"date": "2026-03-02", "percent": 40},
        "invitation-list": {"email": "another@example.com", "role": "viewer"},
        "portfolio-packs": {"quarter_start": "2026-01-01"},
        "membership-role-change": {"role": "manager"},
        "issue-create": {
            "title": "Backup job failed",
            "severity": "high",
            "responsible_side": "provider",
            "detected_at": "2026-02-01T09:00",
        },
        "measurement-create": {
            "sla": w["slas"].pk,
            "period_start": "2026-04-01",
            "period_end": "2026-04-30",
            "value": "99.7",
        },
        "measurement-dispute": {"reason": "Our probe saw 99.5.", "corrected_value": "99.5"},
        "pulse-survey": dict.fromkeys(PULSE_ANSWERS, 3),
        "key-contact-change": {
            "side": "client",
            "role": "delivery_lead",
            "tier": "operational",
            "name": "Dana Lee",
            "start_date": "2026-02-01",
        },
        "scoring-config-update": {
            "healthy_at": 80,
            "watch_at": 55,
            "min_coverage": 0.4,
            "survey_threshold": 4,
            "grace_days": 5,
            **{f"weight_{name}": 10 for name in DIMENSIONS},
        },
        "measurement-upload": {
            "file": SimpleUploadedFile(
                "values.csv",
                f"sla,period_start,period_end,value\n{w['slas'].pk},2026-04-01,2026-04-30,99\n".encode(),
                content_type="text/csv",
            )
        },
        "scorecard-review": {"decision": "signed", "comment": ""},
        "engagement-decline": {"reason": "Not this year."},
        "sla-propose": {
            "name": "First response",
            "owner_side": "provider",
            "unit": "hours",
            "direction": "lower_is_better",
            "target": "4",
            "weight": "1",
        },
        # Unticked "active": the change deactivates the SLA too.
        "sla-change": {
            "name": w["slas"].name,
            "owner_side": w["slas"].owner_side,
            "unit": w["slas"].unit,
            "direction": w["slas"].direction,
            "target": "97.5",
            "weight": "2",
        },
        "goal-propose": {
            "title": "Self-service portal",
            "target": "Four in ten tickets",
            "start_date": "2026-02-01",
            "due_date": "2026-09-30",
        },
        "goal-change": {
            "title": "Renamed goal",
            "start_date": "2026-01-01",
            "due_date": "2026-12-31",
        },
        "engagement-terms-change": {
            "checkin_cadence_days": 14,
            "scorecard_period": "month",
            "executive_cadence_days": 90,
        },
        "change-request-decline": {"reason": "Not before the migration."},
        "change-request-comment": {"body": "Why 4 hours?"},
        "notice-profile": {"time_zone": "Europe/Berlin", "kind_alert": "daily"},
        "notice-profile-engagement": {
            "engagement": w["engagement"].pk,
            "kind": "alert",
            "channel": "daily",
        },
    }


# ------------------------------------------------------------------ helpers
def next_checkin_slot(engagement) -> str:
    """The first slot the plan page proposes now (the one a person would choose)."""
    from django.utils import timezone

    from feedback.selectors import checkin_plan

    return checkin_plan(engagement, timezone.now()).slots[0].isoformat()


def client_as(w, persona, client_class=APIClient):
    client = client_class()
    if persona != "anonymous":
        client.force_login(w[persona])
    return client


def api_url(w, path: str) -> str:
    prefix = path.split("/")[3]
    if "{token_key}" in path:
        return path.replace("{token_key}", w[prefix].token_key)
    proposal_answer = path.endswith(("/accept/", "/decline/"))
    target = w["proposed"] if proposal_answer and prefix == "engagements" else None
    start = w["scorecards"].period_start
    path = path.replace("{period_start}", start.isoformat()).replace(
        "{quarter_start}", period_containing(QUARTER, start).start.isoformat()
    )
    return path.replace("{id}", str((target or w.get(prefix) or w["engagement"]).pk))


PAGE_KWARGS = {
    "engagement": lambda w: {"pk": w["engagement"].pk},
    "proposed": lambda w: {"pk": w["proposed"].pk},
    "alert": lambda w: {"pk": w["alerts"].pk},
    "action_item": lambda w: {"pk": w["action-items"].pk},
    "goal": lambda w: {"pk": w["goals"].pk},
    "engagement_goal": lambda w: {"pk": w["engagement"].pk, "goal_pk": w["goals"].pk},
    "sla": lambda w: {"pk": w["engagement"].pk, "sla_pk": w["slas"].pk},
    "change_request": lambda w: {"pk": w["change-requests"].pk},
    "measurement": lambda w: {"pk": w["measurements"].pk},
    "dispute": lambda w: {"pk": w["measurement-disputes"].pk},
    "issue": lambda w: {"pk": w["issues"].pk},
    "fresh_issue": lambda w: {"pk": w["fresh_issue"].pk},
    "run": lambda w: {"pk": w["runs"].pk},
    "organization": lambda w: {"pk": w["organizations"].pk},
    "portfolio_pack": lambda w: {"pk": w["organizations"].pk, "job_pk": w["portfolio-packs"].pk},
    "membership": lambda w: {"pk": w["memberships"].pk},
    "pending_invitation": lambda w: {"pk": w["invitations"].pk},
    "scorecard": lambda w: {"pk": w["engagement"].pk, "scorecard_pk": w["scorecards"].pk},
    "period": lambda w: {
        "pk": w["engagement"].pk,
        "start": w["scorecards"].period_start.isoformat(),
    },
    "quarter": lambda w: {"pk": w["engagement"].pk, "start": "2026-01-01"},
    "contact": lambda w: {"pk": w["engagement"].pk, "contact_pk": w["contacts"].pk},
    "channel": lambda w: {"pk": w["engagement"].pk, "webhook_pk": w["channel"].pk},
    "invitation": lambda w: {"token": w["invitation_token"]},
    "notice": lambda w: {"pk": w["me"].pk},
    "unsubscribe": lambda w: {"token": unsubscribe_token(w["client_viewer"].pk, "survey")},
    "reset": lambda w: {"uidb64": "MQ", "token": "set-password"},
    None: lambda w: {},
}


def outcome(response) -> str:
    if response.status_code == 302 and response["Location"].startswith("/accounts/login/"):
        return "login"
    return str(response.status_code)


def expected_statuses(row: str, what: str) -> dict[str, str]:
    statuses = row.split()
    assert len(statuses) == len(PERSONAS), f"{what}: {len(statuses)} statuses for 6 personas"
    return dict(zip(PERSONAS, statuses, strict=True))


def send_request(client, method, url, body):
    if isinstance(client, APIClient):
        return getattr(client, method.lower())(url, body or {}, format="json")
    return getattr(client, method.lower())(url, body or {})
