"""REST API of the relationships app: organisations, people, engagements and what they agreed."""

from datetime import datetime
from decimal import Decimal

from django.db.models import OuterRef, Q, Subquery
from django.utils import timezone
from django_filters import rest_framework as filters
from drf_spectacular.utils import (
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
    extend_schema_view,
)
from rest_framework import authentication, mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle

from core import links
from core.api.base import (
    ApiFilterSet,
    ApiViewSet,
    EditableViewSet,
    IdFilter,
    ReadViewSet,
    RecordViewSet,
    StrictModelSerializer,
    StrictSerializer,
    TenantViewSet,
    change_schema,
)
from core.api.plumbing import ApiTokenAuthentication, BasicAuthentication
from relationships import services
from relationships.change_requests_api import TermWrites, terms_write_schema
from relationships.models import (
    DECLINE_REASON_MAX,
    SLA,
    ApiToken,
    Engagement,
    GoalProgress,
    Invitation,
    KeyContact,
    Membership,
    Organization,
    Role,
    SharedGoal,
    Side,
)
from relationships.terms import TIER_CADENCE_TERMS


# ---------------------------------------------------------------- organisations
class OrganizationSerializer(StrictModelSerializer):
    your_role = serializers.CharField(
        read_only=True,
        allow_null=True,
        help_text="Your role in the organisation; null for counterparts you only see by name.",
    )

    class Meta:
        model = Organization
        fields = ["id", "name", "your_role"]
        extra_kwargs = {
            "name": {
                "help_text": "Unique: a name that is taken, or looks like one that is (other "
                "letter case or width, invisible or direction-control characters, extra "
                "spaces, a word mixing Latin, Greek or Cyrillic letters), is refused."
            }
        }


@extend_schema_view(
    list=extend_schema(
        description="Your organisations, and by name the counterparts of your engagements."
    ),
    create=extend_schema(description="Create an organisation; you become its first admin."),
)
class OrganizationViewSet(mixins.CreateModelMixin, ReadViewSet):
    serializer_class = OrganizationSerializer
    ordering_fields = ["name", "id"]
    filterset_fields = ["name"]

    def get_queryset(self):
        user = self.request.user
        visible = Engagement.objects.visible_to(user)
        role = Membership.objects.filter(user_id=user.pk, organization=OuterRef("pk")).values(
            "role"
        )
        return Organization.objects.filter(
            Q(pk__in=Organization.objects.of_member(user))
            | Q(pk__in=visible.values("client_id"))
            | Q(pk__in=visible.values("provider_id"))
        ).annotate(your_role=Subquery(role[:1]))

    def perform_create(self, serializer):
        serializer.instance = services.organization_create(
            name=serializer.validated_data["name"], creator=self.request.user
        )
        serializer.instance.your_role = Role.ADMIN


# ---------------------------------------------------------------- memberships
class MembershipSerializer(StrictModelSerializer):
    username = serializers.CharField(source="user.username", read_only=True)
    email = serializers.EmailField(source="user.email", read_only=True)
    last_login = serializers.SerializerMethodField(
        help_text="When the member last signed in; only for admins of the organisation "
        "(null for other members, and for someone who never signed in)."
    )

    class Meta:
        model = Membership
        fields = [
            "id",
            "organization",
            "user",
            "username",
            "email",
            "role",
            "created_at",
            "last_login",
        ]
        read_only_fields = ["organization", "user", "created_at"]

    def get_last_login(self, membership) -> datetime | None:
        last_login = membership.user.last_login
        if last_login is None or membership.organization_id not in self.context.get(
            "administered", ()
        ):
            return None
        # As every other moment of the API is written.
        return serializers.DateTimeField().to_representation(last_login)


class MembershipFilter(ApiFilterSet):
    class Meta(ApiFilterSet.Meta):
        model = Membership
        fields = ["organization", "role"]


