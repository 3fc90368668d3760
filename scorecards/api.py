"""REST API of the scorecards app: scorecards, reviews, alerts, runs and engagement-level actions.

Scorecards and alerts are read-only: they are computed. Users sign or dispute a
scorecard, acknowledge an alert, ask for a recompute, and tune the scoring.
The engagement resource is relationships'; accord.api_urls adds this app's part of it
(EngagementScorecards, LatestScorecardFields).
"""

from django.urls import reverse
from django_filters import rest_framework as filters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response

from core.api.base import (
    ApiFilterSet,
    QuerySerializer,
    ReadViewSet,
    StrictSerializer,
    TenantViewSet,
)
from core.api.errors import ErrorSerializer, ServiceUnavailable
from feedback.api import SurveyReportSerializer
from feedback.models import PULSE_FIELDS
from feedback.selectors import survey_publication, survey_report
from relationships.change_requests import terms_change
from relationships.change_requests_api import terms_answer, terms_write_schema
from relationships.models import SLA, ChangeRequest, Side
from relationships.periods import PERIOD_STATES, period_containing
from scorecards import services
from scorecards.backtest import (
    CLOSED_PERIODS,
    scoring_backtest,
    sla_target_backtest,
    whatif_config,
)
from scorecards.compute import SCORE_FIELDS
from scorecards.exports import scorecards_csv
from scorecards.models import Alert, Band, Scorecard, ScorecardReview, ScorecardRun
from scorecards.selectors import (
    latest_of_own_period_only,
    newest_provisional_only,
    scorecard_history,
    with_latest_scorecard,
)


# ---------------------------------------------------------------- scorecards
class ScorecardReviewSerializer(serializers.ModelSerializer):
    class Meta:
        model = ScorecardReview
        fields = ["id", "side", "user", "decision", "comment", "created_at", "stale_at"]


class ScorecardSerializer(serializers.ModelSerializer):
    reviews = ScorecardReviewSerializer(many=True, read_only=True)

    class Meta:
        model = Scorecard
        fields = [
            "id",
            "engagement",
            "period_kind",
            "period_start",
            "period_end",
            "as_of",
            "status",
            *SCORE_FIELDS,
            "model_version",
            "computed_at",
            "frozen_at",
            "changed_since_signoff_at",
            "reviews",
        ]


class ScorecardDetailSerializer(ScorecardSerializer):
    class Meta(ScorecardSerializer.Meta):
        fields = [*ScorecardSerializer.Meta.fields, "explanation", "config"]


class ScorecardReviewRequestSerializer(StrictSerializer):
    decision = serializers.ChoiceField(choices=ScorecardReview.Decision.choices)
    comment = serializers.CharField(
        max_length=5000, required=False, allow_blank=True, help_text="Required to dispute."
    )


class ScorecardFilter(ApiFilterSet):
    dates = ("period_start",)

    class Meta(ApiFilterSet.Meta):
        model = Scorecard
        fields = ["engagement", "period_kind", "band", "status"]


class LatestQuerySerializer(QuerySerializer):
    provisional = serializers.BooleanField(
        default=False,
        help_text="The newest provisional scorecard (the period in progress, or one closing) "
        "instead of the newest final one.",
    )


