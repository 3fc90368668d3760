"""REST API of the feedback app: how the two sides work together.

Every write goes through feedback.services, which derives the author's side
from their membership and checks their right to write.
"""

from django.contrib.auth import get_user_model
from django.db.models import Q
from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import serializers
from rest_framework.decorators import action

from core.api.base import (
    ApiFilterSet,
    IdFilter,
    RecordViewSet,
    StrictModelSerializer,
    StrictSerializer,
)
from feedback import services
from feedback.models import (
    MIRROR_FIELDS,
    PULSE_FIELDS,
    SURVEY_ANSWER_FIELDS,
    ActionItem,
    CheckIn,
    ContributionReview,
    Feedback,
    Issue,
    PulseResponse,
)
from feedback.survey_report import CATEGORY_LABELS
from relationships.models import Side
from relationships.periods import PERIOD_STATES


# ---------------------------------------------------------------- check-ins
class FollowUpSerializer(StrictSerializer):
    owner_side = serializers.ChoiceField(choices=Side.choices)
    description = serializers.CharField(max_length=5000)
    due_date = serializers.DateField()
    owner = serializers.PrimaryKeyRelatedField(
        queryset=get_user_model().objects.all(),
        required=False,
        allow_null=True,
        help_text="A member of the owner side (user id).",
    )


class CheckInSerializer(StrictModelSerializer):
    action_items = FollowUpSerializer(
        many=True,
        write_only=True,
        required=False,
        help_text="Follow-up action items agreed at the check-in.",
    )
    follow_ups = serializers.PrimaryKeyRelatedField(
        source="action_items", many=True, read_only=True, help_text="Ids of its action items."
    )

    class Meta:
        model = CheckIn
        fields = [
            "id",
            "engagement",
            "occurred_at",
            "occurred_on",
            "kind",
            "tier",
            "attendee_users",
            "attendee_contacts",
            "notes",
            "action_items",
            "follow_ups",
            "recorded_by",
            "created_at",
        ]
        read_only_fields = ["occurred_on", "recorded_by", "created_at"]
        extra_kwargs = {"attendee_users": {"required": False}}

    def validate_action_items(self, items):
        if len(items) > 50:
            raise serializers.ValidationError("At most 50 action items per check-in.")
        return items


class CheckInFilter(ApiFilterSet):
    dates = ("occurred_on",)

    class Meta(ApiFilterSet.Meta):
        model = CheckIn
        fields = ["engagement", "kind"]


@extend_schema_view(
    list=extend_schema(description="Check-ins of your engagements, newest first."),
    create=extend_schema(
        description="Log a check-in with its attendees and follow-up action items, all or nothing."
    ),
)
class CheckInViewSet(RecordViewSet):
    queryset = CheckIn.objects.prefetch_related(
        "attendee_users", "attendee_contacts", "action_items"
    )
    serializer_class = CheckInSerializer
    filterset_class = CheckInFilter
    ordering_fields = ["occurred_at", "created_at"]

    def perform_create(self, serializer):
        data = serializer.validated_data
        serializer.instance = services.checkin_log(
            engagement=data["engagement"],
            user=self.request.user,
            occurred_at=data["occurred_at"],
            kind=data.get("kind", CheckIn.Kind.SYNC),
            tier=data.get("tier", ""),
            notes=data.get("notes", ""),
            attendee_users=data.get("attendee_users", ()),
            attendee_contacts=data.get("attendee_contacts", ()),
            action_items=data.get("action_items", ()),
        )


# ---------------------------------------------------------------- feedback
class FeedbackSerializer(StrictModelSerializer):
    class Meta:
        model = Feedback
        fields = [
            "id",
            "engagement",
            "from_side",
            "kind",
            "text",
            "suggested_action",
            "sla",
            "goal",
            "author",
            "created_at",
            "created_on",
        ]
        read_only_fields = ["from_side", "author", "created_at", "created_on"]


