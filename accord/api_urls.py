"""REST API v1 resources (measurements and webhooks live in accord.integration_urls)."""

from django.urls import path
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework.routers import DefaultRouter

from feedback import api as feedback_api
from notices import api as notices_api
from overview.api import OrganizationRollup
from packs import api as packs_api
from relationships import api as relationships_api
from relationships import change_requests_api
from relationships.change_requests_api import terms_write_schema
from relationships.disputes_api import MeasurementDisputeViewSet
from scorecards import api as scorecards_api


class EngagementSerializer(
    scorecards_api.LatestScorecardFields, relationships_api.EngagementSerializer
):
    class Meta(relationships_api.EngagementSerializer.Meta):
        fields = [
            *relationships_api.EngagementSerializer.Meta.fields,
            *scorecards_api.LatestScorecardFields._declared_fields,
        ]


@extend_schema_view(
    list=extend_schema(
        description=(
            "Engagements where one of your organisations is a party, with their latest "
            "scorecard's period, overall score and band."
        )
    ),
    update=extend_schema(
        **terms_write_schema(relationships_api.ENGAGEMENT_CHANGE, EngagementSerializer)
    ),
    partial_update=extend_schema(
        **terms_write_schema(relationships_api.ENGAGEMENT_CHANGE, EngagementSerializer)
    ),
)
class EngagementViewSet(
    packs_api.EngagementPacks,
    scorecards_api.EngagementScorecards,
    relationships_api.EngagementViewSet,
):
    """Engagements (relationships) with their scorecards (scorecards) and review packs (packs)."""

    serializer_class = EngagementSerializer
    # The scoring configuration is a term: relationships.change_requests checks who may set it.
    actions_checked_by_services = {
        *relationships_api.EngagementViewSet.actions_checked_by_services,
        "scoring_config",
    }


class OrganizationViewSet(OrganizationRollup, relationships_api.OrganizationViewSet):
    """Organisations (relationships) with their members' roll-up (overview)."""


class SLAViewSet(scorecards_api.SlaTargetBacktest, relationships_api.SLAViewSet):
    """SLAs (relationships) with the back-test of a proposed target (scorecards)."""


router = DefaultRouter()
router.register("organizations", OrganizationViewSet, basename="organization")
router.register("memberships", relationships_api.MembershipViewSet, basename="membership")
router.register("invitations", relationships_api.InvitationViewSet, basename="invitation")
router.register("engagements", EngagementViewSet, basename="engagement")
router.register("contacts", relationships_api.KeyContactViewSet, basename="keycontact")
router.register("slas", SLAViewSet, basename="sla")
router.register("goals", relationships_api.SharedGoalViewSet, basename="sharedgoal")
router.register(
    "change-requests", change_requests_api.ChangeRequestViewSet, basename="changerequest"
)
router.register("measurement-disputes", MeasurementDisputeViewSet, basename="measurementdispute")
router.register("goal-progress", relationships_api.GoalProgressViewSet, basename="goalprogress")
router.register("checkins", feedback_api.CheckInViewSet, basename="checkin")
router.register("feedback", feedback_api.FeedbackViewSet, basename="feedback")
router.register("issues", feedback_api.IssueViewSet, basename="issue")
router.register("reviews", feedback_api.ContributionReviewViewSet, basename="contributionreview")
router.register("action-items", feedback_api.ActionItemViewSet, basename="actionitem")
router.register("pulse-responses", feedback_api.PulseResponseViewSet, basename="pulseresponse")
router.register("scorecards", scorecards_api.ScorecardViewSet, basename="scorecard")
router.register("alerts", scorecards_api.AlertViewSet, basename="alert")
router.register("runs", scorecards_api.ScorecardRunViewSet, basename="scorecardrun")
router.register("portfolio-packs", packs_api.PortfolioPackViewSet, basename="portfoliopack")
router.register("tokens", relationships_api.ApiTokenViewSet, basename="apitoken")
router.register("me/notices", notices_api.NoticeViewSet, basename="notice")

urlpatterns = [
    # The member's own settings: one resource, no id.
    path(
        "me/notice-preferences/",
        notices_api.NoticePreferencesViewSet.as_view(
            {"get": "retrieve", "patch": "partial_update"}
        ),
        name="notice-preferences",
    ),
    *router.urls,
]