@extend_schema_view(
    list=extend_schema(description="Scorecards of your engagements, newest period first."),
    retrieve=extend_schema(description="A scorecard with its explanation and configuration."),
)
class ScorecardViewSet(ReadViewSet, TenantViewSet):
    queryset = Scorecard.objects.prefetch_related("reviews").order_by("engagement", "-period_start")
    filterset_class = ScorecardFilter
    ordering_fields = ["period_start", "overall", "computed_at"]

    def get_serializer_class(self):
        return ScorecardDetailSerializer if self.action == "retrieve" else ScorecardSerializer

    @extend_schema(
        description=(
            "The headline scorecard of each of your engagements: its latest closed period's "
            "(final). With provisional=true, the newest provisional one instead."
        ),
        responses={200: ScorecardSerializer(many=True)},
    )
    @action(
        detail=False, methods=["get"], answers_list=True, query_serializer=LatestQuerySerializer
    )
    def latest(self, request):
        newest = newest_provisional_only if self.query["provisional"] else latest_of_own_period_only
        queryset = newest(self.filter_queryset(self.get_queryset()))
        page = self.paginate_queryset(queryset)
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    @extend_schema(
        request=ScorecardReviewRequestSerializer,
        responses={201: ScorecardReviewSerializer},
        description=(
            "Sign or dispute the scorecard for your side (managers and admins). Once both "
            "sides have signed, the period is frozen."
        ),
    )
    @action(detail=True, methods=["post"])
    def review(self, request, pk=None):
        decision = ScorecardReviewRequestSerializer(data=request.data)
        decision.is_valid(raise_exception=True)
        review = services.scorecard_review(
            scorecard=self.get_object(),
            user=request.user,
            decision=decision.validated_data["decision"],
            comment=decision.validated_data.get("comment", ""),
        )
        return Response(ScorecardReviewSerializer(review).data, status=status.HTTP_201_CREATED)


# ---------------------------------------------------------------- alerts
class AlertSerializer(serializers.ModelSerializer):
    class Meta:
        model = Alert
        fields = [
            "id",
            "engagement",
            "period_kind",
            "period_start",
            "kind",
            "side",
            "message",
            "details",
            "raised_at",
            "resolved_at",
            "acknowledged_at",
            "acknowledged_by",
        ]


class AlertFilter(ApiFilterSet):
    open = filters.BooleanFilter(field_name="resolved_at", lookup_expr="isnull")
    acknowledged = filters.BooleanFilter(
        field_name="acknowledged_at", lookup_expr="isnull", exclude=True
    )
    dates = ("period_start",)

    class Meta(ApiFilterSet.Meta):
        model = Alert
        fields = ["engagement", "kind", "side"]


@extend_schema_view(
    list=extend_schema(
        description="Alerts of your engagements; `open=true` for unresolved, `false` for resolved."
    ),
)
class AlertViewSet(ReadViewSet, TenantViewSet):
    queryset = Alert.objects.all()
    serializer_class = AlertSerializer
    filterset_class = AlertFilter
    ordering_fields = ["raised_at", "period_start", "kind"]

    @extend_schema(
        request=None, responses={200: AlertSerializer}, description="Acknowledge the alert."
    )
    @action(detail=True, methods=["post"])
    def acknowledge(self, request, pk=None):
        return self.answer_with(services.alert_acknowledge, record="alert")


# ---------------------------------------------------------------- runs
class ScorecardRunSerializer(serializers.ModelSerializer):
    engagement = serializers.IntegerField(
        source="engagement_id",
        allow_null=True,
        help_text="The engagement recomputed; null for a run of many engagements (periodic "
        "or command), which the members of every engagement it covered see.",
    )
    scorecards_written = serializers.IntegerField(
        allow_null=True, help_text="Null for a run of many engagements: it counts all of them."
    )
    alerts_raised = serializers.IntegerField(
        allow_null=True, help_text="Null for a run of many engagements: it counts all of them."
    )
    error = serializers.CharField(
        help_text="Why a failed run failed; for a run of many engagements, a general note."
    )
    next_run = serializers.IntegerField(
        source="next_run_id",
        allow_null=True,
        help_text="The run of the next period, started when this one finishes.",
    )

    class Meta:
        model = ScorecardRun
        fields = [
            "id",
            "trigger",
            "engagement",
            "period_kind",
            "period_start",
            "status",
            "created_at",
            "started_at",
            "finished_at",
            "scorecards_written",
            "alerts_raised",
            "error",
            "next_run",
        ]

    def to_representation(self, run):
        return {**super().to_representation(run), **run.figures_for_members()}


class ScorecardRunFilter(ApiFilterSet):
    dates = ("period_start",)

    class Meta(ApiFilterSet.Meta):
        model = ScorecardRun
        fields = ["engagement", "status", "trigger", "period_kind"]