class FeedbackFilter(ApiFilterSet):
    dates = ("created_on",)
    side = filters.ChoiceFilter(field_name="from_side", choices=Side.choices)

    class Meta(ApiFilterSet.Meta):
        model = Feedback
        fields = ["engagement", "kind", "from_side", "sla", "goal"]


@extend_schema_view(
    list=extend_schema(description="Feedback given in your engagements, by either side."),
    create=extend_schema(
        description=(
            "Give feedback from your side: appreciation, or improvement with a concrete "
            "suggested action."
        )
    ),
)
class FeedbackViewSet(RecordViewSet):
    queryset = Feedback.objects.all()
    serializer_class = FeedbackSerializer
    filterset_class = FeedbackFilter
    ordering_fields = ["created_at", "kind"]

    create_service = staticmethod(services.feedback_give)


# ---------------------------------------------------------------- issues
class IssueSerializer(StrictModelSerializer):
    raised_at = serializers.DateTimeField(
        required=False, help_text="When it was shared; defaults to now."
    )

    class Meta:
        model = Issue
        fields = [
            "id",
            "engagement",
            "title",
            "description",
            "severity",
            "responsible_side",
            "raised_by_side",
            "detected_at",
            "raised_at",
            "raised_on",
            "resolved_at",
            "raised_by",
            "created_at",
        ]
        read_only_fields = ["raised_by_side", "raised_on", "resolved_at", "raised_by", "created_at"]


class IssueResolveSerializer(StrictSerializer):
    resolved_at = serializers.DateTimeField(required=False, help_text="Defaults to now.")


class IssueFilter(ApiFilterSet):
    dates = ("raised_on",)
    open = filters.BooleanFilter(field_name="resolved_at", lookup_expr="isnull")

    class Meta(ApiFilterSet.Meta):
        model = Issue
        fields = ["engagement", "severity", "responsible_side", "raised_by_side"]


@extend_schema_view(
    list=extend_schema(
        description="Issues of your engagements: who was responsible, who raised it."
    ),
    create=extend_schema(
        description="Raise an issue; it is recorded as raised by your side, never by input."
    ),
)
class IssueViewSet(RecordViewSet):
    queryset = Issue.objects.all()
    serializer_class = IssueSerializer
    filterset_class = IssueFilter
    ordering_fields = ["raised_at", "detected_at", "severity"]

    create_service = staticmethod(services.issue_raise)

    @extend_schema(
        request=IssueResolveSerializer,
        responses={200: IssueSerializer},
        description="Mark the issue resolved.",
    )
    @action(detail=True, methods=["post"])
    def resolve(self, request, pk=None):
        return self.answer_with(
            services.issue_resolve, record="issue", given=IssueResolveSerializer
        )


# ---------------------------------------------------------------- contribution reviews
class ContributionReviewSerializer(StrictModelSerializer):
    action_items = serializers.PrimaryKeyRelatedField(many=True, read_only=True)

    class Meta:
        model = ContributionReview
        fields = ["id", "issue", "summary", "action_items", "created_by", "created_at"]
        read_only_fields = ["created_by", "created_at"]


class ContributionReviewFilter(ApiFilterSet):
    engagement = IdFilter(field_name="issue__engagement")

    class Meta(ApiFilterSet.Meta):
        model = ContributionReview
        fields = ["issue"]


@extend_schema_view(
    list=extend_schema(
        description="Contribution reviews: after an issue, what each side will do about it."
    ),
    create=extend_schema(description="Open the contribution review of an issue (one per issue)."),
)
class ContributionReviewViewSet(RecordViewSet):
    queryset = ContributionReview.objects.prefetch_related("action_items")
    serializer_class = ContributionReviewSerializer
    filterset_class = ContributionReviewFilter
    ordering_fields = ["created_at"]

    create_service = staticmethod(services.review_create)


