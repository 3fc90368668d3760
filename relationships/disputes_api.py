"""Measurement disputes API: the owning side disputes a value the other side recorded,
withdraws its dispute; the recorder's side accepts the proposed correction."""

from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response

from core.api.base import ApiFilterSet, IdFilter, ReadViewSet, StrictSerializer, TenantViewSet
from relationships import disputes, validation
from relationships.models import Measurement, MeasurementDispute


class MeasurementDisputeSerializer(serializers.ModelSerializer):
    engagement = serializers.IntegerField(source="sla.engagement_id", read_only=True)
    period_start = serializers.DateField(source="measurement.period_start", read_only=True)
    value = serializers.DecimalField(
        source="measurement.value",
        max_digits=18,
        decimal_places=6,
        read_only=True,
        help_text="The disputed value.",
    )
    recorded_by_side = serializers.CharField(
        source="measurement.recorded_by_side", read_only=True, help_text="Who recorded it."
    )
    side = serializers.CharField(read_only=True, help_text="The disputing side: the SLA's owner.")

    class Meta:
        model = MeasurementDispute
        fields = [
            "id",
            "engagement",
            "sla",
            "measurement",
            "period_start",
            "value",
            "recorded_by_side",
            "side",
            "disputed_by",
            "reason",
            "corrected_value",
            "status",
            "resolved_by",
            "resolved_at",
            "created_at",
        ]
        read_only_fields = fields


class MeasurementDisputeInputSerializer(StrictSerializer):
    measurement = serializers.PrimaryKeyRelatedField(
        queryset=Measurement.objects.none(),  # the requester's: see get_fields
        help_text="The current value to dispute, recorded by the side that does not own its SLA.",
    )
    reason = serializers.CharField(max_length=disputes.REASON_MAX)
    corrected_value = serializers.DecimalField(
        max_digits=18,
        decimal_places=validation.MAX_DECIMALS,
        required=False,
        allow_null=True,
        help_text="The value the owning side proposes instead; the recorder's side may accept it.",
    )

    def get_fields(self):
        fields = super().get_fields()
        request = self.context.get("request")
        if request is not None:
            # Only values the requester sees: any other id "does not exist", leaking nothing.
            fields["measurement"].queryset = Measurement.objects.restrict(
                request.user
            ).select_related("sla__engagement")
        return fields


class MeasurementDisputeFilter(ApiFilterSet):
    engagement = IdFilter(field_name="sla__engagement")
    dates = ("period_start",)
    date_lookups = {"period_start": "measurement__period_start"}

    class Meta(ApiFilterSet.Meta):
        model = MeasurementDispute
        fields = ["sla", "status", "measurement"]


@extend_schema_view(
    list=extend_schema(
        description="Disputes of values recorded for your engagements' SLAs, newest first; "
        "filter by engagement, SLA, measurement and status (open, corrected, withdrawn)."
    ),
)
class MeasurementDisputeViewSet(mixins.CreateModelMixin, ReadViewSet, TenantViewSet):
    """Disputed values (PRODUCT.md §7). A disputed value keeps counting: its period's
    explanation and review list it until a correction is accepted or it is withdrawn."""

    queryset = MeasurementDispute.objects.select_related("sla", "measurement")
    serializer_class = MeasurementDisputeSerializer
    filterset_class = MeasurementDisputeFilter
    ordering_fields = ["created_at", "id"]

    @extend_schema(
        request=MeasurementDisputeInputSerializer,
        responses={201: MeasurementDisputeSerializer},
        description="Dispute a value (managers and admins of the side that owns the SLA; only "
        "a current value recorded by the other side). One open dispute per value.",
    )
    def create(self, request):
        given = MeasurementDisputeInputSerializer(data=request.data, context={"request": request})
        given.is_valid(raise_exception=True)
        dispute = disputes.measurement_dispute(user=request.user, **given.validated_data)
        return Response(self.get_serializer(dispute).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        request=None,
        responses={200: MeasurementDisputeSerializer},
        description="Withdraw the dispute (the disputing side): the value stands as recorded.",
    )
    @action(detail=True, methods=["post"])
    def withdraw(self, request, pk=None):
        return self.answer_with(disputes.measurement_dispute_withdraw, record="dispute")

    @extend_schema(
        request=None,
        responses={200: MeasurementDisputeSerializer},
        description="Accept the proposed corrected value (the side that recorded the value): "
        "it is recorded as a correction, keeping the disputed value in the history, and the "
        "dispute ends `corrected`.",
    )
    @action(detail=True, methods=["post"], url_path="accept-correction")
    def accept_correction(self, request, pk=None):
        return self.answer_with(disputes.measurement_correction_accept, record="dispute")