@extend_schema_view(
    list=extend_schema(
        description="Scorecard runs that covered your engagements: recomputes, and the "
        "periodic and command runs of many engagements, which show their status, period "
        "and times but no counts."
    ),
    retrieve=extend_schema(description="Poll a run: `succeeded` or `failed` once it is finished."),
)
class ScorecardRunViewSet(ReadViewSet, TenantViewSet):
    queryset = ScorecardRun.objects.all()
    serializer_class = ScorecardRunSerializer
    filterset_class = ScorecardRunFilter
    ordering_fields = ["created_at", "finished_at"]


# ---------------------------------------------------------------- what-if and back-test
class ReadsByPost:
    """Operations that read with a request body (`reading_actions`): any member may use
    them; they write nothing, so the write check of a POST does not apply."""

    reading_actions: frozenset = frozenset()

    def check_write(self, obj):
        if self.action not in self.reading_actions:
            super().check_write(obj)


class WhatIfRequestSerializer(StrictSerializer):
    weights = serializers.DictField(
        child=serializers.FloatField(),
        help_text="Weights by dimension name; a dimension left out keeps the weight in force.",
    )
    band_limits = serializers.DictField(
        child=serializers.FloatField(),
        help_text="Any of healthy_at, watch_at, min_coverage; one left out keeps its value "
        "in force.",
    )


class ScoringBacktestRowSerializer(serializers.Serializer):
    period_start = serializers.DateField(source="period.start")
    period_end = serializers.DateField(source="period.end")
    status = serializers.ChoiceField(
        choices=Scorecard.Status.choices, help_text="provisional: the period so far."
    )
    stored_overall = serializers.DecimalField(max_digits=4, decimal_places=1, allow_null=True)
    stored_band = serializers.ChoiceField(choices=Band.choices)
    overall = serializers.DecimalField(
        max_digits=4, decimal_places=1, allow_null=True, help_text="Rescored."
    )
    band = serializers.ChoiceField(
        choices=Band.choices,
        allow_blank=True,
        help_text="Rescored; empty for a scorecard stored without its inputs.",
    )
    difference = serializers.DecimalField(
        max_digits=5,
        decimal_places=1,
        allow_null=True,
        help_text="Rescored overall minus the stored one.",
    )
    band_changed = serializers.BooleanField()


class SlaBacktestRequestSerializer(StrictSerializer):
    target = serializers.DecimalField(max_digits=18, decimal_places=6)
    direction = serializers.ChoiceField(
        choices=SLA.Direction.choices, required=False, help_text="The SLA's own if left out."
    )


class SlaBacktestRowSerializer(serializers.Serializer):
    period_start = serializers.DateField(source="period.start")
    period_end = serializers.DateField(source="period.end")
    measured = serializers.IntegerField(help_text="Current values whose period starts in it.")
    met_now = serializers.IntegerField(help_text="Of those, meeting the target in force.")
    met_proposed = serializers.IntegerField(help_text="Of those, meeting the proposed target.")
    percent_now = serializers.DecimalField(max_digits=4, decimal_places=1, allow_null=True)
    percent_proposed = serializers.DecimalField(max_digits=4, decimal_places=1, allow_null=True)


class SlaTargetBacktest(ReadsByPost):
    """The SLA viewset's back-test of a proposed target (accord.api_urls adds it)."""

    reading_actions = frozenset({"target_backtest"})

    @extend_schema(
        request=SlaBacktestRequestSerializer,
        responses={200: SlaBacktestRowSerializer(many=True)},
        description=(
            f"What the SLA would have attained under another target (and direction) in each "
            f"of its engagement's last {CLOSED_PERIODS} closed periods, newest first, beside "
            "what it attained under its target in force, from its current values. Any member; "
            "nothing is written."
        ),
    )
    # A plain list of at most 12 rows, not a page (and so declared in the schema).
    @action(detail=True, methods=["post"], url_path="target-backtest", pagination_class=None)
    def target_backtest(self, request, pk=None):
        sla = self.get_object()
        proposal = SlaBacktestRequestSerializer(data=request.data)
        proposal.is_valid(raise_exception=True)
        rows = sla_target_backtest(sla=sla, **proposal.validated_data)
        return Response(SlaBacktestRowSerializer(rows, many=True).data)