# ---------------------------------------------------------------- action items
class ActionItemSerializer(StrictModelSerializer):
    class Meta:
        model = ActionItem
        fields = [
            "id",
            "engagement",
            "review",
            "checkin",
            "owner_side",
            "owner",
            "description",
            "due_date",
            "completed_at",
            "completed_on",
            "cancelled",
            "created_by",
            "created_at",
        ]
        read_only_fields = ["completed_at", "completed_on", "cancelled", "created_by", "created_at"]


class ActionItemCompleteSerializer(StrictSerializer):
    completed_at = serializers.DateTimeField(required=False, help_text="Defaults to now.")


class ActionItemFilter(ApiFilterSet):
    STATUSES = (("open", "Open"), ("completed", "Completed"), ("cancelled", "Cancelled"))

    status = filters.ChoiceFilter(choices=STATUSES, method="filter_status")
    dates = ("due_date",)
    side = filters.ChoiceFilter(field_name="owner_side", choices=Side.choices)

    class Meta(ApiFilterSet.Meta):
        model = ActionItem
        fields = ["engagement", "owner_side", "owner", "review", "checkin"]

    def filter_status(self, queryset, name, value):
        return queryset.filter(
            {
                "open": Q(completed_at__isnull=True, cancelled=False),
                "completed": Q(completed_at__isnull=False),
                "cancelled": Q(cancelled=True),
            }[value]
        )


@extend_schema_view(
    list=extend_schema(description="Action items of your engagements, by due date."),
    create=extend_schema(
        description="Add an action item; in a contribution review each side commits for itself."
    ),
)
class ActionItemViewSet(RecordViewSet):
    queryset = ActionItem.objects.all()
    serializer_class = ActionItemSerializer
    filterset_class = ActionItemFilter
    ordering_fields = ["due_date", "created_at", "completed_at"]

    create_service = staticmethod(services.action_item_add)

    @extend_schema(
        request=ActionItemCompleteSerializer,
        responses={200: ActionItemSerializer},
        description="Mark the item done (its owner side).",
    )
    @action(detail=True, methods=["post"])
    def complete(self, request, pk=None):
        return self.answer_with(
            services.action_item_complete, record="item", given=ActionItemCompleteSerializer
        )

    @extend_schema(
        request=None,
        responses={200: ActionItemSerializer},
        description="Cancel the item (its owner side); cancelled items do not count.",
    )
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        return self.answer_with(services.action_item_cancel, record="item")


# ---------------------------------------------------------------- pulse survey
class PulseResponseSerializer(StrictModelSerializer):
    class Meta:
        model = PulseResponse
        fields = [
            "id",
            "engagement",
            "side",
            "period_kind",
            "period_start",
            *SURVEY_ANSWER_FIELDS,
            "submitted_at",
            "superseded_at",
        ]
        read_only_fields = ["side", "period_kind", "period_start", "submitted_at", "superseded_at"]
        extra_kwargs = {
            **{field: {"required": True} for field in PULSE_FIELDS},
            **{field: {"allow_null": True} for field in (*MIRROR_FIELDS, "nps")},
        }


class PulseResponseFilter(ApiFilterSet):
    current = filters.BooleanFilter(field_name="superseded_at", lookup_expr="isnull")
    dates = ("period_start",)

    class Meta(ApiFilterSet.Meta):
        model = PulseResponse
        fields = ["engagement"]


