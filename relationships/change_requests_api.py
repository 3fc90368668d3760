"""REST API of change requests to the terms (PRODUCT.md §7), and the term writes of the
SLA, goal and engagement endpoints, which open one on an active engagement (202)."""

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from drf_spectacular.utils import (
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
    extend_schema_view,
)
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response

from core.api.base import ApiFilterSet, ReadViewSet, StrictSerializer, TenantViewSet
from core.api.errors import NON_FIELD
from relationships import change_requests
from relationships.change_requests import TermsChange, require_terms_access, terms_change
from relationships.models import (
    CHANGE_REQUEST_COMMENT_MAX,
    DECLINE_REASON_MAX,
    SLA,
    ChangeRequest,
    ChangeRequestComment,
    Engagement,
    SharedGoal,
)
from relationships.people import person_name
from relationships.terms import TERM_FIELDS


class ChangeRequestCommentSerializer(serializers.ModelSerializer):
    author = serializers.SerializerMethodField(help_text="Who wrote it.")

    class Meta:
        model = ChangeRequestComment
        fields = ["id", "author", "side", "body", "created_at"]

    def get_author(self, comment) -> str | None:
        return person_name(comment.author) if comment.author else None


class ChangeRowSerializer(serializers.Serializer):
    what = serializers.CharField()
    current = serializers.CharField(help_text="The value when the request was made.")
    proposed = serializers.CharField()


class ChangeRequestSerializer(serializers.ModelSerializer):
    what = serializers.CharField(
        source="subject_label", read_only=True, help_text="e.g. SLA “Uptime”, new shared goal “…”"
    )
    changes = serializers.SerializerMethodField(help_text="The changed terms, as text.")
    requested_by = serializers.SerializerMethodField()
    decided_by = serializers.SerializerMethodField()
    url = serializers.CharField(source="get_absolute_url", read_only=True)
    comments = ChangeRequestCommentSerializer(many=True, read_only=True)

    class Meta:
        model = ChangeRequest
        fields = [
            "id",
            "engagement",
            "subject",
            "what",
            "sla",
            "goal",
            "status",
            "proposed",
            "current",
            "replaced",
            "changes",
            "requested_by",
            "requested_side",
            "requested_at",
            "expires_at",
            "decided_by",
            "decided_at",
            "decline_reason",
            "applies_from",
            "url",
            "comments",
        ]
        read_only_fields = fields
        extra_kwargs = {
            "proposed": {"help_text": "The changed terms' new values (decimals as text)."},
            "current": {"help_text": "The terms when the request was made."},
            "replaced": {"help_text": "The terms it replaced, once accepted; else null."},
            "applies_from": {
                "help_text": "Once accepted: the first day of the period it applies from."
            },
        }

    @extend_schema_field(ChangeRowSerializer(many=True))
    def get_changes(self, change_request) -> list[dict]:
        return [
            {"what": what, "current": current, "proposed": proposed}
            for what, current, proposed in change_request.changes()
        ]

    def get_requested_by(self, change_request) -> str | None:
        return person_name(change_request.requested_by) if change_request.requested_by else None

    def get_decided_by(self, change_request) -> str | None:
        return person_name(change_request.decided_by) if change_request.decided_by else None