# ---------------------------------------------------------------- engagements
# An engagement's latest scorecard in its answers (no docstring: the schema takes the first).
class LatestScorecardFields(serializers.Serializer):
    latest_period_start = serializers.DateField(read_only=True, allow_null=True)
    latest_overall = serializers.DecimalField(
        max_digits=4, decimal_places=1, read_only=True, allow_null=True
    )
    latest_band = serializers.ChoiceField(choices=Band.choices, read_only=True, allow_null=True)


class RecomputeRequestSerializer(StrictSerializer):
    period_start = serializers.DateField(
        required=False,
        help_text="The first day of a past period that is not frozen (both sides signed); "
        "the period in progress if left out. Every later period up to the one in progress "
        "is recomputed after it, oldest first (520 periods at most in one request).",
    )


class ChainedRunSerializer(serializers.Serializer):
    run = serializers.IntegerField(help_text="The run's id.")
    period_start = serializers.DateField()
    poll_url = serializers.URLField()


class RecomputeAcceptedSerializer(serializers.Serializer):
    run = serializers.IntegerField(help_text="The run of the requested period.")
    period_start = serializers.DateField(help_text="The requested period's first day.")
    status = serializers.CharField()
    poll_url = serializers.URLField(help_text="GET it until status is succeeded or failed.")
    later_runs = ChainedRunSerializer(
        many=True,
        help_text="The runs of the later periods up to the one in progress, oldest first; "
        "each starts when the one before it finishes, so the last finishes last.",
    )


class ScoringConfigSerializer(serializers.Serializer):
    weights = serializers.DictField(child=serializers.FloatField(), help_text="Per dimension.")
    healthy_at = serializers.FloatField()
    watch_at = serializers.FloatField()
    min_coverage = serializers.FloatField()
    survey_threshold = serializers.IntegerField(
        help_text="Applies to periods that begin after it was set."
    )
    grace_days = serializers.IntegerField(
        help_text="Days after a period's last day during which late records still count."
    )
    updated_at = serializers.DateTimeField(allow_null=True)
    updated_by = serializers.IntegerField(allow_null=True)


class ScoringConfigUpdateSerializer(StrictSerializer):
    weights = serializers.DictField(
        child=serializers.FloatField(), required=False, help_text="Weights by dimension name."
    )
    band_limits = serializers.DictField(
        child=serializers.FloatField(),
        required=False,
        help_text="Any of healthy_at, watch_at, min_coverage.",
    )
    survey_threshold = serializers.IntegerField(
        min_value=1,
        max_value=1000,
        required=False,
        help_text="Applies to the periods that begin after it was agreed.",
    )
    grace_days = serializers.IntegerField(min_value=0, max_value=14, required=False)


class PulseSideSerializer(serializers.Serializer):
    published = serializers.BooleanField(
        help_text="False until the period is closed, and for a side below the threshold."
    )
    respondents = serializers.IntegerField(allow_null=True)
    means = serializers.DictField(
        child=serializers.FloatField(allow_null=True),
        help_text=f"Mean answer per question ({', '.join(PULSE_FIELDS)}); null unless published.",
    )
    overall = serializers.FloatField(allow_null=True)


class PulseAggregatesSerializer(serializers.Serializer):
    period_start = serializers.DateField()
    period_end = serializers.DateField()
    state = serializers.ChoiceField(choices=PERIOD_STATES)
    threshold = serializers.IntegerField(help_text="The survey threshold in force for the period.")
    client = PulseSideSerializer()
    provider = PulseSideSerializer()


class PulseAggregatesQuerySerializer(QuerySerializer):
    period_start = serializers.DateField(
        required=False, help_text="A day of the period; the latest closed period if left out."
    )


