"""The organisation's roll-up in the API: the organisation page's figures (overview.selectors)."""

from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.response import Response

from overview.selectors import member_organization, organisation_rollup
from relationships.models import Side
from scorecards.models import Band


class BandCountsSerializer(serializers.Serializer):
    """Engagements per band of their latest closed scorecard; `none`: no scorecard yet."""

    healthy = serializers.IntegerField()
    watch = serializers.IntegerField()
    at_risk = serializers.IntegerField()
    insufficient_data = serializers.IntegerField()
    none = serializers.IntegerField()


@extend_schema_field(BandCountsSerializer)
class BandCountsField(serializers.Field):
    def to_representation(self, value):
        return {band or "none": count for band, _, count in value}


class PartySerializer(serializers.Serializer):
    id = serializers.IntegerField(source="pk")
    name = serializers.CharField()


class RollupEngagementSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="pk")
    name = serializers.CharField()
    status = serializers.CharField()
    phase = serializers.CharField()
    period_start = serializers.DateField(
        source="latest_period_start", allow_null=True, help_text="Its latest closed period."
    )
    band = serializers.ChoiceField(source="latest_band", choices=Band.choices, allow_null=True)
    overall = serializers.DecimalField(
        source="latest_overall", max_digits=4, decimal_places=1, allow_null=True
    )
    trend = serializers.DecimalField(
        source="latest_trend", max_digits=5, decimal_places=1, allow_null=True
    )


class CounterpartGroupSerializer(serializers.Serializer):
    counterpart = PartySerializer()
    bands = BandCountsField()
    overall = serializers.FloatField(
        allow_null=True, help_text="Mean of the engagements' latest closed overall scores."
    )
    engagements = RollupEngagementSerializer(many=True)


class StatementFigureSerializer(serializers.Serializer):
    field = serializers.CharField()
    question = serializers.CharField()
    mean = serializers.FloatField(
        allow_null=True,
        help_text="Mean (1–5) of the counterparts' published ratings, one per engagement; "
        "null when none is published.",
    )
    engagements = serializers.IntegerField(help_text="The engagements behind the mean.")


class CounterpartViewSerializer(serializers.Serializer):
    side = serializers.ChoiceField(choices=Side.choices, help_text="The counterparts' side.")
    title = serializers.CharField()
    engagements = serializers.IntegerField(
        help_text="The organisation's engagements where the counterparts are on this side."
    )
    published = serializers.IntegerField(
        help_text="Those whose latest closed period has the counterparts' view published."
    )
    statements = StatementFigureSerializer(many=True)


class OrganisationRollupSerializer(serializers.Serializer):
    organization = PartySerializer()
    bands = BandCountsField()
    overall = serializers.FloatField(allow_null=True)
    trend = serializers.FloatField(allow_null=True)
    counterparts = CounterpartGroupSerializer(source="groups", many=True)
    views = CounterpartViewSerializer(many=True)


class OrganizationRollup:
    """The organisation viewset's roll-up (members of the organisation only)."""

    @extend_schema(
        responses={200: OrganisationRollupSerializer},
        description=(
            "The organisation page's figures, for its members (anyone else: 404): its "
            "engagements grouped by counterpart with their latest closed scorecard's band, "
            "overall and trend, bands counted; and how the counterparts see the organisation "
            "(`views`, one per side they take: how our clients / providers see us), the mean "
            "of their published survey ratings per statement over the engagements' latest "
            "closed periods, with the number of engagements behind each figure. Only "
            "published figures count: closed periods, sides at or above the threshold."
        ),
    )
    @action(detail=True, methods=["get"])
    def rollup(self, request, pk=None):
        organization = member_organization(request.user, pk)
        rollup = organisation_rollup(request.user, organization)
        return Response(OrganisationRollupSerializer(rollup).data)