@extend_schema_view(
    list=extend_schema(description="Members of your organisations."),
    **change_schema("Change a member's role (admins of the organisation)."),
    destroy=extend_schema(
        description="Remove a member (admins); the last admin stays. Their records stay, "
        "attributed to them; if they belong to no organisation any more, their API tokens "
        "are revoked."
    ),
)
class MembershipViewSet(mixins.UpdateModelMixin, mixins.DestroyModelMixin, ReadViewSet):
    serializer_class = MembershipSerializer
    filterset_class = MembershipFilter
    ordering_fields = ["created_at", "role", "id"]

    def get_queryset(self):
        return (
            Membership.objects.filter(
                organization_id__in=Organization.objects.of_member(self.request.user)
            )
            .select_related("user", "organization")
            .order_by("organization_id", "id")
        )

    def get_serializer_context(self):
        administered = Organization.objects.administered_by(self.request.user)
        return {
            **super().get_serializer_context(),
            "administered": set(administered.values_list("pk", flat=True)),
        }

    def check_object_permissions(self, request, obj):
        super().check_object_permissions(request, obj)
        if request.method not in ("GET", "HEAD", "OPTIONS"):
            obj.organization.require_admin(request.user)

    def perform_update(self, serializer):
        membership = serializer.instance
        role = serializer.validated_data.get("role", membership.role)
        services.membership_role_change(membership=membership, role=role, user=self.request.user)

    def perform_destroy(self, instance):
        services.membership_remove(membership=instance, user=self.request.user)


# ---------------------------------------------------------------- invitations
class InvitationSerializer(StrictModelSerializer):
    status = serializers.SerializerMethodField()

    class Meta:
        model = Invitation
        fields = ["id", "organization", "email", "role", "status", "created_at", "expires_at"]
        read_only_fields = ["created_at", "expires_at"]

    def get_status(self, invitation) -> str:
        if invitation.accepted_at:
            return "accepted"
        if invitation.revoked_at:
            return "revoked"
        return "pending" if invitation.is_usable() else "expired"

    def get_fields(self):
        fields = super().get_fields()
        request = self.context.get("request")
        if request is not None:
            fields["organization"].queryset = Organization.objects.filter(
                pk__in=Organization.objects.of_member(request.user)
            )
        return fields


class InvitationAcceptSerializer(StrictSerializer):
    token = serializers.CharField(max_length=200, help_text="The token from the invitation email.")


class InvitationFilter(ApiFilterSet):
    class Meta(ApiFilterSet.Meta):
        model = Invitation
        fields = ["organization", "role", "email"]


@extend_schema_view(
    list=extend_schema(description="Invitations of the organisations you are an admin of."),
    create=extend_schema(description="Invite a person by email (admins); the token is emailed."),
    destroy=extend_schema(
        description="Revoke an invitation not yet accepted (admins); an accepted or "
        "revoked one is refused (400)."
    ),
)
class InvitationViewSet(mixins.CreateModelMixin, mixins.DestroyModelMixin, ReadViewSet):
    serializer_class = InvitationSerializer
    filterset_class = InvitationFilter
    ordering_fields = ["created_at", "expires_at", "email"]

    def get_queryset(self):
        return Invitation.objects.filter(
            organization__in=Organization.objects.administered_by(self.request.user)
        )

    def perform_create(self, serializer):
        data = serializer.validated_data
        serializer.instance, _raw = services.invitation_create(
            organization=data["organization"],
            email=data["email"],
            role=data.get("role", Role.VIEWER),
            invited_by=self.request.user,
            site_url=links.site_url(self.request),
        )

    def perform_destroy(self, instance):
        services.invitation_revoke(invitation=instance, user=self.request.user)

    @extend_schema(
        request=None,
        responses={200: InvitationSerializer},
        description=(
            "Send a pending or expired invitation again (admins): a new link, valid for "
            "seven days from now; the previous link stops working. An accepted or revoked "
            "invitation is refused (400)."
        ),
    )
    @action(detail=True, methods=["post"])
    def resend(self, request, pk=None):
        invitation = services.invitation_resend(
            invitation=self.get_object(), user=request.user, site_url=links.site_url(request)
        )
        return Response(self.get_serializer(invitation).data)

    @extend_schema(
        request=InvitationAcceptSerializer,
        responses={200: MembershipSerializer},
        description=(
            "Join the invitation's organisation as the logged-in user, whose e-mail must be "
            "the address the invitation was sent to (compared ignoring case); 403 otherwise, "
            "changing nothing."
        ),
    )
    @action(detail=False, methods=["post"])
    def accept(self, request):
        serializer = InvitationAcceptSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        invitation = services.invitation_by_token(serializer.validated_data["token"])
        user = services.invitation_accept(
            raw_token=serializer.validated_data["token"], user=request.user
        )
        membership = Membership.objects.select_related("user").get(
            user=user, organization_id=invitation.organization_id
        )
        return Response(MembershipSerializer(membership).data)