def _scoring_config_body(engagement) -> dict:
    stored = getattr(engagement, "scoring_config", None)
    return {
        **engagement.scoring_config_values().as_dict(),
        "updated_at": stored.updated_at if stored else None,
        "updated_by": stored.updated_by_id if stored else None,
    }


class EngagementScorecards(ReadsByPost):
    """The engagement viewset's scorecard part: each engagement's latest scorecard, its
    scorecard history and export, recompute, scoring configuration, its what-if, pulse
    results and survey report."""

    reading_actions = frozenset({"what_if"})

    def get_queryset(self):
        return with_latest_scorecard(super().get_queryset())

    @extend_schema(
        request=RecomputeRequestSerializer,
        responses={
            202: RecomputeAcceptedSerializer,
            503: OpenApiResponse(ErrorSerializer, description="The job queue is unreachable."),
        },
        description=(
            "Queue a recompute of a period of the engagement (managers and admins): the "
            "period in progress, or a past one that is not frozen (`period_start`), and then "
            "each later period up to the one in progress, oldest first, so that every "
            "trend compares with an up-to-date previous period. A closed period's scorecard "
            "is final. Answers 202 with the runs to poll."
        ),
    )
    @action(detail=True, methods=["post"])
    def recompute(self, request, pk=None):
        engagement = self.get_object()
        given = RecomputeRequestSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        try:
            run, *later = services.request_recompute(
                engagement=engagement, user=request.user, **given.validated_data
            )
        except services.BrokerUnavailable:
            raise ServiceUnavailable(
                "The job queue is unreachable, so the recompute was not queued; nothing was "
                "changed. Try again shortly."
            ) from None

        def poll_url(queued):
            return request.build_absolute_uri(reverse("scorecardrun-detail", args=[queued.pk]))

        body = {
            "run": run.pk,
            "period_start": run.period_start,
            "status": run.status,
            "poll_url": poll_url(run),
            "later_runs": [
                {"run": each.pk, "period_start": each.period_start, "poll_url": poll_url(each)}
                for each in later
            ],
        }
        return Response(
            RecomputeAcceptedSerializer(body).data,
            status=status.HTTP_202_ACCEPTED,
            headers={"Location": body["poll_url"]},
        )

    @extend_schema(
        responses={200: ScorecardSerializer(many=True)},
        description="The engagement's scorecard history, newest period first.",
    )
    # A page of the history; the engagement's filters do not apply to it.
    @action(detail=True, methods=["get"], answers_list=True, filter_backends=[])
    def scorecards(self, request, pk=None):
        history = scorecard_history(self.get_object()).prefetch_related("reviews")
        page = self.paginate_queryset(history)
        return self.get_paginated_response(ScorecardSerializer(page, many=True).data)

    @extend_schema(
        responses={(200, "text/csv"): OpenApiTypes.STR},
        description="The engagement's scorecard history as CSV, one row per period.",
    )
    @action(detail=True, methods=["get"], url_path="scorecards/export")
    def export(self, request, pk=None):
        engagement = self.get_object()
        return scorecards_csv(engagement, scorecard_history(engagement))

    @extend_schema(
        methods=["GET"],
        responses={200: ScoringConfigSerializer},
        description="The engagement's scoring configuration (defaults unless changed).",
    )
    @extend_schema(
        methods=["PATCH"],
        request=ScoringConfigUpdateSerializer,
        **terms_write_schema(
            "Change weights, band limits, the survey threshold or the grace days (admins). "
            "While the engagement is proposed, an admin of the proposing side sets them "
            "(200); once active, this opens a change request (202) that applies, from the "
            "period in progress on, when an admin of the other side accepts it. The values "
            "already in force are refused (400).",
            ScoringConfigSerializer,
        ),
    )
    # serializer_class: the browsable API builds its PATCH form from it.
    @action(
        detail=True,
        methods=["get", "patch"],
        url_path="scoring-config",
        serializer_class=ScoringConfigUpdateSerializer,
    )
    def scoring_config(self, request, pk=None):
        engagement = self.get_object()
        if request.method == "PATCH":
            body = ScoringConfigUpdateSerializer(data=request.data)
            body.is_valid(raise_exception=True)
            change = terms_change(
                engagement=engagement,
                user=request.user,
                subject=ChangeRequest.Subject.SCORING_CONFIG,
                values=body.validated_data,
            )
            if change.applied is not None:
                engagement.scoring_config = change.applied
            return terms_answer(
                change, lambda: ScoringConfigSerializer(_scoring_config_body(engagement)).data
            )
        return Response(ScoringConfigSerializer(_scoring_config_body(engagement)).data)

    @extend_schema(
        request=WhatIfRequestSerializer,
        responses={200: ScoringBacktestRowSerializer(many=True)},
        description=(
            "What if the scoring had other weights and band limits: the newest provisional "
            f"scorecard and the last {CLOSED_PERIODS} final ones, newest first, each with its "
            "stored overall and band beside those rescored from its stored inputs under the "
            "values given (validated like the scoring configuration). Any member; nothing "
            "is written."
        ),
    )
    # A plain list of at most 13 rows, not a page (and so declared in the schema).
    @action(detail=True, methods=["post"], url_path="what-if", pagination_class=None)
    def what_if(self, request, pk=None):
        engagement = self.get_object()
        tried = WhatIfRequestSerializer(data=request.data)
        tried.is_valid(raise_exception=True)
        config = whatif_config(engagement=engagement, **tried.validated_data)
        rows = scoring_backtest(engagement=engagement, config=config)
        return Response(ScoringBacktestRowSerializer(rows, many=True).data)

    @extend_schema(
        responses={200: PulseAggregatesSerializer},
        description=(
            "Pulse survey results per side for a period. Published once the period is "
            "closed, and never changed after, for a side where at least the threshold in "
            "force for that period answered; otherwise `published` is false and nothing "
            "about the side's answers is shown."
        ),
    )
    @action(
        detail=True,
        methods=["get"],
        url_path="pulse-aggregates",
        query_serializer=PulseAggregatesQuerySerializer,
    )
    def pulse_aggregates(self, request, pk=None):
        engagement = self.get_object()
        period = self._survey_period(engagement)
        publication = survey_publication(engagement, period)
        body = {
            "period_start": period.start,
            "period_end": period.end,
            "state": publication.state,
            "threshold": publication.threshold,
        }
        for side in Side.values:
            shown = publication.sides.get(side)
            body[side] = {
                "published": shown is not None,
                "respondents": shown and shown.respondents,
                "means": shown.means if shown else dict.fromkeys(PULSE_FIELDS),
                "overall": shown and shown.overall,
            }
        return Response(PulseAggregatesSerializer(body).data)

    def _survey_period(self, engagement):
        day = self.query.get("period_start")
        if day:
            return period_containing(engagement.scorecard_period, day)
        return engagement.latest_closed_period()

    @extend_schema(
        responses={200: SurveyReportSerializer},
        description=(
            "The survey report of a period (PRODUCT.md §8), read-only: per side, how it "
            "rated the other side per statement (mean and distribution), its mirror (the "
            "other side's rating of it against its own prediction, with the gap's category: "
            "blind spot, hidden strength, ...), its recommendation score (rNPS) with a 90% "
            "interval, and its start/stop/continue texts without names. Published once the "
            "period is closed, never changed after, and only for a side where at least the "
            "threshold in force answered (the mirror needs both sides; the mirror and rNPS "
            "also need that many answers to their questions)."
        ),
    )
    @action(
        detail=True,
        methods=["get"],
        url_path="survey-report",
        query_serializer=PulseAggregatesQuerySerializer,
    )
    def survey_report(self, request, pk=None):
        engagement = self.get_object()
        report = survey_report(engagement, self._survey_period(engagement))
        return Response(SurveyReportSerializer(report).data)