class ChangeRequestCreateSerializer(StrictSerializer):
    engagement = serializers.PrimaryKeyRelatedField(queryset=Engagement.objects.none())
    subject = serializers.ChoiceField(choices=ChangeRequest.Subject.choices)
    sla = serializers.PrimaryKeyRelatedField(
        queryset=SLA.objects.none(),
        required=False,
        allow_null=True,
        help_text="The SLA to change (subject sla); leave it out to propose a new SLA.",
    )
    goal = serializers.PrimaryKeyRelatedField(
        queryset=SharedGoal.objects.none(),
        required=False,
        allow_null=True,
        help_text="The shared goal to change (subject goal); leave it out for a new goal.",
    )
    values = serializers.DictField(
        help_text=(
            "The terms to change, by name. sla: name, owner_side, unit, direction, target, "
            "weight, active (and description, for a new one); goal: title, target, "
            "start_date, due_date, client_contact, provider_contact, cancelled (and "
            "description); scoring_config: weights, band_limits, survey_threshold, "
            "grace_days; engagement: checkin_cadence_days, scorecard_period, "
            "executive_cadence_days, management_cadence_days, operational_cadence_days. "
            "Decimals may be given as text, dates as YYYY-MM-DD, contacts by id."
        )
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        if request is not None:
            self.fields["engagement"].queryset = Engagement.objects.visible_to(request.user)
            self.fields["sla"].queryset = SLA.objects.restrict(request.user)
            self.fields["goal"].queryset = SharedGoal.objects.restrict(request.user)


class DeclineSerializer(StrictSerializer):
    # Blank is the service's to refuse, after it has checked who may decline.
    reason = serializers.CharField(
        max_length=DECLINE_REASON_MAX,
        required=False,
        allow_blank=True,
        help_text="Why you decline (required); the side that asked reads it.",
    )


class CommentSerializer(StrictSerializer):
    body = serializers.CharField(max_length=CHANGE_REQUEST_COMMENT_MAX)


class ChangeRequestFilter(ApiFilterSet):
    dates = ("requested_at",)
    date_lookups = {"requested_at": "requested_at__date"}

    class Meta(ApiFilterSet.Meta):
        model = ChangeRequest
        fields = ["engagement", "status", "subject", "requested_side"]


def _under_values(errors: dict, values: dict) -> dict:
    """The service's errors about the given values as errors of the `values` field, keyed
    by the value's name ("values.target"); others (sla, goal, the whole request) as they are."""
    nested = {name: messages for name, messages in errors.items() if name in values}
    others = {
        NON_FIELD if name == NON_FIELD_ERRORS else name: messages
        for name, messages in errors.items()
        if name not in values
    }
    return {**others, "values": nested} if nested else others


@extend_schema_view(
    list=extend_schema(
        description="Change requests to the terms of your engagements, newest first; "
        "`requested_at` dates are UTC days."
    ),
    retrieve=extend_schema(description="One change request, with its comments."),
)
class ChangeRequestViewSet(ReadViewSet, TenantViewSet):
    queryset = change_requests.with_people(ChangeRequest.objects.all())
    serializer_class = ChangeRequestSerializer
    filterset_class = ChangeRequestFilter
    ordering_fields = ["requested_at", "expires_at", "decided_at", "id"]

    def check_write(self, obj):
        """Who may decide, withdraw or comment is the request's own rule (its services)."""

    @extend_schema(
        request=ChangeRequestCreateSerializer,
        responses={202: ChangeRequestSerializer},
        description=(
            "Ask the other side to agree a change to the terms of an active engagement: "
            "nothing changes until a manager of the other side (an admin, for the scoring "
            "configuration) accepts. Values are validated now (400, nothing created); the "
            "values already in force, or a second open request for the same thing, are "
            "refused. While an engagement is proposed, its proposer edits the terms directly "
            "(slas/, goals/, engagements/{id}/ and its scoring-config/)."
        ),
    )
    def create(self, request):
        body = ChangeRequestCreateSerializer(data=request.data, context={"request": request})
        body.is_valid(raise_exception=True)
        data = body.validated_data
        engagement = data["engagement"]
        if engagement.status != Engagement.Status.ACTIVE:
            raise ValidationError(
                {
                    "engagement": f"This engagement is {engagement.status}: change requests are "
                    "for active engagements. While it is proposed, the proposing side edits "
                    "its terms directly."
                }
            )
        try:
            change = terms_change(
                engagement=engagement,
                user=request.user,
                subject=data["subject"],
                values=data["values"],
                sla=data.get("sla"),
                goal=data.get("goal"),
            )
        except ValidationError as error:
            raise serializers.ValidationError(
                _under_values(error.message_dict, data["values"])
            ) from None
        return self._answer(change.change_request, status.HTTP_202_ACCEPTED)

    @extend_schema(
        request=None,
        description="Accept (a manager or admin of the other side; an admin for the scoring "
        "configuration): the change applies from the period in progress on.",
    )
    @action(detail=True, methods=["post"])
    def accept(self, request, pk=None):
        return self._answer(
            change_requests.change_request_accept(
                change_request=self.get_object(), user=request.user
            )
        )

    @extend_schema(
        request=DeclineSerializer,
        description="Decline, saying why (the other side's managers and admins); nothing changes.",
    )
    @action(detail=True, methods=["post"])
    def decline(self, request, pk=None):
        body = DeclineSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        return self._answer(
            change_requests.change_request_decline(
                change_request=self.get_object(),
                user=request.user,
                reason=body.validated_data.get("reason", ""),
            )
        )

    @extend_schema(request=None, description="Withdraw (the side that asked); nothing changes.")
    @action(detail=True, methods=["post"])
    def withdraw(self, request, pk=None):
        return self._answer(
            change_requests.change_request_withdraw(
                change_request=self.get_object(), user=request.user
            )
        )

    @extend_schema(
        request=CommentSerializer,
        responses={201: ChangeRequestSerializer},
        description="Comment on an open request (managers and admins of either side).",
    )
    @action(detail=True, methods=["post"])
    def comment(self, request, pk=None):
        body = CommentSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        change_request = self.get_object()
        change_requests.change_request_comment(
            change_request=change_request, user=request.user, body=body.validated_data["body"]
        )
        return self._answer(change_request, status.HTTP_201_CREATED)

    def _answer(self, change_request, status_code=status.HTTP_200_OK):
        fresh = self.get_queryset().get(pk=change_request.pk)
        return Response(self.get_serializer(fresh).data, status=status_code)


# ---------------------------------------------------------------- term writes elsewhere
TERMS_ACCEPTED = OpenApiResponse(
    ChangeRequestSerializer,
    description="The engagement is active: a change request was opened, and nothing changed "
    "until the other side accepts it.",
)


def terms_write_schema(description: str, serializer, *, create: bool = False) -> dict:
    """extend_schema arguments of a write that changes terms: 200/201 applied, 202 asked."""
    return {
        "description": description,
        "responses": {(201 if create else 200): serializer, 202: TERMS_ACCEPTED},
    }


def terms_answer(change: TermsChange, applied_body, *, created: bool = False) -> Response:
    """The answer to a write of terms: the record as applied, or the request it opened."""
    if change.change_request is not None:
        return Response(
            ChangeRequestSerializer(change.change_request).data, status=status.HTTP_202_ACCEPTED
        )
    return Response(
        applied_body(), status=status.HTTP_201_CREATED if created else status.HTTP_200_OK
    )


MIXED = (
    "Send changes to the terms ({terms}) and to other fields separately: on an active "
    "engagement the terms need the other side's agreement. Nothing was changed."
)


class TermWrites:
    """Create and change SLAs, goals or an engagement through
    relationships.change_requests.terms_change: applied while the engagement is proposed
    (by its proposer), a change request once it is active. Fields that are not terms
    (a description, a goal's achieved_on, the engagement's name) change directly, by
    the engagement's writers; one write mixing both is refused (400)."""

    term_subject = ""

    def term_target(self, instance) -> dict:
        return {self.term_subject: instance}

    def term_engagement(self, instance) -> Engagement:
        return instance.engagement

    def check_create(self, engagement):
        require_terms_access(engagement, self.request.user, self.term_subject)

    def check_write(self, obj):
        if self.action in ("update", "partial_update"):
            require_terms_access(self.term_engagement(obj), self.request.user, self.term_subject)
        else:
            super().check_write(obj)

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        values = dict(serializer.validated_data)
        change = terms_change(
            engagement=values.pop("engagement"),
            user=request.user,
            subject=self.term_subject,
            values=values,
        )
        return terms_answer(change, lambda: self._read(change.applied), created=True)

    def update(self, request, *args, **kwargs):
        instance = self.get_object()
        serializer = self.get_serializer(
            instance, data=request.data, partial=kwargs.get("partial", False)
        )
        serializer.is_valid(raise_exception=True)
        changed = {
            name: value
            for name, value in serializer.validated_data.items()
            if getattr(instance, name) != value
        }
        term_names = TERM_FIELDS[self.term_subject]
        terms = {name: value for name, value in changed.items() if name in term_names}
        others = sorted(changed.keys() - terms.keys())
        if terms and others:
            message = MIXED.format(terms=", ".join(sorted(terms)))
            raise ValidationError(dict.fromkeys(others, message))
        if terms:
            change = terms_change(
                engagement=self.term_engagement(instance),
                user=request.user,
                subject=self.term_subject,
                values=terms,
                **self.term_target(instance),
            )
            return terms_answer(change, lambda: self._read(change.applied))
        if others:
            instance.access_for(request.user).require("write")
            serializer.save()
        return Response(self._read(instance))

    def _read(self, record) -> dict:
        # Read back through the queryset, so annotated fields are present.
        return self.get_serializer(self.get_queryset().get(pk=record.pk)).data