# ---------------------------------------------------------------- engagements
class OrganizationNameSerializer(serializers.ModelSerializer):
    class Meta:
        model = Organization
        fields = ["id", "name"]


class EngagementSerializer(StrictModelSerializer):
    client = OrganizationNameSerializer(read_only=True)
    provider = OrganizationNameSerializer(read_only=True)
    your_side = serializers.SerializerMethodField(help_text="client or provider: your side.")

    class Meta:
        model = Engagement
        fields = [
            "id",
            "name",
            "client",
            "provider",
            "your_side",
            "phase",
            "status",
            "proposed_by_side",
            "proposed_at",
            "accepted_at",
            "declined_at",
            "decline_reason",
            "archived_at",
            "start_date",
            "end_date",
            "time_zone",
            "scorecard_period",
            "checkin_cadence_days",
            *TIER_CADENCE_TERMS,
        ]
        extra_kwargs = {
            name: {
                "help_text": "A term: the days between meetings of this tier of the "
                "governance map; null until agreed."
            }
            for name in TIER_CADENCE_TERMS
        }
        read_only_fields = [
            "status",
            "proposed_by_side",
            "proposed_at",
            "accepted_at",
            "declined_at",
            "decline_reason",
            "archived_at",
            "start_date",
            "time_zone",
        ]

    def get_your_side(self, engagement) -> Side | None:
        org_ids = self.context.get("member_organization_ids", set())
        if engagement.client_id in org_ids:
            return Side.CLIENT
        if engagement.provider_id in org_ids:
            return Side.PROVIDER
        return None


class EngagementProposalSerializer(StrictSerializer):
    """A proposal to a counterpart chosen by id, or to a new organisation invited by
    e-mail; your side and organisation come from you."""

    organization = serializers.PrimaryKeyRelatedField(
        queryset=Organization.objects.none(),
        help_text="Your organisation (you must be its manager or admin).",
    )
    side = serializers.ChoiceField(choices=Side.choices, help_text="Your organisation's side.")
    counterpart = serializers.PrimaryKeyRelatedField(
        queryset=Organization.objects.none(),
        required=False,
        allow_null=True,
        error_messages={
            "does_not_exist": services.UNKNOWN_COUNTERPART,
            "incorrect_type": "Give the organisation's id; invite a new one with "
            "counterpart_name and counterpart_admin_email.",
        },
        help_text=(
            "The id of an organisation yours already has an engagement with, in any status "
            "(`organizations/` lists them). Any other id, existing or not, is refused alike. "
            "Leave it out to invite a new organisation instead."
        ),
    )
    counterpart_name = serializers.CharField(
        max_length=200,
        required=False,
        allow_blank=True,
        help_text=(
            "Instead of `counterpart`: the name of an organisation not on Accord yet, created "
            "for this proposal. A name that is taken or looks like one that is (case, "
            "width, invisible characters, spacing, mixed alphabets) is refused."
        ),
    )
    counterpart_admin_email = serializers.EmailField(
        required=False,
        allow_blank=True,
        help_text="First contact: the e-mail of an admin of the counterpart. If that person "
        "administers an organisation on Accord, the proposal goes to it (no name needed); "
        "otherwise give `counterpart_name` too: the new organisation is created and the "
        "person invited as its first admin.",
    )
    name = serializers.CharField(max_length=200)
    phase = serializers.ChoiceField(choices=Engagement.Phase.choices, default="pilot")
    start_date = serializers.DateField()
    end_date = serializers.DateField(required=False, allow_null=True)
    time_zone = serializers.CharField(max_length=64, default="UTC")
    scorecard_period = serializers.ChoiceField(
        choices=Engagement.PeriodKind.choices, default="month"
    )
    checkin_cadence_days = serializers.IntegerField(min_value=1, max_value=365, default=7)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        if request is not None:
            own = Organization.objects.of_member(request.user)
            self.fields["organization"].queryset = Organization.objects.filter(pk__in=own)
            self.fields["counterpart"].queryset = Organization.objects.counterparts_of(own)

    def validate(self, attrs):
        if attrs.get("end_date") and attrs["end_date"] < attrs["start_date"]:
            raise serializers.ValidationError(
                {"end_date": ["The end date cannot be before the start date."]}
            )
        return attrs