@extend_schema_view(
    list=extend_schema(description="Your own pulse survey answers; nobody else's are ever shown."),
    create=extend_schema(
        description=(
            "Answer the survey for the engagement's current period; any member of either "
            "party may. The six statements (1-5) are required; their mirrors "
            "(`mirror_<statement>`, 1-5: how you think the other side will rate you), `nps` "
            "(0-10) and the texts `start_doing`, `stop_doing`, `continue_doing` (up to 2,000 "
            "characters) are optional. A second answer in the period replaces the first; "
            "answers always count for the current period, so a closed period's never change."
        )
    ),
)
class PulseResponseViewSet(RecordViewSet):
    serializer_class = PulseResponseSerializer
    filterset_class = PulseResponseFilter
    ordering_fields = ["submitted_at", "period_start"]

    queryset = PulseResponse.objects.all()

    def get_queryset(self):
        # Individual answers are shown to their respondent only.
        return super().get_queryset().filter(respondent_id=self.request.user.pk)

    def check_create(self, engagement):
        # Any member answers the survey, viewers included.
        engagement.access_for(self.request.user).require("read")

    def perform_create(self, serializer):
        data = dict(serializer.validated_data)
        engagement = data.pop("engagement")
        serializer.instance = services.pulse_submit(
            engagement=engagement, user=self.request.user, answers=data
        )


# ---------------------------------------------------------------- survey report
class StatementRatingSerializer(serializers.Serializer):
    statement = serializers.CharField(source="field")
    question = serializers.CharField()
    mean = serializers.FloatField()
    distribution = serializers.ListField(
        child=serializers.IntegerField(), help_text="How many answered 1, 2, 3, 4 and 5."
    )


class MirrorLineSerializer(serializers.Serializer):
    statement = serializers.CharField(source="field")
    question = serializers.CharField()
    rating = serializers.FloatField(
        source="gap.rating", allow_null=True, help_text="How the other side rated this side."
    )
    prediction = serializers.FloatField(
        source="gap.prediction", allow_null=True, help_text="How this side predicted it."
    )
    gap = serializers.FloatField(
        source="gap.gap", allow_null=True, help_text="prediction - rating."
    )
    category = serializers.ChoiceField(
        source="gap.category",
        choices=list(CATEGORY_LABELS),
        allow_null=True,
        help_text="Null when fewer than the threshold gave a prediction.",
    )


class RnpsSerializer(serializers.Serializer):
    score = serializers.FloatField(help_text="% promoters (9-10) - % detractors (0-6).")
    low = serializers.FloatField(help_text="The 90% confidence interval's lower end.")
    high = serializers.FloatField()
    promoters = serializers.IntegerField()
    passives = serializers.IntegerField()
    detractors = serializers.IntegerField()
    answers = serializers.IntegerField()
    small_sample = serializers.BooleanField(help_text="Fewer than 10 answers.")


class SurveySideSerializer(serializers.Serializer):
    published = serializers.BooleanField(
        help_text="False until the period is closed, and for a side below the threshold; "
        "then everything else is null or empty."
    )
    respondents = serializers.IntegerField(allow_null=True)
    statements = StatementRatingSerializer(
        many=True, help_text="How this side rated the other, per statement."
    )
    rnps = RnpsSerializer(
        allow_null=True,
        help_text="This side's recommendation of the other; null below the threshold.",
    )
    texts = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        help_text="start_doing, stop_doing, continue_doing: in an order that names nobody.",
    )
    mirror = MirrorLineSerializer(
        many=True,
        help_text="The other side's rating of this side against this side's prediction; "
        "empty unless both sides are published.",
    )


class SurveyReportSerializer(serializers.Serializer):
    period_start = serializers.DateField(source="period.start")
    period_end = serializers.DateField(source="period.end")
    state = serializers.ChoiceField(choices=PERIOD_STATES)
    threshold = serializers.IntegerField(help_text="The survey threshold in force for the period.")
    client = SurveySideSerializer()
    provider = SurveySideSerializer()

    def to_representation(self, report):
        body = {
            "period": report.period,
            "state": report.state,
            "threshold": report.threshold,
        }
        for side in Side.values:
            shown = report.sides.get(side)
            body[side] = {
                "published": shown is not None,
                "respondents": shown and shown.respondents,
                "statements": shown.statements if shown else [],
                "rnps": shown and shown.rnps,
                "texts": shown.texts if shown else {},
                "mirror": shown.mirror if shown else [],
            }
        return super().to_representation(body)