class EngagementDeclineSerializer(StrictSerializer):
    # Blank is the service's to refuse, after it has checked who may decline.
    reason = serializers.CharField(
        max_length=DECLINE_REASON_MAX,
        required=False,
        allow_blank=True,
        help_text="Why you decline (required); both sides read it with the decision.",
    )


class EngagementFilter(ApiFilterSet):
    dates = ("start_date",)

    class Meta(ApiFilterSet.Meta):
        model = Engagement
        fields = ["status", "phase", "client", "provider", "scorecard_period"]


ENGAGEMENT_CHANGE = (
    "Change name, phase or end date (managers and admins of an active engagement), or the "
    "terms `checkin_cadence_days`, `scorecard_period` and the governance tiers' meeting "
    "cadences (`executive_cadence_days`, `management_cadence_days`, "
    "`operational_cadence_days`): set by the proposing side while "
    "the engagement is proposed; once active, a change request (202) that applies when a "
    "manager of the other side accepts it. A write changing both is refused (400), nothing "
    "changed."
)


@extend_schema_view(
    list=extend_schema(description="Engagements where one of your organisations is a party."),
    retrieve=extend_schema(description="One of your engagements."),
    update=extend_schema(**terms_write_schema(ENGAGEMENT_CHANGE, EngagementSerializer)),
    partial_update=extend_schema(**terms_write_schema(ENGAGEMENT_CHANGE, EngagementSerializer)),
    destroy=extend_schema(
        description="Archive the engagement (admins). Engagements are never deleted.",
        responses={204: OpenApiResponse(description="Archived.")},
    ),
)
class EngagementViewSet(
    TermWrites, mixins.UpdateModelMixin, mixins.DestroyModelMixin, ReadViewSet, TenantViewSet
):
    queryset = Engagement.objects.select_related("client", "provider")
    serializer_class = EngagementSerializer
    filterset_class = EngagementFilter
    ordering_fields = ["name", "start_date", "proposed_at", "id"]
    # Accepting and archiving are checked by their services (the counterpart's
    # admin accepts a proposed engagement, which require_writer would refuse).
    actions_checked_by_services = {"accept", "decline", "archive", "destroy"}
    term_subject = "engagement"

    def term_target(self, instance) -> dict:
        return {}

    def term_engagement(self, instance) -> Engagement:
        return instance

    def get_serializer_context(self):
        context = super().get_serializer_context()
        if self.request.user.is_authenticated:
            context["member_organization_ids"] = set(
                Organization.objects.of_member(self.request.user).values_list("pk", flat=True)
            )
        return context

    def check_write(self, obj):
        if self.action not in self.actions_checked_by_services:
            super().check_write(obj)

    @extend_schema(
        request=EngagementProposalSerializer,
        description=(
            "Propose an engagement from your organisation to a counterpart: one your "
            "organisation already has an engagement with, by id (`counterpart`); the one an "
            "admin you know administers (`counterpart_admin_email`); or a new organisation "
            "(`counterpart_name`), whose first admin is invited at `counterpart_admin_email`. "
            "Organisations are never found by name. The "
            "engagement stays `proposed`, and nobody can add records to it, until an admin "
            "of the counterpart accepts it."
        ),
    )
    def create(self, request):
        proposal = EngagementProposalSerializer(data=request.data, context={"request": request})
        proposal.is_valid(raise_exception=True)
        data = dict(proposal.validated_data)
        engagement = services.engagement_propose(
            proposer=request.user,
            site_url=links.site_url(request),
            own_organization=data.pop("organization"),
            own_side=data.pop("side"),
            counterpart=data.pop("counterpart", None),
            counterpart_name=data.pop("counterpart_name", ""),
            counterpart_admin_email=data.pop("counterpart_admin_email", ""),
            **data,
        )
        return self._answer(engagement, status.HTTP_201_CREATED)

    @extend_schema(
        request=None,
        description="Accept a proposed engagement (counterpart admins); it becomes active.",
    )
    @action(detail=True, methods=["post"])
    def accept(self, request, pk=None):
        engagement = services.engagement_accept(engagement=self.get_object(), user=request.user)
        return self._answer(engagement)

    @extend_schema(
        request=EngagementDeclineSerializer,
        description=(
            "Decline a proposed engagement (counterpart admins), saying why: it becomes "
            "`declined`, read-only, and both sides see who declined it, when and why."
        ),
    )
    @action(detail=True, methods=["post"])
    def decline(self, request, pk=None):
        body = EngagementDeclineSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        engagement = services.engagement_decline(
            engagement=self.get_object(),
            user=request.user,
            reason=body.validated_data.get("reason", ""),
        )
        return self._answer(engagement)

    @extend_schema(
        request=None,
        description="Archive the engagement (admins of either party); every record is kept.",
    )
    @action(detail=True, methods=["post"])
    def archive(self, request, pk=None):
        engagement = services.engagement_archive(engagement=self.get_object(), user=request.user)
        return self._answer(engagement)

    def _answer(self, engagement, status_code=status.HTTP_200_OK):
        # Read back through the queryset, so annotated fields are present.
        fresh = self.get_queryset().get(pk=engagement.pk)
        return Response(self.get_serializer(fresh).data, status=status_code)

    def perform_destroy(self, instance):
        services.engagement_archive(engagement=instance, user=self.request.user)


# ---------------------------------------------------------------- key contacts
@extend_schema_field(
    {
        "type": "string",
        "pattern": r"^([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9])?$",
        "example": "09:00",
    }
)
class LocalTimeField(serializers.TimeField):
    """A time of day on a clock with no zone ("09:00"): JSON Schema's `time` format would
    demand an offset, which a working day in the contact's own zone does not have."""

    def __init__(self, **kwargs):
        super().__init__(format="%H:%M", input_formats=["%H:%M", "%H:%M:%S"], **kwargs)


class KeyContactSerializer(StrictModelSerializer):
    work_starts = LocalTimeField(
        required=False, help_text="Local time the working day starts (default 09:00)."
    )
    work_ends = LocalTimeField(
        required=False,
        help_text="Local time the working day ends, after it starts (default 17:00).",
    )

    class Meta:
        model = KeyContact
        fields = [
            "id",
            "engagement",
            "side",
            "role",
            "tier",
            "name",
            "email",
            "user",
            "start_date",
            "end_date",
            "time_zone",
            "work_starts",
            "work_ends",
        ]
        extra_kwargs = {
            "tier": {
                "help_text": "The governance tier (executive, management, operational); "
                "leave it out for the role's usual tier."
            },
            "time_zone": {
                "help_text": "IANA time zone the contact works in, such as Asia/Kolkata; "
                "the engagement's when left empty."
            },
        }


class KeyContactUpdateSerializer(KeyContactSerializer):
    class Meta(KeyContactSerializer.Meta):
        read_only_fields = ["engagement", "side", "role", "user", "start_date"]


class KeyContactFilter(ApiFilterSet):
    current_on = filters.DateFilter(method="filter_current_on", label="Contacts current on a date")

    class Meta(ApiFilterSet.Meta):
        model = KeyContact
        fields = ["engagement", "side", "role"]

    def filter_current_on(self, queryset, name, value):
        return queryset.filter(
            Q(end_date__isnull=True) | Q(end_date__gte=value), start_date__lte=value
        )


@extend_schema_view(
    list=extend_schema(description="Key contacts of your engagements, past and current."),
    create=extend_schema(
        description=(
            "Name the new contact for a side and role; the current one ends the day "
            "before the new one starts, so changes are kept."
        )
    ),
    **change_schema(
        "Correct a contact's name or email, set their time zone and working hours, or end it."
    ),
)
class KeyContactViewSet(EditableViewSet):
    queryset = KeyContact.objects.all()
    serializer_class = KeyContactSerializer
    update_serializer_class = KeyContactUpdateSerializer
    filterset_class = KeyContactFilter
    ordering_fields = ["start_date", "side", "role", "name"]

    def perform_create(self, serializer):
        data = serializer.validated_data
        serializer.instance = services.key_contact_change(
            engagement=data["engagement"],
            side=data["side"],
            role=data["role"],
            user=self.request.user,
            name=data["name"],
            email=data.get("email", ""),
            start_date=data.get("start_date") or timezone.localdate(),
            contact_user=data.get("user"),
            tier=data.get("tier", ""),
            **{key: data[key] for key in ("time_zone", "work_starts", "work_ends") if key in data},
        )

    def perform_update(self, serializer):
        serializer.instance = services.key_contact_correct(
            contact=serializer.instance, user=self.request.user, **serializer.validated_data
        )


# ---------------------------------------------------------------- SLAs
class SLASerializer(StrictModelSerializer):
    class Meta:
        model = SLA
        fields = [
            "id",
            "engagement",
            "owner_side",
            "name",
            "description",
            "unit",
            "direction",
            "target",
            "weight",
            "active",
            "created_at",
        ]
        read_only_fields = ["created_at"]
        extra_kwargs = {"weight": {"min_value": Decimal("0.001")}}


class SLAUpdateSerializer(SLASerializer):
    class Meta(SLASerializer.Meta):
        read_only_fields = ["engagement", "created_at"]


class SLAFilter(ApiFilterSet):
    side = filters.ChoiceFilter(field_name="owner_side", choices=Side.choices)

    class Meta(ApiFilterSet.Meta):
        model = SLA
        fields = ["engagement", "owner_side", "active", "direction"]


SLA_CHANGE = (
    "Change an SLA; deactivate it with `active: false` (SLAs are not deleted). Its terms "
    "(name, owner_side, unit, direction, target, weight, active) change as the new SLA's "
    "do; the description changes directly (managers and admins of an active engagement). "
    "A write changing both is refused (400), nothing changed."
)


@extend_schema_view(
    list=extend_schema(description="SLAs of your engagements, owned by either side."),
    create=extend_schema(
        **terms_write_schema(
            "Agree a new SLA (managers and admins). While the engagement is proposed, its "
            "proposing side adds it (201); once active, this opens a change request (202) "
            "and the SLA exists once a manager of the other side accepts it.",
            SLASerializer,
            create=True,
        )
    ),
    update=extend_schema(**terms_write_schema(SLA_CHANGE, SLASerializer)),
    partial_update=extend_schema(**terms_write_schema(SLA_CHANGE, SLASerializer)),
)
class SLAViewSet(TermWrites, EditableViewSet):
    term_subject = "sla"
    queryset = SLA.objects.all()
    serializer_class = SLASerializer
    update_serializer_class = SLAUpdateSerializer
    filterset_class = SLAFilter
    ordering_fields = ["name", "owner_side", "created_at", "weight"]


# ---------------------------------------------------------------- shared goals
class SharedGoalSerializer(StrictModelSerializer):
    latest_percent = serializers.IntegerField(
        read_only=True, allow_null=True, help_text="The latest reported progress."
    )

    class Meta:
        model = SharedGoal
        fields = [
            "id",
            "engagement",
            "title",
            "description",
            "target",
            "start_date",
            "due_date",
            "achieved_on",
            "cancelled",
            "client_contact",
            "provider_contact",
            "latest_percent",
            "created_at",
        ]
        read_only_fields = ["created_at"]


class SharedGoalUpdateSerializer(SharedGoalSerializer):
    class Meta(SharedGoalSerializer.Meta):
        read_only_fields = ["engagement", "created_at"]


class SharedGoalFilter(ApiFilterSet):
    dates = ("due_date",)

    class Meta(ApiFilterSet.Meta):
        model = SharedGoal
        fields = ["engagement", "cancelled"]


GOAL_CHANGE = (
    "Change a goal, mark it achieved or cancel it (`cancelled: true`). Its terms (title, "
    "target, start_date, due_date, client_contact, provider_contact, cancelled) change as a "
    "new goal's do; description and achieved_on change directly (managers and admins of an "
    "active engagement). A write changing both is refused (400), nothing changed."
)


@extend_schema_view(
    list=extend_schema(description="Shared goals of your engagements with their latest progress."),
    create=extend_schema(
        **terms_write_schema(
            "Agree a shared goal (managers and admins). While the engagement is proposed, "
            "its proposing side adds it (201); once active, this opens a change request "
            "(202) and the goal exists once a manager of the other side accepts it.",
            SharedGoalSerializer,
            create=True,
        )
    ),
    update=extend_schema(**terms_write_schema(GOAL_CHANGE, SharedGoalSerializer)),
    partial_update=extend_schema(**terms_write_schema(GOAL_CHANGE, SharedGoalSerializer)),
)
class SharedGoalViewSet(TermWrites, EditableViewSet):
    term_subject = "goal"
    queryset = SharedGoal.objects.annotate(
        latest_percent=Subquery(
            GoalProgress.objects.filter(goal=OuterRef("pk"))
            .order_by("-date", "-created_at")
            .values("percent")[:1]
        )
    )
    serializer_class = SharedGoalSerializer
    update_serializer_class = SharedGoalUpdateSerializer
    filterset_class = SharedGoalFilter
    ordering_fields = ["due_date", "start_date", "title", "created_at"]


class GoalProgressSerializer(StrictModelSerializer):
    class Meta:
        model = GoalProgress
        fields = ["id", "goal", "date", "percent", "note", "reporter", "created_at"]
        read_only_fields = ["reporter", "created_at"]


class GoalProgressFilter(ApiFilterSet):
    engagement = IdFilter(field_name="goal__engagement")
    dates = ("date",)

    class Meta(ApiFilterSet.Meta):
        model = GoalProgress
        fields = ["goal"]


@extend_schema_view(
    list=extend_schema(description="Progress reports of your engagements' shared goals."),
    create=extend_schema(description="Report a goal's progress in percent on a date."),
)
class GoalProgressViewSet(RecordViewSet):
    queryset = GoalProgress.objects.all()
    serializer_class = GoalProgressSerializer
    filterset_class = GoalProgressFilter
    ordering_fields = ["date", "created_at", "percent"]
    create_service = staticmethod(services.goal_progress_report)


# ---------------------------------------------------------------- API tokens
class ApiTokenSerializer(StrictModelSerializer):
    id = serializers.CharField(source="token_key", read_only=True, help_text="The token's prefix.")

    class Meta:
        model = ApiToken
        fields = ["id", "name", "created", "last_used_at"]
        read_only_fields = ["created", "last_used_at"]


class NewApiTokenSerializer(ApiTokenSerializer):
    token = serializers.CharField(
        read_only=True, help_text="The token itself: shown only in this answer, store it now."
    )

    class Meta(ApiTokenSerializer.Meta):
        fields = [*ApiTokenSerializer.Meta.fields, "token"]


@extend_schema_view(
    list=extend_schema(description="Your API tokens (never the tokens themselves)."),
    destroy=extend_schema(description="Revoke one of your tokens; it stops working at once."),
)
class ApiTokenViewSet(
    mixins.ListModelMixin,
    mixins.CreateModelMixin,
    mixins.DestroyModelMixin,
    ApiViewSet,
):
    serializer_class = ApiTokenSerializer
    permission_classes = [IsAuthenticated]
    lookup_field = "token_key"
    ordering_fields = ["created", "last_used_at", "name"]
    filterset_fields = ["name"]
    throttle_scope = "token_create"
    # Basic auth here only, so a script can get its first token with a password.
    authentication_classes = [
        ApiTokenAuthentication,
        BasicAuthentication,
        authentication.SessionAuthentication,
    ]

    def get_queryset(self):
        return ApiToken.objects.filter(user_id=self.request.user.pk)

    def get_throttles(self):
        throttles = super().get_throttles()
        if self.action == "create":
            throttles.append(ScopedRateThrottle())
        return throttles

    @extend_schema(
        request=ApiTokenSerializer,
        responses={201: NewApiTokenSerializer},
        description=(
            "Create a named token for integrations. The answer shows the token once; "
            "Accord keeps only its hash. Send it as `Authorization: Token <token>`."
        ),
    )
    def create(self, request):
        if isinstance(request.auth, ApiToken):
            # A leaked token must not be able to mint more tokens.
            raise PermissionDenied("Create tokens from a logged-in session, not with a token.")
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        instance, token = ApiToken.objects.create(
            user=request.user, expiry=None, name=serializer.validated_data["name"]
        )
        instance.token = token
        return Response(NewApiTokenSerializer(instance).data, status=status.HTTP_201_CREATED)
